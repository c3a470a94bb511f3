//! A sweep's results as text for other programs: CSV (the CLI's `--csv` and the GUI's export write the same), and
//! port lists folded into ranges (`1-1024,8080`) for the ports of one verdict, such as those never probed.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{PortResult, Verdict};

/// The results as CSV: a `host,port,verdict,reply,ttl` header, then one line per target with the verdict's word
/// ([`Verdict::as_str`]), so a stopped sweep's `waiting` and `not_probed` ports are named. A reply that holds a
/// comma or a quote is quoted.
pub fn csv(results: &[PortResult]) -> String {
    let mut out = String::from("host,port,verdict,reply,ttl\n");
    for r in results {
        let reply = if r.reply.contains([',', '"', '\n']) {
            format!("\"{}\"", r.reply.replace('"', "\"\""))
        } else {
            r.reply.clone()
        };
        let ttl = r.ttl.map(|t| t.to_string()).unwrap_or_default();
        let _ = writeln!(out, "{},{},{},{reply},{ttl}", r.host, r.port, r.verdict.as_str());
    }
    out
}

/// The ports of each host whose verdict is `v`, folded into ranges (`30785-65535`, `22,80-81`); hosts without such
/// ports are left out.
pub fn port_ranges(results: &[PortResult], v: Verdict) -> Vec<(IpAddr, String)> {
    let mut out: Vec<(IpAddr, Vec<(u16, u16)>)> = Vec::new();
    for r in results.iter().filter(|r| r.verdict == v) {
        match out.last_mut() {
            Some((host, ranges)) if *host == r.host => match ranges.last_mut() {
                Some((_, hi)) if hi.checked_add(1) == Some(r.port) => *hi = r.port,
                _ => ranges.push((r.port, r.port)),
            },
            _ => out.push((r.host, vec![(r.port, r.port)])),
        }
    }
    out.into_iter()
        .map(|(host, ranges)| {
            let text: Vec<String> =
                ranges.iter().map(|&(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") }).collect();
            (host, text.join(","))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(host: &str, port: u16, verdict: Verdict, reply: &str) -> PortResult {
        PortResult {
            host: host.parse().unwrap(),
            port,
            verdict,
            reply: reply.into(),
            ttl: None,
            forged_hops: None,
            host_hops: None,
        }
    }

    #[test]
    fn ranges_fold_per_host() {
        let a = "192.0.2.10";
        let b = "192.0.2.11";
        let results = vec![
            r(a, 1, Verdict::NotProbed, ""),
            r(a, 2, Verdict::NotProbed, ""),
            r(a, 3, Verdict::Open, "SA"),
            r(a, 4, Verdict::NotProbed, ""),
            r(a, 65535, Verdict::NotProbed, ""),
            r(b, 1, Verdict::NotProbed, ""),
        ];
        let got = port_ranges(&results, Verdict::NotProbed);
        assert_eq!(got, vec![(a.parse().unwrap(), "1-2,4,65535".into()), (b.parse().unwrap(), "1".into())]);
        assert!(port_ranges(&results, Verdict::Filtered).is_empty());
    }

    #[test]
    fn csv_names_every_verdict_and_quotes_commas() {
        let results = vec![
            r("192.0.2.10", 80, Verdict::Open, "SA"),
            r("192.0.2.10", 81, Verdict::Unreachable, "icmp 3/3 port unreachable, say"),
            r("192.0.2.10", 82, Verdict::Waiting, ""),
            r("192.0.2.10", 83, Verdict::NotProbed, ""),
        ];
        let text = csv(&results);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "host,port,verdict,reply,ttl");
        assert_eq!(lines[2], "192.0.2.10,81,unreachable,\"icmp 3/3 port unreachable, say\",");
        assert_eq!(&lines[3..], ["192.0.2.10,82,waiting,,", "192.0.2.10,83,not_probed,,"]);
    }
}
