//! The picture's model, apart from any drawing: the chain of nodes (you, each hop, the target) and one lane per
//! port saying how far its probes got. Pure functions of a [`TraceReport`], unit-tested here.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::exchange::sweep::probe::hops_away;
use crate::exchange::sweep::Verdict;
use crate::exchange::trace::PathResult;
use crate::ui::worker::TraceReport;

/// What a node of the chain stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// This computer, where every probe starts.
    You,
    /// A router that answered (time-exceeded, or unreachable).
    Hop,
    /// One or more TTLs in a row that nothing answered.
    Silent,
    /// TTLs the trace ended before listing (another port's answer came sooner).
    Gap,
    /// The host traced.
    Target,
}

/// One box of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// The TTLs it stands for (`0..=0` for you).
    pub ttls: (u8, u8),
    /// Who answered (the target's address even when it never answered).
    pub addr: Option<IpAddr>,
    /// The answer: `time-exceeded`, `unreachable` or `tcp`.
    pub icmp: Option<String>,
    /// Its round trip, in microseconds.
    pub rtt_us: Option<u64>,
    /// The target answered some port (always true for other kinds).
    pub reached: bool,
}

impl Node {
    /// Whether the node stands for this TTL.
    fn holds(&self, ttl: u8) -> bool {
        self.kind != NodeKind::You && (self.ttls.0..=self.ttls.1).contains(&ttl)
    }
}

/// One port's lane under the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The port.
    pub port: u16,
    /// Its verdict, in the Sweep tab's words and colours.
    pub verdict: Verdict,
    /// The node its probes got to (0: none got past you).
    pub reach: usize,
    /// A barrier right after this node: the probes died there.
    pub barrier_after: Option<usize>,
    /// The TTL the answer came at.
    pub answered_at: Option<u8>,
    /// Who answered.
    pub answered_by: Option<IpAddr>,
    /// The answer's own TTL.
    pub reply_ttl: Option<u8>,
    /// "Blocked after hop N".
    pub blocked_after: Option<u8>,
    /// A closed port whose reset came from this many hops before the host: probably forged on the way.
    pub forged_before: Option<u8>,
}

/// The verdict a path result reads as (the Sweep tab's name and colour).
pub fn verdict(r: PathResult) -> Verdict {
    match r {
        PathResult::Open => Verdict::Open,
        PathResult::Closed => Verdict::Closed,
        PathResult::Filtered => Verdict::Filtered,
        PathResult::Unreachable => Verdict::Unreachable,
    }
}

/// The chain: you, each hop (silent TTLs in a row as one box), then the target, last, reached or not.
pub fn nodes(r: &TraceReport) -> Vec<Node> {
    let mut out =
        vec![Node { kind: NodeKind::You, ttls: (0, 0), addr: Some(r.src), icmp: None, rtt_us: None, reached: true }];
    let mut target = None;
    for h in &r.result.hops {
        match h.addr {
            Some(a) if a == r.target => {
                let kind = NodeKind::Target;
                target = Some(Node {
                    kind,
                    ttls: (h.ttl, h.ttl),
                    addr: h.addr,
                    icmp: h.icmp.clone(),
                    rtt_us: h.rtt_us,
                    reached: true,
                });
                break;
            }
            Some(_) => out.push(Node {
                kind: NodeKind::Hop,
                ttls: (h.ttl, h.ttl),
                addr: h.addr,
                icmp: h.icmp.clone(),
                rtt_us: h.rtt_us,
                reached: true,
            }),
            None => match out.last_mut() {
                Some(n) if n.kind == NodeKind::Silent && n.ttls.1 + 1 == h.ttl => n.ttls.1 = h.ttl,
                _ => out.push(Node {
                    kind: NodeKind::Silent,
                    ttls: (h.ttl, h.ttl),
                    addr: None,
                    icmp: None,
                    rtt_us: None,
                    reached: true,
                }),
            },
        }
    }
    // The target answered a port at a TTL past the hops listed (the list ends at the nearest answer).
    let target = target.or_else(|| {
        let at =
            r.result.ports.iter().filter(|p| p.answered_by == Some(r.target)).filter_map(|p| p.answered_at).min()?;
        Some(Node {
            kind: NodeKind::Target,
            ttls: (at, at),
            addr: Some(r.target),
            icmp: Some("tcp".into()),
            rtt_us: None,
            reached: true,
        })
    });
    let last = out.last().map_or(0, |n| n.ttls.1);
    match target {
        Some(t) => {
            if t.ttls.0 > last + 1 {
                let ttls = (last + 1, t.ttls.0 - 1);
                out.push(Node { kind: NodeKind::Gap, ttls, addr: None, icmp: None, rtt_us: None, reached: true });
            }
            out.push(t);
        }
        None => out.push(Node {
            kind: NodeKind::Target,
            ttls: (last + 1, r.max_ttl.max(last + 1)),
            addr: Some(r.target),
            icmp: None,
            rtt_us: None,
            reached: false,
        }),
    }
    out
}

/// The node that stands for `ttl`, if any.
fn column(nodes: &[Node], ttl: u8) -> Option<usize> {
    nodes.iter().position(|n| n.holds(ttl))
}

/// The TTL the host's own answers (the open ports' SYN-ACKs) usually carry.
fn host_ttl(r: &TraceReport) -> Option<u8> {
    let mut count: BTreeMap<u8, usize> = BTreeMap::new();
    for p in r.result.ports.iter().filter(|p| p.result == PathResult::Open && p.answered_by == Some(r.target)) {
        if let Some(t) = p.reply_ttl {
            *count.entry(t).or_default() += 1;
        }
    }
    count.into_iter().max_by_key(|(_, n)| *n).map(|(t, _)| t)
}

/// One lane per port, in the trace's order.
pub fn lanes(r: &TraceReport, nodes: &[Node]) -> Vec<Lane> {
    let last = nodes.len().saturating_sub(1);
    let host = host_ttl(r);
    r.result
        .ports
        .iter()
        .map(|p| {
            let (reach, barrier_after) = match (p.result, p.answered_at, p.blocked_after) {
                (PathResult::Filtered, _, Some(h)) => {
                    let at = column(nodes, h).unwrap_or(0);
                    (at, Some(at))
                }
                (PathResult::Filtered, _, None) => (0, Some(0)),
                (_, Some(t), _) => (column(nodes, t).unwrap_or(last), None),
                (_, None, _) => (0, None),
            };
            // A reset that travelled fewer hops than the host's own answers did.
            let forged_before = match (p.result, p.reply_ttl, host) {
                (PathResult::Closed, Some(ttl), Some(host)) if ttl > host => {
                    Some(hops_away(host).saturating_sub(hops_away(ttl))).filter(|n| *n > 0)
                }
                _ => None,
            };
            Lane {
                port: p.port,
                verdict: verdict(p.result),
                reach,
                barrier_after,
                answered_at: p.answered_at,
                answered_by: p.answered_by,
                reply_ttl: p.reply_ttl,
                blocked_after: p.blocked_after,
                forged_before,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::trace::{Hop, PortPath, TraceResult};

    const US: [u8; 4] = [198, 51, 100, 2];
    const ROUTER: [u8; 4] = [198, 51, 100, 1];
    const HOST: [u8; 4] = [203, 0, 113, 2];

    fn hop(ttl: u8, addr: Option<[u8; 4]>, icmp: &str) -> Hop {
        Hop { ttl, addr: addr.map(IpAddr::from), icmp: addr.map(|_| icmp.to_string()), rtt_us: addr.map(|_| 300) }
    }

    fn port(port: u16, result: PathResult, at: Option<u8>, by: Option<[u8; 4]>, ttl: Option<u8>) -> PortPath {
        let blocked_after = if result == PathResult::Filtered { at } else { None };
        let answered_at = if result == PathResult::Filtered { None } else { at };
        PortPath { port, result, answered_at, answered_by: by.map(IpAddr::from), reply_ttl: ttl, blocked_after }
    }

    fn report(hops: Vec<Hop>, ports: Vec<PortPath>, max_ttl: u8) -> TraceReport {
        let result = TraceResult { hops, result: ports[0].result, blocked_after: ports[0].blocked_after, ports };
        TraceReport { target: IpAddr::from(HOST), src: IpAddr::from(US), max_ttl, result, text: String::new() }
    }

    /// The firewall path: a router at hop 1, the host at hop 2; 8080 open, 8081 dropped after the router, 8082
    /// reset by the router (its TTL is one hop fresher than the host's SYN-ACK).
    #[test]
    fn a_firewalk_draws_the_router_then_the_host_with_a_barrier_and_a_forged_reset() {
        let r = report(
            vec![hop(1, Some(ROUTER), "time-exceeded"), hop(2, Some(HOST), "tcp")],
            vec![
                port(8080, PathResult::Open, Some(2), Some(HOST), Some(63)),
                port(8081, PathResult::Filtered, Some(1), None, None),
                port(8082, PathResult::Closed, Some(2), Some(HOST), Some(64)),
            ],
            30,
        );
        let n = nodes(&r);
        let kinds: Vec<NodeKind> = n.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, vec![NodeKind::You, NodeKind::Hop, NodeKind::Target]);
        assert_eq!((n[1].addr, n[2].ttls, n[2].reached), (Some(IpAddr::from(ROUTER)), (2, 2), true));
        let l = lanes(&r, &n);
        assert_eq!((l[0].verdict, l[0].reach, l[0].barrier_after), (Verdict::Open, 2, None));
        assert_eq!((l[1].verdict, l[1].reach, l[1].barrier_after), (Verdict::Filtered, 1, Some(1)));
        assert_eq!((l[2].verdict, l[2].forged_before), (Verdict::Closed, Some(1)));
        assert_eq!(l[0].forged_before, None, "the host's own SYN-ACK");
    }

    /// Silent TTLs in a row are one box; a target that never answered is drawn last, not reached, and a port
    /// that nothing answered is stopped right after you.
    #[test]
    fn silent_hops_are_one_box_and_an_unreached_target_is_still_drawn() {
        let r = report(
            vec![hop(1, Some(ROUTER), "time-exceeded"), hop(2, None, ""), hop(3, None, ""), hop(4, None, "")],
            vec![
                port(443, PathResult::Filtered, Some(1), None, None),
                port(444, PathResult::Filtered, None, None, None),
            ],
            4,
        );
        let n = nodes(&r);
        let kinds: Vec<NodeKind> = n.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, vec![NodeKind::You, NodeKind::Hop, NodeKind::Silent, NodeKind::Target]);
        assert_eq!(n[2].ttls, (2, 4));
        assert!(!n[3].reached);
        assert_eq!(n[3].addr, Some(IpAddr::from(HOST)));
        let l = lanes(&r, &n);
        assert_eq!((l[0].reach, l[0].barrier_after), (1, Some(1)));
        assert_eq!((l[1].reach, l[1].barrier_after), (0, Some(0)));
    }

    /// The hops end at the nearest answer (a router's unreachable at hop 1): the host's answer at hop 3 still
    /// gets its box, after a gap for the TTL not listed.
    #[test]
    fn a_target_past_the_listed_hops_gets_its_box_after_a_gap() {
        let r = report(
            vec![hop(1, Some(ROUTER), "unreachable")],
            vec![
                port(80, PathResult::Unreachable, Some(1), Some(ROUTER), Some(255)),
                port(81, PathResult::Open, Some(3), Some(HOST), Some(62)),
            ],
            30,
        );
        let n = nodes(&r);
        let kinds: Vec<NodeKind> = n.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, vec![NodeKind::You, NodeKind::Hop, NodeKind::Gap, NodeKind::Target]);
        assert_eq!((n[2].ttls, n[3].ttls), ((2, 2), (3, 3)));
        let l = lanes(&r, &n);
        assert_eq!((l[0].verdict, l[0].reach), (Verdict::Unreachable, 1));
        assert_eq!((l[1].verdict, l[1].reach), (Verdict::Open, 3));
    }

    /// The simulated lab host, one hop away: you, then the host; a closed port with the host's own TTL is not
    /// called forged.
    #[test]
    fn the_lab_host_is_one_hop_and_its_own_reset_is_not_forged() {
        let r = report(
            vec![hop(1, Some(HOST), "tcp")],
            vec![
                port(80, PathResult::Open, Some(1), Some(HOST), Some(64)),
                port(81, PathResult::Closed, Some(1), Some(HOST), Some(64)),
            ],
            30,
        );
        let n = nodes(&r);
        assert_eq!(n.len(), 2);
        assert_eq!((n[1].kind, n[1].icmp.as_deref()), (NodeKind::Target, Some("tcp")));
        let l = lanes(&r, &n);
        assert_eq!((l[0].reach, l[1].reach, l[1].forged_before), (1, 1, None));
    }
}
