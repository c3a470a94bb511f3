//! Both ends' TCP states on the simulated host: `run --json` gives every event `state_us` and `state_peer` (the
//! peer's read from the lab host's own sockets) and the run `peer_state_source`; the text ladder prints them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::process::Command;

fn run_json(preset: &str) -> serde_json::Value {
    let out =
        Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(["run", preset, "--seed", "7", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{preset}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn states(v: &serde_json::Value) -> Vec<(String, String)> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["state_us"].as_str().unwrap().to_owned(), e["state_peer"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn the_handshake_and_the_close_carry_both_ends_states_from_the_lab_hosts_sockets() {
    let v = run_json("normal-open");
    assert_eq!(v["peer_state_source"], "sim");
    let s = states(&v);
    let pairs: Vec<(&str, &str)> = s.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(pairs, [("SYN-SENT", "SYN-RECEIVED"), ("ESTABLISHED", "SYN-RECEIVED"), ("ESTABLISHED", "ESTABLISHED")]);
    let v = run_json("fin-close");
    let s = states(&v);
    // Each side's distinct states in order (a state held over several events counts once).
    let path = |side: fn(&(String, String)) -> &String| {
        let mut p: Vec<&str> = Vec::new();
        for e in &s {
            if p.last() != Some(&side(e).as_str()) {
                p.push(side(e));
            }
        }
        p
    };
    assert_eq!(path(|e| &e.0), ["SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]);
    assert_eq!(path(|e| &e.1), ["SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"], "from smoltcp");
}

#[test]
fn a_closed_port_and_a_null_probe_are_told_apart() {
    let v = run_json("rst-closed-port");
    assert_eq!(states(&v).last().map(|(a, b)| (a.clone(), b.clone())), Some(("CLOSED".into(), "CLOSED".into())));
    let v = run_json("null-scan");
    let first = &v["events"][0];
    assert_eq!(first["off_state_machine"], "no_connection", "a segment without SYN and no connection: {first}");
    assert_eq!(first["state_us"], "CLOSED");
}

#[test]
fn the_text_ladder_prints_the_states_where_they_change() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(["run", "fin-close", "--seed", "7"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for state in ["[SYN-SENT]", "[SYN-RECEIVED]", "[FIN-WAIT-1]", "[FIN-WAIT-2]", "[TIME-WAIT]", "[CLOSED]"] {
        assert!(text.contains(state), "{state} missing:\n{text}");
    }
}

#[test]
fn a_scripted_server_that_closes_first_leaves_us_in_close_wait_then_last_ack() {
    let v = run_json("server-close");
    assert_eq!(v["verdict"], "pass", "{v}");
    let s = states(&v);
    let us: Vec<&str> = s.iter().map(|(a, _)| a.as_str()).collect();
    let peer: Vec<&str> = s.iter().map(|(_, b)| b.as_str()).collect();
    for want in ["CLOSE-WAIT", "LAST-ACK", "CLOSED"] {
        assert!(us.contains(&want), "our side never in {want}: {us:?}");
    }
    for want in ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"] {
        assert!(peer.contains(&want), "the server never in {want}: {peer:?}");
    }
    let v = run_json("peer-aborts");
    assert_eq!(v["verdict"], "pass", "{v}");
    assert_eq!(states(&v).last().map(|(a, b)| (a.as_str(), b.as_str())), Some(("CLOSED", "CLOSED")));
}
