//! When the peer is a socket of this host, its states come from the kernel (`/proc/net/tcp`): a raw run against a
//! listener in a namespace this test makes reports `peer_state_source: "kernel"` and the kernel's own states.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::net::TcpListener;
use std::process::Command;

use common::netns;

#[test]
fn a_kernel_peers_states_are_read_from_the_kernel() {
    if !netns::enter("a_kernel_peers_states_are_read_from_the_kernel") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:8080").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["run", "normal-open", "--target", "127.0.0.1:8080", "--link", "raw", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "pass", "{v}");
    assert_eq!(v["peer_state_source"], "kernel");
    let peer: Vec<&str> = v["events"].as_array().unwrap().iter().filter_map(|e| e["state_peer"].as_str()).collect();
    assert_eq!(peer.first().copied(), Some("SYN-RECEIVED"), "{peer:?}");
    assert_eq!(peer.last().copied(), Some("ESTABLISHED"), "the kernel completed the handshake: {peer:?}");
    drop(listener);
}

/// `--local-peer`: tcpcraft serves the peer itself on this host's kernel and drives it with the preset's Peer steps.
#[test]
fn a_local_peer_is_scripted_by_peer_steps_on_the_kernel() {
    if !netns::enter("a_local_peer_is_scripted_by_peer_steps_on_the_kernel") {
        return;
    }
    let run = |preset: &str, port: &str| -> serde_json::Value {
        let target = format!("127.0.0.1:{port}");
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .args(["run", preset, "--target", &target, "--link", "raw", "--local-peer", "--json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{preset}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    let v = run("server-close", "8090");
    assert_eq!((v["verdict"].as_str(), v["peer_state_source"].as_str()), (Some("pass"), Some("kernel")), "{v}");
    let us: Vec<&str> = v["events"].as_array().unwrap().iter().filter_map(|e| e["state_us"].as_str()).collect();
    assert!(us.contains(&"CLOSE-WAIT") && us.contains(&"LAST-ACK"), "the server closed first: {us:?}");
    let v = run("peer-aborts", "8091");
    assert_eq!(v["verdict"], "pass", "{v}");
    let last = v["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["state_us"].as_str(), last["state_peer"].as_str()), (Some("CLOSED"), Some("CLOSED")), "{last}");
    // Without Peer steps the local peer is a plain server: it closes after us (fin-close passes).
    assert_eq!(run("fin-close", "8092")["verdict"], "pass");
}
