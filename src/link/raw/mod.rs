//! The raw link: crafted datagrams really leave through a raw socket (or the link layer), and a capture thread
//! reads the flow back. One implementation per platform, behind `cfg`; all share [`RawLink`]'s receive logic.
//!
//! On Linux the capture socket carries a kernel-side filter ([`super::bpf`]): a [`RawLink`] captures nothing
//! until [`Link::watch`], then only the watched flow; [`RawProbes::restrict_to`] narrows a sweep's capture to the
//! replies to its probes. On macOS and Windows capture stays unfiltered for now (the filters are no-ops there).

pub mod l2;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
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
    ready: VecDeque<Captured>,
}

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
        loop {
            // Hand back what has been classified, plus whatever else is already waiting.
            let now = self.now();
            let wait = if self.ready.is_empty() { deadline.saturating_sub(now) } else { 0 };
            let first = self.io.capture.recv_timeout(Duration::from_micros(wait.min(50_000)));
            for frame in first.into_iter().chain(std::iter::from_fn(|| self.io.capture.recv_timeout(Duration::ZERO))) {
                if !self.io.dedup.is_new(&frame) {
                    continue;
                }
                let Some(flow) = self.flow else { continue };
                if let Some(c) = classify(&flow, &frame.bytes, &self.sent) {
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
            if !self.ready.is_empty() {
                return Ok(self.ready.drain(..).collect());
            }
            if self.now() >= deadline {
                return Ok(Vec::new());
            }
        }
    }

    fn dropped(&self) -> u64 {
        self.io.dropped()
    }
}

/// The raw link as a sweep uses it: send, and take every captured datagram (the sweep matches them itself).
pub struct RawProbes {
    sender: Box<dyn Sender>,
    capture: Capture,
    dedup: Dedup,
    route: Route,
}

impl RawProbes {
    /// Opens the sender and capture towards `dst` (privileges checked first). The capture takes every frame on
    /// the interface until [`RawProbes::restrict_to`].
    pub fn open(dst: IpAddr, iface: Option<&str>) -> Result<RawProbes, LinkError> {
        RawProbes::open_with(dst, iface, false, None)
    }

    /// Like [`RawProbes::open`] followed by [`RawProbes::restrict_to`] with the route's source address, except
    /// that the capture lets nothing in before the restriction (on Linux; elsewhere it is [`RawProbes::open`]).
    pub fn open_restricted(dst: IpAddr, iface: Option<&str>, sports: &[u16]) -> Result<RawProbes, LinkError> {
        let mut p = RawProbes::open_with(dst, iface, false, Some(&bpf::drop_all()))?;
        p.restrict_to(p.route.src, sports)?;
        Ok(p)
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
        Ok(RawProbes { sender, capture, dedup: Dedup::default(), route })
    }

    /// Narrows the capture (on Linux, in the kernel) to a sweep from `src`: TCP to `src` with a destination port
    /// in `sports` (1 to [`bpf::MAX_SPORTS`] ports), and ICMP/ICMPv6 errors quoting a TCP segment from `src` with
    /// a source port in `sports`. From then on only such frames come out (those read before the change are
    /// checked again in user space). On macOS and Windows the ports are checked but the capture stays unfiltered.
    pub fn restrict_to(&mut self, src: IpAddr, sports: &[u16]) -> Result<(), LinkError> {
        let program = bpf::probes(src, sports).map_err(|e| LinkError::Io {
            op: "build the capture filter",
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })?;
        self.capture.filter(&program).map_err(attach_error)?;
        self.dedup = Dedup::default();
        Ok(())
    }

    /// Whether this platform filters the capture in the kernel (Linux); if not, every frame is read.
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
}

impl super::ProbeLink for RawProbes {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        self.sender.send(datagram)
    }

    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        self.sender.send_batch(datagrams)
    }

    fn drain(&mut self, wait: Duration) -> Vec<Vec<u8>> {
        let until = Instant::now() + wait;
        let mut out = Vec::new();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.capture.recv_timeout(left) {
                Some(f) if self.dedup.is_new(&f) => out.push(f.bytes),
                Some(_) => {}
                None => return out,
            }
        }
    }

    fn paced(&self) -> bool {
        true
    }
}
