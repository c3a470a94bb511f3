//! What a sweep covers: the port list (`1-1024,8080`) and the hosts (addresses and CIDR blocks), with the same
//! refusals as the helper's ([`policy::check_target`]) and a confirmation above [`CONFIRM_ABOVE`] addresses.

use std::net::IpAddr;

use super::{SweepError, CONFIRM_ABOVE};
use crate::link::helper::policy;

/// The largest single CIDR block accepted, even with confirmation (a /8).
const MAX_BLOCK: u128 = 1 << 24;

/// Parses `1-1024,8080` into a sorted, de-duplicated port list.
pub fn parse_ports(s: &str) -> Result<Vec<u16>, SweepError> {
    let err = |m: &str| SweepError::Ports(s.to_string(), m.to_string());
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u16 = a.trim().parse().map_err(|_| err(&format!("'{part}' is not a port or range (1-65535)")))?;
        let b: u16 = b.trim().parse().map_err(|_| err(&format!("'{part}' is not a port or range (1-65535)")))?;
        if a == 0 || a > b {
            return Err(err(&format!("'{part}': ports run from 1 to 65535, low to high")));
        }
        v.extend(a..=b);
    }
    if v.is_empty() {
        return Err(err("no ports given"));
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// Parses `HOST[,HOST..]` where each is an address or CIDR block; refuses what the helper refuses (broadcast,
/// multicast and unspecified addresses, see [`policy::check_target`]), and more than [`CONFIRM_ABOVE`] addresses
/// unless `confirmed`.
pub fn parse_targets(s: &str, confirmed: bool) -> Result<Vec<IpAddr>, SweepError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let net: ipnetwork::IpNetwork =
            part.parse().map_err(|_| SweepError::Refused(part.into(), "not an address or CIDR block".into()))?;
        let size: u128 = match net {
            ipnetwork::IpNetwork::V4(n) => u128::from(n.size()),
            ipnetwork::IpNetwork::V6(n) => n.size(),
        };
        if size + out.len() as u128 > u128::from(CONFIRM_ABOVE) && !confirmed {
            return Err(SweepError::Refused(
                part.into(),
                format!("more than {CONFIRM_ABOVE} addresses; pass --yes if you mean it"),
            ));
        }
        if size > MAX_BLOCK {
            return Err(SweepError::Refused(part.into(), "more than 16,777,216 addresses in one block".into()));
        }
        for ip in net.iter() {
            policy::check_target(ip).map_err(|m| SweepError::Refused(part.into(), m))?;
            out.push(ip);
        }
    }
    if out.is_empty() {
        return Err(SweepError::Refused(s.into(), "no target given".into()));
    }
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_ports("80,22,20-23,80").unwrap(), vec![20, 21, 22, 23, 80]);
        assert_eq!(parse_ports("1-65535").unwrap().len(), 65535);
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("90-80").is_err());
        assert!(parse_ports("http").is_err());
        assert!(parse_ports("70000").is_err());
    }

    #[test]
    fn targets_and_refusals() {
        assert_eq!(parse_targets("127.0.0.1,127.0.0.2", false).unwrap().len(), 2);
        assert_eq!(parse_targets("10.0.0.0/30", false).unwrap().len(), 4);
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "ff02::1", "::", "nonsense"] {
            assert!(matches!(parse_targets(bad, false), Err(SweepError::Refused(..))), "{bad}");
        }
        let why = |t: &str| parse_targets(t, false).unwrap_err().to_string();
        assert!(why("255.255.255.255").contains("broadcast"), "{}", why("255.255.255.255"));
        assert!(why("224.0.0.0/30").contains("multicast"), "{}", why("224.0.0.0/30"));
        assert!(why("0.0.0.0").contains("not a host"), "{}", why("0.0.0.0"));
        assert!(parse_targets("10.0.0.0/15", false).unwrap_err().to_string().contains("--yes"));
        assert_eq!(parse_targets("10.0.0.0/15", true).unwrap().len(), 131_072);
    }
}
