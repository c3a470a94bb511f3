//! The simulated lab host: a real TCP stack (smoltcp) in this process, behind a queue device. It needs no
//! privileges, its clock is virtual and its ISNs come from [`SimConfig::seed`]: the same seed, the same ISNs.
//! Sessions give it a new seed every run unless one is asked for (`exchange::seed`), so its ISNs are as random
//! as a real host's; [`SimConfig::default`] keeps a fixed one, for tests.
//!
//! By default the host is 192.0.2.10 (and 2001:db8::10), we are 192.0.2.1; ports 22, 80, 443 and 8080 are open,
//! every other port is closed (answers RST-ACK), and ports listed as filtered drop everything silently.
//!
//! Without routers the host is one hop away. [`SimConfig::routers`] puts routers in front of it ([`path`]): they count
//! the TTL down and answer ICMP time-exceeded, drop or reset ports as a firewall does, and every reply arrives
//! with the TTL its distance leaves it, so `trace`, firewalk and the sweep's forged-reset evidence can be practised.
//!
//! The parts: [`device`] (the queues smoltcp reads and writes), [`host`] (the host's applications and the rules
//! smoltcp lacks), [`path`] (the routers).

mod device;
mod host;
pub mod path;
mod reassembly;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

use self::device::{instant, state_name, QueueDevice};
use self::path::Crossing;
pub use self::path::SimRouter;
use super::classify::{classify, SentLog};
use super::{Captured, Flow, Link, LinkError, Micros, PeerAct};
use crate::wire;

/// Settings of the simulated host (also the `sim` section of a preset).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// The host's IPv4 address.
    pub host: Ipv4Addr,
    /// The host's IPv6 address.
    pub host_v6: Ipv6Addr,
    /// Ports with a listening socket.
    pub open: Vec<u16>,
    /// Ports that drop everything (no reply at all, as behind a firewall).
    pub filtered: Vec<u16>,
    /// Round-trip time of the simulated path, in microseconds.
    pub rtt_us: u64,
    /// Seed of the host's random numbers (its ISNs); the default is a fixed number.
    pub seed: u64,
    /// Routers between us and the host, nearest first (router i is hop i + 1, the host hop n + 1); none by
    /// default, so the host is one hop away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routers: Vec<SimRouter>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            host: Ipv4Addr::new(192, 0, 2, 10),
            host_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10),
            open: vec![22, 80, 443, 8080],
            filtered: Vec::new(),
            rtt_us: 200,
            seed: 0x7463_7266,
            routers: Vec::new(),
        }
    }
}

impl SimConfig {
    /// The same host, answering at `target` (its IPv4 or IPv6 address, by the target's family).
    pub fn at(self, target: IpAddr) -> SimConfig {
        match target {
            IpAddr::V4(host) => SimConfig { host, ..self },
            IpAddr::V6(host_v6) => SimConfig { host_v6, ..self },
        }
    }
}

/// Our address on the simulated network, in the family of `target`.
pub fn our_address(target: IpAddr) -> IpAddr {
    if target.is_ipv6() {
        IpAddr::V6(SIM_US_V6)
    } else {
        IpAddr::V4(SIM_US)
    }
}

/// Our default address on the simulated network.
pub const SIM_US: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// Our default IPv6 address on the simulated network.
pub const SIM_US_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

/// Host timer rounds one `recv_until` may run (retransmissions, TIME-WAIT) before giving up on the deadline.
const MAX_TIMER_ROUNDS: usize = 10_000;

/// The simulated link: our datagrams go to the smoltcp host, its answers come back after the configured RTT.
pub struct SimLink {
    cfg: SimConfig,
    iface: Interface,
    device: QueueDevice,
    sockets: SocketSet<'static>,
    listeners: Vec<(u16, SocketHandle)>,
    /// The link clock (what the runner sees).
    now: Micros,
    /// The host's clock, never behind `now`.
    host_now: Micros,
    pending: VecDeque<(Micros, Vec<u8>)>,
    flow: Option<Flow>,
    sent: SentLog,
    /// Port-22 connections that already got their banner.
    greeted: Vec<SocketHandle>,
    /// A socket of the host has held the watched flow (so its absence now means the connection ended).
    flow_seen: bool,
    /// The host's application acts only through `peer_act` (a preset with Peer steps).
    scripted: bool,
    /// The scripted application reads what arrives (else data piles up and the window closes).
    reading: bool,
    /// Connections the (unscripted) application will close, and when: it closes a moment after the client did, so
    /// CLOSE-WAIT is seen, and its ACK and its FIN go out as two segments, as a real server's do.
    closing: Vec<(SocketHandle, Micros)>,
    /// Fragments held until their datagram is complete.
    reassembly: reassembly::Reassembly,
}

impl SimLink {
    /// A lab host with the given settings, its clock at zero.
    pub fn new(cfg: SimConfig) -> SimLink {
        let mut device = QueueDevice::default();
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = cfg.seed;
        let mut iface = Interface::new(config, &mut device, instant(0));
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(cfg.host), 24));
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv6(cfg.host_v6), 64));
        });
        let _ = iface.routes_mut().add_default_ipv4_route(SIM_US);
        let _ = iface.routes_mut().add_default_ipv6_route(SIM_US_V6);
        let mut link = SimLink {
            cfg,
            iface,
            device,
            sockets: SocketSet::new(Vec::new()),
            listeners: Vec::new(),
            now: 0,
            host_now: 0,
            pending: VecDeque::new(),
            flow: None,
            sent: SentLog::default(),
            greeted: Vec::new(),
            flow_seen: false,
            scripted: false,
            reading: true,
            closing: Vec::new(),
            reassembly: reassembly::Reassembly::default(),
        };
        link.refill_listeners();
        link
    }

    /// The host's settings.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The host's socket holding the watched flow, if one does.
    fn flow_socket(&self) -> Option<SocketHandle> {
        let flow = self.flow?;
        let port = flow.remote.port();
        self.listeners.iter().filter(|(p, _)| *p == port).map(|(_, h)| *h).find(|h| {
            let s = self.sockets.get::<tcp::Socket>(*h);
            s.remote_endpoint().is_some_and(|e| e.port == flow.local.port() && IpAddr::from(e.addr) == flow.local.ip())
        })
    }

    /// Runs the host at `t` and queues what it sent, to arrive half an RTT later.
    fn run_host(&mut self, t: Micros) {
        self.host_now = self.host_now.max(t);
        for _ in 0..8 {
            self.iface.poll(instant(self.host_now), &mut self.device, &mut self.sockets);
            self.serve();
            if self.device.to_host.is_empty() {
                self.iface.poll(instant(self.host_now), &mut self.device, &mut self.sockets);
                break;
            }
        }
        let arrive = self.host_now + self.cfg.rtt_us / 2;
        while let Some(d) = self.device.from_host.pop_front() {
            self.enqueue_from(self.cfg.routers.len(), arrive, d);
        }
    }

    /// Queues a datagram to be seen at `t`, keeping the queue in time order (a segment sent now must not wait
    /// behind a reply still in flight).
    fn enqueue(&mut self, t: Micros, d: Vec<u8>) {
        // Mostly in order already: look from the back (a sweep queues thousands of replies).
        let at = self.pending.iter().rposition(|(u, _)| *u <= t).map_or(0, |i| i + 1);
        self.pending.insert(at, (t, d));
    }

    /// Queues a datagram sent towards us from `hops` routers away, aged by the routers it crosses on the way back.
    fn enqueue_from(&mut self, hops: usize, t: Micros, d: Vec<u8>) {
        if let Some(d) = path::back(d, hops) {
            self.enqueue(t, d);
        }
    }

    /// When the answer of router `hop` (0-based) to a datagram sent at `t` arrives: its share of the RTT, the host
    /// being one hop farther than the last router.
    fn hop_arrival(&self, t: Micros, hop: usize) -> Micros {
        let (hop, hops) = (hop as u64 + 1, self.cfg.routers.len() as u64 + 1);
        t + self.cfg.rtt_us.saturating_mul(hop) / hops
    }

    /// Takes the datagrams due by `deadline`, running the host's timers (retransmissions, TIME-WAIT) up to it;
    /// with `first_only` it returns as soon as something is due. Moves the link clock to the last one taken.
    fn advance(&mut self, deadline: Micros, first_only: bool) -> Vec<(Micros, Vec<u8>)> {
        let mut out = Vec::new();
        // Bounded: each round runs a host timer that lies in the future, or ends.
        for _ in 0..MAX_TIMER_ROUNDS {
            while self.pending.front().is_some_and(|(t, _)| *t <= deadline) {
                if let Some((t, d)) = self.pending.pop_front() {
                    self.now = self.now.max(t);
                    out.push((t, d));
                }
            }
            if first_only && !out.is_empty() {
                break;
            }
            let app = self.closing.iter().map(|(_, at)| *at).filter(|at| *at > self.host_now).min();
            let timer = self
                .iface
                .poll_at(instant(self.host_now), &self.sockets)
                .map(|i| u64::try_from(i.total_micros()).unwrap_or(0).max(self.host_now + 1));
            let timer = match (timer, app) {
                (Some(t), Some(a)) => Some(t.min(a)),
                (t, a) => t.or(a),
            };
            match timer {
                Some(t) if t <= deadline => self.run_host(t),
                _ => break,
            }
        }
        out
    }

    fn captured(&self, t: Micros, bytes: Vec<u8>) -> Option<Captured> {
        let flow = self.flow.as_ref()?;
        let c = classify(flow, &bytes, &self.sent)?;
        Some(Captured { t, bytes, origin: c.origin, segment: c.segment, icmp: c.icmp })
    }
}

impl super::ProbeLink for SimLink {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        Link::send(self, datagram).map(|_| ())
    }

    /// Every datagram (ours and the host's) due within `wait` of virtual time, without flow filtering.
    fn drain(&mut self, wait: std::time::Duration) -> Vec<Vec<u8>> {
        let deadline = self.now + u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        let out = self.advance(deadline, false).into_iter().map(|(_, d)| d).collect();
        self.now = self.now.max(deadline);
        out
    }

    fn paced(&self) -> bool {
        false
    }
}

impl Link for SimLink {
    fn describe(&self) -> String {
        match self.cfg.routers.len() {
            0 => format!("sim {}", self.cfg.host),
            1 => format!("sim {} behind 1 router", self.cfg.host),
            n => format!("sim {} behind {n} routers", self.cfg.host),
        }
    }

    fn now(&self) -> Micros {
        self.now
    }

    fn watch(&mut self, flow: Flow) -> Result<(), LinkError> {
        if self.flow != Some(flow) {
            self.flow_seen = false;
        }
        self.flow = Some(flow);
        Ok(())
    }

    fn peer_state_source(&self) -> &'static str {
        "sim"
    }

    fn script_peer(&mut self) -> Result<(), LinkError> {
        self.scripted = true;
        Ok(())
    }

    fn peer_act(&mut self, act: &PeerAct) -> Result<(), LinkError> {
        match act {
            PeerAct::StopReading => self.reading = false,
            PeerAct::ResumeReading => self.reading = true,
            PeerAct::Send(_) | PeerAct::Close | PeerAct::Abort => {
                let h = self.flow_socket().ok_or_else(|| {
                    LinkError::Unsendable(
                        "the lab host has no connection for this flow yet: put the Peer step after the handshake"
                            .into(),
                    )
                })?;
                let s = self.sockets.get_mut::<tcp::Socket>(h);
                match act {
                    PeerAct::Send(bytes) => {
                        let n = s
                            .send_slice(bytes)
                            .map_err(|e| LinkError::Unsendable(format!("the lab host cannot send: {e}")))?;
                        if n < bytes.len() {
                            return Err(LinkError::Unsendable(format!(
                                "the lab host's send buffer took {n} of {} bytes",
                                bytes.len()
                            )));
                        }
                    }
                    PeerAct::Close => s.close(),
                    _ => s.abort(),
                }
            }
        }
        // The application acts now at the host; what it sends arrives half an RTT later.
        let at = self.host_now.max(self.now);
        self.run_host(at);
        Ok(())
    }

    /// The host's own state for the watched flow: its socket's; LISTEN while the flow has reached no socket and
    /// one listens on the port; CLOSED otherwise (a closed port, or a connection that ended and was freed).
    fn peer_state(&mut self) -> Option<&'static str> {
        let port = self.flow?.remote.port();
        let socket = self.flow_socket().map(|h| self.sockets.get::<tcp::Socket>(h).state());
        Some(match socket {
            Some(state) => {
                self.flow_seen = true;
                state_name(state)
            }
            None if !self.flow_seen && self.cfg.open.contains(&port) => "LISTEN",
            None => "CLOSED",
        })
    }

    fn send(&mut self, datagram: &[u8]) -> Result<Micros, LinkError> {
        if datagram.len() > 65_535 {
            return Err(LinkError::Unsendable(format!("{} bytes is more than an IP datagram holds", datagram.len())));
        }
        self.sent.record(datagram);
        let t = self.now;
        // Our own datagram "on the wire" first, as a capture would show it.
        self.enqueue(t, datagram.to_vec());
        // Fragments are put together first (the router's conntrack and the host do that), then go on as one.
        let whole;
        let datagram = if wire::fragment::info(datagram).is_some() {
            match self.reassembly.offer(datagram) {
                reassembly::Arrival::Whole(d) => {
                    whole = d;
                    &whole[..]
                }
                reassembly::Arrival::Held | reassembly::Arrival::Dropped => return Ok(t),
            }
        } else {
            datagram
        };
        let dst_is_host = match wire::parse_any_protocol(datagram).map(|s| s.dst()) {
            Ok(IpAddr::V4(a)) => a == self.cfg.host,
            Ok(IpAddr::V6(a)) => a == self.cfg.host_v6,
            Err(_) => true,
        };
        if !dst_is_host {
            return Ok(t);
        }
        let datagram = match path::cross(&self.cfg.routers, datagram) {
            Crossing::Host(d) => d,
            Crossing::Answer { hop, reply } => {
                let at = self.hop_arrival(t, hop);
                self.enqueue_from(hop, at, reply);
                return Ok(t);
            }
            Crossing::Dropped => return Ok(t),
        };
        if !self.dropped_silently(&datagram) {
            if let Some(rst) = self.closed_port_reset(&datagram) {
                self.enqueue_from(self.cfg.routers.len(), t + self.cfg.rtt_us, rst);
            } else {
                self.device.to_host.push_back(datagram);
                self.run_host(t + self.cfg.rtt_us / 2);
            }
        }
        Ok(t)
    }

    fn recv_until(&mut self, deadline: Micros) -> Result<Vec<Captured>, LinkError> {
        let deadline = deadline.max(self.now);
        // Bounded: every round consumes queued datagrams, and `advance` is bounded itself.
        loop {
            let due = self.advance(deadline, true);
            if due.is_empty() {
                self.now = deadline;
                return Ok(Vec::new());
            }
            let out: Vec<Captured> = due.into_iter().filter_map(|(t, d)| self.captured(t, d)).collect();
            if !out.is_empty() {
                return Ok(out);
            }
        }
    }

    fn dropped(&self) -> u64 {
        0
    }
}
