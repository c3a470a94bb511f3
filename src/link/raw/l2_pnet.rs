//! The link-layer backend of Linux and macOS: pnet's datalink channels (AF_PACKET, BPF). On Linux both packet
//! sockets carry a kernel-side filter from before they can receive; on macOS capture stays unfiltered for now.

use std::time::Duration;

use pnet_datalink::{DataLinkReceiver, DataLinkSender, NetworkInterface};

use super::super::bpf::Insn;
use super::super::capture::Capture;
use super::super::LinkError;
use super::l2::{FramePort, Iface};

/// How long one read waits, so reads return to check for a stop.
const READ_TIMEOUT: Duration = Duration::from_millis(20);

fn config() -> pnet_datalink::Config {
    pnet_datalink::Config { read_timeout: Some(READ_TIMEOUT), ..Default::default() }
}

/// pnet's interface named `name`.
fn network_interface(name: &str) -> Result<NetworkInterface, LinkError> {
    pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| LinkError::Interface { name: name.into(), reason: "no such interface".into() })
}

/// The interface named `name`, from pnet's list.
pub fn interface(name: &str) -> Result<Iface, LinkError> {
    let ni = network_interface(name)?;
    Ok(Iface { name: ni.name.clone(), mac: ni.mac, ips: ni.ips.clone(), loopback: ni.is_loopback(), gateway: None })
}

/// A pnet channel's two ends; the receiving end is dropped by [`FramePort::stop_reading`].
struct PnetPort {
    tx: Box<dyn DataLinkSender>,
    rx: Option<Box<dyn DataLinkReceiver>>,
    filter: SenderFilter,
}

impl FramePort for PnetPort {
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), LinkError> {
        match self.tx.send_to(frame, None) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(LinkError::Io { op: "send a link-layer frame", source: e }),
            None => Err(LinkError::Unsendable("the link-layer sender refused the frame".into())),
        }
    }

    fn next_frame(&mut self) -> Result<Option<Vec<u8>>, LinkError> {
        let Some(rx) = self.rx.as_mut() else { return Ok(None) };
        match rx.next() {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => Ok(None),
            Err(e) => Err(LinkError::Io { op: "read a link-layer frame", source: e }),
        }
    }

    fn stop_reading(&mut self) -> Result<(), LinkError> {
        // The receiving end is dropped, and (Linux) the socket's filter now drops all.
        self.rx = None;
        self.filter.close()
    }
}

/// The sender socket's filter, for as long as the neighbour is being resolved.
struct SenderFilter(#[cfg(target_os = "linux")] super::linux::SocketFilter);

impl SenderFilter {
    /// From now on the sender's socket keeps no frame at all.
    fn close(&self) -> Result<(), LinkError> {
        #[cfg(target_os = "linux")]
        super::super::capture::FilterSlot::install(&self.0, &super::super::bpf::drop_all())
            .map_err(|e| LinkError::Io { op: "attach the link-layer sender's filter", source: e })?;
        Ok(())
    }
}

/// The sending handle; on Linux its socket accepts ARP only (`arp`) or nothing.
pub fn port(ni: &Iface, arp: bool) -> Result<Box<dyn FramePort>, LinkError> {
    let ni = network_interface(&ni.name)?;
    let (tx, rx, filter) = channel(&ni, arp)?;
    Ok(Box::new(PnetPort { tx, rx: Some(rx), filter }))
}

/// The sending channel's two ends and its socket's filter.
type SenderChannel = (Box<dyn DataLinkSender>, Box<dyn DataLinkReceiver>, SenderFilter);

#[cfg(target_os = "linux")]
fn channel(ni: &NetworkInterface, arp: bool) -> Result<SenderChannel, LinkError> {
    let program = if arp { super::super::bpf::arp() } else { super::super::bpf::drop_all() };
    let (tx, rx, slot) = super::linux::packet_channel(ni, Some(&program), config(), None)?;
    Ok((tx, rx, SenderFilter(slot)))
}

#[cfg(not(target_os = "linux"))]
fn channel(ni: &NetworkInterface, _arp: bool) -> Result<SenderChannel, LinkError> {
    match pnet_datalink::channel(ni, config()) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => Ok((tx, rx, SenderFilter())),
        Ok(_) => Err(LinkError::Interface { name: ni.name.clone(), reason: "not an Ethernet-framed interface".into() }),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(super::super::privileges::missing_error()),
        Err(e) => Err(LinkError::Io { op: "open the link-layer channel", source: e }),
    }
}

/// The capture: Linux's filtered AF_PACKET capture.
#[cfg(target_os = "linux")]
pub fn capture(ni: &Iface, initial: Option<&[Insn]>) -> Result<Capture, LinkError> {
    super::linux::capture(&ni.name, initial)
}

/// The capture: a second pnet channel, unfiltered on this platform.
#[cfg(not(target_os = "linux"))]
pub fn capture(ni: &Iface, _initial: Option<&[Insn]>) -> Result<Capture, LinkError> {
    use super::super::capture::{FrameSource, Pulled, RING_CAPACITY};
    let ni = network_interface(&ni.name)?;
    let (_, mut cap_rx) = match pnet_datalink::channel(&ni, config()) {
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
