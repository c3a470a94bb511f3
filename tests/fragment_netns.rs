//! Crafted segments sent as IPv4 fragments, inside a namespace this test makes (lo only): the kernel reassembles
//! them, in order, reversed, shuffled or in a listed order, and a listener answers SYN-ACK; with an overlapping duplicate carrying other
//! bytes the kernel drops the datagram.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::net::TcpListener;
use std::process::Command;

use common::netns;

#[test]
fn fragmented_syns_are_reassembled_and_answered() {
    if !netns::enter("fragmented_syns_are_reassembled_and_answered") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    for (i, extra) in [
        vec!["--fragment", "8"],
        vec!["--fragment", "8", "--frag-order", "reverse"],
        vec!["--fragment", "16", "--frag-order", "random"],
        vec!["--fragment", "8", "--frag-order", "2,0,1"],
    ]
    .into_iter()
    .enumerate()
    {
        let sport = (41000 + i).to_string();
        let mut args =
            vec!["send", "127.0.0.1:8080", "--syn", "--sport", &sport, "--link", "raw", "--json", "--wait", "500"];
        args.extend(extra.iter().copied());
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let answered = v["events"].as_array().unwrap().iter().any(|e| {
            e["origin"] == "peer"
                && e["flags"].as_array().is_some_and(|f| f.contains(&"SYN".into()) && f.contains(&"ACK".into()))
        });
        assert!(answered, "{extra:?}: the reassembled SYN is answered: {v}");
        // Our SYN is shown once, whole, first, with the fragments it went out as (the capture sees no fragment
        // past the first, and none of them whole).
        let ev = v["events"].as_array().unwrap();
        assert_eq!(ev[0]["origin"], "crafted", "{v}");
        assert!(ev[0]["fragments"].as_array().is_some_and(|f| f.len() >= 2), "{v}");
        assert_eq!(ev.iter().filter(|e| e["origin"] == "crafted").count(), 1, "{v}");
    }
    // An overlapping duplicate with other bytes: Linux discards the whole datagram (as RFC 5722 asks of IPv6 and
    // Linux does for IPv4 too), so the evasion test shows silence here.
    let args = ["send", "127.0.0.1:8080", "--syn", "--sport", "41010", "--link", "raw", "--json", "--wait", "500"];
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(args)
        .args(["--fragment", "8", "--frag-overlap", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["events"].as_array().unwrap().iter().any(|e| e["origin"] == "peer"), "overlap is dropped: {v}");
    // A preset's Send step with a fragment setting: the handshake completes with a fragmented SYN.
    let dir = std::env::temp_dir().join(format!("tcpcraft-frag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let preset = dir.join("frag-open.ron");
    std::fs::write(
        &preset,
        r#"(version: 1, name: "frag-open", port: 8080, guard: true, steps: [
            Send((flags: "S", seq: "isn", fragment: (size: 8, order: given([2, 0, 1])))),
            Expect((flags: "SA", ack: "isn + 1", within_ms: 1000, bind: "peer")),
            Send((flags: "A", seq: "isn + 1", ack: "peer.seq + 1")),
        ])"#,
    )
    .unwrap();
    let pcap = dir.join("frag-open.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["run", preset.to_str().unwrap(), "--target", "127.0.0.1:8080", "--link", "raw", "--json"])
        .args(["--pcap", pcap.to_str().unwrap()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(v["verdict"], "pass", "{v} {}", String::from_utf8_lossy(&out.stderr));
    // The timeline starts with our SYN (relative seq 0), the SYN-ACK acknowledges relative 1.
    let ev = v["events"].as_array().unwrap();
    assert_eq!((ev[0]["origin"].as_str(), ev[0]["flags"][0].as_str()), (Some("crafted"), Some("SYN")), "{v}");
    let offsets: Vec<u64> =
        ev[0]["fragments"].as_array().unwrap().iter().filter_map(|f| f["offset"].as_u64()).collect();
    assert_eq!(offsets, [16, 0, 8], "sent in the order the preset lists: {v}");
    assert!(ev.iter().any(|e| e["origin"] == "peer" && e["rel_ack"] == 1), "{v}");
    // The pcap holds the fragments as sent (20-byte IPv4 header and at most 8 bytes each), not the whole SYN.
    let data = std::fs::read(&pcap).unwrap();
    let (mut at, mut small) = (24, 0);
    while at + 16 <= data.len() {
        let incl = u32::from_be_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        small += usize::from(incl <= 28);
        at += 16 + incl;
    }
    assert!(small >= 3, "the pcap keeps the fragments");
    let _ = std::fs::remove_dir_all(&dir);
    drop(listener);
}
