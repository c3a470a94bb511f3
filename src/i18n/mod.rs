//! Languages: every text a user reads (timeline notes, field and flag help, explanations, UI labels, errors shown
//! in the GUI) is data in `assets/i18n/<lang>.ron`, looked up by a stable key. English is the fallback for a key
//! a translation lacks; a test keeps both files on the same keys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A language tcpcraft speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean (한국어).
    Ko,
}

impl Lang {
    /// Every language, in menu order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    /// The language's own name, for menus.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ko => "한국어",
        }
    }

    /// The language a locale string (`ko_KR.UTF-8`, `en_US`, `C`) asks for.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("ko") {
            Lang::Ko
        } else {
            Lang::En
        }
    }

    /// The language of this process's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, in that order).
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .map_or(Lang::En, |v| Lang::from_locale(&v))
    }

    /// The plural category of `n` (CLDR's names): English has `one` and `other`; Korean has no plural, so every
    /// count is `other`. A counted text is stored under `key_one` / `key_other`.
    pub fn plural(self, n: u64) -> &'static str {
        match self {
            Lang::En if n == 1 => "one",
            Lang::En | Lang::Ko => "other",
        }
    }

    fn catalog(self) -> &'static BTreeMap<String, String> {
        static EN: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        static KO: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        match self {
            Lang::En => EN.get_or_init(|| merged(&EN_FILES)),
            Lang::Ko => KO.get_or_init(|| merged(&KO_FILES)),
        }
    }
}

/// The English catalog files as shipped: notes, fields, flags and explanations; UI labels; labs.
pub const EN_FILES: [(&str, &str); 3] = [
    ("en/core.ron", include_str!("../../assets/i18n/en/core.ron")),
    ("en/ui.ron", include_str!("../../assets/i18n/en/ui.ron")),
    ("en/lab.ron", include_str!("../../assets/i18n/en/lab.ron")),
];
/// The Korean catalog files as shipped (the same files, keys and placeholders as English).
pub const KO_FILES: [(&str, &str); 3] = [
    ("ko/core.ron", include_str!("../../assets/i18n/ko/core.ron")),
    ("ko/ui.ron", include_str!("../../assets/i18n/ko/ui.ron")),
    ("ko/lab.ron", include_str!("../../assets/i18n/ko/lab.ron")),
];

/// Parses and merges a language's files; a broken file contributes nothing (the catalog test fails on it).
fn merged(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().flat_map(|(_, text)| parse_catalog(text).unwrap_or_default()).collect()
}

/// Parses a catalog file: a RON map from key to text.
pub fn parse_catalog(text: &str) -> Result<BTreeMap<String, String>, ron::error::SpannedError> {
    ron::from_str(text)
}

static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Sets the language the UI and notes use from now on.
pub fn set(lang: Lang) {
    CURRENT.store(lang as u8, Ordering::Relaxed);
}

/// The language in use.
pub fn current() -> Lang {
    if CURRENT.load(Ordering::Relaxed) == Lang::Ko as u8 {
        Lang::Ko
    } else {
        Lang::En
    }
}

/// The text for `key` in `lang`, else in English; `None` when neither has it.
pub fn get_in(lang: Lang, key: &str) -> Option<&'static str> {
    lang.catalog().get(key).or_else(|| Lang::En.catalog().get(key)).map(String::as_str)
}

/// The text for `key` in the current language (English fallback); `None` when no catalog has it.
pub fn get(key: &str) -> Option<&'static str> {
    get_in(current(), key)
}

/// The text for `key` in the current language; the key itself when it is missing everywhere.
pub fn t(key: &str) -> &str {
    get(key).unwrap_or(key)
}

/// The text for `key` with `{name}` placeholders filled in.
pub fn tf(key: &str, args: &[(&str, &str)]) -> String {
    fill(t(key), args)
}

/// The counted text for `key` in the current language: `key_one` or `key_other` as the language's plural rule
/// says for `n`, with `{n}` and the other placeholders filled in ("1 event", "2 events"; Korean "이벤트 1개").
pub fn tn(key: &str, n: u64, args: &[(&str, &str)]) -> String {
    let lang = current();
    let form = format!("{key}_{}", lang.plural(n));
    let template = get_in(lang, &form).or_else(|| get_in(lang, &format!("{key}_other"))).unwrap_or(key);
    let count = n.to_string();
    let mut all = vec![("n", count.as_str())];
    all.extend_from_slice(args);
    fill(template, &all)
}

/// Fills `{name}` placeholders in a template.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Every key of a language's catalog.
pub fn keys(lang: Lang) -> impl Iterator<Item = &'static str> {
    lang.catalog().keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<&str> {
        let mut v: Vec<&str> = s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(k, _)| k)).collect();
        v.sort_unstable();
        v
    }

    fn all(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (name, text) in files {
            let map = parse_catalog(text).unwrap_or_else(|e| panic!("assets/i18n/{name}: {e}"));
            for (k, v) in map {
                assert!(out.insert(k.clone(), v).is_none(), "{k} is defined twice ({name})");
            }
        }
        out
    }

    #[test]
    fn every_key_exists_in_both_languages_with_the_same_placeholders() {
        let en = all(&EN_FILES);
        let ko = all(&KO_FILES);
        // Korean has one plural form: it needs a counted text's `_other` only (`tn` never asks it for `_one`). A
        // counted text is a `key_one` with a `key_other` beside it (`ui.top.send_one` is no such thing).
        let counted = |k: &str| k.strip_suffix("_one").is_some_and(|b| en.contains_key(&format!("{b}_other")));
        let ko_needs = |k: &&String| !(counted(k) && Lang::Ko.plural(1) == "other");
        let missing_ko: Vec<_> = en.keys().filter(ko_needs).filter(|k| !ko.contains_key(*k)).collect();
        let missing_en: Vec<_> = ko.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing_ko.is_empty(), "keys missing from ko.ron: {missing_ko:?}");
        assert!(missing_en.is_empty(), "keys in ko.ron that en.ron lacks: {missing_en:?}");
        for (k, e) in en.iter().filter(|(k, _)| ko.contains_key(*k)) {
            assert_eq!(placeholders(e), placeholders(&ko[k]), "placeholders of {k} differ");
            assert!(!ko[k].trim().is_empty(), "{k} is empty in ko.ron");
        }
    }

    #[test]
    fn korean_really_is_korean() {
        let ko = all(&KO_FILES);
        let hangul = ko.values().filter(|v| v.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))).count();
        assert!(hangul * 10 >= ko.len() * 8, "only {hangul} of {} Korean texts contain Hangul", ko.len());
    }

    /// Latin words a Korean text may keep, whole and case-sensitive (besides the preset language's own names,
    /// [`crate::preset::expr::OWN_NAMES`]). Everything else in ASCII letters, three or more in a row, is English a
    /// Korean student would have to read.
    const LATIN_OK: &[&str] = &[
        // Protocols, header fields, flags, options and states in the spelling of the RFCs, of capture tools and of
        // the students' study notes.
        "TCP",
        "IPv4",
        "IPv6",
        "ICMP",
        "HTTP",
        "SSH",
        "RFC",
        "SYN",
        "ACK",
        "FIN",
        "RST",
        "PSH",
        "URG",
        "ECE",
        "CWR",
        "ECN",
        "DSCP",
        "IHL",
        "TTL",
        "TOS",
        "MTU",
        "MSS",
        "ISN",
        "SACK",
        "TFO",
        "EOL",
        "NOP",
        "RTT",
        "PAWS",
        "TSval",
        "TSecr",
        "ESTABLISHED",
        // The other RFC 9293 state names, word by word (SYN-SENT, FIN-WAIT-1, CLOSE-WAIT, LAST-ACK, TIME-WAIT...).
        "CLOSED",
        "LISTEN",
        "SENT",
        "RECEIVED",
        "WAIT",
        "CLOSE",
        "CLOSING",
        "LAST",
        "TIME",
        // seq/ack as field abbreviations before a Korean word; "3-way" as the study note writes the handshake.
        "seq",
        "ack",
        "3-way",
        // File formats a user picks by name.
        "pcap",
        "CSV",
        // What a student types into a step: the labs' name for a bound reply, the reply patterns any and icmp.
        "peer",
        "any",
        "icmp",
        // Keys as printed on the keyboard.
        "Ctrl",
        "Shift",
        // Names of programs, systems and the PATH variable, which have no Korean name.
        "tcpcraft",
        "tcpcraft-link",
        "Wireshark",
        "Npcap",
        "ChmodBPF",
        "dumpcap",
        "nftables",
        "nmap",
        "traceroute",
        "zenity",
        "xdg-desktop-portal",
        "D-Bus",
        "Linux",
        "BSD",
        "Debian",
        "PATH",
    ];

    /// The English words left in a Korean text: what remains after taking out `{placeholders}`, code in
    /// backticks (commands to type), ASCII-only "quoted" literals (values to type, like "SA" or "hello"), paths,
    /// dotted or underscored identifiers (`peer.seq`, `npcap.com`, `TCPCRAFT_LINK`), command-line options
    /// (`--guard`), hex numbers, and the words of [`LATIN_OK`].
    fn english_words(text: &str) -> Vec<String> {
        let mut plain = String::new();
        let mut rest = text;
        while let Some((before, after)) = rest.split_once('{') {
            plain.push_str(before);
            match after.split_once('}') {
                Some((name, tail)) if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') => rest = tail,
                _ => {
                    plain.push('{');
                    rest = after;
                }
            }
        }
        plain.push_str(rest);
        let plain: String = plain.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let plain: String = plain
            .split('"')
            .enumerate()
            .filter(|(i, part)| i % 2 == 0 || !part.is_ascii())
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        let mut out = Vec::new();
        let word_char = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
        let allowed = |p: &&str| LATIN_OK.contains(p) || crate::preset::expr::OWN_NAMES.contains(p);
        for token in plain.split(|c: char| !word_char(c)) {
            let token = token.trim_end_matches(['.', '-', '/']);
            if token.is_empty()
                || allowed(&token)
                || token.starts_with(['-', '/'])
                || token.contains(['.', '_'])
                || token.starts_with("0x")
            {
                continue;
            }
            for part in token.split(['-', '/']).filter(|p| !allowed(p)) {
                let longest = part.split(|c: char| !c.is_ascii_alphabetic()).map(str::len).max().unwrap_or(0);
                if longest >= 3 {
                    out.push(part.to_string());
                }
            }
        }
        out
    }

    #[test]
    fn english_words_finds_english_and_passes_protocol_tokens() {
        assert_eq!(english_words("3-way handshake"), ["handshake"]);
        assert_eq!(english_words("3-way 핸드셰이크: SYN, SYN-ACK, ACK (RFC 9293 §3.5)"), Vec::<String>::new());
        assert_eq!(
            english_words("{seq_hex}, 0x1c46, ack = peer.seq + 1, `newgrp {group}`, --guard"),
            Vec::<String>::new()
        );
        assert_eq!(english_words("데이터 \"hello\"를 보내세요, ECN-Echo"), ["Echo"]);
        assert_eq!(english_words("evil(예약 비트), 절대 seq/ack, raw 소켓"), ["evil", "raw"]);
        assert_eq!(english_words("hex 바이트, 16진수"), ["hex"]);
    }

    /// Every text a Korean user reads is Korean: each key of the Korean catalogs and the Korean task, hints and
    /// feedback of every bundled lab (which must have a Korean text at all, or English would show).
    #[test]
    fn korean_texts_have_no_english_words() {
        let mut texts: Vec<(String, String)> = all(&KO_FILES).into_iter().collect();
        for (name, p) in crate::preset::builtin::labs() {
            let ex = p.exercise.as_ref().unwrap_or_else(|| panic!("{name} has no exercise"));
            let mut lab_texts = vec![(format!("{name}: task"), &ex.task)];
            lab_texts.extend(ex.hints.iter().enumerate().map(|(i, h)| (format!("{name}: hint {}", i + 1), h)));
            lab_texts.extend(
                ex.goals.iter().enumerate().map(|(i, g)| (format!("{name}: goal {} feedback", i + 1), &g.feedback)),
            );
            for (key, text) in lab_texts {
                let ko = text.get("ko").unwrap_or_else(|| panic!("{key} has no Korean text"));
                texts.push((key, ko.clone()));
            }
        }
        let english: Vec<String> = texts
            .iter()
            .flat_map(|(key, text)| english_words(text).into_iter().map(move |w| format!("{key}: {w:?}")))
            .collect();
        assert!(english.is_empty(), "English words in Korean texts:\n{}", english.join("\n"));
    }

    #[test]
    fn locale_and_fallback() {
        assert_eq!(Lang::from_locale("ko_KR.UTF-8"), Lang::Ko);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("C"), Lang::En);
        assert_eq!(get_in(Lang::Ko, "no.such.key"), None);
        assert_eq!(fill("a {x} b {x}", &[("x", "1")]), "a 1 b 1");
        assert_eq!((Lang::En.plural(1), Lang::En.plural(0), Lang::En.plural(2)), ("one", "other", "other"));
        assert_eq!(Lang::Ko.plural(1), "other");
    }

    /// Every source file under `src/`, with its text.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let mut out = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
        out
    }

    /// No dead texts: every key outside the computed families (note., field., flag., option., explain., state.) is
    /// written somewhere in the source.
    #[test]
    fn every_literal_key_is_used() {
        let en = all(&EN_FILES);
        let source: String = sources().into_iter().map(|(_, text)| text).collect();
        let computed = ["note.", "field.", "flag.", "option.", "explain.", "state."];
        let unused: Vec<&String> = en
            .keys()
            .filter(|k| !computed.iter().any(|p| k.starts_with(p)))
            // A counted text (`key_one`, `key_other`) is written as its base key, in a `tn("key", …)` call.
            .filter(|k| {
                let base = k.strip_suffix("_one").or_else(|| k.strip_suffix("_other"));
                !source.contains(&format!("\"{k}\"")) && !base.is_some_and(|b| source.contains(&format!("\"{b}\"")))
            })
            .collect();
        assert!(unused.is_empty(), "keys no code uses: {unused:?}");
    }

    /// Every `t("…")`/`tf("…")` key written in the source exists in the English catalog.
    #[test]
    fn every_key_the_code_uses_exists() {
        let en = all(&EN_FILES);
        let mut missing = Vec::new();
        for (p, text) in sources() {
            for call in ["t(\"", "tf(\"", "tn(\""] {
                for (at, _) in text.match_indices(call) {
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue; // e.g. split_target("…")
                    }
                    let rest = &text[at + call.len()..];
                    let Some((key, _)) = rest.split_once('"') else { continue };
                    let is_key =
                        key.contains('.') && key.chars().all(|c| c.is_ascii_lowercase() || "._0123456789".contains(c));
                    // A counted text must have its `other` form.
                    let key = if call == "tn(\"" { format!("{key}_other") } else { key.to_string() };
                    if is_key && !en.contains_key(&key) {
                        missing.push(format!("{}: {key}", p.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys used in code but missing from en.ron: {missing:#?}");
    }
}
