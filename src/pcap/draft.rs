//! A preset draft from captured segments: our side's segments become `Send` steps and the peer's become
//! `Expect` steps; sequence numbers follow our ISN (`isn + 1`) and acknowledgments follow the peer's latest
//! segment (`peer.next`, `peer.seq + 1`), so the exchange replays against a live peer with fresh ISNs.

use std::net::SocketAddr;

use crate::preset::expr::Expr;
use crate::preset::schema::{ExpectStep, FlagAlt, FlagPattern, Flags, SendTemplate, VERSION};
use crate::preset::{Preset, Step};
use crate::wire::seq::next_seq;
use crate::wire::{Payload, Segment};

fn expr(text: String) -> Expr {
    Expr::parse(&text).unwrap_or_else(|_| Expr::num(0))
}

/// The draft for `segments` (in capture order); the first segment's sender is "us".
pub fn preset_from(segments: &[Segment], name: &str) -> Option<Preset> {
    let first = segments.first()?;
    let us = SocketAddr::new(first.src(), first.tcp.sport);
    let peer_addr = SocketAddr::new(first.dst(), first.tcp.dport);
    let our_isn = first.tcp.seq;
    let mut last_peer: Option<&Segment> = None;
    let mut steps = Vec::new();
    for s in segments {
        let from = SocketAddr::new(s.src(), s.tcp.sport);
        if from == us {
            let seq = expr(match s.tcp.seq.wrapping_sub(our_isn) {
                0 => "isn".to_string(),
                d => format!("isn + {d}"),
            });
            let ack = if s.tcp.flags.ack {
                Some(match last_peer {
                    Some(p) if s.tcp.ack == next_seq(p.tcp.seq, p.tcp.flags, p.payload.len()) => {
                        expr("peer.next".into())
                    }
                    Some(p) => expr(format!("peer.seq + {}", s.tcp.ack.wrapping_sub(p.tcp.seq))),
                    None => Expr::num(s.tcp.ack),
                })
            } else {
                None
            };
            steps.push(Step::Send(Box::new(SendTemplate {
                flags: Flags(s.tcp.flags),
                seq: Some(seq),
                ack,
                window: Some(Expr::num(s.tcp.window.into())),
                options: s.tcp.options.clone(),
                payload: (!s.payload.is_empty()).then(|| match s.to_spec().payload {
                    Payload::Text(t) => Payload::Text(t),
                    other => other,
                }),
                ..SendTemplate::default()
            })));
        } else if from == peer_addr {
            steps.push(Step::Expect(ExpectStep {
                flags: FlagPattern(vec![FlagAlt::Exact(s.tcp.flags)]),
                within_ms: 2000,
                bind: "peer".into(),
                ack: None,
                min_len: (!s.payload.is_empty()).then_some(1),
            }));
            last_peer = Some(s);
        }
    }
    Some(Preset {
        version: VERSION,
        name: name.to_string(),
        description: format!("Drafted from a capture: {} steps between {us} and {peer_addr}.", steps.len()),
        exercise: None,
        explain: String::new(),
        translated: Default::default(),
        target: None,
        port: peer_addr.port(),
        guard: true,
        sim: None,
        steps,
    })
}

/// Keeps the first `n` steps of a draft (`import --draft --max-steps N`), saying so in its description.
pub fn keep_first(p: &mut Preset, n: usize) {
    let total = p.steps.len();
    if n < total {
        p.steps.truncate(n);
        p.description += &format!(" Only the first {n} of {total} steps are kept (--max-steps {n}).");
    }
}

/// Size in bytes of the preset as saved.
fn saved_size(p: &Preset) -> u64 {
    crate::preset::io::to_ron(p).map_or(u64::MAX, |t| t.len() as u64)
}

/// How a draft compares with a size limit: its size as saved, and how many of its first steps fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// Bytes of the whole draft as saved.
    pub size: u64,
    /// The most leading steps whose draft is at most the limit (all of them when the whole draft fits).
    pub steps: usize,
}

/// How many of the draft's first steps fit in a preset of at most `max_bytes` bytes as saved. The count is
/// guessed from the average step size, bracketed by doubling steps from the guess, then found by bisection, so
/// only a few drafts near the limit are serialized.
pub fn steps_that_fit(p: &Preset, max_bytes: u64) -> Fit {
    let size = saved_size(p);
    let total = p.steps.len();
    if size <= max_bytes {
        return Fit { size, steps: total };
    }
    let fits = |n: usize| {
        let mut q = p.clone();
        keep_first(&mut q, n);
        saved_size(&q) <= max_bytes
    };
    let guess = usize::try_from(u128::from(max_bytes) * total as u128 / u128::from(size.max(1))).unwrap_or(0);
    // Bracket: `lo` fits (or is 0), `hi` does not (`total` is known not to).
    let (mut lo, mut hi) = (0, total);
    let mut step = 1;
    if fits(guess) {
        lo = guess;
        while lo + step < hi {
            if fits(lo + step) {
                lo += step;
                step *= 2;
            } else {
                hi = lo + step;
                break;
            }
        }
    } else {
        hi = guess;
        while hi > step {
            if fits(hi - step) {
                lo = hi - step;
                break;
            }
            hi -= step;
            step *= 2;
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Fit { size, steps: lo }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A draft cut to what fits: the count found is the largest that fits, and one more step does not.
    #[test]
    fn steps_that_fit_is_the_largest_prefix_under_the_limit() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lo-handshake.pcap");
        let all: Vec<Segment> = crate::pcap::read(&path, usize::MAX).unwrap().into_iter().map(|i| i.segment).collect();
        let conv: Vec<Segment> = all.iter().filter(|s| s.src().is_ipv4()).cloned().collect();
        let p = preset_from(&conv, "cut").unwrap();
        let full = saved_size(&p);
        assert_eq!(steps_that_fit(&p, full), Fit { size: full, steps: p.steps.len() });
        let n = steps_that_fit(&p, full - 1).steps;
        // Every limit gives the largest prefix that fits, whatever the guess.
        for limit in (0..full).step_by(97) {
            let n = steps_that_fit(&p, limit).steps;
            let size_of = |k: usize| {
                let mut q = p.clone();
                keep_first(&mut q, k);
                saved_size(&q)
            };
            assert!(n == 0 || size_of(n) <= limit, "{limit}: {n}");
            assert!(size_of(n + 1) > limit, "{limit}: {n}");
        }
        assert!(n < p.steps.len() && n > 0, "{n}");
        let mut q = p.clone();
        keep_first(&mut q, n);
        assert!(saved_size(&q) < full);
        let mut r = p.clone();
        keep_first(&mut r, n + 1);
        assert!(saved_size(&r) > full - 1);
        assert!(q.description.contains(&format!("first {n} of {} steps", p.steps.len())));
    }

    #[test]
    fn the_lo_handshake_becomes_a_replayable_preset() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lo-handshake.pcap");
        let all = crate::pcap::read(&path, usize::MAX).unwrap();
        // The IPv4 conversation to port 8080 (frames 1-6 and the last one).
        let conv: Vec<Segment> = all
            .iter()
            .map(|i| i.segment.clone())
            .filter(|s| s.tcp.dport == 8080 || s.tcp.sport == 8080)
            .filter(|s| s.src().is_ipv4())
            .collect();
        let p = preset_from(&conv, "replay").unwrap();
        crate::preset::validate::validate(&p).unwrap();
        let Step::Send(syn) = &p.steps[0] else { panic!() };
        assert_eq!(syn.seq.as_ref().unwrap().text(), "isn");
        assert!(matches!(&p.steps[1], Step::Expect(x) if x.flags.to_string() == "SA"));
        let Step::Send(ack) = &p.steps[2] else { panic!() };
        assert_eq!((ack.seq.as_ref().unwrap().text(), ack.ack.as_ref().unwrap().text()), ("isn + 1", "peer.next"));
        let Step::Send(data) = &p.steps[3] else { panic!() };
        assert_eq!(data.payload, Some(Payload::Text("GET / HTTP/1.0\r\n\r\n".into())));
        // And it replays against the simulated host (ports moved to the lab's HTTP port).
        use crate::exchange::session::{open_flow, FlowRequest, LinkChoice};
        let mut opened = open_flow(&FlowRequest { choice: LinkChoice::Sim, ..FlowRequest::default() }).unwrap();
        let opts = crate::exchange::RunOptions {
            target: opened.dst,
            dport: 80,
            src: opened.src,
            sport: None,
            isn: None,
            seed: Some(1),
            linger_ms: 10,
        };
        let r = crate::exchange::run(&p, opened.link.as_mut(), &opts, &mut crate::exchange::Silent).unwrap();
        assert!(r.timeline.verdicts[0].pass, "{:?}", r.timeline.verdicts);
    }
}
