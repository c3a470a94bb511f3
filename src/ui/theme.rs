//! Every semantic colour of the window, for the dark and the light theme, each readable on its theme's panel and
//! window background (WCAG AA: a contrast ratio of at least 4.5:1, checked by a test below). Panels ask
//! [`colors`] for the palette of the theme on show instead of writing colours of their own.

use egui::{Color32, Theme, ThemePreference};
use serde::{Deserialize, Serialize};

/// The theme the user chose: one of the two, or whichever the system uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the system's light or dark setting.
    #[default]
    System,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

impl ThemeChoice {
    /// Every choice, in menu order.
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::System, ThemeChoice::Dark, ThemeChoice::Light];

    /// The catalog key of the choice's name.
    pub fn label_key(self) -> &'static str {
        match self {
            ThemeChoice::System => "ui.theme.system",
            ThemeChoice::Dark => "ui.theme.dark",
            ThemeChoice::Light => "ui.theme.light",
        }
    }

    /// The egui preference this choice stands for.
    pub fn preference(self) -> ThemePreference {
        match self {
            ThemeChoice::System => ThemePreference::System,
            ThemeChoice::Dark => ThemePreference::Dark,
            ThemeChoice::Light => ThemePreference::Light,
        }
    }
}

/// Makes `choice` the window's theme (egui then follows the system when the choice is [`ThemeChoice::System`]).
pub fn apply(ctx: &egui::Context, choice: ThemeChoice) {
    ctx.set_theme(choice.preference());
}

/// The semantic colours of one theme.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    /// Segments we crafted (and a field the bytes pane points at).
    pub crafted: Color32,
    /// Segments from the peer.
    pub peer: Color32,
    /// Segments our own kernel sent (its RSTs).
    pub kernel: Color32,
    /// ICMP errors.
    pub icmp: Color32,
    /// A met expectation, success.
    pub ok: Color32,
    /// An error, a failed expectation, an unusable value.
    pub error: Color32,
    /// A warning, an expected silence worth a look.
    pub warning: Color32,
    /// Secondary text.
    pub muted: Color32,
    /// A highlighted field or byte.
    pub highlight: Color32,
}

/// The palette on egui's dark background (panels and windows gray 27).
pub const DARK: Palette = Palette {
    crafted: Color32::from_rgb(0xff, 0xd1, 0x66),
    peer: Color32::from_rgb(0x6e, 0xc6, 0xff),
    kernel: Color32::from_rgb(0xff, 0x9e, 0x64),
    icmp: Color32::from_rgb(0xe5, 0xa0, 0xff),
    ok: Color32::from_rgb(0x5f, 0xd3, 0x8d),
    error: Color32::from_rgb(0xff, 0x6b, 0x6b),
    warning: Color32::from_rgb(0xff, 0xb3, 0x47),
    muted: Color32::from_rgb(0xa0, 0xa0, 0xa0),
    highlight: Color32::from_rgb(0xff, 0xd1, 0x66),
};

/// The palette on egui's light background (panels and windows gray 248).
pub const LIGHT: Palette = Palette {
    crafted: Color32::from_rgb(0x8a, 0x5a, 0x00),
    peer: Color32::from_rgb(0x0b, 0x5c, 0xad),
    kernel: Color32::from_rgb(0xa1, 0x3d, 0x00),
    icmp: Color32::from_rgb(0x7b, 0x2f, 0xa8),
    ok: Color32::from_rgb(0x1e, 0x7b, 0x34),
    error: Color32::from_rgb(0xc0, 0x18, 0x2b),
    warning: Color32::from_rgb(0x94, 0x50, 0x00),
    muted: Color32::from_rgb(0x5f, 0x5f, 0x5f),
    highlight: Color32::from_rgb(0x8a, 0x5a, 0x00),
};

/// The palette of `theme`.
pub fn palette(theme: Theme) -> Palette {
    match theme {
        Theme::Dark => DARK,
        Theme::Light => LIGHT,
    }
}

/// The palette of the theme on show in `ctx`.
pub fn colors(ctx: &egui::Context) -> Palette {
    palette(ctx.theme())
}

/// The relative luminance of a colour (WCAG 2.x), from 0 (black) to 1 (white).
pub fn luminance(c: Color32) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// The WCAG contrast ratio of two colours, from 1 to 21.
pub fn contrast(a: Color32, b: Color32) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every colour of each palette reads at WCAG AA (4.5:1) on its theme's panel and window background.
    #[test]
    fn every_theme_colour_has_aa_contrast_on_its_background() {
        for theme in [Theme::Dark, Theme::Light] {
            let v = theme.default_visuals();
            let p = palette(theme);
            let named = [
                ("crafted", p.crafted),
                ("peer", p.peer),
                ("kernel", p.kernel),
                ("icmp", p.icmp),
                ("ok", p.ok),
                ("error", p.error),
                ("warning", p.warning),
                ("muted", p.muted),
                ("highlight", p.highlight),
            ];
            for (name, c) in named {
                for (bg_name, bg) in [("panel", v.panel_fill), ("window", v.window_fill)] {
                    let r = contrast(c, bg);
                    assert!(r >= 4.5, "{theme:?} {name} {c:?} on {bg_name} {bg:?}: {r:.2}:1 < 4.5:1");
                }
            }
        }
    }

    #[test]
    fn contrast_matches_the_wcag_extremes() {
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 1e-9);
        assert!((contrast(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 1e-9);
    }
}
