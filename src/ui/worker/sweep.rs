//! The Sweep tab's job on the worker: the probe and the lab host come from the chosen preset, the probe link from
//! the session, exactly as `tcpcraft sweep` gets them.

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::{stop_asked, Cmd, LinkKind, Msg, Outbox, TICK};
use crate::exchange::session::{self, OpenedProbes, ProbeRequest};
use crate::exchange::sweep::{self, PortResult, Progress, SweepConfig, SweepError};
use crate::link::{helper, LinkError};
use crate::preset::{LabHost, PresetError};

/// Why a sweep could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum SweepJobError {
    /// The preset did not load.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The preset, targets or ports were refused, or the sweep failed on its link.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// The targets were refused before any link was opened.
    #[error(transparent)]
    Target(LinkError),
    /// Raw mode is not available; the text says why and how to enable it.
    #[error("{0}")]
    Unavailable(String),
}

/// A sweep as the Sweep tab asks for it.
#[derive(Clone, Debug)]
pub struct SweepJob {
    /// The sweep (its `src` is filled in from the link).
    pub cfg: SweepConfig,
    /// Simulated or raw.
    pub kind: LinkKind,
    /// The preset's lab host (its `sim:` section), for the simulated link.
    pub lab: LabHost,
    /// The seed given for the sweep (the worker's, [`super::Worker::set_seed`]); else the preset's, else random.
    pub seed: Option<u64>,
    /// Interface for the raw link (the top bar's; `None`: the route's).
    pub iface: Option<String>,
}

impl SweepJob {
    /// The sweep of `preset` (a bundled name or a file) over `targets` (addresses or CIDR blocks) and `ports`, at
    /// most `rate` probes per second, with the CLI's default retries and wait. Parses and checks the limits
    /// ([`sweep::plan::check`]: the helper's target count, a rate of 1 to the ceiling); pressing Start with the
    /// counts on screen is the confirmation `--yes` gives on the command line. Nothing is resolved or opened here.
    pub fn new(preset: &str, targets: &str, ports: &str, rate: u64, kind: LinkKind) -> Result<SweepJob, SweepJobError> {
        let p = crate::preset::resolve(preset)?;
        let cfg = SweepConfig {
            src: crate::link::sim::SIM_US.into(),
            probe: sweep::probe_of(&p)?,
            hosts: sweep::parse_targets(targets)?,
            ports: sweep::parse_ports(ports)?,
            sport: 47_000,
            rate,
            retries: 1,
            wait: Duration::from_millis(500),
            // Settled when the link opens (the session chooses the seed, and leaves out local broadcasts).
            seed: 0,
            refused_hosts: Vec::new(),
        };
        sweep::plan::check(cfg.hosts.len(), cfg.ports.len(), cfg.retries, rate, true)?;
        Ok(SweepJob { cfg, kind, lab: p.sim.unwrap_or_default(), seed: None, iface: None })
    }
}

/// Opens the probe link through the session: the helper's for raw mode (no fallback: a sweep of the lab host is
/// not what was asked for), else the preset's lab host at the first target.
fn open_probes(job: &SweepJob) -> Result<OpenedProbes, SweepJobError> {
    let req = ProbeRequest {
        targets: job.cfg.hosts.clone(),
        sport: job.cfg.sport,
        choice: job.kind.choice(),
        iface: job.iface.clone(),
        max_pps: job.cfg.rate,
        lab: job.lab.clone(),
        in_process: false,
        seed: job.seed,
    };
    session::open_probes(&req).map_err(|e| {
        if e.is_input() {
            SweepJobError::Target(e)
        } else {
            SweepJobError::Unavailable(helper::unavailable_message(&e))
        }
    })
}

/// Runs a sweep to its end on the calling thread, exactly as the worker does: opens the probe link, tells
/// `opened` its description, our address and the sweep's seed, and reports progress to `progress` (which stops
/// the sweep by returning `false`; the results then say which ports were never probed).
pub fn sweep(
    job: &SweepJob,
    opened: &mut dyn FnMut(&str, IpAddr, u64),
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Vec<PortResult>, SweepJobError> {
    let mut link = open_probes(job)?;
    opened(&link.describe, link.src, link.seed.value);
    let cfg =
        SweepConfig { src: link.src, seed: link.seed.value, refused_hosts: link.refused.clone(), ..job.cfg.clone() };
    Ok(sweep::run(&cfg, link.link.as_mut(), progress)?)
}

/// Runs a sweep on the worker with the given seed, reporting progress (probes, replies, elapsed time) at most
/// once per tick, and always the last; Stop ends it early, keeping every verdict reached.
pub(super) fn run_sweep(job: &SweepJob, seed: Option<u64>, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    let job = &SweepJob { seed: seed.or(job.seed), ..job.clone() };
    let mut last = Instant::now();
    let mut stopped = false;
    // The latest progress not yet shown: the last one of a sweep always reaches the UI.
    let mut unsent = None;
    let result = {
        // Both closures report through the outbox, one after the other.
        let out = RefCell::new(&mut *out);
        let started = &mut |link: &str, src, seed| {
            out.borrow_mut().send(Msg::Started { link: super::with_seed(link, seed), src, seed });
        };
        sweep(job, started, &mut |p| {
            unsent = Some(p);
            if last.elapsed() >= TICK {
                last = Instant::now();
                unsent = None;
                out.borrow_mut().send(Msg::SweepProgress(p));
            }
            stopped = stopped || stop_asked(cmds);
            !stopped
        })
    };
    if let Some(p) = unsent {
        out.send(Msg::SweepProgress(p));
    }
    match result {
        Ok(r) => {
            out.send(Msg::SweepDone(r));
            out.send(Msg::Finished { pass: true, stopped, dropped: 0 });
        }
        Err(e) => out.send(Msg::Failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::sweep::Verdict;

    /// The GUI sweep uses the chosen preset's lab host: a port that preset filters stays silent.
    #[test]
    fn a_sweep_uses_the_presets_lab_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("filtered.ron");
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/half-open.ron")).unwrap();
        let text = text.replacen("guard: false,", "guard: false,\n    sim: (filtered: [81]),", 1);
        std::fs::write(&path, text).unwrap();
        let job = SweepJob::new(&path.display().to_string(), "192.0.2.10", "80-82", 10_000, LinkKind::Sim).unwrap();
        assert_eq!(job.lab.filtered, vec![81]);
        let mut opened = None;
        let r = sweep(&job, &mut |l, s, _| opened = Some((l.to_string(), s)), &mut |_| true).unwrap();
        let us = crate::link::sim::our_address("192.0.2.10".parse().unwrap());
        assert_eq!(opened, Some(("sim 192.0.2.10".to_string(), us)));
        let verdicts: Vec<(u16, Verdict)> = r.iter().map(|r| (r.port, r.verdict)).collect();
        assert_eq!(verdicts, vec![(80, Verdict::Open), (81, Verdict::Filtered), (82, Verdict::Closed)]);
    }

    /// A sweep beyond what the helper accepts is refused before any link opens, with the helper's number; so is
    /// a rate of 0 or above the ceiling (never clamped).
    #[test]
    fn a_sweep_of_too_many_addresses_is_refused_up_front() {
        let e = SweepJob::new("half-open", "10.0.0.0/19", "80", 100, LinkKind::Raw).unwrap_err();
        assert!(matches!(e, SweepJobError::Sweep(SweepError::Limit { .. })), "{e}");
        assert!(e.to_string().contains("4096") && e.to_string().contains("8192"), "{e}");
        for rate in [0, u64::from(crate::limits::MAX_PPS) + 1] {
            assert!(SweepJob::new("half-open", "192.0.2.10", "80", rate, LinkKind::Sim).is_err(), "{rate}");
        }
    }
}
