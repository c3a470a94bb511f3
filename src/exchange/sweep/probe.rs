//! One probe, many times: the template built once per host (only port, sequence number and checksum change per
//! probe), the keyed cookies that let replies be matched without per-port state, and the tally that turns
//! captured replies into verdicts.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;

use super::reply::{self, Reply};
use super::{PortResult, Reach, SweepError, Verdict};
use crate::link::classify::{self, IcmpError};
use crate::preset::{Preset, Step};
use crate::wire::field::{self, tcp};
use crate::wire::{self, SegmentSpec, TcpFlags};

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

/// Keyed cookies: the sequence number of a probe encodes its destination, so replies need no state. The key comes
/// from the sweep's seed, so a seeded sweep sends the same probes again.
pub struct Cookies(u64);

impl Default for Cookies {
    /// Cookies under a fresh random key.
    fn default() -> Self {
        Cookies(crate::exchange::seed::random())
    }
}

impl Cookies {
    /// Cookies under `key` (SipHash over the key and the destination).
    pub fn keyed(key: u64) -> Cookies {
        Cookies(key)
    }

    /// The cookie (our sequence number) for a probe to `host:port` from `sport`.
    pub fn cookie(&self, host: IpAddr, port: u16, sport: u16) -> u32 {
        let mut h = DefaultHasher::new();
        h.write_u64(self.0);
        (host, port, sport).hash(&mut h);
        (h.finish() & 0xFFFF_FFFF) as u32
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
        if template.len() < tcp_offset + tcp::HEADER_LEN {
            return Err(SweepError::Build(format!(
                "the template ends inside its TCP header ({} bytes)",
                template.len()
            )));
        }
        Ok(ProbeBuilder { template, tcp_offset, flags: spec.tcp.flags, host, src })
    }

    /// The probe to `port` carrying `cookie` (as seq, and as ack for ACK probes), with a correct checksum.
    pub fn probe(&self, port: u16, cookie: u32, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.template);
        // The template parsed as a whole TCP header at `tcp_offset`, so every field below is inside `out`.
        let t = self.tcp_offset;
        out[field::at(t, tcp::DST_PORT)].copy_from_slice(&port.to_be_bytes());
        out[field::at(t, tcp::SEQ)].copy_from_slice(&cookie.to_be_bytes());
        if self.flags.ack {
            out[field::at(t, tcp::ACK)].copy_from_slice(&cookie.to_be_bytes());
        }
        let sum = match (self.src, self.host) {
            (IpAddr::V4(s), IpAddr::V4(d)) => wire::checksum::tcp_v4(&out[t..], s, d, None),
            (IpAddr::V6(s), IpAddr::V6(d)) => wire::checksum::tcp_v6(&out[t..], s, d),
            _ => 0,
        };
        out[field::at(t, tcp::CHECKSUM)].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Matches captured datagrams to probes and keeps the results.
pub struct Tally {
    cookies: Cookies,
    sport: u16,
    results: HashMap<(IpAddr, u16), (Verdict, String, Option<u8>)>,
    /// Replies matched so far.
    pub replies: u64,
    /// Of those: open, closed, unreachable, unfiltered.
    pub counts: [u64; 4],
    /// Probes our kernel refused to send (not replies).
    pub refused: u64,
    /// The probe is a bare ACK (nmap -sA): a RST means "unfiltered", not "closed".
    ack_probe: bool,
}

impl Tally {
    /// A tally for probes sent from `sport` with these cookies.
    pub fn new(cookies: Cookies, sport: u16) -> Tally {
        Tally { cookies, sport, results: HashMap::new(), replies: 0, counts: [0; 4], refused: 0, ack_probe: false }
    }

    /// The same tally for an ACK probe (`probe` has ACK and neither SYN, FIN nor RST): a RST that comes back says
    /// the port is reachable through any firewall ("unfiltered"), whether it is open or closed.
    pub fn for_probe(mut self, probe: &crate::wire::SegmentSpec) -> Tally {
        let f = probe.tcp.flags;
        self.ack_probe = f.ack && !f.syn && !f.fin && !f.rst;
        self
    }

    /// Room for `targets` answers up front, so the table is not grown (and rehashed) while replies come in.
    pub fn expecting(mut self, targets: usize) -> Tally {
        self.results.reserve(targets);
        self
    }

    /// The cookie for a probe.
    pub fn cookie(&self, host: IpAddr, port: u16) -> u32 {
        self.cookies.cookie(host, port, self.sport)
    }

    /// Records that the kernel refused to send `probe` (one of ours): its target is [`Verdict::Refused`], `why`
    /// (`EACCES`) in the reply column, and it is not probed again.
    pub fn refused(&mut self, probe: &[u8], why: &str) {
        if let Ok(s) = wire::parse(probe) {
            self.refuse(s.dst(), s.tcp.dport, why);
        }
    }

    /// Records `host:port` as [`Verdict::Refused`] for `why`, without a probe: it is not probed.
    pub fn refuse(&mut self, host: IpAddr, port: u16, why: &str) {
        self.record(host, port, Verdict::Refused, why.to_string(), None);
    }

    /// Whether this port already has an answer (or was refused).
    pub fn answered(&self, host: IpAddr, port: u16) -> bool {
        self.results.contains_key(&(host, port))
    }

    /// Looks at one captured datagram; records it when it answers one of our probes.
    pub fn observe(&mut self, datagram: &[u8]) {
        // The hot path reads the few fields it needs where they sit; only what it cannot read is parsed whole.
        let tcp = reply::tcp_reply(datagram).or_else(|| {
            wire::parse(datagram).ok().map(|s| Reply {
                host: s.src(),
                sport: s.tcp.sport,
                dport: s.tcp.dport,
                seq: s.tcp.seq,
                ack: s.tcp.ack,
                flags: s.tcp.flags,
                ttl: s.ttl(),
            })
        });
        if let Some(r) = tcp {
            if r.dport != self.sport || self.answered(r.host, r.sport) {
                return;
            }
            let c = self.cookie(r.host, r.sport);
            let f = r.flags;
            // SYN-ACK/RST-ACK acknowledge seq + 1 (or + length); an RST to an ACK probe carries our ack as seq.
            let ours = r.ack.wrapping_sub(c) <= 2 || (f.rst && r.seq == c);
            if !ours {
                return;
            }
            let verdict = match (f.rst, self.ack_probe) {
                (true, true) => Verdict::Unfiltered,
                (true, false) => Verdict::Closed,
                (false, _) => Verdict::Open,
            };
            self.record(r.host, r.sport, verdict, f.letters(), Some(r.ttl));
            return;
        }
        if let Some((icmp, host, port, sport)) = quoted_probe(datagram) {
            if sport == self.sport {
                self.record(
                    host,
                    port,
                    Verdict::Unreachable,
                    format!("icmp {}/{} from {}: {}", icmp.icmp_type, icmp.code, icmp.from, icmp.describe()),
                    None,
                );
            }
        }
    }

    fn record(&mut self, host: IpAddr, port: u16, v: Verdict, reply: String, ttl: Option<u8>) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.results.entry((host, port)) {
            e.insert((v, reply, ttl));
            self.replies += u64::from(v.is_answer());
            match v {
                Verdict::Open => self.counts[0] += 1,
                Verdict::Closed => self.counts[1] += 1,
                Verdict::Unreachable => self.counts[2] += 1,
                Verdict::Unfiltered => self.counts[3] += 1,
                Verdict::Refused => self.refused += 1,
                Verdict::Filtered | Verdict::Waiting | Verdict::NotProbed => {}
            }
        }
    }

    /// Every target's result in host and port order; a target without an answer is filtered, waiting or not
    /// probed, by how far the sweep got ([`Reach`]).
    /// The answers move out of the tally (no copy of each reply's text), so this is its last use: every row is
    /// laid out first, then each answer goes to its row by index (no lookup per target).
    pub(crate) fn results(&mut self, hosts: &[IpAddr], ports: &[u16], reach: &Reach) -> Vec<PortResult> {
        let mut out = Vec::with_capacity(hosts.len() * ports.len());
        for &host in hosts {
            for &port in ports {
                let verdict = reach.silent(out.len());
                out.push(PortResult {
                    host,
                    port,
                    verdict,
                    reply: String::new(),
                    ttl: None,
                    forged_hops: None,
                    host_hops: None,
                });
            }
        }
        let host_index: HashMap<IpAddr, usize> = hosts.iter().enumerate().map(|(i, h)| (*h, i)).collect();
        // A port's place in the list, by a table of all 65,536. A list that names a host or a port twice (`parse_ports`
        // never gives a port twice; `parse_targets` may give a host twice, "a,b,a") is looked up row by row
        // instead, so every copy of a target gets its answer.
        let mut port_index = vec![usize::MAX; 1 << 16];
        let mut unique = host_index.len() == hosts.len();
        for (i, p) in ports.iter().enumerate() {
            unique &= std::mem::replace(&mut port_index[usize::from(*p)], i) == usize::MAX;
        }
        if !unique {
            for row in &mut out {
                if let Some((verdict, reply, ttl)) = self.results.get(&(row.host, row.port)).cloned() {
                    (row.verdict, row.reply, row.ttl) = (verdict, reply, ttl);
                }
            }
            flag_forged_resets(&mut out);
            return out;
        }
        for ((host, port), (verdict, reply, ttl)) in self.results.drain() {
            let (Some(h), Some(&p)) = (host_index.get(&host), port_index.get(usize::from(port))) else { continue };
            if let Some(row) = out.get_mut(h * ports.len() + p).filter(|_| p != usize::MAX) {
                (row.verdict, row.reply, row.ttl) = (verdict, reply, ttl);
            }
        }
        flag_forged_resets(&mut out);
        out
    }
}

/// An ICMP error quoting one of our probes: the error, the probe's destination host and port, and its source port.
/// How many hops away a reply's sender most likely is (1: on our own link), from the reply's TTL and the initial
/// TTL its sender most likely used (the common defaults 32, 64, 128, 255).
pub fn hops_away(ttl: u8) -> u8 {
    let initial = [32u8, 64, 128, 255].into_iter().find(|&i| i >= ttl).unwrap_or(255);
    (initial - ttl).saturating_add(1)
}

/// Marks resets whose TTL differs from the SYN-ACKs of the same host: most likely sent by a device in between
/// (a firewall's `reject with tcp reset`), not the host; `forged_hops` is that device's distance.
fn flag_forged_resets(rows: &mut [PortResult]) {
    let mut host_ttl: HashMap<IpAddr, HashMap<u8, usize>> = HashMap::new();
    for r in rows.iter().filter(|r| r.verdict == Verdict::Open) {
        if let Some(t) = r.ttl {
            *host_ttl.entry(r.host).or_default().entry(t).or_default() += 1;
        }
    }
    for r in rows.iter_mut().filter(|r| r.verdict == Verdict::Closed) {
        let usual = host_ttl.get(&r.host).and_then(|m| m.iter().max_by_key(|(_, n)| **n).map(|(t, _)| *t));
        if let (Some(ttl), Some(usual)) = (r.ttl, usual) {
            if ttl != usual {
                r.forged_hops = Some(hops_away(ttl));
                r.host_hops = Some(hops_away(usual));
            }
        }
    }
}

fn quoted_probe(datagram: &[u8]) -> Option<(IcmpError, IpAddr, u16, u16)> {
    let (icmp, src, dst) = classify::icmp_quote(datagram)?;
    Some((icmp, dst.ip(), dst.port(), src.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

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

#[cfg(test)]
mod results_tests {
    use super::*;

    #[test]
    fn every_answer_lands_on_its_row_also_when_a_host_or_a_port_is_listed_twice() {
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.10".parse().unwrap(), "192.0.2.11".parse().unwrap());
        let reach = Reach { probed: usize::MAX, finished: true };
        for (hosts, ports) in
            [(vec![a, b], vec![80u16, 22, 443]), (vec![a, b], vec![80, 22, 80]), (vec![a, b, a], vec![80, 22, 443])]
        {
            let mut t = Tally::new(Cookies::keyed(1), 40000);
            t.record(b, 22, Verdict::Open, "SA".into(), Some(63));
            t.record(a, 80, Verdict::Closed, "RA".into(), Some(64));
            let rows = t.results(&hosts, &ports, &reach);
            let got: Vec<(IpAddr, u16, Verdict)> = rows.iter().map(|r| (r.host, r.port, r.verdict)).collect();
            let want = |p: u16, h: IpAddr| match (h == a, p) {
                (true, 80) => Verdict::Closed,
                (false, 22) => Verdict::Open,
                _ => Verdict::Filtered,
            };
            let expected: Vec<_> = hosts.iter().flat_map(|&h| ports.iter().map(move |&p| (h, p, want(p, h)))).collect();
            assert_eq!(got, expected, "{hosts:?} {ports:?}");
        }
    }
}

#[cfg(test)]
mod evidence_tests {
    use super::*;

    fn row(port: u16, verdict: Verdict, reply: &str, ttl: u8) -> PortResult {
        let host = IpAddr::from([203, 0, 113, 10]);
        PortResult { host, port, verdict, reply: reply.into(), ttl: Some(ttl), forged_hops: None, host_hops: None }
    }

    #[test]
    fn a_reset_with_another_ttl_than_the_hosts_syn_acks_is_flagged_with_its_distance() {
        // The host is two hops away (SYN-ACKs at 62); the firewall one hop away resets port 8082 at 63.
        let mut rows = vec![
            row(80, Verdict::Open, "SA", 62),
            row(81, Verdict::Closed, "RA", 62),
            row(8082, Verdict::Closed, "RA", 63),
        ];
        flag_forged_resets(&mut rows);
        assert_eq!(rows[1].forged_hops, None, "the host's own reset");
        assert_eq!(rows[2].forged_hops, Some(2), "the firewall is the second hop");
        assert_eq!(rows[0].reason(), "syn-ack ttl 62");
        assert_eq!(rows[1].reason(), "reset ttl 62");
        assert_eq!(
            rows[2].reason(),
            "reset ttl 63 (TTL differs from the host's SYN-ACKs: probably forged by a device 2 hops away, 1 hop closer \
             than the host)"
        );
        assert_eq!((hops_away(64), hops_away(63), hops_away(120), hops_away(250)), (1, 2, 9, 6));
    }
}
