//! Trace and firewalk: the probe (by default a SYN) sent with TTL (IPv6: hop limit) 1..N at once, each with its own
//! sequence number, so the ICMP time-exceeded each router sends back (quoting our segment, so its seq) names the
//! hop, and the target's own answer ends the path. With several ports, each port's probes share the hop discovery:
//! a port whose probes die silently after the last hop that answered is "blocked after hop N".

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::link::{classify, LinkError, ProbeLink};
use crate::wire::{self, field, IpSpec, SegmentSpec};

/// The highest TTL a trace may ask for.
pub const MAX_TTL: u8 = 64;
/// On a link with a virtual clock (the lab host), answers are timed to this step...
const VIRTUAL_STEP: Duration = Duration::from_micros(10);
/// ...for this many steps (20 ms of its clock); the rest of the wait is one step.
const VIRTUAL_STEPS: u32 = 2000;

/// What to trace.
#[derive(Clone, Debug)]
pub struct TraceConfig {
    /// The probe (addresses, ports and TTL are set per probe).
    pub probe: SegmentSpec,
    /// Our address.
    pub src: IpAddr,
    /// The target.
    pub target: IpAddr,
    /// The ports to trace (one is a plain trace; more is firewalk).
    pub ports: Vec<u16>,
    /// Our source port (replies and ICMP quotes come back to it).
    pub sport: u16,
    /// TTLs 1..=max_ttl are probed.
    pub max_ttl: u8,
    /// How long to wait for answers after the probes went out.
    pub wait: Duration,
}

/// One router (or the target) on the path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The TTL whose probe it answered.
    pub ttl: u8,
    /// Who answered (`None`: nothing came back for this TTL).
    pub addr: Option<IpAddr>,
    /// The ICMP message (`time-exceeded`, `unreachable`), or `tcp` for the target's own answer.
    pub icmp: Option<String>,
    /// Time from the probe to the answer, in microseconds.
    pub rtt_us: Option<u64>,
}

/// How one port's trace ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathResult {
    /// The target answered SYN-ACK (or any non-RST segment).
    Open,
    /// The target (or something for it) answered RST.
    Closed,
    /// Silence from some hop on.
    Filtered,
    /// An ICMP destination-unreachable came back.
    Unreachable,
}

/// One port's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortPath {
    /// The port.
    pub port: u16,
    /// How its trace ended.
    pub result: PathResult,
    /// The TTL at which the answer (TCP or unreachable) came, when one came.
    pub answered_at: Option<u8>,
    /// Who answered it.
    pub answered_by: Option<IpAddr>,
    /// The reply's TTL, the evidence of how far its sender is.
    pub reply_ttl: Option<u8>,
    /// The last hop that answered when this port's probes died silently beyond it.
    pub blocked_after: Option<u8>,
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceResult {
    /// The hops, TTL 1 first, up to the first TTL that reached the target (or all of them).
    pub hops: Vec<Hop>,
    /// The first port's result (a plain trace has one port).
    pub result: PathResult,
    /// The first port's `blocked_after`.
    pub blocked_after: Option<u8>,
    /// Every port's outcome (firewalk).
    pub ports: Vec<PortPath>,
}

/// The sending rate a trace opens its link with: all its probes (`ports` × `max_ttl`) within one second, within
/// the ceiling of every link.
pub fn rate(ports: usize, max_ttl: u8) -> u64 {
    (ports as u64 * u64::from(max_ttl)).clamp(1, u64::from(crate::limits::MAX_PPS))
}

/// Why a trace cannot run.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Bad input.
    #[error("{0}")]
    Input(String),
    /// The link failed.
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// The sequence number of the probe to `port_index` with `ttl`: distinct for every probe, so a quote names it.
fn probe_seq(base: u32, port_index: usize, ttl: u8) -> u32 {
    base.wrapping_add((port_index as u32) << 16).wrapping_add(u32::from(ttl) << 8)
}

/// The probe and the (port index, ttl) it stands for, from a quoted or acknowledged sequence number.
fn which(base: u32, seq: u32, ports: usize, max_ttl: u8) -> Option<(usize, u8)> {
    let off = seq.wrapping_sub(base);
    let (pi, ttl) = ((off >> 16) as usize, ((off >> 8) & 0xff) as u8);
    (pi < ports && (1..=max_ttl).contains(&ttl) && off & 0xff == 0).then_some((pi, ttl))
}

/// Runs the trace over `link`: every probe out at once, answers collected for `cfg.wait`.
pub fn trace(link: &mut dyn ProbeLink, cfg: &TraceConfig, base: u32) -> Result<TraceResult, TraceError> {
    trace_until(link, cfg, base, &mut || false)
}

/// As [`trace`], but `stop` is asked between slices of the wait (every 50 ms at most): when it returns `true` the
/// wait ends early and the answers seen so far are summarized (so ports still unanswered read as filtered: a
/// caller that stopped should not present the result as a finished trace).
pub fn trace_until(
    link: &mut dyn ProbeLink,
    cfg: &TraceConfig,
    base: u32,
    stop: &mut dyn FnMut() -> bool,
) -> Result<TraceResult, TraceError> {
    if cfg.max_ttl == 0 || cfg.max_ttl > MAX_TTL {
        return Err(TraceError::Input(format!("--max-ttl {}: give 1..={MAX_TTL}", cfg.max_ttl)));
    }
    if cfg.ports.is_empty() || cfg.ports.len() > 256 {
        return Err(TraceError::Input(format!("between 1 and 256 ports, not {}", cfg.ports.len())));
    }
    let mut batch = Vec::with_capacity(cfg.ports.len() * usize::from(cfg.max_ttl));
    for (pi, &port) in cfg.ports.iter().enumerate() {
        for ttl in 1..=cfg.max_ttl {
            let mut spec = cfg.probe.clone();
            spec.ip = spec
                .ip
                .addressed(cfg.src, cfg.target)
                .ok_or_else(|| TraceError::Input("source and target are of different IP versions".into()))?;
            match &mut spec.ip {
                IpSpec::V4(h) => h.ttl = ttl,
                IpSpec::V6(h) => h.hop_limit = ttl,
            }
            spec.tcp.sport = cfg.sport;
            spec.tcp.dport = port;
            spec.tcp.seq = probe_seq(base, pi, ttl);
            batch.push(wire::build(&spec).map_err(|e| TraceError::Input(format!("the probe cannot be built: {e}")))?);
        }
    }
    let before = Instant::now();
    link.send_batch(&batch)?;
    // Each round trip starts when its probe went out (through the helper: after its chunk crossed the pipe); the
    // wait starts with the last chunk, so every probe gets all of it.
    let sent_at: Vec<Instant> =
        (0..batch.len()).map(|k| link.batch_sent_at(k).filter(|t| *t >= before).unwrap_or(before)).collect();
    let sent = sent_at.iter().max().copied().unwrap_or(before);
    // (port index, ttl) → who answered, what, when, and the answer's own TTL.
    let mut seen: BTreeMap<(usize, u8), (IpAddr, Answer, u64, u8)> = BTreeMap::new();
    // The lab host's clock moves only as it is drained: it is stepped in small slices, so each answer is timed by
    // that clock (its hops answer within its round-trip time), not by how long this loop took. A real link's
    // answers are timed as they are read, in slices of 50 ms at most so `stop` is asked.
    let virtual_clock = !link.paced();
    let (mut waited, mut steps) = (Duration::ZERO, 0);
    loop {
        let left = cfg.wait.saturating_sub(if virtual_clock { waited } else { sent.elapsed() });
        if left.is_zero() || complete(cfg, &seen) || stop() {
            break;
        }
        let slice = match (virtual_clock, steps < VIRTUAL_STEPS) {
            (true, true) => VIRTUAL_STEP.min(left),
            (true, false) => left,
            (false, _) => left.min(Duration::from_millis(50)),
        };
        steps += 1;
        waited += slice;
        // A real link's answers are timed by when they were captured, not by when this drain returned.
        for (at, d) in link.drain_timed(slice) {
            if let Some((key, who, answer, ttl)) = read_answer(&d, cfg, base) {
                let probe_sent = sent_at.get(probe_index(cfg, key)).copied().unwrap_or(sent);
                let rtt = if virtual_clock { waited } else { at.saturating_duration_since(probe_sent) };
                seen.entry(key).or_insert((who, answer, rtt.as_micros() as u64, ttl));
            }
        }
        // Silence from a link that stopped is no answer: say why instead of reading it as filtered.
        if let Some(e) = link.failure() {
            return Err(e.into());
        }
    }
    Ok(summarize(cfg, &seen))
}

/// Where the probe of (port index, ttl) stands in the batch: each port's TTLs 1..=max_ttl in turn.
fn probe_index(cfg: &TraceConfig, (pi, ttl): (usize, u8)) -> usize {
    pi * usize::from(cfg.max_ttl) + usize::from(ttl).saturating_sub(1)
}

/// Whether nothing more can change the result: every port has its final answer, and every TTL below it was
/// answered by some hop.
fn complete(cfg: &TraceConfig, seen: &BTreeMap<(usize, u8), (IpAddr, Answer, u64, u8)>) -> bool {
    (0..cfg.ports.len()).all(|pi| {
        let end = (1..=cfg.max_ttl)
            .find(|t| seen.get(&(pi, *t)).is_some_and(|(_, a, _, _)| !matches!(a, Answer::TimeExceeded)));
        end.is_some_and(|end| (1..end).all(|t| (0..cfg.ports.len()).any(|p| seen.contains_key(&(p, t)))))
    })
}

/// What came back for one probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// A router's time-exceeded.
    TimeExceeded,
    /// A destination-unreachable.
    Unreachable,
    /// The target's TCP answer: RST or not.
    Tcp { rst: bool },
}

/// The probe a captured datagram answers, and how.
fn read_answer(d: &[u8], cfg: &TraceConfig, base: u32) -> Option<((usize, u8), IpAddr, Answer, u8)> {
    let n = cfg.ports.len();
    if let Ok(s) = wire::parse(d) {
        if s.tcp.dport != cfg.sport || s.src() != cfg.target {
            return None;
        }
        let pi = cfg.ports.iter().position(|&p| p == s.tcp.sport)?;
        // SYN-ACK and RST-ACK acknowledge seq + 1; a bare RST (to an ACK probe) carries our ack as its seq.
        let key = which(base, s.tcp.ack.wrapping_sub(1), n, cfg.max_ttl)
            .or_else(|| which(base, s.tcp.ack, n, cfg.max_ttl))
            .filter(|(p, _)| *p == pi)?;
        return Some((key, s.src(), Answer::Tcp { rst: s.tcp.flags.rst }, s.ttl()));
    }
    let (icmp, src, _dst) = classify::icmp_quote(d)?;
    if src.port() != cfg.sport {
        return None;
    }
    let key = which(base, icmp.quoted_seq?, n, cfg.max_ttl)?;
    let exceeded = if icmp.v6 { icmp.icmp_type == 3 } else { icmp.icmp_type == 11 };
    let answer = if exceeded { Answer::TimeExceeded } else { Answer::Unreachable };
    let ttl = match d.first().map(|b| b >> 4) {
        Some(6) => d.get(field::ipv6::HOP_LIMIT).copied(),
        _ => d.get(field::ipv4::TTL).copied(),
    }
    .unwrap_or(0);
    Some((key, icmp.from, answer, ttl))
}

/// The hops (from every port's probes) and each port's outcome.
fn summarize(cfg: &TraceConfig, seen: &BTreeMap<(usize, u8), (IpAddr, Answer, u64, u8)>) -> TraceResult {
    let mut ports = Vec::with_capacity(cfg.ports.len());
    for (pi, &port) in cfg.ports.iter().enumerate() {
        // The lowest TTL whose probe got the final answer: the distance of the answer.
        let end = (1..=cfg.max_ttl).find_map(|t| match seen.get(&(pi, t)) {
            Some((who, a @ (Answer::Tcp { .. } | Answer::Unreachable), _, ttl)) => Some((t, *who, *a, *ttl)),
            _ => None,
        });
        let last_hop = (1..=cfg.max_ttl).filter(|t| seen.contains_key(&(pi, *t))).max();
        let (result, answered_at, answered_by, reply_ttl, blocked_after) = match end {
            Some((t, who, Answer::Tcp { rst }, ttl)) => {
                (if rst { PathResult::Closed } else { PathResult::Open }, Some(t), Some(who), Some(ttl), None)
            }
            Some((t, who, _, ttl)) => (PathResult::Unreachable, Some(t), Some(who), Some(ttl), None),
            None => (PathResult::Filtered, None, None, None, last_hop),
        };
        ports.push(PortPath { port, result, answered_at, answered_by, reply_ttl, blocked_after });
    }
    // The path: for each TTL, whoever answered any port's probe with that TTL, up to the nearest end.
    let reach = ports.iter().filter_map(|p| p.answered_at).min().unwrap_or(cfg.max_ttl);
    let hops = (1..=reach)
        .map(|t| {
            let first = (0..cfg.ports.len()).find_map(|pi| seen.get(&(pi, t)));
            match first {
                Some((who, a, rtt, _)) => Hop {
                    ttl: t,
                    addr: Some(*who),
                    icmp: Some(
                        match a {
                            Answer::TimeExceeded => "time-exceeded",
                            Answer::Unreachable => "unreachable",
                            Answer::Tcp { .. } => "tcp",
                        }
                        .to_owned(),
                    ),
                    rtt_us: Some(*rtt),
                },
                None => Hop { ttl: t, addr: None, icmp: None, rtt_us: None },
            }
        })
        .collect();
    let (result, blocked_after) = ports.first().map_or((PathResult::Filtered, None), |p| (p.result, p.blocked_after));
    TraceResult { hops, result, blocked_after, ports }
}

/// The trace as text: one line per hop, then one line per port.
pub fn render(r: &TraceResult) -> String {
    let mut out = String::new();
    for h in &r.hops {
        match (h.addr, &h.icmp, h.rtt_us) {
            (Some(a), Some(what), Some(rtt)) => {
                out += &format!("{:>3}  {a:<40} {:>9.3} ms  {what}\n", h.ttl, rtt as f64 / 1000.0);
            }
            _ => out += &format!("{:>3}  *\n", h.ttl),
        }
    }
    for p in &r.ports {
        let what = match (p.result, p.blocked_after, p.answered_at) {
            (PathResult::Filtered, Some(h), _) => format!("filtered: blocked after hop {h}"),
            (PathResult::Filtered, None, _) => "filtered: nothing answered".into(),
            (res, _, Some(t)) => format!(
                "{} at hop {t}{}{}",
                serde_json::to_value(res).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                p.answered_by.map(|a| format!(" from {a}")).unwrap_or_default(),
                p.reply_ttl.map(|t| format!(" (reply ttl {t})")).unwrap_or_default(),
            ),
            (_, _, None) => "?".into(),
        };
        out += &format!("port {:>5}: {what}\n", p.port);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_has_its_own_sequence_number_and_it_reads_back() {
        let base = 0xfedc_0000;
        for pi in 0..3 {
            for ttl in 1..=30 {
                assert_eq!(which(base, probe_seq(base, pi, ttl), 3, 30), Some((pi, ttl)));
            }
        }
        assert_eq!(which(base, probe_seq(base, 3, 1), 3, 30), None, "no fourth port");
        assert_eq!(which(base, probe_seq(base, 0, 31), 3, 30), None, "beyond max-ttl");
        assert_eq!(which(base, probe_seq(base, 0, 1) + 1, 3, 30), None, "not a probe's number");
    }

    fn cfg(ports: Vec<u16>) -> TraceConfig {
        TraceConfig {
            probe: SegmentSpec::default(),
            src: IpAddr::from([198, 51, 100, 2]),
            target: IpAddr::from([203, 0, 113, 2]),
            ports,
            sport: 40000,
            max_ttl: 5,
            wait: Duration::from_millis(10),
        }
    }

    #[test]
    fn hops_results_and_blocked_after_come_from_the_answers() {
        let router = IpAddr::from([198, 51, 100, 1]);
        let target = IpAddr::from([203, 0, 113, 2]);
        let mut seen = BTreeMap::new();
        // Port 80 (index 0): hop 1 the router, hop 2 the target's SYN-ACK (and again at 3, ignored).
        seen.insert((0, 1), (router, Answer::TimeExceeded, 300, 64));
        seen.insert((0, 2), (target, Answer::Tcp { rst: false }, 500, 63));
        seen.insert((0, 3), (target, Answer::Tcp { rst: false }, 510, 63));
        // Port 8081 (index 1): the router answers hop 1, then silence: dropped after hop 1.
        seen.insert((1, 1), (router, Answer::TimeExceeded, 300, 64));
        // Port 8082 (index 2): a reset from the router's distance.
        seen.insert((2, 1), (router, Answer::TimeExceeded, 300, 64));
        seen.insert((2, 2), (target, Answer::Tcp { rst: true }, 400, 64));
        let r = summarize(&cfg(vec![80, 8081, 8082]), &seen);
        assert_eq!(r.hops.len(), 2);
        assert_eq!((r.hops[0].addr, r.hops[0].icmp.as_deref()), (Some(router), Some("time-exceeded")));
        assert_eq!((r.result, r.blocked_after), (PathResult::Open, None));
        assert_eq!((r.ports[1].result, r.ports[1].blocked_after), (PathResult::Filtered, Some(1)));
        assert_eq!((r.ports[2].result, r.ports[2].reply_ttl), (PathResult::Closed, Some(64)));
        let text = render(&r);
        assert!(text.contains("port  8081: filtered: blocked after hop 1"), "{text}");
        assert!(text.contains("port    80: open at hop 2 from 203.0.113.2 (reply ttl 63)"), "{text}");
    }

    /// A link that sends its batch in two chunks, the second 100 ms after the first (as the helper does past 1,024
    /// probes), and captures `answer` 300 µs after the second chunk went out.
    struct TwoChunks {
        start: Instant,
        half: usize,
        answer: Vec<u8>,
        answered: bool,
    }

    impl ProbeLink for TwoChunks {
        fn send(&mut self, _: &[u8]) -> Result<(), LinkError> {
            Ok(())
        }
        fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
            (self.start, self.half) = (Instant::now(), datagrams.len() / 2);
            Ok(())
        }
        fn batch_sent_at(&self, index: usize) -> Option<Instant> {
            Some(self.start + if index < self.half { Duration::ZERO } else { Duration::from_millis(100) })
        }
        fn drain(&mut self, _: Duration) -> Vec<Vec<u8>> {
            Vec::new()
        }
        fn drain_timed(&mut self, wait: Duration) -> Vec<(Instant, Vec<u8>)> {
            if std::mem::replace(&mut self.answered, true) {
                std::thread::sleep(wait);
                return Vec::new();
            }
            let at = self.start + Duration::from_millis(100) + Duration::from_micros(300);
            vec![(at, self.answer.clone())]
        }
        fn paced(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_later_chunks_round_trip_starts_when_that_chunk_went_out() {
        let base = 0x1000_0000;
        let mut c = cfg(vec![80, 81]);
        c.wait = Duration::from_millis(150);
        // The target's SYN-ACK to port 81's TTL-5 probe: the last in the batch, so in the second chunk.
        let mut answer = SegmentSpec::default();
        answer.ip = answer.ip.addressed(c.target, c.src).expect("both IPv4");
        (answer.tcp.sport, answer.tcp.dport) = (81, c.sport);
        answer.tcp.ack = probe_seq(base, 1, 5).wrapping_add(1);
        (answer.tcp.flags.syn, answer.tcp.flags.ack) = (true, true);
        let answer = wire::build(&answer).expect("a SYN-ACK builds");
        let mut link = TwoChunks { start: Instant::now(), half: 0, answer, answered: false };
        let r = trace_until(&mut link, &c, base, &mut || false).expect("the trace runs");
        assert_eq!((r.ports[1].result, r.ports[1].answered_at), (PathResult::Open, Some(5)));
        // From its own chunk: 300 µs, not the 100.3 ms since the batch's first chunk.
        assert_eq!(r.hops.get(4).and_then(|h| h.rtt_us), Some(300), "{:?}", r.hops);
    }
}
