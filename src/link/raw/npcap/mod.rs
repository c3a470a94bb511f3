//! The Windows link-layer backend: Npcap's `wpcap.dll`, loaded at run time by [`ffi`] (no build-time link, so
//! tcpcraft.exe starts and explains itself on a machine without Npcap). Frames go out with `pcap_sendpacket`
//! and come back through `pcap_next_ex` on a second handle, whose driver-side filter is our own classic BPF
//! program ([`crate::link::bpf`]) passed to `pcap_setfilter`, as on Linux. Interfaces, their MAC addresses and
//! gateways come from the system (GetAdaptersAddresses, through `netdev`), matched to Npcap's
//! `\Device\NPF_{GUID}` names by GUID.

mod ffi;

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use ipnetwork::IpNetwork;
use pnet_base::MacAddr;

use super::super::bpf::{self, Insn};
use super::super::capture::{Capture, FilterSlot, FrameSource, Pulled, RING_CAPACITY};
use super::super::LinkError;
use super::l2::{FramePort, Iface};
pub use ffi::Device;
use ffi::{Handle, Wpcap};

/// How long one read waits before returning, so the capture thread can check for a stop.
const READ_TIMEOUT_MS: i32 = 20;
/// `DLT_EN10MB`: Ethernet framing.
const DLT_EN10MB: i32 = 1;
/// The prefix of Npcap's device names.
pub const NPF_PREFIX: &str = r"\Device\NPF_";

/// The loaded library, once it has loaded (a failure is retried next time: Npcap may have been installed since).
static LIBRARY: OnceLock<Arc<Wpcap>> = OnceLock::new();

/// How to install Npcap so that tcpcraft can send raw, in the user's language.
pub fn install_how_to() -> String {
    crate::i18n::t("link.npcap.install").to_string()
}

/// How to let this user open Npcap's adapters when Npcap is restricted to administrators.
pub fn admin_how_to() -> String {
    crate::i18n::t("link.npcap.admin_only").to_string()
}

/// The error for a machine without Npcap: `detail` says what was tried.
pub fn missing(detail: String) -> LinkError {
    LinkError::NpcapMissing { detail, how_to: install_how_to() }
}

/// Npcap's `wpcap.dll`, loaded on first use; [`LinkError::NpcapMissing`] when it cannot be.
fn library() -> Result<Arc<Wpcap>, LinkError> {
    if let Some(l) = LIBRARY.get() {
        return Ok(l.clone());
    }
    let loaded = Arc::new(Wpcap::load().map_err(missing)?);
    Ok(LIBRARY.get_or_init(|| loaded).clone())
}

/// Whether Npcap loads: `Ok` with its version string, else [`LinkError::NpcapMissing`].
pub fn available() -> Result<String, LinkError> {
    library().map(|l| format!("{} ({})", l.version(), l.path.display()))
}

/// The devices Npcap can open.
pub fn devices() -> Result<Vec<Device>, LinkError> {
    library()?.devices().map_err(|e| LinkError::Io { op: "list Npcap's devices", source: io::Error::other(e) })
}

/// Opens `device`, the Npcap access errors typed.
fn open_handle(device: &str) -> Result<Handle, LinkError> {
    let h = Handle::open(library()?, device, READ_TIMEOUT_MS).map_err(|e| {
        let denied = e.code == ffi::PCAP_ERROR_PERM_DENIED || e.message.to_ascii_lowercase().contains("denied");
        if denied {
            LinkError::NpcapAdminOnly { detail: e.message, how_to: admin_how_to() }
        } else if e.code == ffi::PCAP_ERROR_NO_SUCH_DEVICE {
            LinkError::Interface { name: device.into(), reason: format!("Npcap has no such device ({})", e.message) }
        } else {
            LinkError::Io { op: "open the Npcap device", source: io::Error::other(e.message) }
        }
    })?;
    if h.datalink() != DLT_EN10MB {
        return Err(LinkError::Interface {
            name: device.into(),
            reason: "not Ethernet-framed (Npcap's loopback adapter cannot carry crafted frames here)".into(),
        });
    }
    Ok(h)
}

/// The GUID in an interface name given as `\Device\NPF_{GUID}`, `{GUID}` or `GUID`, upper-cased with braces.
pub fn guid_of(name: &str) -> Option<String> {
    let g = name.strip_prefix(NPF_PREFIX).unwrap_or(name).trim_matches(|c| c == '{' || c == '}');
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    let parts: Vec<&str> = g.split('-').collect();
    let ok = parts.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n));
    ok.then(|| format!("{{{}}}", g.to_ascii_uppercase()))
}

/// The system's interfaces as the link layer sees them: named `\Device\NPF_{GUID}`, with MAC, addresses and
/// gateway, plus Npcap's loopback adapter. Needs no Npcap.
pub fn system_interfaces() -> Vec<(Iface, netdev::Interface)> {
    netdev::get_interfaces()
        .into_iter()
        .filter_map(|i| {
            let guid = guid_of(&i.name)?;
            let ips = i
                .ipv4
                .iter()
                .filter_map(|n| ipnetwork::Ipv4Network::new(n.addr(), n.prefix_len()).ok().map(IpNetwork::V4))
                .chain(
                    i.ipv6
                        .iter()
                        .filter_map(|n| ipnetwork::Ipv6Network::new(n.addr(), n.prefix_len()).ok().map(IpNetwork::V6)),
                )
                .collect();
            let loopback = i.is_loopback();
            let iface = Iface {
                name: if loopback { format!("{NPF_PREFIX}Loopback") } else { format!("{NPF_PREFIX}{guid}") },
                mac: i.mac_addr.map(|m| {
                    let o = m.octets();
                    MacAddr::new(o[0], o[1], o[2], o[3], o[4], o[5])
                }),
                ips,
                loopback,
                gateway: i
                    .gateway
                    .as_ref()
                    .and_then(|g| g.ipv4.first().map(|a| (*a).into()).or_else(|| g.ipv6.first().map(|a| (*a).into()))),
            };
            Some((iface, i))
        })
        .collect()
}

/// Whether `name` (as the user or the route gave it) names this interface: its Npcap name, its GUID, or its
/// friendly name ("Ethernet", "Wi-Fi").
pub fn names(iface: &Iface, sys: &netdev::Interface, name: &str) -> bool {
    iface.name.eq_ignore_ascii_case(name)
        || guid_of(name).is_some_and(|g| guid_of(&iface.name).as_deref() == Some(g.as_str()))
        || sys.friendly_name.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(name))
}

/// The interface named `name`.
pub fn interface(name: &str) -> Result<Iface, LinkError> {
    system_interfaces()
        .into_iter()
        .find(|(i, s)| names(i, s, name))
        .map(|(i, _)| i)
        .ok_or_else(|| LinkError::Interface { name: name.into(), reason: "no such interface".into() })
}

/// A driver-side filter error as the capture reports it.
fn filter_error(e: String) -> io::Error {
    io::Error::other(format!("pcap_setfilter: {e}"))
}

/// The sending handle: one Npcap handle that sends, and reads ARP replies until [`FramePort::stop_reading`].
struct NpcapPort(Handle);

impl FramePort for NpcapPort {
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), LinkError> {
        self.0.send(frame).map_err(|e| LinkError::Io { op: "send a frame through Npcap", source: io::Error::other(e) })
    }

    fn next_frame(&mut self) -> Result<Option<Vec<u8>>, LinkError> {
        self.0.next().map_err(|e| LinkError::Io { op: "read a frame through Npcap", source: io::Error::other(e) })
    }

    fn stop_reading(&mut self) -> Result<(), LinkError> {
        self.0
            .set_filter(&bpf::drop_all())
            .map_err(|e| LinkError::Io { op: "attach the link-layer sender's filter", source: filter_error(e) })
    }
}

/// Opens the sending handle on `ni`; its driver-side filter accepts ARP only (`arp`) or nothing.
pub fn port(ni: &Iface, arp: bool) -> Result<Box<dyn FramePort>, LinkError> {
    let mut h = open_handle(&ni.name)?;
    let program = if arp { bpf::arp() } else { bpf::drop_all() };
    h.set_filter(&program)
        .map_err(|e| LinkError::Io { op: "attach the link-layer sender's filter", source: filter_error(e) })?;
    Ok(Box::new(NpcapPort(h)))
}

/// The capture handle's filter, replaced under the lock the capture thread reads through.
struct NpcapFilter(Arc<Mutex<Handle>>);

impl FilterSlot for NpcapFilter {
    fn install(&self, program: &[Insn]) -> io::Result<()> {
        let mut h = self.0.lock().map_err(|_| io::Error::other("the capture thread panicked"))?;
        h.set_filter(program).map_err(filter_error)
    }
}

/// Starts a capture on `ni`, filtered in the driver by `initial` from its first frame (every frame when `None`);
/// its filter can be replaced with [`Capture::filter`].
pub fn capture(ni: &Iface, initial: Option<&[Insn]>) -> Result<Capture, LinkError> {
    let mut h = open_handle(&ni.name)?;
    if let Some(program) = initial {
        h.set_filter(program)
            .map_err(|e| LinkError::Io { op: "attach the capture filter", source: filter_error(e) })?;
    }
    let shared = Arc::new(Mutex::new(h));
    let reader = shared.clone();
    let source: FrameSource = Box::new(move || {
        let mut h = reader.lock().map_err(|_| io::Error::other("the capture filter's owner panicked"))?;
        match h.next().map_err(io::Error::other)? {
            Some(frame) => Ok(Pulled::from_ethernet(&frame)),
            None => Ok(Pulled::Nothing),
        }
    });
    let name = format!("tcpcraft-capture-{}", ni.name.strip_prefix(NPF_PREFIX).unwrap_or(&ni.name));
    let capture = Capture::spawn(&name, source, RING_CAPACITY)
        .map_err(|e| LinkError::Io { op: "start the capture thread", source: e })?;
    Ok(capture.with_filter(Box::new(NpcapFilter(shared))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_read_from_every_spelling() {
        let g = Some("{0A1B2C3D-0000-1111-2222-333344445555}".to_string());
        assert_eq!(guid_of(r"\Device\NPF_{0a1b2c3d-0000-1111-2222-333344445555}"), g);
        assert_eq!(guid_of("{0A1B2C3D-0000-1111-2222-333344445555}"), g);
        assert_eq!(guid_of("0a1b2c3d-0000-1111-2222-333344445555"), g);
        assert_eq!(guid_of(r"\Device\NPF_Loopback"), None);
        assert_eq!(guid_of("Ethernet"), None);
    }

    #[test]
    fn without_npcap_the_error_says_how_to_install_it() {
        let e = missing("wpcap.dll: not found".into());
        let text = e.to_string();
        assert!(text.contains("Npcap is not installed"), "{text}");
        assert!(text.contains("npcap.com"), "{text}");
    }
}
