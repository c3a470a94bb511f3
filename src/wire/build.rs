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
    let mut p =
        MutableTcpPacket::new(&mut buf).ok_or(WireError::Truncated { layer: Layer::Tcp, required: TCP_HEADER, len })?;
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
    let real_plen = u16::try_from(tcp.len()).map_err(|_| WireError::TooLong { layer: Layer::Ipv6, len: tcp.len() })?;
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

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::wire::testdata::{self, bytes};
    use crate::wire::{parse, Checksum, Payload, TcpFlags, TcpOption};

    /// The real SYN of `testdata::SYN`, written field by field.
    fn real_syn_spec() -> SegmentSpec {
        SegmentSpec {
            ip: IpSpec::V4(Ipv4Spec {
                id: 0x669e,
                df: true,
                src: Ipv4Addr::LOCALHOST,
                dst: Ipv4Addr::LOCALHOST,
                ..Ipv4Spec::default()
            }),
            tcp: TcpSpec {
                sport: 42762,
                dport: 8080,
                seq: 3334092739,
                window: 65495,
                flags: TcpFlags::SYN,
                checksum: Checksum::Manual(0xfe30),
                options: vec![
                    TcpOption::Mss(65495),
                    TcpOption::SackPermitted,
                    TcpOption::Timestamps { val: 2511891700, ecr: 0 },
                    TcpOption::Nop,
                    TcpOption::WindowScale(10),
                ],
                ..TcpSpec::default()
            },
            payload: Payload::default(),
        }
    }

    #[test]
    fn construct_real_syn() {
        assert_eq!(build(&real_syn_spec()).unwrap(), bytes(testdata::SYN));
    }

    /// RFC 9293 §3.1 by hand: one's complement sum of 16-bit words over pseudo-header and segment.
    fn rfc_sum(words: &[u8]) -> u16 {
        let mut sum: u32 = words.chunks(2).map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0))).sum();
        while sum > 0xFFFF {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn checksums_verify_by_hand_and_with_pnet() {
        let mut spec = real_syn_spec();
        spec.tcp.checksum = Checksum::Auto;
        spec.payload = Payload::Text("odd".into());
        let b = build(&spec).unwrap();
        // IPv4 header: the sum over the header including its checksum is 0xFFFF.
        assert_eq!(rfc_sum(&b[..20]), 0xFFFF);
        let mut pseudo = b[12..20].to_vec();
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&((b.len() - 20) as u16).to_be_bytes());
        pseudo.extend_from_slice(&b[20..]);
        assert_eq!(rfc_sum(&pseudo), 0xFFFF);
        let tcp = pnet_packet::tcp::TcpPacket::new(&b[20..]).unwrap();
        assert_eq!(
            pnet_packet::tcp::ipv4_checksum(&tcp, &Ipv4Addr::LOCALHOST, &Ipv4Addr::LOCALHOST),
            tcp.get_checksum()
        );
        let ip = pnet_packet::ipv4::Ipv4Packet::new(&b).unwrap();
        assert_eq!(pnet_packet::ipv4::checksum(&ip), ip.get_checksum());
    }

    #[test]
    fn ipv6_checksum_by_hand_and_with_pnet() {
        let spec = SegmentSpec {
            ip: IpSpec::V6(Ipv6Spec { traffic_class: 0xb8, flow_label: 0xabcde, hop_limit: 3, ..Ipv6Spec::default() }),
            payload: Payload::Hex(vec![1, 2, 3]),
            ..SegmentSpec::default()
        };
        let b = build(&spec).unwrap();
        assert_eq!(&b[..4], &[0x6b, 0x8a, 0xbc, 0xde]);
        assert_eq!(u16::from_be_bytes([b[4], b[5]]), 23);
        assert_eq!((b[6], b[7]), (6, 3));
        let mut pseudo = b[8..40].to_vec();
        pseudo.extend_from_slice(&23u32.to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 6]);
        pseudo.extend_from_slice(&b[40..]);
        assert_eq!(rfc_sum(&pseudo), 0xFFFF);
        let tcp = pnet_packet::tcp::TcpPacket::new(&b[40..]).unwrap();
        let (s, d): (Ipv6Addr, Ipv6Addr) = ("2001:db8::1".parse().unwrap(), "2001:db8::10".parse().unwrap());
        assert_eq!(pnet_packet::tcp::ipv6_checksum(&tcp, &s, &d), tcp.get_checksum());
    }

    #[test]
    fn every_flag_and_reserved_bit_lands_in_its_place() {
        let mut spec = SegmentSpec::default();
        spec.tcp.flags = TcpFlags::from_bits(0x1FF);
        spec.tcp.reserved = [true, false, true];
        let b = build(&spec).unwrap();
        assert_eq!((b[32], b[33]), (0x5B, 0xFF));
        spec.tcp.flags = TcpFlags::from_bits(0);
        spec.tcp.reserved = [false, true, false];
        let b = build(&spec).unwrap();
        assert_eq!((b[32], b[33]), (0x54, 0x00));
    }

    #[test]
    fn ipv4_bit_fields_land_in_their_place() {
        let spec = SegmentSpec {
            ip: IpSpec::V4(Ipv4Spec {
                version: Auto::Manual(7),
                ihl: Auto::Manual(9),
                dscp: 0x2e,
                ecn: 3,
                evil: true,
                df: false,
                mf: true,
                frag_offset: 0x1abc,
                protocol: 253,
                total_len: Auto::Manual(1),
                options: vec![0x94, 0x04, 0, 0, 1],
                ..Ipv4Spec::default()
            }),
            ..SegmentSpec::default()
        };
        let b = build(&spec).unwrap();
        assert_eq!(&b[..4], &[0x79, 0xbb, 0, 1]);
        assert_eq!(&b[6..8], &[0xba, 0xbc]);
        assert_eq!(b[9], 253);
        assert_eq!(&b[20..28], &[0x94, 4, 0, 0, 1, 0, 0, 0]);
        assert_eq!(b.len(), 28 + 20);
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let mut spec = SegmentSpec::default();
        if let IpSpec::V4(ip) = &mut spec.ip {
            ip.dscp = 64;
        }
        let e = build(&spec).unwrap_err();
        assert_eq!(e, WireError::OutOfRange { field: "ipv4.dscp", value: 64, max: 63 });
        assert_eq!(e.to_string(), "ipv4.dscp: 64 does not fit; the field holds 0..=63");
        let mut spec = SegmentSpec::default();
        spec.tcp.data_offset = Auto::Manual(16);
        assert!(matches!(build(&spec), Err(WireError::OutOfRange { field: "tcp.data_offset", .. })));
        let spec = SegmentSpec {
            ip: IpSpec::V6(Ipv6Spec { flow_label: 0x10_0000, ..Ipv6Spec::default() }),
            ..SegmentSpec::default()
        };
        assert!(matches!(build(&spec), Err(WireError::OutOfRange { field: "ipv6.flow_label", .. })));
    }

    #[test]
    fn more_than_40_option_bytes_need_a_manual_data_offset() {
        let mut spec = SegmentSpec::default();
        spec.tcp.options = vec![TcpOption::Nop; 41];
        let e = build(&spec).unwrap_err();
        assert!(matches!(e, WireError::OptionsTooLong { len: 44, max: 40, .. }), "{e}");
        assert!(e.to_string().contains("data offset"));
        spec.tcp.data_offset = Auto::Manual(15);
        let b = build(&spec).unwrap();
        assert_eq!(b.len(), 20 + 20 + 44);
        assert_eq!(b[32] >> 4, 15);
    }

    #[test]
    fn padding_auto_zero_fills_and_manual_is_verbatim() {
        let mut spec = SegmentSpec::default();
        spec.tcp.options = vec![TcpOption::WindowScale(7)];
        let b = build(&spec).unwrap();
        assert_eq!(&b[40..44], &[3, 3, 7, 0]);
        assert_eq!(b[32] >> 4, 6);
        spec.tcp.padding = Padding::Manual(vec![1, 1, 1, 1, 1]);
        let b = build(&spec).unwrap();
        assert_eq!(&b[40..48], &[3, 3, 7, 1, 1, 1, 1, 1]);
        assert_eq!(b[32] >> 4, 7, "a misaligned area rounds the data offset up");
    }

    #[test]
    fn oversized_payload_is_refused() {
        let spec = SegmentSpec { payload: Payload::Hex(vec![0; 65_500]), ..SegmentSpec::default() };
        assert!(matches!(build(&spec), Err(WireError::TooLong { layer: Layer::Ipv4, .. })));
        let spec = SegmentSpec {
            ip: IpSpec::V6(Ipv6Spec::default()),
            payload: Payload::Hex(vec![0; 65_516]),
            ..SegmentSpec::default()
        };
        assert!(matches!(build(&spec), Err(WireError::TooLong { layer: Layer::Ipv6, .. })));
        // IPv6 counts only its payload: 65,515 bytes after a 20-byte TCP header still fit.
        let spec = SegmentSpec {
            ip: IpSpec::V6(Ipv6Spec::default()),
            payload: Payload::Hex(vec![0; 65_515]),
            ..SegmentSpec::default()
        };
        assert!(parse(&build(&spec).unwrap()).unwrap().tcp_checksum_ok());
    }
}
