//! One set of limits, held by every face: rates (0 refused, the ceiling named, `--yes` never lifting it), target
//! counts (the helper's 4096, on the simulated host too), probe counts (targets × ports × passes), a per-target
//! kernel refusal that marks its rows and lets the sweep go on, and the exit codes of SIGINT (130) and SIGTERM
//! (143) with the kernel-RST guard removed first. The raw cases run in a network namespace as root (skip loudly
//! without, fail under CI).
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::netns::{self, sh};
use tcpcraft::limits::{CONFIRM_PROBES_ABOVE, DEFAULT_RATE, MAX_PPS, MAX_TARGETS};

fn tcpcraft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().unwrap()
}

/// A sweep of the lab host with `extra` flags: its exit code and stderr.
fn sim_sweep(target: &str, ports: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["sweep", "half-open", "--target", target, "--ports", ports, "--link", "sim", "--wait", "0"];
    args.extend_from_slice(extra);
    let out = tcpcraft(&args);
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_limits_are_the_documented_numbers() {
    assert_eq!((MAX_TARGETS, MAX_PPS, DEFAULT_RATE, CONFIRM_PROBES_ABOVE), (4096, 1_000_000, 10_000, 65_536));
    assert_eq!(tcpcraft::link::helper::policy::MAX_TARGETS, MAX_TARGETS, "the helper checks the same number");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Limits").nth(1).expect("README has a Limits section");
    for n in ["4096", "1,000,000", "10,000", "65,536"] {
        assert!(section.contains(n), "the README's Limits section states {n}");
    }
}

#[test]
fn a_rate_of_zero_or_above_the_ceiling_is_refused_and_never_clamped() {
    let (code, err) = sim_sweep("192.0.2.10", "80", &["--rate", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--rate") && err.contains("0 pps"), "{err}");
    let (code, err) = sim_sweep("192.0.2.10", "80", &["--rate", "1000001", "--yes"]);
    assert_eq!(code, Some(2), "--yes does not lift the ceiling: {err}");
    assert!(err.contains("1000000") && err.contains("--rate"), "names the ceiling: {err}");
    let (code, err) = sim_sweep("192.0.2.10", "80", &["--rate", "1000000"]);
    assert_eq!(code, Some(2), "above the default needs --yes: {err}");
    assert!(err.contains("--yes"), "{err}");
    let (code, err) = sim_sweep("192.0.2.10", "80", &["--rate", "1000000", "--yes"]);
    assert_eq!(code, Some(0), "the ceiling itself is allowed: {err}");
}

#[test]
fn more_targets_than_the_helper_accepts_are_refused_on_every_link() {
    for link in ["sim", "raw"] {
        let out =
            tcpcraft(&["sweep", "half-open", "--target", "10.0.0.0/16", "--ports", "80", "--link", link, "--yes"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{link}: {err}");
        assert!(err.contains("4096") && err.contains("65536") && err.contains("/20"), "{link}: {err}");
        assert!(out.stdout.is_empty(), "{link}: nothing swept");
    }
    let (code, err) = sim_sweep("10.0.0.0/20", "80", &["--retries", "0"]);
    assert_eq!(code, Some(0), "4096 addresses are allowed: {err}");
}

/// The confirmation counts probes: every port of one host with the default retry is 131,070 probes.
#[test]
fn the_confirmation_counts_probes_not_addresses() {
    let (code, err) = sim_sweep("192.0.2.10", "1-65535", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("131070") && err.contains("--yes"), "{err}");
    let (code, err) = sim_sweep("192.0.2.10,192.0.2.11", "1-16385", &["--retries", "1"]);
    assert_eq!(code, Some(2), "2 × 16385 × 2 = 65,540 probes: {err}");
    let (code, err) = sim_sweep("192.0.2.10,192.0.2.11", "1-16384", &["--retries", "1"]);
    assert_eq!(code, Some(0), "2 × 16384 × 2 = 65,536 probes, the cap itself: {err}");
}

/// The rows of a `--json` sweep: (host, port) -> (verdict, reply), and the summary's verdict counts.
fn rows(stdout: &[u8]) -> (Vec<(String, u64, String, String)>, serde_json::Value) {
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rows = lines
        .iter()
        .filter(|l| l.get("port").is_some())
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap().to_string();
            (s("host"), l["port"].as_u64().unwrap(), s("verdict"), s("reply"))
        })
        .collect();
    (rows, lines.last().unwrap()["summary"]["verdicts"].clone())
}

/// A sweep of `127.255.255.254/31` and 127.0.0.1 on the real stack, with an output rule dropping port 81, in
/// this process (root) and through tcpcraft-link (as nobody): 127.255.255.255 is lo's broadcast address, left
/// out of the link and marked `refused, local broadcast`; each probe to port 81 is refused by the kernel (EPERM)
/// and marked so; every other target is swept as usual, and the sweep exits 0.
#[test]
fn a_refused_target_is_marked_and_the_sweep_goes_on() {
    if !netns::enter("a_refused_target_is_marked_and_the_sweep_goes_on") {
        return;
    }
    let _l = std::net::TcpListener::bind("127.255.255.254:8080").unwrap();
    sh("nft add table inet f && nft add chain inet f out '{ type filter hook output priority 0; }' \
        && nft add rule inet f out tcp dport 81 drop");
    let args = ["sweep", "half-open", "--target", "127.255.255.254/31,127.0.0.1", "--ports", "81,8080"];
    let args = [&args[..], &["--link", "raw", "--wait", "200", "--json"]].concat();
    let install = common::helper::Install::new(true);
    for (how, out) in [("in process", tcpcraft(&args)), ("through tcpcraft-link", install.cli_as_nobody(&args))] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{how}: {err}");
        let (rows, summary) = rows(&out.stdout);
        let row = |host: &str, port: u64| {
            let r = rows.iter().find(|r| r.0 == host && r.1 == port).unwrap_or_else(|| panic!("{how}: {host}:{port}"));
            (r.2.as_str(), r.3.as_str())
        };
        assert_eq!(row("127.255.255.254", 8080), ("open", "SA"), "{how}");
        assert_eq!(row("127.0.0.1", 8080), ("closed", "RA"), "{how}");
        for host in ["127.255.255.254", "127.0.0.1"] {
            assert_eq!(row(host, 81), ("refused", "EPERM"), "{how}: the kernel refused the probe");
        }
        for port in [81, 8080] {
            assert_eq!(row("127.255.255.255", port), ("refused", "local broadcast"), "{how}");
        }
        assert_eq!((summary["refused"].as_u64(), summary["open"].as_u64()), (Some(4), Some(1)), "{how}: {summary}");
    }
    let csv = tcpcraft(&[&args[..args.len() - 1], &["--csv"]].concat());
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.contains("127.0.0.1,81,refused,EPERM") && csv.contains("127.255.255.255,81,refused,local broadcast"));
}

/// Waits for `child` to exit, at most `secs` seconds (killing it after).
fn wait_for(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("tcpcraft did not exit within {secs} s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `nft list tables` shows the guard table of process `pid`.
fn guard_table(pid: u32) -> bool {
    sh("nft list tables").contains(&format!("tcpcraft-{pid}"))
}

/// A guarded in-process raw run paused in step mode (waiting on stdin): SIGTERM exits 143 and SIGINT 130, and
/// neither leaves the guard's nft table behind.
#[test]
fn sigterm_and_sigint_exit_with_their_codes_and_remove_the_guard() {
    if !netns::enter("sigterm_and_sigint_exit_with_their_codes_and_remove_the_guard") {
        return;
    }
    for (sig, code) in [("TERM", 143), ("INT", 130)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .args(["run", "half-open", "--target", "127.0.0.1:8080", "--link", "raw", "--guard", "--step"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let until = Instant::now() + Duration::from_secs(10);
        while !guard_table(pid) {
            assert!(Instant::now() < until, "the guard table of {pid} never appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
        sh(&format!("kill -{sig} {pid}"));
        let status = wait_for(&mut child, 10);
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(status.code(), Some(code), "SIG{sig}: {status:?} {err}");
        assert!(!guard_table(pid), "SIG{sig} left the guard table: {}", sh("nft list tables"));
        drop(child.stdin.take());
    }
}

/// A raw sweep stopped by SIGTERM prints what it found and exits 143 (Ctrl-C: 130).
#[test]
fn a_sweep_stopped_by_sigterm_reports_and_exits_143() {
    if !netns::enter("a_sweep_stopped_by_sigterm_reports_and_exits_143") {
        return;
    }
    // 2000 probes at 200 pps: ten seconds, stopped after about one.
    let child = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["sweep", "half-open", "--target", "127.0.0.1", "--ports", "1-2000", "--link", "raw", "--rate", "200"])
        .args(["--retries", "0", "--csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    sh(&format!("kill -TERM {}", child.id()));
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "the sweep stopped at its next batch");
    assert_eq!(out.status.code(), Some(143), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains(",closed,RA") && csv.contains(",not_probed,"), "what it found, and what it never probed");
}
