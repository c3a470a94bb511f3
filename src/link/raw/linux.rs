//! Linux: send through a raw IP socket with the header included (IPv4 `IPPROTO_RAW`, which implies
//! `IP_HDRINCL`; IPv6 `IPPROTO_RAW`, which implies `IPV6_HDRINCL`), marked with SO_MARK so the kernel-RST guard
//! lets our crafted RSTs through; capture with AF_PACKET through pnet's datalink channel, behind a kernel-side
//! classic BPF filter (`SO_ATTACH_FILTER`, programs from [`crate::link::bpf`]) attached before the socket can
//! receive anything, so frames that are not the session's never enter the process.
//!
//! Known kernel behaviour (raw(7)): with IP_HDRINCL, Linux always fills in the IPv4 total length and header
//! checksum, and the identification when it is 0. The captured `Crafted` copy shows what really left.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use pnet_datalink::{DataLinkReceiver, DataLinkSender, NetworkInterface};
use socket2::{Domain, Protocol, SockAddr, SockFilter, Socket, Type};

use super::super::bpf::Insn;
use super::super::capture::{Capture, FilterSlot, FrameSource, Pulled, RING_CAPACITY};
use super::super::guard::MARK;
use super::super::route::Route;
use super::super::LinkError;
use super::Sender;

/// `IPPROTO_RAW`: a raw socket whose datagrams carry their own IP header.
const IPPROTO_RAW: i32 = 255;
/// Most queued frames one drain discards (a 16 MiB buffer holds about 22,000 minimal frames).
const DRAIN_MAX: usize = 1 << 16;
/// Kernel receive buffer asked for the capture socket (the kernel caps it at `net.core.rmem_max`).
pub(super) const CAPTURE_BUFFER: usize = 16 << 20;

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

/// Opens the sending socket for `dst`'s family and an AF_PACKET capture on the route's interface, filtered by
/// `initial` from the start (unfiltered when `None`).
pub fn open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Result<(Box<dyn Sender>, Capture), LinkError> {
    let socket = sender_socket(dst)?;
    let capture = capture(&route.iface, initial)?;
    Ok((Box::new(RawSocketSender { socket }), capture))
}

/// The raw IP socket for `dst`'s family, marked for the kernel-RST guard.
fn sender_socket(dst: IpAddr) -> Result<Socket, LinkError> {
    let domain = if dst.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(IPPROTO_RAW))).map_err(|e| {
        if matches!(e.kind(), std::io::ErrorKind::PermissionDenied) {
            super::super::privileges::missing_error()
        } else {
            LinkError::Io { op: "open a raw socket", source: e }
        }
    })?;
    socket.set_mark(MARK).map_err(|e| LinkError::Io { op: "set SO_MARK (needs CAP_NET_ADMIN)", source: e })?;
    Ok(socket)
}

/// Like [`open`], for a sweep: the capture ([`super::rx_batch`]) is filtered by `program` from its first frame,
/// never sees our own outgoing frames (`PACKET_IGNORE_OUTGOING`) and is read in batches.
/// Also says whether the kernel keeps our outgoing frames out of the capture (Linux 4.20 and later).
pub fn open_probes(
    route: &Route,
    dst: IpAddr,
    program: &[Insn],
) -> Result<(Box<dyn Sender>, Capture, bool), LinkError> {
    let socket = sender_socket(dst)?;
    let (capture, no_outgoing) = super::rx_batch::capture(&route.iface, program)?;
    Ok((Box::new(RawSocketSender { socket }), capture, no_outgoing))
}

/// A capture socket's kernel-side filter, replaced through a duplicate of its descriptor (the filter belongs to
/// the socket, which both descriptors share).
pub struct SocketFilter {
    socket: Socket,
}

impl SocketFilter {
    /// The filter slot of the socket behind `socket` (a duplicate of the capture's descriptor).
    pub(super) fn new(socket: Socket) -> SocketFilter {
        SocketFilter { socket }
    }
}

impl FilterSlot for SocketFilter {
    fn install(&self, program: &[Insn]) -> io::Result<()> {
        attach(&self.socket, program)
    }
}

/// Attaches `program` to `socket` (replacing any filter atomically), then discards what was queued before.
pub(super) fn attach(socket: &Socket, program: &[Insn]) -> io::Result<()> {
    let filters: Vec<SockFilter> = program.iter().map(|i| SockFilter::new(i.code, i.jt, i.jf, i.k)).collect();
    socket.attach_filter(&filters)?;
    drain(socket)
}

/// Discards the frames queued on `socket` without copying a byte of them: a non-blocking receive into an empty
/// buffer still consumes a whole datagram (`MSG_DONTWAIT`, so the socket's own blocking mode is never touched).
/// Bounded, so a flood that the new filter accepts cannot hold the caller here.
fn drain(socket: &Socket) -> io::Result<()> {
    for _ in 0..DRAIN_MAX {
        match socket.recv_with_flags(&mut [], libc::MSG_DONTWAIT) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A pnet channel's two ends, and the filter slot of its socket.
pub type PacketChannel = (Box<dyn DataLinkSender>, Box<dyn DataLinkReceiver>, SocketFilter);

/// A pnet AF_PACKET channel on `ni`, over our own socket. The socket is opened with protocol 0, which receives
/// nothing until pnet binds it to the interface (with `ETH_P_ALL`); `program` is attached, and the queue
/// drained, before that. Also returns the socket's filter slot, to replace the filter later.
pub fn packet_channel(
    ni: &NetworkInterface,
    program: Option<&[Insn]>,
    mut config: pnet_datalink::Config,
    recv_buffer: Option<usize>,
) -> Result<PacketChannel, LinkError> {
    let packet = Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            super::super::privileges::missing_error()
        } else {
            LinkError::Io { op: "open the AF_PACKET socket", source: e }
        }
    })?;
    if let Some(program) = program {
        attach(&packet, program).map_err(|e| LinkError::Io { op: "attach the capture filter", source: e })?;
    }
    if let Some(size) = recv_buffer {
        let _ = packet.set_recv_buffer_size(size);
    }
    let slot = SocketFilter {
        socket: packet.try_clone().map_err(|e| LinkError::Io { op: "duplicate the capture socket", source: e })?,
    };
    config.socket_fd = Some(std::os::fd::IntoRawFd::into_raw_fd(packet));
    match pnet_datalink::channel(ni, config) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => Ok((tx, rx, slot)),
        Ok(_) => Err(LinkError::Interface { name: ni.name.clone(), reason: "not an Ethernet-framed interface".into() }),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(super::super::privileges::missing_error()),
        Err(e) => Err(LinkError::Io { op: "open the AF_PACKET capture", source: e }),
    }
}

/// Starts an AF_PACKET capture on `iface`, filtered by `initial` from its first frame (every frame when
/// `None`); its filter can be replaced with [`Capture::filter`].
pub fn capture(iface: &str, initial: Option<&[Insn]>) -> Result<Capture, LinkError> {
    let ni = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == iface)
        .ok_or_else(|| LinkError::Interface { name: iface.into(), reason: "no such interface".into() })?;
    // A large receive buffer: at sweep rates the default 208 KiB overflows within milliseconds whenever the
    // capture thread is descheduled.
    let config = pnet_datalink::Config {
        read_timeout: Some(Duration::from_millis(20)),
        read_buffer_size: 65_536,
        ..Default::default()
    };
    let (_, mut rx, slot) = packet_channel(&ni, initial, config, Some(CAPTURE_BUFFER))?;
    let source: FrameSource = Box::new(move || match rx.next() {
        Ok(frame) => Ok(Pulled::from_ethernet(frame)),
        Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => Ok(Pulled::Nothing),
        Err(e) => Err(e),
    });
    let capture = Capture::spawn(&format!("tcpcraft-capture-{iface}"), source, RING_CAPACITY)
        .map_err(|e| LinkError::Io { op: "start the capture thread", source: e })?;
    Ok(capture.with_filter(Box::new(slot)))
}
