//! The privilege split, on the model of Wireshark's dumpcap: `tcpcraft-link` is a small helper that alone owns
//! the raw sockets, the capture and the kernel-RST guard, holding only CAP_NET_RAW and CAP_NET_ADMIN. The GUI
//! (never root) and the CLI spawn it on demand and talk to it over stdin/stdout with a versioned protocol.

pub mod access;
pub mod caps;
pub mod client;
pub mod config;
pub mod host;
pub mod policy;
pub mod protocol;
pub mod server;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use client::{HelperLink, HelperProbes};

use super::raw::{RawLink, RawOptions};
use super::{Link, LinkError};

/// The helper's file name on this platform.
pub const HELPER: &str = if cfg!(windows) { "tcpcraft-link.exe" } else { "tcpcraft-link" };
/// Environment variable naming the helper explicitly.
pub const HELPER_ENV: &str = "TCPCRAFT_LINK";

/// Errors of the helper protocol itself.
#[derive(Debug, Error)]
pub enum HelperError {
    /// A pipe to or from the other side failed.
    #[error("pipe: {0}")]
    Pipe(#[source] std::io::Error),
    /// A message was not valid protocol.
    #[error("protocol: {0}")]
    Protocol(String),
}

/// Windows has no privilege split: Npcap's driver decides who may send and capture (every user, or administrators
/// only), so raw links are always opened in this process and `tcpcraft-link` is never spawned.
pub const NO_HELPER: bool = cfg!(windows);

/// Finds the helper: `$TCPCRAFT_LINK`, then next to this executable, then on `PATH`.
pub fn locate() -> Result<PathBuf, LinkError> {
    if let Some(p) = std::env::var_os(HELPER_ENV) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(LinkError::Helper(format!("{HELPER_ENV}={} is not a file", p.display())))
        };
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join(HELPER)));
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    beside.into_iter().chain(on_path.map(|d| d.join(HELPER))).find(|p| p.is_file()).ok_or_else(|| {
        LinkError::Helper(format!(
            "{HELPER} was not found next to tcpcraft or on PATH. Install the tcpcraft package, which ships it with \
             its capabilities, or set {HELPER_ENV} to its path"
        ))
    })
}

/// The command that grants the helper its capabilities (Linux), e.g. for a copy button.
pub fn setcap_command(helper: Option<&Path>) -> String {
    let path = helper.map_or_else(|| format!("/usr/bin/{HELPER}"), |p| p.display().to_string());
    format!("sudo setcap cap_net_raw,cap_net_admin+eip {path}")
}

/// How to grant the helper its privileges on this platform, as a sentence.
pub fn setcap_fix(helper: Option<&Path>) -> String {
    if cfg!(target_os = "linux") {
        crate::i18n::tf("link.setcap_fix", &[("command", &setcap_command(helper))])
    } else {
        super::privileges::fix_command()
    }
}

/// The fix for why raw mode failed: on Windows the privileges fix; elsewhere the fix for the case `access` tells
/// apart (helper missing, not in its group, restricted, without capabilities, or fine and the trouble elsewhere).
fn how_to_enable(why: &LinkError) -> String {
    if cfg!(windows) {
        return match why {
            LinkError::NpcapMissing { how_to, .. } | LinkError::NpcapAdminOnly { how_to, .. } => how_to.clone(),
            LinkError::Privileges { fix, .. } => fix.clone(),
            _ => super::privileges::fix_command(),
        };
    }
    let path = locate().ok();
    match (access::check(path.as_deref(), Some(why)), why) {
        (access::Access::NoCapabilities, LinkError::Privileges { fix, .. }) => fix.clone(),
        (a, _) => a.fix(path.as_deref()),
    }
}

/// Why raw mode failed, in the current language where the helper's access check tells the case apart (missing,
/// not in its group, restricted, without capabilities); otherwise the error's own words.
fn why_text(why: &LinkError) -> String {
    if cfg!(windows) {
        return why.to_string();
    }
    let path = locate().ok();
    match access::check(path.as_deref(), Some(why)) {
        access::Access::Ready => why.to_string(),
        a => a.reason(path.as_deref()),
    }
}

/// What the GUI shows when raw mode is unavailable and it runs on the simulated lab host instead.
pub fn fallback_message(why: &LinkError) -> String {
    crate::i18n::tf("link.fallback", &[("why", &why_text(why)), ("how", &how_to_enable(why))])
}

/// Why raw mode is unavailable and how to enable it, for work that has no simulated fallback (a sweep).
pub fn unavailable_message(why: &LinkError) -> String {
    crate::i18n::tf("link.unavailable", &[("why", &why_text(why)), ("how", &how_to_enable(why))])
}

/// Whether raw mode through the helper is available; the error says why not and how to fix it.
/// A helper this user may not run (see [`access`]) is not spawned: the error says so, and the fix is for that case.
/// On Windows there is no helper to ask ([`NO_HELPER`]): raw mode is available when Npcap loads.
pub fn available() -> Result<(), LinkError> {
    if NO_HELPER {
        return super::privileges::require_raw();
    }
    let path = locate()?;
    match access::check(Some(&path), None) {
        access::Access::Ready => client::probe(&path),
        denied => Err(LinkError::Helper(denied.reason(Some(&path)))),
    }
}

/// Opens a raw flow link: in this process when it has raw privileges (root, for the CLI) or on Windows, else
/// through the helper. Returns the link with our source address.
pub fn open_flow(dst: IpAddr, opts: &RawOptions, in_process: bool) -> Result<(Box<dyn Link>, IpAddr), LinkError> {
    if NO_HELPER || (in_process && super::privileges::check().raw) {
        let raw = RawLink::open(dst, opts)?;
        let src = raw.route().src;
        return Ok((Box::new(raw), src));
    }
    let link = HelperLink::open(&locate()?, dst, opts)?;
    let src = link.src();
    Ok((Box::new(link), src))
}

/// Opens a probe link for a sweep from source port `sport` to `targets`: in this process when it has raw
/// privileges, else through the helper. Either way the capture keeps only replies to `sport` (and ICMP errors
/// quoting our probes). Returns the link, our source address and a description.
pub fn open_probes(
    targets: &[IpAddr],
    sport: u16,
    iface: Option<&str>,
    max_pps: u64,
    in_process: bool,
) -> Result<(Box<dyn super::ProbeLink + Send>, IpAddr, String), LinkError> {
    let Some(&first) = targets.first() else { return Err(LinkError::Helper("no target".into())) };
    if NO_HELPER || (in_process && super::privileges::check().raw) {
        let raw = super::raw::RawProbes::open_restricted(first, iface, &[sport])?;
        let (src, desc) = (raw.route().src, format!("raw {}", raw.route().iface));
        return Ok((Box::new(raw), src, desc));
    }
    let pps = u32::try_from(max_pps).unwrap_or(u32::MAX);
    let p = HelperProbes::open(&locate()?, targets, sport, iface, pps)?;
    let (src, desc) = (p.src(), p.describe().to_string());
    Ok((Box::new(p), src, desc))
}

/// The helper's `main`: checks its privileges, then serves one session on stdin/stdout.
pub fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).is_some_and(|a| a == "--version") {
        println!("{HELPER} {} (protocol {})", env!("CARGO_PKG_VERSION"), protocol::VERSION);
        return std::process::ExitCode::SUCCESS;
    }
    let held = caps::start();
    if let Err((_, why)) = &held {
        eprintln!("{HELPER}: {why}");
    }
    // Ctrl-C and panic cleanup is installed once the sockets are open and the capabilities narrowed (its thread
    // inherits this thread's capabilities), see server::RawHost::narrow.
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let refused = held.is_err();
    let mut host = server::RawHost::new();
    match server::serve(stdin.lock(), stdout.lock(), &mut host, held) {
        Ok(()) if !refused => std::process::ExitCode::SUCCESS,
        Ok(()) => std::process::ExitCode::from(3),
        Err(e) => {
            eprintln!("{HELPER}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
