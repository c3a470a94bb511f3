//! What the app persists between sessions (the editor's segment, target, link, chosen preset), kept apart from
//! runtime handles, as in the egui demo app.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::worker::LinkKind;
use crate::preset::Preset;
use crate::wire::{IpSpec, SegmentSpec};

/// The key under which the state is stored.
pub const STATE_KEY: &str = "tcpcraft-state";

/// Everything the app remembers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersistedState {
    /// The segment in the editor.
    pub spec: SegmentSpec,
    /// Target as typed: `host:port`.
    pub target: String,
    /// The chosen link.
    pub link: LinkKind,
    /// Raw link interface (empty: from the routing table).
    pub iface: String,
    /// Kernel-RST guard on raw runs.
    pub guard: bool,
    /// On raw runs, the peer is this computer's kernel: the app listens on the target and drives that socket.
    #[serde(default)]
    pub local_peer: bool,
    /// The preset being worked on.
    pub preset: Option<Preset>,
    /// Where that preset was loaded from or saved to, if it is a file.
    pub preset_path: Option<String>,
    /// Show absolute instead of relative seq/ack in the timeline.
    pub absolute: bool,
    /// How long Send-one listens for replies, in ms.
    pub wait_ms: u64,
    /// The language chosen in the app (`None`: the locale's, or `--lang`).
    #[serde(default)]
    pub lang: Option<crate::i18n::Lang>,
    /// The theme chosen in the app (the system's by default).
    #[serde(default)]
    pub theme: super::theme::ThemeChoice,
}

impl Default for PersistedState {
    fn default() -> Self {
        PersistedState {
            spec: SegmentSpec::default(),
            target: "192.0.2.10:80".into(),
            link: LinkKind::Sim,
            iface: String::new(),
            guard: true,
            local_peer: false,
            preset: crate::preset::builtin::builtin("normal-open").and_then(Result::ok),
            preset_path: None,
            absolute: false,
            wait_ms: 1000,
            lang: None,
            theme: super::theme::ThemeChoice::System,
        }
    }
}

/// The host and port of a target as typed (`host:port`, `[v6]:port`); `None` when it has no valid port.
pub fn split_target(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.trim().rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    (!host.is_empty() && !host.contains(':') || host.parse::<IpAddr>().is_ok()).then_some((host, port))
}

/// The segment's destination address and port.
pub fn destination(spec: &SegmentSpec) -> (IpAddr, u16) {
    let dst = match &spec.ip {
        IpSpec::V4(ip) => IpAddr::V4(ip.dst),
        IpSpec::V6(ip) => IpAddr::V6(ip.dst),
    };
    (dst, spec.tcp.dport)
}

/// Gives the segment the target's port and, when the host is an address of the segment's family, its address.
/// Returns whether the segment changed.
pub fn target_to_spec(target: &str, spec: &mut SegmentSpec) -> bool {
    let Some((host, port)) = split_target(target) else { return false };
    let before = destination(spec);
    spec.tcp.dport = port;
    match (&mut spec.ip, host.parse::<IpAddr>()) {
        (IpSpec::V4(ip), Ok(IpAddr::V4(a))) => ip.dst = a,
        (IpSpec::V6(ip), Ok(IpAddr::V6(a))) => ip.dst = a,
        _ => {}
    }
    destination(spec) != before
}

/// The target text for a new segment destination: the port always follows it, the host only when the address
/// changed (a host name stays while only the port moves).
pub fn spec_to_target(target: &str, (dst, port): (IpAddr, u16), address_changed: bool) -> String {
    let typed = split_target(target).map(|(h, _)| h.to_string());
    let host = match typed {
        Some(h) if !address_changed => h,
        _ => dst.to_string(),
    };
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_and_the_segment_destination_follow_each_other() {
        let mut spec = SegmentSpec::default();
        assert!(target_to_spec("192.0.2.99:81", &mut spec));
        assert_eq!(destination(&spec), ("192.0.2.99".parse().unwrap_or(IpAddr::from([0; 4])), 81));
        assert!(!target_to_spec("example.com", &mut spec), "no port: nothing to take");
        assert!(target_to_spec("example.com:443", &mut spec));
        assert_eq!(spec.tcp.dport, 443);
        assert_eq!(spec_to_target("example.com:443", destination(&spec), false), "example.com:443");
        assert_eq!(spec_to_target("example.com:443", destination(&spec), true), "192.0.2.99:443");
        let v6 = ("2001:db8::1".parse().unwrap_or(IpAddr::from([0; 4])), 22);
        assert_eq!(spec_to_target("x", v6, false), "[2001:db8::1]:22");
        assert_eq!(split_target("[2001:db8::1]:22"), Some(("2001:db8::1", 22)));
    }
}
