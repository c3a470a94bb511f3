//! The raw link against the real Linux stack, only inside network namespaces these tests create: `lo` in a
//! fresh namespace, and a veth pair to a second namespace. Needs root; skips loudly without it (fails under CI).
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::process::Command;

use common::netns::{self, sh, PeerNs};
use tcpcraft::link::raw::{RawLink, RawOptions};
use tcpcraft::link::{Captured, Flow, Link, Origin};
use tcpcraft::wire::{self, Checksum, IpSpec, Ipv4Spec, Ipv6Spec, SegmentSpec, TcpFlags};

fn spec(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, flags: TcpFlags, seq: u32, ack: u32) -> SegmentSpec {
    let ip = match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => IpSpec::V4(Ipv4Spec { src, dst, ..Ipv4Spec::default() }),
        (IpAddr::V6(src), IpAddr::V6(dst)) => IpSpec::V6(Ipv6Spec { src, dst, ..Ipv6Spec::default() }),
        _ => panic!("mixed families"),
    };
    let mut s = SegmentSpec { ip, ..SegmentSpec::default() };
    s.tcp.sport = sport;
    s.tcp.dport = dport;
    s.tcp.flags = flags;
    s.tcp.seq = seq;
    s.tcp.ack = ack;
    s
}

/// Sends `spec` and collects the flow for up to `ms` milliseconds, stopping early once `done` says so.
fn exchange(link: &mut dyn Link, spec: &SegmentSpec, ms: u64, done: impl Fn(&[Captured]) -> bool) -> Vec<Captured> {
    let bytes = wire::build(spec).unwrap();
    let seg = wire::parse(&bytes).unwrap();
    link.watch(Flow::of(&seg)).unwrap();
    let t0 = link.send(&bytes).unwrap();
    let mut got = Vec::new();
    while !done(&got) {
        let batch = link.recv_until(t0 + ms * 1000).unwrap();
        if batch.is_empty() {
            break;
        }
        got.extend(batch);
    }
    got
}

fn find(got: &[Captured], origin: Origin, flags: TcpFlags) -> Option<&Captured> {
    got.iter().find(|c| c.origin == origin && c.segment.as_ref().is_some_and(|s| s.tcp.flags == flags))
}

fn lo() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

#[test]
fn lo_syn_to_listener_gets_syn_ack_and_a_kernel_rst() {
    if !netns::enter("lo_syn_to_listener_gets_syn_ack_and_a_kernel_rst") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut link = RawLink::open(lo(), &RawOptions::default()).unwrap();
    assert_eq!(link.route().iface, "lo");
    let got = exchange(&mut link, &spec(lo(), lo(), 40000, 8080, TcpFlags::SYN, 1000, 0), 1000, |g| {
        find(g, Origin::LocalKernel, TcpFlags::RST).is_some()
    });
    let crafted = find(&got, Origin::Crafted, TcpFlags::SYN).expect("our SYN seen on the wire");
    let sa = find(&got, Origin::Peer, TcpFlags::SYN_ACK).expect("SYN-ACK");
    let sa_seg = sa.segment.as_ref().unwrap();
    assert_eq!(sa_seg.tcp.ack, 1001, "ack = our ISN + 1");
    assert!(sa.t >= crafted.t);
    let rst = find(&got, Origin::LocalKernel, TcpFlags::RST).expect("our kernel resets the unexpected SYN-ACK");
    assert_eq!(rst.segment.as_ref().unwrap().tcp.seq, 1001);
    assert!(listener.accept().is_err(), "the listener never got a connection");
    assert_eq!(got.iter().filter(|c| c.origin == Origin::Crafted).count(), 1, "lo's duplicate frames are dropped");
    assert_eq!(link.dropped(), 0);
}

#[test]
fn lo_closed_port_answers_rst_ack() {
    if !netns::enter("lo_closed_port_answers_rst_ack") {
        return;
    }
    let mut link = RawLink::open(lo(), &RawOptions::default()).unwrap();
    let got = exchange(&mut link, &spec(lo(), lo(), 40000, 8081, TcpFlags::SYN, 7, 0), 1000, |g| {
        find(g, Origin::Peer, TcpFlags::RST_ACK).is_some()
    });
    let rst = find(&got, Origin::Peer, TcpFlags::RST_ACK).expect("RST-ACK from the closed port");
    assert_eq!(rst.segment.as_ref().unwrap().tcp.ack, 8);
}

#[test]
fn guard_stops_the_kernel_rst_so_a_crafted_handshake_completes() {
    if !netns::enter("guard_stops_the_kernel_rst_so_a_crafted_handshake_completes") {
        return;
    }
    // A table left by a killed run (its process is gone) must not get in the way, and is removed.
    let dead = (4_000_000..4_194_304).rev().find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()).unwrap();
    sh(&format!("nft add table inet tcpcraft-{dead}"));
    let ours = format!("tcpcraft-{}", std::process::id());
    let listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    listener.set_nonblocking(true).unwrap();
    {
        let mut link = RawLink::open(lo(), &RawOptions { guard: true, ..RawOptions::default() }).unwrap();
        let got = exchange(&mut link, &spec(lo(), lo(), 40002, 8080, TcpFlags::SYN, 5000, 0), 300, |_| false);
        assert!(link.guarded());
        let sa = find(&got, Origin::Peer, TcpFlags::SYN_ACK).expect("SYN-ACK").segment.clone().unwrap();
        assert!(got.iter().all(|c| c.origin != Origin::LocalKernel), "the guard dropped our kernel's RST: {got:?}");
        let ack = spec(lo(), lo(), 40002, 8080, TcpFlags::ACK, 5001, sa.tcp.seq.wrapping_add(1));
        exchange(&mut link, &ack, 100, |_| false);
        let mut accepted = None;
        for _ in 0..100 {
            if let Ok((_, peer)) = listener.accept() {
                accepted = Some(peer);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(accepted, Some("127.0.0.1:40002".parse::<SocketAddr>().unwrap()), "accept() returned");
        let tables = sh("nft list tables");
        assert!(tables.contains(&ours), "our table is present while the run is active: {tables}");
        assert!(!tables.contains(&format!("tcpcraft-{dead}")), "the dead run's table was removed: {tables}");
    }
    assert!(!sh("nft list tables").contains("tcpcraft"), "table removed when the link dropped");
}

#[test]
fn ipv6_on_lo() {
    if !netns::enter("ipv6_on_lo") {
        return;
    }
    let v6: IpAddr = "::1".parse().unwrap();
    let mut link = RawLink::open(v6, &RawOptions::default()).unwrap();
    let got = exchange(&mut link, &spec(v6, v6, 40000, 8081, TcpFlags::SYN, 1, 0), 1000, |g| {
        find(g, Origin::Peer, TcpFlags::RST_ACK).is_some()
    });
    assert!(find(&got, Origin::Crafted, TcpFlags::SYN).is_some());
    assert_eq!(find(&got, Origin::Peer, TcpFlags::RST_ACK).unwrap().segment.as_ref().unwrap().tcp.ack, 2);
}

#[test]
fn veth_to_a_second_namespace_raw_socket_and_layer2() {
    if !netns::enter("veth_to_a_second_namespace_raw_socket_and_layer2") {
        return;
    }
    let peer = PeerNs::create();
    // Listening before the first SYN, however slowly python starts under load (a fixed 400 ms once was not).
    let mut server = peer.spawn_ready(
        "exec python3 -c 'import socket,time; s=socket.socket(); s.bind((\"198.18.0.2\",8080)); s.listen(); \
         print(\"ready\", flush=True); time.sleep(30)'",
    );
    let (a, b): (IpAddr, IpAddr) = ("198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap());
    for layer2 in [false, true] {
        let mut link = RawLink::open(b, &RawOptions { layer2, ..RawOptions::default() }).unwrap();
        assert_eq!(link.route().iface, "tc-a");
        assert_eq!(link.route().src, a);
        let sport = if layer2 { 40011 } else { 40010 };
        let got = exchange(&mut link, &spec(a, b, sport, 8080, TcpFlags::SYN, 100, 0), 2000, |g| {
            find(g, Origin::LocalKernel, TcpFlags::RST).is_some()
        });
        let sa = find(&got, Origin::Peer, TcpFlags::SYN_ACK).unwrap_or_else(|| panic!("layer2={layer2}: {got:?}"));
        assert_eq!(sa.segment.as_ref().unwrap().tcp.ack, 101);
        assert!(find(&got, Origin::Crafted, TcpFlags::SYN).is_some());
        assert!(find(&got, Origin::LocalKernel, TcpFlags::RST).is_some(), "our kernel's RST leaves through tc-a");
    }
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn icmp_admin_prohibited_is_matched_to_the_flow() {
    if !netns::enter("icmp_admin_prohibited_is_matched_to_the_flow") {
        return;
    }
    let peer = PeerNs::create();
    peer.run(
        "nft add table inet f && nft add chain inet f in { type filter hook input priority 0 \\; } && \
         nft add rule inet f in tcp dport 9 reject with icmp type admin-prohibited",
    );
    let (a, b): (IpAddr, IpAddr) = ("198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap());
    let mut link = RawLink::open(b, &RawOptions::default()).unwrap();
    let got = exchange(&mut link, &spec(a, b, 40020, 9, TcpFlags::SYN, 77, 0), 2000, |g| {
        g.iter().any(|c| c.origin == Origin::Icmp)
    });
    let icmp = got.iter().find(|c| c.origin == Origin::Icmp).expect("ICMP error").icmp.clone().unwrap();
    assert_eq!((icmp.icmp_type, icmp.code), (3, 13));
    assert_eq!(icmp.describe(), "administratively prohibited");
    assert_eq!(icmp.quoted_seq, Some(77));
    assert_eq!(icmp.from, b);
}

#[test]
fn a_bad_ip_checksum_survives_only_on_the_layer2_path() {
    if !netns::enter("a_bad_ip_checksum_survives_only_on_the_layer2_path") {
        return;
    }
    let mut s = spec(lo(), lo(), 40030, 8081, TcpFlags::SYN, 1, 0);
    if let IpSpec::V4(ip) = &mut s.ip {
        ip.checksum = Checksum::Bad;
    }
    let mut l2 = RawLink::open(lo(), &RawOptions { layer2: true, ..RawOptions::default() }).unwrap();
    let got = exchange(&mut l2, &s, 300, |_| false);
    let ours = find(&got, Origin::Crafted, TcpFlags::SYN).expect("crafted SYN seen");
    assert!(!ours.segment.as_ref().unwrap().ip_checksum_ok(), "the bad checksum went out as crafted");
    assert!(got.iter().all(|c| c.origin != Origin::Peer), "the kernel drops a bad IP checksum silently");
    drop(l2);
    // Through a raw IP socket, Linux rewrites the IPv4 checksum (raw(7)), so the stack answers.
    s.tcp.sport = 40031;
    let mut raw = RawLink::open(lo(), &RawOptions::default()).unwrap();
    let got = exchange(&mut raw, &s, 1000, |g| find(g, Origin::Peer, TcpFlags::RST_ACK).is_some());
    assert!(find(&got, Origin::Crafted, TcpFlags::SYN).unwrap().segment.as_ref().unwrap().ip_checksum_ok());
    assert!(find(&got, Origin::Peer, TcpFlags::RST_ACK).is_some());
}

fn tcpcraft() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
}

#[test]
fn cli_send_json_against_a_kernel_listener() {
    if !netns::enter("cli_send_json_against_a_kernel_listener") {
        return;
    }
    let _listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    let out = tcpcraft()
        .args(["send", "-S", "-M", "4242", "127.0.0.1:8080", "--link", "raw", "--wait", "300", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let sa = events.iter().find(|e| e["flags"] == serde_json::json!(["SYN", "ACK"])).expect("SYN-ACK event");
    assert_eq!(sa["ack"], 4243);
    assert_eq!(sa["origin"], "peer");
    assert_eq!(sa["dir"], "in");
    assert!(events.iter().any(|e| e["origin"] == "local_kernel" && e["flags"] == serde_json::json!(["RST"])));
    assert_eq!(v["link"], "raw lo");
}

#[test]
fn missing_privileges_exit_3_with_the_fix() {
    if !netns::enter("missing_privileges_exit_3_with_the_fix") {
        return;
    }
    // Drop to nobody with no capabilities at all, as an unprivileged student would run it.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"])
        .arg(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["send", "-S", "127.0.0.1:8080", "--link", "raw", "--wait", "100"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("CAP_NET_RAW") && err.contains("setcap cap_net_raw,cap_net_admin+eip"), "{err}");
    assert!(!err.contains("panicked"));
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn ctrl_c_removes_the_guard_table() {
    if !netns::enter("ctrl_c_removes_the_guard_table") {
        return;
    }
    let _listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    let mut child = tcpcraft()
        .args(["send", "-S", "127.0.0.1:8080", "--link", "raw", "--guard", "--wait", "20000"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = false;
    for _ in 0..200 {
        if sh("nft list tables").contains("tcpcraft") {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen, "the guard table appears while send waits");
    sh(&format!("kill -INT {}", child.id()));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(!sh("nft list tables").contains("tcpcraft"), "Ctrl-C removed the table");
}
