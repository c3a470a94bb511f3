//! The bytes pane: a hex dump of the built datagram. The bytes of the field under the pointer (in the editor or
//! here) are highlighted, and hovering a byte names its field, as in Wireshark.

use egui::{RichText, Sense, Ui};

use crate::wire::fields::Field;

/// Shows `bytes` 16 per row; returns the key of the field under the pointer, if any.
pub fn show(ui: &mut Ui, bytes: &[u8], fields: &[Field], highlight: Option<&str>) -> Option<&'static str> {
    let lit: Option<std::ops::Range<usize>> =
        highlight.and_then(|k| fields.iter().find(|f| f.key == k)).map(|f| f.range.clone());
    let mut hovered = None;
    for (row, chunk) in bytes.chunks(16).enumerate() {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 5.0;
            ui.label(RichText::new(format!("{:04x}", row * 16)).monospace().weak());
            for (col, b) in chunk.iter().enumerate() {
                let i = row * 16 + col;
                let on = lit.as_ref().is_some_and(|r| r.contains(&i));
                let mut text = RichText::new(format!("{b:02x}")).monospace();
                if on {
                    let sel = ui.visuals().selection;
                    text = text.background_color(sel.bg_fill).color(sel.stroke.color);
                }
                let r = ui.add(egui::Label::new(text).sense(Sense::hover()));
                // The narrowest field that holds this byte.
                let field = fields.iter().filter(|f| f.range.contains(&i)).min_by_key(|f| f.range.len());
                if let Some(f) = field {
                    if r.hovered() {
                        hovered = Some(f.key);
                    }
                    let (i, value) = (i.to_string(), f.value.to_string());
                    r.on_hover_text(crate::i18n::tf(
                        "ui.bytes.hover",
                        &[("i", &i), ("field", f.key), ("value", &value)],
                    ));
                }
            }
        });
    }
    hovered
}
