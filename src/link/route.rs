//! Which interface a destination is reached on, and which source address the system would use: from the
//! routing table (a connected UDP socket on Linux, no program run) or the interface list elsewhere (on Windows the
//! system's, named as Npcap opens them, with no Npcap needed). Host names are resolved here.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use super::LinkError;

/// Where datagrams to one destination go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Interface name, e.g. `lo`, `eth0`, `en0`.
    pub iface: String,
    /// The source address the system would pick.
    pub src: IpAddr,
}

/// Resolves `host` (an IP literal or a name) to one address, preferring IPv4 unless `v6` is asked for.
pub fn resolve(host: &str, v6: bool) -> Result<IpAddr, LinkError> {
    if let Ok(ip) = host.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
        return Ok(ip);
    }
    let addrs: Vec<SocketAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| LinkError::Target { target: host.into(), reason: format!("cannot resolve: {e}") })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv6() == v6)
        .or(addrs.first())
        .map(|a| a.ip())
        .ok_or_else(|| LinkError::Target { target: host.into(), reason: "resolves to no address".into() })
}

/// Splits `host`, `host:port`, `[v6]:port` or a bare IPv6 address into the host and the port, if one is given.
/// Nothing is resolved; a malformed target or port is a [`LinkError::Target`].
pub fn split_target(t: &str) -> Result<(String, Option<u16>), LinkError> {
    let bad = |reason: String| LinkError::Target { target: t.to_string(), reason };
    let port = |p: &str| p.parse::<u16>().map_err(|_| bad(format!("'{p}' is not a port (0-65535)")));
    if let Some(rest) = t.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or_else(|| bad("missing ']'".into()))?;
        let p = match tail.strip_prefix(':') {
            Some(p) => Some(port(p)?),
            None if tail.is_empty() => None,
            None => return Err(bad(format!("unexpected '{tail}' after ']'"))),
        };
        return Ok((host.to_string(), p));
    }
    if t.parse::<IpAddr>().is_ok() || t.matches(':').count() > 1 {
        return Ok((t.to_string(), None));
    }
    match t.split_once(':') {
        Some((h, p)) => Ok((h.to_string(), Some(port(p)?))),
        None => Ok((t.to_string(), None)),
    }
}

/// The route to `dst`, or through `iface` when one is forced.
pub fn route_to(dst: IpAddr, iface: Option<&str>) -> Result<Route, LinkError> {
    imp::route_to(dst, iface)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::net::{IpAddr, SocketAddr};

    use socket2::{Domain, Socket, Type};

    use super::{LinkError, Route};

    /// An address of the interface, from the system's interface list.
    fn iface_addr(name: &str, v6: bool) -> Option<IpAddr> {
        pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == name)?
            .ips
            .into_iter()
            .map(|n| n.ip())
            .find(|ip| ip.is_ipv6() == v6)
    }

    /// The interface holding `src`: one with exactly that address, else one whose network contains it (`lo`'s
    /// 127.0.0.0/8).
    fn iface_of(src: IpAddr) -> Option<String> {
        let all = pnet_datalink::interfaces();
        all.iter()
            .find(|i| i.ips.iter().any(|n| n.ip() == src))
            .or_else(|| all.iter().find(|i| i.ips.iter().any(|n| n.contains(src))))
            .map(|i| i.name.clone())
    }

    /// Asks the kernel's routing table, without running any program: a UDP socket connected to `dst` (which
    /// sends nothing) learns the source address the kernel picks; the interface is the one holding it. A forced
    /// interface binds the socket to it first.
    pub fn route_to(dst: IpAddr, iface: Option<&str>) -> Result<Route, LinkError> {
        let io = |op: &'static str| move |source| LinkError::Io { op, source };
        let sock = Socket::new(Domain::for_address(SocketAddr::new(dst, 0)), Type::DGRAM, None)
            .map_err(io("open a socket for the route lookup"))?;
        if let Some(i) = iface {
            if pnet_datalink::interfaces().iter().all(|n| n.name != i) {
                return Err(LinkError::Interface { name: i.into(), reason: "no such interface".into() });
            }
            if sock.bind_device(Some(i.as_bytes())).is_err() {
                // Binding to a device needed CAP_NET_RAW before Linux 5.7: take the interface's own address.
                let src = iface_addr(i, dst.is_ipv6()).ok_or_else(|| LinkError::Interface {
                    name: i.into(),
                    reason: "has no address of this family".into(),
                })?;
                return Ok(Route { iface: i.into(), src });
            }
        }
        sock.connect(&SocketAddr::new(dst, 9).into())
            .map_err(|e| LinkError::Target { target: dst.to_string(), reason: format!("no route ({e})") })?;
        let src = sock
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|a| a.ip())
            .ok_or_else(|| LinkError::Target { target: dst.to_string(), reason: "no source address".into() })?;
        let dev = iface.map(str::to_string).or_else(|| iface_of(src)).ok_or_else(|| LinkError::Target {
            target: dst.to_string(),
            reason: format!("no interface holds the source address {src}"),
        })?;
        Ok(Route { iface: dev, src })
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
mod imp {
    use std::net::IpAddr;

    use super::{LinkError, Route};

    /// The interface whose network contains `dst`, else the first running non-loopback one of its family.
    pub fn route_to(dst: IpAddr, iface: Option<&str>) -> Result<Route, LinkError> {
        let all = pnet_datalink::interfaces();
        let fits = |i: &&pnet_datalink::NetworkInterface| iface.is_none_or(|n| n == i.name);
        let chosen = all
            .iter()
            .filter(fits)
            .find(|i| i.ips.iter().any(|n| n.contains(dst)))
            .or_else(|| {
                all.iter()
                    .filter(fits)
                    .find(|i| i.is_up() && !i.is_loopback() && i.ips.iter().any(|n| n.ip().is_ipv6() == dst.is_ipv6()))
            })
            .ok_or_else(|| LinkError::Target { target: dst.to_string(), reason: "no interface reaches it".into() })?;
        let src = super::source_address(dst, &chosen.name, chosen.ips.iter().map(|n| n.ip()))?;
        Ok(Route { iface: chosen.name.clone(), src })
    }
}

/// Our address towards `dst` on interface `name` (whose addresses are `ips`): `dst` itself for loopback, else
/// the interface's first address of `dst`'s family.
#[cfg(not(target_os = "linux"))]
fn source_address(dst: IpAddr, name: &str, mut ips: impl Iterator<Item = IpAddr>) -> Result<IpAddr, LinkError> {
    if dst.is_loopback() {
        return Ok(dst);
    }
    ips.find(|ip| ip.is_ipv6() == dst.is_ipv6())
        .ok_or_else(|| LinkError::Interface { name: name.to_owned(), reason: "has no address".into() })
}

/// Windows: interfaces from the system (no Npcap needed), named as Npcap opens them (`\Device\NPF_{GUID}`).
#[cfg(windows)]
mod imp {
    use std::net::IpAddr;

    use super::{LinkError, Route};
    use crate::link::raw::l2::Iface;
    use crate::link::raw::npcap;

    /// Every interface the system lists.
    pub fn all() -> Vec<Iface> {
        npcap::system_interfaces().into_iter().map(|(i, _)| i).collect()
    }

    /// The interface whose network contains `dst`, else the running non-loopback one with a gateway (the default
    /// route's), else the first with an address of `dst`'s family. A forced interface may be given by its Npcap
    /// name, its GUID or its friendly name ("Ethernet").
    pub fn route_to(dst: IpAddr, iface: Option<&str>) -> Result<Route, LinkError> {
        let all: Vec<(Iface, netdev::Interface)> = npcap::system_interfaces()
            .into_iter()
            .filter(|(i, s)| iface.is_none_or(|n| npcap::names(i, s, n)))
            .collect();
        if let (Some(n), true) = (iface, all.is_empty()) {
            return Err(LinkError::Interface { name: n.into(), reason: "no such interface".into() });
        }
        let family = |i: &Iface| i.ips.iter().any(|n| n.ip().is_ipv6() == dst.is_ipv6());
        let chosen = all
            .iter()
            .find(|(i, _)| i.ips.iter().any(|n| n.contains(dst)))
            .or_else(|| all.iter().find(|(i, s)| s.is_up() && !i.loopback && i.gateway.is_some() && family(i)))
            .or_else(|| all.iter().find(|(i, _)| !i.loopback && family(i)))
            .map(|(i, _)| i)
            .ok_or_else(|| LinkError::Target { target: dst.to_string(), reason: "no interface reaches it".into() })?;
        let src = super::source_address(dst, &chosen.name, chosen.ips.iter().map(|n| n.ip()))?;
        Ok(Route { iface: chosen.name.clone(), src })
    }
}

/// The addresses of interface `name` (empty when there is no such interface).
#[cfg(not(windows))]
pub fn iface_addrs(name: &str) -> Vec<IpAddr> {
    pnet_datalink::interfaces()
        .into_iter()
        .filter(|i| i.name == name)
        .flat_map(|i| i.ips.into_iter().map(|n| n.ip()))
        .collect()
}

/// The addresses of interface `name` (empty when there is no such interface).
#[cfg(windows)]
pub fn iface_addrs(name: &str) -> Vec<IpAddr> {
    crate::link::raw::l2::interface(name).map(|i| i.ips.iter().map(|n| n.ip()).collect()).unwrap_or_default()
}

/// Every local network, from the system's interface list.
#[cfg(not(windows))]
fn local_networks() -> Vec<ipnetwork::IpNetwork> {
    pnet_datalink::interfaces().into_iter().flat_map(|i| i.ips).collect()
}

/// Every local network, from the system's interface list.
#[cfg(windows)]
fn local_networks() -> Vec<ipnetwork::IpNetwork> {
    imp::all().into_iter().flat_map(|i| i.ips).collect()
}

/// The directed broadcast address of every local IPv4 subnet (prefixes shorter than /31), `lo`'s
/// 127.255.255.255 included.
pub fn local_broadcasts() -> Vec<IpAddr> {
    local_networks()
        .into_iter()
        .filter_map(|n| match n {
            ipnetwork::IpNetwork::V4(v4) if v4.prefix() < 31 => Some(IpAddr::V4(v4.broadcast())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_into_host_and_port() {
        assert_eq!(split_target("127.0.0.1:8080").unwrap(), ("127.0.0.1".into(), Some(8080)));
        assert_eq!(split_target("127.0.0.1").unwrap(), ("127.0.0.1".into(), None));
        assert_eq!(split_target("::1").unwrap(), ("::1".into(), None));
        assert_eq!(split_target("[::1]:22").unwrap(), ("::1".into(), Some(22)));
        assert_eq!(split_target("host:80").unwrap(), ("host".into(), Some(80)));
        assert_eq!(split_target("").unwrap(), (String::new(), None));
        for bad in ["host:99999", "[::1", "[::1]x", "[::1]:http"] {
            assert!(matches!(split_target(bad), Err(LinkError::Target { .. })), "{bad}");
        }
        assert!(split_target("host:99999").unwrap_err().to_string().contains("'99999' is not a port"));
    }

    #[test]
    fn literals_resolve_without_lookup() {
        assert_eq!(resolve("127.0.0.1", false).unwrap(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(resolve("[::1]", true).unwrap(), "::1".parse::<IpAddr>().unwrap());
    }
}
