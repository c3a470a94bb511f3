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
    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        let dsts: Vec<SockAddr> = datagrams
            .iter()
            .map(|d| raw_destination(d).map(|ip| SockAddr::from(SocketAddr::new(ip, 0))))
            .collect::<Option<_>>()
            .ok_or_else(|| LinkError::Unsendable("a datagram is too short to hold a destination".into()))?;
        sendmmsg_all(std::os::fd::AsRawFd::as_raw_fd(&self.socket), datagrams, &dsts)
            .map_err(|e| LinkError::Io { op: "sendmmsg", source: e })
    }

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

/// Sends every datagram to its address with as few `sendmmsg(2)` calls as the kernel allows.
#[allow(unsafe_code)]
fn sendmmsg_all(fd: std::os::fd::RawFd, bufs: &[Vec<u8>], dsts: &[SockAddr]) -> std::io::Result<()> {
    let mut iovs: Vec<libc::iovec> =
        bufs.iter().map(|b| libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() }).collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .zip(dsts)
        .map(|(iov, dst)| {
            // SAFETY: msghdr is a plain C struct for which all-zero bytes are a valid (empty) value.
            let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
            h.msg_name = dst.as_ptr() as *mut libc::c_void;
            h.msg_namelen = dst.len();
            h.msg_iov = iov;
            h.msg_iovlen = 1;
            libc::mmsghdr { msg_hdr: h, msg_len: 0 }
        })
        .collect();
    let mut done = 0;
    while done < msgs.len() {
        let rest = &mut msgs[done..];
        // SAFETY: `rest` points at `rest.len()` initialised mmsghdr values whose iovecs and addresses borrow
        // `bufs`, `iovs` and `dsts`, all alive and unmoved until this call returns; the kernel only reads them
        // (and writes `msg_len`).
        let n = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), rest.len().min(1024) as libc::c_uint, 0) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        done += n as usize;
    }
    Ok(())
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
