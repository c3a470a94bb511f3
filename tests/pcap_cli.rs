//! pcap out and in: a simulated run exported with --pcap reads the same in tshark; recorded captures (pcap,
//! pcapng, Linux cooked v2) import; `build --from-pcap` and preset drafts; broken files give clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::process::{Command, Output};

fn tcpcraft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().unwrap()
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn exported_run_reads_the_same_in_tshark() {
    if Command::new("tshark").arg("-v").output().is_err() {
        return common::skip_or_fail("exported_run_reads_the_same_in_tshark", "tshark is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("run.pcap");
    let out = tcpcraft(&["run", "normal-open", "--json", "--seed", "5", "--pcap", pcap.to_str().unwrap()]);
    assert!(out.status.success());
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ts = Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap(), "-o", "tcp.check_checksum:TRUE", "-T", "fields"])
        .args([
            "-e",
            "tcp.flags.syn",
            "-e",
            "tcp.flags.ack",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.ack",
            "-e",
            "tcp.checksum.status",
            "-e",
            "frame.time_epoch",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ts.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let events = ours["events"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(events.len(), 3);
    for (row, e) in rows.iter().zip(events) {
        let flags: Vec<&str> = e["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        let bit = |b: &str| b == "1" || b == "True";
        assert_eq!(bit(row[0]), flags.contains(&"SYN"), "{row:?} {e}");
        assert_eq!(bit(row[1]), flags.contains(&"ACK"), "{row:?} {e}");
        assert_eq!(row[2].parse::<u64>().unwrap(), e["rel_seq"].as_u64().unwrap(), "relative seq");
        assert_eq!(row[3].parse::<u64>().unwrap(), e["rel_ack"].as_u64().unwrap(), "relative ack");
        // Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
        let ours_ok = e["checksum_ok"].as_bool().unwrap();
        assert_eq!(row[4], if ours_ok { "1" } else { "0" }, "tshark's checksum verdict matches ours");
    }
    let t0: f64 = rows[0][5].parse().unwrap();
    let t1: f64 = rows[1][5].parse().unwrap();
    assert!(((t1 - t0) * 1e6 - 200.0).abs() < 1.0, "nanosecond timestamps keep the 200 us RTT");
}

#[test]
fn recorded_captures_import_in_every_format() {
    for (file, n) in [("lo-handshake.pcap", 14), ("lo-handshake.pcapng", 14), ("any-sll.pcap", 7)] {
        let out = tcpcraft(&["import", &data(file), "--json"]);
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["segments"], n, "{file}");
        assert_eq!(v["events"][0]["flags"], serde_json::json!(["SYN"]), "{file}");
        assert_eq!(v["events"][1]["rel_ack"], 1, "{file}");
    }
}

#[test]
fn build_from_pcap_prints_the_segment() {
    let out = tcpcraft(&["build", "--from-pcap", &data("lo-handshake.pcap"), "--index", "4", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fields"]["tcp.flags"], "[PSH, ACK]");
    assert_eq!(v["fields"]["payload_len"], 18);
    let out = tcpcraft(&["build", "--from-pcap", &data("lo-handshake.pcap"), "--index", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("numbered 1..=14"));
}

#[test]
fn a_capture_becomes_a_preset_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("replay.ron");
    let out = tcpcraft(&["import", &data("any-sll.pcap"), "--draft", out_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(text.contains("\"peer.next\""), "acks follow the peer: {text}");
    assert!(text.contains("\"isn + 1\""));
    assert!(tcpcraft(&["check", out_path.to_str().unwrap()]).status.success());
    // Replay against the lab host on the capture's port (8080 is open there).
    let out = tcpcraft(&["run", out_path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("✓ step 2"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn broken_captures_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(data("lo-handshake.pcap")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text.pcap", b"not a capture at all".to_vec(), "not a pcap or pcapng file"),
        ("cut.pcap", good[..good.len() - 9].to_vec(), "damaged after 13 packets"),
        ("header.pcap", good[..24].to_vec(), "no TCP segments in 0 packets"),
        ("empty.pcap", Vec::new(), "not a pcap or pcapng file"),
    ];
    for (name, bytes, needle) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = tcpcraft(&["import", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(!err.contains("panicked"));
    }
}
