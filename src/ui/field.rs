//! Form fields that never replace a bad value silently: each keeps the text the user typed in its own buffer, checks
//! it on every keystroke (red, with the reason, when it does not parse or does not fit), and writes it into the
//! segment only when the user leaves the field (Enter, Tab, a click elsewhere) with a fully valid value. A half-typed
//! value ("30" on the way to "300") therefore never reaches the bytes.

use std::collections::HashMap;
use std::net::IpAddr;

use egui::{Response, RichText, TextEdit, Ui};

use crate::i18n::{t, tf};
use crate::wire::text as wire_text;
use crate::wire::{Auto, Checksum};

/// How a field is drawn.
#[derive(Clone, Copy)]
enum Shape {
    /// One line of this width.
    Line(f32),
    /// One line of hex in the code font, this wide.
    Hex(f32),
    /// Several lines of hex in the code font, as wide as the column.
    HexBlock,
}

/// The typed text and the error of every field, by key.
#[derive(Default, Debug)]
pub struct Buffers {
    texts: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl Buffers {
    /// Forgets every typed text (after the segment was replaced from outside: a preset, "craft from this").
    pub fn reset(&mut self) {
        self.texts.clear();
        self.errors.clear();
    }

    /// Forgets the typed text of one field (its value was changed from outside, e.g. by the target box).
    pub fn forget(&mut self, key: &str) {
        self.texts.remove(key);
        self.errors.remove(key);
    }

    /// The error shown on a field, if any.
    pub fn error(&self, key: &str) -> Option<&str> {
        self.errors.get(key).map(String::as_str)
    }

    /// Whether any field holds unusable input.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Checks the typed `text` of `key` after an edit: records or clears its error.
    fn check<T>(&mut self, key: &str, text: &str, parse: impl Fn(&str) -> Result<T, String>) {
        match parse(text) {
            Ok(_) => {
                self.errors.remove(key);
            }
            Err(e) => {
                self.errors.insert(key.to_string(), e);
            }
        }
    }

    /// Draws the field for `key` (its buffer starts as `current`) and returns its response and the value to write
    /// into the segment: only when the user left the field (Enter, Tab, a click elsewhere) and the text is valid.
    /// Typing alone never applies anything. A valid edit not applied yet is marked ↩ beside the field; a reason
    /// for refusing the text is shown under it, so it stays in view in a narrow column.
    fn field<T>(
        &mut self,
        ui: &mut Ui,
        key: &str,
        current: &str,
        shape: Shape,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> (Response, Option<T>) {
        let err = self.errors.contains_key(key);
        // The colour of a field that holds unusable text, and of its reason.
        let error_color = crate::ui::theme::colors(ui.ctx()).error;
        let resp = ui
            .vertical(|ui| {
                let draw = |ui: &mut Ui, text: &mut String| {
                    let mut edit = match shape {
                        // The key doubles as the hint (shown only while the field is empty).
                        Shape::Line(w) => TextEdit::singleline(text).desired_width(w).hint_text(key),
                        Shape::Hex(w) => {
                            TextEdit::singleline(text).desired_width(w).code_editor().hint_text(t("ui.value.hex_hint"))
                        }
                        Shape::HexBlock => TextEdit::multiline(text)
                            .desired_rows(3)
                            .desired_width(f32::INFINITY)
                            .code_editor()
                            .hint_text(t("ui.value.hex_hint")),
                    };
                    if err {
                        edit = edit.text_color(error_color);
                    }
                    ui.add(edit)
                };
                // The field, checked as it is typed, then its ↩ mark: in a slot beside a one-line field (always
                // there, so nothing moves when it shows), under a block.
                let mut edit_and_mark = |ui: &mut Ui| {
                    let text = self.texts.entry(key.to_string()).or_insert_with(|| current.to_string());
                    let resp = draw(ui, text);
                    let typed = text.trim().to_string();
                    if resp.changed() {
                        self.check(key, &typed, &parse);
                    }
                    let pending = resp.has_focus() && typed != current.trim() && !self.errors.contains_key(key);
                    let slot = egui::vec2(14.0, ui.spacing().interact_size.y);
                    let mark = |ui: &mut Ui| {
                        if pending {
                            ui.label(RichText::new("↩").weak());
                        }
                    };
                    match shape {
                        Shape::HexBlock => mark(ui),
                        _ => {
                            ui.allocate_ui(slot, |ui| {
                                ui.set_min_size(slot);
                                mark(ui);
                            });
                        }
                    }
                    resp
                };
                let resp = match shape {
                    Shape::HexBlock => edit_and_mark(ui),
                    _ => ui.horizontal(|ui| edit_and_mark(ui)).inner,
                };
                if let Some(e) = self.errors.get(key) {
                    ui.add(egui::Label::new(RichText::new(format!("⚠ {e}")).color(error_color).small()).wrap());
                }
                resp
            })
            .inner;
        // Leaving the field is what commits: egui surrenders the focus in the frame of the click elsewhere, before
        // the clicked button's action is applied at the end of that frame.
        let out = if resp.lost_focus() && !self.errors.contains_key(key) {
            self.texts.get(key).and_then(|t| parse(t.trim()).ok())
        } else {
            None
        };
        (resp, out)
    }

    /// A one-line text field for a value shown as `current`, `width` wide.
    fn text_field<T>(
        &mut self,
        ui: &mut Ui,
        key: &str,
        current: String,
        width: f32,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> (Response, Option<T>) {
        self.field(ui, key, &current, Shape::Line(width), parse)
    }

    /// An unsigned number in decimal or 0x-hex, at most `max`.
    pub fn number<T>(&mut self, ui: &mut Ui, key: &str, value: &mut T, max: u64) -> Response
    where
        T: Copy + Into<u64> + TryFrom<u64>,
    {
        let (resp, parsed) = self.text_field(ui, key, (*value).into().to_string(), 90.0, |s| wire_text::number(s, max));
        if let Some(v) = parsed.and_then(|v| T::try_from(v).ok()) {
            *value = v;
        }
        resp
    }

    /// An auto/manual value: a checkbox and, when manual, a number.
    pub fn auto_number<T>(&mut self, ui: &mut Ui, key: &str, value: &mut Auto<T>, max: u64, auto_shows: T) -> Response
    where
        T: Copy + Into<u64> + TryFrom<u64>,
    {
        ui.horizontal(|ui| {
            let mut auto = matches!(value, Auto::Auto);
            let r = ui.checkbox(&mut auto, t("ui.value.auto")).on_hover_text(t("ui.value.auto_tip"));
            if r.changed() {
                *value = if auto { Auto::Auto } else { Auto::Manual(value.or(auto_shows)) };
                self.texts.remove(key);
                self.errors.remove(key);
            }
            match value {
                Auto::Manual(v) => self.number(ui, key, v, max),
                Auto::Auto => r,
            }
        })
        .inner
    }

    /// A checksum policy: auto, bad (one click), or a manual hex value.
    pub fn checksum(&mut self, ui: &mut Ui, key: &str, value: &mut Checksum) -> Response {
        ui.horizontal(|ui| {
            let before = *value;
            ui.selectable_value(value, Checksum::Auto, t("ui.value.auto")).on_hover_text(t("ui.checksum.auto_tip"));
            ui.selectable_value(value, Checksum::Bad, t("ui.checksum.bad")).on_hover_text(t("ui.checksum.bad_tip"));
            let manual = matches!(value, Checksum::Manual(_));
            let r = ui.selectable_label(manual, t("ui.checksum.manual")).on_hover_text(t("ui.checksum.manual_tip"));
            if r.clicked() && !manual {
                *value = Checksum::Manual(0);
            }
            if *value != before {
                self.texts.remove(key);
                self.errors.remove(key);
            }
            if let Checksum::Manual(v) = value {
                let (resp, parsed) = self.text_field(ui, key, format!("0x{v:04x}"), 70.0, |s| {
                    let h = s.trim_start_matches("0x").trim_start_matches("0X");
                    u16::from_str_radix(h, 16).map_err(|_| t("ui.value.err_hex16").to_string())
                });
                if let Some(p) = parsed {
                    *v = p;
                }
                resp
            } else {
                r
            }
        })
        .inner
    }

    /// An IP address of one family.
    pub fn address<A>(&mut self, ui: &mut Ui, key: &str, value: &mut A) -> Response
    where
        A: Copy + ToString + std::str::FromStr + Into<IpAddr>,
    {
        let (resp, parsed) = self.text_field(ui, key, value.to_string(), 200.0, |s| {
            s.parse::<A>().map_err(|_| {
                let family = if (*value).into().is_ipv4() { "IPv4" } else { "IPv6" };
                tf("ui.value.err_address", &[("family", family)])
            })
        });
        if let Some(p) = parsed {
            *value = p;
        }
        resp
    }

    /// Bytes as hex (spaces allowed); like every field, applied when the user leaves it with valid hex.
    pub fn hex(&mut self, ui: &mut Ui, key: &str, value: &mut Vec<u8>, multiline: bool) -> Response {
        let shape = if multiline { Shape::HexBlock } else { Shape::Hex(220.0) };
        let (resp, parsed) = self.field(ui, key, &hex::encode(&value[..]), shape, wire_text::hex_vec);
        if let Some(b) = parsed {
            *value = b;
        }
        resp
    }
}
