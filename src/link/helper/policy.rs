//! What the helper accepts: every request is checked as untrusted input before anything touches a socket.
//! Destinations must be unicast addresses declared at `Open`, datagrams must be well-sized IP with one of those
//! destinations, waits and batches are bounded, and sending is paced to the declared rate.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::protocol::{Bytes, Mode};
use crate::link::{Flow, Micros};

/// Most destinations one session may declare (a /20 sweep).
pub const MAX_TARGETS: usize = 4096;
/// Highest sending rate a session may ask for, in datagrams per second.
pub const MAX_PPS: u32 = 200_000;
/// Most datagrams in one `send_batch`.
pub const MAX_BATCH: usize = 1024;
/// Longest `recv` or `drain` wait.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A session's declared limits, fixed at `Open`.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Flow or probes.
    pub mode: Mode,
    targets: Vec<IpAddr>,
    pacer: Pacer,
}

/// Why a request is refused.
pub type Verdict = Result<(), String>;

/// A unicast address we may send to: not unspecified, multicast or broadcast.
pub fn check_target(a: IpAddr) -> Verdict {
    let bad = match a {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_multicast(),
    };
    if bad {
        Err(format!("{a} is not a unicast address"))
    } else {
        Ok(())
    }
}

/// An interface name as the kernel allows it: 1 to 15 characters of `[A-Za-z0-9._:@-]`.
pub fn check_iface(name: &str) -> Verdict {
    let ok = (1..=15).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not an interface name"))
    }
}

/// The destination of an IP datagram, with its version and length checked.
pub fn destination(d: &[u8]) -> Result<IpAddr, String> {
    if d.len() > usize::from(u16::MAX) + 40 {
        return Err(format!("datagram of {} bytes is longer than IP allows", d.len()));
    }
    match d.first().map(|b| b >> 4) {
        Some(4) if d.len() >= 20 => Ok(IpAddr::from([d[16], d[17], d[18], d[19]])),
        Some(6) if d.len() >= 40 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&d[24..40]);
            Ok(IpAddr::from(a))
        }
        Some(v @ (4 | 6)) => Err(format!("IPv{v} datagram of {} bytes is shorter than its header", d.len())),
        Some(v) => Err(format!("IP version {v}: only 4 and 6 can be sent")),
        None => Err("empty datagram".into()),
    }
}

impl Policy {
    /// Checks an `Open` request and makes the session's policy from it.
    pub fn open(mode: Mode, targets: &[IpAddr], iface: Option<&str>, max_pps: u32) -> Result<Policy, String> {
        if targets.is_empty() || targets.len() > MAX_TARGETS {
            return Err(format!("between 1 and {MAX_TARGETS} targets, not {}", targets.len()));
        }
        targets.iter().try_for_each(|&t| check_target(t))?;
        if let Some(i) = iface {
            check_iface(i)?;
        }
        if max_pps == 0 || max_pps > MAX_PPS {
            return Err(format!("max_pps must be 1..={MAX_PPS}, not {max_pps}"));
        }
        let mut targets = targets.to_vec();
        targets.sort_unstable();
        targets.dedup();
        Ok(Policy { mode, targets, pacer: Pacer::new(max_pps) })
    }

    fn needs(&self, mode: Mode, op: &str) -> Verdict {
        if self.mode == mode {
            Ok(())
        } else {
            Err(format!("{op} is not available in {:?} mode", self.mode).to_lowercase())
        }
    }

    fn allowed(&self, a: IpAddr) -> Verdict {
        if self.targets.binary_search(&a).is_ok() {
            Ok(())
        } else {
            Err(format!("{a} is not one of the session's targets"))
        }
    }

    /// Checks a `Watch`: flow mode, towards a declared target.
    pub fn watch(&self, flow: &Flow) -> Verdict {
        self.needs(Mode::Flow, "watch")?;
        self.allowed(flow.remote.ip())
    }

    /// Checks one datagram to send.
    pub fn datagram(&self, d: &[u8]) -> Verdict {
        self.allowed(destination(d)?)
    }

    /// Checks a `SendBatch`.
    pub fn batch(&self, ds: &[Bytes]) -> Verdict {
        self.needs(Mode::Probes, "send_batch")?;
        if ds.len() > MAX_BATCH {
            return Err(format!("at most {MAX_BATCH} datagrams per batch, not {}", ds.len()));
        }
        ds.iter().try_for_each(|d| self.datagram(&d.0))
    }

    /// Checks a `Recv` deadline against the link clock now.
    pub fn recv(&self, deadline: Micros, now: Micros) -> Verdict {
        self.needs(Mode::Flow, "recv")?;
        let max = u64::try_from(MAX_WAIT.as_micros()).unwrap_or(u64::MAX);
        if deadline.saturating_sub(now) > max {
            return Err(format!("recv waits at most {} s", MAX_WAIT.as_secs()));
        }
        Ok(())
    }

    /// Checks a `Drain` wait.
    pub fn drain(&self, wait_ms: u32) -> Verdict {
        self.needs(Mode::Probes, "drain")?;
        if Duration::from_millis(u64::from(wait_ms)) > MAX_WAIT {
            return Err(format!("drain waits at most {} s", MAX_WAIT.as_secs()));
        }
        Ok(())
    }

    /// How long to wait before sending `n` more datagrams, to stay within the declared rate.
    pub fn pace(&mut self, n: usize, now: Instant) -> Duration {
        self.pacer.take(n, now)
    }
}

/// A token bucket of one second's worth of datagrams.
#[derive(Clone, Debug)]
struct Pacer {
    pps: f64,
    tokens: f64,
    at: Option<Instant>,
}

impl Pacer {
    fn new(pps: u32) -> Pacer {
        Pacer { pps: f64::from(pps), tokens: f64::from(pps), at: None }
    }

    fn take(&mut self, n: usize, now: Instant) -> Duration {
        let elapsed = self.at.map_or(0.0, |at| now.saturating_duration_since(at).as_secs_f64());
        self.at = Some(now);
        self.tokens = (self.tokens + elapsed * self.pps).min(self.pps) - n as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.pps)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(dst: [u8; 4], len: usize) -> Vec<u8> {
        let mut d = vec![0u8; len];
        d[0] = 0x45;
        d[16..20].copy_from_slice(&dst);
        d
    }

    fn policy(mode: Mode) -> Policy {
        Policy::open(mode, &["127.0.0.1".parse().unwrap()], Some("lo"), 1000).unwrap()
    }

    #[test]
    fn open_refuses_bad_targets_rates_and_names() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for t in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "ff02::1", "::"] {
            assert!(Policy::open(Mode::Flow, &[t.parse().unwrap()], None, 10).is_err(), "{t}");
        }
        assert!(Policy::open(Mode::Flow, &[], None, 10).is_err());
        assert!(Policy::open(Mode::Flow, &vec![lo; MAX_TARGETS + 1], None, 10).is_err());
        assert!(Policy::open(Mode::Flow, &[lo], None, 0).is_err());
        assert!(Policy::open(Mode::Flow, &[lo], None, MAX_PPS + 1).is_err());
        for name in ["", "a-very-long-interface-name", "lo; rm -rf /", "eth0\n"] {
            assert!(Policy::open(Mode::Flow, &[lo], Some(name), 10).is_err(), "{name:?}");
        }
        assert!(Policy::open(Mode::Flow, &[lo], Some("veth-a.10"), MAX_PPS).is_ok());
    }

    #[test]
    fn datagrams_go_only_to_declared_targets() {
        let p = policy(Mode::Flow);
        assert!(p.datagram(&v4([127, 0, 0, 1], 40)).is_ok());
        let other = p.datagram(&v4([10, 0, 0, 1], 40)).unwrap_err();
        assert!(other.contains("10.0.0.1 is not one of the session's targets"), "{other}");
        assert!(p.datagram(&v4([127, 0, 0, 1], 20)[..19]).is_err(), "shorter than the header");
        assert!(p.datagram(&[0x65; 60]).is_err(), "version 6 needs 40 bytes of header, and ::1 is not declared");
        assert!(p.datagram(&[0x15; 60]).unwrap_err().contains("IP version 1"));
        assert!(p.datagram(&[]).is_err());
        assert!(p.datagram(&v4([127, 0, 0, 1], 70_000)).is_err(), "too long");
    }

    #[test]
    fn modes_waits_and_batches_are_enforced() {
        let f = policy(Mode::Flow);
        let flow = Flow { local: "127.0.0.1:1".parse().unwrap(), remote: "127.0.0.1:80".parse().unwrap() };
        assert!(f.watch(&flow).is_ok());
        assert!(f.watch(&Flow { remote: "127.0.0.2:80".parse().unwrap(), ..flow }).is_err());
        assert!(f.recv(1_000_000, 0).is_ok());
        assert!(f.recv(61_000_000, 0).is_err());
        assert!(f.drain(1).is_err(), "drain is a probe-mode request");
        let p = policy(Mode::Probes);
        assert!(p.watch(&flow).is_err());
        assert!(p.drain(10_000).is_ok() && p.drain(61_000).is_err());
        let one = Bytes(v4([127, 0, 0, 1], 40));
        assert!(p.batch(&vec![one.clone(); MAX_BATCH]).is_ok());
        assert!(p.batch(&vec![one; MAX_BATCH + 1]).is_err());
    }

    #[test]
    fn pacing_holds_the_declared_rate() {
        let mut p = policy(Mode::Probes);
        let t0 = Instant::now();
        assert_eq!(p.pace(1000, t0), Duration::ZERO, "one second's burst is free");
        let wait = p.pace(500, t0);
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert_eq!(p.pace(0, t0 + Duration::from_secs(2)), Duration::ZERO, "refilled");
    }
}
