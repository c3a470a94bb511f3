//! Fonts: egui's defaults. (A Hangul-capable font is registered here once the Korean UI lands.)

/// Installs the app's fonts into the context.
pub fn install(_ctx: &egui::Context) {}
