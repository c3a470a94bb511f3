//! The kernel-side capture filter, end to end on `lo` inside fresh network namespaces: while an unrelated TCP
//! connection in the same namespace sends a secret hundreds of times, the raw link and the sweep's probe link
//! hand back only the session's own datagrams, and the frames read from the capture socket (`seen`) are only
//! those. Needs root; skips loudly without it (fails under CI). Sends only to 127.0.0.1 and ::1.
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::netns;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tcpcraft::link::raw::{RawLink, RawOptions, RawProbes};
use tcpcraft::link::{Captured, Flow, Link, Origin, ProbeLink};
use tcpcraft::wire::{self, IpSpec, Ipv4Spec, Ipv6Spec, SegmentSpec, TcpFlags};

const SECRET: &[u8] = b"correct-horse-battery-staple";

/// Another user's connection: a listener on `ip:9000` and a client writing the secret, one segment per write,
/// until stopped. `segments` counts the writes.
struct Bystander {
    stop: Arc<AtomicBool>,
    segments: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl Bystander {
    fn start(ip: IpAddr) -> Bystander {
        let listener = TcpListener::bind(SocketAddr::new(ip, 9000)).unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            while conn.read(&mut buf).is_ok_and(|n| n > 0) {}
        });
        let (stop, segments) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (s, n) = (stop.clone(), segments.clone());
        let client = std::thread::spawn(move || {
            let mut c = TcpStream::connect(SocketAddr::new(ip, 9000)).unwrap();
            c.set_nodelay(true).unwrap();
            while !s.load(Ordering::Relaxed) {
                c.write_all(SECRET).unwrap();
                n.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(500));
            }
        });
        let b = Bystander { stop, segments, threads: vec![server, client] };
        b.wait_for(20);
        b
    }

    /// Waits until `more` further segments have been written.
    fn wait_for(&self, more: u64) {
        let until = self.segments.load(Ordering::Relaxed) + more;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.segments.load(Ordering::Relaxed) < until {
            assert!(Instant::now() < deadline, "the bystander connection stalled");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.threads.drain(..).for_each(|t| t.join().unwrap());
        self.segments.load(Ordering::Relaxed)
    }
}

fn contains_secret(bytes: &[u8]) -> bool {
    bytes.windows(SECRET.len()).any(|w| w == SECRET)
}

fn syn(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => IpSpec::V4(Ipv4Spec { src: s, dst: d, ..Ipv4Spec::default() }),
        (IpAddr::V6(s), IpAddr::V6(d)) => IpSpec::V6(Ipv6Spec { src: s, dst: d, ..Ipv6Spec::default() }),
        _ => panic!("mixed families"),
    };
    let mut s = SegmentSpec { ip, ..SegmentSpec::default() };
    (s.tcp.sport, s.tcp.dport, s.tcp.flags, s.tcp.seq) = (src.port(), dst.port(), TcpFlags::SYN, 7000);
    wire::build(&s).unwrap()
}

/// Sends an ICMP port unreachable (type 3, code 3) to 127.0.0.1 quoting `quoted`, through the kernel's own raw
/// ICMP socket (so it is not one of the link's datagrams).
fn icmp_unreachable_quoting(quoted: &[u8]) {
    let mut msg = vec![3u8, 3, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(&quoted[..28]);
    let sum = !msg.chunks(2).fold(0u32, |acc, w| {
        let acc = acc + u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
        (acc & 0xffff) + (acc >> 16)
    }) as u16;
    msg[2..4].copy_from_slice(&sum.to_be_bytes());
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).unwrap();
    s.send_to(&msg, &SockAddr::from(SocketAddr::from(([127, 0, 0, 1], 0)))).unwrap();
}

/// Everything the link hands back until `deadline_ms` from now.
fn collect(link: &mut RawLink, ms: u64) -> Vec<Captured> {
    let deadline = link.now() + ms * 1000;
    let mut got = Vec::new();
    loop {
        let batch = link.recv_until(deadline).unwrap();
        if batch.is_empty() {
            return got;
        }
        got.extend(batch);
    }
}

/// The capture thread holds no capability, though this (root) process does.
fn capture_thread_has_no_capabilities() {
    let mut found = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with("tcpcraft-captur") {
            continue;
        }
        found += 1;
        let status = std::fs::read_to_string(dir.join("status")).unwrap();
        for set in ["CapPrm:", "CapEff:"] {
            let line = status.lines().find(|l| l.starts_with(set)).unwrap();
            assert!(line.ends_with("0000000000000000"), "capture thread {comm}: {line}");
        }
    }
    assert!(found > 0, "a capture thread is running");
    let me = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    assert!(!me.lines().any(|l| l == "CapEff:\t0000000000000000"), "the test thread itself is privileged");
}

fn flow_filter_on(lo: IpAddr) {
    let bystander = Bystander::start(lo);
    let mut link = RawLink::open(lo, &RawOptions::default()).unwrap();
    bystander.wait_for(100);
    assert_eq!(link.seen(), 0, "nothing enters before a flow is watched");

    let (local, remote) = (SocketAddr::new(lo, 40000), SocketAddr::new(lo, 40001));
    link.watch(Flow { local, remote }).unwrap();
    bystander.wait_for(100);
    assert_eq!(link.seen(), 0, "the bystander's segments stay out");
    link.send(&syn(local, remote)).unwrap();
    let mut got = collect(&mut link, 500);
    let mut icmp = 0;
    if lo.is_ipv4() {
        // An ICMP error quoting our SYN comes in; one quoting the bystander's connection does not.
        icmp_unreachable_quoting(&syn(local, remote));
        icmp_unreachable_quoting(&syn(SocketAddr::new(lo, 9000), SocketAddr::new(lo, 40001)));
        got.extend(collect(&mut link, 300));
        icmp = got.iter().filter(|c| c.origin == Origin::Icmp).count();
        assert_eq!(icmp, 1, "{got:?}");
    }
    bystander.wait_for(100);
    let segments = bystander.finish();

    assert!(got.iter().all(|c| !contains_secret(&c.bytes)));
    assert!(got.iter().any(|c| c.origin == Origin::Crafted), "our SYN: {got:?}");
    let rst = got.iter().find(|c| c.origin == Origin::Peer).expect("the closed port's RST");
    assert!(rst.segment.as_ref().unwrap().tcp.flags.rst);
    // On lo every frame is seen twice: our SYN, the RST, and the ICMP error, nothing else.
    let ours = 2 * (2 + icmp as u64);
    assert_eq!(link.seen(), ours, "frames read from the socket while the bystander sent {segments} segments");
    assert!(segments >= 300);
    capture_thread_has_no_capabilities();
}

#[test]
fn flow_filter_keeps_a_bystander_out_v4() {
    if !netns::enter("flow_filter_keeps_a_bystander_out_v4") {
        return;
    }
    flow_filter_on(IpAddr::from([127, 0, 0, 1]));
}

#[test]
fn flow_filter_keeps_a_bystander_out_v6() {
    if !netns::enter("flow_filter_keeps_a_bystander_out_v6") {
        return;
    }
    flow_filter_on("::1".parse().unwrap());
}

#[test]
fn restrict_to_keeps_only_replies_to_our_probes() {
    if !netns::enter("restrict_to_keeps_only_replies_to_our_probes") {
        return;
    }
    let lo = IpAddr::from([127, 0, 0, 1]);
    let bystander = Bystander::start(lo);
    let mut probes = RawProbes::open(lo, None).unwrap();
    assert!(probes.kernel_filtered());
    // The control: unrestricted, the capture reads the bystander's secret.
    bystander.wait_for(50);
    let before = probes.drain(Duration::from_millis(100));
    assert!(before.iter().any(|d| contains_secret(d)), "an unfiltered capture sees the bystander");
    assert!(probes.seen() > 50);

    probes.restrict_to(lo, &[41000, 41001]).unwrap();
    let settled = probes.drain(Duration::from_millis(100));
    assert!(settled.iter().all(|d| !contains_secret(d)), "nothing read before the restriction comes out");
    let s0 = probes.seen();
    bystander.wait_for(100);
    assert_eq!(probes.seen(), s0, "the bystander's segments stay out");

    let host = SocketAddr::new(lo, 41500);
    for sport in [41000, 41002] {
        probes.send(&syn(SocketAddr::new(lo, sport), host)).unwrap();
    }
    icmp_unreachable_quoting(&syn(SocketAddr::new(lo, 41001), host));
    icmp_unreachable_quoting(&syn(SocketAddr::new(lo, 41002), host));
    let got = probes.drain(Duration::from_millis(500));
    bystander.wait_for(100);
    let segments = bystander.finish();

    assert!(got.iter().all(|d| !contains_secret(d)));
    let segs: Vec<_> = got.iter().filter_map(|d| wire::parse(d).ok()).collect();
    assert_eq!(segs.len(), 1, "only the RST to 41000: {segs:?}");
    assert_eq!((segs[0].tcp.sport, segs[0].tcp.dport, segs[0].tcp.flags.rst), (41500, 41000, true));
    let icmp: Vec<_> = got.iter().filter_map(|d| tcpcraft::link::classify::icmp_quote(d)).collect();
    assert_eq!(icmp.len(), 1);
    assert_eq!(icmp[0].1.port(), 41001, "the error quoting our probe from 41001");
    // The RST and the ICMP error, each seen twice on lo.
    assert_eq!(probes.seen() - s0, 4, "while the bystander sent {segments} segments");
    capture_thread_has_no_capabilities();
}

#[test]
fn open_restricted_lets_nothing_else_in_from_the_start() {
    if !netns::enter("open_restricted_lets_nothing_else_in_from_the_start") {
        return;
    }
    let lo = IpAddr::from([127, 0, 0, 1]);
    let bystander = Bystander::start(lo);
    let mut probes = RawProbes::open_restricted(lo, None, &[42000]).unwrap();
    bystander.wait_for(100);
    assert_eq!(probes.seen(), 0);
    probes.send(&syn(SocketAddr::new(lo, 42000), SocketAddr::new(lo, 42001))).unwrap();
    let got = probes.drain(Duration::from_millis(300));
    bystander.finish();
    assert_eq!(got.len(), 1, "the RST to 42000");
    // The RST once: a sweep's capture ignores outgoing frames (PACKET_IGNORE_OUTGOING), so neither our SYN nor
    // the outgoing copy of the kernel's RST on lo ever reaches the process.
    assert_eq!(probes.seen(), 1, "frames read from the capture socket");
    // Many probes, all answered, each reply read once: nothing else enters (the batched reader loses none).
    let before = probes.seen();
    let batch: Vec<Vec<u8>> =
        (0..500u16).map(|i| syn(SocketAddr::new(lo, 42000), SocketAddr::new(lo, 43000 + i))).collect();
    probes.send_batch(&batch).unwrap();
    let mut replies = 0;
    let until = Instant::now() + Duration::from_secs(5);
    while replies < 500 && Instant::now() < until {
        replies += probes.drain(Duration::from_millis(50)).len();
    }
    assert_eq!(replies, 500);
    assert_eq!(probes.seen() - before, 500, "one frame per reply, none of ours");
    // A sweep asks for one to 64 source ports.
    assert!(RawProbes::open_restricted(lo, None, &[]).is_err());
}
