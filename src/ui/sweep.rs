//! The Sweep tab: pick a one-probe preset, targets and ports; a live progress bar (probes, replies, time) and
//! live counts per verdict, then a results table that can be sorted and filtered by verdict, and exported as CSV.
//! What is shown is true at every moment: ports not yet probed are "not probed" (hidden unless asked for, and
//! greyed), ports probed without a reply yet are "waiting", and only ports silent after every retry are
//! "filtered"; Stop keeps every verdict reached.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use crate::exchange::sweep::{PortResult, Progress, Verdict};
use crate::i18n::{t, tf};
use crate::preset::builtin;
use crate::ui::theme::contrast;

/// The tab's inputs and results.
#[derive(Clone, Debug)]
pub struct SweepTab {
    /// The probe preset.
    pub preset: String,
    /// Targets as typed.
    pub targets: String,
    /// Ports as typed.
    pub ports: String,
    /// Packets per second.
    pub rate: u64,
    /// Latest progress.
    pub progress: Option<Progress>,
    /// Results of the last sweep.
    pub results: Vec<PortResult>,
    /// Verdicts shown in the table, in [`Verdict::ALL`] order.
    pub show: [bool; Verdict::ALL.len()],
    /// Sort by verdict instead of host and port.
    pub by_verdict: bool,
    /// The last input error.
    pub error: Option<String>,
}

impl Default for SweepTab {
    fn default() -> Self {
        SweepTab {
            preset: "half-open".into(),
            targets: "192.0.2.10".into(),
            ports: "1-1024,8080".into(),
            rate: crate::limits::DEFAULT_RATE,
            progress: None,
            results: Vec::new(),
            // Closed and not probed are hidden: on a big sweep they are most of the rows.
            show: [true, false, true, true, true, true, true, false],
            by_verdict: false,
            error: None,
        }
    }
}

/// What the tab asks for.
pub enum SweepAction {
    /// Start with these inputs.
    Start,
    /// Stop the running sweep.
    Stop,
    /// Export the results as CSV to this path.
    ExportCsv,
}

const VERDICTS: [Verdict; Verdict::ALL.len()] = Verdict::ALL;

/// A verdict's colour (the Trace tab's lanes use the same ones).
pub fn color(v: Verdict) -> Color32 {
    match v {
        Verdict::Open => Color32::from_rgb(0x06, 0xd6, 0xa0),
        Verdict::Closed => Color32::from_gray(170),
        Verdict::Unfiltered => Color32::from_rgb(0x4c, 0xc9, 0xf0),
        Verdict::Filtered => Color32::from_rgb(0xff, 0xd1, 0x66),
        Verdict::Unreachable => Color32::from_rgb(0xef, 0x47, 0x6f),
        Verdict::Refused => Color32::from_rgb(0xc7, 0x7d, 0xff),
        Verdict::Waiting => Color32::from_rgb(0x8e, 0xc5, 0xfc),
        // Greyed: nothing is known about these ports.
        Verdict::NotProbed => Color32::from_gray(110),
    }
}

/// A verdict's colour for text on this panel: [`color`], mixed toward white (dark theme) or black (light theme)
/// just enough to read at 4.5:1 (WCAG AA for body text) on a selected chip (cyan, yellow and pale blue on the
/// light theme's selection blue, and red on the dark one's, could not be read), keeping some of its hue.
pub fn text_color(ui: &Ui, v: Verdict) -> Color32 {
    let c = color(v);
    let visuals = ui.visuals();
    let toward = if visuals.dark_mode { Color32::WHITE } else { Color32::BLACK };
    let mixed = |k: u8| c.lerp_to_gamma(toward, f32::from(k) / 10.0);
    (0..=8).map(mixed).find(|x| contrast(*x, visuals.selection.bg_fill) >= 4.5).unwrap_or_else(|| mixed(8))
}

/// A verdict's name, in the current language (the CSV keeps the English words).
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Open => t("ui.verdict.open"),
        Verdict::Closed => t("ui.verdict.closed"),
        Verdict::Unfiltered => t("ui.verdict.unfiltered"),
        Verdict::Filtered => t("ui.verdict.filtered"),
        Verdict::Unreachable => t("ui.verdict.unreachable"),
        Verdict::Refused => t("ui.verdict.refused"),
        Verdict::Waiting => t("ui.verdict.waiting"),
        Verdict::NotProbed => t("ui.verdict.not_probed"),
    }
}

/// The results as CSV (`host,port,verdict,reply,ttl`), as `tcpcraft sweep --csv` writes them: a stopped sweep's
/// never-probed ports say `not_probed`.
pub fn csv(results: &[PortResult]) -> String {
    crate::exchange::sweep::csv(results)
}

/// How many ports have `v`: from the results once there are some, else live from the progress.
fn count(tab: &SweepTab, v: Verdict) -> u64 {
    if tab.results.is_empty() {
        tab.progress.map_or(0, |p| p.count(v))
    } else {
        tab.results.iter().filter(|r| r.verdict == v).count() as u64
    }
}

/// Draws the tab. `elsewhere`: the tab whose job runs, when it is not this one (Start waits for it and says so);
/// `own`: this tab's sweep runs (its Stop ends it).
pub fn show(ui: &mut Ui, tab: &mut SweepTab, elsewhere: Option<&str>, own: bool) -> Option<SweepAction> {
    let running = own || elsewhere.is_some();
    let mut action = None;
    ui.heading(t("ui.sweep.heading"));
    egui::Grid::new("sweep-form").num_columns(2).show(ui, |ui| {
        ui.label(t("ui.sweep.probe_preset"));
        // A fixed id: the label is translated.
        egui::ComboBox::new("probe", t("ui.sweep.probe")).selected_text(&tab.preset).show_ui(ui, |ui| {
            for n in builtin::names() {
                ui.selectable_value(&mut tab.preset, n.to_string(), n);
            }
        });
        ui.end_row();
        ui.label(t("ui.sweep.targets"));
        ui.add(egui::TextEdit::singleline(&mut tab.targets).hint_text("127.0.0.1, 10.0.0.0/30"));
        ui.end_row();
        ui.label(t("ui.sweep.ports"));
        ui.add(egui::TextEdit::singleline(&mut tab.ports).hint_text("1-1024,8080"));
        ui.end_row();
        ui.label(t("ui.sweep.rate"));
        ui.add(egui::DragValue::new(&mut tab.rate).range(1..=crate::limits::DEFAULT_RATE))
            .on_hover_text(t("ui.sweep.rate_tip"));
        ui.end_row();
    });
    ui.horizontal(|ui| {
        let start = ui.add_enabled(!running, egui::Button::new(t("ui.sweep.start")));
        if crate::ui::app::waits_for(start, elsewhere).clicked() {
            action = Some(SweepAction::Start);
        }
        if ui.add_enabled(own, egui::Button::new(t("ui.top.stop"))).clicked() {
            action = Some(SweepAction::Stop);
        }
        if ui.add_enabled(!tab.results.is_empty(), egui::Button::new(t("ui.sweep.export_csv"))).clicked() {
            action = Some(SweepAction::ExportCsv);
        }
    });
    if let Some(e) = &tab.error {
        ui.label(RichText::new(format!("⚠ {e}")).color(Color32::from_rgb(0xef, 0x47, 0x6f)));
    }
    if let Some(p) = tab.progress {
        let frac = if p.total == 0 { 0.0 } else { (p.probed.min(p.total) as f32) / p.total as f32 };
        let (sent, total, replies) = (p.sent.to_string(), p.total.to_string(), p.replies.to_string());
        let text = tf("ui.sweep.progress", &[("sent", &sent), ("total", &total), ("replies", &replies)]);
        let secs = format!("{:.1}", p.elapsed_ms as f64 / 1000.0);
        let text = format!("{text} · {}", tf("ui.sweep.elapsed", &[("s", &secs)]));
        ui.add(egui::ProgressBar::new(frac).text(text));
    }
    let (waiting, not_probed) = (count(tab, Verdict::Waiting), count(tab, Verdict::NotProbed));
    if !own && !tab.results.is_empty() && waiting + not_probed > 0 {
        let args = [("not_probed", not_probed.to_string()), ("waiting", waiting.to_string())];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ui.label(RichText::new(tf("ui.sweep.stopped_note", &args)).color(text_color(ui, Verdict::Filtered)));
    }
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        ui.label(t("ui.sweep.show"));
        for (i, v) in VERDICTS.iter().enumerate() {
            let n = count(tab, *v);
            let label = RichText::new(format!("{} ({n})", verdict_name(*v))).color(text_color(ui, *v));
            ui.toggle_value(&mut tab.show[i], label);
        }
        ui.checkbox(&mut tab.by_verdict, t("ui.sweep.sort_by_verdict"));
    });
    let mut rows: Vec<&PortResult> = tab
        .results
        .iter()
        .filter(|r| VERDICTS.iter().position(|v| *v == r.verdict).is_some_and(|i| tab.show[i]))
        .collect();
    if tab.by_verdict {
        rows.sort_by_key(|r| (r.verdict, r.host, r.port));
    }
    TableBuilder::new(ui)
        .id_salt("sweep-table")
        .striped(true)
        .column(Column::exact(160.0))
        .column(Column::exact(60.0))
        .column(Column::exact(100.0))
        .column(Column::remainder())
        .header(18.0, |mut h| {
            let names =
                [t("ui.sweep.col_host"), t("ui.sweep.col_port"), t("ui.sweep.col_verdict"), t("ui.sweep.col_reply")];
            for name in names {
                h.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let r = rows[row.index()];
                // A port never probed is greyed: the row only says where the sweep did not get to.
                let weak = r.verdict == Verdict::NotProbed;
                let text = |s: String| if weak { RichText::new(s).weak() } else { RichText::new(s) };
                row.col(|ui| {
                    ui.label(text(r.host.to_string()));
                });
                row.col(|ui| {
                    ui.label(text(r.port.to_string()));
                });
                row.col(|ui| {
                    ui.colored_label(text_color(ui, r.verdict), verdict_name(r.verdict));
                });
                row.col(|ui| {
                    ui.label(r.reason());
                });
            });
        });
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every verdict's text can be read in both themes: on the panel and on a selected chip (the light theme's
    /// pale blue selection made cyan, yellow and pale blue unreadable).
    #[test]
    fn verdict_text_is_readable_in_both_themes() {
        for visuals in [egui::Visuals::dark(), egui::Visuals::light()] {
            let ctx = egui::Context::default();
            ctx.set_visuals(visuals.clone());
            let mut worst = f64::MAX;
            let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
                for v in Verdict::ALL {
                    let c = text_color(ui, v);
                    // Not probed is greyed on purpose: nothing is known about those ports.
                    if v != Verdict::NotProbed {
                        worst = worst.min(contrast(c, visuals.panel_fill));
                        worst = worst.min(contrast(c, visuals.selection.bg_fill));
                    }
                }
            });
            out.textures_delta.clear();
            assert!(worst >= 4.5, "dark={}: contrast {worst:.2}", visuals.dark_mode);
        }
    }
}
