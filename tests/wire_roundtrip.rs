//! Property tests: `parse(build(spec))` gives back every field, and any parseable datagram rebuilds byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use common::{spec_any, Freedom};
use proptest::prelude::*;
use tcpcraft::wire::{
    build, checksum, parse, parse_any_protocol, Anomaly, Checksum, IpHeader, IpSpec, TcpOption, WireError,
};

/// What the option list decodes to after auto padding: an EOL appears where padding begins.
fn expected_options(opts: &[TcpOption]) -> (Vec<TcpOption>, usize) {
    let len = tcpcraft::wire::options::encode(opts).map(|b| b.len()).unwrap_or(0);
    let pad = (4 - len % 4) % 4;
    let mut out = opts.to_vec();
    if out.last() == Some(&TcpOption::Eol) {
        return (out, pad);
    }
    if pad > 0 {
        out.push(TcpOption::Eol);
        return (out, pad - 1);
    }
    (out, 0)
}

/// The checksum the policy should have produced, judged from the stored value and the correct one.
fn check_policy(policy: Checksum, stored: u16, correct: u16) -> Result<(), TestCaseError> {
    match policy {
        Checksum::Auto => prop_assert!(checksum::verifies(stored, correct)),
        Checksum::Bad => prop_assert!(!checksum::verifies(stored, correct)),
        Checksum::Manual(v) => prop_assert_eq!(stored, v),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn consistent_spec_parses_back_field_for_field(spec in spec_any(Freedom::CONSISTENT)) {
        let bytes = build(&spec).unwrap();
        let seg = parse(&bytes).unwrap();
        let fragment = matches!(&spec.ip, IpSpec::V4(ip) if ip.mf || ip.frag_offset != 0);
        prop_assert_eq!(seg.anomalies.clone(), if fragment { vec![Anomaly::Fragment] } else { vec![] });
        match (&spec.ip, &seg.ip) {
            (IpSpec::V4(s), IpHeader::V4(h)) => {
                prop_assert_eq!((h.version, h.dscp, h.ecn, h.id), (4, s.dscp, s.ecn, s.id));
                prop_assert_eq!((h.evil, h.df, h.mf, h.frag_offset), (s.evil, s.df, s.mf, s.frag_offset));
                prop_assert_eq!((h.ttl, h.protocol, h.src, h.dst), (s.ttl, s.protocol, s.src, s.dst));
                prop_assert_eq!(usize::from(h.total_len), bytes.len());
                prop_assert_eq!(&h.options[..s.options.len()], &s.options[..]);
                prop_assert!(h.options[s.options.len()..].iter().all(|&b| b == 0));
                prop_assert_eq!(h.options.len() % 4, 0);
                prop_assert_eq!(usize::from(h.ihl) * 4, 20 + h.options.len());
                check_policy(s.checksum, h.checksum, h.checksum_correct)?;
            }
            (IpSpec::V6(s), IpHeader::V6(h)) => {
                prop_assert_eq!((h.version, h.traffic_class, h.flow_label), (6, s.traffic_class, s.flow_label));
                prop_assert_eq!((h.next_header, h.hop_limit, h.src, h.dst), (s.next_header, s.hop_limit, s.src, s.dst));
                prop_assert_eq!(usize::from(h.payload_len), bytes.len() - 40);
            }
            _ => prop_assert!(false, "IP version changed"),
        }
        let (s, t) = (&spec.tcp, &seg.tcp);
        prop_assert_eq!((t.sport, t.dport, t.seq, t.ack), (s.sport, s.dport, s.seq, s.ack));
        prop_assert_eq!((t.reserved, t.flags, t.window, t.urgent), (s.reserved, s.flags, s.window, s.urgent));
        let (opts, pad) = expected_options(&s.options);
        prop_assert_eq!(&t.options, &opts);
        prop_assert_eq!(t.padding.clone(), vec![0u8; pad]);
        prop_assert_eq!(usize::from(t.data_offset) * 4, seg.payload_offset - seg.tcp_offset);
        check_policy(s.checksum, t.checksum, t.checksum_correct)?;
        prop_assert_eq!(&seg.payload[..], spec.payload.bytes());
        prop_assert!(seg.trailer.is_empty());
        prop_assert_eq!(build(&seg.to_spec()).unwrap(), bytes);
    }

    #[test]
    fn any_spec_builds_or_says_why_and_rebuilds_from_its_parse(spec in spec_any(Freedom::ANY)) {
        let bytes = match build(&spec) {
            Ok(b) => b,
            // Manual padding can push the option area past 40 bytes; nothing else may fail.
            Err(WireError::OptionsTooLong { len, .. }) => {
                prop_assert!(len > 40);
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected {e}"))),
        };
        match parse_any_protocol(&bytes) {
            Ok(seg) if seg.anomalies.is_empty() => prop_assert_eq!(build(&seg.to_spec()).unwrap(), bytes),
            Ok(_) => {}
            Err(WireError::UnknownIpVersion(v)) => prop_assert!(v != 4 && v != 6),
            Err(WireError::Truncated { .. }) => {}
            Err(e) => return Err(TestCaseError::fail(format!("unexpected {e}"))),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_clean_parses_rebuild(mut bytes in proptest::collection::vec(any::<u8>(), 0..120), v6 in any::<bool>()) {
        // Steer half the inputs into a plausible header so the deeper paths get exercised.
        if let Some(b) = bytes.first_mut() {
            *b = if v6 { 0x60 | (*b & 0x0F) } else { 0x45 };
        }
        if let Ok(seg) = parse(&bytes) {
            if seg.anomalies.is_empty() {
                prop_assert_eq!(build(&seg.to_spec()).unwrap(), bytes);
            }
        }
    }

    /// A listed fragment order (any permutation of the pieces, IPv4 or IPv6): its `--frag-order` text reads back as
    /// itself, the pieces go out as listed, and the fragments read back as settings that send them the same way.
    #[test]
    fn a_listed_fragment_order_round_trips(payload in 0usize..120, units in 1usize..5, v6 in any::<bool>(), seed in any::<u64>()) {
        use tcpcraft::wire::fragment::{fragment, info, settings, FragOrder, Fragmenting};
        let mut spec = tcpcraft::wire::SegmentSpec::default();
        if v6 {
            spec.ip = IpSpec::V6(tcpcraft::wire::Ipv6Spec::default());
        }
        spec.payload = tcpcraft::wire::Payload::Hex(vec![0x42; payload]);
        let whole = build(&spec).unwrap();
        let size = units * 8;
        let pieces = (whole.len() - if v6 { 40 } else { 20 }).div_ceil(size);
        // One IPv4 piece with offset 0 and nothing after it is the whole datagram, no fragment.
        prop_assume!(pieces > 1 || v6);
        let mut list: Vec<usize> = (0..pieces).collect();
        fastrand::Rng::with_seed(seed).shuffle(&mut list);
        let order = FragOrder::Given(list.clone());
        prop_assert_eq!(order.to_string().parse::<FragOrder>(), Ok(order.clone()));
        let out = fragment(&whole, &Fragmenting { size, order, overlap: None }, seed).unwrap();
        let offsets: Vec<usize> = out.iter().filter_map(|d| info(d)).map(|i| i.offset).collect();
        prop_assert_eq!(offsets, list.iter().map(|k| k * size).collect::<Vec<_>>());
        let again = settings(out.iter().map(|d| &d[..]), &whole).unwrap();
        prop_assert_eq!(fragment(&whole, &again, seed).unwrap(), out);
    }
}
