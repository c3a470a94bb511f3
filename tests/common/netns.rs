//! Running a test body inside a fresh network namespace (`unshare -n`), so raw packets never reach a real
//! interface. The test re-executes its own binary under `unshare -n` with only itself selected; the child sees
//! `TCPCRAFT_IN_NETNS` and runs the body. Without root the test skips loudly (and fails under `CI=true`).

use std::path::PathBuf;
use std::process::Command;

const ENV: &str = "TCPCRAFT_IN_NETNS";

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Uid:")).map(|u| u.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Where a parent records that a namespace test really ran (checked by `.ci/run`).
pub fn marker_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("raw-tests-ran")
}

/// Run a command and insist that it succeeds; returns stdout.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().expect("run sh");
    assert!(out.status.success(), "`{cmd}` failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True inside the namespace (run the body); false in the parent, which has run the child and checked it.
pub fn enter(test: &str) -> bool {
    if std::env::var(ENV).as_deref() == Ok(test) {
        // Safety net: a fresh namespace has nothing but `lo`. Never run the body anywhere else.
        let links = sh("ip -o link show");
        assert!(
            links.lines().all(|l| l.contains(": lo:")),
            "refusing to run outside a fresh network namespace:\n{links}"
        );
        sh("ip link set lo up");
        return true;
    }
    if !is_root() {
        super::skip_or_fail(test, "raw-socket tests need root (network namespaces, CAP_NET_RAW)");
        return false;
    }
    let exe = std::env::current_exe().expect("current test binary");
    let status = Command::new("unshare")
        .arg("-n")
        .arg("--")
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ENV, test)
        .status()
        .expect("run unshare (util-linux)");
    assert!(status.success(), "{test} failed inside its network namespace");
    let dir = marker_dir();
    std::fs::create_dir_all(&dir).expect("marker dir");
    std::fs::write(dir.join(test), b"ran\n").expect("marker");
    false
}

/// A process holding a new network namespace open (`unshare -n sleep 120`), returned once it is in it.
pub fn holder() -> std::process::Child {
    let holder = Command::new("unshare").args(["-n", "--", "sleep", "120"]).spawn().expect("unshare");
    let pid = holder.id();
    for _ in 0..100 {
        let mine = std::fs::read_link("/proc/self/ns/net").ok();
        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
        if theirs.is_some() && theirs != mine {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    holder
}

/// A second namespace joined to this one by a veth pair: we get `198.18.0.1/24` on `tc-a`, the peer namespace
/// `198.18.0.2/24` on `tc-b` (and `fd00:7463::1/2`). The peer lives while `PeerNs` lives.
pub struct PeerNs {
    holder: std::process::Child,
}

impl PeerNs {
    /// Creates the peer namespace and the veth pair. Call only inside [`enter`]'s namespace.
    pub fn create() -> PeerNs {
        let holder = holder();
        let pid = holder.id();
        sh(&format!("ip link add tc-a type veth peer name tc-b && ip link set tc-b netns {pid}"));
        sh("ip addr add 198.18.0.1/24 dev tc-a && ip -6 addr add fd00:7463::1/64 dev tc-a nodad && ip link set tc-a up");
        let peer = PeerNs { holder };
        peer.run("ip link set lo up && ip addr add 198.18.0.2/24 dev tc-b && ip -6 addr add fd00:7463::2/64 dev tc-b nodad && ip link set tc-b up");
        peer
    }

    /// Runs a shell command inside the peer namespace and insists that it succeeds.
    pub fn run(&self, cmd: &str) -> String {
        sh(&format!("nsenter -t {} -n sh -c '{}'", self.holder.id(), cmd.replace('\'', "'\\''")))
    }

    /// Starts a long-running command inside the peer namespace.
    pub fn spawn(&self, cmd: &str) -> std::process::Child {
        Command::new("nsenter")
            .args(["-t", &self.holder.id().to_string(), "-n", "sh", "-c", cmd])
            .spawn()
            .expect("nsenter")
    }

    /// Like [`PeerNs::spawn`], then waits (10 s at most) until the command prints a line `ready` on its
    /// standard output: a listener that says so after `listen()` is listening, however slow its start-up.
    pub fn spawn_ready(&self, cmd: &str) -> std::process::Child {
        use std::io::BufRead;
        let mut child = Command::new("nsenter")
            .args(["-t", &self.holder.id().to_string(), "-n", "sh", "-c", cmd])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("nsenter");
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let ready = std::io::BufReader::new(out).lines().map_while(Result::ok).any(|l| l.trim() == "ready");
            let _ = tx.send(ready);
        });
        let ready = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap_or(false);
        assert!(ready, "the command in the peer namespace never said ready: {cmd}");
        child
    }
}

impl Drop for PeerNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
