//! The raw link: crafted datagrams really leave through a raw socket (or the link layer), and a capture thread
//! reads the flow back. One implementation per platform, behind `cfg`; all share [`RawLink`]'s receive logic.
//!
//! On Linux and Windows the capture carries a kernel-side filter ([`super::bpf`]; on Windows in Npcap's driver): a
//! [`RawLink`] captures nothing until [`Link::watch`], then only the watched flow; [`RawProbes::restrict_to`]
//! narrows a sweep's capture to the replies to its probes. On macOS capture stays unfiltered for now (the filters
//! are no-ops there).

pub mod l2;
#[cfg(not(windows))]
mod l2_pnet;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(windows)]
pub mod npcap;
#[cfg(target_os = "linux")]
mod rx_batch;
#[cfg(windows)]
mod windows;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::bpf::{self, Insn};
use super::capture::{Capture, Dedup};
use super::classify::{classify, SentLog};
use super::guard::Guard;
use super::route::Route;
use super::{Captured, Flow, Link, LinkError, Micros};

/// How a platform puts IP datagrams on the wire.
pub trait Sender: Send {
    /// Sends the datagram.
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError>;
    /// Sends several datagrams; platforms with a batched system call (Linux `sendmmsg`) use it.
    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        datagrams.iter().try_for_each(|d| self.send(d))
    }
}

/// Options for opening a raw link.
#[derive(Clone, Debug, Default)]
pub struct RawOptions {
    /// Interface to use instead of the routing table's choice.
    pub iface: Option<String>,
    /// Install the kernel-RST guard for each watched flow (Linux).
    pub guard: bool,
    /// Send at the link layer (Ethernet frames with ARP) even where a raw IP socket exists. On Linux this
    /// keeps the IPv4 header exactly as crafted: a raw IP socket has its total length and checksum rewritten.
    pub layer2: bool,
}

/// A raw link on one interface: the sender and capture of [`RawProbes`], matched to one flow.
pub struct RawLink {
    io: RawProbes,
    sent: SentLog,
    flow: Option<Flow>,
    guard_wanted: bool,
    guard: Option<Guard>,
    start: Instant,
    /// Classified datagrams not handed back yet, oldest first.
    ready: VecDeque<Captured>,
    /// Bytes of datagrams in `ready`.
    ready_bytes: usize,
    /// The deadline of the last call made after its deadline (the next such call pulls nothing).
    late_for: Option<Micros>,
}

/// Frames a receive loop takes between two readings of the clock.
const CLOCK_EVERY: usize = 64;
/// Bytes of datagrams one `recv_until` hands back at most (the rest waits for the next call): through the helper
/// they travel as hex in one line, which must stay well under [`super::helper::protocol::MAX_LINE`].
const BATCH_BYTES: usize = 1 << 20;
/// Datagrams one `recv_until` hands back at most.
const BATCH_ITEMS: usize = 4096;

impl RawLink {
    /// Opens a raw link towards `dst`: checks privileges, picks the interface and starts the capture thread,
    /// which lets nothing in until [`Link::watch`] names a flow.
    pub fn open(dst: IpAddr, opts: &RawOptions) -> Result<RawLink, LinkError> {
        Ok(RawLink {
            io: RawProbes::open_with(dst, opts.iface.as_deref(), opts.layer2, Some(&bpf::drop_all()))?,
            sent: SentLog::default(),
            flow: None,
            guard_wanted: opts.guard,
            guard: None,
            start: Instant::now(),
            ready: VecDeque::new(),
            ready_bytes: 0,
            late_for: None,
        })
    }

    /// The interface and source address in use.
    pub fn route(&self) -> &Route {
        self.io.route()
    }

    /// Whether the kernel-RST guard is installed right now.
    pub fn guarded(&self) -> bool {
        self.guard.is_some()
    }

    /// Frames the capture has read from its socket so far (what the kernel-side filter let into the process).
    pub fn seen(&self) -> u64 {
        self.io.seen()
    }

    fn micros(&self, at: Instant) -> Micros {
        u64::try_from(at.saturating_duration_since(self.start).as_micros()).unwrap_or(u64::MAX)
    }

    /// Keeps a captured frame in `ready` if it is new and belongs to the watched flow.
    fn take(&mut self, frame: super::capture::Frame) {
        if !self.io.dedup.as_mut().is_none_or(|d| d.is_new(&frame)) {
            return;
        }
        let Some(flow) = self.flow else { return };
        if let Some(c) = classify(&flow, &frame.bytes, &self.sent) {
            self.ready_bytes += frame.bytes.len();
            let t = self.micros(frame.at);
            self.ready.push_back(Captured {
                t,
                bytes: frame.bytes,
                origin: c.origin,
                segment: c.segment,
                icmp: c.icmp,
            });
        }
    }

    /// Takes from `ready` what was captured by `deadline`, oldest first, at most one answer's worth.
    fn due(&mut self, deadline: Micros) -> Vec<Captured> {
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        while let Some(c) = self.ready.front() {
            if c.t > deadline || out.len() >= BATCH_ITEMS || !out.is_empty() && bytes + c.bytes.len() > BATCH_BYTES {
                break;
            }
            bytes += c.bytes.len();
            if let Some(c) = self.ready.pop_front() {
                out.push(c);
            }
        }
        self.ready_bytes -= bytes;
        out
    }
}

/// The platform's sender and capture, the capture filtered by `initial` from the start where it can be.
type Opened = Result<(Box<dyn Sender>, Capture), LinkError>;

#[cfg(target_os = "linux")]
fn platform_open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Opened {
    linux::open(route, dst, initial)
}

#[cfg(target_os = "macos")]
fn platform_open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Opened {
    macos::open(route, dst, initial)
}

#[cfg(windows)]
fn platform_open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Opened {
    windows::open(route, dst, initial)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn platform_open(_route: &Route, _dst: IpAddr, _initial: Option<&[Insn]>) -> Opened {
    Err(LinkError::Unsupported("the raw link"))
}

/// A kernel-side filter that could not be attached.
fn attach_error(e: std::io::Error) -> LinkError {
    LinkError::Io { op: "attach the capture filter", source: e }
}

impl Link for RawLink {
    fn describe(&self) -> String {
        format!("raw {}", self.io.route.iface)
    }

    fn now(&self) -> Micros {
        self.micros(Instant::now())
    }

    fn watch(&mut self, flow: Flow) -> Result<(), LinkError> {
        if self.flow != Some(flow) {
            // The new flow's filter first (it replaces the old one atomically), then the guard.
            self.io.capture.filter(&bpf::flow(&flow)).map_err(attach_error)?;
            self.guard = None;
            if self.guard_wanted {
                self.guard = Some(Guard::install(&flow)?);
            }
        }
        self.flow = Some(flow);
        Ok(())
    }

    fn send(&mut self, datagram: &[u8]) -> Result<Micros, LinkError> {
        self.sent.record(datagram);
        let t = self.now();
        self.io.sender.send(datagram)?;
        Ok(t)
    }

    fn recv_until(&mut self, deadline: Micros) -> Result<Vec<Captured>, LinkError> {
        // A caller collects until an empty answer. Past the deadline one call still pulls a slice of what is
        // waiting (so a send picks up its own segment), but the next call for the same deadline pulls nothing:
        // a reader slower than a flood then moves on, and the backlog waits for the next step's calls.
        if self.now() >= deadline {
            if self.late_for == Some(deadline) {
                return Ok(self.due(deadline));
            }
            self.late_for = Some(deadline);
        }
        loop {
            // Hand back what has been classified, plus whatever else is already waiting: under a flood that
            // is bounded by the deadline (a frame read after it waits for the next call, and the clock is read
            // every `CLOCK_EVERY` frames) and by what one answer may carry.
            let now = self.now();
            let due = self.ready.front().is_some_and(|c| c.t <= deadline);
            let wait = if due || now >= deadline { 0 } else { deadline - now };
            let mut first = self.io.capture.recv_timeout(Duration::from_micros(wait.min(50_000)));
            let mut pulled = 0usize;
            while let Some(frame) = first.take().or_else(|| self.io.capture.recv_timeout(Duration::ZERO)) {
                pulled += 1;
                let late = self.micros(frame.at) > deadline;
                self.take(frame);
                if late
                    || self.ready_bytes >= BATCH_BYTES
                    || self.ready.len() >= BATCH_ITEMS
                    || pulled % CLOCK_EVERY == 0 && self.now() >= deadline
                {
                    break;
                }
            }
            let batch = self.due(deadline);
            if !batch.is_empty() || self.now() >= deadline {
                return Ok(batch);
            }
        }
    }

    fn dropped(&self) -> u64 {
        self.io.dropped()
    }

    #[cfg(target_os = "linux")]
    fn peer_state(&mut self) -> Option<&'static str> {
        super::kernel_state::peer_state(self.flow.as_ref()?)
    }
}

/// The raw link as a sweep uses it: send, and take every captured datagram (the sweep matches them itself).
pub struct RawProbes {
    sender: Box<dyn Sender>,
    capture: Capture,
    /// `None` where the kernel already keeps our outgoing frames out (`PACKET_IGNORE_OUTGOING`), so `lo` shows
    /// no frame twice and there is nothing to remove.
    dedup: Option<Dedup>,
    route: Route,
}

impl RawProbes {
    /// Opens the sender and capture towards `dst` (privileges checked first). The capture takes every frame on
    /// the interface until [`RawProbes::restrict_to`].
    pub fn open(dst: IpAddr, iface: Option<&str>) -> Result<RawProbes, LinkError> {
        RawProbes::open_with(dst, iface, false, None)
    }

    /// Like [`RawProbes::open`] followed by [`RawProbes::restrict_to`] with the route's source address, except
    /// that the capture lets nothing in before the restriction (on Linux and Windows; on macOS it is
    /// [`RawProbes::open`]).
    pub fn open_restricted(dst: IpAddr, iface: Option<&str>, sports: &[u16]) -> Result<RawProbes, LinkError> {
        #[cfg(target_os = "linux")]
        {
            // The sweep's own capture: filtered from its first frame, without our outgoing frames, read in batches.
            super::privileges::require_raw()?;
            let route = super::route::route_to(dst, iface)?;
            let program = bpf::probes(route.src, sports).map_err(|e| LinkError::Io {
                op: "build the capture filter",
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
            })?;
            let (sender, capture, no_outgoing) = linux::open_probes(&route, dst, &program)?;
            Ok(RawProbes { sender, capture, dedup: (!no_outgoing).then(Dedup::default), route })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut p = RawProbes::open_with(dst, iface, false, Some(&bpf::drop_all()))?;
            p.restrict_to(p.route.src, sports)?;
            Ok(p)
        }
    }

    /// Like [`RawProbes::open`], sending at the link layer when `layer2` is set, the capture filtered by
    /// `initial` from the start.
    fn open_with(
        dst: IpAddr,
        iface: Option<&str>,
        layer2: bool,
        initial: Option<&[Insn]>,
    ) -> Result<RawProbes, LinkError> {
        super::privileges::require_raw()?;
        let route = super::route::route_to(dst, iface)?;
        let (sender, capture) =
            if layer2 { l2::open(&route, dst, initial)? } else { platform_open(&route, dst, initial)? };
        Ok(RawProbes { sender, capture, dedup: Some(Dedup::default()), route })
    }

    /// Narrows the capture (on Linux and Windows, in the kernel or Npcap's driver) to a sweep from `src`: TCP to
    /// `src` with a destination port in `sports` (1 to [`bpf::MAX_SPORTS`] ports), and ICMP/ICMPv6 errors quoting a TCP segment from `src` with
    /// a source port in `sports`. From then on only such frames come out (those read before the change are
    /// checked again in user space). On macOS the ports are checked but the capture stays unfiltered.
    pub fn restrict_to(&mut self, src: IpAddr, sports: &[u16]) -> Result<(), LinkError> {
        let program = bpf::probes(src, sports).map_err(|e| LinkError::Io {
            op: "build the capture filter",
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })?;
        self.capture.filter(&program).map_err(attach_error)?;
        if let Some(d) = &mut self.dedup {
            *d = Dedup::default();
        }
        Ok(())
    }

    /// Whether this platform filters the capture in the kernel (Linux, Windows); if not, every frame is read.
    pub fn kernel_filtered(&self) -> bool {
        self.capture.filterable()
    }

    /// Frames the capture has read from its socket so far (what the kernel-side filter let into the process).
    pub fn seen(&self) -> u64 {
        self.capture.seen()
    }

    /// The interface and source address in use.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Datagrams lost because the capture ring was full.
    pub fn dropped(&self) -> u64 {
        self.capture.dropped()
    }

    /// The drain's loop: gives `keep` every frame captured by `wait` from now (bounded as [`super::ProbeLink::drain`]
    /// says).
    fn drain_into(&mut self, wait: Duration, mut keep: impl FnMut(super::capture::Frame)) {
        // Everything captured by `until` is taken, however far behind the reader is (a sweep drains between
        // batches with no wait: the replies to the last batches must not pile up). Bounded under a flood: the
        // first frame captured after `until` ends the drain (it is kept), and one drain takes at most one
        // answer's worth.
        let until = Instant::now() + wait;
        let (mut n, mut bytes) = (0usize, 0usize);
        loop {
            // What is already waiting is taken without reading the clock; the clock only bounds a wait.
            let f = match self.capture.try_recv() {
                Some(f) => f,
                None => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return;
                    }
                    let Some(f) = self.capture.recv_timeout(left) else { return };
                    f
                }
            };
            let late = f.at > until;
            if self.dedup.as_mut().is_none_or(|d| d.is_new(&f)) {
                bytes += f.bytes.len();
                n += 1;
                keep(f);
            }
            if late || bytes >= BATCH_BYTES || n >= BATCH_ITEMS {
                return;
            }
        }
    }
}

impl super::ProbeLink for RawProbes {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        self.sender.send(datagram)
    }

    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        self.sender.send_batch(datagrams)
    }

    fn drain(&mut self, wait: Duration) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.drain_into(wait, |f| out.push(f.bytes));
        out
    }

    fn drain_timed(&mut self, wait: Duration) -> Vec<(Instant, Vec<u8>)> {
        let mut out = Vec::new();
        self.drain_into(wait, |f| out.push((f.at, f.bytes)));
        out
    }

    fn dropped(&self) -> u64 {
        self.capture.dropped()
    }

    fn paced(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::net::SocketAddr;

    use super::*;
    use crate::link::capture::{FrameSource, Pulled};
    use crate::link::ProbeLink;
    use crate::wire::{self, IpSpec, SegmentSpec};

    struct NoSend;

    impl Sender for NoSend {
        fn send(&mut self, _: &[u8]) -> Result<(), LinkError> {
            Ok(())
        }
    }

    /// A flood that never pauses: the peer's segments of the default spec's flow, each with its own sequence
    /// number (so none is a loopback duplicate), `payload` bytes each.
    fn flood(payload: usize) -> (Flow, RawProbes) {
        let spec = SegmentSpec { payload: wire::Payload::Hex(vec![0x61; payload]), ..SegmentSpec::default() };
        let IpSpec::V4(ip) = &spec.ip else { panic!("the default spec is IPv4") };
        let ours = Flow {
            local: SocketAddr::new(ip.src.into(), spec.tcp.sport),
            remote: SocketAddr::new(ip.dst.into(), spec.tcp.dport),
        };
        // The peer's side: addresses and ports swapped.
        let mut peer = spec.clone();
        if let IpSpec::V4(p) = &mut peer.ip {
            std::mem::swap(&mut p.src, &mut p.dst);
        }
        std::mem::swap(&mut peer.tcp.sport, &mut peer.tcp.dport);
        let mut seq = 0u32;
        let source: FrameSource = Box::new(move || {
            seq = seq.wrapping_add(1);
            peer.tcp.seq = seq;
            Ok(Pulled::Datagram(wire::build(&peer).unwrap_or_default()))
        });
        let capture = Capture::spawn("test-flood", source, capture::RING_CAPACITY).unwrap();
        let route = Route { iface: "test".into(), src: ours.local.ip() };
        (ours, RawProbes { sender: Box::new(NoSend), capture, dedup: Some(Dedup::default()), route })
    }

    use super::super::capture;

    #[test]
    fn recv_until_returns_by_its_deadline_under_a_flood() {
        let (flow, io) = flood(1400);
        let mut link = RawLink {
            io,
            sent: SentLog::default(),
            flow: None,
            guard_wanted: false,
            guard: None,
            start: Instant::now(),
            ready: VecDeque::new(),
            ready_bytes: 0,
            late_for: None,
        };
        link.watch(flow).unwrap();
        let started = Instant::now();
        let deadline = link.now() + 200_000;
        // As the runner collects: until an empty answer. In a thread, so a loop that never ends fails the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut items = 0;
            loop {
                let batch = link.recv_until(deadline).unwrap();
                if batch.is_empty() {
                    break;
                }
                let bytes: usize = batch.iter().map(|c| c.bytes.len()).sum();
                assert!(batch.len() <= BATCH_ITEMS && bytes <= BATCH_BYTES);
                assert!(batch.iter().all(|c| c.t <= deadline), "only what was captured by the deadline");
                items += batch.len();
            }
            let _ = tx.send((items, link.ready_bytes));
        });
        let (items, waiting) = rx.recv_timeout(Duration::from_secs(5)).expect("recv_until ignored its deadline");
        assert!(items > 0);
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
        assert!(waiting <= BATCH_BYTES + 65_536, "what waits for the next call is bounded");
    }

    #[test]
    fn drain_returns_by_its_wait_under_a_flood() {
        let (_, mut probes) = flood(100);
        let started = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(probes.drain(Duration::from_millis(100)).len());
        });
        let got = rx.recv_timeout(Duration::from_secs(5)).expect("drain ignored its wait");
        assert!(got > 0 && got <= BATCH_ITEMS);
        assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    }
}
