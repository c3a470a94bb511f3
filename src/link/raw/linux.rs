//! Linux: send through a raw IP socket with the header included (IPv4 `IPPROTO_RAW`, which implies
//! `IP_HDRINCL`; IPv6 `IPPROTO_RAW`, which implies `IPV6_HDRINCL`), marked with SO_MARK so the kernel-RST guard
//! lets our crafted RSTs through; capture with AF_PACKET through pnet's datalink channel.
//!
//! Known kernel behaviour (raw(7)): with IP_HDRINCL, Linux always fills in the IPv4 total length and header
//! checksum, and the identification when it is 0. The captured `Crafted` copy shows what really left.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::super::capture::{strip_ethernet, Capture, FrameSource, RING_CAPACITY};
use super::super::guard::MARK;
use super::super::route::Route;
use super::super::LinkError;
use super::Sender;

/// `IPPROTO_RAW`: a raw socket whose datagrams carry their own IP header.
const IPPROTO_RAW: i32 = 255;
/// `ETH_P_ALL`: every protocol on the link.
const ETH_P_ALL: u16 = 0x0003;
/// Kernel receive buffer asked for the capture socket (the kernel caps it at `net.core.rmem_max`).
const CAPTURE_BUFFER: usize = 16 << 20;

struct RawSocketSender {
    socket: Socket,
}

impl Sender for RawSocketSender {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        let dst = match crate::wire::parse_any_protocol(datagram) {
            Ok(seg) => seg.dst(),
            // Not decodable (a version nibble set by hand, say): address it by the raw destination bytes.
            Err(_) => raw_destination(datagram)
                .ok_or_else(|| LinkError::Unsendable("the datagram is too short to hold a destination".into()))?,
        };
        let addr = SockAddr::from(SocketAddr::new(dst, 0));
        self.socket.send_to(datagram, &addr).map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied => {
                LinkError::Io { op: "send (a local firewall rule refused the datagram)", source: e }
            }
            _ => LinkError::Io { op: "send", source: e },
        })?;
        Ok(())
    }
}

/// The destination address at its fixed place in an IPv4 or IPv6 header.
fn raw_destination(d: &[u8]) -> Option<IpAddr> {
    if d.len() >= 40 && d[0] >> 4 == 6 {
        let b: [u8; 16] = d.get(24..40)?.try_into().ok()?;
        Some(IpAddr::from(b))
    } else {
        let b: [u8; 4] = d.get(16..20)?.try_into().ok()?;
        Some(IpAddr::from(b))
    }
}

/// Opens the sending socket for `dst`'s family and an AF_PACKET capture on the route's interface.
pub fn open(route: &Route, dst: IpAddr) -> Result<(Box<dyn Sender>, Capture), LinkError> {
    let domain = if dst.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(IPPROTO_RAW))).map_err(|e| {
        if matches!(e.kind(), std::io::ErrorKind::PermissionDenied) {
            super::super::privileges::missing_error()
        } else {
            LinkError::Io { op: "open a raw socket", source: e }
        }
    })?;
    socket.set_mark(MARK).map_err(|e| LinkError::Io { op: "set SO_MARK (needs CAP_NET_ADMIN)", source: e })?;
    let capture = capture(&route.iface)?;
    Ok((Box::new(RawSocketSender { socket }), capture))
}

/// Starts an AF_PACKET capture of every frame on `iface`.
pub fn capture(iface: &str) -> Result<Capture, LinkError> {
    let ni = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == iface)
        .ok_or_else(|| LinkError::Interface { name: iface.into(), reason: "no such interface".into() })?;
    // Our own AF_PACKET socket with a large receive buffer, handed to pnet: at sweep rates the default 208 KiB
    // overflows within milliseconds whenever the capture thread is descheduled.
    let packet =
        Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(i32::from(ETH_P_ALL.to_be())))).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                super::super::privileges::missing_error()
            } else {
                LinkError::Io { op: "open the AF_PACKET capture", source: e }
            }
        })?;
    let _ = packet.set_recv_buffer_size(CAPTURE_BUFFER);
    let config = pnet_datalink::Config {
        read_timeout: Some(Duration::from_millis(20)),
        read_buffer_size: 65_536,
        socket_fd: Some(std::os::fd::IntoRawFd::into_raw_fd(packet)),
        ..Default::default()
    };
    let (_, mut rx) = match pnet_datalink::channel(&ni, config) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => {
            return Err(LinkError::Interface { name: iface.into(), reason: "not an Ethernet-framed interface".into() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(super::super::privileges::missing_error())
        }
        Err(e) => return Err(LinkError::Io { op: "open the AF_PACKET capture", source: e }),
    };
    let source: FrameSource = Box::new(move || match rx.next() {
        Ok(frame) => Ok(strip_ethernet(frame).map(<[u8]>::to_vec)),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => Ok(None),
        Err(e) => Err(e),
    });
    Capture::spawn(&format!("tcpcraft-capture-{iface}"), source, RING_CAPACITY)
        .map_err(|e| LinkError::Io { op: "start the capture thread", source: e })
}
