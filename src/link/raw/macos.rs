//! macOS: IPv4 goes out through a raw socket with IP_HDRINCL (BSD wants ip_len and ip_off in host byte order);
//! IPv6, which raw sockets cannot carry with our own header, and all capture go through BPF at the link layer.
//! That capture has no kernel-side filter yet (the `initial` program is ignored): it sees every frame.

use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::super::bpf::Insn;
use super::super::capture::Capture;
use super::super::route::Route;
use super::super::LinkError;
use super::Sender;

struct HdrinclSender {
    socket: Socket,
    dst: IpAddr,
}

impl Sender for HdrinclSender {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        let mut d = datagram.to_vec();
        // The BSD quirk: total length (bytes 2-3) and fragment field (bytes 6-7) in host order.
        if d.len() >= 8 {
            d.swap(2, 3);
            d.swap(6, 7);
        }
        let addr = SockAddr::from(SocketAddr::new(self.dst, 0));
        self.socket.send_to(&d, &addr).map_err(|e| LinkError::Io { op: "send", source: e })?;
        Ok(())
    }
}

/// Opens the sender for `dst`'s family and a BPF capture on the route's interface (unfiltered for now).
pub fn open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Result<(Box<dyn Sender>, Capture), LinkError> {
    let (l2_sender, capture) = super::l2::open(route, dst, initial)?;
    if dst.is_ipv6() {
        return Ok((l2_sender, capture));
    }
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255))).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            super::super::privileges::missing_error()
        } else {
            LinkError::Io { op: "open a raw socket", source: e }
        }
    })?;
    socket.set_header_included_v4(true).map_err(|e| LinkError::Io { op: "set IP_HDRINCL", source: e })?;
    Ok((Box::new(HdrinclSender { socket, dst }), capture))
}
