//! Matching captured datagrams to the flow and telling who sent them: us (`Crafted`), the peer, our own kernel
//! (`LocalKernel`, such as the classic RST to an unexpected SYN-ACK), or a router or host reporting an ICMP error.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use serde::{Deserialize, Serialize};

use super::Flow;
use crate::wire::field::{self, icmp, ipv6, tcp};
use crate::wire::{self, Segment};

/// Who sent a captured datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A segment we crafted, as seen on the wire.
    Crafted,
    /// The peer.
    Peer,
    /// Our own operating system, from our address and port, but not crafted by us.
    LocalKernel,
    /// An ICMP or ICMPv6 error about our flow.
    Icmp,
}

impl Origin {
    /// The lower-case name used in JSON and tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::Crafted => "crafted",
            Origin::Peer => "peer",
            Origin::LocalKernel => "local_kernel",
            Origin::Icmp => "icmp",
        }
    }
}

/// An ICMP or ICMPv6 error that quotes a datagram of our flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcmpError {
    /// Who sent the error.
    pub from: IpAddr,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// Whether it is ICMPv6.
    pub v6: bool,
    /// The sequence number of the quoted segment, when the quote reaches it.
    pub quoted_seq: Option<u32>,
}

impl IcmpError {
    /// A plain description of the type and code, e.g. `port unreachable`, `administratively prohibited`.
    pub fn describe(&self) -> &'static str {
        match (self.v6, self.icmp_type, self.code) {
            (false, 3, 0) => "network unreachable",
            (false, 3, 1) => "host unreachable",
            (false, 3, 2) => "protocol unreachable",
            (false, 3, 3) => "port unreachable",
            (false, 3, 4) => "fragmentation needed",
            (false, 3, 9 | 10 | 13) => "administratively prohibited",
            (false, 3, _) => "destination unreachable",
            (false, 11, _) => "time exceeded",
            (false, 12, _) => "parameter problem",
            (true, 1, 0) => "no route to destination",
            (true, 1, 1) => "administratively prohibited",
            (true, 1, 3) => "address unreachable",
            (true, 1, 4) => "port unreachable",
            (true, 1, 5 | 6) => "rejected by policy",
            (true, 1, _) => "destination unreachable",
            (true, 2, _) => "packet too big",
            (true, 3, _) => "time exceeded",
            (true, 4, _) => "parameter problem",
            _ => "ICMP error",
        }
    }
}

/// The TCP bytes of the datagrams we sent lately, to recognise them when they are captured.
#[derive(Debug, Default)]
pub struct SentLog {
    recent: VecDeque<Vec<u8>>,
}

/// How many sent datagrams are remembered.
const SENT_LOG_LEN: usize = 64;

impl SentLog {
    /// Remembers a datagram we sent.
    pub fn record(&mut self, datagram: &[u8]) {
        if let Ok(seg) = wire::parse_any_protocol(datagram) {
            if self.recent.len() == SENT_LOG_LEN {
                self.recent.pop_front();
            }
            self.recent.push_back(datagram[seg.tcp_offset..].to_vec());
        }
    }

    /// Whether these TCP bytes are one of ours (the kernel may rewrite the IP header of a raw send, so only
    /// the TCP part is compared).
    fn contains(&self, tcp: &[u8]) -> bool {
        self.recent.iter().any(|s| s == tcp)
    }
}

/// What a captured datagram is, if it belongs to the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// Who sent it.
    pub origin: Origin,
    /// The TCP segment, when it is one.
    pub segment: Option<Segment>,
    /// The ICMP error, when it is one.
    pub icmp: Option<IcmpError>,
}

/// Classifies one captured IP datagram against the flow; `None` when it is not part of it.
pub fn classify(flow: &Flow, datagram: &[u8], sent: &SentLog) -> Option<Classified> {
    if let Ok(seg) = wire::parse(datagram) {
        let src = SocketAddr::new(seg.src(), seg.tcp.sport);
        let dst = SocketAddr::new(seg.dst(), seg.tcp.dport);
        let origin = if src == flow.local && dst == flow.remote {
            if sent.contains(&datagram[seg.tcp_offset..]) {
                Origin::Crafted
            } else {
                Origin::LocalKernel
            }
        } else if src == flow.remote && dst == flow.local {
            Origin::Peer
        } else {
            return None;
        };
        return Some(Classified { origin, segment: Some(seg), icmp: None });
    }
    let (icmp, quoted_src, quoted_dst) = icmp_quote(datagram)?;
    if quoted_src == flow.local && quoted_dst == flow.remote {
        Some(Classified { origin: Origin::Icmp, segment: None, icmp: Some(icmp) })
    } else {
        None
    }
}

/// An ICMP/ICMPv6 error that quotes a TCP segment: the error (with the quoted sequence number) and the quoted
/// segment's source and destination.
pub fn icmp_quote(datagram: &[u8]) -> Option<(IcmpError, SocketAddr, SocketAddr)> {
    let icmp = icmp_error(datagram)?;
    let (src, dst, quoted_seq) = quoted_flow(datagram)?;
    Some((IcmpError { quoted_seq, ..icmp }, src, dst))
}

/// Type, code and sender of an ICMP/ICMPv6 error datagram (not of echo and other informational messages).
fn icmp_error(datagram: &[u8]) -> Option<IcmpError> {
    match datagram.first()? >> 4 {
        4 => {
            let ip = Ipv4Packet::new(datagram)?;
            let body = datagram.get(usize::from(ip.get_header_length()) * 4..)?;
            let (t, c) = (*body.get(icmp::TYPE)?, *body.get(icmp::CODE)?);
            (ip.get_next_level_protocol().0 == 1 && matches!(t, 3 | 11 | 12)).then_some(IcmpError {
                from: ip.get_source().into(),
                icmp_type: t,
                code: c,
                v6: false,
                quoted_seq: None,
            })
        }
        6 => {
            let ip = Ipv6Packet::new(datagram)?;
            let body = datagram.get(ipv6::HEADER_LEN..)?;
            let (t, c) = (*body.get(icmp::TYPE)?, *body.get(icmp::CODE)?);
            (ip.get_next_header().0 == 58 && (1..=4).contains(&t)).then_some(IcmpError {
                from: ip.get_source().into(),
                icmp_type: t,
                code: c,
                v6: true,
                quoted_seq: None,
            })
        }
        _ => None,
    }
}

/// The TCP endpoints (and sequence number, if quoted) of the datagram an ICMP error quotes.
fn quoted_flow(datagram: &[u8]) -> Option<(SocketAddr, SocketAddr, Option<u32>)> {
    let v4 = datagram.first()? >> 4 == 4;
    let outer_len = if v4 { usize::from(datagram.first()? & 0x0F) * 4 } else { ipv6::HEADER_LEN };
    // ICMP header: type, code, checksum, 4 bytes of rest-of-header; then the quoted datagram.
    let inner = datagram.get(outer_len + icmp::HEADER_LEN..)?;
    let (src, dst, quoted) = if v4 {
        let ip = Ipv4Packet::new(inner)?;
        if ip.get_next_level_protocol().0 != wire::parse::PROTO_TCP {
            return None;
        }
        let quoted = inner.get(usize::from(ip.get_header_length()) * 4..)?;
        (IpAddr::from(ip.get_source()), IpAddr::from(ip.get_destination()), quoted)
    } else {
        let ip = Ipv6Packet::new(inner)?;
        if ip.get_next_header().0 != wire::parse::PROTO_TCP {
            return None;
        }
        (IpAddr::from(ip.get_source()), IpAddr::from(ip.get_destination()), inner.get(ipv6::HEADER_LEN..)?)
    };
    // An ICMP error must quote at least 8 bytes of the datagram: the ports, and the sequence number if it fits.
    let sport = field::get_u16(quoted, tcp::SRC_PORT)?;
    let dport = field::get_u16(quoted, tcp::DST_PORT)?;
    let seq = field::get_u32(quoted, tcp::SEQ);
    Some((SocketAddr::new(src, sport), SocketAddr::new(dst, dport), seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{build, SegmentSpec, TcpFlags};

    fn flow() -> Flow {
        Flow { local: "192.0.2.1:40000".parse().unwrap(), remote: "192.0.2.10:80".parse().unwrap() }
    }

    #[test]
    fn crafted_peer_kernel_and_strangers() {
        let syn = build(&SegmentSpec::default()).unwrap();
        let mut sent = SentLog::default();
        sent.record(&syn);
        assert_eq!(classify(&flow(), &syn, &sent).unwrap().origin, Origin::Crafted);

        let mut rst = SegmentSpec::default();
        rst.tcp.flags = TcpFlags::RST;
        let rst = build(&rst).unwrap();
        assert_eq!(classify(&flow(), &rst, &sent).unwrap().origin, Origin::LocalKernel);

        let reply = crate::wire::parse(&syn).unwrap().to_spec();
        let mut reply = reply;
        if let crate::wire::IpSpec::V4(ip) = &mut reply.ip {
            std::mem::swap(&mut ip.src, &mut ip.dst);
        }
        std::mem::swap(&mut reply.tcp.sport, &mut reply.tcp.dport);
        reply.tcp.flags = TcpFlags::SYN_ACK;
        let reply = build(&reply).unwrap();
        assert_eq!(classify(&flow(), &reply, &sent).unwrap().origin, Origin::Peer);

        let mut other = SegmentSpec::default();
        other.tcp.dport = 81;
        assert!(classify(&flow(), &build(&other).unwrap(), &sent).is_none());
    }

    #[test]
    fn icmp_port_unreachable_quoting_our_syn() {
        let syn = build(&SegmentSpec::default()).unwrap();
        // An ICMP port unreachable from 192.0.2.10, quoting the SYN's IP header and first 8 TCP bytes.
        let mut icmp = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 2, 10, 192, 0, 2, 1];
        icmp.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        icmp.extend_from_slice(&syn[..28]);
        let c = classify(&flow(), &icmp, &SentLog::default()).unwrap();
        assert_eq!(c.origin, Origin::Icmp);
        let e = c.icmp.unwrap();
        assert_eq!((e.icmp_type, e.code, e.describe()), (3, 3, "port unreachable"));
        assert_eq!(e.quoted_seq, Some(0));
        // Truncated quotes are ignored, never a panic.
        for n in 0..icmp.len() {
            let _ = classify(&flow(), &icmp[..n], &SentLog::default());
        }
    }
}
