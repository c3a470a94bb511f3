//! The preset library: the bundled presets, the user's presets from the config directory, open / save / save as,
//! and the step editor's list of the current preset's steps ([`super::steps`]).

use std::path::PathBuf;

use egui::{Color32, RichText, Ui};

use super::action::Action;
use crate::exchange::StepVerdict;
use crate::i18n::{t, tf};
use crate::preset::{builtin, Preset};

/// A user preset found on disk.
#[derive(Clone, Debug)]
pub struct UserPreset {
    /// The file.
    pub path: PathBuf,
    /// Its name, or the error that kept it from loading.
    pub loaded: Result<String, String>,
}

/// The user's presets ("Mine"): the folder they live in and what it held at the last look.
#[derive(Clone, Debug, Default)]
pub struct UserPresets {
    /// The folder (`None`: the platform has no config directory).
    pub dir: Option<PathBuf>,
    /// The `.ron` files found there, by path.
    pub list: Vec<UserPreset>,
    /// Why the folder could not be read (a folder not made yet is not an error).
    pub error: Option<String>,
}

impl UserPresets {
    /// Reads `dir` (small files only; a file that does not load is listed with its error, not hidden).
    pub fn scan(dir: Option<PathBuf>) -> UserPresets {
        let Some(d) = &dir else { return UserPresets::default() };
        let rd = match std::fs::read_dir(d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return UserPresets { dir, ..Default::default() },
            Err(e) => return UserPresets { error: Some(format!("{}: {e}", d.display())), dir, list: Vec::new() },
        };
        let mut list: Vec<UserPreset> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ron"))
            .map(|path| {
                let loaded = crate::preset::io::load(&path).map(|p| p.name).map_err(|e| e.to_string());
                UserPreset { path, loaded }
            })
            .collect();
        list.sort_by(|a, b| a.path.cmp(&b.path));
        UserPresets { dir, list, error: None }
    }

    /// Reads the folder again (after a save).
    pub fn rescan(&mut self) {
        *self = UserPresets::scan(self.dir.take());
    }
}

/// The default folder for the user's presets (in the platform's config directory).
pub fn user_dir() -> Option<PathBuf> {
    eframe::storage_dir("tcpcraft").map(|d| d.join("presets"))
}

/// Draws the library; actions go into `out`.
pub fn show(
    ui: &mut Ui,
    current: Option<&Preset>,
    path: Option<&str>,
    users: &UserPresets,
    verdicts: &[StepVerdict],
    marks: super::steps::Marks,
    out: &mut Vec<Action>,
) {
    ui.heading(t("ui.library.heading"));
    // Wrapped: longer (translated) button labels take a second row instead of widening the panel.
    ui.horizontal_wrapped(|ui| {
        if ui.button(t("ui.library.open")).on_hover_text(t("ui.library.open_tip")).clicked() {
            out.push(Action::OpenDialog);
        }
        let save = ui.add_enabled(current.is_some(), egui::Button::new(t("ui.library.save")));
        let tip = match path {
            Some(p) => tf("ui.library.save_to_tip", &[("path", p)]),
            None => t("ui.library.save_tip").to_owned(),
        };
        if save.on_hover_text(tip).clicked() {
            out.push(Action::Save { as_new: path.is_none() });
        }
        if ui.add_enabled(current.is_some(), egui::Button::new(t("ui.library.save_as"))).clicked() {
            out.push(Action::Save { as_new: true });
        }
    });
    ui.separator();
    ui.label(RichText::new(t("ui.library.builtin")).strong());
    for name in builtin::names() {
        let on = current.is_some_and(|p| p.name == name) && path.is_none();
        let r = ui.selectable_label(on, name).on_hover_ui(|ui| describe(ui, name));
        if r.clicked() {
            out.push(Action::LoadBuiltin(name));
        }
    }
    ui.label(RichText::new(format!("🎓 {}", t("ui.library.labs"))).strong());
    for (name, _) in builtin::LABS {
        let on = current.is_some_and(|p| p.name == *name) && path.is_none();
        let r = ui.selectable_label(on, *name).on_hover_ui(|ui| describe(ui, name));
        if r.clicked() {
            out.push(Action::LoadBuiltin(name));
        }
    }
    ui.label(RichText::new(t("ui.library.mine")).strong());
    if let Some(e) = &users.error {
        ui.label(RichText::new(format!("⚠ {e}")).color(Color32::from_rgb(0xef, 0x47, 0x6f)).small());
    } else if users.list.is_empty() {
        let dir = users.dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        ui.label(RichText::new(tf("ui.library.none_yet", &[("dir", &dir)])).weak().small());
    }
    for (i, u) in users.list.iter().enumerate() {
        match &u.loaded {
            Ok(name) => {
                let on = path.is_some_and(|p| std::path::Path::new(p) == u.path);
                // The file's name too when it differs from the preset's, so two files of one preset tell apart.
                let file = u.path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
                let label = if file == name.as_str() { name.clone() } else { format!("{name} ({file}.ron)") };
                if ui.selectable_label(on, label).on_hover_text(u.path.display().to_string()).clicked() {
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
    super::steps::list(ui, p, verdicts, marks, out);
}

/// A bundled preset's description, in the current language (for its tooltip; parsed only while hovered).
fn describe(ui: &mut Ui, name: &str) {
    if let Some(Ok(p)) = builtin::builtin(name) {
        ui.label(p.description_in(crate::i18n::current()));
    }
}
