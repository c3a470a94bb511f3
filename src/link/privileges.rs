//! Up-front check of the privileges raw sending needs, and the exact fix for this system when they are missing.

use super::LinkError;

/// Bits of the Linux capability sets.
#[cfg(target_os = "linux")]
mod cap {
    pub const NET_ADMIN: u32 = 12;
    pub const NET_RAW: u32 = 13;
}

/// Whether this process may open raw sockets and capture (and, on Linux, install the nftables guard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPrivileges {
    /// May open raw sockets / capture.
    pub raw: bool,
    /// May change firewall rules (needed by the kernel-RST guard).
    pub admin: bool,
}

/// Checks the privileges of this process without opening anything.
pub fn check() -> RawPrivileges {
    imp::check()
}

/// Ok when raw sockets can be used; otherwise the typed error with the fix.
/// On Windows: Npcap loads, else [`LinkError::NpcapMissing`] with what was tried.
#[cfg(windows)]
pub fn require_raw() -> Result<(), LinkError> {
    super::raw::npcap::available().map(|_| ())
}

/// Ok when raw sockets can be used; otherwise the typed error with the fix.
#[cfg(not(windows))]
pub fn require_raw() -> Result<(), LinkError> {
    if check().raw {
        Ok(())
    } else {
        Err(missing_error())
    }
}

/// The error for missing raw privileges, with the fix for this platform.
#[cfg(not(windows))]
pub fn missing_error() -> LinkError {
    LinkError::Privileges { missing: imp::MISSING.to_string(), fix: fix_command() }
}

/// The error for missing raw privileges: on Windows, [`LinkError::NpcapMissing`] ([`require_raw`] says more).
#[cfg(windows)]
pub fn missing_error() -> LinkError {
    super::raw::npcap::missing("wpcap.dll was not found".into())
}

/// This process's effective user id (Linux, from `/proc/self/status`); `None` where it cannot be read.
#[cfg(target_os = "linux")]
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// The exact command (or setting) that grants raw privileges on this platform.
pub fn fix_command() -> String {
    imp::fix()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{cap, RawPrivileges};

    pub const MISSING: &str = "CAP_NET_RAW (and CAP_NET_ADMIN for the kernel-RST guard)";

    /// The effective capability mask from /proc/self/status.
    fn effective_caps() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| l.strip_prefix("CapEff:")).and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
            })
            .unwrap_or(0)
    }

    pub fn check() -> RawPrivileges {
        let caps = effective_caps();
        RawPrivileges { raw: caps & (1 << cap::NET_RAW) != 0, admin: caps & (1 << cap::NET_ADMIN) != 0 }
    }

    pub fn fix() -> String {
        let exe =
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "/path/to/tcpcraft".into());
        format!("Grant the capabilities once with: sudo setcap cap_net_raw,cap_net_admin+eip {exe}  (or run as root)")
    }
}

#[cfg(target_os = "macos")]
mod imp {
    use super::RawPrivileges;

    pub const MISSING: &str = "read access to /dev/bpf* and a raw IP socket (root)";

    pub fn check() -> RawPrivileges {
        let bpf = std::fs::OpenOptions::new().read(true).open("/dev/bpf0").is_ok();
        let raw = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::RAW, Some(socket2::Protocol::TCP)).is_ok();
        RawPrivileges { raw: bpf && raw, admin: raw }
    }

    pub fn fix() -> String {
        "Install Wireshark's ChmodBPF (brew install --cask wireshark-chmodbpf) for capture, and run the raw link \
         through the tcpcraft-link helper or with sudo"
            .into()
    }
}

#[cfg(windows)]
mod imp {
    use super::RawPrivileges;

    /// Npcap loads (its wpcap.dll from System32\Npcap, or the WinPcap-compatible one): whether this user may open
    /// its adapters (not when it is restricted to administrators) shows only when one is opened.
    pub fn check() -> RawPrivileges {
        let npcap = crate::link::raw::npcap::available().is_ok();
        RawPrivileges { raw: npcap, admin: npcap }
    }

    pub fn fix() -> String {
        crate::link::raw::npcap::install_how_to()
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod imp {
    use super::RawPrivileges;

    pub const MISSING: &str = "raw socket support";

    pub fn check() -> RawPrivileges {
        RawPrivileges { raw: false, admin: false }
    }

    pub fn fix() -> String {
        "this platform has no raw link; use the simulated lab host (--link sim)".into()
    }
}
