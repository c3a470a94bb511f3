//! The timeline of a run: every captured segment of the flow in time order, with relative sequence numbers
//! (against each side's ISN, as Wireshark shows them), the RTT to the segment it answers, a plain-language note,
//! and the verdict of every expectation. Time is given to it; it never reads a clock.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::notes::Note;
use crate::link::{Captured, IcmpError, Origin};
use crate::wire::seq::{next_seq, relative};
use crate::wire::{Segment, TcpFlags};

/// Which way an arrow points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// From us (crafted, or our kernel) to the peer.
    Out,
    /// From the peer (or an ICMP error) to us.
    In,
}

/// One arrow of the ladder diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEvent {
    /// Microseconds since the run's first send.
    pub t_us: u64,
    /// Direction.
    pub dir: Dir,
    /// Who sent it.
    pub origin: Origin,
    /// The preset step that sent it (crafted segments) or matched it (expected replies), 0-based.
    pub step: Option<usize>,
    /// The TCP segment (absent for ICMP errors).
    pub segment: Option<Segment>,
    /// The ICMP error, for `Origin::Icmp`.
    pub icmp: Option<IcmpError>,
    /// Sequence number relative to its sender's ISN.
    pub rel_seq: u32,
    /// Acknowledgment number relative to the other side's ISN.
    pub rel_ack: u32,
    /// Time since the segment this one answers, for replies.
    pub rtt_us: Option<u64>,
    /// What the segment does here, in plain words.
    pub note: Note,
    /// The datagram as captured (for a segment we sent in fragments, the whole datagram before fragmenting).
    pub bytes: Vec<u8>,
    /// The fragments this segment went out as, in the order sent (empty when it went out whole).
    pub fragments: Vec<SentFragment>,
}

/// One IP fragment of a crafted segment, as it went on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentFragment {
    /// Microseconds since the run's first send.
    pub t_us: u64,
    /// The fragment's datagram.
    pub bytes: Vec<u8>,
}

impl SentFragment {
    /// Where it sits in the datagram (offset, length, more-fragments).
    pub fn info(&self) -> Option<crate::wire::fragment::FragInfo> {
        crate::wire::fragment::info(&self.bytes)
    }
}

impl TimelineEvent {
    /// The flags, or none for ICMP.
    pub fn flags(&self) -> TcpFlags {
        self.segment.as_ref().map(|s| s.tcp.flags).unwrap_or_default()
    }

    /// The datagrams as they were on the wire, with their times: the fragments when it was sent in fragments, else
    /// the datagram itself (what a pcap export writes).
    pub fn on_wire(&self) -> Vec<(u64, &[u8])> {
        if self.fragments.is_empty() {
            vec![(self.t_us, &self.bytes[..])]
        } else {
            self.fragments.iter().map(|f| (f.t_us, &f.bytes[..])).collect()
        }
    }

    /// "sent as 3 IPv4 fragments: 0+8 8+8 16+4" ([`crate::wire::fragment::describe`]), or `None` when it went
    /// out whole.
    pub fn fragments_summary(&self) -> Option<String> {
        (!self.fragments.is_empty())
            .then(|| crate::wire::fragment::describe(self.fragments.iter().map(|f| &f.bytes[..]), &self.bytes))
    }
}

/// The outcome of one `Expect` or `ExpectNothing` step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepVerdict {
    /// The step, 0-based.
    pub step: usize,
    /// `Expect` or `ExpectNothing`.
    pub kind: String,
    /// Whether it was met.
    pub pass: bool,
    /// What was seen.
    pub detail: String,
    /// The timeline event that met it.
    pub event: Option<usize>,
}

/// Every event and verdict of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Events in time order. Add them with [`Timeline::push`] only: it keeps the index that makes each push O(1).
    pub events: Vec<TimelineEvent>,
    /// Verdicts in step order.
    pub verdicts: Vec<StepVerdict>,
    /// Link time of the first send (event times are relative to it).
    pub t0: u64,
    /// Our ISN (the first sequence number we used).
    pub our_isn: Option<u32>,
    /// The peer's ISN (from its SYN, else its first segment).
    pub peer_isn: Option<u32>,
    /// What [`Timeline::push`] needs to know about earlier events, so it never scans them.
    seen: Seen,
}

/// What a push looks up about the events before it (each field answers one question the notes and RTTs ask),
/// kept up to date by [`Timeline::push`] so a timeline of n segments is built in O(n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Seen {
    /// The latest crafted event.
    last_crafted: Option<usize>,
    /// The latest crafted segment by the sequence number that acknowledges it exactly (its `next_seq`).
    crafted_by_next: HashMap<u32, usize>,
    /// The latest crafted segment by its own sequence number (what an ICMP error quotes).
    crafted_by_seq: HashMap<u32, usize>,
    /// Whether the peer has sent a SYN-ACK (flags exactly SYN+ACK).
    peer_syn_ack: bool,
    /// Whether we crafted a segment with ACK and without SYN.
    we_acked: bool,
    /// Whether we crafted a bare SYN (flags exactly SYN).
    crafted_syn: bool,
    /// The latest segment from the peer's side with FIN.
    peer_fin: Option<usize>,
}

impl Seen {
    /// Records event `i`, just pushed.
    fn record(&mut self, i: usize, e: &TimelineEvent) {
        let f = e.flags();
        if e.origin == Origin::Crafted {
            self.last_crafted = Some(i);
            if let Some(s) = &e.segment {
                self.crafted_by_next.insert(next_seq(s.tcp.seq, s.tcp.flags, s.payload.len()), i);
                self.crafted_by_seq.insert(s.tcp.seq, i);
            }
            self.we_acked |= f.ack && !f.syn;
            self.crafted_syn |= f == TcpFlags::SYN;
        }
        if e.dir == Dir::In {
            self.peer_syn_ack |= f == TcpFlags::SYN_ACK;
            if f.fin {
                self.peer_fin = Some(i);
            }
        }
    }
}

impl Timeline {
    /// An empty timeline whose times count from link time `t0`.
    pub fn new(t0: u64) -> Timeline {
        Timeline { t0, ..Timeline::default() }
    }

    /// Whether every expectation was met (and there was at least one step that ran).
    pub fn pass(&self) -> bool {
        self.verdicts.iter().all(|v| v.pass)
    }

    /// Adds a captured datagram; `step` is the step that sent it, if known. Returns its index.
    pub fn push(&mut self, c: Captured, step: Option<usize>) -> usize {
        let dir = match c.origin {
            Origin::Crafted | Origin::LocalKernel => Dir::Out,
            Origin::Peer | Origin::Icmp => Dir::In,
        };
        let t_us = c.t.saturating_sub(self.t0);
        let (mut rel_seq, mut rel_ack) = (0, 0);
        if let Some(s) = &c.segment {
            let f = s.tcp.flags;
            // Each side's first segment gives its ISN (its SYN, when the exchange starts properly).
            match dir {
                Dir::Out if c.origin == Origin::Crafted => {
                    self.our_isn.get_or_insert(s.tcp.seq);
                }
                Dir::In => {
                    self.peer_isn.get_or_insert(s.tcp.seq);
                }
                Dir::Out => {}
            }
            let (mine, theirs) = match dir {
                Dir::Out => (self.our_isn, self.peer_isn),
                Dir::In => (self.peer_isn, self.our_isn),
            };
            rel_seq = relative(s.tcp.seq, mine.unwrap_or(s.tcp.seq));
            rel_ack = if f.ack { theirs.map_or(s.tcp.ack, |isn| relative(s.tcp.ack, isn)) } else { 0 };
        }
        let rtt_us =
            (dir == Dir::In).then(|| self.answered(&c)).flatten().map(|i| t_us.saturating_sub(self.events[i].t_us));
        let note = self.note_for(&c, dir, rel_seq, rel_ack);
        let i = self.events.len();
        self.events.push(TimelineEvent {
            t_us,
            dir,
            origin: c.origin,
            step,
            segment: c.segment,
            icmp: c.icmp,
            rel_seq,
            rel_ack,
            rtt_us,
            note,
            bytes: c.bytes,
            fragments: Vec::new(),
        });
        self.seen.record(i, &self.events[i]);
        i
    }

    /// The index of our segment that `c` answers: the latest one it acknowledges exactly, else the latest one.
    fn answered(&self, c: &Captured) -> Option<usize> {
        let acked = c.segment.as_ref().filter(|s| s.tcp.flags.ack).map(|s| s.tcp.ack);
        let quoted = c.icmp.as_ref().and_then(|i| i.quoted_seq);
        let by_ack = acked.and_then(|a| self.seen.crafted_by_next.get(&a).copied());
        let by_quote = quoted.and_then(|q| self.seen.crafted_by_seq.get(&q).copied());
        by_ack.max(by_quote).or(self.seen.last_crafted)
    }

    /// Chooses and fills the plain-language note for a segment in this context.
    fn note_for(&self, c: &Captured, dir: Dir, rel_seq: u32, rel_ack: u32) -> Note {
        if let Some(i) = &c.icmp {
            return Note::new(
                "icmp",
                &[
                    ("meaning", i.describe().to_string()),
                    ("from", i.from.to_string()),
                    ("type", i.icmp_type.to_string()),
                    ("code", i.code.to_string()),
                ],
            );
        }
        let Some(s) = &c.segment else { return Note::new("other", &[("flags", "?".into())]) };
        let f = s.tcp.flags;
        let len = s.payload.len();
        let sent_syn_ack_seen = self.seen.peer_syn_ack;
        let we_acked = self.seen.we_acked;
        let peer_fin = self.seen.peer_fin.and_then(|i| self.events.get(i));
        let psh = if f.psh { "@psh".to_string() } else { String::new() };
        let args = |extra: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
            let mut v = vec![
                ("seq", s.tcp.seq.to_string()),
                ("seq_hex", format!("{:#010x}", s.tcp.seq)),
                ("ack", s.tcp.ack.to_string()),
                ("rel_seq", rel_seq.to_string()),
                ("rel_ack", rel_ack.to_string()),
                ("sport", s.tcp.sport.to_string()),
                ("len", len.to_string()),
                ("urgent", s.tcp.urgent.to_string()),
                ("flags", f.wireshark()),
                ("psh", psh.clone()),
            ];
            v.extend(extra.iter().cloned());
            v
        };
        let key = match (c.origin, dir) {
            (Origin::LocalKernel, _) if f.rst => "rst_kernel",
            (_, Dir::Out) => {
                if f.syn && f.ack {
                    "synack_ours"
                } else if f.syn {
                    "syn_open"
                } else if f.rst {
                    if sent_syn_ack_seen && !we_acked {
                        "rst_halfopen"
                    } else {
                        "rst_abort"
                    }
                } else if len > 0 {
                    "data_ours"
                } else if f.fin && !f.ack {
                    if f.psh && f.urg {
                        "xmas_probe"
                    } else {
                        "fin_probe"
                    }
                } else if f.fin {
                    "fin_ours"
                } else if f.bits() == 0 {
                    "null_probe"
                } else if f.ack
                    && !we_acked
                    && sent_syn_ack_seen
                    && Some(s.tcp.ack) == self.peer_isn.map(|i| i.wrapping_add(1))
                {
                    "ack_handshake"
                } else if f.ack
                    && peer_fin
                        .and_then(|e| e.segment.as_ref())
                        .is_some_and(|p| s.tcp.ack == next_seq(p.tcp.seq, p.tcp.flags, p.payload.len()))
                {
                    "ack_fin"
                } else if f.ack && self.peer_isn.is_none() {
                    "ack_probe"
                } else {
                    "ack_ours"
                }
            }
            (_, Dir::In) => {
                if f.syn && f.ack {
                    "synack"
                } else if f.rst && f.ack && self.seen.crafted_syn && !sent_syn_ack_seen {
                    "rst_closed"
                } else if f.rst {
                    "rst_peer"
                } else if len > 0 {
                    "data_peer"
                } else if f.fin {
                    "fin_peer"
                } else if f.ack {
                    "ack_peer"
                } else {
                    "other"
                }
            }
        };
        let next_rel = rel_seq.wrapping_add(len as u32);
        let mut note = Note::new(key, &args(&[("next_rel", next_rel.to_string())]));
        if f.urg {
            note.extra.push("urg".into());
        }
        if !s.tcp_checksum_ok() && !s.tcp.checksum_offloaded || !s.ip_checksum_ok() {
            note.extra.push("checksum_bad".into());
        }
        note
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::Path;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::wire::{self, Payload, SegmentSpec};

    /// The scans `push` did before it kept an index (the reference the index must agree with): the event our
    /// segment answers, and the context the note is chosen in.
    fn scanned(events: &[TimelineEvent], c: &Captured) -> (Option<usize>, bool, bool, bool, Option<usize>) {
        let ours = |e: &&TimelineEvent| e.origin == Origin::Crafted;
        let acked = c.segment.as_ref().filter(|s| s.tcp.flags.ack).map(|s| s.tcp.ack);
        let quoted = c.icmp.as_ref().and_then(|i| i.quoted_seq);
        let exact = events.iter().enumerate().rev().filter(|(_, e)| ours(e)).find(|(_, e)| {
            let Some(s) = &e.segment else { return false };
            acked == Some(next_seq(s.tcp.seq, s.tcp.flags, s.payload.len())) || quoted == Some(s.tcp.seq)
        });
        let answered = exact.or_else(|| events.iter().enumerate().rev().find(|(_, e)| ours(e))).map(|(i, _)| i);
        let syn_ack = events.iter().any(|e| e.dir == Dir::In && e.flags() == TcpFlags::SYN_ACK);
        let we_acked = events.iter().any(|e| e.origin == Origin::Crafted && e.flags().ack && !e.flags().syn);
        let syn = events.iter().any(|e| e.origin == Origin::Crafted && e.flags() == TcpFlags::SYN);
        let fin = events.iter().rposition(|e| e.dir == Dir::In && e.flags().fin);
        (answered, syn_ack, we_acked, syn, fin)
    }

    /// Pushes every datagram, checking before each push that the index answers what the old scans answered,
    /// and after it that the RTT is the one the old scan gave.
    fn push_checked(all: Vec<Captured>) -> Timeline {
        let mut tl = Timeline::new(0);
        for c in all {
            let (answered, syn_ack, we_acked, syn, fin) = scanned(&tl.events, &c);
            let s = &tl.seen;
            assert_eq!((s.peer_syn_ack, s.we_acked, s.crafted_syn, s.peer_fin), (syn_ack, we_acked, syn, fin));
            let is_in = matches!(c.origin, Origin::Peer | Origin::Icmp);
            let t = c.t;
            assert_eq!(tl.answered(&c), answered);
            let i = tl.push(c, None);
            let want = if is_in { answered.map(|a| t.saturating_sub(tl.events[a].t_us)) } else { None };
            assert_eq!(tl.events[i].rtt_us, want, "event {i}");
        }
        tl
    }

    fn datagram(t: u64, origin: Origin, spec: &SegmentSpec) -> Captured {
        let bytes = wire::build(spec).unwrap();
        Captured { t, origin, segment: wire::parse(&bytes).ok(), icmp: None, bytes }
    }

    #[test]
    fn the_index_agrees_with_the_old_scans_on_real_captures() {
        for name in ["lo-handshake.pcap", "lo-handshake.pcapng", "any-sll.pcap"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
            let imported = crate::pcap::read(&path, usize::MAX).unwrap();
            let (us, t0) = ((imported[0].segment.src(), imported[0].segment.tcp.sport), imported[0].time);
            let all = imported
                .iter()
                .map(|i| Captured {
                    t: u64::try_from(i.time.saturating_sub(t0).as_micros()).unwrap(),
                    bytes: i.bytes.clone(),
                    origin: if (i.segment.src(), i.segment.tcp.sport) == us { Origin::Crafted } else { Origin::Peer },
                    segment: Some(i.segment.clone()),
                    icmp: None,
                })
                .collect();
            let tl = push_checked(all);
            assert!(tl.events.iter().any(|e| e.rtt_us.is_some()), "{name}");
            assert_eq!(tl, crate::pcap::timeline_of(&imported), "{name}");
        }
    }

    #[test]
    fn the_index_agrees_with_the_old_scans_on_a_mixed_stream() {
        // A small sequence-number space so segments answer, repeat and quote each other often.
        let mut x = 0x2545_f491_u32;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut all = Vec::new();
        for k in 0..3000u64 {
            let r = next();
            let mut spec = SegmentSpec::default();
            spec.tcp.flags = TcpFlags::from_bits((r & 0x3f) as u16);
            spec.tcp.seq = (r >> 8) % 16;
            spec.tcp.ack = (r >> 12) % 18;
            if r & 0x4000_0000 != 0 {
                spec.payload = Payload::Hex(vec![0; (r >> 16) as usize % 3]);
            }
            let c = match r >> 28 {
                0..=6 => datagram(k, Origin::Crafted, &spec),
                7..=12 => datagram(k, Origin::Peer, &spec),
                13 | 14 => datagram(k, Origin::LocalKernel, &spec),
                _ => Captured {
                    t: k,
                    bytes: vec![0x45],
                    origin: Origin::Icmp,
                    segment: None,
                    icmp: Some(IcmpError {
                        from: [127, 0, 0, 1].into(),
                        icmp_type: 3,
                        code: 3,
                        v6: false,
                        quoted_seq: (r & 1 == 0).then_some((r >> 8) % 16),
                    }),
                },
            };
            all.push(c);
        }
        let tl = push_checked(all);
        assert!(tl.events.iter().filter(|e| e.rtt_us.is_some()).count() > 100);
    }

    /// The time to build a timeline of `n` identical crafted segments and their identical answers (the shape
    /// that made every push scan everything before it), best of three.
    fn build_time(n: usize) -> Duration {
        let mut spec = SegmentSpec::default();
        spec.tcp.flags = TcpFlags::from_bits(0x18);
        spec.payload = Payload::Hex(vec![0x61; 100]);
        let ours = datagram(0, Origin::Crafted, &spec);
        let theirs = datagram(0, Origin::Peer, &spec);
        (0..3)
            .map(|_| {
                let started = Instant::now();
                let mut tl = Timeline::new(0);
                for k in 0..n {
                    let mut c = if k % 2 == 0 { ours.clone() } else { theirs.clone() };
                    c.t = k as u64;
                    tl.push(c, None);
                }
                assert_eq!(tl.events.len(), n);
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    }

    /// Building is linear: four times the segments take well under eight times as long (a quadratic build takes
    /// sixteen). The 8k time has a floor so that a very fast run does not make noise look quadratic.
    #[test]
    fn building_a_timeline_is_linear_in_its_segments() {
        let small = build_time(8 * 1024);
        let large = build_time(32 * 1024);
        let floor = small.max(Duration::from_millis(20));
        eprintln!("timeline of 8k segments: {small:?}, of 32k: {large:?}");
        assert!(large < floor * 8, "8k segments took {small:?}, 32k took {large:?}: not linear");
    }
}
