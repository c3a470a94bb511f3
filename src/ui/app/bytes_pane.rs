//! The bytes pane under the editor: the bytes that matter now, with their fields highlighted. In order: the
//! segment step-through is paused before (about to go out), the selected event's, a preview of the selected Send
//! step's, and otherwise the editor's segment.

use std::net::IpAddr;

use egui::{RichText, Ui};

use super::TcpcraftApp;
use crate::exchange::{self, RunOptions};
use crate::i18n::{t, tf};
use crate::preset::{Preset, Step};
use crate::ui::{bytes, theme};
use crate::wire::{self, IpSpec, SegmentSpec};

/// What the pane shows, and under which heading.
enum Shown {
    /// Bytes, a heading, and whether the editor's hovered field lights them too.
    Bytes { heading: String, bytes: Vec<u8>, editor_hover: bool },
    /// Nothing can be built; why.
    Error { heading: String, error: String },
}

impl TcpcraftApp {
    /// Draws the bytes pane (the rest of the editor column).
    pub(super) fn bytes_pane(&mut self, ui: &mut Ui) {
        let (heading, bytes, editor_hover) = match self.shown() {
            Shown::Bytes { heading, bytes, editor_hover } => (heading, bytes, editor_hover),
            Shown::Error { heading, error } => {
                ui.label(RichText::new(heading).strong());
                ui.label(RichText::new(format!("⚠ {error}")).color(theme::colors(ui.ctx()).error));
                return;
            }
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(heading).strong());
            ui.label(tf("ui.bytes.count", &[("n", &bytes.len().to_string())]));
            if ui.small_button(t("ui.bytes.copy")).on_hover_text(t("ui.bytes.copy_tip")).clicked() {
                ui.ctx().copy_text(hex::encode(&bytes));
            }
        });
        egui::ScrollArea::both().id_salt("bytes-scroll").auto_shrink([false, false]).show(ui, |ui| {
            let fields = wire::parse_any_protocol(&bytes).map(|s| wire::fields::fields(&s)).unwrap_or_default();
            let hl = if editor_hover { self.rt.editor.hovered.or(self.rt.bytes_hover) } else { self.rt.bytes_hover };
            self.rt.bytes_hover = bytes::show(ui, &bytes, &fields, hl);
        });
    }

    /// The bytes the pane shows now.
    fn shown(&self) -> Shown {
        if let Some((i, spec)) = &self.rt.paused {
            let heading = tf("ui.bytes.heading_pending", &[("n", &(i + 1).to_string())]);
            return built(heading, spec, false);
        }
        if let Some((i, e)) = self.rt.selected.and_then(|i| self.rt.events.get(i).map(|e| (i, e))) {
            let heading = tf("ui.bytes.heading_event", &[("n", &i.to_string())]);
            return Shown::Bytes { heading, bytes: e.bytes.clone(), editor_hover: false };
        }
        if let (Some(p), Some(i)) = (&self.state.preset, self.rt.selected_step) {
            if let Some(shown) = self.step_preview(p, i) {
                return shown;
            }
        }
        built(t("ui.bytes.heading").to_owned(), &self.state.spec, true)
    }

    /// The IP payload bytes of Send step `i` as previewed (what fragmenting cuts into pieces).
    pub(super) fn step_payload_len(&self, p: &Preset, i: usize) -> Option<usize> {
        match self.step_preview(p, i)? {
            Shown::Bytes { bytes, .. } => crate::wire::fragment::payload_len(&bytes).ok(),
            Shown::Error { .. } => None,
        }
    }

    /// A preview of Send step `i`, with replies' numbers as 0 (`None` when step `i` is not a Send).
    fn step_preview(&self, p: &Preset, i: usize) -> Option<Shown> {
        let Some(Step::Send(tpl)) = p.steps.get(i) else { return None };
        // The step's own addresses when it sets them, else the editor's.
        let (src, dst) = ends(&tpl.spec.as_deref().unwrap_or(&self.state.spec).ip);
        let opts = RunOptions {
            target: dst,
            dport: self.state.spec.tcp.dport,
            src,
            sport: Some(self.state.spec.tcp.sport),
            isn: Some(0),
            seed: Some(0),
            linger_ms: 0,
        };
        let heading = tf("ui.bytes.heading_step", &[("n", &(i + 1).to_string())]);
        Some(match exchange::preview(p, i, &opts)? {
            Ok(spec) => built(heading, &spec, false),
            Err(e) => Shown::Error { heading, error: e.to_string() },
        })
    }
}

/// The bytes of `spec`, or why it cannot be built.
fn built(heading: String, spec: &SegmentSpec, editor_hover: bool) -> Shown {
    match wire::build(spec) {
        Ok(bytes) => Shown::Bytes { heading, bytes, editor_hover },
        Err(e) => Shown::Error { heading, error: e.to_string() },
    }
}

/// Source and destination of an IP header.
fn ends(ip: &IpSpec) -> (IpAddr, IpAddr) {
    match ip {
        IpSpec::V4(h) => (h.src.into(), h.dst.into()),
        IpSpec::V6(h) => (h.src.into(), h.dst.into()),
    }
}
