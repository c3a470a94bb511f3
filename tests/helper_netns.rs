//! The privilege split end to end, inside a network namespace the test creates: the CLI runs as `nobody`, the
//! `tcpcraft-link` helper holds CAP_NET_RAW + CAP_NET_ADMIN from `setcap`, and a real kernel on 127.0.0.1
//! answers. Also: what happens without the capabilities, and that the helper refuses to run as root.
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use common::helper::{Install, Session};
use common::netns::{self, sh};
use tcpcraft::link::helper::protocol::{self, Mode, Refusal, Reply, Request, VERSION};

fn accepted_within(l: &TcpListener, ms: u64) -> bool {
    l.set_nonblocking(true).unwrap();
    let until = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < until {
        if l.accept().is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn nobody_gets_a_syn_ack_through_the_helper() {
    if !netns::enter("nobody_gets_a_syn_ack_through_the_helper") {
        return;
    }
    let i = Install::new(true);
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let out = i.cli_as_nobody(&["run", "normal-open", "--target", "127.0.0.1:80", "--link", "raw", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tcpcraft run as nobody failed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert!(v["link"].as_str().unwrap().contains("via tcpcraft-link"), "{v:#}");
    let events = v["events"].as_array().unwrap();
    let sa = events.iter().find(|e| e["origin"] == "peer").expect("a reply from the kernel listener");
    assert_eq!(sa["flags"], serde_json::json!(["SYN", "ACK"]));
    assert_eq!(sa["rel_ack"], 1);
    assert!(events.iter().all(|e| e["origin"] != "local_kernel"), "the helper's guard kept our kernel quiet: {v:#}");
    assert!(accepted_within(&l, 1000), "the handshake really completed: accept() returned");
    assert!(!sh("nft list tables").contains("tcpcraft"), "the helper removed its guard table on close");
}

#[test]
fn without_capabilities_the_cli_says_how_to_grant_them() {
    if !netns::enter("without_capabilities_the_cli_says_how_to_grant_them") {
        return;
    }
    let i = Install::new(false);
    let out = i.cli_as_nobody(&["run", "normal-open", "--target", "127.0.0.1:80", "--link", "raw", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let fix = format!("sudo setcap cap_net_raw,cap_net_admin+eip {}", i.helper().display());
    assert!(stderr.contains("CAP_NET_RAW on tcpcraft-link") && stderr.contains(&fix), "{stderr}");
}

const NET_ADMIN: u64 = 1 << 12;
const NET_RAW: u64 = 1 << 13;

#[test]
fn the_helper_narrows_its_capabilities_and_drops_them_at_close() {
    if !netns::enter("the_helper_narrows_its_capabilities_and_drops_them_at_close") {
        return;
    }
    let i = Install::new(true);
    let mut s = Session::start(i.as_nobody(&i.helper()));
    assert_eq!(
        s.call(&Request::Hello { version: VERSION }),
        Some(Reply::Hello { version: VERSION, raw: true, admin: true })
    );
    assert_eq!(s.caps("CapEff"), NET_RAW | NET_ADMIN, "exactly the two capabilities");
    let open = |guard| Request::Open {
        mode: Mode::Flow,
        targets: vec!["127.0.0.1".parse().unwrap()],
        iface: None,
        guard,
        layer2: false,
        max_pps: 100,
        sports: Vec::new(),
    };
    assert!(matches!(s.call(&open(true)), Some(Reply::Opened { .. })));
    assert_eq!(s.caps("CapEff"), NET_ADMIN, "CAP_NET_RAW is gone once the sockets are open");
    assert_eq!(s.caps("CapPrm"), NET_ADMIN, "and cannot come back");
    assert_eq!((s.caps("CapInh"), s.caps("CapAmb")), (0, 0), "nothing inheritable, nothing ambient");
    let mut elsewhere = vec![0u8; 40];
    elsewhere[0] = 0x45;
    elsewhere[9] = 6;
    elsewhere[12..16].copy_from_slice(&[127, 0, 0, 1]);
    elsewhere[16..20].copy_from_slice(&[127, 0, 0, 2]);
    let send = Request::Send { datagram: protocol::Bytes(elsewhere) };
    assert!(matches!(s.call(&send), Some(Reply::Error { kind: Refusal::Forbidden, .. })), "only declared targets");
    assert_eq!(s.call(&Request::Close), Some(Reply::Done));
    assert!(s.child.wait().unwrap().success());

    // Without the guard, everything goes right after open.
    let mut s = Session::start(i.as_nobody(&i.helper()));
    s.call(&Request::Hello { version: VERSION }).unwrap();
    assert!(matches!(s.call(&open(false)), Some(Reply::Opened { .. })));
    assert_eq!((s.caps("CapEff"), s.caps("CapPrm"), s.caps("CapAmb")), (0, 0, 0), "no capabilities left at all");
    // Every thread, the capture thread included, holds nothing either.
    for task in std::fs::read_dir(format!("/proc/{}/task", s.child.id())).unwrap() {
        let status = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        let eff = status.lines().find_map(|l| l.strip_prefix("CapEff:")).unwrap().trim().to_string();
        assert_eq!(eff, "0000000000000000", "a thread kept capabilities:\n{status}");
    }
    drop(s.child.stdin.take());
    assert!(s.child.wait().unwrap().success(), "end of input ends the session cleanly");
}

#[test]
fn the_helper_refuses_to_run_as_root() {
    if !netns::enter("the_helper_refuses_to_run_as_root") {
        return;
    }
    let mut s = Session::start(Command::new(env!("CARGO_BIN_EXE_tcpcraft-link")));
    let Some(Reply::Error { kind: Refusal::ExtraPrivileges, message }) = s.call(&Request::Hello { version: VERSION })
    else {
        panic!("root was not refused")
    };
    assert!(message.contains("refuses to run as root"), "{message}");
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut s.child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("refuses to run as root"), "said on stderr too: {err}");
    let _ = s.child.stdin.take().map(|mut w| w.flush());
}

/// The helper killed while a trace or a sweep waits for answers: the CLI says the link failed (exit non-zero, the
/// helper named) within a second or so, instead of reading the silence after it as "filtered" at the end of
/// the wait.
#[test]
fn a_helper_killed_mid_wait_is_a_failure_not_silence() {
    if !netns::enter("a_helper_killed_mid_wait_is_a_failure_not_silence") {
        return;
    }
    sh("nft add table inet t && nft 'add chain inet t in { type filter hook input priority 0; }' \
        && nft add rule inet t in tcp dport 81 counter drop");
    // Probes that reached the drop rule so far.
    let dropped = || -> u64 {
        let chain = sh("nft list chain inet t in");
        chain
            .split("packets ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let i = Install::new(true);
    for args in [
        &["trace", "127.0.0.1", "--ports", "81", "--max-ttl", "3", "--wait", "8000", "--link", "raw"][..],
        &[
            "sweep",
            "half-open",
            "--target",
            "127.0.0.1",
            "--ports",
            "81",
            "--wait",
            "8000",
            "--retries",
            "0",
            "--link",
            "raw",
        ],
    ] {
        let before = dropped();
        let cli = i
            .as_nobody(&i.path("tcpcraft"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Once the probes are out (the drop rule counted them) the CLI is waiting: kill its helper, the CLI's
        // child (setpriv execs, so the CLI has the pid spawned).
        let until = Instant::now() + Duration::from_secs(10);
        while dropped() <= before {
            assert!(Instant::now() < until, "{args:?}: no probe reached the drop rule");
            std::thread::sleep(Duration::from_millis(20));
        }
        let child = Command::new("pgrep").args(["-P", &cli.id().to_string()]).output().unwrap();
        let pid = String::from_utf8_lossy(&child.stdout).trim().to_string();
        assert!(!pid.is_empty() && !pid.contains('\n'), "{args:?}: one helper process, not {pid:?}");
        let killed_at = Instant::now();
        sh(&format!("kill -KILL {pid}"));
        let out = cli.wait_with_output().unwrap();
        let took = killed_at.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{args:?}: a dead helper is no result: {stdout}");
        assert!(stderr.contains("helper"), "{args:?}: the error names the helper: {stderr}");
        assert!(!stdout.contains("filtered"), "{args:?}: the silence was not read as filtered: {stdout}");
        assert!(took < Duration::from_secs(4), "{args:?}: it took {took:?} after the kill, as if waiting out the 8 s");
    }
}
