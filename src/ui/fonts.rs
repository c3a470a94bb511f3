//! Fonts: egui's defaults for Latin, plus a bundled Hangul font (`assets/fonts/TcpcraftHangul.ttf`, a subset of
//! NanumGothic under the SIL Open Font License; rebuilt by `scripts/subset-font.sh`) as the fallback for every
//! family, so Korean renders with no system font installed.

use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
use egui::{FontData, FontFamily};

/// The bundled Hangul font.
pub const HANGUL_TTF: &[u8] = include_bytes!("../../assets/fonts/TcpcraftHangul.ttf");

/// Installs the app's fonts into the context: the Hangul font goes after egui's own in both families.
pub fn install(ctx: &egui::Context) {
    let families = [FontFamily::Proportional, FontFamily::Monospace]
        .into_iter()
        .map(|family| InsertFontFamily { family, priority: FontPriority::Lowest })
        .collect();
    ctx.add_font(FontInsert::new("tcpcraft-hangul", FontData::from_static(HANGUL_TTF), families));
}

#[cfg(test)]
mod tests {
    use egui::FontId;

    /// Every character of the Korean catalogs has a glyph once the fonts are installed (and none without).
    #[test]
    fn every_korean_text_has_glyphs() {
        let ctx = egui::Context::default();
        let text: String = crate::i18n::KO_FILES.iter().map(|(_, t)| *t).collect();
        let hangul: String = text.chars().filter(|c| ('\u{AC00}'..='\u{D7A3}').contains(c)).collect();
        assert!(!hangul.is_empty(), "the Korean catalogs contain Hangul");
        let frame = || ctx.run_ui(Default::default(), |_| {}).textures_delta.clear();
        frame();
        assert!(!ctx.fonts_mut(|f| f.has_glyphs(&FontId::proportional(14.0), "한")), "egui alone has no Hangul");
        super::install(&ctx);
        frame();
        for id in [FontId::proportional(14.0), FontId::monospace(14.0)] {
            let missing: String =
                text.chars().filter(|&c| !c.is_control() && !ctx.fonts_mut(|f| f.has_glyph(&id, c))).collect();
            assert!(missing.is_empty(), "no glyph in {id:?} for {missing:?}: rerun scripts/subset-font.sh");
        }
    }
}
