//! Scapy as the oracle: for random field sets, and for `tcpcraft build` command lines, our bytes must be
//! byte-identical to Scapy's. Needs Debian's `python3-scapy` (installed by `.ci/run`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{skip_or_fail, spec_any, Freedom};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tcpcraft::wire::{build, SegmentSpec};

/// A Python that can import scapy.
fn scapy_python() -> Option<String> {
    let candidates =
        [std::env::var("TCPCRAFT_SCAPY_PYTHON").ok(), Some("/usr/bin/python3".into()), Some("python3".into())];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py).args(["-c", "import scapy.all"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

/// Feeds JSON requests to the oracle script and returns one answer line per request.
fn oracle(python: &str, requests: &[serde_json::Value]) -> Vec<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scapy_oracle.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the scapy oracle");
    let mut input = String::new();
    for r in requests {
        input += &r.to_string();
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("oracle stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("oracle output");
    writer.join().expect("writer thread").expect("write requests");
    assert!(out.status.success(), "the scapy oracle failed");
    String::from_utf8(out.stdout).expect("utf-8").lines().map(str::to_owned).collect()
}

#[test]
fn random_field_sets_match_scapy_byte_for_byte() {
    let Some(py) = scapy_python() else {
        return skip_or_fail("random_field_sets_match_scapy_byte_for_byte", "no python3 with scapy");
    };
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = spec_any(Freedom::SCAPY);
    let mut specs: Vec<(SegmentSpec, Vec<u8>)> = Vec::new();
    while specs.len() < 1500 {
        let spec = strategy.new_tree(&mut runner).expect("generate").current();
        if let Ok(bytes) = build(&spec) {
            specs.push((spec, bytes));
        }
    }
    let requests: Vec<_> = specs.iter().map(|(s, _)| serde_json::json!({ "spec": s })).collect();
    let answers = oracle(&py, &requests);
    assert_eq!(answers.len(), specs.len());
    let mut mismatches = 0;
    for ((spec, ours), theirs) in specs.iter().zip(&answers) {
        if hex::encode(ours) != *theirs {
            mismatches += 1;
            if mismatches <= 3 {
                eprintln!(
                    "spec:   {}\nours:   {}\nscapy:  {theirs}\n",
                    serde_json::to_string(spec).unwrap_or_default(),
                    hex::encode(ours)
                );
            }
        }
    }
    assert_eq!(mismatches, 0, "{mismatches} of {} field sets differ from Scapy", specs.len());
}

/// `tcpcraft build` command lines and the Scapy expression that should give the same bytes.
const CLI_CASES: &[(&str, &str)] = &[
    (
        "-S -p 8080 --mss 1460 --nop --wscale 7 --sackok --ts 1:0 127.0.0.1",
        "IP(src='192.0.2.1',dst='127.0.0.1',id=1)/TCP(sport=40000,dport=8080,flags='S',window=64240,\
         options=[('MSS',1460),('NOP',None),('WScale',7),('SAckOK',b''),('Timestamp',(1,0))])",
    ),
    (
        "-S -A -s 8080 -p 42762 -M 0x77288 -L 3334092740 -w 65483 --df --id 0 127.0.0.1 --src 127.0.0.1",
        "IP(src='127.0.0.1',dst='127.0.0.1',id=0,flags='DF')/TCP(sport=8080,dport=42762,seq=0x77288,\
         ack=3334092740,flags='SA',window=65483)",
    ),
    (
        "-R -A --tcp-sum 0xdead --ip-sum 1234 -t 1 --tos 0xb9 --evil --mf --frag 185 10.1.2.3",
        "IP(src='192.0.2.1',dst='10.1.2.3',id=1,ttl=1,tos=0xb9,flags='evil+MF',frag=185,chksum=0x1234)/\
         TCP(sport=40000,dport=80,flags='RA',window=64240,chksum=0xdead)",
    ),
    (
        "-F -P -U --ece --cwr --ae --urp 7 --reserved 5 --text GET\\r\\n 192.0.2.10",
        "IP(src='192.0.2.1',dst='192.0.2.10',id=1)/TCP(sport=40000,dport=80,flags='FPUECN',reserved=5,\
         window=64240,urgptr=7)/Raw(b'GET\\r\\n')",
    ),
    (
        "--off 15 --opt 99:0102 --sack 1-2,3-4 --eol --data 00ff 192.0.2.10",
        "IP(src='192.0.2.1',dst='192.0.2.10',id=1)/TCP(sport=40000,dport=80,flags='',dataofs=15,window=64240,\
         options=[(99,b'\\x01\\x02'),('SAck',(1,2,3,4)),('EOL',None)])/Raw(b'\\x00\\xff')",
    ),
    (
        "--ihl 7 --ip-len 1000 --ip-version 5 --proto 17 --ip-opt 940400 -S 192.0.2.10",
        "IP(version=5,ihl=7,len=1000,proto=17,src='192.0.2.1',dst='192.0.2.10',id=1,options=[Raw(b'\\x94\\x04\\x00')])/\
         TCP(sport=40000,dport=80,flags='S',window=64240)",
    ),
    (
        "-6 -S --hop-limit 3 --flow-label 0xabcde --tclass 0xb8 --tfo 0102030405060708 --src 2001:db8::1 2001:db8::10",
        "IPv6(src='2001:db8::1',dst='2001:db8::10',hlim=3,fl=0xabcde,tc=0xb8)/TCP(sport=40000,dport=80,flags='S',\
         window=64240,options=[('TFO',b'\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08')])",
    ),
    (
        "-S --ip-len 7 ::1",
        "IPv6(src='2001:db8::1',dst='::1',plen=7)/TCP(sport=40000,dport=80,flags='S',window=64240)",
    ),
];

#[test]
fn cli_build_matches_scapy_byte_for_byte() {
    let Some(py) = scapy_python() else {
        return skip_or_fail("cli_build_matches_scapy_byte_for_byte", "no python3 with scapy");
    };
    let bin = env!("CARGO_BIN_EXE_tcpcraft");
    let requests: Vec<_> = CLI_CASES.iter().map(|(_, e)| serde_json::json!({ "expr": e })).collect();
    let answers = oracle(&py, &requests);
    for ((args, expr), theirs) in CLI_CASES.iter().zip(&answers) {
        let out = Command::new(bin).arg("build").arg("--json").args(args.split(' ')).output().expect("run tcpcraft");
        assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["hex"].as_str(), Some(theirs.as_str()), "tcpcraft build {args}\nscapy: {expr}");
    }
}
