//! The bundled presets, embedded in the binary from `presets/`.

use super::error::PresetError;
use super::io::load_str;
use super::schema::Preset;

/// Name and RON text of every bundled preset.
pub const BUILTIN: &[(&str, &str)] = &[
    ("normal-open", include_str!("../../presets/normal-open.ron")),
    ("half-open", include_str!("../../presets/half-open.ron")),
    ("rst-closed-port", include_str!("../../presets/rst-closed-port.ron")),
    ("rst-abort", include_str!("../../presets/rst-abort.ron")),
    ("fin-close", include_str!("../../presets/fin-close.ron")),
    ("data-exchange", include_str!("../../presets/data-exchange.ron")),
    ("null-scan", include_str!("../../presets/null-scan.ron")),
    ("fin-scan", include_str!("../../presets/fin-scan.ron")),
    ("xmas-scan", include_str!("../../presets/xmas-scan.ron")),
    ("ack-probe", include_str!("../../presets/ack-probe.ron")),
];

/// The bundled preset of that name.
pub fn builtin(name: &str) -> Option<Result<Preset, PresetError>> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, src)| load_str(src, &format!("<builtin:{n}>")))
}

/// Every bundled preset's name.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}
