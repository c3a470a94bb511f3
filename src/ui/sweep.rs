//! The Sweep tab: pick a one-probe preset, targets and ports; a live progress bar, then a results table that can
//! be sorted and filtered by verdict, and exported as CSV.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use crate::exchange::sweep::{PortResult, Progress, Verdict};
use crate::preset::builtin;

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
    /// Verdicts shown in the table.
    pub show: [bool; 4],
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
            rate: crate::exchange::sweep::DEFAULT_RATE,
            progress: None,
            results: Vec::new(),
            show: [true, false, true, true],
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

const VERDICTS: [Verdict; 4] = [Verdict::Open, Verdict::Closed, Verdict::Filtered, Verdict::Unreachable];

fn color(v: Verdict) -> Color32 {
    match v {
        Verdict::Open => Color32::from_rgb(0x06, 0xd6, 0xa0),
        Verdict::Closed => Color32::from_gray(170),
        Verdict::Filtered => Color32::from_rgb(0xff, 0xd1, 0x66),
        Verdict::Unreachable => Color32::from_rgb(0xef, 0x47, 0x6f),
    }
}

/// The results as CSV (`host,port,verdict,reply`).
pub fn csv(results: &[PortResult]) -> String {
    let mut out = String::from("host,port,verdict,reply\n");
    for r in results {
        out += &format!("{},{},{},{}\n", r.host, r.port, r.verdict.as_str(), r.reply);
    }
    out
}

/// Draws the tab.
pub fn show(ui: &mut Ui, tab: &mut SweepTab, running: bool) -> Option<SweepAction> {
    let mut action = None;
    ui.heading("Sweep: one probe across many ports");
    egui::Grid::new("sweep-form").num_columns(2).show(ui, |ui| {
        ui.label("probe preset");
        egui::ComboBox::from_label("probe").selected_text(&tab.preset).show_ui(ui, |ui| {
            for n in builtin::names() {
                ui.selectable_value(&mut tab.preset, n.to_string(), n);
            }
        });
        ui.end_row();
        ui.label("targets");
        ui.add(egui::TextEdit::singleline(&mut tab.targets).hint_text("127.0.0.1, 10.0.0.0/30"));
        ui.end_row();
        ui.label("ports");
        ui.add(egui::TextEdit::singleline(&mut tab.ports).hint_text("1-1024,8080"));
        ui.end_row();
        ui.label("rate (pps)");
        ui.add(egui::DragValue::new(&mut tab.rate).range(1..=crate::exchange::sweep::DEFAULT_RATE))
            .on_hover_text("Capped at 10,000 packets per second in the app.");
        ui.end_row();
    });
    ui.horizontal(|ui| {
        if ui.add_enabled(!running, egui::Button::new("▶ Start sweep")).clicked() {
            action = Some(SweepAction::Start);
        }
        if ui.add_enabled(running, egui::Button::new("⏹ Stop")).clicked() {
            action = Some(SweepAction::Stop);
        }
        if ui.add_enabled(!tab.results.is_empty(), egui::Button::new("💾 Export CSV…")).clicked() {
            action = Some(SweepAction::ExportCsv);
        }
    });
    if let Some(e) = &tab.error {
        ui.label(RichText::new(format!("⚠ {e}")).color(Color32::from_rgb(0xef, 0x47, 0x6f)));
    }
    if let Some(p) = tab.progress {
        let frac = if p.total == 0 { 0.0 } else { (p.sent.min(p.total) as f32) / p.total as f32 };
        ui.add(egui::ProgressBar::new(frac).text(format!("{} / {} probes, {} replies", p.sent, p.total, p.replies)));
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.label("show:");
        for (i, v) in VERDICTS.iter().enumerate() {
            let n = tab.results.iter().filter(|r| r.verdict == *v).count();
            ui.toggle_value(&mut tab.show[i], RichText::new(format!("{} ({n})", v.as_str())).color(color(*v)));
        }
        ui.checkbox(&mut tab.by_verdict, "sort by verdict");
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
            for t in ["host", "port", "verdict", "reply"] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let r = rows[row.index()];
                row.col(|ui| {
                    ui.label(r.host.to_string());
                });
                row.col(|ui| {
                    ui.label(r.port.to_string());
                });
                row.col(|ui| {
                    ui.colored_label(color(r.verdict), r.verdict.as_str());
                });
                row.col(|ui| {
                    ui.label(&r.reply);
                });
            });
        });
    action
}
