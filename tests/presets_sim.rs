//! Presets on the simulated lab host: every bundled preset passes, the timeline's numbers are right, malformed
//! presets give `file:line:col` errors with exit code 2, and saving is atomic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Output};

use tcpcraft::exchange::session::sim_config;
use tcpcraft::exchange::{self, Control, Dir, Observer, RunOptions, Silent};
use tcpcraft::link::sim::{SimConfig, SimLink, SIM_US};
use tcpcraft::link::Origin;
use tcpcraft::preset::{builtin, io, resolve};
use tcpcraft::wire::{SegmentSpec, TcpFlags};

fn tcpcraft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().expect("run tcpcraft")
}

fn sim_opts(port: u16) -> RunOptions {
    RunOptions {
        target: IpAddr::V4(SimConfig::default().host),
        dport: port,
        src: IpAddr::V4(SIM_US),
        sport: None,
        isn: None,
        seed: Some(7),
        linger_ms: 50,
    }
}

#[test]
fn every_bundled_preset_passes_on_the_simulated_host() {
    let names: Vec<&str> = builtin::names().collect();
    assert!(names.len() >= 10);
    for name in names {
        let p = resolve(name).unwrap();
        let mut link = SimLink::new(sim_config(&p.sim.clone().unwrap_or_default()));
        let r = exchange::run(&p, &mut link, &sim_opts(p.port), &mut Silent).unwrap();
        assert!(r.timeline.pass(), "{name}: {:?}", r.timeline.verdicts);
        assert_eq!(r.steps_run, p.steps.len(), "{name}");
        let out = tcpcraft(&["run", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn normal_open_timeline_has_relative_numbers_rtt_and_notes() {
    let p = resolve("normal-open").unwrap();
    let mut link = SimLink::new(SimConfig::default());
    let r = exchange::run(&p, &mut link, &sim_opts(80), &mut Silent).unwrap();
    let ev = &r.timeline.events;
    assert_eq!(ev.len(), 3, "{ev:?}");
    let flags: Vec<TcpFlags> = ev.iter().map(|e| e.flags()).collect();
    assert_eq!(flags, vec![TcpFlags::SYN, TcpFlags::SYN_ACK, TcpFlags::ACK]);
    assert_eq!((ev[0].dir, ev[0].origin, ev[0].rel_seq), (Dir::Out, Origin::Crafted, 0));
    assert_eq!((ev[1].dir, ev[1].origin, ev[1].rel_seq, ev[1].rel_ack), (Dir::In, Origin::Peer, 0, 1));
    assert_eq!((ev[2].rel_seq, ev[2].rel_ack), (1, 1));
    assert_eq!(ev[1].rtt_us, Some(200));
    assert_eq!(ev[0].step, Some(0));
    assert_eq!(ev[1].step, Some(1), "the SYN-ACK is tied to the Expect it met");
    let note = ev[1].note.render();
    assert!(note.starts_with("SYN-ACK: the server accepts"), "{note}");
    assert!(note.contains("ack = our ISN + 1"), "{note}");
    assert!(ev[2].note.render().contains("ESTABLISHED"));
    let isn = ev[0].segment.as_ref().unwrap().tcp.seq;
    assert_eq!(ev[1].segment.as_ref().unwrap().tcp.ack, isn.wrapping_add(1));
}

#[test]
fn run_json_schema() {
    let out = tcpcraft(&["run", "normal-open", "--json", "--seed", "3"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["preset"], "normal-open");
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["target"], "192.0.2.10:80");
    assert_eq!(v["link"], "sim 192.0.2.10");
    assert_eq!(v["steps"][1]["kind"], "Expect");
    assert_eq!(v["steps"][1]["pass"], true);
    let e = &v["events"][1];
    for key in ["t_us", "dir", "origin", "src", "dst", "flags", "seq", "ack", "win", "len", "options", "checksum_ok"] {
        assert!(!e[key].is_null(), "missing {key} in {e}");
    }
    assert_eq!((e["rel_seq"].as_u64(), e["rel_ack"].as_u64(), e["rtt_us"].as_u64()), (Some(0), Some(1), Some(200)));
    assert!(e["note"].as_str().unwrap().starts_with("SYN-ACK"));
}

#[test]
fn an_unmet_expectation_exits_1_with_the_reason() {
    // rst-closed-port aimed at an open port: the SYN-ACK does not match RA.
    let out = tcpcraft(&["run", "rst-closed-port", "--target", "192.0.2.10:80"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✗ step 2 (Expect): no reply matching RA"), "{text}");
    assert!(text.contains("verdict: FAIL"));
}

#[test]
fn ipv6_lab_host() {
    let out = tcpcraft(&["run", "normal-open", "--target", "[2001:db8::10]:80", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["events"][1]["src"], "2001:db8::10:80");
}

#[test]
fn step_through_can_stop_before_a_send() {
    struct StopAtAck(Vec<usize>);
    impl Observer for StopAtAck {
        fn before_send(&mut self, step: usize, spec: &SegmentSpec, _: &[u8]) -> Control {
            self.0.push(step);
            if spec.tcp.flags == TcpFlags::ACK {
                Control::Stop
            } else {
                Control::Continue
            }
        }
    }
    let p = resolve("normal-open").unwrap();
    let mut link = SimLink::new(SimConfig::default());
    let mut obs = StopAtAck(Vec::new());
    let r = exchange::run(&p, &mut link, &sim_opts(80), &mut obs).unwrap();
    assert!(r.stopped);
    assert_eq!(obs.0, vec![0, 2], "paused before each Send");
    assert!(r.timeline.events.iter().all(|e| e.flags() != TcpFlags::ACK), "the ACK never went out");
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const GOOD: &str = r#"(
    version: 1,
    name: "t",
    steps: [
        Send((flags: "S", seq: "isn")),
        Expect((flags: "SA", bind: "peer")),
    ],
)"#;

#[test]
fn malformed_presets_give_file_line_col_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("syntax.ron", GOOD.replace("steps: [", "steps: [[").to_string(), ""),
        ("unknown.ron", GOOD.replace("name: \"t\",", "name: \"t\",\n    bogus: 1,"), "bogus"),
        ("expr.ron", GOOD.replace("seq: \"isn\"", "seq: \"isn +\""), "expected a number"),
        ("name.ron", GOOD.replace("seq: \"isn\"", "seq: \"isnn\""), "not a known name"),
        (
            "unbound.ron",
            GOOD.replace("seq: \"isn\"", "seq: \"isn\", ack: \"peer.seq + 1\""),
            "before any Expect binds 'peer'",
        ),
        ("missing.ron", GOOD.replace("flags: \"SA\", ", ""), "flags"),
        ("flags.ron", GOOD.replace("flags: \"S\"", "flags: \"SX\""), "not a flag letter"),
        ("version.ron", GOOD.replace("version: 1", "version: 9"), "version 9 is not supported"),
        ("wait.ron", GOOD.replace("bind: \"peer\"", "bind: \"peer\", within_ms: 9999999"), "the most is"),
    ];
    for (name, text, needle) in &cases {
        let path = write(&dir, name, text);
        let out = tcpcraft(&["check", &path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let re_ok = err.starts_with(&format!("error: {path}:"))
            && err.split(':').nth(2).is_some_and(|l| l.trim().parse::<usize>().is_ok());
        assert!(re_ok, "{name}: not file:line:col: {err}");
        assert!(err.contains(needle), "{name}: {err} does not mention {needle}");
        assert!(!err.contains("panicked"));
        let out = tcpcraft(&["run", &path]);
        assert_eq!(out.status.code(), Some(2), "run {name}");
    }
    // The unbound name is placed where it is written (line 5, at its quote), not at the top of the file.
    let out = tcpcraft(&["check", &format!("{}/unbound.ron", dir.path().display())]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unbound.ron:5:44:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let big = dir.path().join("big.ron");
    let mut f = std::fs::File::create(&big).unwrap();
    f.write_all(&vec![b' '; 10 * 1024 * 1024]).unwrap();
    let out = tcpcraft(&["check", &big.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("big.ron:1:1: the file is 10485760 bytes"), "{err}");

    let bin = dir.path().join("bin.ron");
    std::fs::write(&bin, [b'(', 0xff, 0xfe]).unwrap();
    let out = tcpcraft(&["check", &bin.display().to_string()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
    assert_eq!(tcpcraft(&["run", "no-such-preset"]).status.code(), Some(2));
}

#[test]
fn bundled_presets_survive_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    for name in builtin::names() {
        let p = resolve(name).unwrap();
        let path = dir.path().join(format!("{name}.ron"));
        io::save(&path, &p).unwrap();
        assert_eq!(io::load(&path).unwrap(), p, "{name}");
    }
}

#[test]
fn an_interrupted_save_leaves_the_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.ron");
    std::fs::write(&path, GOOD).unwrap();
    let err = io::write_atomic(&path, |f| {
        f.write_all(b"(version: 1, name: \"half-writ")?;
        Err(std::io::Error::other("power cut"))
    });
    assert!(err.is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), GOOD, "the old file is intact");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("mine.ron")], "no temporary file left behind");
}

#[test]
fn saving_over_a_commented_file_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("commented.ron");
    let text = format!("// my notes on this preset\n{GOOD}");
    std::fs::write(&path, &text).unwrap();
    let p = io::load(&path).unwrap();
    io::save(&path, &p).unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("commented.ron.bak")).unwrap(), text);
    assert_eq!(io::load(&path).unwrap(), p);
}

/// The ISNs of `tcpcraft run normal-open --json` with these extra arguments: (ours, the lab host's, our port, the
/// seed the run reports).
fn isns(extra: &[&str]) -> (u64, u64, String, u64) {
    let mut args = vec!["run", "normal-open", "--json"];
    args.extend_from_slice(extra);
    let out = tcpcraft(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (ours, peer) = (&v["events"][0], &v["events"][1]);
    assert_eq!((ours["origin"].as_str(), peer["origin"].as_str()), (Some("crafted"), Some("peer")), "{v}");
    (ours["seq"].as_u64().unwrap(), peer["seq"].as_u64().unwrap(), ours["src"].to_string(), v["seed"].as_u64().unwrap())
}

/// The lab host's ISN is random like a real host's: two runs, two ISNs (and two seeds, each reported).
#[test]
fn two_runs_give_the_lab_host_two_isns() {
    let (_, peer_a, _, seed_a) = isns(&[]);
    let (_, peer_b, _, seed_b) = isns(&[]);
    assert_ne!(peer_a, peer_b, "the simulated host's ISN did not change between runs");
    assert_ne!(seed_a, seed_b);
}

/// One seed fixes both sides: our ISN and source port and the lab host's ISN; another seed changes them; the
/// seed a random run reports repeats it.
#[test]
fn the_same_seed_repeats_both_isns() {
    let a = isns(&["--seed", "42"]);
    assert_eq!(a, isns(&["--seed", "42"]));
    assert_eq!(a.3, 42);
    let b = isns(&["--seed", "43"]);
    assert!(a.0 != b.0 && a.1 != b.1, "{a:?} {b:?}");
    let random = isns(&[]);
    assert_eq!(random, isns(&["--seed", &random.3.to_string()]), "the reported seed repeats the run");
}

/// A preset's `sim: (seed: N)` is used when no seed is given, and `--seed` beats it.
#[test]
fn a_presets_seed_is_used_unless_one_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = resolve("normal-open").unwrap();
    p.sim = Some(tcpcraft::preset::LabHost { seed: Some(7), ..Default::default() });
    let path = dir.path().join("seeded.ron");
    io::save(&path, &p).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("seed: 7"));
    let path = path.display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", path.as_str(), "--json"];
        args.extend_from_slice(extra);
        let v: serde_json::Value = serde_json::from_slice(&tcpcraft(&args).stdout).unwrap();
        (v["seed"].as_u64().unwrap(), v["seed_from"].as_str().unwrap().to_string(), v["events"][1]["seq"].as_u64())
    };
    let preset = run(&[]);
    assert_eq!((preset.0, preset.1.as_str()), (7, "preset"));
    assert_eq!(preset, run(&[]));
    let given = run(&["--seed", "7"]);
    assert_eq!((given.0, given.1.as_str(), given.2), (7, "given", preset.2), "the same seed, the same host ISN");
    assert_eq!(run(&["--seed", "8"]).1, "given");
}

/// `send --seed` fixes the lab host's reply; `lab check --seed` names its seed in JSON.
#[test]
fn send_and_lab_check_take_a_seed() {
    let send = |seed: &str| {
        let out = tcpcraft(&["send", "-S", "192.0.2.10:80", "--link", "sim", "--json", "--seed", seed]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["seed"].as_u64(), v["events"][1]["seq"].as_u64())
    };
    assert_eq!(send("5"), send("5"));
    assert_eq!(send("5").0, Some(5));
    assert_ne!(send("5").1, send("6").1);
    let out = tcpcraft(&["lab", "check", "lab-04-half-open", "--solution", "--json", "--seed", "9"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["seed"].as_u64(), v["pass"].as_bool()), (Some(9), Some(true)), "{v}");
}

/// `run --fragment`: every Send goes out in fragments, which the simulated host reassembles; the timeline shows each segment once, whole, with the
/// fragments it went out as (JSON `fragments`, the ladder's ✂ line), and the pcap holds the fragments themselves.
#[test]
fn run_fragment_shows_the_segment_whole_with_its_fragments_and_the_pcap_keeps_them() {
    let dir = std::env::temp_dir().join(format!("tcpcraft-runfrag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("frag.pcap");
    let args = ["run", "normal-open", "--link", "sim", "--seed", "3", "--fragment", "8", "--frag-order", "reverse"];
    let out = tcpcraft(&[&args[..], &["--json", "--pcap", pcap.to_str().unwrap()]].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The simulated host puts the fragments together, as Linux does, and the handshake completes.
    assert_eq!(v["verdict"], "pass", "{v}");
    let events = v["events"].as_array().unwrap();
    let syn = &events[0];
    assert_eq!(
        (syn["origin"].as_str(), syn["flags"][0].as_str(), syn["step"].as_u64()),
        (Some("crafted"), Some("SYN"), Some(1))
    );
    let frags = syn["fragments"].as_array().unwrap();
    // The TCP header with its options in 8-byte pieces, the last one first.
    let n = frags.len();
    let offsets: Vec<u64> = frags.iter().map(|f| f["offset"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (0..n as u64).rev().map(|k| k * 8).collect();
    assert!(n >= 3 && offsets == expected, "{syn}");
    assert_eq!(frags[0]["more"], false);
    assert!(frags[1..].iter().all(|f| f["more"] == true && f["len"] == 8), "{syn}");
    // Only one crafted SYN in the timeline: the fragments are not shown again as captured datagrams.
    let syns = events.iter().filter(|e| e["origin"] == "crafted" && e["flags"][0] == "SYN").count();
    assert_eq!(syns, 1, "{v}");
    // The pcap (big-endian, as tcpcraft writes it): records are 16-byte headers and the datagram; the fragments are 20 + 8 or 20 + 4 bytes of IPv4.
    let data = std::fs::read(&pcap).unwrap();
    let (mut at, mut lens) = (24, Vec::new());
    while at + 16 <= data.len() {
        let incl = u32::from_be_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        lens.push(incl);
        at += 16 + incl;
    }
    let sent: Vec<usize> = frags.iter().map(|f| 20 + f["len"].as_u64().unwrap() as usize).collect();
    assert!(lens.starts_with(&sent), "the fragments as sent, last first: {lens:?} {sent:?}");
    let text = tcpcraft(&args);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("✂ sent as {n} IPv4 fragments: {}+", 8 * (n - 1))), "{text}");
    // An overlapping copy with other bytes spoils the datagram: the host drops it, so nothing answers the SYN.
    let overlap =
        tcpcraft(&["run", "normal-open", "--link", "sim", "--fragment", "8", "--frag-overlap", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&overlap.stdout).unwrap();
    assert_eq!(v["verdict"], "fail", "{v}");
    assert!(!v["events"].as_array().unwrap().iter().any(|e| e["origin"] == "peer"), "{v}");
    // A size that is no multiple of 8 is refused before anything is sent.
    let bad = tcpcraft(&["run", "normal-open", "--link", "sim", "--fragment", "12"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("multiple of 8"));
    // A listed order is checked against every Send step before the first goes out: data-exchange's SYN and ACK
    // are 3 pieces each, but its data segment is 5, so the run refuses at once (no SYN left half-open).
    let listed = tcpcraft(&["run", "data-exchange", "--link", "sim", "--fragment", "8", "--frag-order", "2,0,1"]);
    let said = String::from_utf8_lossy(&listed.stderr);
    assert_eq!(listed.status.code(), Some(2), "{said}");
    assert!(said.contains("step 4") && said.contains("name each of the 5 fragments (0 to 4) once"), "{said}");
    assert!(listed.stdout.is_empty(), "nothing ran: {}", String::from_utf8_lossy(&listed.stdout));
    let fits = tcpcraft(&["run", "normal-open", "--link", "sim", "--fragment", "8", "--frag-order", "2,0,1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&fits.stdout).unwrap();
    assert_eq!(v["verdict"], "pass", "{v}");
    let offsets: Vec<u64> =
        v["events"][0]["fragments"].as_array().unwrap().iter().filter_map(|f| f["offset"].as_u64()).collect();
    assert_eq!(offsets, [16, 0, 8], "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}
