//! `SegmentSpec`: the owned, serde-able description of one crafted segment, with every field a user can set.
//!
//! Values that are normally computed (lengths, checksums, padding) are [`Auto`] or [`Checksum`] so a user can
//! override them with deliberately wrong values. Nothing here is validated at construction: [`crate::wire::build`]
//! checks ranges and reports the field that broke a rule.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::flags::TcpFlags;
use super::options::TcpOption;

/// A value that is either computed by the builder (`Auto`) or given by hand (`Manual`), possibly wrong on purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Auto<T> {
    /// Let the builder compute the correct value.
    #[default]
    Auto,
    /// Use exactly this value, even if it is inconsistent with the rest of the segment.
    Manual(T),
}

impl<T: Copy> Auto<T> {
    /// The manual value, or `auto` when the field is automatic.
    pub fn or(self, auto: T) -> T {
        match self {
            Auto::Auto => auto,
            Auto::Manual(v) => v,
        }
    }
}

/// How a checksum field is filled in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Checksum {
    /// The correct checksum.
    #[default]
    Auto,
    /// Exactly this value.
    Manual(u16),
    /// A checksum guaranteed not to verify: the correct one XOR 0xFFFF (see [`crate::wire::checksum::bad`]).
    Bad,
}

/// The IPv4 header, field by field (RFC 791).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ipv4Spec {
    /// Version nibble; auto is 4.
    pub version: Auto<u8>,
    /// Internet header length in 32-bit words (4 bits); auto counts the options.
    pub ihl: Auto<u8>,
    /// Differentiated services code point (6 bits).
    pub dscp: u8,
    /// Explicit congestion notification (2 bits).
    pub ecn: u8,
    /// Total length of the datagram in bytes; auto counts every byte.
    pub total_len: Auto<u16>,
    /// Identification, used to reassemble fragments.
    pub id: u16,
    /// The reserved flag bit (RFC 3514's "evil bit").
    pub evil: bool,
    /// Don't Fragment.
    pub df: bool,
    /// More Fragments.
    pub mf: bool,
    /// Fragment offset in 8-byte units (13 bits).
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number of the payload; 6 is TCP.
    pub protocol: u8,
    /// Header checksum policy.
    pub checksum: Checksum,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Raw IP option bytes; zero-padded to a 4-byte boundary when built.
    #[serde(with = "hex::serde")]
    pub options: Vec<u8>,
}

impl Default for Ipv4Spec {
    fn default() -> Self {
        Ipv4Spec {
            version: Auto::Auto,
            ihl: Auto::Auto,
            dscp: 0,
            ecn: 0,
            total_len: Auto::Auto,
            id: 1,
            evil: false,
            df: false,
            mf: false,
            frag_offset: 0,
            ttl: 64,
            protocol: 6,
            checksum: Checksum::Auto,
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 10),
            options: Vec::new(),
        }
    }
}

/// The IPv6 header, field by field (RFC 8200). Extension headers are not modelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ipv6Spec {
    /// Version nibble; auto is 6.
    pub version: Auto<u8>,
    /// Traffic class (DSCP and ECN).
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Payload length in bytes; auto counts the TCP segment.
    pub payload_len: Auto<u16>,
    /// Next header; 6 is TCP.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
}

impl Default for Ipv6Spec {
    fn default() -> Self {
        Ipv6Spec {
            version: Auto::Auto,
            traffic_class: 0,
            flow_label: 0,
            payload_len: Auto::Auto,
            next_header: 6,
            hop_limit: 64,
            src: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            dst: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10),
        }
    }
}

/// The network layer under the TCP segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IpSpec {
    /// An IPv4 header.
    V4(Ipv4Spec),
    /// An IPv6 header.
    V6(Ipv6Spec),
}

impl IpSpec {
    /// This header with new source and destination addresses, keeping every other field; a header of the
    /// other family is replaced by a default one. `None` when `src` and `dst` are of different families.
    pub fn addressed(&self, src: std::net::IpAddr, dst: std::net::IpAddr) -> Option<IpSpec> {
        use std::net::IpAddr;
        Some(match (self, src, dst) {
            (IpSpec::V4(ip), IpAddr::V4(src), IpAddr::V4(dst)) => IpSpec::V4(Ipv4Spec { src, dst, ..ip.clone() }),
            (IpSpec::V6(ip), IpAddr::V6(src), IpAddr::V6(dst)) => IpSpec::V6(Ipv6Spec { src, dst, ..ip.clone() }),
            (_, IpAddr::V4(src), IpAddr::V4(dst)) => IpSpec::V4(Ipv4Spec { src, dst, ..Ipv4Spec::default() }),
            (_, IpAddr::V6(src), IpAddr::V6(dst)) => IpSpec::V6(Ipv6Spec { src, dst, ..Ipv6Spec::default() }),
            _ => return None,
        })
    }
}

impl Default for IpSpec {
    fn default() -> Self {
        IpSpec::V4(Ipv4Spec::default())
    }
}

/// How the TCP option area is padded to a 4-byte boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Padding {
    /// Zero bytes up to the next 4-byte boundary, as Scapy and most stacks do.
    #[default]
    Auto,
    /// Exactly these bytes after the options (possibly none, possibly misaligned).
    Manual(#[serde(with = "hex::serde")] Vec<u8>),
}

/// The TCP header, field by field (RFC 9293, with the AE bit of RFC 9768 / formerly NS of RFC 3540).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpSpec {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Data offset in 32-bit words (4 bits); auto counts options and padding.
    pub data_offset: Auto<u8>,
    /// The three reserved bits, most significant first (header bits 4, 5, 6 of byte 12).
    pub reserved: [bool; 3],
    /// The nine flag bits.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Checksum policy (the checksum covers the pseudo-header).
    pub checksum: Checksum,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options in wire order.
    pub options: Vec<TcpOption>,
    /// Padding after the options.
    pub padding: Padding,
}

impl Default for TcpSpec {
    fn default() -> Self {
        TcpSpec {
            sport: 40000,
            dport: 80,
            seq: 0,
            ack: 0,
            data_offset: Auto::Auto,
            reserved: [false; 3],
            flags: TcpFlags { syn: true, ..TcpFlags::default() },
            window: 64240,
            checksum: Checksum::Auto,
            urgent: 0,
            options: Vec::new(),
            padding: Padding::Auto,
        }
    }
}

/// The bytes after the TCP header, written as text or as hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// UTF-8 text, sent as its bytes.
    Text(String),
    /// Arbitrary bytes, written as a hex string in presets.
    Hex(#[serde(with = "hex::serde")] Vec<u8>),
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Hex(Vec::new())
    }
}

impl Payload {
    /// The bytes that go on the wire.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Payload::Text(s) => s.as_bytes(),
            Payload::Hex(b) => b,
        }
    }
}

/// Everything needed to build one IP datagram carrying one TCP segment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentSpec {
    /// The IP header.
    pub ip: IpSpec,
    /// The TCP header.
    pub tcp: TcpSpec,
    /// The payload.
    pub payload: Payload,
}
