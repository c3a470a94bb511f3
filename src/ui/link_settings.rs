//! The link settings next to the link selector: the run's seed. "auto" (the default) lets every run take the
//! preset's seed, else a new random one; unticked, the number beside it is given to every run, sweeps included,
//! so a run repeats exactly. While on auto the number follows the seed of the latest run, so unticking "auto"
//! repeats that run. The setting is kept with the window's other state (egui memory, persisted by eframe).

use egui::{Id, Ui};
use serde::{Deserialize, Serialize};

use crate::i18n::t;
use crate::ui::worker::Worker;

/// The seed setting as the user left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedSetting {
    /// Each run takes the preset's seed, else a random one.
    pub auto: bool,
    /// The seed given to every run when not `auto`.
    pub value: u64,
}

impl Default for SeedSetting {
    fn default() -> Self {
        SeedSetting { auto: true, value: 0 }
    }
}

impl SeedSetting {
    /// The seed to give to new runs (`None`: the preset's, else a random one).
    pub fn given(&self) -> Option<u64> {
        (!self.auto).then_some(self.value)
    }
}

/// Where the setting is kept in egui's memory.
fn id() -> Id {
    Id::unique("tcpcraft-seed-setting")
}

/// The seed setting kept for this window.
pub fn setting(ctx: &egui::Context) -> SeedSetting {
    ctx.data_mut(|d| *d.get_persisted_mut_or_default::<SeedSetting>(id()))
}

/// Keeps `s` as the window's seed setting.
pub fn set_setting(ctx: &egui::Context, s: SeedSetting) {
    ctx.data_mut(|d| d.insert_persisted(id(), s));
}

/// Draws "seed [auto] [N]" and hands the setting to the worker, which gives it to every job it starts.
pub fn seed(ui: &mut Ui, worker: Option<&mut Worker>) {
    let mut s = setting(ui.ctx());
    let last = worker.as_ref().and_then(|w| w.last_seed());
    if let (true, Some(last)) = (s.auto, last) {
        s.value = last;
    }
    let tip = t("ui.seed.tip");
    ui.label(t("ui.seed.label")).on_hover_text(tip);
    ui.checkbox(&mut s.auto, t("ui.seed.auto")).on_hover_text(tip);
    // A u64 does not fit an f64 exactly, so the number is typed as text; a bad one is kept as it was. On auto
    // before any run there is no number to show yet.
    let mut text = if s.auto && last.is_none() { String::new() } else { s.value.to_string() };
    // Wide enough for the 20 digits of the largest seed, plus the edit's margins.
    let font = egui::TextStyle::Body.resolve(ui.style());
    let digits = ui.painter().layout_no_wrap("8".repeat(20), font, egui::Color32::WHITE).size().x;
    let width = digits + 2.0 * ui.spacing().button_padding.x + 8.0;
    let edit = egui::TextEdit::singleline(&mut text).desired_width(width).char_limit(20);
    let r = ui.add_enabled(!s.auto, edit).on_hover_text(tip);
    if r.changed() {
        if let Ok(v) = text.trim().parse() {
            s.value = v;
        } else if text.trim().is_empty() {
            s.value = 0;
        }
    }
    set_setting(ui.ctx(), s);
    if let Some(w) = worker {
        w.set_seed(s.given());
    }
}
