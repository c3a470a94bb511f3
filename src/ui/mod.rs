//! The desktop app (eframe): panels in their own files, state apart from runtime handles, runs on a worker thread.

pub mod action;
pub mod app;
pub mod bytes;
pub mod dialogs;
pub mod editor;
pub mod field;
pub mod fonts;
pub mod fragment_editor;
pub mod help;
pub mod lab;
pub mod library;
pub mod link_settings;
pub mod state;
pub mod status;
pub mod step;
pub mod steps;
pub mod sweep;
pub mod theme;
pub mod timeline;
pub mod trace;
pub mod undo;
pub mod worker;

/// The narrowest the library (left) may get, so preset names stay readable.
pub const MIN_LIBRARY_W: f32 = 150.0;
/// The narrowest the editor column (segment editor, lab task, bytes) may get; beyond it the editor scrolls.
pub const MIN_EDITOR_W: f32 = 340.0;
/// The narrowest the timeline (right, taking every width left over) may get.
pub const MIN_TIMELINE_W: f32 = 340.0;
/// The smallest window: the three minimum widths side by side, and room for the bars.
pub const MIN_WINDOW: [f32; 2] = [MIN_LIBRARY_W + MIN_EDITOR_W + MIN_TIMELINE_W + 30.0, 520.0];

/// The size a first start opens at (no window remembered): most of the monitor, and at least 1280x800 where the
/// monitor has room for it.
pub fn first_window_size(monitor: egui::Vec2) -> egui::Vec2 {
    let want = egui::vec2((monitor.x * 0.9).max(1280.0), (monitor.y * 0.9).max(800.0));
    want.min(monitor).max(egui::Vec2::from(MIN_WINDOW))
}

/// The memory key that marks a first start whose window still has to be fitted to the monitor.
fn fit_key() -> egui::Id {
    egui::Id::unique("tcpcraft-fit-window-to-monitor")
}

/// Once per first start, as soon as the monitor's size is known: sizes the window to [`first_window_size`] and
/// centres it. A window size remembered from an earlier session is left alone.
pub fn fit_window_once(ctx: &egui::Context) {
    if !ctx.data(|d| d.get_temp::<bool>(fit_key()).unwrap_or(false)) {
        return;
    }
    let Some(monitor) = ctx.input(|i| i.viewport().monitor_size).filter(|m| m.x > 0.0 && m.y > 0.0) else {
        return;
    };
    ctx.data_mut(|d| d.remove::<bool>(fit_key()));
    let size = first_window_size(monitor);
    ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
    let corner = ((monitor - size) * 0.5).max(egui::Vec2::ZERO);
    ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(corner.to_pos2()));
}

/// Opens the window and runs until it is closed; `autorun` names a preset to run on the simulated link at once.
/// `lang` (from `--lang`) overrides the language chosen in the app for this session, without being remembered;
/// `theme` (from `--theme`) sets the colour theme, remembered as the theme menu would.
pub fn run(
    autorun: Option<String>,
    lang: Option<crate::i18n::Lang>,
    theme: Option<theme::ThemeChoice>,
) -> Result<(), eframe::Error> {
    // eframe clamps this to the monitor; `fit_window_once` then grows it on a big one.
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("tcpcraft")
        .with_app_id("tcpcraft")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size(MIN_WINDOW);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions { viewport, ..Default::default() };
    eframe::run_native(
        "tcpcraft",
        options,
        Box::new(move |cc| {
            // eframe keeps the window's geometry under "window"; without it this is a first start.
            let remembered = cc.storage.and_then(|s| s.get_string("window")).is_some();
            if !remembered {
                cc.egui_ctx.data_mut(|d| d.insert_temp(fit_key(), true));
            }
            // The persisted language is applied as the state loads; `--lang` wins over it.
            let mut app = app::TcpcraftApp::new(cc);
            if let Some(lang) = lang {
                app.set_lang(lang, false);
            }
            if let Some(choice) = theme {
                app.set_theme(choice, &cc.egui_ctx);
            }
            if let Some(name) = autorun {
                app.autorun(&name, &cc.egui_ctx);
            }
            Ok(Box::new(app))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_window_uses_most_of_a_big_monitor_and_all_of_a_small_one() {
        assert_eq!(first_window_size(egui::vec2(1920.0, 1080.0)), egui::vec2(1728.0, 972.0));
        assert_eq!(first_window_size(egui::vec2(1366.0, 850.0)), egui::vec2(1280.0, 800.0));
        assert_eq!(first_window_size(egui::vec2(1024.0, 700.0)), egui::vec2(1024.0, 700.0));
        assert_eq!(first_window_size(egui::vec2(640.0, 480.0)), egui::Vec2::from(MIN_WINDOW));
    }
}
