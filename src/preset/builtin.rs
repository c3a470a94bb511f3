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
    ("server-close", include_str!("../../presets/server-close.ron")),
    ("peer-aborts", include_str!("../../presets/peer-aborts.ron")),
    ("firewall-path", include_str!("../../presets/firewall-path.ron")),
];

/// Name and RON text of every bundled lab exercise (`presets/labs/`), in teaching order.
pub const LABS: &[(&str, &str)] = &[
    ("lab-01-three-way-open", include_str!("../../presets/labs/lab-01-three-way-open.ron")),
    ("lab-02-seq-ack-plus-one", include_str!("../../presets/labs/lab-02-seq-ack-plus-one.ron")),
    ("lab-03-rst-closed-port", include_str!("../../presets/labs/lab-03-rst-closed-port.ron")),
    ("lab-04-half-open", include_str!("../../presets/labs/lab-04-half-open.ron")),
    ("lab-05-fin-close", include_str!("../../presets/labs/lab-05-fin-close.ron")),
    ("lab-06-urg-psh-data", include_str!("../../presets/labs/lab-06-urg-psh-data.ron")),
    ("lab-07-who-waits", include_str!("../../presets/labs/lab-07-who-waits.ron")),
    ("lab-08-close-wait", include_str!("../../presets/labs/lab-08-close-wait.ron")),
    ("lab-09-simultaneous-close", include_str!("../../presets/labs/lab-09-simultaneous-close.ron")),
    ("lab-10-peer-resets", include_str!("../../presets/labs/lab-10-peer-resets.ron")),
];

/// The bundled preset or lab of that name.
pub fn builtin(name: &str) -> Option<Result<Preset, PresetError>> {
    BUILTIN.iter().chain(LABS).find(|(n, _)| *n == name).map(|(n, src)| load_str(src, &format!("<builtin:{n}>")))
}

/// Every bundled lab, loaded (a lab that does not load is left out; the lab tests catch that).
pub fn labs() -> Vec<(&'static str, Preset)> {
    LABS.iter().filter_map(|(n, src)| load_str(src, &format!("<builtin:{n}>")).ok().map(|p| (*n, p))).collect()
}

/// Every bundled preset's name.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    /// Every bundled preset and lab reads in Korean too: description and explanation translated, not English.
    #[test]
    fn every_bundled_preset_is_described_in_korean() {
        for (name, _) in BUILTIN.iter().chain(LABS) {
            let p = match builtin(name) {
                Some(Ok(p)) => p,
                other => panic!("{name} does not load: {other:?}"),
            };
            for (ko, en) in [(p.description_in(Lang::Ko), &p.description), (p.explain_in(Lang::Ko), &p.explain)] {
                assert_ne!(ko, en.as_str(), "{name}: not translated");
                assert!(ko.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c)), "{name}: no Hangul in {ko:?}");
            }
            assert_eq!(p.description_in(Lang::En), p.description);
        }
    }
}
