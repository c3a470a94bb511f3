//! Sweeps on the simulated lab host (all 65,535 ports) and the CLI's refusals, with no privileges.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::process::Command;

use tcpcraft::exchange::sweep::{self, SweepConfig, Verdict};
use tcpcraft::link::sim::{SimConfig, SimLink, SIM_US};

/// A half-open sweep of every port of the lab host (which drops `filtered`), with `retries`, and the link to run it on.
fn lab_sweep(filtered: Vec<u16>, retries: u32) -> (SweepConfig, SimLink) {
    let cfg_sim = SimConfig { filtered, ..SimConfig::default() };
    let link = SimLink::new(cfg_sim.clone());
    let probe = sweep::probe_of(&tcpcraft::preset::resolve("half-open").unwrap()).unwrap();
    let cfg = SweepConfig {
        hosts: vec![cfg_sim.host.into()],
        ports: (1..=65535).collect(),
        probe,
        src: SIM_US.into(),
        sport: 47000,
        rate: 10_000,
        retries,
        wait: std::time::Duration::from_millis(500),
        seed: 1,
        refused_hosts: Vec::new(),
    };
    (cfg, link)
}

fn tcpcraft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().unwrap()
}

#[test]
fn every_port_of_the_simulated_host_is_classified() {
    let (cfg, mut link) = lab_sweep(vec![9000, 9001], 1);
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
    assert!(csv.starts_with("host,port,verdict,reply,ttl\n"));
    assert!(csv.contains("192.0.2.10,80,filtered,"), "an open port stays silent to a null probe: {csv}");
    assert!(csv.contains("192.0.2.10,81,closed,R"), "{csv}");
}

#[test]
fn refused_targets_and_rates_exit_2() {
    for (target, needle) in [
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "not a host"),
        ("224.0.0.1", "multicast"),
        ("10.0.0.0/8", "4096"),
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

/// A sweep of every port of the lab host (filtering `filtered`), and its results when `progress` stops it after
/// `stop_after` probes.
fn stopped_sweep(filtered: Vec<u16>, retries: u32, stop_after: u64) -> (Vec<sweep::PortResult>, Vec<sweep::Progress>) {
    let (cfg, mut link) = lab_sweep(filtered, retries);
    let mut progress = Vec::new();
    let results = sweep::run(&cfg, &mut link, &mut |p| {
        progress.push(p);
        p.sent < stop_after
    })
    .unwrap();
    (results, progress)
}

/// Stopped halfway, a sweep tells the truth: ports it never reached are not probed, every port it reached keeps
/// the verdict it got, no open port is called filtered, and a silent port probed once is waiting, not filtered.
#[test]
fn a_sweep_stopped_halfway_reports_not_probed_ports_as_such() {
    let (results, progress) = stopped_sweep(vec![80, 9000], 1, 30_000);
    assert_eq!(results.len(), 65535);
    let last = *progress.last().unwrap();
    assert!(last.sent >= 30_000 && last.sent < 30_100, "{last:?}");
    assert!(!last.done);
    let reached = last.probed as usize;
    assert_eq!(reached as u64, last.sent, "one probe per port in the first pass");
    let verdict = |port: u16| results[usize::from(port) - 1].verdict;
    // Every port up to where the sweep got has its answer or waits for one; none beyond was probed.
    for r in &results {
        let probed = usize::from(r.port) <= reached;
        match r.verdict {
            Verdict::Open | Verdict::Closed => assert!(probed, "{r:?}"),
            Verdict::Waiting => assert!(probed && [80, 9000].contains(&r.port), "{r:?}"),
            Verdict::NotProbed => assert!(!probed, "{r:?}"),
            Verdict::Filtered | Verdict::Unreachable | Verdict::Refused | Verdict::Unfiltered => {
                panic!("{r:?}: nothing was filtered, unreachable or refused yet")
            }
        }
    }
    assert_eq!((verdict(22), verdict(443)), (Verdict::Open, Verdict::Open));
    assert_eq!(verdict(8080), Verdict::Open, "8080 was reached: open as found");
    assert_eq!((verdict(80), verdict(9000)), (Verdict::Waiting, Verdict::Waiting), "probed once, retry pending");
    assert_eq!(verdict(65535), Verdict::NotProbed);
    assert!(!results.iter().any(|r| r.verdict == Verdict::Filtered), "no port ran out of retries");
    // The live counts were true at every report: replies counted as they came, not only at the end.
    assert!(progress.iter().all(|p| p.count(Verdict::NotProbed) + p.probed == p.total));
    let mid = progress[progress.len() / 2];
    assert!(mid.replies > 0 && mid.replies + 2 >= mid.probed, "replies are counted as they arrive: {mid:?}");
    assert_eq!(last.count(Verdict::Open) as usize, results.iter().filter(|r| r.verdict == Verdict::Open).count());
    // The CSV names the ports never probed.
    let csv = sweep::csv(&results);
    assert!(csv.contains("192.0.2.10,65535,not_probed,,\n"), "the CSV names never-probed ports");
    assert!(csv.contains("192.0.2.10,80,waiting,,\n"));
    assert!(csv.contains("192.0.2.10,22,open,SA,64\n"), "with the reply's TTL");
    let ranges = sweep::port_ranges(&results, Verdict::NotProbed);
    assert_eq!(ranges, vec![(results[0].host, format!("{}-65535", reached + 1))]);
}

/// Stopped early, ports the sweep reached keep their verdict and the rest are not probed (open 80 included);
/// stopped in the retry pass, silent ports wait; run to the end, they are filtered.
#[test]
fn only_ports_silent_after_every_retry_are_filtered() {
    // Stopped after the first batch of 64 probes: 1-64 as found, 65 onwards never probed.
    let (results, progress) = stopped_sweep(vec![9000], 0, 1);
    assert_eq!(progress.last().unwrap().probed, 64);
    assert_eq!(
        (results[0].verdict, results[21].verdict, results[63].verdict),
        (Verdict::Closed, Verdict::Open, Verdict::Closed)
    );
    assert_eq!(
        (results[64].verdict, results[79].verdict),
        (Verdict::NotProbed, Verdict::NotProbed),
        "80 was never probed"
    );
    // Past the first pass (65,535 probes), in the retry of 9000: it waits for a reply that may still come.
    let (results, progress) = stopped_sweep(vec![9000, 9001], 2, 65_536);
    assert_eq!(results[8999].verdict, Verdict::Waiting, "{:?}", progress.last());
    assert_eq!(results.iter().filter(|r| r.verdict == Verdict::NotProbed).count(), 0);
    let (results, progress) = stopped_sweep(vec![9000, 9001], 1, u64::MAX);
    assert!(progress.last().unwrap().done);
    assert_eq!((results[8999].verdict, results[9000].verdict), (Verdict::Filtered, Verdict::Filtered));
    assert!(!results.iter().any(|r| matches!(r.verdict, Verdict::Waiting | Verdict::NotProbed)));
}

/// Ctrl-C stops `tcpcraft sweep`: the results so far are printed, the summary says it stopped and which ports
/// were never probed, and the exit code is 130. CSV output names them too.
#[test]
fn ctrl_c_stops_a_cli_sweep_and_names_the_ports_never_probed() {
    use std::io::{BufRead, BufReader};
    // 257 hosts (only the first answers, the rest are silent): long enough to be stopped.
    let target = "192.0.2.10,198.51.100.0/24";
    for format in ["--json", "--csv"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .args(["sweep", "half-open", "--target", target, "--ports", "1-2000", "--link", "sim", "--yes", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        if format == "--json" {
            // Stop once the first progress line is out.
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let first = lines.next().unwrap().unwrap();
            assert!(first.starts_with("{\"progress\""), "{first}");
            assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
            let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
            let status = child.wait().unwrap();
            assert_eq!(status.code(), Some(130), "stopped, not finished");
            let summary: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
            let s = &summary["summary"];
            assert_eq!(s["stopped"], true, "{s}");
            assert!(s["seed"].as_u64().is_some());
            assert!(s["verdicts"]["not_probed"].as_u64().unwrap() > 0, "{s}");
            assert_eq!(s["not_probed"]["198.51.100.255"], "1-2000", "the last host was never reached: {s}");
            assert!(s["verdicts"].get("filtered").is_none(), "nothing ran out of retries: {s}");
            let ports = rest.iter().filter(|l| l.contains("\"port\"")).count();
            assert_eq!(ports, 257 * 2000, "one line per target");
        } else {
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
            let csv = String::from_utf8_lossy(&out.stdout);
            assert!(csv.starts_with("host,port,verdict,reply,ttl\n"));
            assert!(csv.contains("198.51.100.255,2000,not_probed,"), "the CSV names never-probed ports");
            assert!(!csv.contains(",filtered,"));
        }
    }
}

/// An ACK probe (nmap -sA): a RST back means "unfiltered" (open or closed, no firewall in the way); silence means
/// "filtered".
#[test]
fn an_ack_probe_sweep_tells_unfiltered_from_filtered() {
    let (mut cfg, mut link) = lab_sweep(vec![81], 0);
    cfg.probe = sweep::probe_of(&tcpcraft::preset::resolve("ack-probe").unwrap()).unwrap();
    cfg.ports = vec![22, 80, 81, 9999];
    cfg.wait = std::time::Duration::from_millis(200);
    let results = sweep::run(&cfg, &mut link, &mut |_| true).unwrap();
    let v: Vec<(u16, Verdict, String)> = results.iter().map(|r| (r.port, r.verdict, r.reason())).collect();
    assert_eq!(v[0].1, Verdict::Unfiltered, "an open port resets a stray ACK: {v:?}");
    assert_eq!(v[3].1, Verdict::Unfiltered, "so does a closed one: {v:?}");
    assert_eq!(v[2].1, Verdict::Filtered, "the filtered port stays silent: {v:?}");
    assert!(v[1].2.starts_with("reset ttl"), "{v:?}");
}
