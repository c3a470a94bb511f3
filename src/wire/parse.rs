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
mod tests;
