//! The simulated path in front of the lab host: routers that count the TTL (IPv6: hop limit) down, answer ICMP
//! time-exceeded when it runs out, and filter TCP by destination port, dropping it silently or answering a forged
//! reset as nftables' `reject with tcp reset` does. Router i (0-based) is hop i + 1; the host is hop n + 1.
//!
//! Everything sent back to us is aged too: a reply leaves its sender with TTL 64 and loses one per router on the way
//! back, so router 1's answers arrive with 64, router 2's with 63 and the host's with 64 − n, as on a real path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::util;
use serde::{Deserialize, Serialize};

use crate::wire::field::{icmp, ipv4, ipv6};
use crate::wire::{self, checksum};

/// One router between us and the simulated host (an entry of `SimConfig::routers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimRouter {
    /// The router's IPv4 address (the source of its ICMP answers); the default is 192.0.2.254.
    pub addr: Ipv4Addr,
    /// The router's IPv6 address; the default is 2001:db8::fe.
    pub addr_v6: Ipv6Addr,
    /// TCP destination ports it drops silently (a firewall's `drop`).
    pub drop: Vec<u16>,
    /// TCP destination ports it answers with a reset forged in the host's name (`reject with tcp reset`).
    pub reset: Vec<u16>,
}

impl Default for SimRouter {
    fn default() -> Self {
        SimRouter {
            addr: Ipv4Addr::new(192, 0, 2, 254),
            addr_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xfe),
            drop: Vec::new(),
            reset: Vec::new(),
        }
    }
}

/// The TTL (IPv6: hop limit) every simulated sender starts its datagrams with, as Linux does.
pub const INITIAL_TTL: u8 = 64;
/// ICMP payload Linux quotes at most in an error: 576 bytes minus the IPv4 and ICMP headers (RFC 1812 §4.3.2.3).
const ICMP_QUOTE_V4: usize = 576 - ipv4::HEADER_LEN - icmp::HEADER_LEN;
/// ICMPv6 payload quoted at most: the error must fit in the minimum MTU, 1280 bytes (RFC 4443 §2.4 (c)).
const ICMP_QUOTE_V6: usize = 1280 - ipv6::HEADER_LEN - icmp::HEADER_LEN;
/// ICMPv6 type and code of "hop limit exceeded in transit".
const ICMPV6_TIME_EXCEEDED: u8 = 3;
/// ICMP type of "time exceeded" (code 0: TTL exceeded in transit).
const ICMP_TIME_EXCEEDED: u8 = 11;
/// The type of service Linux gives its ICMP errors (IPTOS_PREC_INTERNETCONTROL).
const ICMP_TOS: u8 = 0xc0;

/// What the path does with one of our datagrams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crossing {
    /// It reaches the host, its TTL lowered by every router (and the IPv4 checksum fixed).
    Host(Vec<u8>),
    /// Router `hop` (0-based) answers instead: a time-exceeded or a forged reset, as it leaves the router.
    Answer {
        /// The router that answers.
        hop: usize,
        /// Its answer, TTL [`INITIAL_TTL`].
        reply: Vec<u8>,
    },
    /// Some router drops it without a word.
    Dropped,
}

/// Walks our datagram through `routers` in order, towards the host.
pub fn cross(routers: &[SimRouter], datagram: &[u8]) -> Crossing {
    let mut d = datagram.to_vec();
    for (hop, router) in routers.iter().enumerate() {
        let Some(ttl) = readable_ttl(&d) else { return Crossing::Dropped };
        // Linux checks the TTL before the forward chain's filter runs: a filtered probe still expires visibly.
        if ttl <= 1 {
            return match time_exceeded(router, &d) {
                Some(reply) => Crossing::Answer { hop, reply },
                None => Crossing::Dropped,
            };
        }
        if let Ok(s) = wire::parse(&d) {
            if router.drop.contains(&s.tcp.dport) {
                return Crossing::Dropped;
            }
            if router.reset.contains(&s.tcp.dport) {
                return match forged_reset(&s) {
                    Some(reply) => Crossing::Answer { hop, reply },
                    None => Crossing::Dropped,
                };
            }
        }
        set_ttl(&mut d, ttl - 1);
    }
    Crossing::Host(d)
}

/// A datagram sent towards us from `hops` routers away, as it arrives: its TTL lowered by each router it crosses
/// (`None` when it runs out on the way, as a reply with a small TTL would). Zero hops leaves it untouched.
pub fn back(mut datagram: Vec<u8>, hops: usize) -> Option<Vec<u8>> {
    if hops == 0 {
        return Some(datagram);
    }
    let ttl = readable_ttl(&datagram)?;
    let left = usize::from(ttl).checked_sub(hops).filter(|t| *t >= 1)?;
    set_ttl(&mut datagram, u8::try_from(left).ok()?);
    Some(datagram)
}

/// The TTL (IPv6: hop limit) of a datagram a router can forward: an IPv4 header that is complete and whose checksum
/// verifies (Linux's `ip_rcv` drops the rest), or an IPv6 header.
fn readable_ttl(d: &[u8]) -> Option<u8> {
    match d.first()? >> 4 {
        4 => {
            let ihl = usize::from(d.first()? & 0x0f) * 4;
            let header = d.get(..ihl).filter(|_| ihl >= ipv4::HEADER_LEN)?;
            let stored = u16::from_be_bytes([header[ipv4::CHECKSUM.start], header[ipv4::CHECKSUM.start + 1]]);
            checksum::verifies(stored, checksum::ipv4_header(header)).then_some(header[ipv4::TTL])
        }
        6 => d.get(ipv6::HOP_LIMIT).copied().filter(|_| d.len() >= ipv6::HEADER_LEN),
        _ => None,
    }
}

/// Sets the TTL (IPv6: hop limit) of a datagram whose header [`readable_ttl`] accepted, fixing the IPv4 checksum.
fn set_ttl(d: &mut [u8], ttl: u8) {
    if d.first().map(|b| b >> 4) == Some(6) {
        if let Some(h) = d.get_mut(ipv6::HOP_LIMIT) {
            *h = ttl;
        }
        return;
    }
    let ihl = d.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if let Some(header) = d.get_mut(..ihl).filter(|h| h.len() >= ipv4::HEADER_LEN) {
        header[ipv4::TTL] = ttl;
        let sum = checksum::ipv4_header(header);
        header[ipv4::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    }
}

/// The router's ICMP time-exceeded about `d` (as it arrived there), to `d`'s source: IPv4 quotes up to 548 bytes of
/// it, as Linux does, IPv6 as much as fits in 1280 bytes. `None` where no error is sent (RFC 1812 §4.3.2.7): about
/// a later fragment, or about an ICMP error.
fn time_exceeded(router: &SimRouter, d: &[u8]) -> Option<Vec<u8>> {
    match d.first()? >> 4 {
        4 => {
            let header_len = usize::from(d.first()? & 0x0f) * 4;
            let frag = u16::from_be_bytes([*d.get(ipv4::FRAG.start)?, *d.get(ipv4::FRAG.start + 1)?]);
            let protocol = *d.get(ipv4::PROTOCOL)?;
            let about_an_error = protocol == 1 && d.get(header_len).is_some_and(|t| matches!(t, 3 | 4 | 5 | 11 | 12));
            if frag & ipv4::FRAG_OFFSET_MASK != 0 || about_an_error {
                return None;
            }
            let dst = Ipv4Addr::from(<[u8; 4]>::try_from(d.get(ipv4::SRC)?).ok()?);
            let quote = &d[..d.len().min(ICMP_QUOTE_V4)];
            Some(icmp_v4(router.addr, dst, ICMP_TIME_EXCEEDED, 0, quote))
        }
        6 => {
            let next = *d.get(ipv6::NEXT_HEADER)?;
            if next == 58 && d.get(ipv6::HEADER_LEN).is_some_and(|t| *t < 128) {
                return None;
            }
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(d.get(ipv6::SRC)?).ok()?);
            let quote = &d[..d.len().min(ICMP_QUOTE_V6)];
            Some(icmp_v6(router.addr_v6, dst, ICMPV6_TIME_EXCEEDED, 0, quote))
        }
        _ => None,
    }
}

/// An ICMP error (`icmp_type`, `code`, four unused bytes, then `quote`) in an IPv4 datagram from `src` to `dst`.
pub fn icmp_v4(src: Ipv4Addr, dst: Ipv4Addr, icmp_type: u8, code: u8, quote: &[u8]) -> Vec<u8> {
    let total = ipv4::HEADER_LEN + icmp::HEADER_LEN + quote.len();
    let mut d = vec![0u8; total];
    d[ipv4::VER_IHL] = 0x45;
    d[ipv4::TOS] = ICMP_TOS;
    d[ipv4::TOTAL_LEN].copy_from_slice(&(total as u16).to_be_bytes());
    d[ipv4::TTL] = INITIAL_TTL;
    d[ipv4::PROTOCOL] = 1;
    d[ipv4::SRC].copy_from_slice(&src.octets());
    d[ipv4::DST].copy_from_slice(&dst.octets());
    let sum = checksum::ipv4_header(&d[..ipv4::HEADER_LEN]);
    d[ipv4::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    let body = &mut d[ipv4::HEADER_LEN..];
    body[icmp::TYPE] = icmp_type;
    body[icmp::CODE] = code;
    body[icmp::HEADER_LEN..].copy_from_slice(quote);
    let sum = util::checksum(body, 1);
    body[icmp::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    d
}

/// An ICMPv6 error (`icmp_type`, `code`, four unused bytes, then `quote`) in an IPv6 datagram from `src` to `dst`.
pub fn icmp_v6(src: Ipv6Addr, dst: Ipv6Addr, icmp_type: u8, code: u8, quote: &[u8]) -> Vec<u8> {
    let payload = icmp::HEADER_LEN + quote.len();
    let mut d = vec![0u8; ipv6::HEADER_LEN + payload];
    d[0] = 0x60;
    d[ipv6::PAYLOAD_LEN].copy_from_slice(&(payload as u16).to_be_bytes());
    d[ipv6::NEXT_HEADER] = IpNextHeaderProtocols::Icmpv6.0;
    d[ipv6::HOP_LIMIT] = INITIAL_TTL;
    d[ipv6::SRC].copy_from_slice(&src.octets());
    d[ipv6::DST].copy_from_slice(&dst.octets());
    let body = &mut d[ipv6::HEADER_LEN..];
    body[icmp::TYPE] = icmp_type;
    body[icmp::CODE] = code;
    body[icmp::HEADER_LEN..].copy_from_slice(quote);
    let sum = util::ipv6_checksum(body, 1, &[], &src, &dst, IpNextHeaderProtocols::Icmpv6);
    body[icmp::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    d
}

/// The reset Linux's `nf_send_reset` forges for segment `s`, in the name of its destination: none for a RST, a
/// fragment or a bad checksum; to a segment with ACK a bare RST whose seq is that ack, else RST-ACK with seq 0 and
/// ack = its seq + its length (+1 for SYN and FIN). IPv4: DF set, id 0; both families TTL 64, window 0.
pub fn forged_reset(s: &wire::Segment) -> Option<Vec<u8>> {
    let f = s.tcp.flags;
    let fragment = s.anomalies.iter().any(|a| matches!(a, wire::Anomaly::Fragment));
    if f.rst || fragment || !s.tcp_checksum_ok() {
        return None;
    }
    let ip = match (s.dst(), s.src()) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            wire::IpSpec::V4(wire::Ipv4Spec { src, dst, id: 0, df: true, ttl: INITIAL_TTL, ..Default::default() })
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            wire::IpSpec::V6(wire::Ipv6Spec { src, dst, hop_limit: INITIAL_TTL, ..Default::default() })
        }
        _ => return None,
    };
    let mut reply = wire::SegmentSpec { ip, ..Default::default() };
    reply.tcp.sport = s.tcp.dport;
    reply.tcp.dport = s.tcp.sport;
    if f.ack {
        reply.tcp.seq = s.tcp.ack;
        reply.tcp.ack = 0;
        reply.tcp.flags = wire::TcpFlags::RST;
    } else {
        reply.tcp.seq = 0;
        reply.tcp.ack = s.tcp.seq.wrapping_add(s.seq_len());
        reply.tcp.flags = wire::TcpFlags::RST_ACK;
    }
    reply.tcp.window = 0;
    wire::build(&reply).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::classify;
    use crate::wire::{build, IpSpec, Ipv6Spec, SegmentSpec, TcpFlags};

    fn syn(port: u16, ttl: u8) -> Vec<u8> {
        let mut s = SegmentSpec::default();
        s.tcp.dport = port;
        s.tcp.seq = 0x1234_5600;
        if let IpSpec::V4(ip) = &mut s.ip {
            ip.ttl = ttl;
        }
        build(&s).unwrap()
    }

    fn routers() -> Vec<SimRouter> {
        vec![
            SimRouter { drop: vec![8081], ..SimRouter::default() },
            SimRouter { addr: Ipv4Addr::new(198, 51, 100, 1), reset: vec![8082], ..SimRouter::default() },
        ]
    }

    /// A probe whose TTL runs out at a router gets its time-exceeded, quoting the probe (its sequence number
    /// too) as it arrived there, with a correct ICMP checksum.
    #[test]
    fn an_expiring_ttl_gets_time_exceeded_quoting_the_probe() {
        let probe = syn(80, 2);
        let Crossing::Answer { hop, reply } = cross(&routers(), &probe) else { panic!("no answer") };
        assert_eq!(hop, 1);
        let (e, src, dst) = classify::icmp_quote(&reply).unwrap();
        assert_eq!(
            (e.from, e.icmp_type, e.code, e.quoted_seq),
            ("198.51.100.1".parse().unwrap(), 11, 0, Some(0x1234_5600))
        );
        assert_eq!((src.port(), dst.port()), (40000, 80));
        assert_eq!(reply[ipv4::TTL], 64);
        assert_eq!(util::checksum(&reply[ipv4::HEADER_LEN..], usize::MAX), 0, "the ICMP checksum verifies");
        assert_eq!(checksum::ipv4_header(&reply[..20]), u16::from_be_bytes([reply[10], reply[11]]));
        // The whole probe is quoted, with the TTL it had at the second router.
        let quote = &reply[28..];
        assert_eq!(quote.len(), probe.len());
        assert_eq!(quote[ipv4::TTL], 1);
        assert_eq!(&quote[20..], &probe[20..]);
        assert_eq!(readable_ttl(quote), Some(1), "the quoted header's checksum was fixed after the decrement");
    }

    #[test]
    fn the_host_is_reached_with_the_ttl_lowered_by_each_router() {
        let Crossing::Host(d) = cross(&routers(), &syn(80, 64)) else { panic!("not delivered") };
        let s = wire::parse(&d).unwrap();
        assert_eq!(s.ttl(), 62);
        assert!(s.ip_checksum_ok());
        assert_eq!(cross(&[], &syn(80, 1)), Crossing::Host(syn(80, 1)), "no routers: untouched");
    }

    #[test]
    fn drops_and_forged_resets_by_port() {
        assert_eq!(cross(&routers(), &syn(8081, 64)), Crossing::Dropped);
        assert!(matches!(cross(&routers(), &syn(8081, 1)), Crossing::Answer { hop: 0, .. }), "TTL first");
        let Crossing::Answer { hop, reply } = cross(&routers(), &syn(8082, 64)) else { panic!("no reset") };
        assert_eq!(hop, 1);
        let r = wire::parse(&reply).unwrap();
        assert_eq!((r.src(), r.dst()), ("192.0.2.10".parse().unwrap(), "192.0.2.1".parse().unwrap()));
        assert_eq!((r.tcp.sport, r.tcp.dport, r.tcp.flags), (8082, 40000, TcpFlags::RST_ACK));
        assert_eq!((r.tcp.seq, r.tcp.ack, r.ttl()), (0, 0x1234_5601, 64));
        assert!(r.tcp_checksum_ok() && r.ip_checksum_ok());
        // To a segment with ACK: a bare RST carrying its ack; to a RST or a bad checksum: nothing.
        let mut ack = SegmentSpec::default();
        ack.tcp.dport = 8082;
        ack.tcp.flags = TcpFlags::ACK;
        ack.tcp.ack = 77;
        let Crossing::Answer { reply, .. } = cross(&routers(), &build(&ack).unwrap()) else { panic!() };
        let r = wire::parse(&reply).unwrap();
        assert_eq!((r.tcp.flags, r.tcp.seq), (TcpFlags::RST, 77));
        ack.tcp.flags = TcpFlags::RST;
        assert_eq!(cross(&routers(), &build(&ack).unwrap()), Crossing::Dropped);
        ack.tcp.flags = TcpFlags::SYN;
        ack.tcp.checksum = crate::wire::Checksum::Bad;
        assert_eq!(cross(&routers(), &build(&ack).unwrap()), Crossing::Dropped);
    }

    #[test]
    fn a_bad_ip_checksum_or_a_truncated_header_is_dropped_by_the_first_router() {
        let mut d = syn(80, 64);
        d[ipv4::CHECKSUM.start] ^= 0xff;
        assert_eq!(cross(&routers(), &d), Crossing::Dropped);
        for n in 0..20 {
            assert_eq!(cross(&routers(), &syn(80, 64)[..n]), Crossing::Dropped);
        }
    }

    #[test]
    fn replies_age_on_the_way_back() {
        let d = syn(80, 64);
        assert_eq!(back(d.clone(), 0), Some(d.clone()));
        let aged = wire::parse(&back(d.clone(), 3).unwrap()).unwrap();
        assert_eq!(aged.ttl(), 61);
        assert!(aged.ip_checksum_ok());
        assert_eq!(back(syn(80, 2), 2), None, "runs out on the way");
    }

    /// IPv6: the hop limit counts down the same way; the time-exceeded is ICMPv6 type 3 with a valid checksum.
    #[test]
    fn ipv6_hop_limit() {
        let mut s =
            SegmentSpec { ip: IpSpec::V6(Ipv6Spec { hop_limit: 1, ..Ipv6Spec::default() }), ..Default::default() };
        s.tcp.seq = 99;
        let probe = build(&s).unwrap();
        let Crossing::Answer { hop: 0, reply } = cross(&routers(), &probe) else { panic!() };
        let (e, _, _) = classify::icmp_quote(&reply).unwrap();
        assert_eq!((e.v6, e.icmp_type, e.code, e.quoted_seq), (true, 3, 0, Some(99)));
        assert_eq!(e.from, "2001:db8::fe".parse::<IpAddr>().unwrap());
        assert_eq!(&reply[48..], &probe[..]);
        let (src, dst) = ("2001:db8::fe".parse().unwrap(), "2001:db8::1".parse().unwrap());
        assert_eq!(util::ipv6_checksum(&reply[40..], usize::MAX, &[], &src, &dst, IpNextHeaderProtocols::Icmpv6), 0);
        s.ip = IpSpec::V6(Ipv6Spec::default());
        let Crossing::Host(d) = cross(&routers(), &build(&s).unwrap()) else { panic!() };
        assert_eq!(d[ipv6::HOP_LIMIT], 62);
    }

    /// A long probe is quoted up to 548 bytes (IPv4) and 1232 bytes (IPv6), as Linux does.
    #[test]
    fn long_probes_are_quoted_up_to_the_limit() {
        let mut s = SegmentSpec { payload: crate::wire::Payload::Hex(vec![0xab; 1400]), ..Default::default() };
        if let IpSpec::V4(ip) = &mut s.ip {
            ip.ttl = 1;
        }
        let Crossing::Answer { reply, .. } = cross(&routers(), &build(&s).unwrap()) else { panic!() };
        assert_eq!(reply.len(), 576);
        s.ip = IpSpec::V6(Ipv6Spec { hop_limit: 1, ..Ipv6Spec::default() });
        let Crossing::Answer { reply, .. } = cross(&routers(), &build(&s).unwrap()) else { panic!() };
        assert_eq!(reply.len(), 1280);
    }
}
