//! Bad input never crashes, hangs or balloons tcpcraft: the malformed presets and captures of `tests/data/bad/`
//! (expected results in `expected.txt`), big ones made here, `/dev/zero` and FIFOs, an oversized draft, and
//! `kill -9` during saves. Every case runs the real binary, killed and failed at 5 s; a panic (101) or an abort
//! (134, a stack overflow) fails. Unix only: children are reaped with wait4(2) for their peak memory, and FIFOs
//! are made.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tcpcraft");
const LIMIT: Duration = Duration::from_secs(5);
/// For the runs that draft from a 6,001-segment capture.
const DRAFT_LIMIT: Duration = Duration::from_secs(30);

/// How a child ended.
#[derive(Debug)]
struct Ran {
    /// Exit code, when it exited.
    code: Option<i32>,
    /// Signal, when one ended it (or we killed it at the time limit).
    signal: Option<i32>,
    timed_out: bool,
    secs: f64,
    /// Peak resident set size, in KiB (from wait4's rusage). Linux counts the spawning test process's own size at
    /// the fork into it, so this is an upper bound (about 20 MB here even for a child that used 10).
    max_rss_kb: i64,
    stdout: String,
    stderr: String,
}

impl Ran {
    /// Fails on a panic, an abort, a signal or the time limit; returns the exit code.
    fn code_in_time(&self, what: &str) -> i32 {
        assert!(!self.timed_out, "{what}: still running after {LIMIT:?}\n{}", self.stderr);
        assert_eq!(self.signal, None, "{what}: killed by a signal (134 = abort, e.g. stack overflow)\n{}", self.stderr);
        let code = self.code.unwrap();
        assert_ne!(code, 101, "{what}: panicked\n{}", self.stderr);
        assert_ne!(code, 134, "{what}: aborted\n{}", self.stderr);
        code
    }
}

/// `wait4(2)`: the one call std does not offer (it reports the child's peak memory).
mod reap {
    /// Waits for `pid` without blocking when `block` is false; returns `(status, max_rss_kb)` once it has ended.
    #[allow(unsafe_code)]
    pub fn wait4(pid: u32, block: bool) -> Option<(i32, i64)> {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if block { 0 } else { libc::WNOHANG };
        // SAFETY: `status` and `usage` are live, exclusively borrowed locals of the right types; `pid` is our child.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, flags, &mut usage) };
        (r == pid as libc::pid_t).then_some((status, usage.ru_maxrss))
    }
}

/// Runs tcpcraft with `args` in `dir`, killing it at [`LIMIT`].
fn run_in(dir: &Path, args: &[&str]) -> Ran {
    run_within(dir, args, LIMIT)
}

/// Runs tcpcraft with `args` in `dir`, killing it at `limit`.
#[allow(clippy::zombie_processes)] // reaped by reap::wait4, which also gives its peak memory
fn run_within(dir: &Path, args: &[&str], limit: Duration) -> Ran {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut timed_out = false;
    let (status, rss) = loop {
        if let Some(done) = reap::wait4(child.id(), false) {
            break done;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break reap::wait4(child.id(), true).unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let secs = start.elapsed().as_secs_f64();
    let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    Ran {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        timed_out,
        secs,
        max_rss_kb: rss,
        stdout: text(t_out.join().unwrap()),
        stderr: text(t_err.join().unwrap()),
    }
}

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

/// Runs one case and checks its code and message fragments (in stderr, or stdout when it succeeds).
fn expect(dir: &Path, args: &[&str], code: i32, fragments: &[&str]) -> Ran {
    let what = args.join(" ");
    let r = run_in(dir, args);
    assert_eq!(r.code_in_time(&what), code, "{what}\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    let text = if code == 0 { &r.stdout } else { &r.stderr };
    for f in fragments {
        assert!(text.contains(f), "{what}: expected {f:?} in\n{text}");
    }
    r
}

#[test]
fn the_corpus_gives_its_expected_codes_and_messages() {
    let dir = bad_dir();
    let table = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let mut listed = Vec::new();
    let (mut presets, mut captures, mut slowest) = (0, 0, 0.0f64);
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.splitn(3, " | ").collect();
        let [file, code, fragments] = cols[..] else { panic!("bad line in expected.txt: {line}") };
        let code: i32 = code.parse().unwrap();
        let fragments: Vec<&str> = fragments.split(" && ").collect();
        listed.push(file.to_string());
        let runs: Vec<Vec<&str>> = if file.starts_with("presets/") {
            presets += 1;
            vec![vec!["check", file]]
        } else {
            captures += 1;
            vec![vec!["import", file], vec!["build", "--from-pcap", file, "--index", "1"]]
        };
        for args in runs {
            let r = expect(&dir, &args, code, &fragments);
            slowest = slowest.max(r.secs);
        }
    }
    // Every file in the corpus is listed, and the corpus is as big as promised.
    for sub in ["presets", "captures"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = format!("{sub}/{}", e.unwrap().file_name().to_string_lossy());
            assert!(listed.contains(&name), "{name} has no line in expected.txt");
        }
    }
    assert!(presets >= 30 && captures >= 30, "{presets} presets, {captures} captures");
    println!("corpus: {presets} presets, {captures} captures; slowest run {slowest:.2} s");
}

/// A small valid preset whose first step's `seq` is `expr`.
fn with_seq(expr: &str) -> String {
    format!("(\n    version: 1,\n    name: \"x\",\n    steps: [Send((flags: \"S\", seq: \"{expr}\"))],\n)\n")
}

#[test]
fn big_hostile_presets_are_errors_not_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let write = |name: &str, text: &[u8]| std::fs::write(d.join(name), text).unwrap();
    // The tester's two: 20,000 nested parentheses (40 KB), and a 200,000-term chain.
    write("parens.ron", with_seq(&format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000))).as_bytes());
    expect(d, &["check", "parens.ron"], 2, &["parens.ron:4:101:", "nested more than 64 deep"]);
    expect(d, &["run", "parens.ron"], 2, &["nested more than 64 deep"]);
    write("chain.ron", with_seq(&vec!["1"; 200_000].join("+")).as_bytes());
    expect(d, &["check", "chain.ron"], 0, &["chain.ron: ok"]);
    // 20,000 nested RON brackets, where an expression is expected and where steps are.
    let brackets = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    write("ron.ron", with_seq("isn").replace("\"isn\"", &brackets).as_bytes());
    expect(d, &["check", "ron.ron"], 2, &["nested more than 128 deep"]);
    // A 10 MB line, and the size limit to the byte: 1 MiB is read, 1 MiB + 1 is not.
    write("line.ron", &vec![b'('; 10_000_000]);
    expect(
        d,
        &["check", "line.ron"],
        2,
        &["line.ron:1:1: the file is 10000000 bytes (10.0 MB); a preset is at most 1048576 bytes (1 MiB)"],
    );
    let base = with_seq("isn");
    let mut exact = base.clone().into_bytes();
    exact.extend(b"//");
    exact.resize(1024 * 1024 - 1, b'x');
    exact.push(b'\n');
    write("exact.ron", &exact);
    expect(d, &["check", "exact.ron"], 0, &["exact.ron: ok"]);
    exact.push(b'\n');
    write("over.ron", &exact);
    expect(
        d,
        &["check", "over.ron"],
        2,
        &["the file is 1048577 bytes (1.0 MB); a preset is at most 1048576 bytes (1 MiB)"],
    );
    // NUL bytes all through a preset-sized file.
    write("nul.ron", &vec![0u8; 1_000_000]);
    expect(d, &["check", "nul.ron"], 2, &["nul.ron:1:1:"]);
    // A capture over the 256 MiB cap (sparse: no disk used) is refused by its size, not read.
    let big = std::fs::File::create(d.join("big.pcap")).unwrap();
    big.set_len(256 * 1024 * 1024 + 1).unwrap();
    let r = expect(d, &["import", "big.pcap"], 2, &["a capture is at most 268435456 bytes (256 MiB)"]);
    assert!(r.max_rss_kb < 100_000, "{} KiB", r.max_rss_kb);
}

/// `/dev/zero` and FIFOs, wherever a file is read: exit 2 within a second, under 100 MB.
#[cfg(target_os = "linux")]
#[test]
fn devices_and_fifos_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let fifo = d.join("pipe.ron");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    let mut report = Vec::new();
    for path in ["/dev/zero", fifo] {
        let cases: [Vec<&str>; 6] = [
            vec!["check", path],
            vec!["run", path],
            vec!["lab", "check", path],
            vec!["import", path],
            vec!["import", path, "--draft", "out.ron"],
            vec!["build", "--from-pcap", path, "--index", "1"],
        ];
        for args in cases {
            let kind = if path == fifo { "a FIFO (named pipe)" } else { "a character device" };
            let r = expect(d, &args, 2, &[&format!("it is {kind}, not a regular file")]);
            assert!(r.secs < 1.0, "{args:?} took {:.2} s", r.secs);
            assert!(r.max_rss_kb < 100_000, "{args:?} peaked at {} KiB", r.max_rss_kb);
            report.push(format!("{:<50} exit 2  {:>5.0} ms  {:>6} KiB", args.join(" "), r.secs * 1e3, r.max_rss_kb));
        }
    }
    // A bare name that is a FIFO in the current folder is the file, not a built-in preset name.
    expect(d, &["check", "pipe.ron"], 2, &["FIFO"]);
    assert!(!d.join("out.ron").exists());
    println!("{}", report.join("\n"));
}

/// An IPv4 TCP datagram (checksums left zero: the reader decodes them and notes the mismatch).
fn datagram(client: bool, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) = if client {
        ([192, 0, 2, 1], [192, 0, 2, 2], 40000u16, 80u16)
    } else {
        ([192, 0, 2, 2], [192, 0, 2, 1], 80, 40000)
    };
    let total = u16::try_from(40 + payload.len()).unwrap();
    let mut b = vec![0x45, 0];
    b.extend(total.to_be_bytes());
    b.extend([0, 0, 0x40, 0, 64, 6, 0, 0]);
    b.extend(src);
    b.extend(dst);
    b.extend(sport.to_be_bytes());
    b.extend(dport.to_be_bytes());
    b.extend(seq.to_be_bytes());
    b.extend(ack.to_be_bytes());
    let flags = if payload.is_empty() { 0x10 } else { 0x18 };
    b.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    b.extend(payload);
    b
}

/// A capture of one conversation with `n` segments (client data, server ACKs, alternating).
fn long_capture(path: &Path, n: usize) {
    let payload = vec![b'a'; 1000];
    let mut frames = Vec::new();
    let (mut cseq, sseq) = (1000u32, 5000u32);
    for i in 0..n {
        if i % 2 == 0 {
            frames.push(datagram(true, cseq, sseq, &payload));
            cseq += 1000;
        } else {
            frames.push(datagram(false, sseq, cseq, b""));
        }
    }
    let start = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let written =
        tcpcraft::pcap::write(path, start, frames.iter().enumerate().map(|(i, f)| (i as u64, &f[..]))).unwrap();
    assert_eq!(written, n);
}

/// The `--max-steps N` the refusal suggests.
fn suggested_steps(stderr: &str) -> usize {
    let (_, n) = stderr.rsplit_once("add --max-steps ").unwrap_or_else(|| panic!("no suggestion in {stderr}"));
    n.trim().parse().unwrap()
}

fn temps_in(d: &Path) -> Vec<String> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

/// A draft bigger than a preset may be is refused before anything is written, saying which `--max-steps` fits;
/// with it, tcpcraft reopens what it wrote.
#[test]
fn an_oversized_draft_is_refused_and_the_suggested_size_reopens() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    long_capture(&d.join("long.pcap"), 6001);
    // Finding what fits serializes a few 1 MB drafts: well under a second in release, seconds in a debug build
    // with the other tests running, so this one gets more time than the corpus.
    let r = run_within(d, &["import", "long.pcap", "--draft", "out.ron"], DRAFT_LIMIT);
    let refused_in = r.secs;
    assert_eq!(r.code_in_time("import --draft"), 2, "{}", r.stderr);
    assert!(r.stderr.contains("out.ron not written: a draft of all 6001 steps would be"), "{}", r.stderr);
    assert!(r.stderr.contains("a preset is at most 1 MiB"), "{}", r.stderr);
    assert!(!d.join("out.ron").exists());
    assert!(temps_in(d).is_empty());
    let n = suggested_steps(&r.stderr);
    assert!(n > 100 && n < 6001, "{n}");
    let m = n.to_string();
    expect(d, &["import", "long.pcap", "--draft", "out.ron", "--max-steps", &m], 0, &["draft written to out.ron"]);
    let size = std::fs::metadata(d.join("out.ron")).unwrap().len();
    assert!(size <= 1024 * 1024 && size > 1000 * 1000, "{size}");
    expect(d, &["check", "out.ron"], 0, &[&format!("out.ron: ok (out, {n} steps)")]);
    // One step more than suggested is refused again.
    let more = (n + 1).to_string();
    let r = run_within(d, &["import", "long.pcap", "--draft", "big.ron", "--max-steps", &more], DRAFT_LIMIT);
    assert_eq!(r.code_in_time("import --max-steps n+1"), 2, "{}", r.stderr);
    assert_eq!(suggested_steps(&r.stderr), n);
    assert!(!d.join("big.ron").exists());
    println!("6001 segments: refused in {refused_in:.2} s, {n} steps fit ({size} bytes)");
}

/// `kill -9` during saves, 20 times: the file is always the old or the new one complete, and the next save leaves
/// no temporary file behind.
#[test]
fn kill_during_save_never_tears_and_leaves_no_temp() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    long_capture(&d.join("long.pcap"), 3300);
    // Two different drafts near the size limit (about 1 MB), so "old" and "new" can be told apart.
    let (a, b) = ("1600", "1601");
    let save = |steps: &str| {
        Command::new(BIN)
            .args(["import", "long.pcap", "--draft", "out.ron", "--max-steps", steps])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let save_whole = |steps: &str| {
        let r = run_within(d, &["import", "long.pcap", "--draft", "out.ron", "--max-steps", steps], DRAFT_LIMIT);
        assert_eq!(r.code_in_time("a whole save"), 0, "{}", r.stderr);
        Duration::from_secs_f64(r.secs)
    };
    let whole = save_whole(a);
    let (mut landed, mut seed) = (0, 0x2545_f491_u64);
    for i in 0..20 {
        let steps = if i % 2 == 0 { b } else { a };
        let mut child = save(steps);
        if i % 2 == 0 {
            // Kill as soon as its temporary file appears: mid-write.
            let until = Instant::now() + LIMIT;
            while temps_in(d).is_empty() && Instant::now() < until {
                std::thread::sleep(Duration::from_micros(200));
            }
        } else {
            // Or after a random part, 0.3 to 1.1, of a whole save.
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let frac = 0.3 + 0.8 * ((seed >> 33) as f64 / (1u64 << 31) as f64);
            std::thread::sleep(whole.mul_f64(frac));
        }
        let _ = child.kill();
        let _ = child.wait();
        if !temps_in(d).is_empty() {
            landed += 1;
        }
        let r = run_in(d, &["check", "out.ron"]);
        assert_eq!(r.code_in_time("check after kill"), 0, "torn after kill {i}: {}", r.stderr);
        let ok = r.stdout.contains("(out, 1600 steps)") || r.stdout.contains("(out, 1601 steps)");
        assert!(ok, "{}", r.stdout);
    }
    save_whole(b);
    assert_eq!(temps_in(d), Vec::<String>::new(), "the completed save removes what killed saves left");
    expect(d, &["check", "out.ron"], 0, &["(out, 1601 steps)"]);
    println!(
        "kill -9 during save: 20 kills, {landed} left a temporary file (mid-write), none torn; one save {whole:?}"
    );
}
