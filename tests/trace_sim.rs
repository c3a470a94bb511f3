//! Trace, firewalk and the sweep's forged-reset evidence on the simulated path of the `firewall-path` preset (one
//! router, 192.0.2.254 / 2001:db8::fe, that drops 8081 and resets 8082, in front of the lab host): no privileges.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::process::Command;

use serde_json::Value;

fn tcpcraft(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

fn trace(target: &str) -> Value {
    tcpcraft(&[
        "trace",
        target,
        "--ports",
        "8080,8081,8082",
        "--probe",
        "firewall-path",
        "--link",
        "sim",
        "--max-ttl",
        "8",
        "--wait",
        "300",
        "--json",
    ])
}

/// Hop 1 is the router's time-exceeded, 8080 is open at hop 2 (reply TTL 63), 8081 is blocked after hop 1, and
/// 8082's reset came at hop 2 with TTL 64: one hop closer than the host, so the router forged it.
fn check_firewalk(r: &Value, host: &str, router: &str) {
    let hops = r["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 2, "{r}");
    assert_eq!((hops[0]["ttl"].as_u64(), hops[0]["addr"].as_str()), (Some(1), Some(router)), "{r}");
    assert_eq!(hops[0]["icmp"], "time-exceeded", "{r}");
    assert_eq!((hops[1]["addr"].as_str(), hops[1]["icmp"].as_str()), (Some(host), Some("tcp")), "{r}");
    // Timed by the lab host's own clock (200 µs round trip, the router halfway), not by the loop that drained it.
    let rtt = |h: &Value| h["rtt_us"].as_u64().unwrap_or(u64::MAX);
    assert!(rtt(&hops[0]) < rtt(&hops[1]) && rtt(&hops[1]) <= 220, "{r}");
    let ports = r["ports"].as_array().unwrap();
    let row = |port: u64| ports.iter().find(|p| p["port"] == port).unwrap_or_else(|| panic!("no {port}: {r}"));
    let open = row(8080);
    assert_eq!((open["result"].as_str(), open["answered_at"].as_u64()), (Some("open"), Some(2)), "{r}");
    assert_eq!((open["answered_by"].as_str(), open["reply_ttl"].as_u64()), (Some(host), Some(63)), "{r}");
    let dropped = row(8081);
    assert_eq!((dropped["result"].as_str(), dropped["blocked_after"].as_u64()), (Some("filtered"), Some(1)), "{r}");
    let reset = row(8082);
    assert_eq!((reset["result"].as_str(), reset["answered_at"].as_u64()), (Some("closed"), Some(2)), "{r}");
    assert_eq!((reset["answered_by"].as_str(), reset["reply_ttl"].as_u64()), (Some(host), Some(64)), "{r}");
    assert_eq!(r["result"], "open", "{r}");
}

#[test]
fn firewalk_through_the_simulated_firewall() {
    check_firewalk(&trace("192.0.2.10"), "192.0.2.10", "192.0.2.254");
}

#[test]
fn firewalk_through_the_simulated_firewall_over_ipv6() {
    check_firewalk(&trace("2001:db8::10"), "2001:db8::10", "2001:db8::fe");
}

/// The sweep flags 8082's reset as forged: its TTL (64) is not the host's SYN-ACKs' (63).
#[test]
fn the_sweep_sees_the_forged_reset() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["sweep", "firewall-path", "--target", "192.0.2.10", "--ports", "8080-8082", "--link", "sim", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let row = |port: u64| rows.iter().find(|r| r["port"] == port).unwrap_or_else(|| panic!("no {port}: {rows:?}"));
    assert_eq!((row(8080)["verdict"].as_str(), row(8080)["ttl"].as_u64()), (Some("open"), Some(63)), "{rows:?}");
    assert_eq!(row(8081)["verdict"], "filtered", "{rows:?}");
    let forged = row(8082);
    assert_eq!((forged["verdict"].as_str(), forged["ttl"].as_u64()), (Some("closed"), Some(64)), "{rows:?}");
    assert_eq!((forged["forged_hops"].as_u64(), forged["host_hops"].as_u64()), (Some(1), Some(2)), "{rows:?}");
    assert!(forged["reason"].as_str().unwrap().contains("1 hop closer than the host"), "{forged}");
    assert!(row(8080).get("forged_hops").is_none(), "{rows:?}");
}

/// The preset itself passes on its simulated host: the SYN to 8080 crosses the router and gets its SYN-ACK.
#[test]
fn the_preset_runs_through_its_router() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(["run", "firewall-path", "--json"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("behind 1 router"), "{stdout}");
}
