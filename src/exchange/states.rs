//! The TCP states of both ends after every event, with RFC 9293's names (§3.3.2): ours is what a conforming
//! stack would be in after what we sent and received, and when a crafted segment has no place in the state machine
//! (SYN+FIN, data before the handshake, a segment without ACK after it) the event says so and why. The peer's is
//! inferred the same way from what it received and sent, unless the link knows the truth (the simulated host's
//! own socket state), which [`apply_peer_truth`] puts in.

use serde::Serialize;

pub use crate::wire::tcp_state::TcpState;

use super::timeline::{Dir, TimelineEvent};
use crate::link::Origin;
use crate::wire::seq::next_seq;
use crate::wire::Segment;

/// Why a segment we sent has no place in the state machine (a crafter may leave the rules on purpose).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffRule {
    /// A segment other than SYN (or RST) with no connection (an ACK, FIN or NULL probe from CLOSED).
    NoConnection,
    /// SYN and FIN together: no state sends both.
    SynFin,
    /// A second SYN after the handshake began.
    SynAgain,
    /// An ACK or data before the SYN-ACK arrived.
    BeforeSynAck,
    /// After the handshake, every segment but a RST carries ACK (RFC 9293 §3.10.7.4).
    NoAck,
    /// Data or FIN after our own FIN.
    AfterFin,
}

impl OffRule {
    /// The catalog key of the explanation (`state.off.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            OffRule::NoConnection => "state.off.no_connection",
            OffRule::SynFin => "state.off.syn_fin",
            OffRule::SynAgain => "state.off.syn_again",
            OffRule::BeforeSynAck => "state.off.before_syn_ack",
            OffRule::NoAck => "state.off.no_ack",
            OffRule::AfterFin => "state.off.after_fin",
        }
    }
}

/// Where the peer's states come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerStateSource {
    /// The simulated host's own sockets.
    Sim,
    /// This machine's kernel (sock_diag), when the peer is a socket here.
    Kernel,
    /// Inferred from the segments, as a conforming stack would move.
    Inferred,
}

/// Both ends' states right after one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct States {
    /// Our end.
    pub us: TcpState,
    /// The peer's end.
    pub peer: TcpState,
    /// Set when the segment we sent here has no place in the state machine: our state is then unchanged.
    pub off: Option<OffRule>,
}

/// One end's machine: its state, and the sequence number its FIN took (to tell when the FIN is acknowledged).
#[derive(Clone, Copy, Debug)]
struct End {
    state: TcpState,
    fin_end: Option<u32>,
}

impl End {
    fn new(state: TcpState) -> End {
        End { state, fin_end: None }
    }

    /// This end sends `s`; returns why that breaks the rules, if it does (the state then stays).
    fn send(&mut self, s: &Segment) -> Option<OffRule> {
        use TcpState::*;
        let f = s.tcp.flags;
        if f.rst {
            // A listener answering a stray segment with RST keeps listening; any other RST ends the connection.
            if self.state != Listen {
                self.state = Closed;
            }
            return None;
        }
        if f.syn && f.fin {
            return Some(OffRule::SynFin);
        }
        if f.syn {
            return match (self.state, f.ack) {
                (Closed, false) => {
                    self.state = SynSent;
                    None
                }
                (SynReceived, true) | (SynSent, true) => {
                    self.state = SynReceived;
                    None
                }
                (Listen, true) => {
                    self.state = SynReceived;
                    None
                }
                _ => Some(OffRule::SynAgain),
            };
        }
        match self.state {
            Closed | Listen => return Some(OffRule::NoConnection),
            SynSent => return Some(OffRule::BeforeSynAck),
            _ => {}
        }
        if !f.ack {
            return Some(OffRule::NoAck);
        }
        let after_fin = matches!(self.state, FinWait1 | FinWait2 | Closing | LastAck | TimeWait);
        let carries = f.fin || !s.payload.is_empty();
        if after_fin && carries && self.fin_end.is_some_and(|end| end != next_seq(s.tcp.seq, f, s.payload.len())) {
            return Some(OffRule::AfterFin);
        }
        if f.fin {
            self.fin_end = Some(next_seq(s.tcp.seq, f, s.payload.len()));
            self.state = match self.state {
                Established | SynReceived => FinWait1,
                CloseWait => LastAck,
                other => other,
            };
        }
        None
    }

    /// This end receives `s`, as a conforming stack would take it.
    fn recv(&mut self, s: &Segment) {
        use TcpState::*;
        let f = s.tcp.flags;
        if f.rst {
            if self.state != Listen {
                self.state = Closed;
            }
            return;
        }
        match self.state {
            Closed | TimeWait => return,
            Listen => {
                if f.syn && !f.ack {
                    self.state = SynReceived;
                }
                return;
            }
            SynSent => {
                self.state = match (f.syn, f.ack) {
                    (true, true) => Established,
                    (true, false) => SynReceived,
                    _ => SynSent,
                };
                return;
            }
            _ => {}
        }
        // Synchronized states (and SYN-RECEIVED): a segment without ACK is dropped (RFC 9293 §3.10.7.4).
        if !f.ack || f.syn {
            return;
        }
        let fin_acked = self.fin_end.is_some_and(|end| s.tcp.ack == end);
        self.state = match self.state {
            SynReceived => Established,
            FinWait1 if fin_acked => FinWait2,
            Closing if fin_acked => TimeWait,
            LastAck if fin_acked => Closed,
            other => other,
        };
        if f.fin {
            self.state = match self.state {
                Established => CloseWait,
                FinWait1 => Closing,
                FinWait2 => TimeWait,
                other => other,
            };
        }
    }
}

/// Both ends' states after every event: we start CLOSED, the peer LISTEN (a server waiting for us), both inferred.
pub fn infer(events: &[TimelineEvent]) -> Vec<States> {
    let (mut us, mut peer) = (End::new(TcpState::Closed), End::new(TcpState::Listen));
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let mut off = None;
        if let Some(s) = &e.segment {
            match (e.dir, e.origin) {
                (Dir::Out, Origin::LocalKernel) => {
                    // Our kernel speaks for this host but not for our crafted end: only the peer takes it in.
                    peer.recv(s);
                }
                (Dir::Out, _) => {
                    off = us.send(s);
                    peer.recv(s);
                }
                (Dir::In, _) => {
                    // A RST-ACK answering our very first SYN: nothing was listening.
                    if s.tcp.flags.rst && peer.state == TcpState::SynReceived {
                        peer.state = TcpState::Closed;
                    } else {
                        let _ = peer.send(s);
                    }
                    us.recv(s);
                }
            }
        }
        out.push(States { us: us.state, peer: peer.state, off });
    }
    out
}

/// Replaces the inferred peer states with the link's own readings, where it had one after that event.
pub fn apply_peer_truth(states: &mut [States], truth: &[Option<TcpState>]) {
    for (s, t) in states.iter_mut().zip(truth) {
        if let Some(t) = t {
            s.peer = *t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TcpState::*;
    use super::*;
    use crate::exchange::notes::Note;
    use crate::wire::{self, Payload, SegmentSpec, TcpFlags};

    /// An event of `dir` carrying a segment with `flags` (letters), `seq`, `ack` and `len` bytes of data.
    fn ev(dir: Dir, flags: &str, seq: u32, ack: u32, len: usize) -> TimelineEvent {
        let mut spec = SegmentSpec::default();
        spec.tcp.flags = TcpFlags::parse_letters(flags).unwrap_or_default();
        spec.tcp.seq = seq;
        spec.tcp.ack = ack;
        spec.payload = Payload::Hex(vec![b'x'; len]);
        let bytes = wire::build(&spec).unwrap_or_default();
        let segment = wire::parse_any_protocol(&bytes).ok();
        TimelineEvent {
            t_us: 0,
            dir,
            origin: if dir == Dir::Out { Origin::Crafted } else { Origin::Peer },
            step: None,
            segment,
            icmp: None,
            rel_seq: 0,
            rel_ack: 0,
            rtt_us: None,
            note: Note::new("none", &[]),
            bytes,
            fragments: Vec::new(),
        }
    }

    fn pairs(events: &[TimelineEvent]) -> Vec<(TcpState, TcpState)> {
        infer(events).iter().map(|s| (s.us, s.peer)).collect()
    }

    #[test]
    fn the_handshake_moves_both_ends_to_established() {
        let evs = [ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "SA", 500, 101, 0), ev(Dir::Out, "A", 101, 501, 0)];
        assert_eq!(
            pairs(&evs),
            [(SynSent, SynReceived), (Established, SynReceived), (Established, Established)],
            "CLOSED → SYN-SENT → ESTABLISHED on our side, LISTEN → SYN-RECEIVED → ESTABLISHED on the server's"
        );
    }

    #[test]
    fn we_close_first_fin_wait_then_time_wait_and_the_peer_close_wait_last_ack_closed() {
        let mut evs =
            vec![ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "SA", 500, 101, 0), ev(Dir::Out, "A", 101, 501, 0)];
        evs.push(ev(Dir::Out, "FA", 101, 501, 0)); // our FIN takes seq 101; its ACK is 102
        evs.push(ev(Dir::In, "A", 501, 102, 0));
        evs.push(ev(Dir::In, "FA", 501, 102, 0));
        evs.push(ev(Dir::Out, "A", 102, 502, 0));
        assert_eq!(
            pairs(&evs)[3..],
            [(FinWait1, CloseWait), (FinWait2, CloseWait), (TimeWait, LastAck), (TimeWait, Closed)]
        );
    }

    #[test]
    fn a_simultaneous_fin_goes_through_closing() {
        let mut evs =
            vec![ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "SA", 500, 101, 0), ev(Dir::Out, "A", 101, 501, 0)];
        evs.push(ev(Dir::Out, "FA", 101, 501, 0));
        // The peer's FIN crossed ours: it does not acknowledge our FIN yet.
        evs.push(ev(Dir::In, "FA", 501, 101, 0));
        assert_eq!(infer(&evs)[4].us, Closing);
        evs.push(ev(Dir::In, "A", 502, 102, 0));
        assert_eq!(infer(&evs)[5].us, TimeWait);
    }

    #[test]
    fn a_reset_closes_and_a_closed_port_is_closed() {
        let evs = [ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "RA", 0, 101, 0)];
        assert_eq!(pairs(&evs), [(SynSent, SynReceived), (Closed, Closed)], "RST-ACK: nothing listened");
        let evs = [ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "SA", 500, 101, 0), ev(Dir::Out, "R", 101, 0, 0)];
        assert_eq!(pairs(&evs)[2], (Closed, Closed), "the half-open scan's RST");
    }

    #[test]
    fn crafted_segments_off_the_state_machine_say_why() {
        let off = |evs: &[TimelineEvent]| infer(evs).last().and_then(|s| s.off);
        assert_eq!(off(&[ev(Dir::Out, "A", 1, 1, 0)]), Some(OffRule::NoConnection), "an ACK probe");
        assert_eq!(off(&[ev(Dir::Out, "", 1, 0, 0)]), Some(OffRule::NoConnection), "a NULL probe");
        assert_eq!(off(&[ev(Dir::Out, "SF", 1, 0, 0)]), Some(OffRule::SynFin));
        assert_eq!(off(&[ev(Dir::Out, "S", 1, 0, 0), ev(Dir::Out, "A", 2, 9, 0)]), Some(OffRule::BeforeSynAck));
        let open = [ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "SA", 500, 101, 0), ev(Dir::Out, "A", 101, 501, 0)];
        let mut bare_fin = open.to_vec();
        bare_fin.push(ev(Dir::Out, "F", 101, 0, 0));
        assert_eq!(off(&bare_fin), Some(OffRule::NoAck), "lab 5's handed-out FIN without ACK");
        assert_eq!(infer(&bare_fin)[3].peer, Established, "the peer drops a segment without ACK");
        assert_eq!(infer(&bare_fin)[3].us, Established, "our state stays where the rules left it");
    }

    #[test]
    fn data_keeps_established_and_names_round_trip() {
        let mut evs =
            vec![ev(Dir::Out, "S", 100, 0, 0), ev(Dir::In, "SA", 500, 101, 0), ev(Dir::Out, "A", 101, 501, 0)];
        evs.push(ev(Dir::Out, "PA", 101, 501, 18));
        evs.push(ev(Dir::In, "A", 501, 119, 0));
        assert!(infer(&evs)[3..].iter().all(|s| (s.us, s.peer, s.off) == (Established, Established, None)));
        for s in TcpState::ALL {
            assert_eq!(TcpState::from_rfc_name(s.rfc_name()), Some(s));
        }
        assert_eq!(TcpState::from_rfc_name("syn_received"), Some(SynReceived));
        assert_eq!(serde_json::to_string(&TimeWait).ok().as_deref(), Some("\"TIME-WAIT\""));
    }
}
