//! The simulated host's behaviour through its link: answers, timing, the path of routers in front of it.

use super::*;
use crate::link::Origin;
use crate::wire::{build, Payload, SegmentSpec, TcpFlags};

fn syn_to(port: u16) -> SegmentSpec {
    let mut s = SegmentSpec::default();
    s.tcp.dport = port;
    s.tcp.seq = 1000;
    s
}

fn exchange(link: &mut SimLink, spec: &SegmentSpec, wait: Micros) -> Vec<Captured> {
    let bytes = build(spec).unwrap();
    link.watch(Flow::of(&crate::wire::parse(&bytes).unwrap())).unwrap();
    link.send(&bytes).unwrap();
    let deadline = link.now() + wait;
    let mut all = Vec::new();
    loop {
        let got = link.recv_until(deadline).unwrap();
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

#[test]
fn open_port_answers_syn_ack_with_ack_isn_plus_one() {
    let mut link = SimLink::new(SimConfig::default());
    let got = exchange(&mut link, &syn_to(80), 10_000);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].origin, Origin::Crafted);
    assert_eq!(got[0].t, 0);
    let sa = got[1].segment.as_ref().unwrap();
    assert_eq!(got[1].origin, Origin::Peer);
    assert_eq!(sa.tcp.flags, TcpFlags::SYN_ACK);
    assert_eq!(sa.tcp.ack, 1001);
    assert!(sa.tcp_checksum_ok() && sa.ip_checksum_ok());
    assert_eq!(got[1].t, 200, "one simulated RTT");
}

#[test]
fn closed_port_answers_rst_ack() {
    let mut link = SimLink::new(SimConfig::default());
    let got = exchange(&mut link, &syn_to(81), 10_000);
    let rst = got[1].segment.as_ref().unwrap();
    assert_eq!(rst.tcp.flags, TcpFlags::RST_ACK);
    assert_eq!(rst.tcp.ack, 1001);
}

#[test]
fn filtered_port_and_bad_checksum_get_nothing() {
    let mut link = SimLink::new(SimConfig { filtered: vec![8443], ..SimConfig::default() });
    let got = exchange(&mut link, &syn_to(8443), 3_000_000);
    assert_eq!(got.len(), 1);
    assert_eq!(link.now(), 3_000_000, "the virtual clock ran to the deadline");
    let mut bad = syn_to(80);
    bad.tcp.checksum = crate::wire::Checksum::Bad;
    assert_eq!(exchange(&mut link, &bad, 1_000_000).len(), 1, "a bad checksum is dropped, as real stacks do");
}

#[test]
fn full_handshake_and_http_exchange() {
    let mut link = SimLink::new(SimConfig::default());
    let got = exchange(&mut link, &syn_to(80), 10_000);
    let isn = got[1].segment.as_ref().unwrap().tcp.seq;
    let mut ack = syn_to(80);
    ack.tcp.flags = TcpFlags::ACK;
    ack.tcp.seq = 1001;
    ack.tcp.ack = isn.wrapping_add(1);
    assert_eq!(exchange(&mut link, &ack, 10_000).len(), 1, "a bare ACK gets no answer");
    let mut get = ack.clone();
    get.tcp.flags = TcpFlags::from_bits(0x018);
    get.payload = Payload::Text("GET / HTTP/1.0\r\n\r\n".into());
    let got = exchange(&mut link, &get, 10_000);
    let peer: Vec<_> = got.iter().filter(|c| c.origin == Origin::Peer).filter_map(|c| c.segment.as_ref()).collect();
    assert!(peer.iter().any(|s| s.tcp.ack == 1001 + 18), "{peer:?}");
    let data: Vec<u8> = peer.iter().flat_map(|s| s.payload.clone()).collect();
    assert!(String::from_utf8_lossy(&data).starts_with("HTTP/1.0 200 OK"));
    assert!(!peer.iter().any(|s| s.tcp.flags.fin), "the lab host leaves the close to the client");
}

#[test]
fn isn_is_deterministic() {
    let isn = |_| {
        let mut link = SimLink::new(SimConfig::default());
        exchange(&mut link, &syn_to(22), 10_000)[1].segment.as_ref().unwrap().tcp.seq
    };
    assert_eq!(isn(0), isn(1));
}

#[test]
fn ipv6_host_answers() {
    let mut s = syn_to(443);
    s.ip = crate::wire::IpSpec::V6(crate::wire::Ipv6Spec::default());
    let mut link = SimLink::new(SimConfig::default());
    let got = exchange(&mut link, &s, 10_000);
    assert_eq!(got[1].segment.as_ref().unwrap().tcp.flags, TcpFlags::SYN_ACK);
}

/// A segment sent while a reply is still in flight is seen first: captures come out in time order.
#[test]
fn captures_come_out_in_time_order() {
    let mut link = SimLink::new(SimConfig::default());
    let first = build(&syn_to(81)).unwrap();
    link.watch(Flow::of(&crate::wire::parse(&first).unwrap())).unwrap();
    link.send(&first).unwrap();
    let now = link.now();
    let mut got = link.recv_until(now).unwrap();
    assert_eq!(got.len(), 1, "only our SYN so far; the RST is in flight");
    link.send(&first).unwrap();
    loop {
        let more = link.recv_until(now + 10_000).unwrap();
        if more.is_empty() {
            break;
        }
        got.extend(more);
    }
    let times: Vec<Micros> = got.iter().map(|c| c.t).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "out of order: {times:?}");
    assert_eq!(got.len(), 4, "two SYNs and two RSTs: {times:?}");
}

/// Two routers in front of the host: the first drops 8081, the second resets 8082.
fn behind_two_routers() -> SimConfig {
    let router = |last: u8, drop: Vec<u16>, reset: Vec<u16>| SimRouter {
        addr: std::net::Ipv4Addr::new(198, 51, 100, last),
        addr_v6: std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(last)),
        drop,
        reset,
    };
    SimConfig {
        open: vec![80, 8081, 8082],
        routers: vec![router(1, vec![8081], Vec::new()), router(2, Vec::new(), vec![8082])],
        ..SimConfig::default()
    }
}

fn with_ttl(mut s: SegmentSpec, ttl: u8) -> SegmentSpec {
    match &mut s.ip {
        crate::wire::IpSpec::V4(ip) => ip.ttl = ttl,
        crate::wire::IpSpec::V6(ip) => ip.hop_limit = ttl,
    }
    s
}

/// What came back (not our own datagram).
fn answers(got: Vec<Captured>) -> Vec<Captured> {
    got.into_iter().filter(|c| c.origin != Origin::Crafted).collect()
}

/// TTL 1 expires at the first router, TTL 2 at the second: each answers time-exceeded quoting our seq, arriving
/// after its share of the RTT and with the TTL its distance leaves (64, then 63).
#[test]
fn an_expiring_ttl_is_answered_by_that_router_quoting_our_seq() {
    for (ttl, from, reply_ttl, t) in [(1, "198.51.100.1", 64, 66), (2, "198.51.100.2", 63, 133)] {
        let mut link = SimLink::new(behind_two_routers());
        let got = answers(exchange(&mut link, &with_ttl(syn_to(80), ttl), 10_000));
        assert_eq!(got.len(), 1, "{got:?}");
        let e = got[0].icmp.as_ref().unwrap();
        assert_eq!(got[0].origin, Origin::Icmp);
        assert_eq!((e.from, e.icmp_type, e.code, e.quoted_seq), (from.parse().unwrap(), 11, 0, Some(1000)));
        assert_eq!(got[0].bytes[crate::wire::field::ipv4::TTL], reply_ttl);
        assert_eq!(got[0].t, t, "rtt 200 µs shared over three hops");
        assert_eq!(link.peer_state(), Some("LISTEN"), "the host never saw it");
    }
}

#[test]
fn the_hosts_replies_arrive_with_64_minus_the_routers() {
    let mut link = SimLink::new(behind_two_routers());
    let got = answers(exchange(&mut link, &with_ttl(syn_to(80), 3), 10_000));
    let sa = got[0].segment.as_ref().unwrap();
    assert_eq!((sa.tcp.flags, sa.ttl(), got[0].t), (TcpFlags::SYN_ACK, 62, 200));
    assert!(sa.ip_checksum_ok());
    let got = answers(exchange(&mut link, &syn_to(81), 10_000));
    let rst = got[0].segment.as_ref().unwrap();
    assert_eq!((rst.tcp.flags, rst.ttl()), (TcpFlags::RST_ACK, 62), "the host's own reset is 3 hops away too");
    assert_eq!(link.describe(), "sim 192.0.2.10 behind 2 routers");
}

#[test]
fn a_router_drops_a_port_silently() {
    let mut link = SimLink::new(behind_two_routers());
    let got = exchange(&mut link, &syn_to(8081), 3_000_000);
    assert_eq!(got.len(), 1, "only our SYN: {got:?}");
    assert_eq!(link.peer_state(), Some("LISTEN"), "the host never saw it");
}

/// The second router forges the reset: from the host's address, seq 0 and ack = seq + 1, TTL 63 on arrival (one
/// hop closer than the host's 62), while the host itself listens on the port.
#[test]
fn a_router_forges_a_reset_in_the_hosts_name() {
    let mut link = SimLink::new(behind_two_routers());
    let got = answers(exchange(&mut link, &syn_to(8082), 10_000));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].origin, Origin::Peer, "it looks like the host's");
    let rst = got[0].segment.as_ref().unwrap();
    assert_eq!(rst.src(), IpAddr::V4(SimConfig::default().host));
    assert_eq!((rst.tcp.flags, rst.tcp.seq, rst.tcp.ack, rst.ttl()), (TcpFlags::RST_ACK, 0, 1001, 63));
    assert!(rst.tcp_checksum_ok() && rst.ip_checksum_ok());
    assert_eq!(got[0].t, 133);
    assert_eq!(link.peer_state(), Some("LISTEN"), "the host never saw the SYN");
}

#[test]
fn ipv6_hop_limit_counts_down_the_same_way() {
    let v6 = |s: SegmentSpec| SegmentSpec { ip: crate::wire::IpSpec::V6(crate::wire::Ipv6Spec::default()), ..s };
    let mut link = SimLink::new(behind_two_routers());
    let got = answers(exchange(&mut link, &with_ttl(v6(syn_to(80)), 2), 10_000));
    let e = got[0].icmp.as_ref().unwrap();
    assert_eq!((e.v6, e.icmp_type, e.code, e.quoted_seq), (true, 3, 0, Some(1000)));
    assert_eq!(e.from, "2001:db8:1::2".parse::<IpAddr>().unwrap());
    assert_eq!(got[0].bytes[crate::wire::field::ipv6::HOP_LIMIT], 63);
    let got = answers(exchange(&mut link, &v6(syn_to(80)), 10_000));
    let sa = got[0].segment.as_ref().unwrap();
    assert_eq!((sa.tcp.flags, sa.ttl()), (TcpFlags::SYN_ACK, 62));
    let got = answers(exchange(&mut link, &v6(syn_to(8082)), 10_000));
    assert_eq!(got[0].segment.as_ref().unwrap().ttl(), 63);
}

/// Without routers nothing changes: the host's replies leave and arrive with 64.
#[test]
fn without_routers_the_host_is_one_hop_away() {
    let mut link = SimLink::new(SimConfig::default());
    let got = answers(exchange(&mut link, &with_ttl(syn_to(80), 1), 10_000));
    assert_eq!(got[0].segment.as_ref().unwrap().ttl(), 64);
    assert_eq!(link.describe(), "sim 192.0.2.10");
}
