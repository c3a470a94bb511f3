//! Sweeps against the real Linux stack in a network namespace: three listeners, a port dropped by nft, one
//! rejected with ICMP admin-prohibited; and the rate cap. Needs root (skips loudly without, fails under CI).
#![cfg(target_os = "linux")] // Network namespaces, setcap, signals and /proc: Linux only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Instant;

use common::netns::{self, sh};

fn sweep(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).arg("sweep").args(args).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn sweep_classifies_the_real_stack() {
    if !netns::enter("sweep_classifies_the_real_stack") {
        return;
    }
    let _l: Vec<TcpListener> = [22, 80, 8080].iter().map(|p| TcpListener::bind(("127.0.0.1", *p)).unwrap()).collect();
    sh("nft add table inet f && nft add chain inet f in '{ type filter hook input priority 0; }' \
        && nft add rule inet f in tcp dport 9000 drop \
        && nft add rule inet f in tcp dport 9001 reject with icmp type admin-prohibited");
    let lines = sweep(&["half-open", "--target", "127.0.0.1", "--ports", "1-10000", "--link", "raw", "--wait", "300"]);
    let verdict =
        |p: u16| lines.iter().find(|l| l["port"] == p).map(|l| l["verdict"].as_str().unwrap_or("").to_string());
    for p in [22u16, 80, 8080] {
        assert_eq!(verdict(p).as_deref(), Some("open"), "port {p}");
    }
    assert_eq!(verdict(9000).as_deref(), Some("filtered"));
    assert_eq!(verdict(9001).as_deref(), Some("unreachable"));
    let reply = lines.iter().find(|l| l["port"] == 9001).unwrap()["reply"].as_str().unwrap().to_string();
    assert!(reply.contains("3/13"), "{reply}");
    let summary = &lines.last().unwrap()["summary"]["verdicts"];
    assert_eq!(
        (summary["open"].as_u64(), summary["filtered"].as_u64(), summary["unreachable"].as_u64()),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(summary["closed"].as_u64(), Some(10000 - 5), "0 misclassified");
}

#[test]
fn the_rate_cap_is_respected() {
    if !netns::enter("the_rate_cap_is_respected") {
        return;
    }
    let start = Instant::now();
    let lines = sweep(&[
        "rst-closed-port",
        "--target",
        "127.0.0.1",
        "--ports",
        "1-3000",
        "--link",
        "raw",
        "--rate",
        "2000",
        "--retries",
        "0",
        "--wait",
        "200",
    ]);
    // The sweep ends as soon as every probe is answered (each closed port answers at once on lo), so no trailing
    // wait is in the time: it is all pacing, plus start-up.
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(lines.iter().filter(|l| l["verdict"] == "closed").count(), 3000);
    // 3000 probes at 2000 pps take 1.5 s; the cap holds within 10% (and start-up costs add a little).
    let pps = 3000.0 / secs;
    assert!(pps <= 2000.0 * 1.10, "{pps:.0} pps is above the 2000 pps cap");
    assert!(pps >= 2000.0 * 0.75, "{pps:.0} pps: pacing far below the asked rate");
}
