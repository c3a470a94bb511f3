//! Which interface a destination is reached on, and which source address the system would use: from the
//! routing table (`ip route get` on Linux) or the interface list elsewhere. Host names are resolved here.

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

/// The route to `dst`, or through `iface` when one is forced.
pub fn route_to(dst: IpAddr, iface: Option<&str>) -> Result<Route, LinkError> {
    imp::route_to(dst, iface)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::net::IpAddr;
    use std::process::Command;

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

    /// `ip -o route get DST [oif IFACE]`, reading its `dev` and `src` words.
    pub fn route_to(dst: IpAddr, iface: Option<&str>) -> Result<Route, LinkError> {
        let mut cmd = Command::new("ip");
        if dst.is_ipv6() {
            cmd.arg("-6");
        }
        cmd.args(["-o", "route", "get", &dst.to_string()]);
        if let Some(i) = iface {
            cmd.args(["oif", i]);
        }
        let out = cmd.output().map_err(|e| LinkError::Io { op: "run `ip route get` (install iproute2)", source: e })?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(LinkError::Target { target: dst.to_string(), reason: format!("no route ({err})") });
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let after = |key: &str| words.windows(2).find(|w| w[0] == key).map(|w| w[1].to_string());
        let dev = after("dev")
            .or_else(|| iface.map(str::to_string))
            .ok_or_else(|| LinkError::Target { target: dst.to_string(), reason: "route names no interface".into() })?;
        let src =
            after("src").and_then(|s| s.parse().ok()).or_else(|| iface_addr(&dev, dst.is_ipv6())).ok_or_else(|| {
                LinkError::Interface { name: dev.clone(), reason: "has no address of this family".into() }
            })?;
        Ok(Route { iface: dev, src })
    }
}

#[cfg(not(target_os = "linux"))]
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
        let src =
            if dst.is_loopback() {
                dst
            } else {
                chosen.ips.iter().map(|n| n.ip()).find(|ip| ip.is_ipv6() == dst.is_ipv6()).ok_or_else(|| {
                    LinkError::Interface { name: chosen.name.clone(), reason: "has no address".into() }
                })?
            };
        Ok(Route { iface: chosen.name.clone(), src })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_without_lookup() {
        assert_eq!(resolve("127.0.0.1", false).unwrap(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(resolve("[::1]", true).unwrap(), "::1".parse::<IpAddr>().unwrap());
    }
}
