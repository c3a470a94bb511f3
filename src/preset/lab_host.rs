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
    /// The run's seed when none is given on the command line or in the GUI: it fixes both sides' random numbers
    /// (our ISN and source port, the lab host's ISNs). Without one, every run picks a new seed (see
    /// `exchange::seed`). Written `seed: 42`.
    #[serde(deserialize_with = "seed::de", serialize_with = "seed::ser", skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Routers in front of the host, nearest first: router i is hop i + 1, the host is hop n + 1. None by default
    /// (the host is one hop away). Written `routers: [(addr: "192.0.2.254", drop: [8081], reset: [8082])]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routers: Vec<LabRouter>,
}

/// One router in front of the lab host; every field is optional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabRouter {
    /// Its IPv4 address, the source of its ICMP time-exceeded (default 192.0.2.254).
    pub addr: Ipv4Addr,
    /// Its IPv6 address (default 2001:db8::fe).
    pub addr_v6: Ipv6Addr,
    /// TCP destination ports it drops silently (a firewall's `drop`).
    pub drop: Vec<u16>,
    /// TCP destination ports it answers with a reset in the host's name (a firewall's `reject with tcp reset`).
    pub reset: Vec<u16>,
}

impl Default for LabRouter {
    fn default() -> Self {
        LabRouter {
            addr: Ipv4Addr::new(192, 0, 2, 254),
            addr_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xfe),
            drop: Vec::new(),
            reset: Vec::new(),
        }
    }
}

impl Default for LabHost {
    /// 192.0.2.10 and 2001:db8::10 (documentation addresses), ports 22, 80, 443 and 8080 open, 200 µs RTT, no seed.
    fn default() -> Self {
        LabHost {
            host: Ipv4Addr::new(192, 0, 2, 10),
            host_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10),
            open: vec![22, 80, 443, 8080],
            filtered: Vec::new(),
            rtt_us: 200,
            seed: None,
            routers: Vec::new(),
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

/// The seed as a preset writes it: a bare number (`seed: 42`); `Some(42)` and `None` are read too.
mod seed {
    use serde::de::{self, Deserializer, Visitor};
    use serde::Serializer;

    /// Writes a bare number.
    pub fn ser<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_u64(*n),
            None => s.serialize_none(),
        }
    }

    /// Reads a bare number, `Some(n)` or `None`.
    pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_any(SeedVisitor)
    }

    struct SeedVisitor;

    impl<'de> Visitor<'de> for SeedVisitor {
        type Value = Option<u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a seed: a whole number from 0 to 18446744073709551615")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v).map(Some).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed is written as a bare number and read back; `Some(n)` reads too; no seed is left out of the file.
    #[test]
    fn the_seed_is_a_bare_number_and_optional() {
        let lab: LabHost = ron::from_str("(seed: 42)").unwrap();
        assert_eq!(lab.seed, Some(42));
        assert_eq!(ron::from_str::<LabHost>("(seed: Some(7))").unwrap().seed, Some(7));
        assert_eq!(ron::from_str::<LabHost>("(open: [80])").unwrap().seed, None);
        assert!(ron::from_str::<LabHost>("(seed: -1)").is_err());
        assert!(ron::to_string(&lab).unwrap().contains("seed:42"), "{}", ron::to_string(&lab).unwrap());
        assert!(!ron::to_string(&LabHost::default()).unwrap().contains("seed"));
    }

    /// Routers are optional, default to documentation addresses, and a misspelt field is an error.
    #[test]
    fn routers_are_optional_and_checked() {
        assert!(LabHost::default().routers.is_empty());
        assert!(!ron::to_string(&LabHost::default()).unwrap().contains("routers"));
        let lab: LabHost =
            ron::from_str(r#"(routers: [(drop: [8081]), (addr: "198.51.100.1", reset: [8082])])"#).unwrap();
        assert_eq!(lab.routers[0], LabRouter { drop: vec![8081], ..LabRouter::default() });
        assert_eq!(lab.routers[1].addr, Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(lab.routers[1].reset, vec![8082]);
        assert!(ron::from_str::<LabHost>("(routers: [(dorp: [1])])").is_err());
    }
}
