//! Links: where crafted datagrams go out and captured segments come back. Every link (the raw socket, the
//! simulated smoltcp peer, the helper) has the same shapes, [`Link`] for one flow and [`ProbeLink`] for a sweep,
//! and time is always the link's own clock, so the simulated one can be deterministic.

pub mod bpf;
pub mod capture;
pub mod classify;
pub mod error;
pub mod guard;
pub mod helper;
#[cfg(target_os = "linux")]
pub mod kernel_state;
pub mod local_peer;
pub mod privileges;
pub mod raw;
pub mod route;
pub mod sim;
pub mod tool;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use classify::{IcmpError, Origin};
pub use error::LinkError;

use crate::wire::Segment;

/// Microseconds on a link's clock (since the link was opened).
pub type Micros = u64;

/// The two ends of the conversation being crafted: our address and port, and the peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flow {
    /// Our side (the crafted segments' source).
    pub local: SocketAddr,
    /// The peer (the crafted segments' destination).
    pub remote: SocketAddr,
}

impl Flow {
    /// The flow a parsed crafted segment belongs to.
    pub fn of(seg: &Segment) -> Flow {
        Flow { local: SocketAddr::new(seg.src(), seg.tcp.sport), remote: SocketAddr::new(seg.dst(), seg.tcp.dport) }
    }
}

/// One datagram seen on the link and matched to the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// When it was seen, on the link's clock.
    pub t: Micros,
    /// The IP datagram as captured (no link-layer header).
    pub bytes: Vec<u8>,
    /// Who sent it.
    pub origin: Origin,
    /// The decoded TCP segment (for ICMP, the segment is absent and `icmp` says what went wrong).
    pub segment: Option<Segment>,
    /// The ICMP error, when `origin` is [`Origin::Icmp`].
    pub icmp: Option<IcmpError>,
}

/// What every link does: send a crafted datagram, and hand back what was seen of the flow.
pub trait Link: Send {
    /// A short description for status bars and JSON, e.g. `sim 192.0.2.10` or `raw lo`.
    fn describe(&self) -> String;
    /// The link's clock now.
    fn now(&self) -> Micros;
    /// Restricts capture to one flow (plus ICMP errors that quote it); call before sending.
    fn watch(&mut self, flow: Flow) -> Result<(), LinkError>;
    /// Sends one IP datagram as given and returns the link time it left.
    fn send(&mut self, datagram: &[u8]) -> Result<Micros, LinkError>;
    /// Waits until something of the flow is captured or the link clock reaches `deadline`; returns what was
    /// captured, oldest first (empty at the deadline).
    fn recv_until(&mut self, deadline: Micros) -> Result<Vec<Captured>, LinkError>;
    /// Datagrams lost because the capture ring was full.
    fn dropped(&self) -> u64;
    /// The peer's TCP state for the watched flow right now, by RFC 9293's name, where the link can read it (the
    /// simulated host's own socket); `None` elsewhere.
    fn peer_state(&mut self) -> Option<&'static str> {
        None
    }
    /// Where [`Link::peer_state`] reads from: `"sim"` (the lab host's sockets) or `"kernel"` (this host's).
    fn peer_state_source(&self) -> &'static str {
        "kernel"
    }
    /// Makes the peer's application scripted: from now on it acts only through [`Link::peer_act`]. Only links
    /// that run the peer themselves (the simulated lab host) can.
    fn script_peer(&mut self) -> Result<(), LinkError> {
        Err(LinkError::Unsupported("a scripted peer application (Peer steps) outside the simulated lab host"))
    }
    /// The peer's application acts on the watched flow.
    fn peer_act(&mut self, _act: &PeerAct) -> Result<(), LinkError> {
        Err(LinkError::Unsupported("a scripted peer application (Peer steps) outside the simulated lab host"))
    }
}

/// What a scripted peer application does (see [`Link::peer_act`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerAct {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Close: send FIN.
    Close,
    /// Abort: send RST.
    Abort,
    /// Stop reading (the window shrinks to zero as data piles up).
    StopReading,
    /// Read again.
    ResumeReading,
}

/// A link as a sweep uses it: send datagrams (no flow to watch), take whatever was captured.
pub trait ProbeLink {
    /// Sends one datagram.
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError>;
    /// Sends a batch (one system call where the platform has one).
    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        datagrams.iter().try_for_each(|d| self.send(d))
    }
    /// Everything captured within `wait` from now.
    fn drain(&mut self, wait: std::time::Duration) -> Vec<Vec<u8>>;
    /// When the last [`ProbeLink::send_batch`] put its datagram number `index` on the wire, where the link knows
    /// better than its caller (the helper's answers say when each chunk of a batch went out, after it crossed the
    /// pipe); `None`: the caller's own time just before the call is as good.
    fn batch_sent_at(&self, _index: usize) -> Option<std::time::Instant> {
        None
    }
    /// As [`ProbeLink::drain`], with when each datagram was captured (for round-trip times that do not depend on
    /// how long the drain waited). By default: when the drain returned it.
    fn drain_timed(&mut self, wait: std::time::Duration) -> Vec<(std::time::Instant, Vec<u8>)> {
        let out = self.drain(wait);
        let now = std::time::Instant::now();
        out.into_iter().map(|d| (now, d)).collect()
    }
    /// Whether sending must be paced (a real wire) or can run flat out (the simulated host).
    fn paced(&self) -> bool;
    /// Why the link stopped handing back what it captures (a drain cannot return an error), taken once: the
    /// caller reports it rather than read the silence that follows as answers that never came. `None` while it
    /// works.
    fn failure(&mut self) -> Option<LinkError> {
        None
    }
    /// Datagrams lost because the capture ring was full (none on a link without one, such as the simulated host).
    fn dropped(&self) -> u64 {
        0
    }
}
