//! Sending at the link layer through pnet's datalink channel (Npcap on Windows, BPF on macOS, AF_PACKET on
//! Linux): an Ethernet header is put in front of our datagram, with the next hop's MAC resolved by ARP.
//! Windows needs this because it cannot send TCP on raw sockets; on Linux the same code is tested over veth.
//!
//! On Linux both packet sockets carry a kernel-side filter from before they can receive: the sender's accepts
//! ARP while the neighbour is resolved and nothing afterwards; the capture's is the caller's. Elsewhere capture
//! stays unfiltered for now.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use pnet_datalink::{DataLinkReceiver, DataLinkSender, MacAddr, NetworkInterface};
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherType, EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::Packet;

use super::super::bpf::Insn;
use super::super::capture::Capture;
use super::super::route::Route;
use super::super::LinkError;
use super::Sender;

/// ARP requests sent before giving up, and how long each waits.
const ARP_TRIES: usize = 3;
const ARP_WAIT: Duration = Duration::from_millis(500);

struct L2Sender {
    tx: Box<dyn DataLinkSender>,
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
        match self.tx.send_to(&f, None) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(LinkError::Io { op: "send a link-layer frame", source: e }),
            None => Err(LinkError::Unsendable("the link-layer sender refused the frame".into())),
        }
    }
}

/// The interface named by the route.
pub fn interface(name: &str) -> Result<NetworkInterface, LinkError> {
    pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| LinkError::Interface { name: name.into(), reason: "no such interface".into() })
}

/// The neighbour to hand frames to: the destination when it is on the interface's network, else the gateway
/// named by `TCPCRAFT_GATEWAY` (there is no portable way to read the routing table's gateway).
fn next_hop(ni: &NetworkInterface, dst: IpAddr) -> Result<IpAddr, LinkError> {
    if ni.ips.iter().any(|n| n.contains(dst)) {
        return Ok(dst);
    }
    std::env::var("TCPCRAFT_GATEWAY").ok().and_then(|g| g.parse().ok()).ok_or_else(|| LinkError::Target {
        target: dst.to_string(),
        reason: format!(
            "is not on {}'s network; set TCPCRAFT_GATEWAY to the gateway's IP address to send through it",
            ni.name
        ),
    })
}

/// Resolves `target`'s MAC with ARP requests from `(src_mac, src_ip)`; bounded in tries and time.
pub fn arp_resolve(
    tx: &mut dyn DataLinkSender,
    rx: &mut dyn DataLinkReceiver,
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
        if let Some(Err(e)) = tx.send_to(&f, None) {
            return Err(LinkError::Io { op: "send an ARP request", source: e });
        }
        let until = Instant::now() + ARP_WAIT;
        while Instant::now() < until {
            let Ok(bytes) = rx.next() else { continue };
            let Some(eth) = EthernetPacket::new(bytes) else { continue };
            if eth.get_ethertype() != EtherTypes::Arp {
                continue;
            }
            if let Some(arp) = ArpPacket::new(eth.payload()) {
                if arp.get_operation() == ArpOperations::Reply && arp.get_sender_proto_addr() == target {
                    return Ok(arp.get_sender_hw_addr());
                }
            }
        }
    }
    Err(LinkError::Target {
        target: target.to_string(),
        reason: "no ARP reply; is the host up on this network?".into(),
    })
}

/// Opens a link-layer sender towards `dst` and a capture on the same interface, filtered by `initial` from the
/// start where the platform has kernel-side filters (unfiltered when `None`).
pub fn open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Result<(Box<dyn Sender>, Capture), LinkError> {
    let ni = interface(&route.iface)?;
    let config = pnet_datalink::Config { read_timeout: Some(Duration::from_millis(20)), ..Default::default() };
    let (mut tx, mut rx, sender_filter) = channel(&ni, config, !ni.is_loopback())?;
    let src_mac = ni.mac.unwrap_or(MacAddr::zero());
    let dst_mac = if ni.is_loopback() {
        MacAddr::zero()
    } else {
        match (next_hop(&ni, dst)?, route.src) {
            (IpAddr::V4(hop), IpAddr::V4(src)) => arp_resolve(tx.as_mut(), rx.as_mut(), src_mac, src, hop)?,
            _ => return Err(LinkError::Unsupported("IPv6 neighbour discovery on the link-layer path")),
        }
    };
    // The sender's socket reads nothing more: its receiving end is dropped, and (Linux) its filter now drops all.
    drop(rx);
    sender_filter.close()?;
    // Capture on a second handle: a packet socket never sees the frames it sent itself.
    let capture = capture(&ni, config, initial)?;
    Ok((Box::new(L2Sender { tx, src_mac, dst_mac }), capture))
}

/// The sending channel's two ends and its socket's filter.
type SenderChannel = (Box<dyn DataLinkSender>, Box<dyn DataLinkReceiver>, SenderFilter);

/// The sender socket's filter, for as long as the neighbour is being resolved.
struct SenderFilter(#[cfg(target_os = "linux")] super::linux::SocketFilter);

impl SenderFilter {
    /// From now on the sender's socket keeps no frame at all.
    fn close(self) -> Result<(), LinkError> {
        #[cfg(target_os = "linux")]
        super::super::capture::FilterSlot::install(&self.0, &super::super::bpf::drop_all())
            .map_err(|e| LinkError::Io { op: "attach the link-layer sender's filter", source: e })?;
        Ok(())
    }
}

/// The sending channel; on Linux its socket accepts ARP only (`arp`) or nothing.
#[cfg(target_os = "linux")]
fn channel(ni: &NetworkInterface, config: pnet_datalink::Config, arp: bool) -> Result<SenderChannel, LinkError> {
    let program = if arp { super::super::bpf::arp() } else { super::super::bpf::drop_all() };
    let (tx, rx, slot) = super::linux::packet_channel(ni, Some(&program), config, None)?;
    Ok((tx, rx, SenderFilter(slot)))
}

/// The sending channel (unfiltered on this platform).
#[cfg(not(target_os = "linux"))]
fn channel(ni: &NetworkInterface, config: pnet_datalink::Config, _arp: bool) -> Result<SenderChannel, LinkError> {
    match pnet_datalink::channel(ni, config) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => Ok((tx, rx, SenderFilter())),
        Ok(_) => Err(LinkError::Interface { name: ni.name.clone(), reason: "not an Ethernet-framed interface".into() }),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(super::super::privileges::missing_error()),
        Err(e) => Err(LinkError::Io { op: "open the link-layer channel", source: e }),
    }
}

/// The capture: Linux's filtered AF_PACKET capture.
#[cfg(target_os = "linux")]
fn capture(
    ni: &NetworkInterface,
    _config: pnet_datalink::Config,
    initial: Option<&[Insn]>,
) -> Result<Capture, LinkError> {
    super::linux::capture(&ni.name, initial)
}

/// The capture: a second pnet channel, unfiltered on this platform.
#[cfg(not(target_os = "linux"))]
fn capture(
    ni: &NetworkInterface,
    config: pnet_datalink::Config,
    _initial: Option<&[Insn]>,
) -> Result<Capture, LinkError> {
    use super::super::capture::{FrameSource, Pulled, RING_CAPACITY};
    let (_, mut cap_rx) = match pnet_datalink::channel(ni, config) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => return Err(LinkError::Interface { name: ni.name.clone(), reason: "not Ethernet-framed".into() }),
        Err(e) => return Err(LinkError::Io { op: "open the link-layer capture", source: e }),
    };
    let source: FrameSource = Box::new(move || match cap_rx.next() {
        Ok(frame) => Ok(Pulled::from_ethernet(frame)),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
            Ok(Pulled::Nothing)
        }
        Err(e) => Err(e),
    });
    Capture::spawn(&format!("tcpcraft-capture-{}", ni.name), source, RING_CAPACITY)
        .map_err(|e| LinkError::Io { op: "start the capture thread", source: e })
}
