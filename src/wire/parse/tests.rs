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
