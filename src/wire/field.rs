//! Named byte ranges of the headers, as smoltcp keeps them in its `mod field`: code that patches or peeks at
//! raw datagrams (the sweep's probe template, the helper's policy, ICMP quotes) names the field it touches
//! instead of writing `d[16..20]`. Offsets are from the start of the header they belong to.

use std::ops::Range;

/// A byte offset of a one-byte field.
pub type Field = usize;
/// The byte range of a multi-byte field.
pub type Span = Range<usize>;

/// IPv4 header fields (RFC 791).
pub mod ipv4 {
    use super::{Field, Span};

    /// Version (high nibble) and header length in 32-bit words (low nibble).
    pub const VER_IHL: Field = 0;
    /// DSCP and ECN.
    pub const TOS: Field = 1;
    /// Total length of the datagram.
    pub const TOTAL_LEN: Span = 2..4;
    /// Identification.
    pub const IDENT: Span = 4..6;
    /// Flags (high three bits) and fragment offset (low 13 bits).
    pub const FRAG: Span = 6..8;
    /// Time to live.
    pub const TTL: Field = 8;
    /// The protocol of the payload (6 for TCP, 1 for ICMP).
    pub const PROTOCOL: Field = 9;
    /// Header checksum.
    pub const CHECKSUM: Span = 10..12;
    /// Source address.
    pub const SRC: Span = 12..16;
    /// Destination address.
    pub const DST: Span = 16..20;
    /// Length of a header without options.
    pub const HEADER_LEN: usize = 20;
    /// The fragment offset's bits within [`FRAG`].
    pub const FRAG_OFFSET_MASK: u16 = 0x1fff;
}

/// IPv6 fixed header fields (RFC 8200).
pub mod ipv6 {
    use super::{Field, Span};

    /// Version, traffic class and flow label.
    pub const VER_TC_FLOW: Span = 0..4;
    /// Length of everything after the fixed header.
    pub const PAYLOAD_LEN: Span = 4..6;
    /// The type of the next header (6 for TCP, 58 for ICMPv6, or an extension header).
    pub const NEXT_HEADER: Field = 6;
    /// Hop limit.
    pub const HOP_LIMIT: Field = 7;
    /// Source address.
    pub const SRC: Span = 8..24;
    /// Destination address.
    pub const DST: Span = 24..40;
    /// Length of the fixed header.
    pub const HEADER_LEN: usize = 40;
}

/// IPv6 extension header fields, from the start of the extension header.
pub mod ipv6_ext {
    use super::{Field, Span};

    /// The type of the header after this one.
    pub const NEXT_HEADER: Field = 0;
    /// The length of this header, in units that depend on its type.
    pub const LENGTH: Field = 1;
    /// In a fragment header: the offset (high 13 bits) and the more-fragments flag.
    pub const FRAG_OFFSET: Span = 2..4;
    /// Length of a fragment header.
    pub const FRAGMENT_LEN: usize = 8;
}

/// TCP header fields (RFC 9293).
pub mod tcp {
    use super::Span;

    /// Source port.
    pub const SRC_PORT: Span = 0..2;
    /// Destination port.
    pub const DST_PORT: Span = 2..4;
    /// Sequence number.
    pub const SEQ: Span = 4..8;
    /// Acknowledgment number.
    pub const ACK: Span = 8..12;
    /// Data offset, reserved bits and flags.
    pub const OFF_FLAGS: Span = 12..14;
    /// Window.
    pub const WINDOW: Span = 14..16;
    /// Checksum.
    pub const CHECKSUM: Span = 16..18;
    /// Urgent pointer.
    pub const URGENT: Span = 18..20;
    /// Length of a header without options.
    pub const HEADER_LEN: usize = 20;
}

/// ICMP and ICMPv6 header fields.
pub mod icmp {
    use super::{Field, Span};

    /// Message type.
    pub const TYPE: Field = 0;
    /// Message code.
    pub const CODE: Field = 1;
    /// Checksum.
    pub const CHECKSUM: Span = 2..4;
    /// Length of an error message's header; the quoted datagram follows it.
    pub const HEADER_LEN: usize = 8;
}

/// Ethernet II header fields.
pub mod ethernet {
    use super::Span;

    /// Destination MAC address.
    pub const DST: Span = 0..6;
    /// Source MAC address.
    pub const SRC: Span = 6..12;
    /// The payload's EtherType (or 0x8100 before an 802.1Q tag).
    pub const ETHERTYPE: Span = 12..14;
    /// Length of the header without a VLAN tag.
    pub const HEADER_LEN: usize = 14;
    /// Length of one 802.1Q tag (TPID and TCI).
    pub const VLAN_TAG_LEN: usize = 4;
}

/// The big-endian `u16` in `span` of `d`, if `d` is long enough.
pub fn get_u16(d: &[u8], span: Span) -> Option<u16> {
    let b = d.get(span)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// The big-endian `u32` in `span` of `d`, if `d` is long enough.
pub fn get_u32(d: &[u8], span: Span) -> Option<u32> {
    let b = d.get(span)?;
    Some(u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]))
}

/// The 4 bytes in `span` of `d` (an IPv4 address), if `d` is long enough.
pub fn get_4(d: &[u8], span: Span) -> Option<[u8; 4]> {
    d.get(span)?.try_into().ok()
}

/// The 16 bytes in `span` of `d` (an IPv6 address), if `d` is long enough.
pub fn get_16(d: &[u8], span: Span) -> Option<[u8; 16]> {
    d.get(span)?.try_into().ok()
}

/// Writes `v` big-endian into `span` of `d`; false (and nothing written) when `span` is not 2 bytes inside `d`.
pub fn set_u16(d: &mut [u8], span: Span, v: u16) -> bool {
    match d.get_mut(span) {
        Some(b) if b.len() == 2 => {
            b.copy_from_slice(&v.to_be_bytes());
            true
        }
        _ => false,
    }
}

/// Writes `v` big-endian into `span` of `d`; false (and nothing written) when `span` is not 4 bytes inside `d`.
pub fn set_u32(d: &mut [u8], span: Span, v: u32) -> bool {
    match d.get_mut(span) {
        Some(b) if b.len() == 4 => {
            b.copy_from_slice(&v.to_be_bytes());
            true
        }
        _ => false,
    }
}

/// `span` moved to start `at` bytes later: a field of a header that starts at `at` in a datagram.
pub fn at(at: usize, span: Span) -> Span {
    span.start + at..span.end + at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ranges against a real SYN (the same capture as the parser's tests).
    #[test]
    fn fields_of_a_captured_syn() {
        let d = hex::decode(crate::wire::testdata::SYN.replace(' ', "")).unwrap();
        assert_eq!(d[ipv4::VER_IHL] >> 4, 4);
        assert_eq!(d[ipv4::PROTOCOL], 6);
        let t = usize::from(d[ipv4::VER_IHL] & 0x0f) * 4;
        let parsed = crate::wire::parse(&d).unwrap();
        assert_eq!(get_4(&d, ipv4::SRC).map(std::net::IpAddr::from), Some(parsed.src()));
        assert_eq!(get_4(&d, ipv4::DST).map(std::net::IpAddr::from), Some(parsed.dst()));
        assert_eq!(get_u16(&d, at(t, tcp::SRC_PORT)), Some(parsed.tcp.sport));
        assert_eq!(get_u16(&d, at(t, tcp::DST_PORT)), Some(parsed.tcp.dport));
        assert_eq!(get_u32(&d, at(t, tcp::SEQ)), Some(parsed.tcp.seq));
        assert_eq!(get_u32(&d, at(t, tcp::ACK)), Some(parsed.tcp.ack));
        assert_eq!(get_u16(&d, at(t, tcp::WINDOW)), Some(parsed.tcp.window));
        assert_eq!(get_u16(&d, at(t, tcp::CHECKSUM)), Some(parsed.tcp.checksum));
    }

    #[test]
    fn short_buffers_give_none_and_write_nothing() {
        let mut d = [0xa5u8; 3];
        assert_eq!(get_u16(&d, tcp::DST_PORT), None);
        assert_eq!(get_u32(&d, tcp::SEQ), None);
        assert!(!set_u16(&mut d, tcp::DST_PORT, 1));
        assert!(!set_u32(&mut d, 0..3, 1));
        assert_eq!(d, [0xa5; 3]);
        assert!(set_u16(&mut d, tcp::SRC_PORT, 0x1234));
        assert_eq!(d, [0x12, 0x34, 0xa5]);
    }
}
