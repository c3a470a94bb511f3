//! The kernel's own TCP state for a flow whose peer is a socket on this host (in this network namespace), read
//! from `/proc/net/tcp` and `/proc/net/tcp6` as `netstat` does: the socket whose local end is the flow's remote end
//! and whose remote end is ours; else LISTEN when a listener holds the port, else CLOSED.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::Flow;

/// The largest table read (a busy host's /proc/net/tcp can be long; this is plenty for a lab).
const MAX_TABLE: u64 = 16 * 1024 * 1024;

/// The peer's state by RFC 9293's name, when the peer is a socket of this host; `None` when it is not.
pub fn peer_state(flow: &Flow) -> Option<&'static str> {
    if !is_local(flow.remote.ip()) {
        return None;
    }
    let file = if flow.remote.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
    let table = crate::fsio::read_bounded(std::path::Path::new(file), MAX_TABLE, "the kernel's TCP table").ok()?;
    Some(state_in(&String::from_utf8_lossy(&table), flow))
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
