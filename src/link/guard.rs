//! The kernel-RST guard (Linux). When we complete a handshake from a raw socket, our own kernel has no socket for
//! the flow and resets the peer's SYN-ACK. While a run is active, the guard drops RSTs leaving from our port to the
//! peer, unless they carry our socket mark (our crafted RSTs do). It uses a dedicated nftables table `tcpcraft`
//! (iptables rules as a fallback), removed on drop, on Ctrl-C and on panic; a stale table from a killed run is
//! removed before a new one is made.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::{Flow, LinkError};

/// The socket mark our raw sockets put on every datagram ("tcrf").
pub const MARK: u32 = 0x7463_7266;
/// The nftables table the guard owns.
pub const TABLE: &str = "tcpcraft";

/// How the guard's rule was installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An nftables table.
    Nft,
    /// An iptables / ip6tables rule (the argument list after `-I`/`-D`).
    Iptables {
        /// `iptables` or `ip6tables`.
        tool: &'static str,
        /// The rule specification.
        rule: Vec<String>,
    },
}

/// Rules installed and not yet removed, so Ctrl-C and panic handlers can remove them.
static ACTIVE: Mutex<Vec<Backend>> = Mutex::new(Vec::new());

/// An installed guard; dropping it removes the rule.
#[derive(Debug)]
pub struct Guard {
    backend: Backend,
}

fn run(cmd: &str, args: &[String], stdin: Option<&str>) -> Result<(), String> {
    let mut c = Command::new(cmd);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if stdin.is_some() {
        c.stdin(Stdio::piped());
    }
    let mut child = c.spawn().map_err(|e| format!("{cmd}: {e}"))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(|e| format!("{cmd}: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn available(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The nftables script for the flow.
fn nft_script(flow: &Flow) -> String {
    let family = if flow.remote.is_ipv6() { "ip6" } else { "ip" };
    format!(
        "table inet {TABLE} {{\n  chain out {{\n    type filter hook output priority -150; policy accept;\n    \
         meta mark != {MARK:#x} {family} daddr {} tcp sport {} tcp dport {} tcp flags & rst == rst counter drop\n  \
         }}\n}}\n",
        flow.remote.ip(),
        flow.local.port(),
        flow.remote.port()
    )
}

/// The iptables rule for the flow.
fn iptables_rule(flow: &Flow) -> Vec<String> {
    [
        "OUTPUT",
        "-p",
        "tcp",
        "-d",
        &flow.remote.ip().to_string(),
        "--sport",
        &flow.local.port().to_string(),
        "--dport",
        &flow.remote.port().to_string(),
        "--tcp-flags",
        "RST",
        "RST",
        "-m",
        "mark",
        "!",
        "--mark",
        &format!("{MARK:#x}"),
        "-m",
        "comment",
        "--comment",
        TABLE,
        "-j",
        "DROP",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Removes a table left by a run that was killed before it could clean up.
pub fn remove_stale() {
    if available("nft") {
        let _ = run("nft", &["delete".into(), "table".into(), "inet".into(), TABLE.into()], None);
    }
}

impl Guard {
    /// Installs the guard for `flow`: nftables when present, else iptables; a clear error when neither is.
    pub fn install(flow: &Flow) -> Result<Guard, LinkError> {
        let backend = if available("nft") {
            remove_stale();
            run("nft", &["-f".into(), "-".into()], Some(&nft_script(flow))).map_err(LinkError::Guard)?;
            Backend::Nft
        } else {
            let tool = if flow.remote.is_ipv6() { "ip6tables" } else { "iptables" };
            if !available(tool) {
                return Err(LinkError::Guard(format!(
                    "neither nft nor {tool} is installed; install nftables (apt install nftables), or run without the \
                     guard and your kernel's RSTs will show in the timeline"
                )));
            }
            let rule = iptables_rule(flow);
            let mut args = vec!["-w".to_string(), "-I".to_string()];
            args.extend(rule.iter().cloned());
            run(tool, &args, None).map_err(LinkError::Guard)?;
            Backend::Iptables { tool, rule }
        };
        if let Ok(mut a) = ACTIVE.lock() {
            a.push(backend.clone());
        }
        Ok(Guard { backend })
    }

    /// How the guard was installed.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }
}

fn remove(backend: &Backend) {
    match backend {
        Backend::Nft => {
            let _ = run("nft", &["delete".into(), "table".into(), "inet".into(), TABLE.into()], None);
        }
        Backend::Iptables { tool, rule } => {
            let mut args = vec!["-w".to_string(), "-D".to_string()];
            args.extend(rule.iter().cloned());
            let _ = run(tool, &args, None);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        remove(&self.backend);
        if let Ok(mut a) = ACTIVE.lock() {
            if let Some(i) = a.iter().position(|b| *b == self.backend) {
                a.remove(i);
            }
        }
    }
}

/// Removes every installed guard; for Ctrl-C and panic handlers.
pub fn remove_all() {
    let list = match ACTIVE.lock() {
        Ok(mut a) => std::mem::take(&mut *a),
        Err(_) => return,
    };
    for b in &list {
        remove(b);
    }
}

/// Makes Ctrl-C and panics remove installed guards (Ctrl-C then exits with 130). Call once per process.
pub fn install_cleanup_handlers() {
    let _ = ctrlc::set_handler(|| {
        remove_all();
        std::process::exit(130);
    });
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        remove_all();
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nft_rule_is_scoped_to_the_flow_and_spares_our_mark() {
        let flow = Flow { local: "127.0.0.1:40000".parse().unwrap(), remote: "127.0.0.1:8080".parse().unwrap() };
        let s = nft_script(&flow);
        assert!(s.contains("table inet tcpcraft"));
        assert!(s.contains("meta mark != 0x74637266 ip daddr 127.0.0.1 tcp sport 40000 tcp dport 8080"));
        assert!(s.contains("tcp flags & rst == rst counter drop"));
        let v6 = Flow { local: "[::1]:1".parse().unwrap(), remote: "[::1]:2".parse().unwrap() };
        assert!(nft_script(&v6).contains("ip6 daddr ::1"));
        let r = iptables_rule(&flow);
        assert!(r.windows(2).any(|w| w == ["--sport", "40000"]));
        assert!(r.windows(3).any(|w| w == ["!", "--mark", "0x74637266"]));
    }
}
