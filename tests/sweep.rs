//! Sweeps on the simulated lab host (all 65,535 ports) and the CLI's refusals, with no privileges.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::process::Command;

use tcpcraft::exchange::sweep::{self, SweepConfig, Verdict};
use tcpcraft::link::sim::{SimConfig, SimLink, SIM_US};

fn tcpcraft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().unwrap()
}

#[test]
fn every_port_of_the_simulated_host_is_classified() {
    let cfg_sim = SimConfig { filtered: vec![9000, 9001], ..SimConfig::default() };
    let mut link = SimLink::new(cfg_sim.clone());
    let probe = sweep::probe_of(&tcpcraft::preset::resolve("half-open").unwrap()).unwrap();
    let cfg = SweepConfig {
        hosts: vec![cfg_sim.host.into()],
        ports: (1..=65535).collect(),
        probe,
        src: SIM_US.into(),
        sport: 47000,
        rate: 10_000,
        retries: 1,
        wait: std::time::Duration::from_millis(500),
    };
    let mut progress = Vec::new();
    let results = sweep::run(&cfg, &mut link, &mut |p| {
        progress.push(p);
        true
    })
    .unwrap();
    assert_eq!(results.len(), 65535);
    let open: Vec<u16> = results.iter().filter(|r| r.verdict == Verdict::Open).map(|r| r.port).collect();
    assert_eq!(open, vec![22, 80, 443, 8080]);
    let filtered: Vec<u16> = results.iter().filter(|r| r.verdict == Verdict::Filtered).map(|r| r.port).collect();
    assert_eq!(filtered, vec![9000, 9001]);
    assert_eq!(results.iter().filter(|r| r.verdict == Verdict::Closed).count(), 65535 - 6);
    assert!(results.iter().filter(|r| r.verdict == Verdict::Closed).all(|r| r.reply == "RA"));
    let last = progress.last().unwrap();
    assert_eq!((last.total, last.replies), (65535, 65533));
    assert_eq!(last.sent, 65535 + 2, "only the silent ports are retried");
}

#[test]
fn cli_sweep_json_and_csv() {
    let out =
        tcpcraft(&["sweep", "half-open", "--target", "192.0.2.10", "--ports", "20-25,80", "--link", "sim", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l.get("progress").is_some()));
    let ports: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("port").is_some()).collect();
    assert_eq!(ports.len(), 7);
    let p22 = ports.iter().find(|l| l["port"] == 22).unwrap();
    assert_eq!((p22["verdict"].as_str(), p22["reply"].as_str()), (Some("open"), Some("SA")));
    let p23 = ports.iter().find(|l| l["port"] == 23).unwrap();
    assert_eq!((p23["verdict"].as_str(), p23["reply"].as_str()), (Some("closed"), Some("RA")));
    let summary = lines.last().unwrap();
    assert_eq!(summary["summary"]["verdicts"]["open"], 2);

    let out = tcpcraft(&[
        "sweep",
        "null-scan",
        "--target",
        "192.0.2.10",
        "--ports",
        "80,81",
        "--link",
        "sim",
        "--csv",
        "--retries",
        "0",
        "--wait",
        "100",
    ]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("host,port,verdict,reply\n"));
    assert!(csv.contains("192.0.2.10,80,filtered,"), "an open port stays silent to a null probe: {csv}");
    assert!(csv.contains("192.0.2.10,81,closed,R"), "{csv}");
}

#[test]
fn refused_targets_and_rates_exit_2() {
    for (target, needle) in [
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "not a host"),
        ("224.0.0.1", "multicast"),
        ("10.0.0.0/8", "--yes"),
        ("example", "not an address"),
    ] {
        let out = tcpcraft(&["sweep", "half-open", "--target", target, "--ports", "80", "--link", "sim"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target}: {err}");
        assert!(err.contains(needle) && err.contains("--target"), "{target}: {err}");
    }
    let out = tcpcraft(&["sweep", "half-open", "--target", "192.0.2.10", "--ports", "80", "--rate", "50000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cap"));
    let out = tcpcraft(&["sweep", "half-open", "--target", "192.0.2.10", "--ports", "0-5"]);
    assert_eq!(out.status.code(), Some(2));
    let out = tcpcraft(&["sweep", "normal-open", "--target", "192.0.2.10", "--ports", "80", "--link", "sim"]);
    assert!(out.status.success(), "the first Send of any preset is a probe");
}

/// A raw sweep of more addresses than tcpcraft-link accepts per session (4096) is refused as bad input before
/// any link is opened: nothing is spawned (a stand-in helper would leave a mark) and nothing is sent.
#[test]
fn a_raw_sweep_beyond_the_helper_limit_is_refused_before_anything_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("spawned");
    let helper = dir.path().join("tcpcraft-link");
    std::fs::write(&helper, format!("#!/bin/sh\ntouch '{}'\nexit 3\n", mark.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["sweep", "half-open", "--target", "10.0.0.0/19", "--ports", "80", "--link", "raw", "--json"])
        .env("TCPCRAFT_LINK", &helper)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("4096") && err.contains("8192"), "names the limit and the count: {err}");
    assert!(out.stdout.is_empty(), "no progress, nothing swept: {}", String::from_utf8_lossy(&out.stdout));
    assert!(!mark.exists(), "the helper was spawned");
}
