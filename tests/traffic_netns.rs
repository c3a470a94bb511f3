//! Heavy traffic never stalls a run, balloons it or hides what it lost. Inside a network namespace the test
//! creates, `tcpcraft run data-exchange` talks to a kernel server on 127.0.0.1:80 while
//! - a kernel bulk stream of 64 KiB writes runs on lo between two other sockets (the capture's kernel-side filter
//!   keeps it out of the process), and
//! - a raw socket floods the run's own flow (the peer's address and port to ours, so the filter lets it in):
//!   small segments (2,000 a second) all through a plain run, and 60 KB datagrams while a `--step` run waits at its first step,
//!   which must fill the capture ring to its byte bound and be reported as drops.
//!
//! Each run must pass in under 3 s (counted from the last key press for `--step`; three times a quiet run's time
//! when the machine is so loaded that this is more) with a peak RSS under 200 MB
//! (the CLI, and the helper where there is one), in-process as root and through a setcap'd `tcpcraft-link` copy
//! run as nobody. Every loop here is bounded in time; the namespace goes when the test process exits.
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::netns;
use socket2::{Domain, Protocol, Socket, Type};
use tcpcraft::wire::{self, IpSpec, Payload, SegmentSpec, TcpFlags};

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// The run's own source port (fixed, so the flood can aim at its flow).
const SPORT: u16 = 40123;
/// Longest a run may take, from its start (or, with `--step`, from the last key press): 3 s, or three times what
/// a run without traffic takes on this machine right now, if that is more (a loaded 2-core machine).
const NORMAL: Duration = Duration::from_secs(3);
/// Highest peak RSS of any process of the run.
const RSS_BUDGET_KB: u64 = 200 * 1024;

/// A flag that stops the background traffic when dropped, so a failing assertion still ends it.
struct Stop(Arc<AtomicBool>, Vec<JoinHandle<()>>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for t in self.1.drain(..) {
            let _ = t.join();
        }
    }
}

/// A kernel server on 127.0.0.1:80 that answers data-exchange up to `n` times (each accept waits at most 20 s).
fn http_server(n: usize) -> JoinHandle<()> {
    let l = TcpListener::bind((LO, 80)).unwrap();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        for _ in 0..n {
            let until = Instant::now() + Duration::from_secs(20);
            let mut s = loop {
                match l.accept() {
                    Ok((s, _)) => break s,
                    Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
                    Err(_) => return,
                }
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let (mut got, mut buf) = (Vec::new(), [0u8; 512]);
            while !got.ends_with(b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\nhello from the kernel\n");
            let _ = s.read_to_end(&mut Vec::new());
        }
    })
}

/// A kernel bulk stream on lo (127.0.0.1:9000): 64 KiB writes, as fast as the reader takes them, until stopped
/// (at most 60 s). Returns the bytes moved so far.
fn bulk_stream(stop: &Arc<AtomicBool>, threads: &mut Vec<JoinHandle<()>>) -> Arc<AtomicU64> {
    let moved = Arc::new(AtomicU64::new(0));
    let l = TcpListener::bind((LO, 9000)).unwrap();
    let (s1, m) = (stop.clone(), moved.clone());
    threads.push(std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let until = Instant::now() + Duration::from_secs(60);
        while !s1.load(Ordering::Relaxed) && Instant::now() < until {
            if let Ok(n) = c.read(&mut buf) {
                m.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }));
    let s2 = stop.clone();
    threads.push(std::thread::spawn(move || {
        let mut c = TcpStream::connect((LO, 9000)).unwrap();
        c.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
        let chunk = vec![0x5a; 1 << 16];
        let until = Instant::now() + Duration::from_secs(60);
        while !s2.load(Ordering::Relaxed) && Instant::now() < until {
            let _ = c.write(&chunk);
        }
    }));
    moved
}

/// The peer's segments to our flow (127.0.0.1:80 to 127.0.0.1:SPORT): ACK with `payload` bytes and an
/// acknowledgment number no Expect step of data-exchange wants, each with its own sequence number.
fn flood_datagram(seq: u32, payload: usize) -> Vec<u8> {
    let mut spec = SegmentSpec { payload: Payload::Hex(vec![0x66; payload]), ..SegmentSpec::default() };
    if let IpSpec::V4(ip) = &mut spec.ip {
        (ip.src, ip.dst) = (LO, LO);
    }
    (spec.tcp.sport, spec.tcp.dport, spec.tcp.seq, spec.tcp.ack) = (80, SPORT, seq, 7);
    spec.tcp.flags = TcpFlags::from_bits(0x10);
    wire::build(&spec).unwrap()
}

/// Sends `count` flood datagrams of `payload` bytes from a raw socket, `per_ms` per millisecond at most, until
/// stopped. Returns how many went.
fn flood(stop: &Arc<AtomicBool>, count: u32, payload: usize, per_ms: u32) -> JoinHandle<u32> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(libc::IPPROTO_RAW))).unwrap();
        let to: SocketAddr = (LO, 0).into();
        // Built once: distinct enough that none is taken for a loopback duplicate (those are 5 ms apart).
        let pool: Vec<Vec<u8>> = (0..count.min(4096)).map(|i| flood_datagram(i.wrapping_mul(7919), payload)).collect();
        let mut sent = 0;
        while sent < count && !stop.load(Ordering::Relaxed) {
            let tick = Instant::now();
            for _ in 0..per_ms.min(count - sent) {
                if s.send_to(&pool[sent as usize % pool.len()], &to.into()).is_ok() {
                    sent += 1;
                }
            }
            if let Some(rest) = Duration::from_millis(1).checked_sub(tick.elapsed()) {
                std::thread::sleep(rest);
            }
        }
        sent
    })
}

/// Samples the peak RSS (VmHWM) of `pid` and its children every few milliseconds until stopped; returns the
/// largest, in KiB.
fn rss_sampler(pid: u32) -> (Arc<AtomicBool>, JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let t = std::thread::spawn(move || {
        let hwm = |p: u32| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .ok()
                .and_then(|st| st.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(str::to_string))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let children = |p: u32| -> Vec<u32> {
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect()
        };
        let mut peak = 0;
        let until = Instant::now() + Duration::from_secs(120);
        while !s.load(Ordering::Relaxed) && Instant::now() < until {
            peak = std::iter::once(pid).chain(children(pid)).map(hwm).fold(peak, u64::max);
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    (stop, t)
}

/// Waits for `child` at most `limit`; kills it past that.
fn wait_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How a run is started: in this process's privileges, or as nobody through a helper copy.
enum Via {
    InProcess,
    Helper(common::helper::Install),
}

impl Via {
    fn command(&self) -> Command {
        match self {
            Via::InProcess => Command::new(env!("CARGO_BIN_EXE_tcpcraft")),
            Via::Helper(i) => i.as_nobody(&i.path("tcpcraft")),
        }
    }
}

/// What one run showed.
struct Ran {
    passed: bool,
    stdout: String,
    secs: f64,
    peak_kb: u64,
}

/// Runs `tcpcraft run data-exchange` with `extra` arguments; with `pause`, the run is a `--step` run that waits at
/// its first step while `pause` runs, then every step is confirmed at once (and the time counts from there).
fn run(via: &Via, extra: &[&str], pause: Option<&dyn Fn()>) -> Ran {
    let sport = SPORT.to_string();
    let mut args = vec!["run", "data-exchange", "--target", "127.0.0.1:80", "--link", "raw", "--sport", &sport];
    args.extend_from_slice(extra);
    if pause.is_some() {
        args.push("--step");
    }
    let mut child = via
        .command()
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (rss_stop, rss) = rss_sampler(child.id());
    let mut started = Instant::now();
    if let Some(pause) = pause {
        // The first step's prompt is up once the flow is watched; give the run a moment to get there.
        std::thread::sleep(Duration::from_millis(1000));
        pause();
        started = Instant::now();
        child.stdin.as_mut().unwrap().write_all(&b"\n".repeat(8)).unwrap();
    }
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = wait_within(&mut child, Duration::from_secs(30));
    let secs = started.elapsed().as_secs_f64();
    rss_stop.store(true, Ordering::Relaxed);
    let peak_kb = rss.join().unwrap();
    let stdout = reader.join().unwrap();
    // Exit status 1 is a failed verdict; anything else is an error.
    assert!(status.success() || status.code() == Some(1), "tcpcraft run failed ({status}):\n{stdout}");
    Ran { passed: status.success(), stdout, secs, peak_kb }
}

/// Both scenarios over one way of running: a plain run under a continuous flood of its own flow, and a `--step`
/// run whose ring overflows while it waits.
/// With `must_pass_backlog`, the `--step` run must also pass after the backlog (in-process it always can).
fn runs_hold_under_traffic(via: &Via, label: &str, must_pass_backlog: bool) {
    let server = http_server(3);
    // The run's normal time here and now (debug build, whatever else this machine is doing), without traffic.
    let quiet = run(via, &["--json"], None);
    assert!(quiet.passed, "{}", quiet.stdout);
    let normal = NORMAL.as_secs_f64().max(3.0 * quiet.secs);
    eprintln!("{label}: quiet run: {:.2} s, peak RSS {} MB", quiet.secs, quiet.peak_kb / 1024);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let moved = bulk_stream(&stop, &mut threads);
    let guard = Stop(stop.clone(), threads);
    std::thread::sleep(Duration::from_millis(200));

    // 1. A plain run while small segments of its own flow arrive at up to 2,000 a second.
    let f = flood(&stop, 1_000_000, 0, 2);
    let r = run(via, &["--json"], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let (flooded, dropped) = (v["events"].as_array().map_or(0, Vec::len), v["dropped"].as_u64());
    eprintln!(
        "{label}: plain run under a flood of its flow: {:.2} s, peak RSS {} MB, {flooded} events, dropped {dropped:?}",
        r.secs,
        r.peak_kb / 1024
    );
    assert_eq!(v["verdict"], "pass", "{}", r.stdout);
    assert!(dropped.is_some(), "--json reports the drops");
    assert!(flooded > 100, "the flood reached the run's capture ({flooded} events)");
    assert!(r.secs < normal, "the run took {:.2} s under traffic ({:.2} s without)", r.secs, quiet.secs);
    assert!(r.peak_kb < RSS_BUDGET_KB, "peak RSS {} KiB", r.peak_kb);
    stop.store(true, Ordering::Relaxed);
    let sent = f.join().unwrap();
    stop.store(false, Ordering::Relaxed);
    eprintln!("{label}: flood datagrams sent: {sent}");

    // 2. A --step run that waits at its first step while 2,000 datagrams of 60 KB (120 MB) arrive for its flow.
    let overflow = || {
        let f = flood(&stop, 2_000, 60_000, 5);
        assert_eq!(f.join().unwrap(), 2_000);
        std::thread::sleep(Duration::from_millis(300));
    };
    let r = run(via, &[], Some(&overflow));
    eprintln!(
        "{label}: --step run after 120 MB arrived during its pause: {:.2} s after the last key, peak RSS {} MB",
        r.secs,
        r.peak_kb / 1024
    );
    let line = r.stdout.lines().find(|l| l.starts_with("capture dropped ")).unwrap_or_default().to_string();
    eprintln!("{label}: {line}");
    if must_pass_backlog {
        assert!(r.passed && r.stdout.contains("verdict: PASS"), "{}", r.stdout);
    } else if !r.passed {
        // Through the helper every captured byte crosses a pipe as hex: a debug build on a loaded machine may
        // not forward the whole 32 MiB backlog within the SYN-ACK's Expect. The run still ends on time.
        let why = r.stdout.lines().find(|l| l.contains("✗")).unwrap_or_default();
        let why: String = why.trim().chars().take(160).collect();
        eprintln!("{label}: the --step run failed its verdict behind the backlog: {why}");
    }
    let n: u64 = line.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(n >= 100, "the ring holds at most 32 MiB (about 560 of these): the rest are dropped and said so");
    assert!(r.secs < normal, "the run took {:.2} s after its pause ({:.2} s without)", r.secs, quiet.secs);
    assert!(r.peak_kb < RSS_BUDGET_KB, "peak RSS {} KiB", r.peak_kb);

    assert!(moved.load(Ordering::Relaxed) > 64 << 20, "the kernel bulk stream ran");
    drop(guard);
    let _ = server.join();
}

#[test]
fn runs_hold_under_traffic_in_process() {
    if !netns::enter("runs_hold_under_traffic_in_process") {
        return;
    }
    runs_hold_under_traffic(&Via::InProcess, "in-process", true);
}

#[test]
fn runs_hold_under_traffic_through_the_helper() {
    if !netns::enter("runs_hold_under_traffic_through_the_helper") {
        return;
    }
    let install = common::helper::Install::new(true);
    runs_hold_under_traffic(&Via::Helper(install), "helper", false);
}
