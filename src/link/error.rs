//! Errors of the link layer. Messages say how to fix what they report.

use thiserror::Error;

/// Everything that can go wrong while opening a link, sending or capturing.
#[derive(Debug, Error)]
pub enum LinkError {
    /// Raw sockets need privileges this process lacks.
    #[error("raw sockets need privileges this process does not have: {missing}. {fix}")]
    Privileges {
        /// What is missing (e.g. `CAP_NET_RAW`).
        missing: String,
        /// The exact command or setting that fixes it on this system.
        fix: String,
    },
    /// Windows: Npcap, which raw sending and capture go through, is not installed (`wpcap.dll` does not load).
    #[error("Npcap is not installed, so tcpcraft cannot send or capture real packets ({detail}). {how_to}")]
    NpcapMissing {
        /// What was tried and why it failed.
        detail: String,
        /// How to install Npcap so that raw sending works.
        how_to: String,
    },
    /// Windows: Npcap is installed but restricted to administrators, and this process may not open its adapters.
    #[error("Npcap is installed but only administrators may use it, and it refused this program ({detail}). {how_to}")]
    NpcapAdminOnly {
        /// Npcap's own message.
        detail: String,
        /// How to let this user open the adapters.
        how_to: String,
    },
    /// The interface to send or capture on is not usable.
    #[error("interface {name}: {reason}")]
    Interface {
        /// Interface name.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The target could not be resolved or routed.
    #[error("target {target}: {reason}")]
    Target {
        /// The target as given.
        target: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The datagram is not something this link can send.
    #[error("cannot send: {0}")]
    Unsendable(String),
    /// This platform has no implementation of what was asked.
    #[error("{0} is not supported on this platform")]
    Unsupported(&'static str),
    /// The kernel-RST guard could not be installed or removed.
    #[error("kernel-RST guard: {0}")]
    Guard(String),
    /// The privileged helper `tcpcraft-link` is missing, refused the request, or failed.
    #[error("tcpcraft-link: {0}")]
    Helper(String),
    /// An operating-system call failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl LinkError {
    /// Wraps an OS error, turning permission errors into a [`LinkError::Privileges`] with the fix.
    pub fn io(op: &'static str, source: std::io::Error) -> LinkError {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            return super::privileges::missing_error();
        }
        LinkError::Io { op, source }
    }

    /// Whether the error is about the request's input (the target, the interface) rather than raw mode itself:
    /// said as it is, never answered by the simulated lab host instead.
    pub fn is_input(&self) -> bool {
        matches!(self, LinkError::Target { .. } | LinkError::Interface { .. })
    }
}
