//! Plain-language notes for timeline arrows: a key chosen from the segment and its context, plus values, rendered
//! from the per-language catalogs in `assets/i18n/` (keys `note.*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::i18n::{self, Lang};

/// A note: which explanation, with which values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The template key, e.g. `synack`.
    pub key: String,
    /// Values for the template's `{placeholders}`.
    pub args: BTreeMap<String, String>,
    /// Extra sentences (keys) appended after the main one, e.g. `checksum_bad`.
    pub extra: Vec<String>,
}

/// The longer explanations (`explain.<topic>` in `assets/i18n/`, titled `explain.title.<topic>`) that go with a
/// note, for the detail pane.
pub fn topics(note_key: &str) -> &'static [&'static str] {
    match note_key {
        "syn_open" | "synack" | "synack_ours" => &["handshake", "why_random_isn"],
        "ack_handshake" => &["handshake", "seq_ack"],
        "rst_halfopen" => &["half_open"],
        "data_ours" | "data_peer" | "ack_ours" | "ack_peer" | "ack_fin" | "fin_ours" | "fin_peer" => &["seq_ack"],
        _ => &[],
    }
}

/// The template or phrase for note `key` in `lang` (`note.<key>` in `assets/i18n/`); the key when unknown.
pub fn phrase_in(lang: Lang, key: &str) -> String {
    i18n::get_in(lang, &format!("note.{key}")).map_or_else(|| key.to_string(), str::to_string)
}

/// The template or phrase for note `key` in the current language.
pub fn phrase(key: &str) -> String {
    phrase_in(i18n::current(), key)
}

impl Note {
    /// A note with a key and values.
    pub fn new(key: &str, args: &[(&str, String)]) -> Note {
        Note {
            key: key.into(),
            args: args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            extra: Vec::new(),
        }
    }

    /// The note as text in the current language.
    pub fn render(&self) -> String {
        self.render_in(i18n::current())
    }

    /// The note as text in `lang`. An argument whose value is `@key` is itself a phrase (e.g. `{psh}`).
    pub fn render_in(&self, lang: Lang) -> String {
        let mut out = phrase_in(lang, &self.key);
        for extra in &self.extra {
            out += &phrase_in(lang, extra);
        }
        for (k, v) in &self.args {
            let v = match v.strip_prefix('@') {
                Some(key) => phrase_in(lang, key),
                None => v.clone(),
            };
            out = out.replace(&format!("{{{k}}}"), &v);
        }
        out
    }
}

#[cfg(test)]
mod topic_tests {
    use super::topics;
    use crate::i18n::{get_in, keys, Lang};

    /// Every explanation in the catalogs is reachable from some note, and has a title.
    #[test]
    fn every_explanation_is_reachable_and_titled() {
        let notes: Vec<&str> = keys(Lang::En).filter_map(|k| k.strip_prefix("note.")).collect();
        for topic in keys(Lang::En).filter_map(|k| k.strip_prefix("explain.")).filter(|k| !k.starts_with("title.")) {
            assert!(notes.iter().any(|n| topics(n).contains(&topic)), "explain.{topic} is shown by no note");
            assert!(get_in(Lang::En, &format!("explain.title.{topic}")).is_some(), "explain.{topic} has no title");
        }
    }
}
