//! The kernel-RST guard (Linux). When we complete a handshake from a raw socket, our own kernel has no socket for
//! the flow and resets the peer's SYN-ACK. While a run is active, the guard drops RSTs leaving from our port to the
//! peer, unless they carry our socket mark (our crafted RSTs do).
//!
//! Each process owns one nftables table, `tcpcraft-<pid>`, with one chain per guarded flow; it deletes only its
//! own chains and table, and at start removes `tcpcraft-<pid>` tables whose process is dead (left by `kill -9`).
//! No other table is ever touched. iptables rules (the fallback) carry the same name as a comment. The tools are
//! found only at fixed root-owned paths and run with a cleared environment ([`super::tool`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use super::tool;
use super::{Flow, LinkError};

/// The socket mark our raw sockets put on every datagram ("tcrf").
pub const MARK: u32 = 0x7463_7266;
/// The prefix of every guard table; the process id follows.
pub const TABLE_PREFIX: &str = "tcpcraft-";

/// This process's table name, `tcpcraft-<pid>`.
pub fn table() -> String {
    format!("{TABLE_PREFIX}{}", std::process::id())
}

/// How the guard's rule was installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A chain in this process's nftables table.
    Nft {
        /// The trusted path of nft(8).
        nft: PathBuf,
        /// The chain's name in the table.
        chain: String,
    },
    /// An iptables / ip6tables rule (the argument list after `-I`/`-D`).
    Iptables {
        /// The trusted path of `iptables` or `ip6tables`.
        tool: PathBuf,
        /// The rule specification.
        rule: Vec<String>,
    },
}

/// Rules installed and not yet removed, so Ctrl-C and panic handlers can remove them.
static ACTIVE: Mutex<Vec<Backend>> = Mutex::new(Vec::new());
/// Numbers the chains of this process.
static NEXT_CHAIN: AtomicU32 = AtomicU32::new(0);

/// An installed guard; dropping it removes the rule.
#[derive(Debug)]
pub struct Guard {
    backend: Backend,
}

/// The nftables script for the flow, as chain `chain` of table `table`.
fn nft_script(table: &str, chain: &str, flow: &Flow) -> String {
    let family = if flow.remote.is_ipv6() { "ip6" } else { "ip" };
    format!(
        "table inet {table} {{\n  chain {chain} {{\n    type filter hook output priority -150; policy accept;\n    \
         meta mark != {MARK:#x} {family} daddr {} tcp sport {} tcp dport {} tcp flags & rst == rst counter drop\n  \
         }}\n}}\n",
        flow.remote.ip(),
        flow.local.port(),
        flow.remote.port()
    )
}

/// The iptables rule for the flow, commented with this process's table name.
fn iptables_rule(flow: &Flow) -> Vec<String> {
    let mut rule: Vec<String> = ["OUTPUT", "-p", "tcp", "-d"].iter().map(|s| s.to_string()).collect();
    rule.push(flow.remote.ip().to_string());
    rule.extend(["--sport".to_string(), flow.local.port().to_string()]);
    rule.extend(["--dport".to_string(), flow.remote.port().to_string()]);
    rule.extend(["--tcp-flags", "RST", "RST", "-m", "mark", "!", "--mark"].iter().map(|s| s.to_string()));
    rule.push(format!("{MARK:#x}"));
    rule.extend(["-m", "comment", "--comment"].iter().map(|s| s.to_string()));
    rule.push(table());
    rule.extend(["-j", "DROP"].iter().map(|s| s.to_string()));
    rule
}

/// The process ids of `tcpcraft-<pid>` tables in `nft list tables` output (other tables are ignored).
fn table_pids(listing: &str) -> Vec<u32> {
    listing
        .lines()
        .filter_map(|l| l.trim().strip_prefix("table inet "))
        .filter_map(|name| name.trim().strip_prefix(TABLE_PREFIX))
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// Whether a process with this id exists (in our PID namespace).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn trusted(name: &str) -> Result<Option<PathBuf>, LinkError> {
    tool::find(name).map_err(LinkError::Guard)
}

/// Removes `tcpcraft-<pid>` tables (and iptables rules so commented) whose process is dead: left by a run that
/// was killed before it could clean up. Tables of live processes, and every other table, stay.
pub fn remove_stale() {
    if let Ok(Some(nft)) = trusted("nft") {
        if let Ok(listing) = tool::run(&nft, &["list", "tables", "inet"], None) {
            for pid in table_pids(&listing).into_iter().filter(|&p| !alive(p)) {
                let _ = tool::run(&nft, &["delete", "table", "inet", &format!("{TABLE_PREFIX}{pid}")], None);
            }
        }
    }
    for name in ["iptables", "ip6tables"] {
        let Ok(Some(ipt)) = trusted(name) else { continue };
        let Ok(rules) = tool::run(&ipt, &["-w", "-S", "OUTPUT"], None) else { continue };
        for line in rules.lines() {
            let Some(pid) = line.split("--comment ").nth(1).and_then(|c| c.split_whitespace().next()) else { continue };
            let pid = pid.trim_matches('"');
            let Some(pid) = pid.strip_prefix(TABLE_PREFIX).and_then(|p| p.parse::<u32>().ok()) else { continue };
            if alive(pid) {
                continue;
            }
            let Some(spec) = line.strip_prefix("-A ") else { continue };
            let mut args = vec!["-w", "-D"];
            args.extend(spec.split_whitespace().map(|w| w.trim_matches('"')));
            let _ = tool::run(&ipt, &args, None);
        }
    }
}

impl Guard {
    /// Installs the guard for `flow`: nftables when present, else iptables; a clear error when neither is.
    pub fn install(flow: &Flow) -> Result<Guard, LinkError> {
        remove_stale();
        let backend = if let Some(nft) = trusted("nft")? {
            let chain = format!("flow{}", NEXT_CHAIN.fetch_add(1, Ordering::Relaxed));
            tool::run(&nft, &["-f", "-"], Some(&nft_script(&table(), &chain, flow))).map_err(LinkError::Guard)?;
            Backend::Nft { nft, chain }
        } else {
            let name = if flow.remote.is_ipv6() { "ip6tables" } else { "iptables" };
            let Some(ipt) = trusted(name)? else {
                return Err(LinkError::Guard(format!(
                    "neither nft nor {name} is installed in {}; install nftables (apt install nftables), or run \
                     without the guard and your kernel's RSTs will show in the timeline",
                    tool::DIRS.join(", ")
                )));
            };
            let rule = iptables_rule(flow);
            let mut args = vec!["-w", "-I"];
            args.extend(rule.iter().map(String::as_str));
            tool::run(&ipt, &args, None).map_err(LinkError::Guard)?;
            Backend::Iptables { tool: ipt, rule }
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

/// Removes one installed rule; `last` also removes this process's table.
fn remove(backend: &Backend, last: bool) {
    match backend {
        Backend::Nft { nft, chain } => {
            let t = table();
            let _ = if last {
                tool::run(nft, &["delete", "table", "inet", &t], None)
            } else {
                tool::run(nft, &["delete", "chain", "inet", &t, chain], None)
            };
        }
        Backend::Iptables { tool: ipt, rule } => {
            let mut args = vec!["-w", "-D"];
            args.extend(rule.iter().map(String::as_str));
            let _ = tool::run(ipt, &args, None);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let last = match ACTIVE.lock() {
            Ok(mut a) => {
                if let Some(i) = a.iter().position(|b| *b == self.backend) {
                    a.remove(i);
                }
                !a.iter().any(|b| matches!(b, Backend::Nft { .. }))
            }
            Err(_) => true,
        };
        remove(&self.backend, last);
    }
}

/// Removes every installed guard; for Ctrl-C and panic handlers.
pub fn remove_all() {
    let list = match ACTIVE.lock() {
        Ok(mut a) => std::mem::take(&mut *a),
        Err(_) => return,
    };
    let mut table_gone = false;
    for b in &list {
        if matches!(b, Backend::Nft { .. }) {
            if !table_gone {
                remove(b, true);
            }
            table_gone = true;
        } else {
            remove(b, false);
        }
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
        let s = nft_script("tcpcraft-42", "flow0", &flow);
        assert!(s.contains("table inet tcpcraft-42 {\n  chain flow0 {"), "{s}");
        assert!(s.contains("meta mark != 0x74637266 ip daddr 127.0.0.1 tcp sport 40000 tcp dport 8080"));
        assert!(s.contains("tcp flags & rst == rst counter drop"));
        let v6 = Flow { local: "[::1]:1".parse().unwrap(), remote: "[::1]:2".parse().unwrap() };
        assert!(nft_script("t", "c", &v6).contains("ip6 daddr ::1"));
        let r = iptables_rule(&flow);
        assert!(r.windows(2).any(|w| w == ["--sport", "40000"]));
        assert!(r.windows(3).any(|w| w == ["!", "--mark", "0x74637266"]));
        assert!(r.windows(2).any(|w| w[0] == "--comment" && w[1] == table()));
    }

    #[test]
    fn only_tcpcraft_pid_tables_are_candidates_for_removal() {
        let listing = "table inet tcpcraft-12\ntable inet tcpcraft\ntable inet filter\ntable inet tcpcraft-x\n\
                       table inet tcpcraft-99999999\n";
        assert_eq!(table_pids(listing), vec![12, 99_999_999]);
        assert!(alive(std::process::id()));
        assert!(!alive(u32::MAX - 1));
        assert!(table().starts_with(TABLE_PREFIX) && table().ends_with(&std::process::id().to_string()));
    }
}
