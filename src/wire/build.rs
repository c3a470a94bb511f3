//! `build`: turns a [`SegmentSpec`] into the bytes of one IP datagram. Headers are written with `pnet_packet`'s
//! `Mutable*Packet` setters; the option area and payload are copied in after them, so a hand-set length field
//! never changes which bytes are sent.

use pnet_packet::ip::IpNextHeaderProtocol;
use pnet_packet::ipv4::MutableIpv4Packet;
use pnet_packet::ipv6::MutableIpv6Packet;
use pnet_packet::tcp::MutableTcpPacket;

use super::checksum;
use super::error::{Layer, WireError};
use super::options;
use super::spec::{Auto, IpSpec, Ipv4Spec, Ipv6Spec, Padding, SegmentSpec, TcpSpec};

const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const TCP_HEADER: usize = 20;
/// The most option bytes a 4-bit length field in 32-bit words can describe (15 * 4 - 20).
const MAX_OPTIONS: usize = 40;

/// Builds the whole IP datagram (IPv4 or IPv6 header, TCP header, options, payload) described by `spec`.
pub fn build(spec: &SegmentSpec) -> Result<Vec<u8>, WireError> {
    let mut tcp = tcp_segment(&spec.tcp, spec.payload.bytes())?;
    match &spec.ip {
        IpSpec::V4(ip) => build_v4(ip, &spec.tcp, &mut tcp),
        IpSpec::V6(ip) => build_v6(ip, &spec.tcp, &mut tcp),
    }
}

/// Rejects a value wider than its field.
fn check(field: &'static str, value: u64, max: u64) -> Result<(), WireError> {
    if value > max {
        Err(WireError::OutOfRange { field, value, max })
    } else {
        Ok(())
    }
}

/// Zero bytes that bring `len` up to a multiple of 4.
fn zero_pad(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// The TCP header with its options, padding and payload, checksum still zero.
fn tcp_segment(spec: &TcpSpec, payload: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut opts = options::encode(&spec.options)?;
    match &spec.padding {
        Padding::Auto => opts.resize(opts.len() + zero_pad(opts.len()), 0),
        Padding::Manual(p) => opts.extend_from_slice(p),
    }
    let data_offset = match spec.data_offset {
        Auto::Manual(v) => {
            check("tcp.data_offset", v.into(), 15)?;
            v
        }
        Auto::Auto if opts.len() > MAX_OPTIONS => {
            return Err(WireError::OptionsTooLong {
                layer: Layer::TcpOptions,
                field: "data offset",
                len: opts.len(),
                max: MAX_OPTIONS,
            })
        }
        // Rounded up, as Scapy does, when a manual padding leaves the area misaligned; at most 15 after the check.
        Auto::Auto => (TCP_HEADER + opts.len()).div_ceil(4) as u8,
    };
    let len = TCP_HEADER + opts.len() + payload.len();
    let mut buf = vec![0u8; len];
    let mut p = MutableTcpPacket::new(&mut buf).ok_or(WireError::Truncated {
        layer: Layer::Tcp,
        required: TCP_HEADER,
        len,
    })?;
    let r = spec.reserved;
    let reserved = (u8::from(r[0]) << 3) | (u8::from(r[1]) << 2) | (u8::from(r[2]) << 1) | u8::from(spec.flags.ae);
    p.set_source(spec.sport);
    p.set_destination(spec.dport);
    p.set_sequence(spec.seq);
    p.set_acknowledgement(spec.ack);
    p.set_data_offset(data_offset);
    p.set_reserved(reserved);
    p.set_flags((spec.flags.bits() & 0xFF) as u8);
    p.set_window(spec.window);
    p.set_urgent_ptr(spec.urgent);
    buf[TCP_HEADER..TCP_HEADER + opts.len()].copy_from_slice(&opts);
    buf[TCP_HEADER + opts.len()..].copy_from_slice(payload);
    Ok(buf)
}

/// Writes the TCP checksum chosen by the policy into a finished segment.
fn set_tcp_checksum(spec: &TcpSpec, tcp: &mut [u8], correct: u16) {
    if let Some(mut p) = MutableTcpPacket::new(tcp) {
        p.set_checksum(checksum::apply(spec.checksum, correct));
    }
}

fn build_v4(ip: &Ipv4Spec, tcp_spec: &TcpSpec, tcp: &mut [u8]) -> Result<Vec<u8>, WireError> {
    check("ipv4.dscp", ip.dscp.into(), 63)?;
    check("ipv4.ecn", ip.ecn.into(), 3)?;
    check("ipv4.frag_offset", ip.frag_offset.into(), 8191)?;
    let version = ip.version.or(4);
    check("ipv4.version", version.into(), 15)?;
    let mut opts = ip.options.clone();
    opts.resize(opts.len() + zero_pad(opts.len()), 0);
    let ihl = match ip.ihl {
        Auto::Manual(v) => {
            check("ipv4.ihl", v.into(), 15)?;
            v
        }
        Auto::Auto if opts.len() > MAX_OPTIONS => {
            return Err(WireError::OptionsTooLong {
                layer: Layer::Ipv4,
                field: "IHL",
                len: opts.len(),
                max: MAX_OPTIONS,
            })
        }
        Auto::Auto => ((IPV4_HEADER + opts.len()) / 4) as u8,
    };
    let header_len = IPV4_HEADER + opts.len();
    let len = header_len + tcp.len();
    let real_total = u16::try_from(len).map_err(|_| WireError::TooLong { layer: Layer::Ipv4, len })?;
    let total_len = ip.total_len.or(real_total);

    // Scapy's pseudo-header rule for a hand-set total length: the length the IP header claims for the payload.
    let pseudo_len = match ip.total_len {
        Auto::Auto => None,
        Auto::Manual(t) => {
            let unpadded_ihl = match ip.ihl {
                Auto::Manual(v) => usize::from(v),
                Auto::Auto => 5 + ip.options.len().div_ceil(4),
            };
            Some(usize::from(t).saturating_sub(4 * unpadded_ihl) as u16)
        }
    };
    let correct = checksum::tcp_v4(tcp, ip.src, ip.dst, pseudo_len);
    set_tcp_checksum(tcp_spec, tcp, correct);

    let mut buf = vec![0u8; len];
    {
        let mut p = MutableIpv4Packet::new(&mut buf).ok_or(WireError::Truncated {
            layer: Layer::Ipv4,
            required: IPV4_HEADER,
            len,
        })?;
        p.set_version(version);
        p.set_header_length(ihl);
        p.set_dscp(ip.dscp);
        p.set_ecn(ip.ecn);
        p.set_total_length(total_len);
        p.set_identification(ip.id);
        p.set_flags((u8::from(ip.evil) << 2) | (u8::from(ip.df) << 1) | u8::from(ip.mf));
        p.set_fragment_offset(ip.frag_offset);
        p.set_ttl(ip.ttl);
        p.set_next_level_protocol(IpNextHeaderProtocol(ip.protocol));
        p.set_source(ip.src);
        p.set_destination(ip.dst);
    }
    buf[IPV4_HEADER..header_len].copy_from_slice(&opts);
    buf[header_len..].copy_from_slice(tcp);
    let correct = checksum::ipv4_header(&buf[..header_len]);
    if let Some(mut p) = MutableIpv4Packet::new(&mut buf) {
        p.set_checksum(checksum::apply(ip.checksum, correct));
    }
    Ok(buf)
}

fn build_v6(ip: &Ipv6Spec, tcp_spec: &TcpSpec, tcp: &mut [u8]) -> Result<Vec<u8>, WireError> {
    check("ipv6.flow_label", ip.flow_label.into(), 0xF_FFFF)?;
    let version = ip.version.or(6);
    check("ipv6.version", version.into(), 15)?;
    let real_plen = u16::try_from(tcp.len()).map_err(|_| WireError::TooLong {
        layer: Layer::Ipv6,
        len: tcp.len(),
    })?;
    let correct = checksum::tcp_v6(tcp, ip.src, ip.dst);
    set_tcp_checksum(tcp_spec, tcp, correct);

    let len = IPV6_HEADER + tcp.len();
    let mut buf = vec![0u8; len];
    {
        let mut p = MutableIpv6Packet::new(&mut buf).ok_or(WireError::Truncated {
            layer: Layer::Ipv6,
            required: IPV6_HEADER,
            len,
        })?;
        p.set_version(version);
        p.set_traffic_class(ip.traffic_class);
        p.set_flow_label(ip.flow_label);
        p.set_payload_length(ip.payload_len.or(real_plen));
        p.set_next_header(IpNextHeaderProtocol(ip.next_header));
        p.set_hop_limit(ip.hop_limit);
        p.set_source(ip.src);
        p.set_destination(ip.dst);
    }
    buf[IPV6_HEADER..].copy_from_slice(tcp);
    Ok(buf)
}
