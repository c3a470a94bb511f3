//! The runner: executes a preset's steps over any [`Link`], evaluating templates against the replies bound so
//! far, and builds the [`Timeline`]. It can pause before every send (step-through), and it is bounded: every wait
//! ends at its step's deadline on the link's clock.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use super::states::{self, PeerStateSource, States, TcpState};
use super::timeline::{SentFragment, StepVerdict, Timeline, TimelineEvent};
use crate::link::{Captured, Flow, Link, LinkError, Origin, PeerAct};
use crate::preset::expr::{self, Expr, ExprError, Scope};
use crate::preset::schema::{ExpectStep, SendTemplate};
use crate::preset::{PeerAction, Preset, Step};
use crate::wire::seq::next_seq;
use crate::wire::{self, Payload, Segment, SegmentSpec, WireError};

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The peer's address.
    pub target: IpAddr,
    /// The peer's port.
    pub dport: u16,
    /// Our address.
    pub src: IpAddr,
    /// Our port; random (49152-65535) when absent.
    pub sport: Option<u16>,
    /// Our ISN; random when absent.
    pub isn: Option<u32>,
    /// Seed for `random` and the defaults above; from the OS when absent.
    pub seed: Option<u64>,
    /// How long to keep listening after the last step, in ms (late segments, our kernel's RST).
    pub linger_ms: u64,
}

/// What the observer wants after seeing the segment about to go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Send it.
    Continue,
    /// Stop the run here.
    Stop,
}

/// Watches a run as it happens: the UI and the CLI's `--step` implement this.
pub trait Observer {
    /// Called before each Send with the built segment; step-through pauses here.
    fn before_send(&mut self, _step: usize, _spec: &SegmentSpec, _bytes: &[u8]) -> Control {
        Control::Continue
    }
    /// Called for every event added to the timeline.
    fn on_event(&mut self, _index: usize, _event: &TimelineEvent) {}
    /// Called after each event with the peer's own state at that moment, where the link can read it.
    fn on_peer_state(&mut self, _index: usize, _state: TcpState) {}
    /// Called when a step's verdict is known.
    fn on_verdict(&mut self, _verdict: &StepVerdict) {}
    /// Polled while waiting; `true` stops the run.
    fn stop_requested(&mut self) -> bool {
        false
    }
}

/// An observer that watches nothing.
pub struct Silent;
impl Observer for Silent {}

/// Why a run could not go on (an unmet expectation is not an error: it is a failed verdict).
#[derive(Debug, Error)]
pub enum RunError {
    /// The link failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A step's template evaluated to an impossible segment.
    #[error("step {step}: {source}")]
    Wire {
        /// 1-based step.
        step: usize,
        /// The build error.
        #[source]
        source: WireError,
    },
    /// An expression could not be evaluated.
    #[error("step {step}, field {field}: {source}")]
    Expr {
        /// 1-based step.
        step: usize,
        /// The template field.
        field: &'static str,
        /// The evaluation error.
        #[source]
        source: ExprError,
    },
}

/// How the run ended.
#[derive(Debug)]
pub struct RunResult {
    /// Everything that happened.
    pub timeline: Timeline,
    /// Whether an observer stopped it early.
    pub stopped: bool,
    /// Steps that ran (the run stops at the first unmet expectation).
    pub steps_run: usize,
    /// Both ends' TCP states after every event (the peer's from the link where it can read them).
    pub states: Vec<States>,
    /// Where the peer's states come from.
    pub peer_state_source: PeerStateSource,
}

struct State {
    isn: u32,
    next: u32,
    sport: u16,
    dport: u16,
    rng: fastrand::Rng,
    bound: HashMap<String, Segment>,
    peer_isn: Option<u32>,
    /// A preview before any reply: names of replies not bound yet count as 0.
    preview: bool,
}

impl Scope for State {
    fn lookup(&mut self, name: &str) -> Option<u32> {
        match name {
            "isn" => Some(self.isn),
            "next" => Some(self.next),
            "random" => Some(self.rng.u32(..)),
            "sport" => Some(self.sport.into()),
            "dport" => Some(self.dport.into()),
            _ => {
                let (b, field) = name.split_once('.')?;
                match self.bound.get(b) {
                    Some(seg) => expr::reply_field(seg, field, self.peer_isn),
                    None if self.preview => Some(0),
                    None => None,
                }
            }
        }
    }
}

/// The segment a Send step describes, with every expression evaluated.
fn build_spec(t: &SendTemplate, st: &mut State, opts: &RunOptions, step: usize) -> Result<SegmentSpec, RunError> {
    let (next, sport, dport) = (st.next, st.sport, st.dport);
    let mut eval = |field: &'static str, e: &Option<Expr>, default: u32| -> Result<u32, RunError> {
        match e {
            Some(e) => e.eval(st).map_err(|source| RunError::Expr { step, field, source }),
            None => Ok(default),
        }
    };
    let seq = eval("seq", &t.seq, next)?;
    let ack = eval("ack", &t.ack, 0)?;
    let sport = eval("sport", &t.sport, sport.into())? as u16;
    let dport = eval("dport", &t.dport, dport.into())? as u16;
    let window = eval("window", &t.window, 64240)? as u16;
    let urgent = eval("urgent", &t.urgent, 0)? as u16;
    let mut spec = t.spec.as_deref().cloned().unwrap_or_default();
    if let Some(ip) = spec.ip.addressed(opts.src, opts.target) {
        spec.ip = ip;
    }
    spec.tcp.sport = sport;
    spec.tcp.dport = dport;
    spec.tcp.seq = seq;
    spec.tcp.ack = ack;
    spec.tcp.flags = t.flags.0;
    spec.tcp.window = window;
    spec.tcp.urgent = urgent;
    spec.tcp.options = t.options.clone();
    spec.payload = t.payload.clone().unwrap_or(Payload::Hex(Vec::new()));
    Ok(spec)
}

/// The segment Send step `step` (0-based) of `preset` would build if every earlier Send went out and no reply
/// came: replies' numbers (`peer.seq`) count as 0, `isn` is `opts.isn` (0 when absent) and `next` follows the
/// earlier Sends. For previews; a run evaluates the real numbers. `None` when that step is not a Send.
pub fn preview(preset: &Preset, step: usize, opts: &RunOptions) -> Option<Result<SegmentSpec, RunError>> {
    let isn = opts.isn.unwrap_or(0);
    let rng = fastrand::Rng::with_seed(opts.seed.unwrap_or(0));
    let sport = opts.sport.unwrap_or(49152);
    let mut st =
        State { isn, next: isn, sport, dport: opts.dport, rng, bound: HashMap::new(), peer_isn: None, preview: true };
    if !matches!(preset.steps.get(step), Some(Step::Send(_))) {
        return None;
    }
    for (i, s) in preset.steps.iter().enumerate().take(step + 1) {
        if let Step::Send(t) = s {
            let spec = match build_spec(t, &mut st, opts, i + 1) {
                Ok(spec) => spec,
                Err(e) => return Some(Err(e)),
            };
            if i == step {
                return Some(Ok(spec));
            }
            st.next = next_seq(spec.tcp.seq, spec.tcp.flags, spec.payload.bytes().len());
        }
    }
    None
}

/// Before anything is sent: every Send step's listed fragment order names each of its pieces once (counted from
/// the step's preview), so a run never stops halfway through an exchange on a list that cannot fit.
fn check_fragment_orders(preset: &Preset, opts: &RunOptions) -> Result<(), RunError> {
    for (i, s) in preset.steps.iter().enumerate() {
        let Step::Send(t) = s else { continue };
        let Some(f @ wire::fragment::Fragmenting { order: wire::fragment::FragOrder::Given(_), .. }) = &t.fragment
        else {
            continue;
        };
        // A step that cannot be built says so when it is reached, as before.
        let Some(Ok(spec)) = preview(preset, i, opts) else { continue };
        let Ok(bytes) = wire::build(&spec) else { continue };
        wire::fragment::check_order(&bytes, f.size, &f.order)
            .map_err(|source| RunError::Wire { step: i + 1, source })?;
    }
    Ok(())
}

/// Runs the preset over the link.
pub fn run(
    preset: &Preset,
    link: &mut dyn Link,
    opts: &RunOptions,
    obs: &mut dyn Observer,
) -> Result<RunResult, RunError> {
    check_fragment_orders(preset, opts)?;
    let mut rng = opts.seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
    let isn = opts.isn.unwrap_or_else(|| rng.u32(..));
    let sport = opts.sport.unwrap_or_else(|| rng.u16(49152..=65535));
    let mut st =
        State { isn, next: isn, sport, dport: opts.dport, rng, bound: HashMap::new(), peer_isn: None, preview: false };
    let mut watched =
        Flow { local: SocketAddr::new(opts.src, sport), remote: SocketAddr::new(opts.target, opts.dport) };
    link.watch(watched)?;
    if preset.steps.iter().any(|s| matches!(s, Step::Peer(_))) {
        link.script_peer()?;
    }
    let mut r = Runner {
        link,
        tl: Timeline::new(0),
        started: false,
        sent: Vec::new(),
        consumed: Vec::new(),
        obs,
        peer_truth: Vec::new(),
        peer_connected: false,
        fragments_sent: Vec::new(),
    };
    let mut steps_run = 0;
    let mut stopped = false;
    for (i, step) in preset.steps.iter().enumerate() {
        if r.obs.stop_requested() {
            stopped = true;
            break;
        }
        steps_run += 1;
        match step {
            Step::Send(t) => {
                let spec = build_spec(t, &mut st, opts, i + 1)?;
                let bytes = wire::build(&spec).map_err(|source| RunError::Wire { step: i + 1, source })?;
                if r.obs.before_send(i, &spec, &bytes) == Control::Stop {
                    stopped = true;
                    break;
                }
                // A step may send from or to other ports than the run's (e.g. a lab's SYN to a closed port).
                let flow = Flow {
                    local: SocketAddr::new(opts.src, spec.tcp.sport),
                    remote: SocketAddr::new(opts.target, spec.tcp.dport),
                };
                if flow != watched {
                    watched = flow;
                    r.link.watch(flow)?;
                }
                // Fragments: each as it went out, with its link time; the first one's time is the segment's.
                let mut frags: Vec<(u64, Vec<u8>)> = Vec::new();
                let t_sent = match &t.fragment {
                    Some(f) => {
                        let seed = opts.seed.unwrap_or(0) ^ i as u64;
                        for d in wire::fragment::fragment(&bytes, f, seed)
                            .map_err(|source| RunError::Wire { step: i + 1, source })?
                        {
                            frags.push((r.link.send(&d)?, d));
                        }
                        frags.first().map_or_else(|| r.link.now(), |f| f.0)
                    }
                    None => r.link.send(&bytes)?,
                };
                if !r.started {
                    r.tl = Timeline::new(t_sent);
                    r.started = true;
                }
                if let Ok(seg) = wire::parse_any_protocol(&bytes) {
                    r.sent.push((i, bytes[seg.tcp_offset..].to_vec()));
                    if !frags.is_empty() {
                        // No capture sees a fragmented segment whole (nor, through the capture filter, any fragment
                        // past the first): the timeline shows it as built, with the fragments as they went out.
                        let c = Captured { t: t_sent, bytes, origin: Origin::Crafted, segment: Some(seg), icmp: None };
                        let t0 = r.tl.t0;
                        r.fragments_sent.extend(frags.iter().map(|f| f.1.clone()));
                        let sent = frags
                            .into_iter()
                            .map(|(at, bytes)| SentFragment { t_us: at.saturating_sub(t0), bytes })
                            .collect();
                        r.add_sent(c, sent);
                    }
                }
                st.next = next_seq(spec.tcp.seq, spec.tcp.flags, spec.payload.bytes().len());
                // Pick up our own segment (and anything already waiting) without waiting.
                let now = r.link.now();
                r.collect_until(now)?;
            }
            Step::Expect(x) => {
                let v = r.expect(i, x, &mut st)?;
                let pass = v.pass;
                r.obs.on_verdict(&v);
                r.tl.verdicts.push(v);
                if !pass {
                    break;
                }
            }
            Step::ExpectNothing { within_ms } => {
                let from = r.tl.events.len();
                let deadline = r.link.now() + within_ms * 1000;
                r.collect_until(deadline)?;
                let heard: Vec<String> = r.tl.events[from..]
                    .iter()
                    .filter(|e| matches!(e.origin, Origin::Peer | Origin::Icmp))
                    .map(|e| if e.icmp.is_some() { "ICMP".into() } else { e.flags().wireshark() })
                    .collect();
                let v = StepVerdict {
                    step: i,
                    kind: "ExpectNothing".into(),
                    pass: heard.is_empty(),
                    detail: if heard.is_empty() {
                        format!("silence for {within_ms} ms, as expected")
                    } else {
                        format!("expected silence for {within_ms} ms, but got {}", heard.join(", "))
                    },
                    event: None,
                };
                let pass = v.pass;
                r.obs.on_verdict(&v);
                r.tl.verdicts.push(v);
                if !pass {
                    break;
                }
            }
            Step::Sleep(ms) => {
                let deadline = r.link.now() + ms * 1000;
                r.collect_until(deadline)?;
            }
            Step::Peer(a) => {
                let act = match a {
                    PeerAction::Nothing => None,
                    PeerAction::Send(p) => Some(PeerAct::Send(p.bytes().to_vec())),
                    PeerAction::Close => Some(PeerAct::Close),
                    PeerAction::Abort => Some(PeerAct::Abort),
                    PeerAction::StopReading => Some(PeerAct::StopReading),
                    PeerAction::ResumeReading => Some(PeerAct::ResumeReading),
                };
                if let Some(act) = act {
                    r.link.peer_act(&act)?;
                }
                let now = r.link.now();
                r.collect_until(now)?;
            }
        }
        st.peer_isn = r.tl.peer_isn;
    }
    let deadline = r.link.now() + opts.linger_ms * 1000;
    r.collect_until(deadline)?;
    let mut states = states::infer(&r.tl.events);
    states::apply_peer_truth(&mut states, &r.peer_truth);
    let peer_state_source = match (r.peer_truth.iter().any(Option::is_some), r.link.peer_state_source()) {
        (false, _) => PeerStateSource::Inferred,
        (true, "sim") => PeerStateSource::Sim,
        (true, _) => PeerStateSource::Kernel,
    };
    Ok(RunResult { timeline: r.tl, stopped, steps_run, states, peer_state_source })
}

struct Runner<'a> {
    link: &'a mut dyn Link,
    tl: Timeline,
    started: bool,
    /// TCP bytes of what each step sent, to tie captured copies to their step.
    sent: Vec<(usize, Vec<u8>)>,
    /// Timeline events already used by an Expect.
    consumed: Vec<usize>,
    obs: &'a mut dyn Observer,
    /// The peer's own state after each event, where the link could read it.
    peer_truth: Vec<Option<TcpState>>,
    /// Some reading of `peer_truth` showed a connection (a state other than LISTEN or CLOSED).
    peer_connected: bool,
    /// Every fragment sent so far, to know our own when the link captures them.
    fragments_sent: Vec<Vec<u8>>,
}

impl Runner<'_> {
    fn add(&mut self, c: Captured) {
        // Our own fragments as captured: the segment they make is in the timeline already, whole (`add_sent`). A
        // fragment crafted by hand (MF or an offset set in the editor) is not one of these and is shown as it is.
        if c.origin == Origin::Crafted && self.fragments_sent.iter().any(|f| wire::fragment::is_copy_of(f, &c.bytes)) {
            return;
        }
        self.add_sent(c, Vec::new());
    }

    /// Adds a captured datagram, or (with `fragments`) a segment we sent in those fragments.
    fn add_sent(&mut self, c: Captured, fragments: Vec<SentFragment>) -> usize {
        let step = (c.origin == Origin::Crafted)
            .then(|| {
                let seg = c.segment.as_ref()?;
                let tcp = c.bytes.get(seg.tcp_offset..)?;
                self.sent.iter().rev().find(|(_, b)| b == tcp).map(|(s, _)| *s)
            })
            .flatten();
        let i = self.tl.push(c, step);
        self.tl.events[i].fragments = fragments;
        self.obs.on_event(i, &self.tl.events[i]);
        let mut truth = self.link.peer_state().and_then(TcpState::from_rfc_name);
        // A listener is all that is left once the connection ended: for this flow that is CLOSED.
        if self.peer_connected && truth == Some(TcpState::Listen) {
            truth = Some(TcpState::Closed);
        }
        self.peer_connected |= truth.is_some_and(|t| !matches!(t, TcpState::Listen | TcpState::Closed));
        self.peer_truth.resize(i, None);
        self.peer_truth.push(truth);
        if let Some(t) = truth {
            self.obs.on_peer_state(i, t);
        }
        i
    }

    /// Takes everything the link captures until `deadline` (link time) into the timeline.
    fn collect_until(&mut self, deadline: u64) -> Result<(), RunError> {
        loop {
            let batch = self.link.recv_until(deadline)?;
            if batch.is_empty() {
                return Ok(());
            }
            for c in batch {
                self.add(c);
            }
            if self.obs.stop_requested() {
                return Ok(());
            }
        }
    }

    /// Whether a timeline event meets an Expect step.
    fn meets(&self, e: &TimelineEvent, x: &ExpectStep, want_ack: Option<u32>) -> bool {
        match (e.origin, &e.segment) {
            (Origin::Icmp, _) => x.flags.matches_icmp(),
            (Origin::Peer, Some(s)) => {
                x.flags.matches(s.tcp.flags)
                    && want_ack.is_none_or(|a| s.tcp.ack == a)
                    && x.min_len.is_none_or(|m| s.payload.len() >= m)
            }
            _ => false,
        }
    }

    fn expect(&mut self, i: usize, x: &ExpectStep, st: &mut State) -> Result<StepVerdict, RunError> {
        let want_ack = match &x.ack {
            Some(e) => Some(e.eval(st).map_err(|source| RunError::Expr { step: i + 1, field: "ack", source })?),
            None => None,
        };
        let deadline = self.link.now() + x.within_ms * 1000;
        let mut checked = 0;
        loop {
            let found = (checked..self.tl.events.len())
                .find(|&k| !self.consumed.contains(&k) && self.meets(&self.tl.events[k], x, want_ack));
            checked = self.tl.events.len();
            if let Some(k) = found {
                self.consumed.push(k);
                let e = &mut self.tl.events[k];
                e.step = Some(i);
                if let Some(seg) = &e.segment {
                    st.bound.insert(x.bind.clone(), seg.clone());
                }
                let what = if e.icmp.is_some() { "an ICMP error".to_string() } else { e.flags().wireshark() };
                return Ok(StepVerdict {
                    step: i,
                    kind: "Expect".into(),
                    pass: true,
                    detail: format!("got {what} after {:.3} ms", e.t_us as f64 / 1000.0),
                    event: Some(k),
                });
            }
            if self.link.now() >= deadline || self.obs.stop_requested() {
                break;
            }
            let batch = self.link.recv_until(deadline)?;
            if batch.is_empty() {
                break;
            }
            for c in batch {
                self.add(c);
            }
        }
        let seen: Vec<String> = self
            .tl
            .events
            .iter()
            .enumerate()
            .filter(|(k, e)| e.dir == crate::exchange::timeline::Dir::In && !self.consumed.contains(k))
            .map(|(_, e)| match &e.segment {
                Some(s) => format!("{} ack={}", s.tcp.flags.wireshark(), s.tcp.ack),
                None => "ICMP".into(),
            })
            .collect();
        let ack_note = want_ack.map(|a| format!(" with ack={a}")).unwrap_or_default();
        Ok(StepVerdict {
            step: i,
            kind: "Expect".into(),
            pass: false,
            detail: format!(
                "no reply matching {}{ack_note} within {} ms (saw: {})",
                x.flags,
                x.within_ms,
                if seen.is_empty() { "nothing".to_string() } else { seen.join("; ") }
            ),
            event: None,
        })
    }
}

#[cfg(test)]
mod tests;
