//! The helper tried as an attacker would: `nobody`, with a setcap'd copy of `tcpcraft-link`, inside a network
//! namespace the test made. No fake tool on `PATH` runs, another user's connection can be neither watched,
//! sniffed nor reset, spoofed sources need root's configuration, and guard tables belong to their session.
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::helper::{Install, Session};
use common::netns::{self, sh};
use tcpcraft::link::helper::protocol::{Bytes, Mode, Refusal, Reply, Request, VERSION};
use tcpcraft::link::Flow;
use tcpcraft::wire::{build, SegmentSpec, TcpFlags};

const SECRET: &[u8] = b"SECRET-7f3a";
const LO: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn scratch() -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix("tcpcraft-attack").tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn open(mode: Mode, guard: bool, sports: Vec<u16>) -> Request {
    Request::Open { mode, targets: vec![LO], iface: None, guard, layer2: false, max_pps: 1000, sports }
}

fn refused(r: Option<Reply>, kind: Refusal, needle: &str) {
    match r {
        Some(Reply::Error { kind: k, message }) if k == kind && message.contains(needle) => {}
        other => panic!("expected a {kind:?} refusal mentioning {needle:?}, got {other:?}"),
    }
}

/// A TCP segment from `sport` to `dport` on 127.0.0.1 with `flags`.
fn segment(sport: u16, dport: u16, flags: TcpFlags) -> Vec<u8> {
    let mut s = SegmentSpec::default();
    if let tcpcraft::wire::IpSpec::V4(ip) = &mut s.ip {
        ip.src = std::net::Ipv4Addr::LOCALHOST;
        ip.dst = std::net::Ipv4Addr::LOCALHOST;
    }
    s.tcp.sport = sport;
    s.tcp.dport = dport;
    s.tcp.flags = flags;
    s.tcp.seq = 1;
    build(&s).unwrap()
}

#[test]
fn a_fake_nft_on_path_never_runs() {
    if !netns::enter("a_fake_nft_on_path_never_runs") {
        return;
    }
    let i = Install::new(true);
    let fake = scratch();
    let marker = fake.path().join("ran");
    for tool in ["nft", "iptables", "ip6tables", "ip"] {
        let p = fake.path().join(tool);
        let script = format!("#!/bin/sh\ntouch {}\nip addr add 192.0.2.77/32 dev lo\nexit 0\n", marker.display());
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let l = TcpListener::bind("127.0.0.1:8080").unwrap();
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", fake.path().display());
    let out = i
        .as_nobody(&i.path("tcpcraft"))
        .args(["send", "-S", "-p", "8080", "-s", "41010", "--guard", "--link", "raw", "127.0.0.1", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "the guarded send works with the real nft: {}", text(&out));
    assert!(!marker.exists(), "a program from the caller's PATH ran");
    assert!(!sh("ip addr show dev lo").contains("192.0.2.77"), "the fake tool added an address");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["events"].as_array().unwrap().iter().any(|e| e["origin"] == "peer"), "{v:#}");
    drop(l);
}

/// A root-owned connection in the namespace: a server that keeps everything it reads, and a client that sends
/// the secret 40 times over two seconds.
struct Victim {
    server: std::thread::JoinHandle<Vec<u8>>,
    client: std::thread::JoinHandle<std::io::Result<()>>,
    client_port: u16,
}

impl Victim {
    fn start() -> Victim {
        let l = TcpListener::bind("127.0.0.1:9000").unwrap();
        let server = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut all = Vec::new();
            c.read_to_end(&mut all).unwrap();
            all
        });
        let mut c = TcpStream::connect("127.0.0.1:9000").unwrap();
        let client_port = c.local_addr().unwrap().port();
        let client = std::thread::spawn(move || {
            for n in 0..40 {
                c.write_all(&[SECRET, format!("-{n:02}\n").as_bytes()].concat())?;
                std::thread::sleep(Duration::from_millis(50));
            }
            c.shutdown(std::net::Shutdown::Write)
        });
        Victim { server, client, client_port }
    }

    fn finish(self) {
        self.client.join().unwrap().expect("the victim's client finished normally");
        let got = self.server.join().unwrap();
        let lines = got.split(|&b| b == b'\n').filter(|l| l.starts_with(SECRET)).count();
        assert_eq!(lines, 40, "every message arrived: {}", String::from_utf8_lossy(&got));
    }
}

#[test]
fn another_users_connection_can_be_neither_watched_sniffed_nor_reset() {
    if !netns::enter("another_users_connection_can_be_neither_watched_sniffed_nor_reset") {
        return;
    }
    let i = Install::new(true);
    let out = scratch();
    let v = Victim::start();
    let cport = v.client_port.to_string();

    // Watching its 4-tuple from either side, with the CLI.
    for (sport, dport, owner) in
        [(&cport[..], "9000", format!("127.0.0.1:{cport}")), ("9000", &cport, "127.0.0.1:9000".into())]
    {
        let pcap = out.path().join(format!("from-{sport}.pcap"));
        let o = i.cli_as_nobody(&[
            "send",
            "-A",
            "-s",
            sport,
            "-p",
            dport,
            "--link",
            "raw",
            "127.0.0.1",
            "--pcap",
            pcap.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        assert!(text(&o).contains(&format!("local port {owner} is in use by another socket")), "{}", text(&o));
        let written = std::fs::read(&pcap).unwrap_or_default();
        assert!(!written.windows(SECRET.len()).any(|w| w == SECRET), "the secret reached the attacker's pcap");
    }

    // Flow mode, speaking the protocol: a free port of our own sees nothing of the victim, and cannot reset it.
    let mut s = Session::start(i.as_nobody(&i.helper()));
    s.call(&Request::Hello { version: VERSION }).unwrap();
    let Some(Reply::Opened { now, .. }) = s.call(&open(Mode::Flow, false, vec![])) else { panic!("not opened") };
    let opened = Instant::now();
    let victim_side = Flow { local: SocketAddr::new(LO, v.client_port), remote: SocketAddr::new(LO, 9000) };
    refused(s.call(&Request::Watch { flow: victim_side }), Refusal::Forbidden, "in use by another socket");
    let ours = Flow { local: SocketAddr::new(LO, 45556), remote: SocketAddr::new(LO, 9000) };
    assert_eq!(s.call(&Request::Watch { flow: ours }), Some(Reply::Done));
    for _ in 0..3 {
        let deadline = now + opened.elapsed().as_micros() as u64 + 200_000;
        let Some(Reply::Captured { items, .. }) = s.call(&Request::Recv { deadline }) else { panic!("recv") };
        assert!(items.iter().all(|c| !c.bytes.0.windows(SECRET.len()).any(|w| w == SECRET)), "sniffed: {items:?}");
    }
    for (sport, dport) in [(v.client_port, 9000), (9000, v.client_port)] {
        let rst = Request::Send { datagram: Bytes(segment(sport, dport, TcpFlags::RST)) };
        refused(s.call(&rst), Refusal::Forbidden, "is not owned by this session");
    }
    assert_eq!(s.call(&Request::Close), Some(Reply::Done));

    // Probe mode: the victim's port cannot be declared, and a drain on our own port sees nothing of it.
    let mut s = Session::start(i.as_nobody(&i.helper()));
    s.call(&Request::Hello { version: VERSION }).unwrap();
    refused(s.call(&open(Mode::Probes, false, vec![v.client_port])), Refusal::Forbidden, "in use by another socket");
    let mut s = Session::start(i.as_nobody(&i.helper()));
    s.call(&Request::Hello { version: VERSION }).unwrap();
    assert!(matches!(s.call(&open(Mode::Probes, false, vec![45557])), Some(Reply::Opened { .. })));
    let mut frames = 0;
    for _ in 0..4 {
        let Some(Reply::Frames { frames: f, .. }) = s.call(&Request::Drain { wait_ms: 200 }) else { panic!() };
        assert!(f.iter().all(|b| !b.0.windows(SECRET.len()).any(|w| w == SECRET)), "sniffed through drain");
        frames += f.len();
    }
    assert_eq!(frames, 0, "the kernel filter let other traffic in");
    let rst = Request::SendBatch { datagrams: vec![Bytes(segment(9000, v.client_port, TcpFlags::RST))], drain: false };
    refused(s.call(&rst), Refusal::Forbidden, "is not owned by this session");
    assert_eq!(s.call(&Request::Close), Some(Reply::Done));
    v.finish();
}

#[test]
fn spoofed_sources_need_roots_configuration() {
    if !netns::enter("spoofed_sources_need_roots_configuration") {
        return;
    }
    let i = Install::new(true);
    let args = ["send", "-S", "-p", "8080", "-s", "41020", "--src", "198.51.100.7", "--link", "raw", "127.0.0.1"];
    let o = i.cli_as_nobody(&args);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("source 198.51.100.7 is not an address of the outgoing interface"), "{t}");
    assert!(t.contains("allow_spoofed_source = true in /etc/tcpcraft/helper.conf"), "{t}");

    // Root allows it in /etc/tcpcraft/helper.conf: written in a private mount namespace over an overlay of /etc,
    // so the machine's /etc is never touched.
    let t = tempfile::tempdir().unwrap();
    let nobody = i.as_nobody(&i.path("tcpcraft"));
    let cmd: Vec<String> = std::iter::once(nobody.get_program())
        .chain(nobody.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect();
    let script = format!(
        "set -e; mount --make-rprivate /; mount -t tmpfs tmpfs {t}; mkdir {t}/up {t}/work; chmod 755 {t}/up; \
         mount -t overlay overlay -o lowerdir=/etc,upperdir={t}/up,workdir={t}/work /etc; mkdir -p /etc/tcpcraft; \
         echo 'allow_spoofed_source = true' > /etc/tcpcraft/helper.conf; chmod 644 /etc/tcpcraft/helper.conf; \
         exec {}",
        cmd.join(" "),
        t = t.path().display()
    );
    let o = Command::new("unshare")
        .args(["-m", "--", "sh", "-c", &script])
        .env("TCPCRAFT_LINK", i.helper())
        .current_dir(i.path(""))
        .output()
        .unwrap();
    assert!(o.status.success(), "allowed by root's configuration: {}", text(&o));
    assert!(!text(&o).contains("not an address"), "{}", text(&o));
}

fn tables() -> String {
    sh("nft list tables inet")
}

fn guarded(i: &Install, sport: u16) -> Session {
    let mut s = Session::start(i.as_nobody(&i.helper()));
    s.call(&Request::Hello { version: VERSION }).unwrap();
    assert!(matches!(s.call(&open(Mode::Flow, true, vec![])), Some(Reply::Opened { .. })));
    let flow = Flow { local: SocketAddr::new(LO, sport), remote: SocketAddr::new(LO, 8080) };
    assert_eq!(s.call(&Request::Watch { flow }), Some(Reply::Done));
    s
}

#[test]
fn each_session_keeps_its_own_guard_table() {
    if !netns::enter("each_session_keeps_its_own_guard_table") {
        return;
    }
    let i = Install::new(true);
    // Tables that are not a dead session's: the old shared name, and one of a live root process (this test).
    let mine = format!("tcpcraft-{}", std::process::id());
    sh(&format!("nft add table inet tcpcraft && nft add table inet {mine}"));
    let mut a = guarded(&i, 41001);
    let mut b = guarded(&i, 41002);
    let (ta, tb) = (format!("tcpcraft-{}", a.child.id()), format!("tcpcraft-{}", b.child.id()));
    assert!(tables().contains(&ta) && tables().contains(&tb), "{}", tables());
    assert_eq!(a.call(&Request::Close), Some(Reply::Done));
    a.child.wait().unwrap();
    assert!(!tables().contains(&ta), "A removed its own table: {}", tables());
    assert!(sh(&format!("nft list table inet {tb}")).contains("tcp sport 41002"), "B keeps its rule");

    // A session killed with SIGKILL leaves its table; the next session removes it, and nothing else.
    let mut c = guarded(&i, 41003);
    let tc = format!("tcpcraft-{}", c.child.id());
    c.child.kill().unwrap();
    c.child.wait().unwrap();
    assert!(tables().contains(&tc), "{}", tables());
    let mut d = guarded(&i, 41004);
    let after = tables();
    assert!(!after.contains(&tc), "the dead session's table was removed: {after}");
    for keep in [&tb, &mine, &format!("tcpcraft-{}", d.child.id())] {
        assert!(after.contains(keep.as_str()), "{keep} was touched: {after}");
    }
    assert!(after.lines().any(|l| l.trim() == "table inet tcpcraft"), "the old shared table is not ours: {after}");
    for s in [&mut b, &mut d] {
        assert_eq!(s.call(&Request::Close), Some(Reply::Done));
        s.child.wait().unwrap();
    }
    sh(&format!("nft delete table inet tcpcraft && nft delete table inet {mine}"));
    assert!(!tables().contains("tcpcraft"), "{}", tables());
}
