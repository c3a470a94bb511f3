//! Every bundled preset against the real Linux stack, inside a network namespace the test creates, with proof of
//! the effect on the peer: accept() returned or not, the peer saw a reset, the server read exactly our payload.
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::netns;
use tcpcraft::exchange::{self, RunOptions, RunResult, Silent};
use tcpcraft::link::raw::{RawLink, RawOptions};
use tcpcraft::link::Origin;
use tcpcraft::preset::resolve;
use tcpcraft::wire::TcpFlags;

const LO: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// Runs a bundled preset against 127.0.0.1 on its own port, over the raw link with the guard it asks for.
fn run(name: &str) -> RunResult {
    let p = resolve(name).unwrap();
    let mut link = RawLink::open(LO, &RawOptions { guard: p.guard, ..RawOptions::default() }).unwrap();
    let opts = RunOptions { target: LO, dport: p.port, src: LO, sport: None, isn: None, seed: None, linger_ms: 100 };
    let r = exchange::run(&p, &mut link, &opts, &mut Silent).unwrap();
    assert!(r.timeline.pass(), "{name}: {:#?}", r.timeline.verdicts);
    r
}

/// accept() with a time limit.
fn accept_within(l: &TcpListener, ms: u64) -> Option<TcpStream> {
    l.set_nonblocking(true).unwrap();
    let until = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < until {
        if let Ok((s, _)) = l.accept() {
            s.set_nonblocking(false).unwrap();
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn normal_open_is_truly_established() {
    if !netns::enter("normal_open_is_truly_established") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let r = run("normal-open");
    assert!(accept_within(&l, 1000).is_some(), "accept() returned: the connection is ESTABLISHED");
    let ev = &r.timeline.events;
    let sa = ev.iter().find(|e| e.flags() == TcpFlags::SYN_ACK).unwrap();
    assert_eq!((sa.rel_seq, sa.rel_ack), (0, 1));
    assert!(sa.rtt_us.is_some_and(|r| r < 100_000), "an RTT is measured");
    assert!(ev.iter().all(|e| e.origin != Origin::LocalKernel), "the guard kept our kernel quiet");
}

#[test]
fn half_open_is_never_accepted() {
    if !netns::enter("half_open_is_never_accepted") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let r = run("half-open");
    assert!(accept_within(&l, 300).is_none(), "accept() did not return");
    assert!(r.timeline.events.iter().any(|e| e.origin == Origin::Crafted && e.flags() == TcpFlags::RST));
}

#[test]
fn rst_closed_port_and_scans_and_ack_probe() {
    if !netns::enter("rst_closed_port_and_scans_and_ack_probe") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let r = run("rst-closed-port");
    let rst = r.timeline.events.iter().find(|e| e.flags() == TcpFlags::RST_ACK).unwrap();
    assert_eq!(rst.rel_ack, 1, "ack = our ISN + 1");
    for scan in ["null-scan", "fin-scan", "xmas-scan"] {
        run(scan);
    }
    run("ack-probe");
    assert!(accept_within(&l, 100).is_none());
}

#[test]
fn rst_abort_resets_the_peer() {
    if !netns::enter("rst_abort_resets_the_peer") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let server = std::thread::spawn(move || {
        let mut s = accept_within(&l, 2000).expect("accepted");
        let mut buf = [0u8; 16];
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.read(&mut buf).map_err(|e| e.kind())
    });
    run("rst-abort");
    assert_eq!(server.join().unwrap(), Err(ErrorKind::ConnectionReset), "the peer's read saw the reset");
}

#[test]
fn fin_close_closes_both_ways() {
    if !netns::enter("fin_close_closes_both_ways") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let server = std::thread::spawn(move || {
        let mut s = accept_within(&l, 2000).expect("accepted");
        let mut buf = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.read_to_end(&mut buf).map(|_| buf.len()).map_err(|e| e.kind())
        // Dropping the stream closes our side: the FIN the preset expects.
    });
    let r = run("fin-close");
    assert_eq!(server.join().unwrap(), Ok(0), "the server read a clean end of stream");
    let last = r.timeline.events.iter().rfind(|e| e.origin == Origin::Crafted).unwrap();
    assert!(last.note.render().contains("closed in both directions"), "{}", last.note.render());
}

#[test]
fn data_exchange_delivers_exactly_our_payload() {
    if !netns::enter("data_exchange_delivers_exactly_our_payload") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let server = std::thread::spawn(move || {
        let mut s = accept_within(&l, 2000).expect("accepted");
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "request cut short");
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.0 200 OK\r\n\r\nhello from the kernel\n").unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        (got, rest)
    });
    let r = run("data-exchange");
    let (request, rest) = server.join().unwrap();
    assert_eq!(request, b"GET / HTTP/1.0\r\n\r\n", "the server read exactly our payload");
    assert!(rest.is_empty());
    let reply: Vec<u8> = r
        .timeline
        .events
        .iter()
        .filter(|e| e.origin == Origin::Peer)
        .filter_map(|e| e.segment.as_ref())
        .flat_map(|s| s.payload.clone())
        .collect();
    assert!(String::from_utf8_lossy(&reply).contains("hello from the kernel"), "the reply is in the timeline");
}
