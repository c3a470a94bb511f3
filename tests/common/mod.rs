//! Shared proptest generators for `SegmentSpec` (etherparse-style `*_any()` strategies).
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod helper;
#[cfg(target_os = "linux")]
pub mod netns;

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use tcpcraft::wire::{
    Auto, Checksum, IpSpec, Ipv4Spec, Ipv6Spec, Padding, Payload, SackBlock, SegmentSpec, TcpFlags, TcpOption, TcpSpec,
};

/// Option kinds with no decoder, so a raw option of these kinds parses back as raw.
pub const UNKNOWN_KINDS: [u8; 6] = [6, 19, 28, 30, 99, 253];

/// Auto, or a manual value from `manual`.
pub fn auto_or<T: std::fmt::Debug + Clone + 'static>(
    manual: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Auto<T>> {
    prop_oneof![Just(Auto::Auto), manual.prop_map(Auto::Manual)].boxed()
}

/// Any checksum policy.
pub fn checksum_any() -> impl Strategy<Value = Checksum> {
    prop_oneof![Just(Checksum::Auto), Just(Checksum::Bad), any::<u16>().prop_map(Checksum::Manual)]
}

/// A well-formed option that parses back as itself (`raw_len`: also raw options with a hand-set length byte).
pub fn option_any(raw_len: bool) -> BoxedStrategy<TcpOption> {
    let raw_length = if raw_len { option::of(any::<u8>()).boxed() } else { Just(None).boxed() };
    prop_oneof![
        Just(TcpOption::Nop),
        any::<u16>().prop_map(TcpOption::Mss),
        any::<u8>().prop_map(TcpOption::WindowScale),
        Just(TcpOption::SackPermitted),
        vec((any::<u32>(), any::<u32>()), 1..=3)
            .prop_map(|b| TcpOption::Sack(b.into_iter().map(|(left, right)| SackBlock { left, right }).collect())),
        (any::<u32>(), any::<u32>()).prop_map(|(val, ecr)| TcpOption::Timestamps { val, ecr }),
        vec(any::<u8>(), 0..=16).prop_map(TcpOption::FastOpen),
        (prop::sample::select(&UNKNOWN_KINDS[..]), raw_length, vec(any::<u8>(), 0..=8))
            .prop_map(|(kind, length, data)| TcpOption::Raw { kind, length, data }),
    ]
    .boxed()
}

/// An option list that fits in 40 bytes with auto padding, optionally ending in EOL.
pub fn options_fitting(raw_len: bool) -> impl Strategy<Value = Vec<TcpOption>> {
    (vec(option_any(raw_len), 0..6), any::<bool>())
        .prop_map(|(mut opts, eol)| {
            if eol {
                opts.push(TcpOption::Eol);
            }
            opts
        })
        .prop_filter("options fit in 40 bytes", |o| {
            tcpcraft::wire::options::encode(o).map(|b| b.len() <= 40).unwrap_or(false)
        })
}

/// Any payload.
pub fn payload_any() -> impl Strategy<Value = Payload> {
    prop_oneof![vec(any::<u8>(), 0..64).prop_map(Payload::Hex), "[ -~\\r\\n가-힣]{0,24}".prop_map(Payload::Text)]
}

/// How much freedom a generated spec has.
#[derive(Clone, Copy, Debug)]
pub struct Freedom {
    /// Versions, header lengths, total lengths, data offsets and padding may be set by hand (possibly wrong).
    pub manual_lengths: bool,
    /// The protocol field may be something other than TCP.
    pub any_protocol: bool,
    /// Padding may be set by hand.
    pub manual_padding: bool,
    /// Raw options may carry a hand-set length byte.
    pub raw_len: bool,
}

impl Freedom {
    /// Everything consistent: the spec must parse back field for field.
    pub const CONSISTENT: Freedom =
        Freedom { manual_lengths: false, any_protocol: false, manual_padding: false, raw_len: false };
    /// Everything goes.
    pub const ANY: Freedom = Freedom { manual_lengths: true, any_protocol: true, manual_padding: true, raw_len: true };
    /// What Scapy can express: hand-set lengths and checksums, but no manual padding or wrong option lengths.
    pub const SCAPY: Freedom =
        Freedom { manual_lengths: true, any_protocol: true, manual_padding: false, raw_len: false };
}

/// An IPv4 header.
pub fn ipv4_any(f: Freedom) -> impl Strategy<Value = Ipv4Spec> {
    let lengths = if f.manual_lengths {
        (auto_or(0u8..16), auto_or(0u8..16), auto_or(any::<u16>())).boxed()
    } else {
        (Just(Auto::Auto), Just(Auto::Auto), Just(Auto::Auto)).boxed()
    };
    let protocol = if f.any_protocol { prop_oneof![Just(6u8), any::<u8>()].boxed() } else { Just(6u8).boxed() };
    (
        lengths,
        (0u8..64, 0u8..4, any::<u16>(), any::<[bool; 3]>(), 0u16..8192, any::<u8>(), protocol),
        (checksum_any(), any::<[u8; 4]>(), any::<[u8; 4]>(), vec(any::<u8>(), 0..=40)),
    )
        .prop_map(
            |(
                (version, ihl, total_len),
                (dscp, ecn, id, [evil, df, mf], frag_offset, ttl, protocol),
                (checksum, s, d, options),
            )| {
                Ipv4Spec {
                    version,
                    ihl,
                    dscp,
                    ecn,
                    total_len,
                    id,
                    evil,
                    df,
                    mf,
                    frag_offset,
                    ttl,
                    protocol,
                    checksum,
                    src: Ipv4Addr::from(s),
                    dst: Ipv4Addr::from(d),
                    options,
                }
            },
        )
}

/// An IPv6 header.
pub fn ipv6_any(f: Freedom) -> impl Strategy<Value = Ipv6Spec> {
    let lengths = if f.manual_lengths {
        (auto_or(0u8..16), auto_or(any::<u16>())).boxed()
    } else {
        (Just(Auto::Auto), Just(Auto::Auto)).boxed()
    };
    let next = if f.any_protocol { prop_oneof![Just(6u8), any::<u8>()].boxed() } else { Just(6u8).boxed() };
    (lengths, any::<u8>(), 0u32..0x10_0000, next, any::<u8>(), any::<[u8; 16]>(), any::<[u8; 16]>()).prop_map(
        |((version, payload_len), traffic_class, flow_label, next_header, hop_limit, s, d)| Ipv6Spec {
            version,
            traffic_class,
            flow_label,
            payload_len,
            next_header,
            hop_limit,
            src: Ipv6Addr::from(s),
            dst: Ipv6Addr::from(d),
        },
    )
}

/// A TCP header.
pub fn tcp_any(f: Freedom) -> impl Strategy<Value = TcpSpec> {
    let data_offset = if f.manual_lengths { auto_or(0u8..16) } else { Just(Auto::Auto).boxed() };
    let padding = if f.manual_padding {
        prop_oneof![Just(Padding::Auto), vec(any::<u8>(), 0..6).prop_map(Padding::Manual)].boxed()
    } else {
        Just(Padding::Auto).boxed()
    };
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>(), data_offset, any::<[bool; 3]>()),
        (0u16..512, any::<u16>(), checksum_any(), any::<u16>(), options_fitting(f.raw_len), padding),
    )
        .prop_map(
            |((sport, dport, seq, ack, data_offset, reserved), (flags, window, checksum, urgent, options, padding))| {
                TcpSpec {
                    sport,
                    dport,
                    seq,
                    ack,
                    data_offset,
                    reserved,
                    flags: TcpFlags::from_bits(flags),
                    window,
                    checksum,
                    urgent,
                    options,
                    padding,
                }
            },
        )
}

/// A whole spec over IPv4 or IPv6.
pub fn spec_any(f: Freedom) -> impl Strategy<Value = SegmentSpec> {
    let ip = prop_oneof![ipv4_any(f).prop_map(IpSpec::V4), ipv6_any(f).prop_map(IpSpec::V6)];
    (ip, tcp_any(f), payload_any()).prop_map(|(ip, tcp, payload)| SegmentSpec { ip, tcp, payload })
}

/// Skips a test that needs something this machine lacks: loudly, and as a failure under CI (`CI=true`).
pub fn skip_or_fail(test: &str, why: &str) {
    let msg = format!("SKIPPED {test}: {why}");
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{msg} (CI=true: a skipped test is a failure)");
    }
    eprintln!("\n*** {msg} ***\n");
}
