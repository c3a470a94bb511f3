//! The privilege split as a test sees it: copies of both binaries that `nobody` can run (the helper with its
//! file capabilities), and a raw protocol session with a helper process.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use tcpcraft::link::helper::protocol::{self, Reply, Request};

use super::netns::sh;

/// A directory `nobody` can enter, holding copies of both binaries (the build tree may sit under /root).
pub struct Install {
    dir: tempfile::TempDir,
}

impl Install {
    /// Copies both binaries; `with_caps` gives the helper copy cap_net_raw,cap_net_admin+eip.
    pub fn new(with_caps: bool) -> Install {
        let dir = tempfile::Builder::new().prefix("tcpcraft-helper-test").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for (name, from) in
            [("tcpcraft", env!("CARGO_BIN_EXE_tcpcraft")), ("tcpcraft-link", env!("CARGO_BIN_EXE_tcpcraft-link"))]
        {
            let to = dir.path().join(name);
            std::fs::copy(from, &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let i = Install { dir };
        if with_caps {
            sh(&format!("setcap cap_net_raw,cap_net_admin+eip {}", i.helper().display()));
            assert!(sh(&format!("getcap {}", i.helper().display())).contains("cap_net_admin,cap_net_raw=eip"));
        }
        assert_eq!(sh(&format!("getcap {}", i.path("tcpcraft").display())).trim(), "", "the CLI/GUI has no caps");
        i
    }

    /// A file in the install directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The helper copy.
    pub fn helper(&self) -> PathBuf {
        self.path("tcpcraft-link")
    }

    /// A command that runs `program` as nobody, with no capabilities of its own.
    pub fn as_nobody(&self, program: &Path) -> Command {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"])
            .arg(program)
            .current_dir(self.dir.path())
            .env("TCPCRAFT_LINK", self.helper())
            .env("HOME", self.dir.path());
        c
    }

    /// Runs the CLI as nobody.
    pub fn cli_as_nobody(&self, args: &[&str]) -> Output {
        self.as_nobody(&self.path("tcpcraft")).args(args).output().unwrap()
    }
}

/// Speaks the protocol to a helper process directly.
pub struct Session {
    /// The helper process.
    pub child: Child,
    from: BufReader<ChildStdout>,
}

impl Session {
    /// Starts the helper command with piped stdin and stdout.
    pub fn start(mut c: Command) -> Session {
        let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        Session { child, from }
    }

    /// Sends one request and reads its reply (`None` when the helper has gone).
    pub fn call(&mut self, r: &Request) -> Option<Reply> {
        protocol::write(self.child.stdin.as_mut().unwrap(), r).ok()?;
        let mut line = String::new();
        self.from.read_line(&mut line).unwrap();
        (!line.is_empty()).then(|| protocol::decode(line.as_bytes()).unwrap())
    }

    /// A capability set of the helper's main thread, from /proc.
    pub fn caps(&self, set: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let hex = status.lines().find_map(|l| l.strip_prefix(&format!("{set}:"))).unwrap();
        u64::from_str_radix(hex.trim(), 16).unwrap()
    }
}
