//! Internet checksums (RFC 1071) for the IPv4 header and for TCP over its pseudo-header (RFC 9293 §3.1),
//! computed with `pnet_packet`'s functions, plus the policy of the spec (auto, manual, bad).

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::tcp::{self, TcpPacket};
use pnet_packet::util;

use super::spec::Checksum;

/// 16-bit word index of the checksum inside an IPv4 header.
const IPV4_CSUM_WORD: usize = 5;
/// 16-bit word index of the checksum inside a TCP header.
const TCP_CSUM_WORD: usize = 8;

/// The IPv4 header checksum of `header` (every byte given, options included), ignoring its checksum field.
pub fn ipv4_header(header: &[u8]) -> u16 {
    util::checksum(header, IPV4_CSUM_WORD)
}

/// The TCP checksum of `segment` over an IPv4 pseudo-header, ignoring the segment's checksum field.
///
/// `pseudo_len` is the length the pseudo-header states; `None` uses the segment's real length. Scapy states
/// `total_len - 4 * ihl` when the IP total length is set by hand, and so do we, so the builds stay comparable.
pub fn tcp_v4(segment: &[u8], src: Ipv4Addr, dst: Ipv4Addr, pseudo_len: Option<u16>) -> u16 {
    match (pseudo_len, TcpPacket::new(segment)) {
        (None, Some(p)) => tcp::ipv4_checksum(&p, &src, &dst),
        _ => {
            let len = pseudo_len.unwrap_or(segment.len() as u16);
            let mut buf = Vec::with_capacity(12 + segment.len());
            buf.extend_from_slice(&src.octets());
            buf.extend_from_slice(&dst.octets());
            buf.extend_from_slice(&[0, IpNextHeaderProtocols::Tcp.0]);
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(segment);
            util::checksum(&buf, 6 + TCP_CSUM_WORD)
        }
    }
}

/// The TCP checksum of `segment` over an IPv6 pseudo-header (RFC 8200 §8.1), ignoring its checksum field.
pub fn tcp_v6(segment: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> u16 {
    match TcpPacket::new(segment) {
        Some(p) => tcp::ipv6_checksum(&p, &src, &dst),
        // Shorter than a TCP header: sum what is there with the pseudo-header, so parse can still judge it.
        None => util::ipv6_checksum(segment, usize::MAX, &[], &src, &dst, IpNextHeaderProtocols::Tcp),
    }
}

/// The folded, uncomplemented sum of the IPv4 pseudo-header: what a sender that leaves the checksum to
/// hardware (partial checksum offload) puts in the field.
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, len: u16) -> u16 {
    let mut buf = [0u8; 12];
    buf[..4].copy_from_slice(&src.octets());
    buf[4..8].copy_from_slice(&dst.octets());
    buf[9] = IpNextHeaderProtocols::Tcp.0;
    buf[10..].copy_from_slice(&len.to_be_bytes());
    !util::checksum(&buf, usize::MAX)
}

/// The folded, uncomplemented sum of the IPv6 pseudo-header (see [`pseudo_v4`]).
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, len: u32) -> u16 {
    let mut buf = [0u8; 40];
    buf[..16].copy_from_slice(&src.octets());
    buf[16..32].copy_from_slice(&dst.octets());
    buf[32..36].copy_from_slice(&len.to_be_bytes());
    buf[39] = IpNextHeaderProtocols::Tcp.0;
    !util::checksum(&buf, usize::MAX)
}

/// A checksum that is certain not to verify, given the correct one.
///
/// It is `correct ^ 0xFFFF`, except when the correct value is 0: in one's complement 0xFFFF is then also
/// valid (negative zero), so 0x0001 is used instead.
pub fn bad(correct: u16) -> u16 {
    if correct == 0 {
        0x0001
    } else {
        correct ^ 0xFFFF
    }
}

/// The value the policy puts in the header, given the correct checksum.
pub fn apply(policy: Checksum, correct: u16) -> u16 {
    match policy {
        Checksum::Auto => correct,
        Checksum::Manual(v) => v,
        Checksum::Bad => bad(correct),
    }
}

/// Whether a stored checksum verifies, given the correct one (0x0000 and 0xFFFF are both zero).
pub fn verifies(stored: u16, correct: u16) -> bool {
    stored == correct || (correct == 0 && stored == 0xFFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_never_verifies() {
        for c in [0u16, 1, 0x1234, 0xFFFE, 0xFFFF] {
            assert!(!verifies(bad(c), c), "{c:#x}");
            assert!(verifies(apply(Checksum::Auto, c), c));
        }
        assert!(verifies(0xFFFF, 0));
    }

    #[test]
    fn forced_pseudo_len_equals_pnet_when_it_is_the_real_length() {
        let seg = [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0, 0xab];
        let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(tcp_v4(&seg, s, d, None), tcp_v4(&seg, s, d, Some(seg.len() as u16)));
        assert_ne!(tcp_v4(&seg, s, d, None), tcp_v4(&seg, s, d, Some(0)));
    }
}
