//! The preset's own lab-host section (`sim: (...)`): how the simulated lab host behaves for this preset. The
//! exchange turns it into the simulated link's settings; the preset layer knows nothing of links.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// Settings of the simulated lab host for one preset; every field is optional, and a misspelt one is an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabHost {
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
    /// Seed of the host's random numbers (its ISNs).
    pub seed: u64,
}

impl Default for LabHost {
    /// 192.0.2.10 and 2001:db8::10 (documentation addresses), ports 22, 80, 443 and 8080 open, 200 µs RTT.
    fn default() -> Self {
        LabHost {
            host: Ipv4Addr::new(192, 0, 2, 10),
            host_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10),
            open: vec![22, 80, 443, 8080],
            filtered: Vec::new(),
            rtt_us: 200,
            seed: 0x7463_7266,
        }
    }
}

impl LabHost {
    /// Whether `a` is one of the lab host's addresses.
    pub fn is_host(&self, a: IpAddr) -> bool {
        a == IpAddr::V4(self.host) || a == IpAddr::V6(self.host_v6)
    }

    /// The lab host's IPv4 address as an [`IpAddr`] (where a run goes when no target is given).
    pub fn addr(&self) -> IpAddr {
        IpAddr::V4(self.host)
    }
}
