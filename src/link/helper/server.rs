//! The helper's side: a loop that reads requests, checks each against the session [`Policy`], and drives the raw
//! link. The link and the capability changes come from a [`Host`], so the loop runs in tests over the simulated
//! peer without privileges.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::caps::Held;
use super::policy::{Policy, Verdict};
use super::protocol::{self, Bytes, Mode, Refusal, Reply, Request, Seen, VERSION};
use super::HelperError;
use crate::exchange::sweep::ProbeLink;
use crate::link::raw::{RawLink, RawOptions, RawProbes};
use crate::link::sim::{our_address, SimConfig, SimLink};
use crate::link::{Link, LinkError};

/// A probe link the helper can own.
pub type Probes = Box<dyn ProbeLink + Send>;

/// Where the helper's links come from, and what happens to its privileges as the session goes on.
pub trait Host {
    /// Opens a flow link towards `target`; returns it with our source address.
    fn open_flow(
        &mut self,
        target: IpAddr,
        iface: Option<&str>,
        guard: bool,
        layer2: bool,
    ) -> Result<(Box<dyn Link>, IpAddr), LinkError>;
    /// Opens a probe link routed towards `target`; returns it with our source address and a description.
    fn open_probes(&mut self, target: IpAddr, iface: Option<&str>) -> Result<(Probes, IpAddr, String), LinkError>;
    /// The sockets are open: give up what is no longer needed (`admin` is still needed by the guard).
    fn narrow(&mut self, keep_admin: bool);
    /// The session is over: give up everything.
    fn release(&mut self);
    /// The fix to print when the helper lacks its capabilities.
    fn fix(&self) -> String;
    /// Waits `d` to hold the session's rate.
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The simulated peer as the helper's host, for tests and fuzzing: no sockets, no privileges, no waiting. It
/// records what the session did to its "privileges".
#[derive(Debug, Default)]
pub struct SimHost {
    /// Each `narrow` call's `keep_admin`.
    pub narrowed: Vec<bool>,
    /// How often everything was released.
    pub released: usize,
}

impl Host for SimHost {
    fn open_flow(
        &mut self,
        target: IpAddr,
        _iface: Option<&str>,
        _guard: bool,
        _layer2: bool,
    ) -> Result<(Box<dyn Link>, IpAddr), LinkError> {
        Ok((Box::new(SimLink::new(SimConfig::default().at(target))), our_address(target)))
    }

    fn open_probes(&mut self, target: IpAddr, _: Option<&str>) -> Result<(Probes, IpAddr, String), LinkError> {
        Ok((Box::new(SimLink::new(SimConfig::default().at(target))), our_address(target), "sim".into()))
    }

    fn narrow(&mut self, keep_admin: bool) {
        self.narrowed.push(keep_admin);
    }

    fn release(&mut self) {
        self.released += 1;
    }

    fn fix(&self) -> String {
        super::setcap_fix(None)
    }

    fn sleep(&mut self, _: Duration) {}
}

/// The real host: raw sockets, the nftables guard, and Linux capabilities.
#[derive(Debug, Default)]
pub struct RawHost;

impl Host for RawHost {
    fn open_flow(
        &mut self,
        target: IpAddr,
        iface: Option<&str>,
        guard: bool,
        layer2: bool,
    ) -> Result<(Box<dyn Link>, IpAddr), LinkError> {
        let link = RawLink::open(target, &RawOptions { iface: iface.map(str::to_string), guard, layer2 })?;
        let src = link.route().src;
        Ok((Box::new(link), src))
    }

    fn open_probes(&mut self, target: IpAddr, iface: Option<&str>) -> Result<(Probes, IpAddr, String), LinkError> {
        let p = RawProbes::open(target, iface)?;
        let (src, describe) = (p.route().src, format!("raw {}", p.route().iface));
        Ok((Box::new(p), src, describe))
    }

    fn narrow(&mut self, keep_admin: bool) {
        super::caps::drop_raw();
        if !keep_admin {
            super::caps::drop_all();
        }
    }

    fn release(&mut self) {
        crate::link::guard::remove_all();
        super::caps::drop_all();
    }

    fn fix(&self) -> String {
        super::setcap_fix(std::env::current_exe().ok().as_deref())
    }
}

enum Session {
    Idle,
    Flow(Box<dyn Link>, Policy),
    Probes(Probes, Policy),
}

fn refuse(kind: Refusal, message: impl Into<String>) -> Reply {
    Reply::Error { kind, message: message.into() }
}

fn link_error(e: LinkError) -> Reply {
    let kind = if matches!(e, LinkError::Privileges { .. }) { Refusal::Privileges } else { Refusal::Link };
    refuse(kind, e.to_string())
}

/// Serves one session: `Hello` first, then requests until `Close` or end of input. `held` is the outcome of the
/// start-up privilege check; a refusal is reported in reply to `Hello` and ends the session.
pub fn serve(
    mut input: impl BufRead,
    mut output: impl Write,
    host: &mut dyn Host,
    held: Result<Held, (Refusal, String)>,
) -> Result<(), HelperError> {
    let Some(first) = protocol::read_line(&mut input)? else { return Ok(()) };
    let held = match (protocol::decode::<Request>(&first), held) {
        (Ok(Request::Hello { version: VERSION }), Ok(h)) => h,
        (Ok(Request::Hello { version: VERSION }), Err((kind, message))) => {
            host.release();
            return protocol::write(&mut output, &Reply::Error { kind, message });
        }
        (Ok(Request::Hello { version }), _) => {
            host.release();
            let msg = format!("protocol version {version} is not {VERSION}: tcpcraft and tcpcraft-link differ");
            return protocol::write(&mut output, &refuse(Refusal::Version, msg));
        }
        (other, _) => {
            host.release();
            let what = other.map_or_else(|e| e.to_string(), |r| r.op().to_string());
            let msg = format!("the first request must be hello, not {what}");
            return protocol::write(&mut output, &refuse(Refusal::Invalid, msg));
        }
    };
    protocol::write(&mut output, &Reply::Hello { version: VERSION, raw: held.raw, admin: held.admin })?;
    let mut session = Session::Idle;
    let result = loop {
        let line = match protocol::read_line(&mut input) {
            Ok(Some(l)) => l,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        let reply = match protocol::decode::<Request>(&line) {
            Err(e) => refuse(Refusal::Invalid, e.to_string()),
            Ok(Request::Close) => {
                session = Session::Idle;
                host.release();
                protocol::write(&mut output, &Reply::Done)?;
                break Ok(());
            }
            Ok(req) => handle(req, &mut session, host, held),
        };
        protocol::write(&mut output, &reply)?;
    };
    drop(session);
    host.release();
    result
}

fn handle(req: Request, session: &mut Session, host: &mut dyn Host, held: Held) -> Reply {
    match (req, &mut *session) {
        (Request::Open { mode, targets, iface, guard, layer2, max_pps }, Session::Idle) => {
            let policy = match Policy::open(mode, &targets, iface.as_deref(), max_pps) {
                Ok(p) => p,
                Err(e) => return refuse(Refusal::Invalid, e),
            };
            if !held.raw || (guard && !held.admin) {
                let what = if held.raw { "CAP_NET_ADMIN (for the kernel-RST guard)" } else { "CAP_NET_RAW" };
                return refuse(Refusal::Privileges, format!("tcpcraft-link lacks {what}. {}", host.fix()));
            }
            let target = targets[0];
            let opened = match mode {
                Mode::Flow => host.open_flow(target, iface.as_deref(), guard, layer2).map(|(link, src)| {
                    let reply = Reply::Opened { describe: link.describe(), src, now: link.now() };
                    (Session::Flow(link, policy), reply)
                }),
                Mode::Probes => host.open_probes(target, iface.as_deref()).map(|(link, src, describe)| {
                    (Session::Probes(link, policy), Reply::Opened { describe, src, now: 0 })
                }),
            };
            match opened {
                Ok((s, reply)) => {
                    *session = s;
                    host.narrow(guard && mode == Mode::Flow);
                    reply
                }
                Err(e) => link_error(e),
            }
        }
        (Request::Open { .. }, _) => refuse(Refusal::Invalid, "the session is already open"),
        (Request::Hello { .. }, _) => refuse(Refusal::Invalid, "hello was already exchanged"),
        (_, Session::Idle) => refuse(Refusal::Invalid, "open the link first"),
        (Request::Watch { flow }, Session::Flow(link, policy)) => match policy.watch(&flow) {
            Ok(()) => link.watch(flow).map_or_else(link_error, |()| Reply::Done),
            Err(e) => refuse(Refusal::Invalid, e),
        },
        (Request::Send { datagram }, Session::Flow(link, policy)) => {
            let verdict = policy.datagram(&datagram.0);
            if let Err(r) = admit(policy, verdict, 1, host) {
                return r;
            }
            link.send(&datagram.0).map_or_else(link_error, |t| Reply::Sent { t })
        }
        (Request::Send { datagram }, Session::Probes(link, policy)) => {
            let verdict = policy.datagram(&datagram.0);
            if let Err(r) = admit(policy, verdict, 1, host) {
                return r;
            }
            link.send(&datagram.0).map_or_else(link_error, |()| Reply::Sent { t: 0 })
        }
        (Request::SendBatch { datagrams }, Session::Probes(link, policy)) => {
            let verdict = policy.batch(&datagrams);
            if let Err(r) = admit(policy, verdict, datagrams.len(), host) {
                return r;
            }
            let batch: Vec<Vec<u8>> = datagrams.into_iter().map(|d| d.0).collect();
            link.send_batch(&batch).map_or_else(link_error, |()| Reply::Sent { t: 0 })
        }
        (Request::Recv { deadline }, Session::Flow(link, policy)) => {
            if let Err(e) = policy.recv(deadline, link.now()) {
                return refuse(Refusal::Invalid, e);
            }
            match link.recv_until(deadline) {
                Ok(items) => Reply::Captured {
                    items: items
                        .into_iter()
                        .map(|c| Seen { t: c.t, bytes: Bytes(c.bytes), origin: c.origin, icmp: c.icmp })
                        .collect(),
                    dropped: link.dropped(),
                },
                Err(e) => link_error(e),
            }
        }
        (Request::Drain { wait_ms }, Session::Probes(link, policy)) => match policy.drain(wait_ms) {
            Ok(()) => Reply::Frames {
                frames: link.drain(Duration::from_millis(u64::from(wait_ms))).into_iter().map(Bytes).collect(),
                dropped: 0,
            },
            Err(e) => refuse(Refusal::Invalid, e),
        },
        (req, Session::Flow(..)) => refuse(Refusal::Invalid, format!("{} is not a flow-mode request", req.op())),
        (req, Session::Probes(..)) => refuse(Refusal::Invalid, format!("{} is not a probe-mode request", req.op())),
    }
}

/// Refuses what the policy refused; otherwise waits as long as the session's rate asks before `n` datagrams go.
fn admit(policy: &mut Policy, verdict: Verdict, n: usize, host: &mut dyn Host) -> Result<(), Reply> {
    verdict.map_err(|e| refuse(Refusal::Invalid, e))?;
    let wait = policy.pace(n, Instant::now());
    if !wait.is_zero() {
        host.sleep(wait);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Flow;
    use crate::wire::{build, parse, SegmentSpec, TcpFlags};

    const ALL: Held = Held { raw: true, admin: true };

    fn session(reqs: &[Request], held: Result<Held, (Refusal, String)>, host: &mut SimHost) -> Vec<Reply> {
        let mut input = Vec::new();
        for r in reqs {
            protocol::write(&mut input, r).unwrap();
        }
        let mut out = Vec::new();
        serve(input.as_slice(), &mut out, host, held).unwrap();
        out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| protocol::decode(l).unwrap()).collect()
    }

    fn syn() -> (Vec<u8>, Flow) {
        let mut s = SegmentSpec::default();
        s.tcp.dport = 80;
        s.tcp.seq = 1000;
        let bytes = build(&s).unwrap();
        let flow = Flow::of(&parse(&bytes).unwrap());
        (bytes, flow)
    }

    fn open(mode: Mode, target: IpAddr, guard: bool) -> Request {
        Request::Open { mode, targets: vec![target], iface: None, guard, layer2: false, max_pps: 100 }
    }

    #[test]
    fn a_flow_session_gets_the_syn_ack_and_narrows_then_releases() {
        let (bytes, flow) = syn();
        let mut host = SimHost::default();
        let replies = session(
            &[
                Request::Hello { version: VERSION },
                open(Mode::Flow, flow.remote.ip(), true),
                Request::Watch { flow },
                Request::Send { datagram: Bytes(bytes) },
                Request::Recv { deadline: 10_000 },
                Request::Close,
            ],
            Ok(ALL),
            &mut host,
        );
        assert_eq!(replies[0], Reply::Hello { version: VERSION, raw: true, admin: true });
        assert!(matches!(&replies[1], Reply::Opened { src, .. } if *src == flow.local.ip()), "{replies:?}");
        assert_eq!(replies[2], Reply::Done);
        assert!(matches!(replies[3], Reply::Sent { .. }));
        let Reply::Captured { items, .. } = &replies[4] else { panic!("{replies:?}") };
        let sa = items.iter().find(|s| s.origin == crate::link::Origin::Peer).unwrap();
        let seg = parse(&sa.bytes.0).unwrap();
        assert_eq!((seg.tcp.flags, seg.tcp.ack), (TcpFlags::SYN_ACK, 1001));
        assert_eq!(replies[5], Reply::Done);
        assert_eq!(host.narrowed, vec![true], "NET_RAW dropped after open, NET_ADMIN kept for the guard");
        assert!(host.released >= 1, "everything dropped at the end");
    }

    #[test]
    fn probes_session_sends_batches_and_drains() {
        let (bytes, flow) = syn();
        let mut host = SimHost::default();
        let replies = session(
            &[
                Request::Hello { version: VERSION },
                open(Mode::Probes, flow.remote.ip(), false),
                Request::SendBatch { datagrams: vec![Bytes(bytes.clone()), Bytes(bytes)] },
                Request::Drain { wait_ms: 5 },
            ],
            Ok(ALL),
            &mut host,
        );
        let Reply::Frames { frames, .. } = &replies[3] else { panic!("{replies:?}") };
        assert!(frames.iter().any(|f| parse(&f.0).is_ok_and(|s| s.tcp.flags == TcpFlags::SYN_ACK)), "{frames:?}");
        assert_eq!(host.narrowed, vec![false], "no guard: everything dropped after open");
    }

    fn kind(r: &Reply) -> Option<Refusal> {
        match r {
            Reply::Error { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    #[test]
    fn untrusted_requests_are_refused_and_the_session_goes_on() {
        let (bytes, flow) = syn();
        let mut elsewhere = bytes.clone();
        elsewhere[16..20].copy_from_slice(&[10, 0, 0, 1]);
        let mut host = SimHost::default();
        let replies = session(
            &[
                Request::Hello { version: VERSION },
                Request::Send { datagram: Bytes(bytes.clone()) },
                open(Mode::Flow, "224.0.0.1".parse().unwrap(), false),
                open(Mode::Flow, flow.remote.ip(), false),
                open(Mode::Flow, flow.remote.ip(), false),
                Request::Send { datagram: Bytes(elsewhere) },
                Request::Send { datagram: Bytes(vec![0x45; 10]) },
                Request::Watch { flow: Flow { remote: "10.0.0.1:80".parse().unwrap(), ..flow } },
                Request::Recv { deadline: 120_000_000 },
                Request::Drain { wait_ms: 1 },
                Request::Hello { version: VERSION },
                Request::Send { datagram: Bytes(bytes) },
            ],
            Ok(ALL),
            &mut host,
        );
        let kinds: Vec<_> = replies.iter().map(kind).collect();
        let invalid = Some(Refusal::Invalid);
        assert_eq!(kinds[1..3], [invalid, invalid], "send before open; multicast target");
        assert_eq!(kinds[3], None, "opened");
        assert!(kinds[4..11].iter().all(|k| *k == invalid), "{replies:#?}");
        assert!(matches!(replies[11], Reply::Sent { .. }), "a good request still works after refusals");
        let Reply::Error { message, .. } = &replies[5] else { panic!() };
        assert!(message.contains("10.0.0.1 is not one of the session's targets"), "{message}");
    }

    #[test]
    fn refusals_at_hello_end_the_session() {
        let mut host = SimHost::default();
        let extra = Err((Refusal::ExtraPrivileges, "tcpcraft-link refuses to run as root".to_string()));
        let r = session(&[Request::Hello { version: VERSION }, Request::Close], extra, &mut host);
        assert_eq!(r.len(), 1, "nothing after the refusal: {r:?}");
        assert_eq!(kind(&r[0]), Some(Refusal::ExtraPrivileges));
        let r = session(&[Request::Hello { version: VERSION + 1 }], Ok(ALL), &mut SimHost::default());
        assert_eq!(kind(&r[0]), Some(Refusal::Version));
        let r = session(&[Request::Close], Ok(ALL), &mut SimHost::default());
        assert_eq!(kind(&r[0]), Some(Refusal::Invalid), "hello first");
    }

    #[test]
    fn without_capabilities_open_says_how_to_grant_them() {
        let (_, flow) = syn();
        let none = Held { raw: false, admin: false };
        let mut host = SimHost::default();
        let r = session(
            &[Request::Hello { version: VERSION }, open(Mode::Flow, flow.remote.ip(), false)],
            Ok(none),
            &mut host,
        );
        assert_eq!(r[0], Reply::Hello { version: VERSION, raw: false, admin: false });
        let Reply::Error { kind: Refusal::Privileges, message } = &r[1] else { panic!("{r:?}") };
        assert!(
            message.contains("lacks CAP_NET_RAW") && message.contains("setcap cap_net_raw,cap_net_admin+eip"),
            "{message}"
        );
        let raw_only = Held { raw: true, admin: false };
        let r = session(
            &[Request::Hello { version: VERSION }, open(Mode::Flow, flow.remote.ip(), true)],
            Ok(raw_only),
            &mut host,
        );
        assert!(
            matches!(&r[1], Reply::Error { kind: Refusal::Privileges, message } if message.contains("CAP_NET_ADMIN"))
        );
    }
}
