//! The worker thread: links and runs live here, never on the UI thread. Commands go in over a channel; results
//! come back in batches (one message per tick, not per packet), tagged with a generation id so the UI drops
//! anything from a run it has already abandoned. The worker asks egui to repaint when it has news, and exits when
//! the UI's end of the channel closes.

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::exchange::{self, Control, Observer, RunOptions, StepVerdict, Timeline, TimelineEvent};
use crate::link::helper;
use crate::link::raw::RawOptions;
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

/// Where a job goes and over what.
#[derive(Clone, Debug)]
pub struct LinkSetup {
    /// Simulated or raw.
    pub kind: LinkKind,
    /// The peer.
    pub target: IpAddr,
    /// The peer's port.
    pub dport: u16,
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
    Sweep {
        /// The sweep (its `src` is filled in from the link).
        cfg: Box<crate::exchange::sweep::SweepConfig>,
        /// Simulated or raw; the first host decides the route.
        kind: LinkKind,
    },
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
    /// Raw mode was not available: the job runs on the simulated lab host instead, and this says why and how to
    /// enable raw mode.
    Fallback(String),
    /// Sweep progress.
    SweepProgress(crate::exchange::sweep::Progress),
    /// The sweep's results.
    SweepDone(Vec<crate::exchange::sweep::PortResult>),
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
            self.stopped = matches!(self.cmds.try_recv(), Ok(Cmd::Stop) | Ok(Cmd::Start(..)));
        }
        self.stopped
    }
}

/// Opens the link a setup asks for; returns it with our source address. The GUI never opens raw sockets itself:
/// raw mode goes through the `tcpcraft-link` helper, and when that fails the job falls back to the simulated lab
/// host with a message that says how to enable raw mode.
fn open(setup: &LinkSetup, out: &mut Outbox<'_>) -> (Box<dyn Link>, IpAddr) {
    if setup.kind == LinkKind::Raw {
        let opts = RawOptions { iface: setup.iface.clone(), guard: setup.guard, layer2: false };
        match helper::open_flow(setup.target, &opts, false) {
            Ok(l) => return l,
            Err(e) => out.send(Msg::Fallback(helper::fallback_message(&e))),
        }
    }
    let cfg = setup.sim.clone().at(setup.target);
    (Box::new(SimLink::new(cfg)), our_address(setup.target))
}

/// Runs a sweep on the worker, reporting progress at most once per tick; Stop ends it early.
fn run_sweep(mut cfg: crate::exchange::sweep::SweepConfig, kind: LinkKind, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    use crate::exchange::sweep::{self, ProbeLink};
    let Some(&first) = cfg.hosts.first() else { return out.send(Msg::Failed("no target".into())) };
    let mut link: Box<dyn ProbeLink> = match kind {
        LinkKind::Raw => match helper::open_probes(&cfg.hosts, cfg.sport, None, cfg.rate, false) {
            Ok((r, src, _)) => {
                cfg.src = src;
                r
            }
            Err(e) => return out.send(Msg::Failed(helper::unavailable_message(&e))),
        },
        LinkKind::Sim => {
            cfg.src = our_address(first);
            Box::new(SimLink::new(SimConfig::default().at(first)))
        }
    };
    out.send(Msg::Started { link: format!("{kind:?}").to_lowercase(), src: cfg.src });
    let mut last = Instant::now();
    let mut stopped = false;
    let result = sweep::run(&cfg, link.as_mut(), &mut |p| {
        if last.elapsed() >= TICK {
            last = Instant::now();
            out.send(Msg::SweepProgress(p));
        }
        stopped = stopped || matches!(cmds.try_recv(), Ok(Cmd::Stop) | Ok(Cmd::Start(..)));
        !stopped
    });
    match result {
        Ok(r) => {
            out.send(Msg::SweepDone(r));
            out.send(Msg::Finished { pass: true, stopped, dropped: 0 });
        }
        Err(e) => out.send(Msg::Failed(e.to_string())),
    }
}

fn run_job(job: Job, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    let setup = match &job {
        Job::Run { setup, .. } | Job::SendOne { setup, .. } => setup.clone(),
        Job::Sweep { cfg, kind } => return run_sweep((**cfg).clone(), *kind, cmds, out),
    };
    let (mut link, src) = open(&setup, out);
    out.send(Msg::Started { link: link.describe(), src });
    match job {
        Job::Run { preset, step_through, .. } => {
            let opts = RunOptions {
                target: setup.target,
                dport: setup.dport,
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
        Job::Sweep { .. } => {}
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
        if matches!(cmds.try_recv(), Ok(Cmd::Stop) | Ok(Cmd::Start(..))) {
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
            target: "192.0.2.10".parse().unwrap(),
            dport: 80,
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
}
