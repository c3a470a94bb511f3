//! Step-through: before each Send, the segment about to go out, with the fields computed from the peer's replies
//! highlighted, their inputs, and why the rule is what it is, and its bytes; seq/ack follow the ladder's
//! relative/absolute mode. "Next" sends it.

use egui::{RichText, Ui};

use crate::exchange::explain::{bound_value, computed};
use crate::exchange::Dir;
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::{self, t, tf};
use crate::link::Origin;
use crate::preset::schema::{Preset, Step};
use crate::wire::seq::relative;
use crate::wire::SegmentSpec;

/// Draws the paused segment; returns true when Next was pressed.
pub fn paused(
    ui: &mut Ui,
    step: usize,
    spec: &SegmentSpec,
    preset: Option<&Preset>,
    verdicts: &[StepVerdict],
    events: &[TimelineEvent],
) -> bool {
    let mut next = false;
    let palette = crate::ui::theme::colors(ui.ctx());
    // The computed fields' colour, and a faint wash of the warning colour behind the paused segment.
    let computed_c = palette.highlight;
    let paused_bg = palette.warning.gamma_multiply(0.12);
    egui::Frame::group(ui.style()).fill(paused_bg).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(tf("step.paused", &[("n", &(step + 1).to_string())])).strong());
            ui.label(RichText::new(t("ui.step.pending_mark")).color(computed_c).strong());
        });
        let absolute = crate::ui::timeline::absolute_mode(ui.ctx());
        ui.monospace(pending_label(spec, events, absolute));
        let template = preset.and_then(|p| match p.steps.get(step) {
            Some(Step::Send(t)) => Some((p, t)),
            _ => None,
        });
        let fields = template.map_or_else(Vec::new, |(p, tmpl)| {
            let lookup = |n: &str| bound_value(&p.steps, verdicts, events, n);
            computed(tmpl, spec, &lookup, i18n::current())
        });
        if fields.is_empty() {
            ui.label(RichText::new(t("step.none_computed")).small());
        } else {
            ui.label(RichText::new(format!("★ {}", t("step.computed"))).color(computed_c).strong());
            egui::Grid::new("computed-fields").num_columns(2).striped(true).show(ui, |ui| {
                for c in &fields {
                    let inputs: Vec<String> = c.inputs.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                    ui.label(RichText::new(c.field).monospace().color(computed_c).strong());
                    ui.vertical(|ui| {
                        ui.monospace(format!("{} = {} = {}", c.field, c.expr, c.value));
                        if !inputs.is_empty() {
                            ui.monospace(format!("  ({})", inputs.join(", ")));
                        }
                        ui.label(RichText::new(&c.why).small());
                    });
                    ui.end_row();
                }
            });
        }
        if let Ok(bytes) = crate::wire::build(spec) {
            let fields =
                crate::wire::parse_any_protocol(&bytes).map(|s| crate::wire::fields::fields(&s)).unwrap_or_default();
            let title = tf("ui.step.pending_bytes", &[("n", &bytes.len().to_string())]);
            egui::CollapsingHeader::new(title).id_salt("pending-bytes").default_open(true).show(ui, |ui| {
                egui::ScrollArea::horizontal()
                    .id_salt("pending-bytes-scroll")
                    .auto_shrink([false, true])
                    .show(ui, |ui| super::bytes::show(ui, &bytes, &fields, None));
            });
        }
        next = ui.button(format!("⏭ {}", t("step.next"))).clicked();
    });
    next
}

/// The pending segment's one-line summary, its seq/ack relative to each side's ISN as the ladder shows them (our
/// ISN from our first crafted segment, else this one's seq; the peer's from its first segment), or absolute.
pub fn pending_label(spec: &SegmentSpec, events: &[TimelineEvent], absolute: bool) -> String {
    let tcp = &spec.tcp;
    let first = |pred: &dyn Fn(&TimelineEvent) -> bool| {
        events.iter().filter(|e| pred(e)).find_map(|e| e.segment.as_ref().map(|s| s.tcp.seq))
    };
    let (seq, ack) = if absolute {
        (tcp.seq, tcp.ack)
    } else {
        let ours = first(&|e| e.origin == Origin::Crafted).unwrap_or(tcp.seq);
        let theirs = first(&|e| e.dir == Dir::In);
        (relative(tcp.seq, ours), theirs.map_or(tcp.ack, |isn| relative(tcp.ack, isn)))
    };
    let mut l = format!("{} seq={seq}", tcp.flags.wireshark());
    if tcp.flags.ack {
        l += &format!(" ack={ack}");
    }
    l + &format!(" win={} len={}", tcp.window, spec.payload.bytes().len())
}
