//! The desktop app (eframe): panels in their own files, state apart from runtime handles, runs on a worker thread.

pub mod action;
pub mod app;
pub mod bytes;
pub mod dialogs;
pub mod editor;
pub mod field;
pub mod fonts;
pub mod help;
pub mod lab;
pub mod library;
pub mod state;
pub mod status;
pub mod step;
pub mod sweep;
pub mod timeline;
pub mod worker;

/// Opens the window and runs until it is closed; `autorun` names a preset to run on the simulated link at once.
/// `lang` (from `--lang`) overrides the language chosen in the app for this session, without being remembered.
pub fn run(autorun: Option<String>, lang: Option<crate::i18n::Lang>) -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("tcpcraft")
        .with_app_id("tcpcraft")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([900.0, 560.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions { viewport, ..Default::default() };
    eframe::run_native(
        "tcpcraft",
        options,
        Box::new(move |cc| {
            // The persisted language is applied as the state loads; `--lang` wins over it.
            let mut app = app::TcpcraftApp::new(cc);
            if let Some(lang) = lang {
                app.set_lang(lang, false);
            }
            if let Some(name) = autorun {
                app.autorun(&name, &cc.egui_ctx);
            }
            Ok(Box::new(app))
        }),
    )
}
