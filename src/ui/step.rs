//! Step-through: before each Send, the segment about to go out, with the fields computed from the peer's replies
//! highlighted, their inputs, and why the rule is what it is. "Next" sends it.

use egui::{Color32, RichText, Ui};

use crate::exchange::explain::{bound_value, computed};
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::{self, t, tf};
use crate::preset::schema::{Preset, Step};
use crate::wire::SegmentSpec;

const PAUSED_BG: Color32 = Color32::from_rgb(0x2a, 0x24, 0x10);
const COMPUTED: Color32 = Color32::from_rgb(0xff, 0xd1, 0x66);

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
    egui::Frame::group(ui.style()).fill(PAUSED_BG).show(ui, |ui| {
        ui.label(RichText::new(tf("step.paused", &[("n", &(step + 1).to_string())])).strong());
        let tcp = &spec.tcp;
        ui.monospace(format!(
            "{} seq={} ack={} win={} len={}",
            tcp.flags.wireshark(),
            tcp.seq,
            tcp.ack,
            tcp.window,
            spec.payload.bytes().len()
        ));
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
            ui.label(RichText::new(format!("★ {}", t("step.computed"))).color(COMPUTED).strong());
            egui::Grid::new("computed-fields").num_columns(2).striped(true).show(ui, |ui| {
                for c in &fields {
                    let inputs: Vec<String> = c.inputs.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                    ui.label(RichText::new(c.field).monospace().color(COMPUTED).strong());
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
        next = ui.button(format!("⏭ {}", t("step.next"))).clicked();
    });
    next
}
