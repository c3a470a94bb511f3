//! The Trace tab: the path to a host drawn as a chain of boxes (you → each hop → the target, silent hops as
//! "* (no answer)"), and under it one lane per port showing how far its probes got, a barrier where they died
//! ("blocked after hop N"), and the port's verdict in the Sweep tab's colours. The trace runs on the worker
//! (names are looked up there); while it waits for answers the tab shows a spinner and the time left, and Stop ends
//! the wait at once (a stopped trace shows nothing, as it did not finish). Its text, as `tcpcraft trace` prints
//! it, can be copied.

mod draw;
pub mod path;

use std::time::{Duration, Instant};

use egui::{Color32, RichText, Ui};

use crate::exchange::sweep;
use crate::exchange::trace::MAX_TTL;
use crate::i18n::{t, tf};
use crate::preset::{builtin, Preset};
use crate::ui::worker::{TraceReport, MAX_WAIT_MS};

/// The bundled preset whose lab host has a router and a firewall on the way, when it is shipped.
pub const FIREWALL_PRESET: &str = "firewall-path";

/// The tab's inputs and result.
#[derive(Clone, Debug)]
pub struct TraceTab {
    /// The probe preset (empty until the tab is first shown: then the preset chosen in the Craft tab, if it is a
    /// one-probe preset, else `half-open`).
    pub preset: String,
    /// The host, with the port to trace (`host[:port]`).
    pub target: String,
    /// Firewalk ports as typed; empty: the target's port.
    pub ports: String,
    /// TTLs 1..=max_ttl are probed.
    pub max_ttl: u8,
    /// How long to wait for answers, in milliseconds.
    pub wait_ms: u64,
    /// The last finished trace.
    pub report: Option<TraceReport>,
    /// Why the last Start was refused.
    pub error: Option<String>,
    /// When the trace going was started (for the time left).
    pub started: Option<Instant>,
    /// The wait of the trace going.
    pub wait_of_run: Duration,
    /// The text was just copied.
    copied: bool,
}

impl Default for TraceTab {
    fn default() -> Self {
        TraceTab {
            preset: String::new(),
            target: "192.0.2.10:80".into(),
            ports: String::new(),
            max_ttl: 30,
            wait_ms: 2000,
            report: None,
            error: None,
            started: None,
            wait_of_run: Duration::from_millis(2000),
            copied: false,
        }
    }
}

/// What the tab asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceAction {
    /// Start with these inputs.
    Start,
    /// Stop the running trace.
    Stop,
}

/// The probe preset the tab starts with: the chosen preset when it is a one-probe preset (bundled: by name; from a
/// file: by its path), else `half-open`.
pub fn default_preset(chosen: Option<&Preset>, path: Option<&str>) -> String {
    match chosen {
        Some(p) if sweep::probe_of(p).is_ok() => match path {
            Some(path) => path.to_string(),
            None if builtin::builtin(&p.name).is_some_and(|b| b.is_ok()) => p.name.clone(),
            None => "half-open".into(),
        },
        _ => "half-open".into(),
    }
}

/// Draws the tab. `elsewhere`: the tab whose job runs, when it is not this one (Start waits for it and says so);
/// `own`: the job running is this tab's trace (its Stop ends it).
pub fn show(ui: &mut Ui, tab: &mut TraceTab, elsewhere: Option<&str>, own: bool) -> Option<TraceAction> {
    let busy = own || elsewhere.is_some();
    let mut action = None;
    egui::ScrollArea::vertical().id_salt("trace-scroll").auto_shrink([false, false]).show(ui, |ui| {
        ui.heading(t("ui.trace.heading"));
        form(ui, tab);
        ui.horizontal_wrapped(|ui| {
            let start = ui.add_enabled(!busy, egui::Button::new(t("ui.trace.start")));
            if crate::ui::app::waits_for(start, elsewhere).clicked() {
                action = Some(TraceAction::Start);
                tab.copied = false;
            }
            if ui.add_enabled(own, egui::Button::new(t("ui.top.stop"))).clicked() {
                action = Some(TraceAction::Stop);
            }
            let copy = ui
                .add_enabled(tab.report.is_some(), egui::Button::new(t("ui.trace.copy")))
                .on_hover_text(t("ui.trace.copy_tip"));
            if copy.clicked() {
                if let Some(r) = &tab.report {
                    ui.ctx().copy_text(r.text.clone());
                    tab.copied = true;
                }
            }
            if tab.copied {
                ui.label(RichText::new(t("ui.trace.copied")).weak());
            }
        });
        if let Some(e) = &tab.error {
            let red = Color32::from_rgb(0xef, 0x47, 0x6f);
            ui.add(egui::Label::new(RichText::new(format!("⚠ {e}")).color(red)).wrap());
        }
        if own {
            waiting(ui, tab);
        }
        ui.separator();
        match &tab.report {
            Some(r) if !own => {
                draw::picture(ui, r);
                ui.add_space(6.0);
                draw::details(ui, r);
                ui.add_space(6.0);
                egui::CollapsingHeader::new(t("ui.trace.as_text")).id_salt("trace-text").show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(&r.text).monospace()).wrap());
                });
            }
            _ if !own => {
                ui.label(RichText::new(t("ui.trace.nothing_yet")).weak());
            }
            _ => {}
        }
    });
    action
}

/// The inputs.
fn form(ui: &mut Ui, tab: &mut TraceTab) {
    egui::Grid::new("trace-form").num_columns(2).show(ui, |ui| {
        let label = ui.label(t("ui.sweep.probe_preset"));
        ui.horizontal_wrapped(|ui| {
            // A fixed id (the label is translated), named by the row's label rather than a second one of its own.
            egui::ComboBox::from_id_salt("trace-probe")
                .selected_text(&tab.preset)
                .show_ui(ui, |ui| {
                    for n in builtin::names() {
                        ui.selectable_value(&mut tab.preset, n.to_string(), n);
                    }
                })
                .response
                .labelled_by(label.id);
            // The firewall example, one click away when it is shipped: its router drops one port and resets another.
            if tab.preset != FIREWALL_PRESET && builtin::names().any(|n| n == FIREWALL_PRESET) {
                let b = ui.button(tf("ui.trace.try_preset", &[("name", FIREWALL_PRESET)]));
                if b.on_hover_text(t("ui.trace.try_preset_tip")).clicked() {
                    tab.preset = FIREWALL_PRESET.into();
                    tab.ports = "8080-8082".into();
                }
            }
        });
        ui.end_row();
        ui.label(t("ui.trace.target"));
        ui.add(egui::TextEdit::singleline(&mut tab.target).hint_text("192.0.2.10:80"))
            .on_hover_text(t("ui.trace.target_tip"));
        ui.end_row();
        ui.label(t("ui.trace.ports"));
        ui.add(egui::TextEdit::singleline(&mut tab.ports).hint_text(t("ui.trace.ports_hint")))
            .on_hover_text(t("ui.trace.ports_tip"));
        ui.end_row();
        ui.label(t("ui.trace.max_ttl"));
        ui.add(egui::DragValue::new(&mut tab.max_ttl).range(1..=MAX_TTL)).on_hover_text(t("ui.trace.max_ttl_tip"));
        ui.end_row();
        ui.label(t("ui.trace.wait"));
        ui.add(egui::DragValue::new(&mut tab.wait_ms).range(1..=MAX_WAIT_MS).speed(10.0))
            .on_hover_text(t("ui.trace.wait_tip"));
        ui.end_row();
    });
}

/// The spinner and the time left while the trace waits for answers.
fn waiting(ui: &mut Ui, tab: &TraceTab) {
    let elapsed = tab.started.map_or(Duration::ZERO, |s| s.elapsed());
    let wait = tab.wait_of_run.max(Duration::from_millis(1));
    let frac = (elapsed.as_secs_f32() / wait.as_secs_f32()).min(1.0);
    ui.horizontal(|ui| {
        ui.add(egui::Spinner::new());
        let (s, w) = (format!("{:.1}", elapsed.as_secs_f32()), format!("{:.1}", wait.as_secs_f32()));
        ui.label(tf("ui.trace.waiting", &[("s", &s), ("wait", &w)]));
    });
    ui.add(egui::ProgressBar::new(frac).desired_width(ui.available_width().min(420.0)));
    ui.label(RichText::new(t("ui.trace.stop_tip")).weak().small());
    ui.ctx().request_repaint_after(Duration::from_millis(100));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chosen preset is the probe when it is one; a preset that starts with no Send is not.
    #[test]
    fn the_default_probe_is_the_chosen_one_probe_preset_else_half_open() {
        let load = |n: &str| builtin::builtin(n).and_then(Result::ok);
        assert_eq!(default_preset(None, None), "half-open");
        let fin = load("fin-scan");
        assert_eq!(default_preset(fin.as_ref(), None), "fin-scan");
        assert_eq!(default_preset(fin.as_ref(), Some("/tmp/mine.ron")), "/tmp/mine.ron");
        let mut no_send = load("half-open").unwrap();
        no_send.steps.clear();
        assert_eq!(default_preset(Some(&no_send), None), "half-open");
        let mut renamed = load("xmas-scan").unwrap();
        renamed.name = "not-bundled".into();
        assert_eq!(default_preset(Some(&renamed), None), "half-open", "an unsaved preset has no name to load");
    }
}
