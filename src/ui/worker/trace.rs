//! The Trace tab's job on the worker: the probe and the lab host come from the chosen preset, the probe link from
//! the session, exactly as `tcpcraft trace` gets them. The target's name (if it is one) is looked up here, on the
//! worker, never on the UI thread. Stop ends the wait for answers within 50 ms
//! ([`trace::trace_until`]); a stopped trace's result is dropped, never shown as if it had finished.

use std::net::IpAddr;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use super::{stop_asked, Cmd, LinkKind, Msg, Outbox};
use crate::exchange::session::{self, OpenedProbes, ProbeRequest};
use crate::exchange::sweep::{self, SweepError};
use crate::exchange::trace::{self, TraceConfig, TraceError, TraceResult, MAX_TTL};
use crate::link::{helper, route, LinkError};
use crate::preset::{LabHost, PresetError};
use crate::wire::SegmentSpec;

/// The most ports one trace takes ([`trace::trace`] refuses more).
pub const MAX_TRACE_PORTS: usize = 256;

/// The longest wait for answers the tab offers, in milliseconds (as `tcpcraft trace --wait`).
pub const MAX_WAIT_MS: u64 = 30_000;

/// Why a trace could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum TraceJobError {
    /// The preset did not load.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The preset is not a one-probe preset, or the ports do not parse.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// The target cannot be read or looked up.
    #[error(transparent)]
    Target(LinkError),
    /// A number out of range.
    #[error("{0}")]
    Input(String),
    /// The trace failed on its link.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// Raw mode is not available; the text says why and how to enable it.
    #[error("{0}")]
    Unavailable(String),
}

impl TraceJobError {
    /// The error in the current language where the tab words it itself (a port list that does not parse, too many
    /// ports, no target; the library's own detail follows in English), else the library's text.
    pub fn text(&self) -> String {
        match self {
            TraceJobError::Sweep(SweepError::Ports(list, why)) => {
                crate::i18n::tf("ui.trace.bad_ports", &[("ports", list), ("why", why)])
            }
            other => other.to_string(),
        }
    }

    /// The error in one short line, for the status bar (the tab shows [`TraceJobError::text`] in full).
    pub fn short(&self) -> String {
        match self {
            TraceJobError::Sweep(SweepError::Ports(list, _)) => {
                crate::i18n::tf("ui.trace.bad_ports_short", &[("ports", list)])
            }
            other => other.text(),
        }
    }
}

/// A trace as the Trace tab asks for it.
#[derive(Clone, Debug)]
pub struct TraceJob {
    /// The host as typed (an address, or a name the worker looks up).
    pub host: String,
    /// The ports to trace.
    pub ports: Vec<u16>,
    /// TTLs 1..=max_ttl are probed.
    pub max_ttl: u8,
    /// How long to wait for answers.
    pub wait: Duration,
    /// The probe segment (from the preset's first Send).
    pub probe: SegmentSpec,
    /// The preset's lab host (its `sim:` section), for the simulated link.
    pub lab: LabHost,
    /// Simulated or raw.
    pub kind: LinkKind,
    /// Interface for the raw link.
    pub iface: Option<String>,
    /// Our source port.
    pub sport: u16,
    /// The seed given for the trace (the worker's); else the preset's, else random.
    pub seed: Option<u64>,
}

/// A finished trace, as the tab shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceReport {
    /// The host traced.
    pub target: IpAddr,
    /// Our address on the link.
    pub src: IpAddr,
    /// The highest TTL probed.
    pub max_ttl: u8,
    /// The hops and every port's outcome.
    pub result: TraceResult,
    /// The trace as `tcpcraft trace` prints it.
    pub text: String,
}

impl TraceJob {
    /// The trace of `target` (`host[:port]`) with `preset`'s probe: `ports` is a list such as `8080,8081-8082`,
    /// empty for the target's port (else the preset's). Parses and checks everything; nothing is resolved or
    /// opened here.
    pub fn new(
        preset: &str,
        target: &str,
        ports: &str,
        max_ttl: u8,
        wait_ms: u64,
        kind: LinkKind,
    ) -> Result<TraceJob, TraceJobError> {
        let target = target.trim();
        if target.is_empty() {
            return Err(TraceJobError::Input(crate::i18n::t("ui.trace.no_target").into()));
        }
        let (host, port) = route::split_target(target).map_err(TraceJobError::Target)?;
        if host.is_empty() {
            return Err(TraceJobError::Target(LinkError::Target {
                target: target.into(),
                reason: "no host before the port".into(),
            }));
        }
        let p = crate::preset::resolve(preset)?;
        let probe = sweep::probe_of(&p)?;
        let ports = if ports.trim().is_empty() { vec![port.unwrap_or(p.port)] } else { sweep::parse_ports(ports)? };
        if ports.len() > MAX_TRACE_PORTS {
            let (n, max) = (ports.len().to_string(), MAX_TRACE_PORTS.to_string());
            return Err(TraceJobError::Input(crate::i18n::tf("ui.trace.too_many_ports", &[("n", &n), ("max", &max)])));
        }
        if max_ttl == 0 || max_ttl > MAX_TTL {
            return Err(TraceJobError::Input(format!("max TTL {max_ttl}: give 1 to {MAX_TTL}")));
        }
        if wait_ms == 0 || wait_ms > MAX_WAIT_MS {
            return Err(TraceJobError::Input(format!("wait {wait_ms} ms: give 1 to {MAX_WAIT_MS}")));
        }
        Ok(TraceJob {
            host,
            ports,
            max_ttl,
            wait: Duration::from_millis(wait_ms),
            probe,
            lab: p.sim.unwrap_or_default(),
            kind,
            iface: None,
            sport: 47_100,
            seed: None,
        })
    }

    /// The host's address: parsed, or looked up (this may take a while: call it on the worker).
    pub fn resolve(&self) -> Result<IpAddr, TraceJobError> {
        crate::link::route::resolve(&self.host, false).map_err(TraceJobError::Target)
    }
}

/// Opens the probe link through the session: the helper's for raw mode (no fallback: a trace of the lab host is
/// not what was asked for), else the preset's lab host at the target.
fn open_probes(job: &TraceJob, target: IpAddr) -> Result<OpenedProbes, TraceJobError> {
    let req = ProbeRequest {
        targets: vec![target],
        sport: job.sport,
        choice: job.kind.choice(),
        iface: job.iface.clone(),
        max_pps: crate::exchange::trace::rate(job.ports.len(), job.max_ttl),
        lab: job.lab.clone(),
        in_process: false,
        seed: job.seed,
    };
    session::open_probes(&req).map_err(|e| {
        if e.is_input() {
            TraceJobError::Target(e)
        } else {
            TraceJobError::Unavailable(helper::unavailable_message(&e))
        }
    })
}

/// Runs a trace to its end on the calling thread, exactly as the worker does: looks the host up, opens the probe
/// link, tells `opened` its description, our address and the seed, and waits for answers, asking `stop` every
/// 50 ms at most. `Ok(None)`: stopped (what came back so far is dropped, as it is no finished trace).
pub fn trace(
    job: &TraceJob,
    opened: &mut dyn FnMut(&str, IpAddr, u64),
    stop: &mut dyn FnMut() -> bool,
) -> Result<Option<TraceReport>, TraceJobError> {
    let target = job.resolve()?;
    if stop() {
        return Ok(None);
    }
    let mut link = open_probes(job, target)?;
    opened(&link.describe, link.src, link.seed.value);
    let cfg = TraceConfig {
        probe: job.probe.clone(),
        src: link.src,
        target,
        ports: job.ports.clone(),
        sport: job.sport,
        max_ttl: job.max_ttl,
        wait: job.wait,
    };
    // The probes' sequence numbers: the top byte from the seed, so a seeded trace sends the same probes again.
    let base = ((link.seed.value >> 32) as u32) & 0xff00_0000;
    let mut stopped = false;
    let result = trace::trace_until(link.link.as_mut(), &cfg, base, &mut || {
        stopped = stopped || stop();
        stopped
    })?;
    if stopped {
        return Ok(None);
    }
    let text = format!("trace to {target} ({}), max {} hops\n{}", link.describe, job.max_ttl, trace::render(&result));
    Ok(Some(TraceReport { target, src: link.src, max_ttl: job.max_ttl, result, text }))
}

/// Runs a trace on the worker with the given seed; Stop ends the wait early and drops the result. A name lookup
/// under way cannot be interrupted (the system resolver has no cancel): the UI is free at once all the same, and
/// the lookup's outcome is dropped when it comes.
pub(super) fn run_trace(job: &TraceJob, seed: Option<u64>, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    let job = &TraceJob { seed: seed.or(job.seed), ..job.clone() };
    let mut stopped = false;
    let result = {
        let mut started = |link: &str, src, seed| {
            out.send(Msg::Started { link: super::with_seed(link, seed), src, seed });
        };
        trace(job, &mut started, &mut || {
            stopped = stopped || stop_asked(cmds);
            stopped
        })
    };
    match result {
        Ok(Some(r)) => {
            out.send(Msg::TraceDone(Box::new(r)));
            out.send(Msg::Finished { pass: true, stopped: false, dropped: 0 });
        }
        Ok(None) => out.send(Msg::Finished { pass: false, stopped: true, dropped: 0 }),
        Err(TraceJobError::Target(e)) => out.send(Msg::BadTarget(e.to_string())),
        Err(e) => out.send(Msg::Failed(e.text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::trace::PathResult;

    /// A trace of the simulated lab host (one hop away): the open ports are open at hop 1, a port the preset
    /// filters is filtered with nothing answering, and the text is `tcpcraft trace`'s.
    #[test]
    fn a_trace_of_the_lab_host_reaches_it_in_one_hop() {
        let mut job = TraceJob::new("half-open", "192.0.2.10:80", "80,81", 4, 300, LinkKind::Sim).unwrap();
        job.lab.filtered = vec![81];
        let mut seen = None;
        let r = trace(&job, &mut |l, s, _| seen = Some((l.to_string(), s)), &mut || false).unwrap().unwrap();
        assert_eq!(seen.map(|(l, _)| l), Some("sim 192.0.2.10".to_string()));
        assert_eq!(r.result.hops.len(), 1, "{r:?}");
        assert_eq!(r.result.ports[0].result, PathResult::Open);
        assert_eq!(r.result.ports[0].answered_at, Some(1));
        assert_eq!(r.result.ports[1].result, PathResult::Filtered);
        assert!(r.text.contains("port    80: open at hop 1 from 192.0.2.10"), "{}", r.text);
    }

    /// The port comes from the list, else from the target, else from the preset; bad input is refused before
    /// anything is opened, naming what is wrong.
    #[test]
    fn inputs_are_checked_up_front() {
        let job = |target: &str, ports: &str| TraceJob::new("half-open", target, ports, 30, 2000, LinkKind::Sim);
        assert_eq!(job("192.0.2.10:8080", "").unwrap().ports, vec![8080]);
        assert_eq!(job("192.0.2.10", "").unwrap().ports, vec![80]);
        assert_eq!(job("192.0.2.10:22", "8080,8081-8082").unwrap().ports, vec![8080, 8081, 8082]);
        assert_eq!(job("[2001:db8::10]:443", "").unwrap().host, "2001:db8::10");
        let e = job("192.0.2.10", "80,x").unwrap_err();
        assert!(e.to_string().contains("'x' is not a port"), "{e}");
        assert!(matches!(job("", ""), Err(TraceJobError::Input(_))));
        assert!(matches!(job("192.0.2.10:http", ""), Err(TraceJobError::Target(_))));
        assert!(job("192.0.2.10", "1-300").unwrap_err().to_string().contains("at most 256"));
        assert!(TraceJob::new("half-open", "192.0.2.10", "", 0, 2000, LinkKind::Sim).is_err());
        assert!(TraceJob::new("half-open", "192.0.2.10", "", MAX_TTL + 1, 2000, LinkKind::Sim).is_err());
        assert!(TraceJob::new("half-open", "192.0.2.10", "", 30, 0, LinkKind::Sim).is_err());
        let e = TraceJob::new("normal-open", "192.0.2.10", "", 30, 2000, LinkKind::Sim);
        assert!(e.is_ok(), "normal-open starts with a Send: its SYN is a probe");
        assert!(TraceJob::new("no-such-preset", "192.0.2.10", "", 30, 2000, LinkKind::Sim).is_err());
    }

    /// Stop during the wait ends the trace within a slice, and nothing is reported as a result.
    #[test]
    fn stop_ends_the_wait_and_drops_the_result() {
        let mut job = TraceJob::new("half-open", "192.0.2.10", "81", 3, 20_000, LinkKind::Sim).unwrap();
        job.lab.filtered = vec![81];
        let t0 = std::time::Instant::now();
        let mut asked = 0;
        let r = trace(&job, &mut |_, _, _| {}, &mut || {
            asked += 1;
            asked > 3
        });
        assert!(matches!(r, Ok(None)), "{r:?}");
        assert!(t0.elapsed() < Duration::from_secs(5), "stopped long before the 20 s wait: {:?}", t0.elapsed());
    }

    /// A name that never resolves (RFC 6761 `.invalid`) is refused by the lookup, naming the host.
    #[test]
    fn an_unresolvable_name_is_a_target_error() {
        let job = TraceJob::new("half-open", "no-such-host.invalid:80", "", 3, 100, LinkKind::Sim).unwrap();
        let e = trace(&job, &mut |_, _, _| {}, &mut || false).unwrap_err();
        assert!(matches!(e, TraceJobError::Target(_)) && e.to_string().contains("no-such-host.invalid"), "{e}");
    }
}
