//! The simulated lab host: a real TCP stack (smoltcp) in this process, behind a queue device. It needs no
//! privileges, its clock is virtual and its ISNs come from [`SimConfig::seed`]: the same seed, the same ISNs.
//! Sessions give it a new seed every run unless one is asked for (`exchange::seed`), so its ISNs are as random
//! as a real host's; [`SimConfig::default`] keeps a fixed one, for tests.
//!
//! By default the host is 192.0.2.10 (and 2001:db8::10), we are 192.0.2.1; ports 22, 80, 443 and 8080 are open,
//! every other port is closed (answers RST-ACK), and ports listed as filtered drop everything silently.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

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

/// Listening sockets kept ready per open port, so several connections can be opened in one run.
const BACKLOG: usize = 4;
/// Host timer rounds one `recv_until` may run (retransmissions, TIME-WAIT) before giving up on the deadline.
const MAX_TIMER_ROUNDS: usize = 10_000;

/// A device that is two queues: datagrams for the host, and datagrams the host sent.
#[derive(Default)]
struct QueueDevice {
    to_host: VecDeque<Vec<u8>>,
    from_host: VecDeque<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl Device for QueueDevice {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx<'_>)> {
        let d = self.to_host.pop_front()?;
        Some((Rx(d), Tx(&mut self.from_host)))
    }

    fn transmit(&mut self, _t: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.from_host))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = 1500;
        c
    }
}

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
}

/// RFC 9293's name of a smoltcp socket state.
fn state_name(s: tcp::State) -> &'static str {
    match s {
        tcp::State::Closed => "CLOSED",
        tcp::State::Listen => "LISTEN",
        tcp::State::SynSent => "SYN-SENT",
        tcp::State::SynReceived => "SYN-RECEIVED",
        tcp::State::Established => "ESTABLISHED",
        tcp::State::FinWait1 => "FIN-WAIT-1",
        tcp::State::FinWait2 => "FIN-WAIT-2",
        tcp::State::CloseWait => "CLOSE-WAIT",
        tcp::State::Closing => "CLOSING",
        tcp::State::LastAck => "LAST-ACK",
        tcp::State::TimeWait => "TIME-WAIT",
    }
}

/// How long the lab host's application takes to close after the client closed (host time, microseconds).
const APP_CLOSE_DELAY_US: Micros = 1_000;

fn instant(t: Micros) -> Instant {
    Instant::from_micros(i64::try_from(t).unwrap_or(i64::MAX))
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

    /// Keeps `BACKLOG` listening sockets per open port, replacing those that were used up.
    fn refill_listeners(&mut self) {
        let sockets = &mut self.sockets;
        let mut removed = Vec::new();
        self.listeners.retain(|(_, h)| {
            let closed = sockets.get_mut::<tcp::Socket>(*h).state() == tcp::State::Closed;
            if closed {
                sockets.remove(*h);
                removed.push(*h);
            }
            !closed
        });
        self.greeted.retain(|h| !removed.contains(h));
        self.closing.retain(|(h, _)| !removed.contains(h));
        for &port in &self.cfg.open {
            let listening = self
                .listeners
                .iter()
                .filter(|(p, h)| *p == port && self.sockets.get_mut::<tcp::Socket>(*h).state() == tcp::State::Listen)
                .count();
            for _ in listening..BACKLOG {
                let mut s = tcp::Socket::new(
                    tcp::SocketBuffer::new(vec![0; 16 * 1024]),
                    tcp::SocketBuffer::new(vec![0; 16 * 1024]),
                );
                s.set_ack_delay(None);
                s.set_nagle_enabled(false);
                if s.listen(port).is_ok() {
                    let h = self.sockets.add(s);
                    self.listeners.push((port, h));
                }
            }
        }
    }

    /// The lab host's applications: an HTTP answer on 80/8080, an SSH banner on 22, echo elsewhere. They close
    /// only when the client does, so every close is the student's to make.
    fn serve(&mut self) {
        if self.scripted {
            // A scripted application only reads (unless told to stop); everything else is a Peer step's.
            for (_, h) in self.listeners.clone() {
                let s = self.sockets.get_mut::<tcp::Socket>(h);
                if self.reading && s.can_recv() {
                    let mut buf = [0u8; 4096];
                    let _ = s.recv_slice(&mut buf);
                }
            }
            self.refill_listeners();
            return;
        }
        for (port, h) in self.listeners.clone() {
            let s = self.sockets.get_mut::<tcp::Socket>(h);
            if port == 22 && s.state() == tcp::State::Established && !self.greeted.contains(&h) {
                let _ = s.send_slice(b"SSH-2.0-tcpcraft_lab\r\n");
                self.greeted.push(h);
            }
            if s.can_recv() {
                let mut buf = [0u8; 4096];
                let n = s.recv_slice(&mut buf).unwrap_or(0);
                let request = &buf[..n];
                match port {
                    80 | 8080 => {
                        let body = "hello from the tcpcraft lab host\n";
                        let reply = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                        let _ = s.send_slice(reply.as_bytes());
                    }
                    22 => {}
                    _ => {
                        let _ = s.send_slice(request);
                    }
                }
            }
            if s.state() == tcp::State::CloseWait {
                match self.closing.iter().find(|(c, _)| *c == h) {
                    Some((_, at)) if *at <= self.host_now => s.close(),
                    Some(_) => {}
                    None => self.closing.push((h, self.host_now + APP_CLOSE_DELAY_US)),
                }
            }
        }
        self.refill_listeners();
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
            self.enqueue(arrive, d);
        }
    }

    /// Takes the datagrams due by `deadline`, running the host's timers (retransmissions, TIME-WAIT) up to it;
    /// with `first_only` it returns as soon as something is due. Moves the link clock to the last one taken.
    /// Queues a datagram to be seen at `t`, keeping the queue in time order (a segment sent now must not wait
    /// behind a reply still in flight).
    fn enqueue(&mut self, t: Micros, d: Vec<u8>) {
        // Mostly in order already: look from the back (a sweep queues thousands of replies).
        let at = self.pending.iter().rposition(|(u, _)| *u <= t).map_or(0, |i| i + 1);
        self.pending.insert(at, (t, d));
    }

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

    /// Whether the host never answers this datagram: filtered ports drop everything, and (RFC 9293 §3.10.7.2)
    /// a listening port drops a segment without SYN, ACK or RST that belongs to no connection (smoltcp would
    /// answer RST, which is what a closed port does).
    fn dropped_silently(&mut self, datagram: &[u8]) -> bool {
        let Ok(s) = wire::parse(datagram) else { return false };
        if self.cfg.filtered.contains(&s.tcp.dport) {
            return true;
        }
        let f = s.tcp.flags;
        if f.syn || f.ack || f.rst || !self.cfg.open.contains(&s.tcp.dport) {
            return false;
        }
        let from = smoltcp::wire::IpEndpoint::new(IpAddress::from(s.src()), s.tcp.sport);
        !self.listeners.iter().any(|(_, h)| self.sockets.get_mut::<tcp::Socket>(*h).remote_endpoint() == Some(from))
    }

    /// RFC 9293 §3.10.7.1 for a closed port, where smoltcp stays silent: a segment without SYN, ACK or RST is
    /// answered RST-ACK with seq 0 and ack = its seq + its length.
    fn closed_port_reset(&self, datagram: &[u8]) -> Option<Vec<u8>> {
        let s = wire::parse(datagram).ok()?;
        let f = s.tcp.flags;
        if f.syn || f.ack || f.rst || self.cfg.open.contains(&s.tcp.dport) || !s.tcp_checksum_ok() {
            return None;
        }
        let ip = match (s.dst(), s.src()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                wire::IpSpec::V4(wire::Ipv4Spec { src, dst, id: 0, ..Default::default() })
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => wire::IpSpec::V6(wire::Ipv6Spec { src, dst, ..Default::default() }),
            _ => return None,
        };
        let mut reply = wire::SegmentSpec { ip, ..Default::default() };
        reply.tcp.sport = s.tcp.dport;
        reply.tcp.dport = s.tcp.sport;
        reply.tcp.seq = 0;
        reply.tcp.ack = s.tcp.seq.wrapping_add(s.seq_len());
        reply.tcp.flags = crate::wire::TcpFlags::RST_ACK;
        reply.tcp.window = 0;
        wire::build(&reply).ok()
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
        format!("sim {}", self.cfg.host)
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
        let dst_is_host = match wire::parse_any_protocol(datagram).map(|s| s.dst()) {
            Ok(IpAddr::V4(a)) => a == self.cfg.host,
            Ok(IpAddr::V6(a)) => a == self.cfg.host_v6,
            Err(_) => true,
        };
        if dst_is_host && !self.dropped_silently(datagram) {
            if let Some(rst) = self.closed_port_reset(datagram) {
                self.enqueue(t + self.cfg.rtt_us, rst);
            } else {
                self.device.to_host.push_back(datagram.to_vec());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Origin;
    use crate::wire::{build, Payload, SegmentSpec, TcpFlags};

    fn syn_to(port: u16) -> SegmentSpec {
        let mut s = SegmentSpec::default();
        s.tcp.dport = port;
        s.tcp.seq = 1000;
        s
    }

    fn exchange(link: &mut SimLink, spec: &SegmentSpec, wait: Micros) -> Vec<Captured> {
        let bytes = build(spec).unwrap();
        link.watch(Flow::of(&crate::wire::parse(&bytes).unwrap())).unwrap();
        link.send(&bytes).unwrap();
        let deadline = link.now() + wait;
        let mut all = Vec::new();
        loop {
            let got = link.recv_until(deadline).unwrap();
            if got.is_empty() {
                return all;
            }
            all.extend(got);
        }
    }

    #[test]
    fn open_port_answers_syn_ack_with_ack_isn_plus_one() {
        let mut link = SimLink::new(SimConfig::default());
        let got = exchange(&mut link, &syn_to(80), 10_000);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].origin, Origin::Crafted);
        assert_eq!(got[0].t, 0);
        let sa = got[1].segment.as_ref().unwrap();
        assert_eq!(got[1].origin, Origin::Peer);
        assert_eq!(sa.tcp.flags, TcpFlags::SYN_ACK);
        assert_eq!(sa.tcp.ack, 1001);
        assert!(sa.tcp_checksum_ok() && sa.ip_checksum_ok());
        assert_eq!(got[1].t, 200, "one simulated RTT");
    }

    #[test]
    fn closed_port_answers_rst_ack() {
        let mut link = SimLink::new(SimConfig::default());
        let got = exchange(&mut link, &syn_to(81), 10_000);
        let rst = got[1].segment.as_ref().unwrap();
        assert_eq!(rst.tcp.flags, TcpFlags::RST_ACK);
        assert_eq!(rst.tcp.ack, 1001);
    }

    #[test]
    fn filtered_port_and_bad_checksum_get_nothing() {
        let mut link = SimLink::new(SimConfig { filtered: vec![8443], ..SimConfig::default() });
        let got = exchange(&mut link, &syn_to(8443), 3_000_000);
        assert_eq!(got.len(), 1);
        assert_eq!(link.now(), 3_000_000, "the virtual clock ran to the deadline");
        let mut bad = syn_to(80);
        bad.tcp.checksum = crate::wire::Checksum::Bad;
        assert_eq!(exchange(&mut link, &bad, 1_000_000).len(), 1, "a bad checksum is dropped, as real stacks do");
    }

    #[test]
    fn full_handshake_and_http_exchange() {
        let mut link = SimLink::new(SimConfig::default());
        let got = exchange(&mut link, &syn_to(80), 10_000);
        let isn = got[1].segment.as_ref().unwrap().tcp.seq;
        let mut ack = syn_to(80);
        ack.tcp.flags = TcpFlags::ACK;
        ack.tcp.seq = 1001;
        ack.tcp.ack = isn.wrapping_add(1);
        assert_eq!(exchange(&mut link, &ack, 10_000).len(), 1, "a bare ACK gets no answer");
        let mut get = ack.clone();
        get.tcp.flags = TcpFlags::from_bits(0x018);
        get.payload = Payload::Text("GET / HTTP/1.0\r\n\r\n".into());
        let got = exchange(&mut link, &get, 10_000);
        let peer: Vec<_> = got.iter().filter(|c| c.origin == Origin::Peer).filter_map(|c| c.segment.as_ref()).collect();
        assert!(peer.iter().any(|s| s.tcp.ack == 1001 + 18), "{peer:?}");
        let data: Vec<u8> = peer.iter().flat_map(|s| s.payload.clone()).collect();
        assert!(String::from_utf8_lossy(&data).starts_with("HTTP/1.0 200 OK"));
        assert!(!peer.iter().any(|s| s.tcp.flags.fin), "the lab host leaves the close to the client");
    }

    #[test]
    fn isn_is_deterministic() {
        let isn = |_| {
            let mut link = SimLink::new(SimConfig::default());
            exchange(&mut link, &syn_to(22), 10_000)[1].segment.as_ref().unwrap().tcp.seq
        };
        assert_eq!(isn(0), isn(1));
    }

    #[test]
    fn ipv6_host_answers() {
        let mut s = syn_to(443);
        s.ip = crate::wire::IpSpec::V6(crate::wire::Ipv6Spec::default());
        let mut link = SimLink::new(SimConfig::default());
        let got = exchange(&mut link, &s, 10_000);
        assert_eq!(got[1].segment.as_ref().unwrap().tcp.flags, TcpFlags::SYN_ACK);
    }

    /// A segment sent while a reply is still in flight is seen first: captures come out in time order.
    #[test]
    fn captures_come_out_in_time_order() {
        let mut link = SimLink::new(SimConfig::default());
        let first = build(&syn_to(81)).unwrap();
        link.watch(Flow::of(&crate::wire::parse(&first).unwrap())).unwrap();
        link.send(&first).unwrap();
        let now = link.now();
        let mut got = link.recv_until(now).unwrap();
        assert_eq!(got.len(), 1, "only our SYN so far; the RST is in flight");
        link.send(&first).unwrap();
        loop {
            let more = link.recv_until(now + 10_000).unwrap();
            if more.is_empty() {
                break;
            }
            got.extend(more);
        }
        let times: Vec<Micros> = got.iter().map(|c| c.t).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "out of order: {times:?}");
        assert_eq!(got.len(), 4, "two SYNs and two RSTs: {times:?}");
    }
}
