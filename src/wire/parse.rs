//! `parse`: decodes an IPv4 or IPv6 datagram carrying TCP into a [`Segment`], field by field, and judges its
//! checksums. It never panics: impossible lengths become [`Anomaly`] notes or a [`WireError`], and malformed
//! options are kept raw. A segment parsed without anomalies turns back into the same bytes via
//! [`Segment::to_spec`] and [`crate::wire::build`].

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::TcpPacket;
use serde::{Deserialize, Serialize};

use super::checksum;
use super::error::{Layer, WireError};
use super::flags::TcpFlags;
use super::options::{self, TcpOption};

const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const TCP_HEADER: usize = 20;
/// The protocol number of TCP.
pub const PROTO_TCP: u8 = 6;

/// A decoded IPv4 header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv4Header {
    /// Version nibble (4).
    pub version: u8,
    /// Header length in 32-bit words.
    pub ihl: u8,
    /// Differentiated services code point.
    pub dscp: u8,
    /// Explicit congestion notification.
    pub ecn: u8,
    /// Total length as stated.
    pub total_len: u16,
    /// Identification.
    pub id: u16,
    /// Reserved ("evil") flag bit.
    pub evil: bool,
    /// Don't Fragment.
    pub df: bool,
    /// More Fragments.
    pub mf: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number.
    pub protocol: u8,
    /// Header checksum as stored.
    pub checksum: u16,
    /// The header checksum that would be correct.
    pub checksum_correct: u16,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Option bytes (everything between byte 20 and the IHL).
    pub options: Vec<u8>,
}

/// A decoded IPv6 header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Header {
    /// Version nibble (6).
    pub version: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label.
    pub flow_label: u32,
    /// Payload length as stated.
    pub payload_len: u16,
    /// Next header.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
}

/// The decoded network header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IpHeader {
    /// IPv4.
    V4(Ipv4Header),
    /// IPv6.
    V6(Ipv6Header),
}

/// A decoded TCP header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpHeader {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Data offset in 32-bit words, as stated.
    pub data_offset: u8,
    /// The three reserved bits, most significant first.
    pub reserved: [bool; 3],
    /// The nine flags.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
    /// Checksum as stored.
    pub checksum: u16,
    /// The checksum that would be correct over the pseudo-header and the bytes present.
    pub checksum_correct: u16,
    /// The stored checksum is only the pseudo-header sum: the sender left the rest to checksum offload (as
    /// Linux does on `lo` and veth), so the segment was not corrupted even though it does not verify.
    pub checksum_offloaded: bool,
    /// Urgent pointer.
    pub urgent: u16,
    /// Decoded options; unknown and malformed ones are [`TcpOption::Raw`].
    pub options: Vec<TcpOption>,
    /// Bytes after the option list (after EOL, or an unusable last byte).
    pub padding: Vec<u8>,
}

/// Something about a datagram that a correct sender would not do; parsing goes on regardless.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Anomaly {
    /// The IPv4 header length is below 5 words; 20 bytes were assumed.
    IhlTooSmall(u8),
    /// The stated IP length disagrees with the bytes present.
    IpLength {
        /// Bytes of TCP segment the header claims.
        stated: usize,
        /// Bytes of TCP segment present.
        present: usize,
    },
    /// The IP protocol / next header is not TCP; the payload was decoded as TCP anyway.
    NotTcp(u8),
    /// The datagram is a fragment, so the TCP header may not be what follows the IP header.
    Fragment,
    /// The data offset is below 5 words; the options were taken as empty.
    DataOffsetTooSmall(u8),
    /// The data offset points past the end of the segment; everything after 20 bytes was taken as options.
    DataOffsetTooLarge(u8),
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::IhlTooSmall(v) => write!(f, "IPv4 IHL is {v}, below the minimum of 5 words"),
            Anomaly::IpLength { stated, present } => {
                write!(f, "IP header claims {stated} bytes of TCP, but {present} are present")
            }
            Anomaly::NotTcp(p) => write!(f, "IP protocol is {p}, not TCP (6)"),
            Anomaly::Fragment => f.write_str("the datagram is a fragment (MF set or offset non-zero)"),
            Anomaly::DataOffsetTooSmall(v) => write!(f, "TCP data offset is {v}, below the minimum of 5 words"),
            Anomaly::DataOffsetTooLarge(v) => {
                write!(f, "TCP data offset {v} ({} bytes) runs past the end of the segment", usize::from(*v) * 4)
            }
        }
    }
}

/// A decoded datagram: headers, payload, the bytes beyond the stated length, and any anomalies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The IP header.
    pub ip: IpHeader,
    /// The TCP header.
    pub tcp: TcpHeader,
    /// The TCP payload.
    pub payload: Vec<u8>,
    /// Bytes after the length the IP header states (link-layer padding, or a short length set by hand).
    pub trailer: Vec<u8>,
    /// Where the TCP header starts in the datagram.
    pub tcp_offset: usize,
    /// Where the TCP payload starts in the datagram.
    pub payload_offset: usize,
    /// What is wrong with the datagram, if anything.
    pub anomalies: Vec<Anomaly>,
}

impl Segment {
    /// The IP TTL (IPv6: hop limit).
    pub fn ttl(&self) -> u8 {
        match &self.ip {
            IpHeader::V4(h) => h.ttl,
            IpHeader::V6(h) => h.hop_limit,
        }
    }

    /// The IPv4 identification (IPv6 headers have none).
    pub fn ip_id(&self) -> Option<u16> {
        match &self.ip {
            IpHeader::V4(h) => Some(h.id),
            IpHeader::V6(_) => None,
        }
    }

    /// Whether the IPv4 header checksum verifies (always true for IPv6, which has none).
    pub fn ip_checksum_ok(&self) -> bool {
        match &self.ip {
            IpHeader::V4(h) => checksum::verifies(h.checksum, h.checksum_correct),
            IpHeader::V6(_) => true,
        }
    }

    /// Whether the TCP checksum verifies over the pseudo-header.
    pub fn tcp_checksum_ok(&self) -> bool {
        checksum::verifies(self.tcp.checksum, self.tcp.checksum_correct)
    }

    /// Source address.
    pub fn src(&self) -> std::net::IpAddr {
        match &self.ip {
            IpHeader::V4(h) => h.src.into(),
            IpHeader::V6(h) => h.src.into(),
        }
    }

    /// Destination address.
    pub fn dst(&self) -> std::net::IpAddr {
        match &self.ip {
            IpHeader::V4(h) => h.dst.into(),
            IpHeader::V6(h) => h.dst.into(),
        }
    }

    /// The segment's length in sequence space (payload, plus one each for SYN and FIN).
    pub fn seq_len(&self) -> u32 {
        super::seq::seq_len(self.tcp.flags, self.payload.len())
    }
}

/// Decodes a datagram that must carry TCP; any other protocol is [`WireError::NotTcp`].
pub fn parse(bytes: &[u8]) -> Result<Segment, WireError> {
    let seg = parse_any_protocol(bytes)?;
    match seg.anomalies.iter().find_map(|a| match a {
        Anomaly::NotTcp(p) => Some(*p),
        _ => None,
    }) {
        Some(p) => Err(WireError::NotTcp(p)),
        None => Ok(seg),
    }
}

/// Decodes a datagram as TCP whatever its protocol field says (noting [`Anomaly::NotTcp`]); for showing crafted
/// datagrams whose protocol was changed on purpose.
pub fn parse_any_protocol(bytes: &[u8]) -> Result<Segment, WireError> {
    match bytes.first().map(|b| b >> 4) {
        None => Err(WireError::Truncated { layer: Layer::Ipv4, required: IPV4_HEADER, len: 0 }),
        Some(4) => parse_v4(bytes),
        Some(6) => parse_v6(bytes),
        Some(v) => Err(WireError::UnknownIpVersion(v)),
    }
}

/// Where the TCP segment ends, given the length the IP header states, noting a mismatch.
fn tcp_end(start: usize, stated: usize, len: usize, anomalies: &mut Vec<Anomaly>) -> usize {
    let present = len - start;
    if stated != present {
        anomalies.push(Anomaly::IpLength { stated, present });
    }
    if stated >= TCP_HEADER && stated <= present {
        start + stated
    } else {
        len
    }
}

fn parse_v4(bytes: &[u8]) -> Result<Segment, WireError> {
    let p = Ipv4Packet::new(bytes).ok_or(WireError::Truncated {
        layer: Layer::Ipv4,
        required: IPV4_HEADER,
        len: bytes.len(),
    })?;
    let mut anomalies = Vec::new();
    let ihl = p.get_header_length();
    if ihl < 5 {
        anomalies.push(Anomaly::IhlTooSmall(ihl));
    }
    let header_len = (usize::from(ihl) * 4).max(IPV4_HEADER);
    let header = bytes.get(..header_len).ok_or(WireError::Truncated {
        layer: Layer::Ipv4,
        required: header_len,
        len: bytes.len(),
    })?;
    let flags = p.get_flags();
    let (mf, frag_offset) = (flags & 1 != 0, p.get_fragment_offset());
    if mf || frag_offset != 0 {
        anomalies.push(Anomaly::Fragment);
    }
    let protocol = p.get_next_level_protocol().0;
    if protocol != PROTO_TCP {
        anomalies.push(Anomaly::NotTcp(protocol));
    }
    let total_len = p.get_total_length();
    let stated = usize::from(total_len).saturating_sub(header_len);
    let end = tcp_end(header_len, stated, bytes.len(), &mut anomalies);
    let ip = Ipv4Header {
        version: p.get_version(),
        ihl,
        dscp: p.get_dscp(),
        ecn: p.get_ecn(),
        total_len,
        id: p.get_identification(),
        evil: flags & 4 != 0,
        df: flags & 2 != 0,
        mf,
        frag_offset,
        ttl: p.get_ttl(),
        protocol,
        checksum: p.get_checksum(),
        checksum_correct: checksum::ipv4_header(header),
        src: p.get_source(),
        dst: p.get_destination(),
        options: header[IPV4_HEADER..].to_vec(),
    };
    let (src, dst) = (ip.src, ip.dst);
    finish(IpHeader::V4(ip), bytes, header_len, end, anomalies, |tcp| {
        (checksum::tcp_v4(tcp, src, dst, None), checksum::pseudo_v4(src, dst, tcp.len() as u16))
    })
}

fn parse_v6(bytes: &[u8]) -> Result<Segment, WireError> {
    let p = Ipv6Packet::new(bytes).ok_or(WireError::Truncated {
        layer: Layer::Ipv6,
        required: IPV6_HEADER,
        len: bytes.len(),
    })?;
    let mut anomalies = Vec::new();
    let next_header = p.get_next_header().0;
    if next_header != PROTO_TCP {
        anomalies.push(Anomaly::NotTcp(next_header));
    }
    let payload_len = p.get_payload_length();
    let end = tcp_end(IPV6_HEADER, payload_len.into(), bytes.len(), &mut anomalies);
    let ip = Ipv6Header {
        version: p.get_version(),
        traffic_class: p.get_traffic_class(),
        flow_label: p.get_flow_label(),
        payload_len,
        next_header,
        hop_limit: p.get_hop_limit(),
        src: p.get_source(),
        dst: p.get_destination(),
    };
    let (src, dst) = (ip.src, ip.dst);
    finish(IpHeader::V6(ip), bytes, IPV6_HEADER, end, anomalies, |tcp| {
        (checksum::tcp_v6(tcp, src, dst), checksum::pseudo_v6(src, dst, tcp.len() as u32))
    })
}

/// Decodes the TCP segment `bytes[start..end]` under an already decoded IP header.
fn finish(
    ip: IpHeader,
    bytes: &[u8],
    start: usize,
    end: usize,
    mut anomalies: Vec<Anomaly>,
    checksums: impl Fn(&[u8]) -> (u16, u16),
) -> Result<Segment, WireError> {
    let truncated = WireError::Truncated { layer: Layer::Tcp, required: TCP_HEADER, len: end.saturating_sub(start) };
    let seg = bytes.get(start..end).ok_or(truncated.clone())?;
    let p = TcpPacket::new(seg).ok_or(truncated)?;
    let data_offset = p.get_data_offset();
    let header_len = usize::from(data_offset) * 4;
    let options_end = if header_len < TCP_HEADER {
        anomalies.push(Anomaly::DataOffsetTooSmall(data_offset));
        TCP_HEADER
    } else if header_len > seg.len() {
        anomalies.push(Anomaly::DataOffsetTooLarge(data_offset));
        seg.len()
    } else {
        header_len
    };
    let (options, padding) = options::decode(&seg[TCP_HEADER..options_end]);
    let reserved = p.get_reserved();
    let (correct, pseudo) = checksums(seg);
    let stored = p.get_checksum();
    let tcp = TcpHeader {
        sport: p.get_source(),
        dport: p.get_destination(),
        seq: p.get_sequence(),
        ack: p.get_acknowledgement(),
        data_offset,
        reserved: [reserved & 8 != 0, reserved & 4 != 0, reserved & 2 != 0],
        flags: TcpFlags::from_bits(u16::from(p.get_flags()) | (u16::from(reserved & 1) << 8)),
        window: p.get_window(),
        checksum: stored,
        checksum_correct: correct,
        checksum_offloaded: !checksum::verifies(stored, correct) && stored == pseudo,
        urgent: p.get_urgent_ptr(),
        options,
        padding,
    };
    Ok(Segment {
        ip,
        tcp,
        payload: seg[options_end..].to_vec(),
        trailer: bytes[end..].to_vec(),
        tcp_offset: start,
        payload_offset: start + options_end,
        anomalies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testdata::{self, bytes};
    use crate::wire::{build, Auto, Checksum, Padding};

    fn tcp_of(hex: &str) -> Segment {
        parse(&bytes(hex)).unwrap()
    }

    #[test]
    fn real_syn() {
        let s = tcp_of(testdata::SYN);
        let IpHeader::V4(ip) = &s.ip else { panic!("not v4") };
        assert_eq!((ip.version, ip.ihl, ip.total_len, ip.id), (4, 5, 60, 0x669e));
        assert!(ip.df && !ip.mf && !ip.evil);
        assert_eq!((ip.ttl, ip.protocol, ip.checksum), (64, 6, 0xd61b));
        assert!(s.ip_checksum_ok());
        assert_eq!(ip.src, Ipv4Addr::LOCALHOST);
        let t = &s.tcp;
        assert_eq!((t.sport, t.dport, t.seq, t.ack), (42762, 8080, 3334092739, 0));
        assert_eq!((t.data_offset, t.window, t.urgent), (10, 65495, 0));
        assert_eq!(t.flags, TcpFlags::SYN);
        assert_eq!(t.reserved, [false; 3]);
        assert_eq!(
            t.options,
            vec![
                TcpOption::Mss(65495),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { val: 2511891700, ecr: 0 },
                TcpOption::Nop,
                TcpOption::WindowScale(10),
            ]
        );
        // Loopback leaves the partial (offloaded) checksum in place: reported as such, not as corruption.
        assert_eq!(t.checksum, 0xfe30);
        assert!(!s.tcp_checksum_ok());
        assert!(t.checksum_offloaded);
        assert!(s.payload.is_empty() && s.trailer.is_empty() && s.anomalies.is_empty());
        assert_eq!((s.tcp_offset, s.payload_offset, s.seq_len()), (20, 60, 1));
    }

    #[test]
    fn real_syn_ack_answers_the_syn() {
        let syn = tcp_of(testdata::SYN);
        let sa = tcp_of(testdata::SYN_ACK);
        assert_eq!(sa.tcp.flags, TcpFlags::SYN_ACK);
        assert_eq!(sa.tcp.flags.tcpdump(), "S.");
        assert_eq!(sa.tcp.ack, syn.tcp.seq.wrapping_add(syn.seq_len()));
        assert_eq!(sa.tcp.options[2], TcpOption::Timestamps { val: 844055238, ecr: 2511891700 });
    }

    #[test]
    fn real_psh_ack_payload() {
        let s = tcp_of(testdata::PSH_ACK);
        assert_eq!(s.tcp.flags.wireshark(), "[PSH, ACK]");
        assert_eq!(s.payload, b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(s.tcp.options[..2], [TcpOption::Nop, TcpOption::Nop]);
        assert_eq!(s.seq_len(), 18);
    }

    #[test]
    fn real_rst_ack() {
        let s = tcp_of(testdata::RST_ACK);
        assert_eq!(s.tcp.flags, TcpFlags::RST_ACK);
        assert_eq!((s.tcp.seq, s.tcp.ack, s.tcp.window), (0, 3881962010, 0));
        assert!(s.tcp.options.is_empty());
    }

    #[test]
    fn real_ipv6_syn_ack() {
        let s = tcp_of(testdata::V6_SYN_ACK);
        let IpHeader::V6(ip) = &s.ip else { panic!("not v6") };
        assert_eq!((ip.traffic_class, ip.flow_label, ip.payload_len), (0, 0xe8a3a, 40));
        assert_eq!((ip.next_header, ip.hop_limit), (6, 64));
        assert_eq!(ip.src, Ipv6Addr::LOCALHOST);
        assert_eq!(s.tcp.flags, TcpFlags::SYN_ACK);
        assert_eq!((s.tcp.sport, s.tcp.ack), (8080, 1425930990));
        assert_eq!(s.tcp_offset, 40);
    }

    #[test]
    fn real_segments_rebuild_byte_for_byte() {
        for hex in [testdata::SYN, testdata::SYN_ACK, testdata::PSH_ACK, testdata::RST_ACK, testdata::V6_SYN_ACK] {
            let b = bytes(hex);
            let spec = parse(&b).unwrap().to_spec();
            assert_eq!(build(&spec).unwrap(), b, "{spec:?}");
        }
    }

    #[test]
    fn truncation_at_every_length_is_an_error_not_a_panic() {
        let b = bytes(testdata::SYN);
        for n in 0..40 {
            assert!(matches!(parse(&b[..n]), Err(WireError::Truncated { .. })), "len {n}");
        }
        // Cut inside the options: the header's data offset now points past the end.
        let s = parse(&b[..50]).unwrap();
        assert!(s.anomalies.contains(&Anomaly::IpLength { stated: 40, present: 30 }));
        assert!(s.anomalies.contains(&Anomaly::DataOffsetTooLarge(10)));
    }

    #[test]
    fn wrong_version_and_protocol() {
        let mut b = bytes(testdata::RST_ACK);
        b[0] = 0x55;
        assert_eq!(parse(&b), Err(WireError::UnknownIpVersion(5)));
        let mut b = bytes(testdata::RST_ACK);
        b[9] = 17;
        assert_eq!(parse(&b), Err(WireError::NotTcp(17)));
        assert!(parse_any_protocol(&b).unwrap().anomalies.contains(&Anomaly::NotTcp(17)));
    }

    #[test]
    fn bad_data_offsets_are_anomalies() {
        let mut b = bytes(testdata::RST_ACK);
        b[32] = 0x30; // data offset 3
        let s = parse(&b).unwrap();
        assert_eq!(s.anomalies, vec![Anomaly::DataOffsetTooSmall(3)]);
        assert_eq!(s.payload_offset, 40);
        let spec = s.to_spec();
        assert_eq!(spec.tcp.data_offset, Auto::Manual(3));
        assert_eq!(build(&spec).unwrap(), b);
    }

    #[test]
    fn ethernet_padding_becomes_trailer() {
        let mut b = bytes(testdata::RST_ACK);
        b.extend_from_slice(&[0; 6]);
        let s = parse(&b).unwrap();
        assert_eq!(s.trailer, vec![0; 6]);
        assert!(s.payload.is_empty());
    }

    #[test]
    fn checksum_policies_are_reported() {
        let mut spec = tcp_of(testdata::RST_ACK).to_spec();
        spec.tcp.checksum = Checksum::Auto;
        let ok = parse(&build(&spec).unwrap()).unwrap();
        assert!(ok.tcp_checksum_ok() && ok.ip_checksum_ok());
        assert!(!ok.tcp.checksum_offloaded);
        spec.tcp.checksum = Checksum::Bad;
        let bad = parse(&build(&spec).unwrap()).unwrap();
        assert!(!bad.tcp_checksum_ok());
        assert!(!bad.tcp.checksum_offloaded);
        assert_eq!(bad.tcp.checksum, ok.tcp.checksum ^ 0xFFFF);
        assert_eq!(spec.tcp.padding, Padding::Auto);
    }
}
