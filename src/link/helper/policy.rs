//! What the helper accepts: every request is checked as untrusted input before anything touches a socket.
//! Destinations must be unicast addresses declared at `Open` (no local subnet's broadcast), datagrams must be
//! well-sized IP carrying TCP to one of those destinations, from one of our own addresses (unless root's
//! configuration allows spoofing) and from a source port this session owns. Waits and batches are bounded, and
//! sending is paced to the declared rate.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::protocol::{Bytes, Mode, Refusal};
use crate::link::{Flow, Micros};
use crate::wire::field::{self, ipv4, ipv6, ipv6_ext, tcp};
use crate::wire::parse::PROTO_TCP;

/// Most destinations one session may declare (a /20 sweep), and the highest sending rate a session may ask for
/// (datagrams per second): the numbers of [`crate::limits`], which the CLI and the GUI check before asking.
pub use crate::limits::{MAX_PPS, MAX_TARGETS};
/// Most datagrams in one `send_batch`.
pub const MAX_BATCH: usize = 1024;
/// Longest `recv` or `drain` wait.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Most local ports one session may own (flows watched, or probe source ports).
pub const MAX_PORTS: usize = 64;

/// A session's declared limits, fixed at `Open`, and what it has proved it owns since.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Flow or probes.
    pub mode: Mode,
    targets: Vec<IpAddr>,
    pacer: Pacer,
    /// Our addresses: those of the route's interface (empty until the link is open).
    own: Vec<IpAddr>,
    /// Root's configuration lets this helper send from any source address.
    spoof: bool,
    /// Local address and port pairs this session holds bound.
    owned: Vec<SocketAddr>,
}

/// Where a TCP datagram says it goes: addresses and ports as the receiver will read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuple {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
}

/// Why a request is refused.
pub type Verdict = Result<(), String>;

/// A unicast address we may send to: not unspecified, multicast or broadcast. The helper checks every declared
/// target with it, and the sweep every address it parses, so both refuse the same addresses for the same reason.
pub fn check_target(a: IpAddr) -> Verdict {
    let why = match a {
        IpAddr::V4(v4) if v4.is_unspecified() => "the unspecified address is not a host",
        IpAddr::V4(v4) if v4.is_broadcast() => "the broadcast address is refused",
        IpAddr::V4(v4) if v4.is_multicast() => "multicast addresses are refused",
        IpAddr::V6(v6) if v6.is_unspecified() => "the unspecified address is not a host",
        IpAddr::V6(v6) if v6.is_multicast() => "multicast addresses are refused",
        _ => return Ok(()),
    };
    Err(format!("{a} is not a unicast address: {why}"))
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
    let short = |v: u8| format!("IPv{v} datagram of {} bytes is shorter than its header", d.len());
    match d.first().map(|b| b >> 4) {
        Some(4) => field::get_4(d, ipv4::DST).map(IpAddr::from).ok_or_else(|| short(4)),
        Some(6) => field::get_16(d, ipv6::DST).map(IpAddr::from).ok_or_else(|| short(6)),
        Some(v) => Err(format!("IP version {v}: only 4 and 6 can be sent")),
        None => Err("empty datagram".into()),
    }
}

/// The addresses and ports of a TCP datagram, or why it may not go through the helper: only TCP (IPv4
/// protocol 6, IPv6 next header 6 after any extension headers), no fragment without ports, and the ports where
/// the receiver will look for them.
pub fn tcp_tuple(d: &[u8]) -> Result<Tuple, String> {
    let dst = destination(d)?;
    let too_short = || format!("a datagram of {} bytes ends before its TCP ports", d.len());
    // `destination` checked that the fixed header is all there.
    let header = || format!("a datagram of {} bytes ends inside its IP header", d.len());
    let (src, at) = if dst.is_ipv4() {
        let ihl = usize::from(d[ipv4::VER_IHL] & 0x0f) * 4;
        if ihl < ipv4::HEADER_LEN {
            return Err(format!("IPv4 header length {ihl} is below {} bytes", ipv4::HEADER_LEN));
        }
        if d[ipv4::PROTOCOL] != PROTO_TCP {
            return Err(format!("IP protocol {}: only TCP (6) goes through tcpcraft-link", d[ipv4::PROTOCOL]));
        }
        if field::get_u16(d, ipv4::FRAG).ok_or_else(header)? & ipv4::FRAG_OFFSET_MASK != 0 {
            return Err("a fragment past the first carries no TCP ports: tcpcraft-link sends whole segments".into());
        }
        (IpAddr::from(field::get_4(d, ipv4::SRC).ok_or_else(header)?), ihl)
    } else {
        (IpAddr::from(field::get_16(d, ipv6::SRC).ok_or_else(header)?), ipv6_tcp_offset(d)?)
    };
    let sport = field::get_u16(d, field::at(at, tcp::SRC_PORT)).ok_or_else(too_short)?;
    let dport = field::get_u16(d, field::at(at, tcp::DST_PORT)).ok_or_else(too_short)?;
    Ok(Tuple { src: SocketAddr::new(src, sport), dst: SocketAddr::new(dst, dport) })
}

/// Where the TCP header starts in an IPv6 datagram, after its extension headers.
fn ipv6_tcp_offset(d: &[u8]) -> Result<usize, String> {
    let next_and_len = |at: usize| -> Result<(u8, usize), String> {
        let cut = || "an IPv6 extension header is cut off".to_string();
        let next = *d.get(at + ipv6_ext::NEXT_HEADER).ok_or_else(cut)?;
        Ok((next, usize::from(*d.get(at + ipv6_ext::LENGTH).ok_or_else(cut)?)))
    };
    let mut next = *d.get(ipv6::NEXT_HEADER).ok_or("an IPv6 header is cut off")?;
    let mut at = ipv6::HEADER_LEN;
    for _ in 0..16 {
        match next {
            PROTO_TCP => return Ok(at),
            // Hop-by-hop, routing, destination options: (length + 1) * 8 bytes.
            0 | 43 | 60 => {
                let (n, len) = next_and_len(at)?;
                (next, at) = (n, at + (len + 1) * 8);
            }
            // Authentication header: (length + 2) * 4 bytes.
            51 => {
                let (n, len) = next_and_len(at)?;
                (next, at) = (n, at + (len + 2) * 4);
            }
            44 => {
                let offset = field::get_u16(d, field::at(at, ipv6_ext::FRAG_OFFSET))
                    .ok_or("an IPv6 fragment header is cut off")?;
                if offset >> 3 != 0 {
                    return Err(
                        "a fragment past the first carries no TCP ports: tcpcraft-link sends whole segments".into()
                    );
                }
                (next, at) = (d[at + ipv6_ext::NEXT_HEADER], at + ipv6_ext::FRAGMENT_LEN);
            }
            n => return Err(format!("IPv6 next header {n}: only TCP (6) goes through tcpcraft-link")),
        }
    }
    Err("more than 16 IPv6 extension headers".into())
}

impl Policy {
    /// Checks an `Open` request and makes the session's policy from it. `broadcasts` are the local subnets'
    /// broadcast addresses, which are never targets. A refused target or interface is the request's input, said
    /// as the client would have met it opening the link itself (`target ADDR: WHY`, `interface NAME: WHY`), so
    /// the app names it rather than raw mode as what is wrong; anything else is an invalid request.
    pub fn open(
        mode: Mode,
        targets: &[IpAddr],
        iface: Option<&str>,
        max_pps: u32,
        broadcasts: &[IpAddr],
    ) -> Result<Policy, (Refusal, String)> {
        let invalid = |why: String| (Refusal::Invalid, why);
        if targets.is_empty() || targets.len() > MAX_TARGETS {
            return Err(invalid(format!("between 1 and {MAX_TARGETS} targets, not {}", targets.len())));
        }
        for &t in targets {
            check_target(t).map_err(|why| (Refusal::Target, format!("target {t}: {why}")))?;
        }
        if let Some(b) = targets.iter().find(|t| broadcasts.contains(t)) {
            let why = "the broadcast address of a local subnet is refused";
            return Err((Refusal::Target, format!("target {b}: {why}")));
        }
        if let Some(i) = iface {
            // The name as given, cut short and escaped once: a hostile one cannot grow the reply.
            let shown: String = i.chars().take(32).flat_map(char::escape_default).collect();
            let why = "not an interface name (1 to 15 of A-Z a-z 0-9 . _ : @ -)";
            check_iface(i).map_err(|_| (Refusal::Interface, format!("interface {shown}: {why}")))?;
        }
        if max_pps == 0 || max_pps > MAX_PPS {
            return Err(invalid(format!("max_pps must be 1..={MAX_PPS}, not {max_pps}")));
        }
        let mut targets = targets.to_vec();
        targets.sort_unstable();
        targets.dedup();
        Ok(Policy { mode, targets, pacer: Pacer::new(max_pps), own: Vec::new(), spoof: false, owned: Vec::new() })
    }

    /// The link is open: `own` are our addresses, and `spoof` says root's configuration allows any source.
    pub fn sources(&mut self, own: Vec<IpAddr>, spoof: bool) {
        self.own = own;
        self.spoof = spoof;
    }

    /// Whether root's configuration allows any source address.
    pub fn spoofing(&self) -> bool {
        self.spoof
    }

    fn own_source(&self, a: IpAddr) -> Verdict {
        if self.spoof || self.own.contains(&a) {
            Ok(())
        } else {
            Err(format!(
                "source {a} is not an address of the outgoing interface: tcpcraft-link sends only from your own \
                 addresses (root can allow other sources with allow_spoofed_source = true in {})",
                super::config::PATH
            ))
        }
    }

    /// Checks that a local address and port may be claimed: ours, and within the session's limit. `Ok(false)`
    /// when it is already owned.
    pub fn may_claim(&self, local: SocketAddr) -> Result<bool, String> {
        if self.owned.contains(&local) {
            return Ok(false);
        }
        self.own_source(local.ip())?;
        if local.port() == 0 {
            return Err("local port 0 cannot be owned".into());
        }
        if self.owned.len() >= MAX_PORTS {
            return Err(format!("a session may own at most {MAX_PORTS} local ports"));
        }
        Ok(true)
    }

    /// Records that the session now holds `local` bound.
    pub fn claimed(&mut self, local: SocketAddr) {
        self.owned.push(local);
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

    /// Checks a `Watch`: flow mode, towards a declared target. The local side must then be claimed.
    pub fn watch(&self, flow: &Flow) -> Verdict {
        self.needs(Mode::Flow, "watch")?;
        self.allowed(flow.remote.ip())
    }

    /// Checks one datagram to send: TCP, to a declared target, from our address and a port we own.
    pub fn datagram(&self, d: &[u8]) -> Verdict {
        let t = tcp_tuple(d)?;
        self.allowed(t.dst.ip())?;
        self.own_source(t.src.ip())?;
        if self.owned.contains(&t.src) {
            Ok(())
        } else {
            Err(format!(
                "source port {} is not owned by this session: watch the flow first (tcpcraft-link binds the local \
                 port to prove no one else uses it)",
                t.src
            ))
        }
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

    const LO: [u8; 4] = [127, 0, 0, 1];

    /// An IPv4 TCP datagram from `src:40000` to `dst:80`, `len` bytes long.
    fn v4(src: [u8; 4], dst: [u8; 4], len: usize) -> Vec<u8> {
        let mut d = vec![0u8; len];
        d[ipv4::VER_IHL] = 0x45;
        d[ipv4::PROTOCOL] = PROTO_TCP;
        d[ipv4::SRC].copy_from_slice(&src);
        d[ipv4::DST].copy_from_slice(&dst);
        field::set_u16(&mut d, field::at(ipv4::HEADER_LEN, tcp::SRC_PORT), 40000);
        field::set_u16(&mut d, field::at(ipv4::HEADER_LEN, tcp::DST_PORT), 80);
        d
    }

    fn local() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    fn policy(mode: Mode) -> Policy {
        let mut p = Policy::open(mode, &[IpAddr::from(LO)], Some("lo"), 1000, &[]).unwrap();
        p.sources(vec![IpAddr::from(LO)], false);
        p
    }

    fn owning(mode: Mode) -> Policy {
        let mut p = policy(mode);
        assert!(p.may_claim(local()).unwrap());
        p.claimed(local());
        p
    }

    #[test]
    fn open_refuses_bad_targets_rates_and_names() {
        let lo = IpAddr::from(LO);
        for t in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "ff02::1", "::"] {
            assert!(Policy::open(Mode::Flow, &[t.parse().unwrap()], None, 10, &[]).is_err(), "{t}");
        }
        assert!(Policy::open(Mode::Flow, &[], None, 10, &[]).is_err());
        assert!(Policy::open(Mode::Flow, &vec![lo; MAX_TARGETS + 1], None, 10, &[]).is_err());
        assert!(Policy::open(Mode::Flow, &[lo], None, 0, &[]).is_err());
        assert!(Policy::open(Mode::Flow, &[lo], None, MAX_PPS + 1, &[]).is_err());
        for name in ["", "a-very-long-interface-name", "lo; rm -rf /", "eth0\n"] {
            assert!(Policy::open(Mode::Flow, &[lo], Some(name), 10, &[]).is_err(), "{name:?}");
        }
        assert!(Policy::open(Mode::Flow, &[lo], Some("veth-a.10"), MAX_PPS, &[]).is_ok());
        let bcast: IpAddr = "127.255.255.255".parse().unwrap();
        let (kind, why) = Policy::open(Mode::Flow, &[bcast], None, 10, &[bcast]).unwrap_err();
        assert!(why.contains("broadcast address of a local subnet"), "{why}");
        assert_eq!(kind, Refusal::Target);
    }

    #[test]
    fn datagrams_go_only_to_declared_targets_from_owned_ports() {
        let p = owning(Mode::Flow);
        assert!(p.datagram(&v4(LO, LO, 40)).is_ok());
        let other = p.datagram(&v4(LO, [10, 0, 0, 1], 40)).unwrap_err();
        assert!(other.contains("10.0.0.1 is not one of the session's targets"), "{other}");
        assert!(p.datagram(&v4(LO, LO, 20)[..19]).is_err(), "shorter than the header");
        assert!(p.datagram(&v4(LO, LO, 22)).unwrap_err().contains("ends before its TCP ports"));
        assert!(p.datagram(&[0x65; 60]).is_err(), "version 6 needs 40 bytes of header, and ::1 is not declared");
        assert!(p.datagram(&[0x15; 60]).unwrap_err().contains("IP version 1"));
        assert!(p.datagram(&[]).is_err());
        assert!(p.datagram(&v4(LO, LO, 70_000)).is_err(), "too long");
        let mut other_port = v4(LO, LO, 40);
        field::set_u16(&mut other_port, field::at(ipv4::HEADER_LEN, tcp::SRC_PORT), 9000);
        let e = p.datagram(&other_port).unwrap_err();
        assert!(e.contains("source port 127.0.0.1:9000 is not owned"), "{e}");
        assert!(policy(Mode::Flow).datagram(&v4(LO, LO, 40)).is_err(), "nothing is owned before a watch");
    }

    #[test]
    fn only_tcp_and_only_our_own_sources() {
        let p = owning(Mode::Flow);
        for proto in [1u8, 17, 47] {
            let mut d = v4(LO, LO, 40);
            d[ipv4::PROTOCOL] = proto;
            let e = p.datagram(&d).unwrap_err();
            assert!(e.contains(&format!("IP protocol {proto}: only TCP")), "{e}");
        }
        let e = p.datagram(&v4([198, 51, 100, 7], LO, 40)).unwrap_err();
        assert!(e.contains("source 198.51.100.7 is not an address of the outgoing interface"), "{e}");
        assert!(e.contains("allow_spoofed_source"), "{e}");
        let mut frag = v4(LO, LO, 40);
        field::set_u16(&mut frag, ipv4::FRAG, 1);
        assert!(p.datagram(&frag).unwrap_err().contains("fragment"));
        // The ports are read where the receiver reads them: after the IPv4 options that IHL announces.
        let mut opts = v4(LO, LO, 44);
        opts[0] = 0x46;
        field::set_u16(&mut opts, field::at(24, tcp::SRC_PORT), 40000);
        field::set_u16(&mut opts, field::at(24, tcp::DST_PORT), 80);
        opts[20..24].copy_from_slice(&[1, 1, 1, 1]); // the option word
        assert!(p.datagram(&opts).is_ok());
        let mut bad_ihl = v4(LO, LO, 40);
        bad_ihl[0] = 0x44;
        assert!(p.datagram(&bad_ihl).unwrap_err().contains("below 20"));
        // With root's configuration, any source goes (still from an owned port).
        let mut spoof = Policy::open(Mode::Flow, &[IpAddr::from(LO)], None, 10, &[]).unwrap();
        spoof.sources(vec![IpAddr::from(LO)], true);
        let forged: SocketAddr = "198.51.100.7:40000".parse().unwrap();
        assert!(spoof.may_claim(forged).unwrap());
        spoof.claimed(forged);
        assert!(spoof.datagram(&v4([198, 51, 100, 7], LO, 40)).is_ok());
    }

    #[test]
    fn ipv6_extension_headers_are_walked_to_tcp() {
        let mut d = vec![0u8; 40 + 8 + 8 + 20];
        let (hop, frag, tcp_at) = (ipv6::HEADER_LEN, ipv6::HEADER_LEN + 8, ipv6::HEADER_LEN + 16);
        d[0] = 0x60;
        d[ipv6::NEXT_HEADER] = 0; // hop-by-hop
        d[ipv6::SRC.end - 1] = 1; // src ::1
        d[ipv6::DST.end - 1] = 1; // dst ::1
        d[hop + ipv6_ext::NEXT_HEADER] = 44; // then a fragment header
        d[frag + ipv6_ext::NEXT_HEADER] = PROTO_TCP; // then TCP
        field::set_u16(&mut d, field::at(tcp_at, tcp::SRC_PORT), 40000);
        field::set_u16(&mut d, field::at(tcp_at, tcp::DST_PORT), 80);
        let t = tcp_tuple(&d).unwrap();
        assert_eq!((t.src.port(), t.dst.port()), (40000, 80));
        d[frag + ipv6_ext::NEXT_HEADER] = 17;
        assert!(tcp_tuple(&d).unwrap_err().contains("next header 17"));
        d[frag + ipv6_ext::NEXT_HEADER] = PROTO_TCP;
        field::set_u16(&mut d, field::at(frag, ipv6_ext::FRAG_OFFSET), 1 << 3); // fragment offset 1
        assert!(tcp_tuple(&d).unwrap_err().contains("fragment"));
        let mut loops = vec![0u8; 40 + 17 * 8];
        loops[0] = 0x60;
        assert!(tcp_tuple(&loops).is_err(), "bounded walk");
    }

    #[test]
    fn claims_are_bounded_and_need_our_address() {
        let mut p = policy(Mode::Probes);
        assert!(p.may_claim("198.51.100.1:5".parse().unwrap()).is_err(), "not our address");
        assert!(p.may_claim("127.0.0.1:0".parse().unwrap()).is_err());
        for port in 1..=MAX_PORTS as u16 {
            let a = SocketAddr::new(IpAddr::from(LO), port);
            assert!(p.may_claim(a).unwrap());
            p.claimed(a);
        }
        assert_eq!(p.may_claim(SocketAddr::new(IpAddr::from(LO), 1)), Ok(false), "already ours");
        assert!(p.may_claim(SocketAddr::new(IpAddr::from(LO), 999)).unwrap_err().contains("at most"));
    }

    #[test]
    fn modes_waits_and_batches_are_enforced() {
        let f = policy(Mode::Flow);
        let flow = Flow { local: local(), remote: "127.0.0.1:80".parse().unwrap() };
        assert!(f.watch(&flow).is_ok());
        assert!(f.watch(&Flow { remote: "127.0.0.2:80".parse().unwrap(), ..flow }).is_err());
        assert!(f.recv(1_000_000, 0).is_ok());
        assert!(f.recv(61_000_000, 0).is_err());
        assert!(f.drain(1).is_err(), "drain is a probe-mode request");
        let p = owning(Mode::Probes);
        assert!(p.watch(&flow).is_err());
        assert!(p.drain(10_000).is_ok() && p.drain(61_000).is_err());
        let one = Bytes(v4(LO, LO, 40));
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
