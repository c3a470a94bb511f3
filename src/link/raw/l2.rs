//! Sending at the link layer: an Ethernet header is put in front of our datagram, with the next hop's MAC
//! resolved by ARP. Windows needs this because it cannot send TCP on raw sockets; on Linux the same code is
//! tested over veth. The frames go out and come back through a platform backend: pnet's datalink channel
//! (AF_PACKET on Linux, BPF on macOS; `l2_pnet.rs`) or Npcap loaded at run time on Windows (`npcap/`).
//!
//! On Linux and Windows both handles carry a kernel-side filter from before they can receive: the sender's
//! accepts ARP while the neighbour is resolved and nothing afterwards; the capture's is the caller's. On macOS
//! capture stays unfiltered for now.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ipnetwork::IpNetwork;
use pnet_base::MacAddr;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherType, EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::Packet;

#[cfg(not(windows))]
use super::l2_pnet as backend;
#[cfg(windows)]
use super::npcap as backend;

use super::super::bpf::Insn;
use super::super::route::Route;
use super::super::LinkError;
use super::{Opened, Sender};

/// ARP requests sent before giving up, and how long each waits.
const ARP_TRIES: usize = 3;
const ARP_WAIT: Duration = Duration::from_millis(500);

/// An interface as the link-layer path needs it, whichever backend listed it.
#[derive(Clone, Debug)]
pub struct Iface {
    /// The name the backend opens (`eth0`; `\Device\NPF_{GUID}` on Windows).
    pub name: String,
    /// Its hardware address.
    pub mac: Option<MacAddr>,
    /// Its addresses with their prefixes.
    pub ips: Vec<IpNetwork>,
    /// Whether it is a loopback interface (frames carry all-zero MACs, no ARP).
    pub loopback: bool,
    /// Its default gateway, where the system tells (Windows); else `TCPCRAFT_GATEWAY` is asked for.
    pub gateway: Option<IpAddr>,
}

/// One open link-layer handle: puts whole Ethernet frames on the wire and, until [`FramePort::stop_reading`],
/// reads frames back (the ARP replies).
pub trait FramePort: Send {
    /// Sends one whole frame.
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), LinkError>;
    /// The next frame read, `None` when the read timed out first.
    fn next_frame(&mut self) -> Result<Option<Vec<u8>>, LinkError>;
    /// From now on this handle keeps no frame at all (it only sends).
    fn stop_reading(&mut self) -> Result<(), LinkError>;
}

struct L2Sender {
    port: Box<dyn FramePort>,
    src_mac: MacAddr,
    dst_mac: MacAddr,
}

/// An Ethernet frame around `payload`.
fn frame(src: MacAddr, dst: MacAddr, ethertype: EtherType, payload: &[u8]) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 14 + payload.len()];
    let mut eth = MutableEthernetPacket::new(&mut buf)?;
    eth.set_source(src);
    eth.set_destination(dst);
    eth.set_ethertype(ethertype);
    eth.set_payload(payload);
    Some(buf)
}

impl Sender for L2Sender {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        let ethertype = if datagram.first().is_some_and(|b| b >> 4 == 6) { EtherTypes::Ipv6 } else { EtherTypes::Ipv4 };
        let f = frame(self.src_mac, self.dst_mac, ethertype, datagram)
            .ok_or_else(|| LinkError::Unsendable("cannot frame the datagram".into()))?;
        self.port.send_frame(&f)
    }
}

/// The interface named by the route.
pub fn interface(name: &str) -> Result<Iface, LinkError> {
    backend::interface(name)
}

/// The neighbour to hand frames to: the destination when it is on the interface's network, else the
/// interface's gateway when the system names one (Windows), else the one named by `TCPCRAFT_GATEWAY` (there
/// is no portable way to read the routing table's gateway).
fn next_hop(ni: &Iface, dst: IpAddr) -> Result<IpAddr, LinkError> {
    if ni.ips.iter().any(|n| n.contains(dst)) {
        return Ok(dst);
    }
    let env = std::env::var("TCPCRAFT_GATEWAY").ok().and_then(|g| g.parse().ok());
    env.or(ni.gateway).ok_or_else(|| LinkError::Target {
        target: dst.to_string(),
        reason: format!(
            "is not on {}'s network; set TCPCRAFT_GATEWAY to the gateway's IP address to send through it",
            ni.name
        ),
    })
}

/// Resolves `target`'s MAC with ARP requests from `(src_mac, src_ip)` over `port`; bounded in tries and time.
pub fn arp_resolve(
    port: &mut dyn FramePort,
    src_mac: MacAddr,
    src_ip: Ipv4Addr,
    target: Ipv4Addr,
) -> Result<MacAddr, LinkError> {
    let mut req = [0u8; 28];
    {
        let mut arp = MutableArpPacket::new(&mut req)
            .ok_or_else(|| LinkError::Unsendable("cannot build an ARP request".into()))?;
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(ArpOperations::Request);
        arp.set_sender_hw_addr(src_mac);
        arp.set_sender_proto_addr(src_ip);
        arp.set_target_hw_addr(MacAddr::zero());
        arp.set_target_proto_addr(target);
    }
    let f = frame(src_mac, MacAddr::broadcast(), EtherTypes::Arp, &req)
        .ok_or_else(|| LinkError::Unsendable("cannot frame an ARP request".into()))?;
    for _ in 0..ARP_TRIES {
        port.send_frame(&f)?;
        let until = Instant::now() + ARP_WAIT;
        while Instant::now() < until {
            let Ok(Some(bytes)) = port.next_frame() else { continue };
            if let Some(mac) = arp_reply_from(&bytes, target) {
                return Ok(mac);
            }
        }
    }
    Err(LinkError::Target {
        target: target.to_string(),
        reason: "no ARP reply; is the host up on this network?".into(),
    })
}

/// The sender's MAC when `frame` is an ARP reply from `target`.
fn arp_reply_from(frame: &[u8], target: Ipv4Addr) -> Option<MacAddr> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() != EtherTypes::Arp {
        return None;
    }
    let arp = ArpPacket::new(eth.payload())?;
    (arp.get_operation() == ArpOperations::Reply && arp.get_sender_proto_addr() == target)
        .then(|| arp.get_sender_hw_addr())
}

/// Opens a link-layer sender towards `dst` and a capture on the same interface, filtered by `initial` from the
/// start where the platform has kernel-side filters (unfiltered when `None`).
pub fn open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Opened {
    let ni = interface(&route.iface)?;
    let mut port = backend::port(&ni, !ni.loopback)?;
    let src_mac = ni.mac.unwrap_or(MacAddr::zero());
    let dst_mac = if ni.loopback {
        MacAddr::zero()
    } else {
        match (next_hop(&ni, dst)?, route.src) {
            (IpAddr::V4(hop), IpAddr::V4(src)) => arp_resolve(port.as_mut(), src_mac, src, hop)?,
            _ => return Err(LinkError::Unsupported("IPv6 neighbour discovery on the link-layer path")),
        }
    };
    // The sender's handle reads nothing more.
    port.stop_reading()?;
    // Capture on a second handle: a packet socket never sees the frames it sent itself.
    let capture = backend::capture(&ni, initial)?;
    Ok((Box::new(L2Sender { port, src_mac, dst_mac }), capture))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(ips: &[&str], gateway: Option<&str>) -> Iface {
        Iface {
            name: "test0".into(),
            mac: None,
            ips: ips.iter().filter_map(|s| s.parse().ok()).collect(),
            loopback: false,
            gateway: gateway.and_then(|g| g.parse().ok()),
        }
    }

    #[test]
    fn next_hop_is_the_destination_on_link_else_the_gateway() {
        let dst: IpAddr = "198.51.100.7".parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let far: IpAddr = "203.0.113.9".parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let ni = iface(&["198.51.100.1/24"], Some("198.51.100.254"));
        assert_eq!(next_hop(&ni, dst).ok(), Some(dst));
        if std::env::var_os("TCPCRAFT_GATEWAY").is_none() {
            assert_eq!(next_hop(&ni, far).ok(), "198.51.100.254".parse().ok());
            assert!(matches!(next_hop(&iface(&["198.51.100.1/24"], None), far), Err(LinkError::Target { .. })));
        }
    }

    #[test]
    fn only_an_arp_reply_from_the_target_resolves() {
        let target = Ipv4Addr::new(198, 51, 100, 7);
        let mac = MacAddr::new(2, 0, 0, 0, 0, 7);
        let reply = |op, from: Ipv4Addr| {
            let mut a = [0u8; 28];
            if let Some(mut p) = MutableArpPacket::new(&mut a) {
                p.set_operation(op);
                p.set_sender_hw_addr(mac);
                p.set_sender_proto_addr(from);
            }
            frame(mac, MacAddr::broadcast(), EtherTypes::Arp, &a).unwrap_or_default()
        };
        assert_eq!(arp_reply_from(&reply(ArpOperations::Reply, target), target), Some(mac));
        assert_eq!(arp_reply_from(&reply(ArpOperations::Request, target), target), None);
        assert_eq!(arp_reply_from(&reply(ArpOperations::Reply, Ipv4Addr::new(198, 51, 100, 8)), target), None);
        assert_eq!(arp_reply_from(&[0u8; 10], target), None);
    }
}
