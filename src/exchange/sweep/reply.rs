//! The sweep's hot path: the few fields a reply is matched by (addresses, ports, sequence and acknowledgement
//! numbers, flags) read where they sit, with no full parse. A datagram this cannot read (not TCP, an IPv4
//! fragment, an IPv6 extension header, cut short) is left to the full parser.

use std::net::IpAddr;

use crate::wire::field::{self, ipv4, ipv6, tcp};
use crate::wire::TcpFlags;

/// What a TCP reply is matched by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Reply {
    /// Its source address (the probed host).
    pub host: IpAddr,
    /// Its source port (the probed port).
    pub sport: u16,
    /// Its destination port (our source port when it answers a probe).
    pub dport: u16,
    /// Its sequence number.
    pub seq: u32,
    /// Its acknowledgement number.
    pub ack: u32,
    /// Its flags.
    pub flags: TcpFlags,
    /// Its IP TTL (IPv6: hop limit), the evidence of how far away its sender is.
    pub ttl: u8,
}

/// Four bytes at `r` of `d` as a big-endian number.
fn u32_at(d: &[u8], r: std::ops::Range<usize>) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(r)?.try_into().ok()?))
}

/// Two bytes at `r` of `d` as a big-endian number.
fn u16_at(d: &[u8], r: std::ops::Range<usize>) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(r)?.try_into().ok()?))
}

/// The reply fields of an IPv4 or IPv6 datagram carrying a whole TCP header right after the IP header.
pub(super) fn tcp_reply(d: &[u8]) -> Option<Reply> {
    let first = *d.get(ipv4::VER_IHL)?;
    let (host, t, ttl) = match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0x0f) * 4;
            let frag = u16_at(d, ipv4::FRAG)?;
            if ihl < ipv4::HEADER_LEN || *d.get(ipv4::PROTOCOL)? != 6 || frag & ipv4::FRAG_OFFSET_MASK != 0 {
                return None;
            }
            let src: [u8; 4] = d.get(ipv4::SRC)?.try_into().ok()?;
            (IpAddr::from(src), ihl, *d.get(ipv4::TTL)?)
        }
        6 => {
            if *d.get(ipv6::NEXT_HEADER)? != 6 {
                return None;
            }
            let src: [u8; 16] = d.get(ipv6::SRC)?.try_into().ok()?;
            (IpAddr::from(src), ipv6::HEADER_LEN, *d.get(ipv6::HOP_LIMIT)?)
        }
        _ => return None,
    };
    if d.len() < t + tcp::HEADER_LEN {
        return None;
    }
    let off_flags = u16_at(d, field::at(t, tcp::OFF_FLAGS))?;
    Some(Reply {
        host,
        sport: u16_at(d, field::at(t, tcp::SRC_PORT))?,
        dport: u16_at(d, field::at(t, tcp::DST_PORT))?,
        seq: u32_at(d, field::at(t, tcp::SEQ))?,
        ack: u32_at(d, field::at(t, tcp::ACK))?,
        flags: TcpFlags::from_bits(off_flags & 0x1ff),
        ttl,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::wire::{self, IpSpec, SegmentSpec};

    /// The fast reader agrees with the full parser on both families and every flag combination tried.
    #[test]
    fn agrees_with_the_full_parse() {
        for v6 in [false, true] {
            for bits in [0x002u16, 0x012, 0x014, 0x004, 0x011, 0x1ff] {
                let mut spec = SegmentSpec::default();
                if v6 {
                    spec.ip =
                        spec.ip.addressed("2001:db8::2".parse().unwrap(), "2001:db8::1".parse().unwrap()).unwrap();
                }
                (spec.tcp.sport, spec.tcp.dport, spec.tcp.seq, spec.tcp.ack) = (443, 47_000, 0xdead_beef, 0x0102_0304);
                spec.tcp.flags = TcpFlags::from_bits(bits);
                let d = wire::build(&spec).unwrap();
                let s = wire::parse(&d).unwrap();
                let r = tcp_reply(&d).unwrap();
                assert_eq!((r.host, r.sport, r.dport, r.seq, r.ack), (s.src(), 443, 47_000, s.tcp.seq, s.tcp.ack));
                assert_eq!(r.flags, s.tcp.flags);
                let header_end = if v6 { 60 } else { 40 };
                assert_eq!(tcp_reply(&d[..header_end - 1]), None, "a cut TCP header is not read");
            }
        }
    }

    /// Not TCP, a non-first fragment, and a short IPv4 header length are left to the full parser.
    #[test]
    fn leaves_what_it_cannot_read() {
        let d = wire::build(&SegmentSpec::default()).unwrap();
        let IpSpec::V4(_) = SegmentSpec::default().ip else { panic!("the default spec is IPv4") };
        let mut udp = d.clone();
        udp[9] = 17;
        assert_eq!(tcp_reply(&udp), None);
        let mut frag = d.clone();
        frag[7] = 1;
        assert_eq!(tcp_reply(&frag), None);
        let mut short = d.clone();
        short[0] = 0x44;
        assert_eq!(tcp_reply(&short), None);
        assert_eq!(tcp_reply(&[]), None);
        assert_eq!(tcp_reply(&[0x45]), None);
    }
}
