//! The worker thread: name lookups, links and runs live here, never on the UI thread. Links are opened through
//! [`crate::exchange::session`], the one place that chooses and opens them (the Sweep tab's job is in `sweep`, the
//! Trace tab's in `trace`).
//! Commands go in over a channel; results come back in batches (one message per tick, not per packet), tagged with a generation id so the UI drops
//! anything from a run it has already abandoned. The worker asks egui to repaint when it has news, and exits when
//! the UI's end of the channel closes. Every job runs with the seed set by [`Worker::set_seed`] (or a random one)
//! and reports the seed it used, so the status bar can show it and a run can be repeated.

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::exchange::session::{self, FlowRequest, LinkChoice, Target};
use crate::exchange::states::TcpState;
use crate::exchange::sweep::{PortResult, Progress};
use crate::exchange::{self, Control, Observer, RunOptions, StepVerdict, Timeline, TimelineEvent};
use crate::link::{Flow, Link};
use crate::preset::{LabHost, Preset};
use crate::wire::{self, SegmentSpec};

mod sweep;
mod trace;

pub use sweep::{sweep, SweepJob, SweepJobError};
pub use trace::{trace, TraceJob, TraceJobError, TraceReport, MAX_TRACE_PORTS, MAX_WAIT_MS};

/// Which link a job uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LinkKind {
    /// The in-process smoltcp lab host.
    Sim,
    /// A raw socket on a real interface.
    Raw,
}

impl LinkKind {
    /// The session's link choice for this kind (the GUI never picks automatically).
    pub fn choice(self) -> LinkChoice {
        match self {
            LinkKind::Sim => LinkChoice::Sim,
            LinkKind::Raw => LinkChoice::Raw,
        }
    }
}

/// Where a job goes and over what.
#[derive(Clone, Debug)]
pub struct LinkSetup {
    /// Simulated or raw.
    pub kind: LinkKind,
    /// The peer: the target box's text (resolved on the worker, never on the UI thread), or a known address.
    pub target: Target,
    /// The peer's port when the target names none (the preset's, or the segment's own).
    pub port: u16,
    /// Interface for the raw link.
    pub iface: Option<String>,
    /// Kernel-RST guard on the raw link.
    pub guard: bool,
    /// The peer is this computer's kernel: listen on the target and drive that socket (raw runs only).
    pub local_peer: bool,
    /// The preset's lab host, for the simulated link.
    pub lab: LabHost,
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
    /// Trace the path to a host, one lane per port.
    Trace(Box<TraceJob>),
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
        /// The link's description, with the run's seed (`sim 192.0.2.10 · seed 42`), for the status bar.
        link: String,
        /// Our address, as the run uses it.
        src: IpAddr,
        /// The run's seed.
        seed: u64,
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
    /// The peer's own state after these events (by index), where the link can read it (the simulated host).
    PeerStates(Vec<(usize, TcpState)>),
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
    /// The trace's result (only a trace that ran to its end; a stopped one sends none).
    TraceDone(Box<TraceReport>),
}

enum Cmd {
    /// A job of this generation, with the seed given for it (`None`: the preset's, else a random one).
    Start(u64, Box<Job>, Option<u64>),
    Next,
    Stop,
}

/// The UI's handle on the worker thread.
pub struct Worker {
    cmd: Sender<Cmd>,
    msgs: Receiver<(u64, Msg)>,
    generation: u64,
    /// The seed for the jobs started from now on.
    seed: Option<u64>,
    /// The seed the latest job reported.
    last_seed: Cell<Option<u64>>,
    _thread: JoinHandle<()>,
}

/// The status bar's link text: the link's description and the run's seed.
fn with_seed(link: &str, seed: u64) -> String {
    crate::i18n::tf("ui.seed.status", &[("link", link), ("seed", &seed.to_string())])
}

impl Worker {
    /// Starts the worker thread; `repaint` is called whenever there is news.
    pub fn spawn(repaint: impl Fn() + Send + 'static) -> std::io::Result<Worker> {
        let (cmd_tx, cmd_rx) = mpsc::channel::<Cmd>();
        let (msg_tx, msg_rx) = mpsc::channel::<(u64, Msg)>();
        let thread = std::thread::Builder::new().name("tcpcraft-worker".into()).spawn(move || {
            // Ends when the UI drops its sender.
            while let Ok(cmd) = cmd_rx.recv() {
                if let Cmd::Start(generation, job, seed) = cmd {
                    let mut out = Outbox {
                        tx: &msg_tx,
                        generation,
                        repaint: &repaint,
                        buf: Vec::new(),
                        truth: Vec::new(),
                        last: Instant::now(),
                    };
                    run_job(*job, seed, &cmd_rx, &mut out);
                    out.flush();
                }
            }
        })?;
        let (seed, last_seed) = (None, Cell::new(None));
        Ok(Worker { cmd: cmd_tx, msgs: msg_rx, generation: 0, seed, last_seed, _thread: thread })
    }

    /// Starts a job, abandoning any earlier one (its late messages are dropped). It runs with the seed of
    /// [`Worker::set_seed`].
    pub fn start(&mut self, job: Job) {
        let _ = self.cmd.send(Cmd::Stop);
        self.generation += 1;
        let _ = self.cmd.send(Cmd::Start(self.generation, Box::new(job), self.seed));
    }

    /// The seed for jobs started from now on: `Some` repeats runs exactly, `None` lets each run take the preset's
    /// seed, else a new random one.
    pub fn set_seed(&mut self, seed: Option<u64>) {
        self.seed = seed;
    }

    /// The seed set for new jobs.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The seed the latest job ran with, once it has started.
    pub fn last_seed(&self) -> Option<u64> {
        self.last_seed.get()
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
        let msgs: Vec<Msg> = std::iter::from_fn(|| self.msgs.try_recv().ok())
            .filter(|(g, _)| *g == self.generation)
            .map(|(_, m)| m)
            .collect();
        if let Some(seed) =
            msgs.iter().rev().find_map(|m| if let Msg::Started { seed, .. } = m { Some(*seed) } else { None })
        {
            self.last_seed.set(Some(seed));
        }
        msgs
    }
}

/// Batches events so the UI gets one message per tick, and wakes the UI.
struct Outbox<'a> {
    tx: &'a Sender<(u64, Msg)>,
    generation: u64,
    repaint: &'a (dyn Fn() + Send),
    buf: Vec<TimelineEvent>,
    /// Peer states read after the events in `buf` (sent right after them).
    truth: Vec<(usize, TcpState)>,
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
        if !self.truth.is_empty() {
            let _ = self.tx.send((self.generation, Msg::PeerStates(std::mem::take(&mut self.truth))));
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

    fn on_peer_state(&mut self, i: usize, state: TcpState) {
        self.out.truth.push((i, state));
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

/// Whether the UI asked the current job to end (Stop, or a new job, which always comes after a Stop).
fn stop_asked(cmds: &Receiver<Cmd>) -> bool {
    matches!(cmds.try_recv(), Ok(Cmd::Stop) | Ok(Cmd::Start(..)))
}

fn run_job(job: Job, seed: Option<u64>, cmds: &Receiver<Cmd>, out: &mut Outbox<'_>) {
    let setup = match &job {
        Job::Run { setup, .. } | Job::SendOne { setup, .. } => setup.clone(),
        Job::Sweep(job) => return sweep::run_sweep(job, seed, cmds, out),
        Job::Trace(job) => return trace::run_trace(job, seed, cmds, out),
    };
    let opened = match open(&setup, seed) {
        Ok(o) => o,
        Err(e) => return out.send(Msg::BadTarget(e.to_string())),
    };
    if let Some(why) = opened.fallback {
        out.send(Msg::Fallback(why));
    }
    if stop_asked(cmds) {
        // Stopped while the name was being looked up.
        return out.send(Msg::Finished { pass: false, stopped: true, dropped: 0 });
    }
    let (mut link, src, raw, seed) = (opened.link, opened.src, opened.raw, opened.seed.value);
    if raw && setup.local_peer {
        let at = SocketAddr::new(opened.dst, opened.port.unwrap_or(setup.port));
        link = match crate::link::local_peer::LocalPeer::serve(link, at) {
            Ok(l) => Box::new(l),
            Err(e) => return out.send(Msg::Failed(e.to_string())),
        };
    }
    out.send(Msg::Started { link: with_seed(&opened.describe, seed), src, seed });
    match job {
        Job::Run { preset, step_through, .. } => {
            let opts = RunOptions {
                target: opened.dst,
                dport: opened.port.unwrap_or(setup.port),
                src,
                sport: None,
                isn: None,
                seed: Some(seed),
                linger_ms: if raw { 100 } else { 50 },
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
        Job::Sweep(_) | Job::Trace(_) => {}
        Job::SendOne { spec, wait_ms, .. } => {
            let result = send_one(&spec, link.as_mut(), wait_ms, cmds, out);
            match result {
                Ok(stopped) => out.send(Msg::Finished { pass: true, stopped, dropped: link.dropped() }),
                Err(e) => out.send(Msg::Failed(e)),
            }
        }
    }
}

/// Opens the flow link a setup asks for, through the session (the one place links are opened). This resolves
/// the target's name, so it runs on the worker. The GUI never opens raw sockets itself: raw mode goes through the
/// `tcpcraft-link` helper, and when raw mode itself is unavailable the job falls back to the simulated lab host,
/// with a message that says how to enable it. The errors left are about the input: the target (a name that does
/// not resolve, no route to it, an address the helper refuses) or the interface. `seed` is the seed given for the run
/// (else the preset's, else a random one; see [`session::Opened::seed`]).
pub fn open(setup: &LinkSetup, seed: Option<u64>) -> Result<session::Opened, crate::link::LinkError> {
    session::open_flow(&FlowRequest {
        target: setup.target.clone(),
        v6: false,
        choice: setup.kind.choice(),
        iface: setup.iface.clone(),
        guard: setup.guard,
        layer2: false,
        lab: setup.lab.clone(),
        in_process: false,
        fallback_to_sim: true,
        seed,
    })
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
mod tests;
