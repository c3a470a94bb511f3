//! The preset format (version 1): a named, explained, multi-step TCP exchange, written in RON by hand.
//!
//! ```ron
//! // A 3-way handshake: SYN, expect SYN-ACK, ACK.
//! (
//!     version: 1,
//!     name: "normal-open",
//!     description: "...",
//!     explain: "...",
//!     port: 80,
//!     steps: [
//!         Send((flags: "S", seq: "isn")),
//!         Expect((flags: "SA", ack: "isn + 1", bind: "peer")),
//!         Send((flags: "A", seq: "isn + 1", ack: "peer.seq + 1")),
//!     ],
//! )
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::expr::Expr;
use super::lab_host::LabHost;
use crate::wire::{Payload, SegmentSpec, TcpFlags, TcpOption};

/// The preset format version this build reads and writes.
pub const VERSION: u32 = 1;

/// A multi-step exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Format version; must be 1.
    pub version: u32,
    /// Short name, e.g. `normal-open`.
    pub name: String,
    /// One line on what the preset does.
    #[serde(default)]
    pub description: String,
    /// One or two sentences for students: what to look at and why.
    #[serde(default)]
    pub explain: String,
    /// Default target host (an address or name); absent means the simulated lab host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Default destination port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Whether a raw run needs the kernel-RST guard (because we complete handshakes ourselves).
    #[serde(default)]
    pub guard: bool,
    /// Settings of the simulated lab host for this preset (the `sim` section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim: Option<LabHost>,
    /// The steps, in order. In a lab exercise these are the student's starting point.
    pub steps: Vec<Step>,
    /// Makes the preset a graded lab exercise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<Exercise>,
    /// The description and explanation in other languages, keyed by language code (e.g. `"ko"`); English is
    /// the fields above.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub translated: std::collections::BTreeMap<String, Translation>,
}

/// A preset's description and explanation in another language.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    /// One line on what the preset does.
    #[serde(default)]
    pub description: String,
    /// One or two sentences for students.
    #[serde(default)]
    pub explain: String,
}

impl Preset {
    /// One line on what the preset does, in `lang` where translated, else English.
    pub fn description_in(&self, lang: crate::i18n::Lang) -> &str {
        self.translation(lang).map(|t| t.description.as_str()).filter(|s| !s.is_empty()).unwrap_or(&self.description)
    }

    /// The explanation for students, in `lang` where translated, else English.
    pub fn explain_in(&self, lang: crate::i18n::Lang) -> &str {
        self.translation(lang).map(|t| t.explain.as_str()).filter(|s| !s.is_empty()).unwrap_or(&self.explain)
    }

    fn translation(&self, lang: crate::i18n::Lang) -> Option<&Translation> {
        self.translated.get(lang_code(lang))
    }
}

/// The code a language is keyed by in presets: `en`, `ko`.
fn lang_code(lang: crate::i18n::Lang) -> &'static str {
    match lang {
        crate::i18n::Lang::En => "en",
        crate::i18n::Lang::Ko => "ko",
    }
}

/// A text in several languages, keyed by language code (`en` is required; `ko` is optional).
pub type Text = std::collections::BTreeMap<String, String>;

/// The text of `t` in `lang`, else English, else empty.
pub fn text_in(t: &Text, lang: crate::i18n::Lang) -> &str {
    t.get(lang_code(lang)).or_else(|| t.get("en")).map_or("", String::as_str)
}

/// A lab exercise: the task, hints, what the run must show, and a reference solution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// What the student must make happen.
    pub task: Text,
    /// Hints, shown one at a time on request.
    #[serde(default)]
    pub hints: Vec<Text>,
    /// What the run must show; each unmet goal shows its feedback.
    pub goals: Vec<Goal>,
    /// Steps that reach every goal (for instructors and `lab check --solution`).
    pub solution: Vec<Step>,
}

/// One graded outcome, with the feedback a student sees when it is not reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// What is checked.
    pub check: Check,
    /// What to tell the student when the check fails.
    pub feedback: Text,
}

/// A check on a finished run's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Check {
    /// The peer sent a segment with exactly these flags (letters, e.g. `"SA"`, `"RA"`).
    PeerSent(Flags),
    /// The peer sent no segment with any of these flags set (e.g. `"R"`: never reset us).
    PeerNever(Flags),
    /// We sent a segment with exactly these flags.
    WeSent(Flags),
    /// We sent no segment with exactly these flags.
    WeNever(Flags),
    /// The peer acknowledged our bytes up to this relative sequence number (SYN = 1, then data, FIN).
    PeerAcked(u32),
    /// We acknowledged the peer's FIN (ack = its FIN's seq + 1).
    WeAckedFin,
    /// Every `Expect` step of the run was met.
    ExpectsMet,
    /// Our end passed through this state (as a conforming stack would, from what was sent and received).
    WeReached(crate::wire::tcp_state::TcpState),
    /// The server's end passed through this state.
    PeerReached(crate::wire::tcp_state::TcpState),
    /// The server's end was in this state when the run ended (it stayed there).
    PeerEndedIn(crate::wire::tcp_state::TcpState),
}

fn default_port() -> u16 {
    80
}

/// One step of a preset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// Send a segment built from the template.
    Send(Box<SendTemplate>),
    /// Wait for a reply that matches, or fail at the time limit.
    Expect(ExpectStep),
    /// Pass only if nothing of the flow arrives within the time (a filtered port, a silent open port).
    ExpectNothing {
        /// How long to listen.
        within_ms: u64,
    },
    /// Wait this many milliseconds.
    Sleep(u64),
    /// The peer's application acts on the connection (on the simulated lab host): a preset with such steps
    /// scripts the peer, which then does nothing by itself (no answer to data, no close after ours).
    Peer(PeerAction),
}

/// What the peer's application does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PeerAction {
    /// Write data (text or hex).
    Send(Payload),
    /// Close the connection (FIN): the peer closes first.
    Close,
    /// Abort the connection (RST).
    Abort,
    /// Stop reading: received data piles up and the advertised window shrinks to zero.
    StopReading,
    /// Read again (the window opens).
    ResumeReading,
    /// Do nothing: the application never answers and never closes (a scripted peer that only accepted).
    Nothing,
}

impl Step {
    /// The step's kind as a word, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Send(_) => "Send",
            Step::Expect(_) => "Expect",
            Step::ExpectNothing { .. } => "ExpectNothing",
            Step::Sleep(_) => "Sleep",
            Step::Peer(_) => "Peer",
        }
    }
}

/// A segment to send: flags, numbers as expressions, options and payload; every other header field can be set
/// through `spec` (addresses, ports, numbers, flags, options and payload there are replaced by the template's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SendTemplate {
    /// Flags as letters: `S`, `SA`, `A`, `PA`, `FA`, `R`, `""` (F S R P A U E C N).
    pub flags: Flags,
    /// Sequence number; default `next` (right after what we sent last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<Expr>,
    /// Acknowledgment number; default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<Expr>,
    /// Source port; default the run's port (`sport`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<Expr>,
    /// Destination port; default the target's port (`dport`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<Expr>,
    /// Window; default 64240.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Expr>,
    /// Urgent pointer; default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent: Option<Expr>,
    /// TCP options, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<TcpOption>,
    /// Payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// Every other field, set by hand (IP header, checksums, reserved bits, data offset, padding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<Box<SegmentSpec>>,
    /// Send the segment as IP fragments: `(size: 8, order: reverse, overlap: Some(1))`; `order: given([2, 0, 1])`
    /// lists the pieces in sending order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<crate::wire::fragment::Fragmenting>,
}

/// Flags written as letters in a preset; checked when read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(pub TcpFlags);

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.letters())
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flags, D::Error> {
        let s = String::deserialize(d)?;
        TcpFlags::parse_letters(&s).map(Flags).map_err(|c| {
            serde::de::Error::custom(format!(
                "flags \"{s}\": '{c}' is not a flag letter (F S R P A U E C N) or is repeated"
            ))
        })
    }
}

/// What an `Expect` step waits for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    /// Which flags match: `SA`, `RA|R`, `A*` (at least A), `any`, or `icmp`.
    pub flags: FlagPattern,
    /// How long to wait.
    #[serde(default = "default_within")]
    pub within_ms: u64,
    /// The name the matching reply is bound to for later expressions (`peer.seq`); default `peer`.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// The acknowledgment number the reply must carry, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Expr>,
    /// The least payload the reply must carry, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_len: Option<usize>,
}

fn default_within() -> u64 {
    1000
}

fn default_bind() -> String {
    "peer".into()
}

/// One alternative of a flag pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagAlt {
    /// Exactly these flags.
    Exact(TcpFlags),
    /// At least these flags (written with a trailing `*`).
    AtLeast(TcpFlags),
    /// Any TCP segment.
    Any,
    /// An ICMP error about the flow.
    Icmp,
}

/// Alternatives separated by `|`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagPattern(pub Vec<FlagAlt>);

impl FlagPattern {
    /// Parses `SA`, `RA|R`, `A*`, `any`, `icmp`.
    pub fn parse(s: &str) -> Result<FlagPattern, String> {
        let alts = s
            .split('|')
            .map(|a| {
                let a = a.trim();
                match a.to_ascii_lowercase().as_str() {
                    "any" => return Ok(FlagAlt::Any),
                    "icmp" => return Ok(FlagAlt::Icmp),
                    _ => {}
                }
                let (letters, at_least) = match a.strip_suffix('*') {
                    Some(l) => (l, true),
                    None => (a, false),
                };
                let f = TcpFlags::parse_letters(letters)
                    .map_err(|c| format!("flag pattern \"{s}\": '{c}' is not a flag letter (F S R P A U E C N)"))?;
                Ok(if at_least { FlagAlt::AtLeast(f) } else { FlagAlt::Exact(f) })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(FlagPattern(alts))
    }

    /// Whether a TCP segment with these flags matches.
    pub fn matches(&self, f: TcpFlags) -> bool {
        self.0.iter().any(|a| match a {
            FlagAlt::Exact(x) => *x == f,
            FlagAlt::AtLeast(x) => f.bits() & x.bits() == x.bits(),
            FlagAlt::Any => true,
            FlagAlt::Icmp => false,
        })
    }

    /// Whether an ICMP error matches.
    pub fn matches_icmp(&self) -> bool {
        self.0.contains(&FlagAlt::Icmp)
    }
}

impl fmt::Display for FlagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|a| match a {
                FlagAlt::Exact(x) => x.letters(),
                FlagAlt::AtLeast(x) => format!("{}*", x.letters()),
                FlagAlt::Any => "any".into(),
                FlagAlt::Icmp => "icmp".into(),
            })
            .collect();
        f.write_str(&parts.join("|"))
    }
}

impl Serialize for FlagPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for FlagPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FlagPattern, D::Error> {
        FlagPattern::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_patterns() {
        let p = FlagPattern::parse("SA|R*").unwrap();
        assert!(p.matches(TcpFlags::SYN_ACK));
        assert!(p.matches(TcpFlags::RST_ACK));
        assert!(!p.matches(TcpFlags::SYN));
        assert_eq!(p.to_string(), "SA|R*");
        assert!(FlagPattern::parse("icmp").unwrap().matches_icmp());
        assert!(FlagPattern::parse("any").unwrap().matches(TcpFlags::from_bits(0)));
        assert!(FlagPattern::parse("SX").is_err());
        assert!(FlagPattern::parse("").unwrap().matches(TcpFlags::from_bits(0)), "empty = no flags at all");
    }
}
