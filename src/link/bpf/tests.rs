//! The programs run on real frame bytes by a small classic-BPF interpreter with the kernel's semantics (a load
//! past the end of the frame returns 0, i.e. drops it), plus the checks the kernel's verifier makes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::wire::{build, IpSpec, Ipv4Spec, Ipv6Spec, SegmentSpec};

/// What the kernel's `bpf_check_classic` insists on: a length in 1..=4096, jumps inside the program, a return
/// at the end.
fn validate(prog: &[Insn]) {
    assert!((1..=MAX_INSNS).contains(&prog.len()), "length {}", prog.len());
    for (pc, i) in prog.iter().enumerate() {
        let rest = prog.len() - pc - 1;
        if i.code == op::JA {
            assert!((i.k as usize) < rest, "ja at {pc} leaves the program");
        } else if i.code & 0x07 == 0x05 {
            assert!(usize::from(i.jt) < rest && usize::from(i.jf) < rest, "jump at {pc} leaves the program");
        }
    }
    assert_eq!(prog.last().unwrap().code & 0x07, 0x06, "the last instruction returns");
}

fn accepts(prog: &[Insn], frame: &[u8]) -> bool {
    validate(prog);
    match interp::run(prog, frame) {
        0 => false,
        ACCEPT => true,
        other => panic!("returned {other}"),
    }
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An Ethernet frame as AF_PACKET shows it on `lo`: zero MACs, then the ethertype for the datagram's version.
fn eth(ip: &[u8]) -> Vec<u8> {
    let ethertype: [u8; 2] = if ip.first().is_some_and(|b| b >> 4 == 6) { [0x86, 0xdd] } else { [0x08, 0x00] };
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&ethertype);
    f.extend_from_slice(ip);
    f
}

/// A TCP datagram from `src` to `dst`; `edit` may change the spec (IP options, fragments) first.
fn datagram_with(src: SocketAddr, dst: SocketAddr, edit: impl FnOnce(&mut SegmentSpec)) -> Vec<u8> {
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => IpSpec::V4(Ipv4Spec { src: s, dst: d, ..Ipv4Spec::default() }),
        (IpAddr::V6(s), IpAddr::V6(d)) => IpSpec::V6(Ipv6Spec { src: s, dst: d, ..Ipv6Spec::default() }),
        _ => panic!("mixed families"),
    };
    let mut spec = SegmentSpec { ip, ..SegmentSpec::default() };
    spec.tcp.sport = src.port();
    spec.tcp.dport = dst.port();
    edit(&mut spec);
    build(&spec).unwrap()
}

fn datagram(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    datagram_with(src, dst, |_| {})
}

fn tcp(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    eth(&datagram(src, dst))
}

/// An ICMP (or ICMPv6) error of `icmp_type` from `from` to `to`, quoting `quoted`; `opts` bytes of IPv4 options.
fn icmp(from: IpAddr, to: IpAddr, icmp_type: u8, quoted: &[u8], opts: usize) -> Vec<u8> {
    let body = [&[icmp_type, 0, 0, 0, 0, 0, 0, 0][..], quoted].concat();
    let ip = match (from, to) {
        (IpAddr::V4(f), IpAddr::V4(t)) => {
            let ihl = 5 + opts / 4;
            let len = (ihl * 4 + body.len()) as u16;
            let mut h = vec![0x40 | ihl as u8, 0, (len >> 8) as u8, len as u8, 0, 0, 0, 0, 64, 1, 0, 0];
            h.extend_from_slice(&f.octets());
            h.extend_from_slice(&t.octets());
            h.extend(std::iter::repeat_n(1u8, opts));
            [h, body].concat()
        }
        (IpAddr::V6(f), IpAddr::V6(t)) => {
            let len = body.len() as u16;
            let mut h = vec![0x60, 0, 0, 0, (len >> 8) as u8, len as u8, 58, 64];
            h.extend_from_slice(&f.octets());
            h.extend_from_slice(&t.octets());
            [h, body].concat()
        }
        _ => panic!("mixed families"),
    };
    eth(&ip)
}

fn v4_flow() -> Flow {
    Flow { local: sa("192.0.2.1:40000"), remote: sa("192.0.2.10:80") }
}

fn v6_flow() -> Flow {
    Flow { local: sa("[2001:db8::1]:40000"), remote: sa("[2001:db8::10]:80") }
}

#[test]
fn both_directions_of_the_flow_are_accepted() {
    for f in [v4_flow(), v6_flow()] {
        let p = flow(&f);
        assert!(accepts(&p, &tcp(f.local, f.remote)), "ours, outgoing");
        assert!(accepts(&p, &tcp(f.remote, f.local)), "the peer's reply");
    }
}

#[test]
fn any_other_tuple_is_dropped() {
    for f in [v4_flow(), v6_flow()] {
        let p = flow(&f);
        let (l, r) = (f.local, f.remote);
        let other_ip = |a: SocketAddr| match a.ip() {
            IpAddr::V4(v) => SocketAddr::new(IpAddr::V4(Ipv4Addr::from(u32::from(v) ^ 1)), a.port()),
            IpAddr::V6(v) => SocketAddr::new(IpAddr::V6(Ipv6Addr::from(u128::from(v) ^ 1)), a.port()),
        };
        let other_port = |a: SocketAddr| SocketAddr::new(a.ip(), a.port() ^ 1);
        for (s, d) in [(l, r), (r, l)] {
            for (s2, d2) in [(other_ip(s), d), (s, other_ip(d)), (other_port(s), d), (s, other_port(d))] {
                assert!(!accepts(&p, &tcp(s2, d2)), "{s2} -> {d2}");
            }
        }
        assert!(!accepts(&p, &tcp(l, l)), "both ends ours");
        assert!(!accepts(&p, &tcp(r, r)), "both ends theirs");
    }
}

#[test]
fn loopback_flow_with_one_address_still_matches_both_ways() {
    let f = Flow { local: sa("127.0.0.1:40000"), remote: sa("127.0.0.1:8080") };
    let p = flow(&f);
    assert!(accepts(&p, &tcp(f.local, f.remote)));
    assert!(accepts(&p, &tcp(f.remote, f.local)));
    assert!(!accepts(&p, &tcp(sa("127.0.0.1:9000"), sa("127.0.0.1:40001"))));
    assert!(!accepts(&p, &tcp(f.local, f.local)));
}

#[test]
fn other_family_other_protocol_and_non_ip_are_dropped() {
    let p4 = flow(&v4_flow());
    let p6 = flow(&v6_flow());
    let v6 = tcp(v6_flow().local, v6_flow().remote);
    let v4 = tcp(v4_flow().local, v4_flow().remote);
    assert!(!accepts(&p4, &v6));
    assert!(!accepts(&p6, &v4));
    // A v4 datagram mislabelled as IPv6 (and the reverse) is not read with the other family's offsets.
    let mut relabelled = v4.clone();
    relabelled[12..14].copy_from_slice(&[0x86, 0xdd]);
    assert!(!accepts(&p4, &relabelled));
    // UDP with the flow's addresses and ports.
    let udp = eth(&datagram_with(v4_flow().local, v4_flow().remote, |s| {
        if let IpSpec::V4(ip) = &mut s.ip {
            ip.protocol = 17;
        }
    }));
    assert!(!accepts(&p4, &udp));
    let mut arp_frame = vec![0xffu8; 12];
    arp_frame.extend_from_slice(&[0x08, 0x06]);
    arp_frame.extend_from_slice(&[0u8; 28]);
    assert!(!accepts(&p4, &arp_frame));
    assert!(accepts(&arp(), &arp_frame));
    assert!(!accepts(&arp(), &v4));
    let mixed = Flow { local: sa("192.0.2.1:1"), remote: sa("[2001:db8::1]:2") };
    assert_eq!(flow(&mixed), drop_all());
}

#[test]
fn ipv4_options_on_the_outer_header() {
    let f = v4_flow();
    for words in [1, 10] {
        let d = datagram_with(f.remote, f.local, |s| {
            if let IpSpec::V4(ip) = &mut s.ip {
                ip.options = vec![1; 4 * words];
            }
        });
        assert_eq!(usize::from(d[0] & 0xf), 5 + words);
        assert!(accepts(&flow(&f), &eth(&d)), "IHL {}", 5 + words);
    }
}

#[test]
fn only_first_fragments_pass() {
    let f = v4_flow();
    let frag = |mf: bool, offset: u16| {
        eth(&datagram_with(f.remote, f.local, |s| {
            if let IpSpec::V4(ip) = &mut s.ip {
                (ip.mf, ip.frag_offset) = (mf, offset);
            }
        }))
    };
    assert!(accepts(&flow(&f), &frag(true, 0)), "first fragment");
    assert!(!accepts(&flow(&f), &frag(true, 1)));
    assert!(!accepts(&flow(&f), &frag(false, 0x1fff)), "last fragment");
}

#[test]
fn icmp_errors_quoting_our_segment_are_accepted() {
    let f = v4_flow();
    let ours = datagram(f.local, f.remote);
    let router = IpAddr::from([198, 51, 100, 1]);
    let p = flow(&f);
    for t in [3, 4, 5, 11, 12] {
        assert!(accepts(&p, &icmp(router, f.local.ip(), t, &ours, 0)), "type {t}");
    }
    for t in [0, 8, 13] {
        assert!(!accepts(&p, &icmp(router, f.local.ip(), t, &ours, 0)), "informational type {t}");
    }
    // Only the IP header and 8 bytes of TCP, as RFC 792 routers quote it.
    assert!(accepts(&p, &icmp(router, f.local.ip(), 3, &ours[..28], 0)));
    // Options on the outer header, the quoted header, and both.
    let ours_opts = datagram_with(f.local, f.remote, |s| {
        if let IpSpec::V4(ip) = &mut s.ip {
            ip.options = vec![1; 8];
        }
    });
    assert!(accepts(&p, &icmp(router, f.local.ip(), 11, &ours, 4)));
    assert!(accepts(&p, &icmp(router, f.local.ip(), 11, &ours_opts, 0)));
    assert!(accepts(&p, &icmp(router, f.local.ip(), 11, &ours_opts, 12)));
    assert!(!accepts(&p, &icmp(router, f.local.ip(), 11, &ours_opts[..28], 0)), "the quote stops inside options");
}

#[test]
fn icmp_errors_quoting_anything_else_are_dropped() {
    let f = v4_flow();
    let router = IpAddr::from([198, 51, 100, 1]);
    let p = flow(&f);
    let theirs = datagram(f.remote, f.local);
    assert!(!accepts(&p, &icmp(router, f.remote.ip(), 3, &theirs, 0)), "quotes the peer's segment");
    let other = datagram(f.local, sa("192.0.2.10:81"));
    assert!(!accepts(&p, &icmp(router, f.local.ip(), 3, &other, 0)), "another destination port");
    let stranger = datagram(sa("192.0.2.7:40000"), f.remote);
    assert!(!accepts(&p, &icmp(router, IpAddr::from([192, 0, 2, 7]), 3, &stranger, 0)), "another host's");
    let mut udp = datagram(f.local, f.remote);
    udp[9] = 17;
    assert!(!accepts(&p, &icmp(router, f.local.ip(), 3, &udp, 0)), "quotes UDP");
}

#[test]
fn icmpv6_errors() {
    let f = v6_flow();
    let p = flow(&f);
    let router = IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1));
    let ours = datagram(f.local, f.remote);
    for t in 1..=4 {
        assert!(accepts(&p, &icmp(router, f.local.ip(), t, &ours, 0)), "type {t}");
    }
    assert!(accepts(&p, &icmp(router, f.local.ip(), 1, &ours[..48], 0)), "40 + 8 bytes quoted");
    for t in [0, 5, 128, 135] {
        assert!(!accepts(&p, &icmp(router, f.local.ip(), t, &ours, 0)), "type {t}");
    }
    let theirs = datagram(f.remote, f.local);
    assert!(!accepts(&p, &icmp(router, f.remote.ip(), 1, &theirs, 0)));
    // An extension header (hop-by-hop, 0) first: not followed, so dropped, outside and inside.
    let mut hbh = tcp(f.remote, f.local);
    hbh[14 + 6] = 0;
    assert!(!accepts(&p, &hbh));
    let mut quoted_hbh = ours.clone();
    quoted_hbh[6] = 0;
    assert!(!accepts(&p, &icmp(router, f.local.ip(), 1, &quoted_hbh, 0)));
}

/// Every prefix of `frame` shorter than `needed` is dropped; from `needed` on it is accepted.
fn truncation(prog: &[Insn], frame: &[u8], needed: usize) {
    for n in 0..=frame.len() {
        assert_eq!(accepts(prog, &frame[..n]), n >= needed, "{n} of {} bytes", frame.len());
    }
}

#[test]
fn truncated_frames_are_dropped() {
    let (f4, f6) = (v4_flow(), v6_flow());
    truncation(&flow(&f4), &tcp(f4.remote, f4.local), 14 + 20 + 4);
    truncation(&flow(&f6), &tcp(f6.remote, f6.local), 14 + 40 + 4);
    let r4 = IpAddr::from([198, 51, 100, 1]);
    truncation(&flow(&f4), &icmp(r4, f4.local.ip(), 3, &datagram(f4.local, f4.remote), 0), 14 + 20 + 8 + 20 + 4);
    let r6 = IpAddr::from(Ipv6Addr::LOCALHOST);
    truncation(&flow(&f6), &icmp(r6, f6.local.ip(), 3, &datagram(f6.local, f6.remote), 0), 14 + 40 + 8 + 40 + 4);
}

#[test]
fn probes_accept_replies_to_our_ports_only() {
    for src in [IpAddr::from([192, 0, 2, 1]), IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))] {
        let p = probes(src, &[40000, 40001, 40002, 40003, 41000, 50000, 50001]).unwrap();
        let host = |port| {
            SocketAddr::new(
                if src.is_ipv4() { IpAddr::from([192, 0, 2, 10]) } else { "2001:db8::10".parse().unwrap() },
                port,
            )
        };
        let me = |port| SocketAddr::new(src, port);
        for port in [40000, 40001, 40003, 41000, 50000, 50001] {
            assert!(accepts(&p, &tcp(host(443), me(port))), "reply to {port}");
        }
        for port in [39999, 40004, 40999, 41001, 49999, 50002, 0, 65535] {
            assert!(!accepts(&p, &tcp(host(443), me(port))), "reply to {port}");
        }
        assert!(!accepts(&p, &tcp(me(40000), host(443))), "our own outgoing probe");
        assert!(!accepts(&p, &tcp(host(443), SocketAddr::new(host(0).ip(), 40000))), "not to us");
        let router = host(0).ip();
        assert!(accepts(&p, &icmp(router, src, 3, &datagram(me(40002), host(443)), 0)));
        assert!(!accepts(&p, &icmp(router, src, 3, &datagram(me(40004), host(443)), 0)), "not our port");
        assert!(!accepts(&p, &icmp(router, src, 3, &datagram(host(443), me(40002)), 0)), "quotes a reply");
    }
    // On lo a probe to our own address and a port in the set is let through (the sweep's matcher copes).
    let lo = IpAddr::from([127, 0, 0, 1]);
    let p = probes(lo, &[40000]).unwrap();
    assert!(accepts(&p, &tcp(SocketAddr::new(lo, 40001), SocketAddr::new(lo, 40000))));
    assert!(!accepts(&p, &tcp(SocketAddr::new(lo, 40000), SocketAddr::new(lo, 8080))));
}

#[test]
fn probe_port_limits() {
    let src = IpAddr::from([192, 0, 2, 1]);
    assert_eq!(probes(src, &[]), Err(BpfError::NoPorts));
    let many: Vec<u16> = (0..65).map(|i| 1000 + 2 * i).collect();
    assert_eq!(probes(src, &many), Err(BpfError::TooManyPorts { count: 65, max: 64 }));
    // Duplicates count once.
    let dup: Vec<u16> = many[..64].iter().chain(&many[..10]).copied().collect();
    assert!(probes(src, &dup).is_ok());
    // The worst case: 64 scattered ports on IPv6 (the longest program), and a whole-range run.
    let v6 = IpAddr::from(Ipv6Addr::LOCALHOST);
    let worst = probes(v6, &many[..64]).unwrap();
    validate(&worst);
    let full: Vec<u16> = (0..64).collect();
    assert!(probes(v6, &full).unwrap().len() < worst.len());
    assert_eq!(runs(&[1, 2, 3, 5, 7, 8, 65535]), vec![(1, 3), (5, 5), (7, 8), (65535, 65535)]);
}

#[test]
fn assembler_refuses_what_the_kernel_would() {
    let mut a = Asm::default();
    let far = a.label();
    a.jump(op::JEQ_K, 0, Dest::To(far), Dest::Next);
    (0..256).for_each(|_| a.stmt(op::TAX, 0));
    a.bind(far);
    a.ret(0);
    assert_eq!(a.finish(), Err(BpfError::JumpTooFar { from: 0, to: 257 }));

    let mut a = Asm::default();
    let back = a.label();
    a.bind(back);
    a.jump(op::JEQ_K, 0, Dest::Next, Dest::To(back));
    a.ret(0);
    assert_eq!(a.finish(), Err(BpfError::Backward { from: 0, to: 0 }));

    let mut a = Asm::default();
    let nowhere = a.label();
    a.goto(Dest::To(nowhere));
    a.ret(0);
    assert_eq!(a.finish(), Err(BpfError::Unbound { from: 0 }));

    let mut a = Asm::default();
    (0..=MAX_INSNS).for_each(|_| a.ret(0));
    assert_eq!(a.finish(), Err(BpfError::TooLong { len: MAX_INSNS + 1 }));
}

#[test]
fn interpreter_fails_closed() {
    let i = |code: u16, jt: u8, jf: u8, k: u32| Insn { code, jt, jf, k };
    let frame = [0x45u8, 0, 0, 0];
    assert_eq!(interp::run(&[i(op::JEQ_K, 5, 5, 0), i(op::RET_K, 0, 0, 1)], &frame), 0, "jump out of the program");
    assert_eq!(interp::run(&[i(0xff, 0, 0, 0), i(op::RET_K, 0, 0, 1)], &frame), 0, "unknown operation");
    assert_eq!(interp::run(&[i(0x02, 0, 0, 16), i(op::RET_K, 0, 0, 1)], &frame), 0, "scratch slot 16");
    assert_eq!(interp::run(&[i(op::LD_B_ABS, 0, 0, 0)], &frame), 0, "falls off the end");
    assert_eq!(interp::run(&[], &frame), 0);
    // ld len; st M[3]; ldx M[3]; txa; add #1; ret a
    let prog =
        [i(0x80, 0, 0, 0), i(0x02, 0, 0, 3), i(0x61, 0, 0, 3), i(0x87, 0, 0, 0), i(0x04, 0, 0, 1), i(0x16, 0, 0, 0)];
    assert_eq!(interp::run(&prog, &frame), 5);
    // ldx 4*([0]&0xf) = 20, past the end of the frame for ldb [x+0]; ldx #1; ldb [x+2] reads byte 3.
    let prog = [i(op::LDX_B_MSH, 0, 0, 0), i(op::LD_B_IND, 0, 0, 0), i(0x16, 0, 0, 0)];
    assert_eq!(interp::run(&prog, &frame), 0);
    let prog = [i(0x01, 0, 0, 1), i(op::LD_B_IND, 0, 0, 2), i(0x16, 0, 0, 0)];
    assert_eq!(interp::run(&prog, &[0x45, 7, 8, 9]), 9);
}

#[test]
fn drop_all_drops_everything() {
    let f = v4_flow();
    assert!(!accepts(&drop_all(), &tcp(f.local, f.remote)));
    assert!(!accepts(&drop_all(), &[]));
}

/// An address from a small pool, so random tuples often collide with the flow's.
fn addr(v6: bool) -> impl Strategy<Value = IpAddr> {
    (0u8..3).prop_map(move |i| {
        if v6 {
            IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(i)))
        } else {
            IpAddr::from([10, 0, 0, i])
        }
    })
}

fn endpoint(v6: bool) -> impl Strategy<Value = SocketAddr> {
    (addr(v6), prop_oneof![0u16..3, any::<u16>()]).prop_map(|(a, p)| SocketAddr::new(a, p))
}

/// A flow and another (src, dst) pair, both of one family.
fn flow_and_other() -> impl Strategy<Value = (Flow, SocketAddr, SocketAddr)> {
    any::<bool>().prop_flat_map(|v6| {
        (endpoint(v6), endpoint(v6), endpoint(v6), endpoint(v6), 0u8..4).prop_map(|(l, r, s, d, pick)| {
            // Half the time the pair is the flow itself, one way or the other.
            let (s, d) = match pick {
                0 => (l, r),
                1 => (r, l),
                _ => (s, d),
            };
            (Flow { local: l, remote: r }, s, d)
        })
    })
}

proptest! {
    #[test]
    fn flow_accepts_exactly_its_tuple((f, s, d) in flow_and_other()) {
        let p = flow(&f);
        let ours = (s, d) == (f.local, f.remote) || (s, d) == (f.remote, f.local);
        prop_assert_eq!(accepts(&p, &tcp(s, d)), ours);
        // The same pair quoted by an ICMP error: only a segment we sent counts.
        let err = icmp(d.ip(), s.ip(), 3, &datagram(s, d), 0);
        prop_assert_eq!(accepts(&p, &err), (s, d) == (f.local, f.remote));
    }

    #[test]
    fn probes_accept_exactly_replies_to_the_set(
        v6 in any::<bool>(),
        pick in 0u8..3,
        sports in prop::collection::vec(prop_oneof![40000u16..40008, any::<u16>()], 1..=64),
        other in 0u8..3,
        from_port in any::<u16>(),
        to_port in prop_oneof![40000u16..40008, any::<u16>()],
    ) {
        let ip = |i: u8| if v6 {
            IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(i)))
        } else {
            IpAddr::from([10, 0, 0, i])
        };
        let (src, dst) = (ip(pick), ip(other));
        let p = probes(src, &sports).unwrap();
        let frame = tcp(SocketAddr::new(ip(9), from_port), SocketAddr::new(dst, to_port));
        prop_assert_eq!(accepts(&p, &frame), dst == src && sports.contains(&to_port));
        let quoted = datagram(SocketAddr::new(dst, to_port), SocketAddr::new(ip(9), from_port));
        let time_exceeded = if v6 { 3 } else { 11 };
        let err = icmp(ip(9), dst, time_exceeded, &quoted, 0);
        prop_assert_eq!(accepts(&p, &err), dst == src && sports.contains(&to_port));
    }
}
