//! The simulated host itself: its listening sockets, its applications (HTTP, an SSH banner, echo), and the rules
//! of RFC 9293 smoltcp does not follow (silence on a filtered port, a reset for a closed port's non-SYN segment).

use std::net::IpAddr;

use smoltcp::socket::tcp;
use smoltcp::wire::IpAddress;

use super::SimLink;
use crate::link::Micros;
use crate::wire;

/// Listening sockets kept ready per open port, so several connections can be opened in one run.
const BACKLOG: usize = 4;
/// How long the lab host's application takes to close after the client closed (host time, microseconds).
const APP_CLOSE_DELAY_US: Micros = 1_000;

impl SimLink {
    /// Keeps `BACKLOG` listening sockets per open port, replacing those that were used up.
    pub(super) fn refill_listeners(&mut self) {
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
    pub(super) fn serve(&mut self) {
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

    /// Whether the host never answers this datagram: filtered ports drop everything, and (RFC 9293 §3.10.7.2)
    /// a listening port drops a segment without SYN, ACK or RST that belongs to no connection (smoltcp would
    /// answer RST, which is what a closed port does).
    pub(super) fn dropped_silently(&mut self, datagram: &[u8]) -> bool {
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
    pub(super) fn closed_port_reset(&self, datagram: &[u8]) -> Option<Vec<u8>> {
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
}
