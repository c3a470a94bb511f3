//! The helper's side: a loop that reads requests, checks each against the session [`Policy`], and drives the raw
//! link. The link and the capability changes come from a [`Host`], so the loop runs in tests over the simulated
//! peer without privileges.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::caps::Held;
pub use super::host::{Claim, Host, Probes, RawHost, SimHost};
use super::policy::{Policy, Verdict, MAX_PORTS};
use super::protocol::{self, Bytes, Mode, Refusal, Reply, Request, Seen, VERSION};
use super::HelperError;
use crate::link::route::Route;
use crate::link::{Link, LinkError};

enum Session {
    Idle,
    Flow(Box<dyn Link>, Policy),
    Probes(Probes, Policy),
}

fn refuse(kind: Refusal, message: impl Into<String>) -> Reply {
    Reply::Error { kind, message: message.into() }
}

/// The captured frames as a reply, each with its age now, and the age of the batch `sent` with them (the
/// client's round-trip times come from these).
fn frames(taken: Vec<(Instant, Vec<u8>)>, dropped: u64, sent: Option<Instant>) -> Reply {
    let now = Instant::now();
    let age = |at: Instant| now.saturating_duration_since(at).as_micros() as u64;
    let ages_us = taken.iter().map(|(at, _)| age(*at)).collect();
    let frames = taken.into_iter().map(|(_, d)| Bytes(d)).collect();
    Reply::Frames { frames, ages_us, sent_age_us: sent.map(age), dropped }
}

fn link_error(e: LinkError) -> Reply {
    let kind = match e {
        LinkError::Privileges { .. } => Refusal::Privileges,
        LinkError::Target { .. } => Refusal::Target,
        LinkError::Interface { .. } => Refusal::Interface,
        _ => Refusal::Link,
    };
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
    let mut claims: Vec<Claim> = Vec::new();
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
                claims.clear();
                host.release();
                protocol::write(&mut output, &Reply::Done)?;
                break Ok(());
            }
            Ok(req) => handle(req, &mut session, &mut claims, host, held),
        };
        protocol::write(&mut output, &reply)?;
    };
    drop(session);
    drop(claims);
    host.release();
    result
}

/// Claims `local` for the session unless it already holds it.
fn claim(policy: &mut Policy, claims: &mut Vec<Claim>, host: &mut dyn Host, local: SocketAddr) -> Result<(), Reply> {
    match policy.may_claim(local) {
        Err(e) => Err(refuse(Refusal::Forbidden, e)),
        Ok(false) => Ok(()),
        Ok(true) => {
            claims.push(host.claim(local, policy.spoofing()).map_err(|e| refuse(Refusal::Forbidden, e))?);
            policy.claimed(local);
            Ok(())
        }
    }
}

/// Checks the probe source ports declared at `Open`: none in flow mode, 1 to [`MAX_PORTS`] in probe mode.
fn check_sports(mode: Mode, sports: &[u16]) -> Result<(), String> {
    match mode {
        Mode::Flow if !sports.is_empty() => Err("sports are declared in probe mode only; watch claims a flow".into()),
        Mode::Probes if sports.is_empty() || sports.len() > MAX_PORTS => {
            Err(format!("probe mode needs 1 to {MAX_PORTS} source ports, not {}", sports.len()))
        }
        _ if sports.contains(&0) => Err("source port 0 cannot be claimed".into()),
        _ => Ok(()),
    }
}

/// Opens the session's link: checks the request, opens the link, learns our addresses and claims the probes'
/// source ports.
fn open(req: Request, host: &mut dyn Host, claims: &mut Vec<Claim>, held: Held) -> Result<(Session, Reply), Reply> {
    let Request::Open { mode, targets, iface, guard, layer2, max_pps, sports } = req else {
        return Err(refuse(Refusal::Invalid, "not an open request"));
    };
    let mut policy = Policy::open(mode, &targets, iface.as_deref(), max_pps, &host.broadcasts())
        .map_err(|(kind, why)| refuse(kind, why))?;
    check_sports(mode, &sports).map_err(|e| refuse(Refusal::Invalid, e))?;
    if !held.raw || (guard && !held.admin) {
        let what = if held.raw { "CAP_NET_ADMIN (for the kernel-RST guard)" } else { "CAP_NET_RAW" };
        return Err(refuse(Refusal::Privileges, format!("tcpcraft-link lacks {what}. {}", host.fix())));
    }
    let target = targets[0];
    // The link opens without its policy; the session gets both once our addresses and ports are known.
    let (make, route, reply): (Box<dyn FnOnce(Policy) -> Session>, Route, Reply) = match mode {
        Mode::Flow => {
            let (link, route) = host.open_flow(target, iface.as_deref(), guard, layer2).map_err(link_error)?;
            let reply = Reply::Opened { describe: link.describe(), src: route.src, now: link.now() };
            (Box::new(move |p| Session::Flow(link, p)), route, reply)
        }
        Mode::Probes => {
            let (link, route, describe) = host.open_probes(target, iface.as_deref(), &sports).map_err(link_error)?;
            let reply = Reply::Opened { describe, src: route.src, now: 0 };
            (Box::new(move |p| Session::Probes(link, p)), route, reply)
        }
    };
    let mut own = host.addresses(&route.iface);
    own.push(route.src);
    policy.sources(own, host.config().allow_spoofed_source);
    for &p in &sports {
        claim(&mut policy, claims, host, SocketAddr::new(route.src, p))?;
    }
    let session = make(policy);
    host.narrow(guard && mode == Mode::Flow);
    Ok((session, reply))
}

fn handle(req: Request, session: &mut Session, claims: &mut Vec<Claim>, host: &mut dyn Host, held: Held) -> Reply {
    match (req, &mut *session) {
        (req @ Request::Open { .. }, Session::Idle) => match open(req, host, claims, held) {
            Ok((s, reply)) => {
                *session = s;
                reply
            }
            Err(r) => {
                claims.clear();
                r
            }
        },
        (Request::Open { .. }, _) => refuse(Refusal::Invalid, "the session is already open"),
        (Request::Hello { .. }, _) => refuse(Refusal::Invalid, "hello was already exchanged"),
        (_, Session::Idle) => refuse(Refusal::Invalid, "open the link first"),
        (Request::Watch { flow }, Session::Flow(link, policy)) => {
            if let Err(e) = policy.watch(&flow) {
                return refuse(Refusal::Invalid, e);
            }
            if let Err(r) = claim(policy, claims, host, flow.local) {
                return r;
            }
            link.watch(flow).map_or_else(link_error, |()| Reply::Done)
        }
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
        (Request::SendBatch { datagrams, drain }, Session::Probes(link, policy)) => {
            let verdict = policy.batch(&datagrams);
            if let Err(r) = admit(policy, verdict, datagrams.len(), host) {
                return r;
            }
            let batch: Vec<Vec<u8>> = datagrams.into_iter().map(|d| d.0).collect();
            let sent = Instant::now();
            match link.send_batch(&batch) {
                Err(e) => link_error(e),
                Ok(()) if drain => frames(link.drain_timed(Duration::ZERO), link.dropped(), Some(sent)),
                Ok(()) => Reply::Sent { t: 0 },
            }
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
            Ok(()) => {
                let taken = link.drain_timed(Duration::from_millis(u64::from(wait_ms)));
                frames(taken, link.dropped(), None)
            }
            Err(e) => refuse(Refusal::Invalid, e),
        },
        (req, Session::Flow(..)) => refuse(Refusal::Invalid, format!("{} is not a flow-mode request", req.op())),
        (req, Session::Probes(..)) => refuse(Refusal::Invalid, format!("{} is not a probe-mode request", req.op())),
    }
}

/// Refuses what the policy refused; otherwise waits as long as the session's rate asks before `n` datagrams go.
fn admit(policy: &mut Policy, verdict: Verdict, n: usize, host: &mut dyn Host) -> Result<(), Reply> {
    verdict.map_err(|e| {
        let kind = if e.contains("is not available in") { Refusal::Invalid } else { Refusal::Forbidden };
        refuse(kind, e)
    })?;
    let wait = policy.pace(n, Instant::now());
    if !wait.is_zero() {
        host.sleep(wait);
    }
    Ok(())
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
