//! The kernel's own TCP state for a flow whose peer is a socket on this host (in this network namespace), asked of
//! the kernel with one sock_diag request for the flow's 4-tuple, as `ss` does (the kernel looks the socket up:
//! the connection, else the listener on the port); `/proc/net/tcp{,6}` is read, as `netstat` does, only when
//! netlink is not available. No socket at all is CLOSED.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::Flow;

/// The largest table read (a busy host's /proc/net/tcp can be long; this is plenty for a lab).
const MAX_TABLE: u64 = 16 * 1024 * 1024;

/// The peer's state by RFC 9293's name, when the peer is a socket of this host; `None` when it is not.
pub fn peer_state(flow: &Flow) -> Option<&'static str> {
    if !is_local(flow.remote.ip()) {
        return None;
    }
    if let Some(state) = sock_diag(flow) {
        return Some(state);
    }
    let file = if flow.remote.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
    let table = crate::fsio::read_bounded(std::path::Path::new(file), MAX_TABLE, "the kernel's TCP table").ok()?;
    Some(state_in(&String::from_utf8_lossy(&table), flow))
}

/// netlink's sock_diag protocol, `SOCK_DIAG_BY_FAMILY`, and the request flag.
const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_ERROR: u16 = 2;

/// One sock_diag lookup of the peer's socket (its local end is our flow's remote end). `None` when netlink does
/// not answer; the state name otherwise (CLOSED when the kernel has no such socket).
fn sock_diag(flow: &Flow) -> Option<&'static str> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::io::Read;
    let sock =
        Socket::new(Domain::from(libc::AF_NETLINK), Type::DGRAM, Some(Protocol::from(NETLINK_SOCK_DIAG))).ok()?;
    sock.set_read_timeout(Some(std::time::Duration::from_millis(200))).ok()?;
    let req = request(flow);
    sock.send(&req).ok()?;
    let mut buf = [0u8; 8192];
    let n = (&sock).read(&mut buf).ok()?;
    answer(buf.get(..n)?)
}

/// A sock_diag request (`nlmsghdr` + `inet_diag_req_v2`) for the socket whose local end is `flow.remote` and
/// whose remote end is `flow.local`.
fn request(flow: &Flow) -> Vec<u8> {
    let family = if flow.remote.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 } as u8;
    let addr = |ip: IpAddr| -> [u8; 16] {
        match ip {
            IpAddr::V4(a) => {
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&a.octets());
                b
            }
            IpAddr::V6(a) => a.octets(),
        }
    };
    let mut r = Vec::with_capacity(72);
    r.extend_from_slice(&72u32.to_ne_bytes()); // nlmsg_len
    r.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    r.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    r.extend_from_slice(&1u32.to_ne_bytes()); // seq
    r.extend_from_slice(&0u32.to_ne_bytes()); // pid
    r.extend_from_slice(&[family, libc::IPPROTO_TCP as u8, 0, 0]);
    r.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    r.extend_from_slice(&flow.remote.port().to_be_bytes()); // the socket's own port
    r.extend_from_slice(&flow.local.port().to_be_bytes()); // its peer's (ours)
    r.extend_from_slice(&addr(flow.remote.ip()));
    r.extend_from_slice(&addr(flow.local.ip()));
    r.extend_from_slice(&0u32.to_ne_bytes()); // any interface
    r.extend_from_slice(&u32::MAX.to_ne_bytes()); // INET_DIAG_NOCOOKIE
    r.extend_from_slice(&u32::MAX.to_ne_bytes());
    r
}

/// The state in the kernel's answer: an `inet_diag_msg` (its second byte is the state), or an error (no socket).
fn answer(msg: &[u8]) -> Option<&'static str> {
    let kind = u16::from_ne_bytes(msg.get(4..6)?.try_into().ok()?);
    if kind == NLMSG_ERROR {
        // -ENOENT: the kernel has no socket for the tuple (not even a listener).
        let errno = i32::from_ne_bytes(msg.get(16..20)?.try_into().ok()?);
        return (errno == -libc::ENOENT).then_some("CLOSED");
    }
    (kind == SOCK_DIAG_BY_FAMILY).then(|| name(*msg.get(17).unwrap_or(&0)))
}

/// Whether `ip` is one of this host's addresses (loopback included): only those can be bound (sends nothing).
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// The state of `flow`'s peer in a `/proc/net/tcp{,6}` table.
fn state_in(table: &str, flow: &Flow) -> &'static str {
    let mut listening = false;
    for line in table.lines().skip(1) {
        let mut cols = line.split_whitespace().skip(1);
        let (Some(local), Some(remote), Some(st)) = (cols.next(), cols.next(), cols.next()) else { continue };
        let (Some(local), Some(remote)) = (endpoint(local), endpoint(remote)) else { continue };
        let Ok(st) = u8::from_str_radix(st, 16) else { continue };
        if local == flow.remote && remote == flow.local {
            return name(st);
        }
        let wildcard = local.ip().is_unspecified() || local.ip() == flow.remote.ip();
        listening |= st == 0x0a && local.port() == flow.remote.port() && wildcard;
    }
    if listening {
        "LISTEN"
    } else {
        "CLOSED"
    }
}

/// RFC 9293's name of a Linux `tcp_states.h` code.
fn name(st: u8) -> &'static str {
    match st {
        0x01 => "ESTABLISHED",
        0x02 => "SYN-SENT",
        0x03 | 0x0c => "SYN-RECEIVED",
        0x04 => "FIN-WAIT-1",
        0x05 => "FIN-WAIT-2",
        0x06 => "TIME-WAIT",
        0x08 => "CLOSE-WAIT",
        0x09 => "LAST-ACK",
        0x0a => "LISTEN",
        0x0b => "CLOSING",
        _ => "CLOSED",
    }
}

/// `0100007F:1F90` (IPv4, the address as the host-order u32 printed in hex) or the 32-digit IPv6 form (four
/// host-order words).
fn endpoint(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(addr, 16).ok()?.swap_bytes())),
        32 => {
            let mut b = [0u8; 16];
            for (i, w) in (0..4).map(|i| &addr[i * 8..i * 8 + 8]).enumerate() {
                let v = u32::from_str_radix(w, 16).ok()?.swap_bytes();
                b[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as a Linux /proc/net/tcp shows them (a listener on 127.0.0.1:8080, a connection to it from
    /// 127.0.0.1:40123, and one in TIME-WAIT).
    const TABLE: &str =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:9CBB 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:9CBC 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0";

    fn flow(sport: u16) -> Flow {
        Flow { local: SocketAddr::from(([127, 0, 0, 1], sport)), remote: SocketAddr::from(([127, 0, 0, 1], 8080)) }
    }

    #[test]
    fn the_kernels_state_of_the_flow_or_its_listener() {
        assert_eq!(state_in(TABLE, &flow(40123)), "ESTABLISHED");
        assert_eq!(state_in(TABLE, &flow(40124)), "TIME-WAIT");
        assert_eq!(state_in(TABLE, &flow(40125)), "LISTEN", "no connection yet: the listener");
        let closed =
            Flow { local: SocketAddr::from(([127, 0, 0, 1], 1)), remote: SocketAddr::from(([127, 0, 0, 1], 9)) };
        assert_eq!(state_in(TABLE, &closed), "CLOSED");
        let one = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80);
        assert_eq!(endpoint("00000000000000000000000001000000:0050"), Some(one));
    }
}
