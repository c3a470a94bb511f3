//! Plain-language notes for timeline arrows: a key chosen from the segment and its context, plus values, rendered
//! from the per-language catalogs in `assets/i18n/` (keys `note.*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::timeline::{Dir, TimelineEvent};
use crate::i18n::{self, Lang};
use crate::link::Origin;

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
        "syn_open" | "syn_open_chosen" | "synack" | "synack_ours" => &["handshake", "why_random_isn"],
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

/// Why the last segment we crafted got no answer, when the rules say it should get none: the note for the
/// timeline's end. `filtered` lists the ports the (simulated) host drops everything on. `None` while an answer
/// came after it, or when nothing was sent.
pub fn silence(events: &[TimelineEvent], filtered: &[u16]) -> Option<Note> {
    let last = events.iter().rposition(|e| e.origin == Origin::Crafted)?;
    if events[last + 1..].iter().any(|e| e.dir == Dir::In) {
        return None;
    }
    let s = events[last].segment.as_ref()?;
    let f = s.tcp.flags;
    let overlapped = || {
        let e = &events[last];
        crate::wire::fragment::copies(e.fragments.iter().map(|f| &f.bytes[..]), &e.bytes).contains(&true)
    };
    let key = if !s.ip_checksum_ok() || !s.tcp_checksum_ok() && !s.tcp.checksum_offloaded {
        "silence_checksum"
    } else if overlapped() {
        "silence_frag_overlap"
    } else if filtered.contains(&s.tcp.dport) {
        "silence_filtered"
    } else if f.rst {
        "silence_rst"
    } else if f.syn && f.fin {
        "silence_syn_fin"
    } else if !f.syn && !f.ack {
        "silence_no_syn_ack"
    } else if f.syn || f.fin || !s.payload.is_empty() || !events.iter().any(|e| e.dir == Dir::In) {
        // Each of these gets an answer from a listening or a closed port: a SYN-ACK, an ACK, a RST.
        "silence_unexplained"
    } else {
        // A bare ACK inside a connection asks for nothing back.
        return None;
    };
    Some(Note::new(key, &[("port", s.tcp.dport.to_string()), ("flags", f.wireshark())]))
}

/// Says "chosen" instead of "random" on the notes of our SYNs whose ISN was set by hand: `chosen` tells, from the
/// step that sent it (`None`: the editor's segment, sent once), whether that step's sequence number was typed
/// rather than drawn at random.
pub fn mark_chosen_isn(events: &mut [TimelineEvent], chosen: impl Fn(Option<usize>) -> bool) {
    for e in events.iter_mut().filter(|e| e.origin == Origin::Crafted && e.note.key == "syn_open") {
        if chosen(e.step) {
            e.note.key = "syn_open_chosen".into();
        }
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

#[cfg(test)]
mod silence_tests {
    #![allow(clippy::unwrap_used)]
    use super::silence;
    use crate::exchange::timeline::Timeline;
    use crate::i18n::Lang;
    use crate::link::{Captured, Origin};
    use crate::wire::{self, SegmentSpec, TcpFlags};

    fn crafted(spec: &SegmentSpec) -> Captured {
        let bytes = wire::build(spec).unwrap();
        let segment = wire::parse(&bytes).ok();
        Captured { t: 0, origin: Origin::Crafted, segment, icmp: None, bytes }
    }

    #[test]
    fn a_syn_fin_met_with_silence_names_the_rule_in_both_languages() {
        let mut spec = SegmentSpec::default();
        spec.tcp.flags = TcpFlags::from_bits(0x03);
        let mut tl = Timeline::new(0);
        tl.push(crafted(&spec), Some(0));
        let note = silence(&tl.events, &[]).unwrap();
        assert_eq!(note.key, "silence_syn_fin");
        assert!(note.render_in(Lang::En).contains("SYN and FIN"), "{}", note.render_in(Lang::En));
        let ko = note.render_in(Lang::Ko);
        assert!(ko.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{ko}");
    }

    #[test]
    fn a_bad_checksum_wins_and_an_answer_means_no_silence() {
        let mut spec = SegmentSpec::default();
        spec.tcp.checksum = wire::Checksum::Bad;
        let mut tl = Timeline::new(0);
        tl.push(crafted(&spec), Some(0));
        assert_eq!(silence(&tl.events, &[]).unwrap().key, "silence_checksum");
        spec.tcp.checksum = wire::Checksum::Auto;
        let mut tl = Timeline::new(0);
        tl.push(crafted(&spec), Some(0));
        assert_eq!(silence(&tl.events, &[spec.tcp.dport]).unwrap().key, "silence_filtered");
        let mut reply = crafted(&spec);
        reply.origin = Origin::Peer;
        tl.push(reply, None);
        assert!(silence(&tl.events, &[]).is_none());
        // The handshake's last ACK asks for nothing back: no silence to explain.
        spec.tcp.flags = TcpFlags::from_bits(0x10);
        tl.push(crafted(&spec), Some(2));
        assert!(silence(&tl.events, &[]).is_none());
    }

    #[test]
    fn fragments_with_an_overlapping_copy_explain_their_silence_and_plain_fragments_do_not() {
        use crate::exchange::timeline::SentFragment;
        use crate::wire::fragment::{fragment, Fragmenting};
        let mut spec = SegmentSpec::default();
        spec.tcp.flags = TcpFlags::SYN;
        let whole = wire::build(&spec).unwrap();
        for (overlap, key) in [(Some(1), "silence_frag_overlap"), (None, "silence_unexplained")] {
            let frags = fragment(&whole, &Fragmenting { size: 8, overlap, ..Fragmenting::default() }, 1).unwrap();
            let mut tl = Timeline::new(0);
            let i = tl.push(crafted(&spec), Some(0));
            tl.events[i].fragments = frags.into_iter().map(|bytes| SentFragment { t_us: 0, bytes }).collect();
            assert_eq!(silence(&tl.events, &[]).unwrap().key, key, "overlap {overlap:?}");
        }
    }
}
