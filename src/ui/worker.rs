//! The worker thread: links and runs live here, never on the UI thread. Commands go in over a channel; results
//! come back in batches (one message per tick, not per packet), tagged with a generation id so the UI drops
//! anything from a run it has already abandoned. The worker asks egui to repaint when it has news, and exits when
//! the UI's end of the channel closes.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cli::send::split_target;
use crate::exchange::sweep::{self, PortResult, ProbeLink, Progress, SweepConfig, SweepError};
use crate::exchange::{self, Control, Observer, RunOptions, StepVerdict, Timeline, TimelineEvent};
use crate::link::helper;
use crate::link::raw::RawOptions;
use crate::link::route::resolve;
use crate::link::sim::{our_address, SimConfig, SimLink};
use crate::link::{Flow, Link};
use crate::preset::Preset;
use crate::wire::{self, SegmentSpec};

/// Which link a job uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LinkKind {
    /// The in-process smoltcp lab host.
    Sim,
    /// A raw socket on a real interface.
    Raw,
}

/// The peer of a job: as the user typed it (resolved on the worker, never on the UI thread), or already known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// `host`, `host:port`, `[v6]:port` or a bare address; an empty host is the lab host. `port` is used when the
    /// text names none.
    Typed {
        /// The text from the target box.
        text: String,
        /// The port when the text has none (the preset's).
        port: u16,
    },
    /// A known address and port (Send one: the segment's own destination).
    Known(IpAddr, u16),
}

/// Where a job goes and over what.
#[derive(Clone, Debug)]
pub struct LinkSetup {
    /// Simulated or raw.
    pub kind: LinkKind,
    /// The peer, resolved by the worker when the job starts.
    pub peer: Peer,
    /// Interface for the raw link.
    pub iface: Option<String>,
    /// Kernel-RST guard on the raw link.
    pub guard: bool,
    /// Lab host settings for the simulated link.
    pub sim: SimConfig,
}

/// Work for the worker.
#[derive(Clone, Debug)]
pub enum Job {
    /// Run a preset; with `step_through`, pause before every Send until [`Worker::next`].
    Run {
        /// The preset.
        preset: Box<Preset>,
        /// Where.
        setup: LinkSetup,
        /// Pause before each Send.
        step_through: bool,
    },
    /// Sweep a probe across hosts and ports.
    Sweep(Box<SweepJob>),
    /// Send the edited segment once and collect replies for `wait_ms`.
    SendOne {
        /// The segment, exactly as edited.
        spec: Box<SegmentSpec>,
        /// Where.
        setup: LinkSetup,
        /// How long to listen.
        wait_ms: u64,
    },
}

/// News from the worker.
#[derive(Debug)]
pub enum Msg {
    /// The link is open.
    Started {
        /// The link's description.
        link: String,
        /// Our address, as the run uses it.
        src: IpAddr,
    },
    /// A segment is about to go out (in step-through, the worker now waits for Next).
    AboutToSend {
        /// Step, 0-based.
        step: usize,
        /// The segment.
        spec: Box<SegmentSpec>,
    },
    /// New timeline events, in order.
    Events(Vec<TimelineEvent>),
    /// A step's verdict.
    Verdict(StepVerdict),
    /// The job ended.
    Finished {
        /// Every expectation met.
        pass: bool,
        /// Stopped by the user.
        stopped: bool,
        /// Datagrams lost to a full capture ring.
        dropped: u64,
    },
    /// The job could not run.
    Failed(String),
    /// The target could not be read or resolved (the job did not start); the text says why.
    BadTarget(String),
    /// Raw mode was not available: the job runs on the simulated lab host instead, and this says why and how to
    /// enable raw mode.
    Fallback(String),
    /// Sweep progress.
    SweepProgress(Progress),
    /// The sweep's results.
    SweepDone(Vec<PortResult>),
}

enum Cmd {
    Start(u64, Job),
    Next,
    Stop,
}

/// The UI's handle on the worker thread.
pub struct Worker {
    cmd: Sender<Cmd>,
    msgs: Receiver<(u64, Msg)>,
    generation: u64,
    _thread: JoinHandle<()>,
}

impl Worker {
    /// Starts the worker thread; `repaint` is called whenever there is news.
    pub fn spawn(repaint: impl Fn() + Send + 'static) -> std::io::Result<Worker> {
        let (cmd_tx, cmd_rx) = mpsc::channel::<Cmd>();
        let (msg_tx, msg_rx) = mpsc::channel::<(u64, Msg)>();
        let thread = std::thread::Builder::new().name("tcpcraft-worker".into()).spawn(move || {
            // Ends when the UI drops its sender.
            while let Ok(cmd) = cmd_rx.recv() {
                if let Cmd::Start(generation, job) = cmd {
                    let mut out =
                        Outbox { tx: &msg_tx, generation, repaint: &repaint, buf: Vec::new(), last: Instant::now() };
                    run_job(job, &cmd_rx, &mut out);
                    out.flush();
                }
            }
        })?;
        Ok(Worker { cmd: cmd_tx, msgs: msg_rx, generation: 0, _thread: thread })
    }

    /// Starts a job, abandoning any earlier one (its late messages are dropped).
    pub fn start(&mut self, job: Job) {
        let _ = self.cmd.send(Cmd::Stop);
        self.generation += 1;
        let _ = self.cmd.send(Cmd::Start(self.generation, job));
    }

    /// Lets a paused step-through run send its next segment.
    pub fn next(&self) {
        let _ = self.cmd.send(Cmd::Next);
    }

    /// Stops the current job.
    pub fn stop(&mut self) {
        let _ = self.cmd.send(Cmd::Stop);
    }

    /// Every message of the current job that has arrived, without waiting.
    pub fn drain(&self) -> Vec<Msg> {
        std::iter::from_fn(|| self.msgs.try_recv().ok())
            .filter(|(g, _)| *g == self.generation)
            .map(|(_, m)| m)
            .collect()
    }
}

/// Batches events so the UI gets one message per tick, and wakes the UI.
struct Outbox<'a> {
    tx: &'a Sender<(u64, Msg)>,
    generation: u64,
    repaint: &'a (dyn Fn() + Send),
    buf: Vec<TimelineEvent>,
    last: Instant,
}

/// How often batched events are handed to the UI.
const TICK: Duration = Duration::from_millis(16);

impl Outbox<'_> {
    fn send(&mut self, m: Msg) {
        self.flush();
        let _ = self.tx.send((self.generation, m));
        (self.repaint)();
    }

    fn event(&mut self, e: TimelineEvent) {
        self.buf.push(e);
        if self.last.elapsed() >= TICK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.tx.send((self.generation, Msg::Events(std::mem::take(&mut self.buf))));
            (self.repaint)();
        }
        self.last = Instant::now();
    }
}

struct UiObserver<'a, 'b> {
    out: &'a mut Outbox<'b>,
    cmds: &'a Receiver<Cmd>,
    step_through: bool,
    stopped: bool,
}

impl Observer for UiObserver<'_, '_> {
    fn before_send(&mut self, step: usize, spec: &SegmentSpec, _bytes: &[u8]) -> Control {
        self.out.send(Msg::AboutToSend { step, spec: Box::new(spec.clone()) });
        if !self.step_through {
            return Control::Continue;
        }
        loop {
            match self.cmds.recv_timeout(Duration::from_millis(100)) {
                Ok(Cmd::Next) => return Control::Continue,
                Ok(Cmd::Stop) | Ok(Cmd::Start(..)) | Err(RecvTimeoutError::Disconnected) => {
                    self.stopped = true;
                    return Control::Stop;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn on_event(&mut self, _i: usize, e: &TimelineEvent) {
        self.out.event(e.clone());
    }

    fn on_verdict(&mut self, v: &StepVerdict) {
        self.out.send(Msg::Verdict(v.clone()));
    }

    fn stop_requested(&mut self) -> bool {
        if !self.stopped {
            self.stopped = stop_asked(self.cmds);
        }
        self.stopped
    }
}

/// Why a job could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The target text is not `host[:port]`.
    #[error("{0}")]
    TargetText(String),
    /// The host name did not resolve.
    #[error(transparent)]
    Resolve(#[from] crate::link::LinkError),
    /// The sweep's preset did not load.
    #[error(transparent)]
    Preset(#[from] crate::preset::PresetError),
    /// The sweep's preset, targets or ports were refused.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Raw mode is not available; the text says why and how to enable it.
    #[error("{0}")]
    Unavailable(String),
}

/// The peer's address and port. Runs on the worker: a host name is looked up here (as slowly as the system's
/// resolver answers), never on the UI thread. An empty host is the lab host of `sim`.
pub fn resolve_peer(peer: &Peer, sim: &SimConfig) -> Result<(IpAddr, u16), JobError> {
    match peer {
        Peer::Known(ip, port) => Ok((*ip, *port)),
        Peer::Typed { text, port } => {
            let (host, typed_port) = split_target(text.trim()).map_err(|e| JobError::TargetText(e.to_string()))?;
            let ip = if host.is_empty() { IpAddr::V4(sim.host) } else { resolve(&host, false)? };
            Ok((ip, typed_port.unwrap_or(*port)))
        }
    }
}

/// A sweep as the Sweep tab asks for it. The probe and the lab host (its `sim:` section) come from the chosen
/// preset, as in `tcpcraft sweep`.
#[derive(Clone, Debug)]
pub struct SweepJob {
    /// The sweep (its `src` is filled in from the link).
    pub cfg: SweepConfig,
    /// Simulated or raw; the first host decides the route.
    pub kind: LinkKind,
    /// The preset's lab host, for the simulated link.
    pub sim: SimConfig,
}

impl SweepJob {
    /// The sweep of `preset` (a bundled name or a file) over `targets` (addresses or CIDR blocks) and `ports`, at
    /// most `rate` probes per second, with the same retries and wait as the CLI's defaults.
    pub fn new(preset: &str, targets: &str, ports: &str, rate: u64, kind: LinkKind) -> Result<SweepJob, JobError> {
        let p = crate::preset::resolve(preset)?;
        let cfg = SweepConfig {
            src: crate::link::sim::SIM_US.into(),
            probe: sweep::probe_of(&p)?,
            hosts: sweep::parse_targets(targets, false)?,
            ports: sweep::parse_ports(ports)?,
            sport: 47_000,
            rate: rate.clamp(1, sweep::DEFAULT_RATE),
            retries: 1,
            wait: Duration::from_millis(500),
        };
        Ok(SweepJob { cfg, kind, sim: p.sim.unwrap_or_default() })
    }
}

/// Opens the link a setup asks for, to `target`; returns it with our source address. The GUI never opens raw
/// sockets itself: raw mode goes through the `tcpcraft-link` helper, and when that fails the job falls back to
/// the simulated lab host with a message that says how to enable raw mode.
fn open(setup: &LinkSetup, target: IpAddr, out: &mut Outbox<'_>) -> (Box<dyn Link>, IpAddr) {
    if setup.kind == LinkKind::Raw {
        let opts = RawOptions { iface: setup.iface.clone(), guard: setup.guard, layer2: false };
        match helper::open_flow(target, &opts, false) {
            Ok(l) => return l,
            Err(e) => out.send(Msg::Fallback(helper::fallback_message(&e))),
        }
    }
    let cfg = setup.sim.clone().at(target);
    (Box::new(SimLink::new(cfg)), our_address(target))
}

/// Opens the probe link of a sweep: the helper's for raw mode (no fallback: a sweep of the lab host is not what
/// was asked for), else the preset's lab host at the first target. Returns it with our address.
fn open_probes(job: &SweepJob) -> Result<(Box<dyn ProbeLink>, IpAddr), JobError> {
    let Some(&first) = job.cfg.hosts.first() else {
        return Err(SweepError::Refused(String::new(), "no target given".into()).into());
    };
    match job.kind {
        LinkKind::Raw => match helper::open_probes(&job.cfg.hosts, job.cfg.sport, None, job.cfg.rate, false) {
            Ok((link, src, _)) => Ok((link, src)),
            Err(e) => Err(JobError::Unavailable(helper::unavailable_message(&e))),
        },
        LinkKind::Sim => Ok((Box::new(SimLink::new(job.sim.clone().at(first))), our_address(first))),
    }
}

/// Runs a sweep to its end on the calling thread, exactly as the worker does: opens the probe link, tells
/// `opened` our address, and reports progress to `progress` (which stops the sweep by returning `false`).
pub fn sweep(
    job: &SweepJob,
    opened: &mut dyn FnMut(IpAddr),
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Vec<PortResult>, JobError> {
    let (mut link, src) = open_probes(job)?;
    opened(src);
    let cfg = SweepConfig { src, ..job.cfg.clone() };
    Ok(sweep::run(&cfg, link.as_mut(), progress)?)
}

/// Runs a sweep on the worker, reporting progress at most once per tick; Stop ends it early.
fn run_sweep(job: &SweepJob, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    let mut last = Instant::now();
    let mut stopped = false;
    // The latest progress not yet shown: the last one of a sweep always reaches the UI.
    let mut unsent = None;
    let link = format!("{:?}", job.kind).to_lowercase();
    let result = {
        // Both closures report through the outbox, one after the other.
        let out = RefCell::new(&mut *out);
        sweep(job, &mut |src| out.borrow_mut().send(Msg::Started { link: link.clone(), src }), &mut |p| {
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

/// Whether the UI asked the current job to end (Stop, or a new job, which always comes after a Stop).
fn stop_asked(cmds: &Receiver<Cmd>) -> bool {
    matches!(cmds.try_recv(), Ok(Cmd::Stop) | Ok(Cmd::Start(..)))
}

fn run_job(job: Job, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    let setup = match &job {
        Job::Run { setup, .. } | Job::SendOne { setup, .. } => setup.clone(),
        Job::Sweep(sweep) => return run_sweep(sweep, cmds, out),
    };
    // The name is looked up here, on the worker: a slow resolver holds up this job, never a frame.
    let (target, dport) = match resolve_peer(&setup.peer, &setup.sim) {
        Ok(peer) => peer,
        Err(e) => return out.send(Msg::BadTarget(e.to_string())),
    };
    if stop_asked(cmds) {
        return out.send(Msg::Finished { pass: false, stopped: true, dropped: 0 });
    }
    let (mut link, src) = open(&setup, target, out);
    out.send(Msg::Started { link: link.describe(), src });
    match job {
        Job::Run { preset, step_through, .. } => {
            let opts = RunOptions {
                target,
                dport,
                src,
                sport: None,
                isn: None,
                seed: None,
                linger_ms: if setup.kind == LinkKind::Raw { 100 } else { 50 },
            };
            let mut obs = UiObserver { out, cmds, step_through, stopped: false };
            let result = exchange::run(&preset, link.as_mut(), &opts, &mut obs);
            let stopped = obs.stopped;
            match result {
                Ok(r) => out.send(Msg::Finished {
                    pass: r.timeline.pass() && !r.stopped,
                    stopped: r.stopped || stopped,
                    dropped: link.dropped(),
                }),
                Err(e) => out.send(Msg::Failed(e.to_string())),
            }
        }
        Job::Sweep(_) => {}
        Job::SendOne { spec, wait_ms, .. } => {
            let result = send_one(&spec, link.as_mut(), wait_ms, cmds, out);
            match result {
                Ok(stopped) => out.send(Msg::Finished { pass: true, stopped, dropped: link.dropped() }),
                Err(e) => out.send(Msg::Failed(e)),
            }
        }
    }
}

/// Sends one segment exactly as edited and collects the flow for `wait_ms`. Returns whether it was stopped.
fn send_one(
    spec: &SegmentSpec,
    link: &mut dyn Link,
    wait_ms: u64,
    cmds: &Receiver<Cmd>,
    out: &mut Outbox<'_>,
) -> Result<bool, String> {
    let bytes = wire::build(spec).map_err(|e| e.to_string())?;
    let seg = wire::parse_any_protocol(&bytes).map_err(|e| e.to_string())?;
    let flow =
        Flow { local: SocketAddr::new(seg.src(), seg.tcp.sport), remote: SocketAddr::new(seg.dst(), seg.tcp.dport) };
    link.watch(flow).map_err(|e| e.to_string())?;
    out.send(Msg::AboutToSend { step: 0, spec: Box::new(spec.clone()) });
    let t0 = link.send(&bytes).map_err(|e| e.to_string())?;
    let mut tl = Timeline::new(t0);
    let deadline = t0 + wait_ms * 1000;
    // Bounded by the deadline, checked in slices so Stop is honoured quickly.
    loop {
        if stop_asked(cmds) {
            return Ok(true);
        }
        let slice = (link.now() + 50_000).min(deadline);
        let batch = link.recv_until(slice).map_err(|e| e.to_string())?;
        for c in batch {
            let i = tl.push(c, Some(0));
            out.event(tl.events[i].clone());
        }
        if link.now() >= deadline {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw mode without a usable helper (in a unit test there is none next to the test binary): the run falls
    /// back to the simulated lab host, says why, and says how to enable raw mode.
    #[test]
    fn raw_without_the_helper_falls_back_to_the_lab_host_and_explains() {
        if std::env::var_os(helper::HELPER_ENV).is_some() {
            return; // someone pointed us at a real helper; the netns tests cover that case
        }
        let mut w = Worker::spawn(|| {}).unwrap();
        let setup = LinkSetup {
            kind: LinkKind::Raw,
            peer: Peer::Typed { text: "192.0.2.10".into(), port: 80 },
            iface: None,
            guard: true,
            sim: SimConfig::default(),
        };
        let preset = crate::preset::resolve("normal-open").unwrap();
        w.start(Job::Run { preset: Box::new(preset), setup, step_through: false });
        let until = Instant::now() + Duration::from_secs(10);
        let mut msgs = Vec::new();
        while Instant::now() < until && !msgs.iter().any(|m| matches!(m, Msg::Finished { .. } | Msg::Failed(_))) {
            msgs.extend(w.drain());
            std::thread::sleep(Duration::from_millis(5));
        }
        let why = msgs.iter().find_map(|m| if let Msg::Fallback(w) = m { Some(w.clone()) } else { None });
        let why = why.unwrap_or_else(|| panic!("no fallback message: {msgs:?}"));
        assert!(why.contains("Raw mode is not available"), "{why}");
        assert!(why.contains("Running on the simulated lab host instead"), "{why}");
        assert!(why.contains("tcpcraft-link") && why.contains("Install the tcpcraft package"), "{why}");
        assert!(msgs.iter().any(|m| matches!(m, Msg::Started { link, .. } if link.starts_with("sim"))), "{msgs:?}");
        assert!(msgs.iter().any(|m| matches!(m, Msg::Finished { pass: true, .. })), "the lab run passes: {msgs:?}");
    }

    /// Messages of the current job until it ends (at most 30 s).
    fn until_done(w: &Worker) -> Vec<Msg> {
        let until = Instant::now() + Duration::from_secs(30);
        let mut msgs = Vec::new();
        let done = |m: &Msg| matches!(m, Msg::Finished { .. } | Msg::Failed(_) | Msg::BadTarget(_));
        while Instant::now() < until && !msgs.iter().any(done) {
            msgs.extend(w.drain());
            std::thread::sleep(Duration::from_millis(5));
        }
        msgs
    }

    /// A host name that never resolves (`.invalid`, RFC 6761): `start` returns at once, the name is looked up on
    /// the worker, and its failure comes back as a message naming the host.
    #[test]
    fn an_unresolvable_name_is_reported_by_the_worker() {
        let mut w = Worker::spawn(|| {}).unwrap();
        let setup = LinkSetup {
            kind: LinkKind::Sim,
            peer: Peer::Typed { text: "no-such-host.invalid:80".into(), port: 80 },
            iface: None,
            guard: false,
            sim: SimConfig::default(),
        };
        let preset = crate::preset::resolve("normal-open").unwrap();
        let t0 = Instant::now();
        w.start(Job::Run { preset: Box::new(preset), setup, step_through: false });
        assert!(t0.elapsed() < Duration::from_millis(50), "start only queues the job: {:?}", t0.elapsed());
        let msgs = until_done(&w);
        let why = msgs.iter().find_map(|m| if let Msg::BadTarget(w) = m { Some(w.clone()) } else { None });
        let why = why.unwrap_or_else(|| panic!("no target error: {msgs:?}"));
        assert!(why.contains("no-such-host.invalid"), "{why}");
        assert!(!msgs.iter().any(|m| matches!(m, Msg::Started { .. })), "no link was opened: {msgs:?}");
    }

    #[test]
    fn typed_peers_take_the_port_from_the_text_or_the_preset_and_an_empty_host_is_the_lab_host() {
        let sim = SimConfig::default();
        let typed = |text: &str| Peer::Typed { text: text.into(), port: 8080 };
        assert_eq!(resolve_peer(&typed("192.0.2.7:22"), &sim).unwrap(), ("192.0.2.7".parse().unwrap(), 22));
        assert_eq!(resolve_peer(&typed(" [2001:db8::1]:443 "), &sim).unwrap(), ("2001:db8::1".parse().unwrap(), 443));
        assert_eq!(resolve_peer(&typed("192.0.2.7"), &sim).unwrap().1, 8080);
        assert_eq!(resolve_peer(&typed(""), &sim).unwrap(), (IpAddr::V4(sim.host), 8080));
        assert!(matches!(resolve_peer(&typed("192.0.2.7:http"), &sim), Err(JobError::TargetText(_))));
        let known = Peer::Known("198.51.100.1".parse().unwrap(), 7);
        assert_eq!(resolve_peer(&known, &sim).unwrap(), ("198.51.100.1".parse().unwrap(), 7));
    }

    /// The GUI sweep uses the chosen preset's lab host: a port that preset filters stays silent.
    #[test]
    fn a_sweep_uses_the_presets_lab_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("filtered.ron");
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/half-open.ron")).unwrap();
        let text = text.replacen("guard: false,", "guard: false,\n    sim: (filtered: [81]),", 1);
        std::fs::write(&path, text).unwrap();
        let job = SweepJob::new(&path.display().to_string(), "192.0.2.10", "80-82", 10_000, LinkKind::Sim).unwrap();
        assert_eq!(job.sim.filtered, vec![81]);
        let r = sweep(&job, &mut |_| {}, &mut |_| true).unwrap();
        let verdicts: Vec<(u16, sweep::Verdict)> = r.iter().map(|r| (r.port, r.verdict)).collect();
        assert_eq!(
            verdicts,
            vec![(80, sweep::Verdict::Open), (81, sweep::Verdict::Filtered), (82, sweep::Verdict::Closed)]
        );
    }
}
