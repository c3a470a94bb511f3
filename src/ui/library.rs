//! The preset library: the bundled presets, the user's presets from the config directory, open / save / save as,
//! and the steps of the current preset (a Send step can be selected for editing).

use std::path::PathBuf;

use egui::{Color32, RichText, Ui};

use super::app::Action;
use crate::exchange::StepVerdict;
use crate::preset::{builtin, Preset, Step};

/// A user preset found on disk.
#[derive(Clone, Debug)]
pub struct UserPreset {
    /// The file.
    pub path: PathBuf,
    /// Its name, or the error that kept it from loading.
    pub loaded: Result<String, String>,
}

/// The directory for the user's presets.
pub fn user_dir() -> Option<PathBuf> {
    eframe::storage_dir("tcpcraft").map(|d| d.join("presets"))
}

/// Reads the user's preset directory (small files only; errors are shown, not hidden).
pub fn scan_user_presets() -> Vec<UserPreset> {
    let Some(dir) = user_dir() else { return Vec::new() };
    let Ok(rd) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut v: Vec<UserPreset> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .map(|path| {
            let loaded = crate::preset::io::load(&path).map(|p| p.name).map_err(|e| e.to_string());
            UserPreset { path, loaded }
        })
        .collect();
    v.sort_by(|a, b| a.path.cmp(&b.path));
    v
}

/// Draws the library; actions go into `out`.
pub fn show(
    ui: &mut Ui,
    current: Option<&Preset>,
    path: Option<&str>,
    users: &[UserPreset],
    verdicts: &[StepVerdict],
    selected_step: Option<usize>,
    out: &mut Vec<Action>,
) {
    ui.heading("Presets");
    ui.horizontal(|ui| {
        if ui.button("📂 Open…").clicked() {
            out.push(Action::OpenDialog);
        }
        let save = ui.add_enabled(current.is_some(), egui::Button::new("💾 Save"));
        if save.on_hover_text(path.unwrap_or("choose a file first")).clicked() {
            out.push(Action::Save { as_new: path.is_none() });
        }
        if ui.add_enabled(current.is_some(), egui::Button::new("Save as…")).clicked() {
            out.push(Action::Save { as_new: true });
        }
    });
    ui.separator();
    ui.label(RichText::new("Built-in").strong());
    for name in builtin::names() {
        let on = current.is_some_and(|p| p.name == name) && path.is_none();
        if ui.selectable_label(on, name).clicked() {
            out.push(Action::LoadBuiltin(name));
        }
    }
    ui.label(RichText::new("Mine").strong());
    if users.is_empty() {
        ui.label(
            RichText::new(format!("(none yet in {})", user_dir().map(|d| d.display().to_string()).unwrap_or_default()))
                .weak()
                .small(),
        );
    }
    for (i, u) in users.iter().enumerate() {
        match &u.loaded {
            Ok(name) => {
                let on = path.is_some_and(|p| std::path::Path::new(p) == u.path);
                if ui.selectable_label(on, name).on_hover_text(u.path.display().to_string()).clicked() {
                    out.push(Action::LoadUser(i));
                }
            }
            Err(e) => {
                ui.label(RichText::new(format!("⚠ {}", u.path.display())).color(Color32::from_rgb(0xef, 0x47, 0x6f)))
                    .on_hover_text(e);
            }
        }
    }
    let Some(p) = current else { return };
    ui.separator();
    ui.label(RichText::new(format!("Steps of {}", p.name)).strong()).on_hover_text(&p.explain);
    for (i, s) in p.steps.iter().enumerate() {
        let v = verdicts.iter().find(|v| v.step == i);
        let mark = match v {
            Some(v) if v.pass => "✔ ",
            Some(_) => "✖ ",
            None => "",
        };
        let text = match s {
            Step::Send(t) => {
                let mut d = format!("Send {}", t.flags.0.wireshark());
                if let Some(a) = &t.ack {
                    d += &format!(" ack={a}");
                }
                d
            }
            Step::Expect(x) => format!("Expect {} within {} ms", x.flags, x.within_ms),
            Step::ExpectNothing { within_ms } => format!("Expect nothing for {within_ms} ms"),
            Step::Sleep(ms) => format!("Sleep {ms} ms"),
        };
        let r = ui.selectable_label(selected_step == Some(i), format!("{mark}{}. {text}", i + 1));
        let r = match v {
            Some(v) => r.on_hover_text(&v.detail),
            None => r,
        };
        if r.clicked() && matches!(s, Step::Send(_)) {
            out.push(Action::SelectStep(i));
        }
    }
}
