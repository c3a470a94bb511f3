//! The timeline of a run: every captured segment of the flow in time order, with relative sequence numbers
//! (against each side's ISN, as Wireshark shows them), the RTT to the segment it answers, a plain-language note,
//! and the verdict of every expectation. Time is given to it; it never reads a clock.

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
    /// The datagram as captured.
    pub bytes: Vec<u8>,
}

impl TimelineEvent {
    /// The flags, or none for ICMP.
    pub fn flags(&self) -> TcpFlags {
        self.segment.as_ref().map(|s| s.tcp.flags).unwrap_or_default()
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
    /// Events in time order.
    pub events: Vec<TimelineEvent>,
    /// Verdicts in step order.
    pub verdicts: Vec<StepVerdict>,
    /// Link time of the first send (event times are relative to it).
    pub t0: u64,
    /// Our ISN (the first sequence number we used).
    pub our_isn: Option<u32>,
    /// The peer's ISN (from its SYN, else its first segment).
    pub peer_isn: Option<u32>,
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
        });
        self.events.len() - 1
    }

    /// The index of our segment that `c` answers: the latest one it acknowledges exactly, else the latest one.
    fn answered(&self, c: &Captured) -> Option<usize> {
        let ours = |e: &&TimelineEvent| e.origin == Origin::Crafted;
        let acked = c.segment.as_ref().filter(|s| s.tcp.flags.ack).map(|s| s.tcp.ack);
        let quoted = c.icmp.as_ref().and_then(|i| i.quoted_seq);
        let exact = self.events.iter().enumerate().rev().filter(|(_, e)| ours(e)).find(|(_, e)| {
            let Some(s) = &e.segment else { return false };
            acked == Some(next_seq(s.tcp.seq, s.tcp.flags, s.payload.len())) || quoted == Some(s.tcp.seq)
        });
        exact.or_else(|| self.events.iter().enumerate().rev().find(|(_, e)| ours(e))).map(|(i, _)| i)
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
        let sent_syn_ack_seen = self.events.iter().any(|e| e.dir == Dir::In && e.flags() == TcpFlags::SYN_ACK);
        let we_acked = self.events.iter().any(|e| e.origin == Origin::Crafted && e.flags().ack && !e.flags().syn);
        let peer_fin = self.events.iter().rev().find(|e| e.dir == Dir::In && e.flags().fin);
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
                } else if f.rst
                    && f.ack
                    && self.events.iter().any(|e| e.origin == Origin::Crafted && e.flags() == TcpFlags::SYN)
                    && !sent_syn_ack_seen
                {
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
