//! `tcpcraft build` end to end: output shape, and one-line errors with exit code 2 for every kind of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::process::{Command, Output};

fn tcpcraft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().expect("run tcpcraft")
}

#[test]
fn bad_input_is_one_line_naming_the_field_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["build", "-p", "70000", "127.0.0.1"], "--dport"),
        (&["build", "-s", "-1", "127.0.0.1"], "--sport"),
        (&["build", "--bogus", "127.0.0.1"], "--bogus"),
        (&["build", "-Z", "127.0.0.1"], "-Z"),
        (&["build", "--data", "abc", "127.0.0.1"], "--data"),
        (&["build", "--opt", "99:zz", "127.0.0.1"], "--opt"),
        (&["build", "--wscale", "256", "127.0.0.1"], "--wscale"),
        (&["build", "--reserved", "8", "127.0.0.1"], "--reserved"),
        (&["build", "--tcp-sum", "nope", "127.0.0.1"], "--tcp-sum"),
        (&["build", "127.0.0.256"], "DST"),
        (&["build", "example.com"], "DST"),
        (&["build", "-6", "127.0.0.1"], "-6/--ipv6"),
        (&["build", "--src", "::1", "127.0.0.1"], "--src"),
        (&["build", "--hop-limit", "3", "127.0.0.1"], "--hop-limit"),
        (&["build", "--ttl", "3", "::1"], "--ttl"),
        (&["build", "--df", "::1"], "--df"),
        (&["build", "--flow-label", "0x100000", "::1"], "--flow-label"),
        (&["build"], "DST"),
    ];
    for (args, field) in cases {
        let out = tcpcraft(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(field), "{args:?}: {err} does not name {field}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn options_over_40_bytes_need_a_manual_data_offset() {
    let mut args = vec!["build"];
    args.extend(["--nop"; 41]);
    args.push("127.0.0.1");
    let out = tcpcraft(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.trim_end().lines().count(), 1);
    assert!(err.contains("TCP options") && err.contains("44 bytes"), "{err}");

    let mut args = vec!["build", "--json", "--off", "15"];
    args.extend(["--nop"; 41]);
    args.push("127.0.0.1");
    let out = tcpcraft(&args);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["len"], 84);
    assert_eq!(v["fields"]["tcp.data_offset"], 15);
}

#[test]
fn json_has_hex_and_fields() {
    let out = tcpcraft(&["build", "--json", "-S", "-A", "-p", "443", "--mss", "1460", "--tcp-sum", "bad", "10.9.8.7"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let hex = v["hex"].as_str().expect("hex");
    assert_eq!(hex.len(), 2 * 44);
    assert_eq!(v["fields"]["tcp.flags"], "[SYN, ACK]");
    assert_eq!(v["fields"]["tcp.dport"], 443);
    assert_eq!(v["fields"]["tcp.options"][0], "MSS=1460");
    assert_eq!(v["fields"]["tcp.checksum_ok"], false);
    assert_eq!(v["fields"]["ip.checksum_ok"], true);
    assert_eq!(v["fields"]["ip.dst"], "10.9.8.7");
}

#[test]
fn text_output_has_hex_and_a_breakdown() {
    let out = tcpcraft(&["build", "-S", "--off", "3", "127.0.0.1"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[SYN]"));
    assert!(text.contains("tcp.data_offset    3"));
    assert!(text.contains("note: TCP data offset is 3, below the minimum of 5 words"));
    assert!(text.contains("hex: 45000028"));
}

#[test]
fn help_and_no_arguments_succeed() {
    assert!(tcpcraft(&["--help"]).status.success());
    assert!(tcpcraft(&["build", "--help"]).status.success());
    // Without arguments the desktop app opens; with no display it says so in one line and exits 3.
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot open the window") && err.contains("--help"), "{err}");
    assert!(!err.contains("panicked"));
}
