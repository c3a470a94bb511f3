//! What a sweep covers: the port list (`1-1024,8080`) and the hosts (addresses and CIDR blocks), with the same
//! refusals as the helper's ([`policy::check_target`]) and its limit on addresses ([`super::plan::check_targets`]).

use std::net::IpAddr;

use super::{plan, SweepError};
use crate::link::helper::policy;

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
/// multicast and unspecified addresses, see [`policy::check_target`]), and more than
/// [`crate::limits::MAX_TARGETS`] addresses in all (counted before any block is listed).
pub fn parse_targets(s: &str) -> Result<Vec<IpAddr>, SweepError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let net: ipnetwork::IpNetwork =
            part.parse().map_err(|_| SweepError::Refused(part.into(), "not an address or CIDR block".into()))?;
        // Counted from the prefix (ipnetwork's own `size` overflows on `::/0`): 2^128 saturates.
        let host_bits = if net.is_ipv4() { 32 } else { 128 } - u32::from(net.prefix());
        let size = 2u128.checked_pow(host_bits).unwrap_or(u128::MAX);
        plan::check_targets(size.saturating_add(out.len() as u128))?;
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
        assert_eq!(parse_targets("127.0.0.1,127.0.0.2").unwrap().len(), 2);
        assert_eq!(parse_targets("10.0.0.0/30").unwrap().len(), 4);
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "ff02::1", "::", "nonsense"] {
            assert!(matches!(parse_targets(bad), Err(SweepError::Refused(..))), "{bad}");
        }
        let why = |t: &str| parse_targets(t).unwrap_err().to_string();
        assert!(why("255.255.255.255").contains("broadcast"), "{}", why("255.255.255.255"));
        assert!(why("224.0.0.0/30").contains("multicast"), "{}", why("224.0.0.0/30"));
        assert!(why("0.0.0.0").contains("not a host"), "{}", why("0.0.0.0"));
        assert_eq!(parse_targets("10.0.0.0/20").unwrap().len(), 4096);
        for (many, count) in [("10.0.0.0/19", "8192"), ("10.0.0.0/20,10.1.0.0", "4097"), ("::/0", "2^128")] {
            let e = parse_targets(many).unwrap_err();
            assert!(matches!(e, SweepError::Limit { flag: "--target", .. }), "{many}: {e}");
            assert!(e.to_string().contains("4096"), "{e}");
            if count != "2^128" {
                assert!(e.to_string().contains(count), "{e}");
            }
        }
    }
}
