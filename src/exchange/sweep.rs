//! The sweep engine: one probe (a one-Send preset) across many hosts and ports, stateless like masscan and nmap.
//! One thread sends from a pre-built template (only the port, sequence number and checksum change per probe)
//! at a capped rate; replies are matched by a cookie in the sequence number, so no per-port state or thread.
//! Each port ends up open, closed, filtered (no reply after the retries) or unreachable (an ICMP error).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::link::classify::IcmpError;
use crate::preset::{Preset, Step};
use crate::wire::{self, SegmentSpec, TcpFlags};

/// The default and the ceiling of the send rate without `--yes`-style overrides (packets per second).
pub const DEFAULT_RATE: u64 = 10_000;
/// Probes per batch (one `sendmmsg` on Linux; pacing and progress work per batch).
const BATCH: usize = 64;
/// Target sets larger than this need explicit confirmation.
pub const CONFIRM_ABOVE: u64 = 65_536;

/// What a port turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Answered SYN-ACK (or, for probes without SYN, anything but RST).
    Open,
    /// Answered RST.
    Closed,
    /// No answer after every retry (for null/FIN/Xmas probes: open or filtered).
    Filtered,
    /// An ICMP error came back.
    Unreachable,
}

impl Verdict {
    /// The lower-case word used in output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Open => "open",
            Verdict::Closed => "closed",
            Verdict::Filtered => "filtered",
            Verdict::Unreachable => "unreachable",
        }
    }
}

/// One port's result with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortResult {
    /// The host.
    pub host: IpAddr,
    /// The port.
    pub port: u16,
    /// The classification.
    pub verdict: Verdict,
    /// The reply's flags as letters (`SA`, `RA`), or `icmp TYPE/CODE`, or empty.
    pub reply: String,
}

/// Why a sweep cannot start.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SweepError {
    /// The preset is not a one-probe preset.
    #[error("preset {0}: a sweep needs a preset whose first step is a Send (half-open, rst-closed-port, null/fin/xmas-scan, ack-probe)")]
    NotAProbe(String),
    /// A target is not allowed.
    #[error("target {0}: {1}")]
    Refused(String, String),
    /// A port list does not parse.
    #[error("--ports {0}: {1}")]
    Ports(String, String),
    /// The probe cannot be built.
    #[error("the probe cannot be built: {0}")]
    Build(String),
}

/// Parses `1-1024,8080` into a sorted, de-duplicated port list.
pub fn parse_ports(s: &str) -> Result<Vec<u16>, SweepError> {
    let err = |m: &str| SweepError::Ports(s.to_string(), m.to_string());
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u16 = a.trim().parse().map_err(|_| err(&format!("'{part}' is not a port or range (1-65535)")))?;
        let b: u16 = b.trim().parse().map_err(|_| err(&format!("'{part}' is not a port or range (1-65535)")))?;
        if a == 0 || a > b {
            return Err(err(&format!("'{part}': ports run from 1 to 65535, low to high")));
        }
        v.extend(a..=b);
    }
    if v.is_empty() {
        return Err(err("no ports given"));
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// Parses `HOST[,HOST..]` where each is an address or CIDR block; refuses broadcast, multicast and unspecified
/// addresses, and more than [`CONFIRM_ABOVE`] addresses unless `confirmed`.
pub fn parse_targets(s: &str, confirmed: bool) -> Result<Vec<IpAddr>, SweepError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let net: ipnetwork::IpNetwork =
            part.parse().map_err(|_| SweepError::Refused(part.into(), "not an address or CIDR block".into()))?;
        let size: u128 = match net {
            ipnetwork::IpNetwork::V4(n) => u128::from(n.size()),
            ipnetwork::IpNetwork::V6(n) => n.size(),
        };
        if size + out.len() as u128 > u128::from(CONFIRM_ABOVE) && !confirmed {
            return Err(SweepError::Refused(
                part.into(),
                format!("more than {CONFIRM_ABOVE} addresses; pass --yes if you mean it"),
            ));
        }
        if size > 1 << 24 {
            return Err(SweepError::Refused(part.into(), "more than 16,777,216 addresses in one block".into()));
        }
        for ip in net.iter() {
            refuse(ip).map_err(|m| SweepError::Refused(ip.to_string(), m))?;
            out.push(ip);
        }
    }
    if out.is_empty() {
        return Err(SweepError::Refused(s.into(), "no target given".into()));
    }
    out.dedup();
    Ok(out)
}

/// Addresses a sweep never sends to.
fn refuse(ip: IpAddr) -> Result<(), String> {
    let bad = match ip {
        IpAddr::V4(a) => {
            if a.is_unspecified() {
                Some("0.0.0.0 is not a host")
            } else if a.is_broadcast() {
                Some("the broadcast address is refused")
            } else if a.is_multicast() {
                Some("multicast addresses are refused")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            if a.is_unspecified() {
                Some(":: is not a host")
            } else if a.is_multicast() {
                Some("multicast addresses are refused")
            } else {
                None
            }
        }
    };
    bad.map_or(Ok(()), |m| Err(m.to_string()))
}

/// The probe a preset describes: its first Send step, with numbers left to the sweep.
pub fn probe_of(p: &Preset) -> Result<SegmentSpec, SweepError> {
    let Some(Step::Send(t)) = p.steps.first() else { return Err(SweepError::NotAProbe(p.name.clone())) };
    let mut spec = t.spec.as_deref().cloned().unwrap_or_default();
    spec.tcp.flags = t.flags.0;
    spec.tcp.options = t.options.clone();
    if let Some(pl) = &t.payload {
        spec.payload = pl.clone();
    }
    Ok(spec)
}

/// Keyed cookies: the sequence number of a probe encodes its destination, so replies need no state.
pub struct Cookies(RandomState);

impl Default for Cookies {
    fn default() -> Self {
        Cookies(RandomState::new())
    }
}

impl Cookies {
    /// The cookie (our sequence number) for a probe to `host:port` from `sport`.
    pub fn cookie(&self, host: IpAddr, port: u16, sport: u16) -> u32 {
        (self.0.hash_one((host, port, sport)) & 0xFFFF_FFFF) as u32
    }
}

/// Builds probes from one template: addresses fixed per host; port, seq, ack and the TCP checksum patched.
pub struct ProbeBuilder {
    template: Vec<u8>,
    tcp_offset: usize,
    flags: TcpFlags,
    host: IpAddr,
    src: IpAddr,
}

impl ProbeBuilder {
    /// A template from the probe spec, addressed from `src:sport` to `host`.
    pub fn new(probe: &SegmentSpec, src: IpAddr, sport: u16, host: IpAddr) -> Result<ProbeBuilder, SweepError> {
        let mut spec = probe.clone();
        spec.ip = spec
            .ip
            .addressed(src, host)
            .ok_or_else(|| SweepError::Build(format!("source {src} and target {host} are of different families")))?;
        spec.tcp.sport = sport;
        let template = wire::build(&spec).map_err(|e| SweepError::Build(e.to_string()))?;
        let tcp_offset = wire::parse_any_protocol(&template).map_err(|e| SweepError::Build(e.to_string()))?.tcp_offset;
        Ok(ProbeBuilder { template, tcp_offset, flags: spec.tcp.flags, host, src })
    }

    /// The probe to `port` carrying `cookie` (as seq, and as ack for ACK probes), with a correct checksum.
    pub fn probe(&self, port: u16, cookie: u32, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.template);
        let t = self.tcp_offset;
        out[t + 2..t + 4].copy_from_slice(&port.to_be_bytes());
        out[t + 4..t + 8].copy_from_slice(&cookie.to_be_bytes());
        if self.flags.ack {
            out[t + 8..t + 12].copy_from_slice(&cookie.to_be_bytes());
        }
        let sum = match (self.src, self.host) {
            (IpAddr::V4(s), IpAddr::V4(d)) => wire::checksum::tcp_v4(&out[t..], s, d, None),
            (IpAddr::V6(s), IpAddr::V6(d)) => wire::checksum::tcp_v6(&out[t..], s, d),
            _ => 0,
        };
        out[t + 16..t + 18].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Matches captured datagrams to probes and keeps the results.
pub struct Tally {
    cookies: Cookies,
    sport: u16,
    results: HashMap<(IpAddr, u16), (Verdict, String)>,
    /// Replies matched so far.
    pub replies: u64,
}

impl Tally {
    /// A tally for probes sent from `sport` with these cookies.
    pub fn new(cookies: Cookies, sport: u16) -> Tally {
        Tally { cookies, sport, results: HashMap::new(), replies: 0 }
    }

    /// The cookie for a probe.
    pub fn cookie(&self, host: IpAddr, port: u16) -> u32 {
        self.cookies.cookie(host, port, self.sport)
    }

    /// Whether this port already has an answer.
    pub fn answered(&self, host: IpAddr, port: u16) -> bool {
        self.results.contains_key(&(host, port))
    }

    /// Looks at one captured datagram; records it when it answers one of our probes.
    pub fn observe(&mut self, datagram: &[u8]) {
        if let Ok(s) = wire::parse(datagram) {
            if s.tcp.dport != self.sport {
                return;
            }
            let (host, port) = (s.src(), s.tcp.sport);
            let c = self.cookie(host, port);
            let f = s.tcp.flags;
            // SYN-ACK/RST-ACK acknowledge seq + 1 (or + length); an RST to an ACK probe carries our ack as seq.
            let ours = s.tcp.ack.wrapping_sub(c) <= 2 || (f.rst && s.tcp.seq == c);
            if !ours {
                return;
            }
            let verdict = if f.rst { Verdict::Closed } else { Verdict::Open };
            self.record(host, port, verdict, f.letters());
            return;
        }
        if let Some((icmp, host, port, sport)) = quoted_probe(datagram) {
            if sport == self.sport {
                self.record(
                    host,
                    port,
                    Verdict::Unreachable,
                    format!("icmp {}/{} {}", icmp.icmp_type, icmp.code, icmp.describe()),
                );
            }
        }
    }

    fn record(&mut self, host: IpAddr, port: u16, v: Verdict, reply: String) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.results.entry((host, port)) {
            e.insert((v, reply));
            self.replies += 1;
        }
    }

    /// Every target's result in host and port order; ports without an answer are filtered.
    pub fn results(&self, hosts: &[IpAddr], ports: &[u16]) -> Vec<PortResult> {
        let mut out = Vec::with_capacity(hosts.len() * ports.len());
        for &host in hosts {
            for &port in ports {
                let (verdict, reply) =
                    self.results.get(&(host, port)).cloned().unwrap_or((Verdict::Filtered, String::new()));
                out.push(PortResult { host, port, verdict, reply });
            }
        }
        out
    }
}

/// An ICMP error quoting one of our probes: the error, the probe's destination host and port, and its source port.
fn quoted_probe(datagram: &[u8]) -> Option<(IcmpError, IpAddr, u16, u16)> {
    let (icmp, src, dst) = crate::link::classify::icmp_quote(datagram)?;
    Some((icmp, dst.ip(), dst.port(), src.port()))
}

/// Counts of each verdict.
pub fn summary(results: &[PortResult]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for r in results {
        *m.entry(r.verdict.as_str()).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_ports("80,22,20-23,80").unwrap(), vec![20, 21, 22, 23, 80]);
        assert_eq!(parse_ports("1-65535").unwrap().len(), 65535);
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("90-80").is_err());
        assert!(parse_ports("http").is_err());
        assert!(parse_ports("70000").is_err());
    }

    #[test]
    fn targets_and_refusals() {
        assert_eq!(parse_targets("127.0.0.1,127.0.0.2", false).unwrap().len(), 2);
        assert_eq!(parse_targets("10.0.0.0/30", false).unwrap().len(), 4);
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "ff02::1", "::", "nonsense"] {
            assert!(matches!(parse_targets(bad, false), Err(SweepError::Refused(..))), "{bad}");
        }
        assert!(parse_targets("10.0.0.0/15", false).unwrap_err().to_string().contains("--yes"));
        assert_eq!(parse_targets("10.0.0.0/15", true).unwrap().len(), 131_072);
    }

    #[test]
    fn probes_carry_the_cookie_and_a_correct_checksum() {
        let p = probe_of(&crate::preset::resolve("half-open").unwrap()).unwrap();
        let (src, host) = ("192.0.2.1".parse().unwrap(), "192.0.2.10".parse().unwrap());
        let b = ProbeBuilder::new(&p, src, 40000, host).unwrap();
        let mut out = Vec::new();
        b.probe(8080, 0xdeadbeef, &mut out);
        let s = wire::parse(&out).unwrap();
        assert_eq!((s.tcp.dport, s.tcp.seq, s.tcp.flags), (8080, 0xdeadbeef, TcpFlags::SYN));
        assert!(s.tcp_checksum_ok() && s.ip_checksum_ok());
    }
}

/// A link as the sweep uses it: send datagrams, take whatever was captured.
pub trait ProbeLink {
    /// Sends one datagram.
    fn send(&mut self, datagram: &[u8]) -> Result<(), crate::link::LinkError>;
    /// Sends a batch (one system call where the platform has one).
    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), crate::link::LinkError> {
        datagrams.iter().try_for_each(|d| self.send(d))
    }
    /// Everything captured within `wait` from now.
    fn drain(&mut self, wait: std::time::Duration) -> Vec<Vec<u8>>;
    /// Whether sending must be paced (a real wire) or can run flat out (the simulated host).
    fn paced(&self) -> bool;
}

/// Progress of a running sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Probes sent (retries included).
    pub sent: u64,
    /// Probes planned for the first pass.
    pub total: u64,
    /// Ports answered so far.
    pub replies: u64,
}

/// Everything a sweep needs.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// Hosts, in order.
    pub hosts: Vec<IpAddr>,
    /// Ports, in order.
    pub ports: Vec<u16>,
    /// The probe (from the preset's first Send).
    pub probe: SegmentSpec,
    /// Our address.
    pub src: IpAddr,
    /// Our source port (fixed; replies come back to it).
    pub sport: u16,
    /// Packets per second.
    pub rate: u64,
    /// Extra passes over ports that did not answer.
    pub retries: u32,
    /// How long to wait for late replies after each pass.
    pub wait: std::time::Duration,
}

/// Keeps a pass at its rate: each batch waits until it is due.
struct Pacer {
    start: std::time::Instant,
    sent: u64,
    rate: u64,
    paced: bool,
}

/// Sends one batch when it is due, then takes what was captured meanwhile. Returns how many were sent.
fn flush(link: &mut dyn ProbeLink, batch: &[Vec<u8>], pacer: &mut Pacer, tally: &mut Tally) -> Result<u64, SweepError> {
    if batch.is_empty() {
        return Ok(0);
    }
    if pacer.paced {
        let due = pacer.start + std::time::Duration::from_secs_f64(pacer.sent as f64 / pacer.rate as f64);
        if let Some(d) = due.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(d);
        }
    }
    link.send_batch(batch).map_err(|e| SweepError::Build(e.to_string()))?;
    pacer.sent += batch.len() as u64;
    for d in link.drain(std::time::Duration::ZERO) {
        tally.observe(&d);
    }
    Ok(batch.len() as u64)
}

/// Runs the sweep; `progress` is called every few hundred probes and at the end of each pass, and stops the
/// sweep by returning `false` (the ports not yet answered are then reported as filtered).
pub fn run(
    cfg: &SweepConfig,
    link: &mut dyn ProbeLink,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Vec<PortResult>, SweepError> {
    use std::time::Instant;
    let mut tally = Tally::new(Cookies::default(), cfg.sport);
    let builders: Vec<ProbeBuilder> =
        cfg.hosts.iter().map(|&h| ProbeBuilder::new(&cfg.probe, cfg.src, cfg.sport, h)).collect::<Result<_, _>>()?;
    let total = (cfg.hosts.len() * cfg.ports.len()) as u64;
    let mut sent = 0u64;
    let mut batch: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(128)).collect();
    let rate = cfg.rate.max(1);
    for _pass in 0..=cfg.retries {
        let mut pacer = Pacer { start: Instant::now(), sent: 0, rate, paced: link.paced() };
        let mut filled = 0usize;
        for (b, &host) in builders.iter().zip(&cfg.hosts) {
            for &port in &cfg.ports {
                if tally.answered(host, port) {
                    continue;
                }
                b.probe(port, tally.cookie(host, port), &mut batch[filled]);
                filled += 1;
                if filled == BATCH {
                    sent += flush(link, &batch[..filled], &mut pacer, &mut tally)?;
                    filled = 0;
                    if !progress(Progress { sent, total, replies: tally.replies }) {
                        return Ok(tally.results(&cfg.hosts, &cfg.ports));
                    }
                }
            }
        }
        sent += flush(link, &batch[..filled], &mut pacer, &mut tally)?;
        for d in link.drain(cfg.wait) {
            tally.observe(&d);
        }
        let go_on = progress(Progress { sent, total, replies: tally.replies });
        if !go_on || (tally.replies as usize) == cfg.hosts.len() * cfg.ports.len() {
            break;
        }
    }
    Ok(tally.results(&cfg.hosts, &cfg.ports))
}
