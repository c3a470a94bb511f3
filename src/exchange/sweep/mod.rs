//! The sweep engine: one probe (a one-Send preset) across many hosts and ports, stateless like masscan and nmap.
//! One thread sends from a pre-built template (only the port, sequence number and checksum change per probe)
//! at a capped rate; replies are matched by a cookie in the sequence number, so no per-port state or thread.
//! Each port ends up open, closed, filtered (no reply after the retries), unreachable (an ICMP error) or refused
//! (a local broadcast address, or our kernel would not send the probe: EACCES/EPERM); a sweep
//! stopped early says which ports it never probed and which it is still waiting for.
//!
//! [`targets`] parses what to sweep, [`plan`] checks its size and rate against [`crate::limits`], [`probe`]
//! builds the probes and matches the replies, and this module runs the passes over a [`ProbeLink`] (opened by
//! [`super::session::open_probes`]).

pub mod plan;
pub mod probe;
mod reply;
pub mod report;
pub mod targets;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use probe::{probe_of, Cookies, ProbeBuilder, Tally};
pub use report::{csv, port_ranges};
pub use targets::{parse_ports, parse_targets};

use super::seed::Seed;
use crate::link::{LinkError, ProbeLink};
use crate::wire::SegmentSpec;

/// Fewest probes per batch (one `sendmmsg` on Linux; pacing, progress and the look at replies work per batch).
const MIN_BATCH: usize = 64;
/// Most probes per batch: what the default socket send buffer (208 KiB) holds at about 1 KiB of kernel memory per
/// small datagram, so one `sendmmsg` never waits for room; also within one tcpcraft-link request.
const MAX_BATCH: usize = 192;
/// Shortest wait the pacer takes: ahead of the rate by less, a batch goes at once (a burst the bucket allows; the
/// scheduler overshoots shorter sleeps anyway).
const MIN_WAIT: Duration = Duration::from_millis(1);
/// How often the wait after a pass looks whether every probe has been answered.
const END_POLL: Duration = Duration::from_millis(5);

/// Probes per batch at `rate`: one millisecond's worth, within [`MIN_BATCH`] and [`MAX_BATCH`].
fn batch_len(rate: u64) -> usize {
    usize::try_from(rate / 1000).unwrap_or(MAX_BATCH).clamp(MIN_BATCH, MAX_BATCH)
}

/// What a port turned out to be, or how far its probing got. The serde and CSV names ([`Verdict::as_str`]) are
/// the one vocabulary every face uses: `open`, `closed`, `unfiltered`, `filtered`, `unreachable`, `refused`,
/// `waiting`, `not_probed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Answered SYN-ACK (or, for probes without SYN, anything but RST).
    Open,
    /// Answered RST.
    Closed,
    /// An ACK probe answered with RST (nmap -sA): no firewall in the way, open or closed unknown.
    Unfiltered,
    /// No answer after every retry and the wait after the last (for null/FIN/Xmas probes: open or filtered).
    Filtered,
    /// An ICMP error came back.
    Unreachable,
    /// Not sent: a local subnet's broadcast address ([`LOCAL_BROADCAST`]), or our kernel refused the probe
    /// (`EACCES`, `EPERM`: a broadcast route, a local firewall rule); the reply column says which. The sweep goes on
    /// with the other targets.
    Refused,
    /// Probed, no answer yet, and retries or the wait still to come (what a stopped sweep leaves undecided).
    Waiting,
    /// Never probed: the sweep stopped before it reached this port.
    NotProbed,
}

impl Verdict {
    /// Every verdict, in table order.
    pub const ALL: [Verdict; 8] = [
        Verdict::Open,
        Verdict::Closed,
        Verdict::Unfiltered,
        Verdict::Filtered,
        Verdict::Unreachable,
        Verdict::Refused,
        Verdict::Waiting,
        Verdict::NotProbed,
    ];

    /// The word used in output (JSON, CSV, text): lower case, `_` between words.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Open => "open",
            Verdict::Closed => "closed",
            Verdict::Unfiltered => "unfiltered",
            Verdict::Filtered => "filtered",
            Verdict::Unreachable => "unreachable",
            Verdict::Refused => "refused",
            Verdict::Waiting => "waiting",
            Verdict::NotProbed => "not_probed",
        }
    }

    /// Whether a reply decided it (open, closed, unreachable).
    pub fn is_answer(&self) -> bool {
        matches!(self, Verdict::Open | Verdict::Closed | Verdict::Unfiltered | Verdict::Unreachable)
    }
}

/// One port's result with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortResult {
    /// The host.
    pub host: IpAddr,
    /// The port.
    pub port: u16,
    /// The classification.
    pub verdict: Verdict,
    /// The reply's flags as letters (`SA`, `RA`), or `icmp TYPE/CODE from ADDR`, or the refusal (`EACCES`), or
    /// empty.
    pub reply: String,
    /// The TCP reply's IP TTL (IPv6: hop limit), as nmap's `--reason` prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    /// Set on a reset whose TTL differs from the same host's SYN-ACKs: probably forged by a device in between,
    /// this many hops away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forged_hops: Option<u8>,
    /// With `forged_hops`: how many hops away the host itself is, by its SYN-ACKs' TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_hops: Option<u8>,
}

impl PortResult {
    /// The evidence in nmap's `--reason` words: `syn-ack ttl 63`, `reset ttl 64`, `icmp 3/13 from …`, plus a
    /// warning for a reset that is probably forged.
    pub fn reason(&self) -> String {
        let kind = match (self.verdict, self.reply.as_str()) {
            (Verdict::Open, r) if r.contains('S') => "syn-ack",
            (Verdict::Closed | Verdict::Unfiltered, _) => "reset",
            (_, r) => r,
        };
        let mut out = match self.ttl {
            Some(t) => format!("{kind} ttl {t}"),
            None => kind.to_owned(),
        };
        if let Some(h) = self.forged_hops {
            let hop = |n: u8| if n == 1 { "1 hop".to_owned() } else { format!("{n} hops") };
            out += &format!(" (TTL differs from the host's SYN-ACKs: probably forged by a device {} away", hop(h));
            out += &match self.host_hops {
                Some(host) if host > h => format!(", {} closer than the host)", hop(host - h)),
                Some(host) if host < h => format!(", {} farther than the host)", hop(h - host)),
                _ => ")".to_owned(),
            };
        }
        out
    }
}

/// Why a sweep cannot start, or stopped: bad input (preset, targets, ports, probe) or the link failing.
#[derive(Debug, Error)]
pub enum SweepError {
    /// The preset is not a one-probe preset.
    #[error("preset {0}: a sweep needs a preset whose first step is a Send (half-open, rst-closed-port, null/fin/xmas-scan, ack-probe)")]
    NotAProbe(String),
    /// A target is not allowed.
    #[error("target {0}: {1}")]
    Refused(String, String),
    /// A port list does not parse.
    #[error("--ports {0}: {1}")]
    Ports(String, String),
    /// The probe cannot be built.
    #[error("the probe cannot be built: {0}")]
    Build(String),
    /// A limit of [`crate::limits`] refuses the sweep's size or rate ([`plan`]); `flag` names the input.
    #[error("{message}")]
    Limit {
        /// The flag the limit is about (`--target`, `--ports`, `--rate`).
        flag: &'static str,
        /// What is over which limit, and what to do.
        message: String,
    },
    /// The link failed while sending (not bad input: the CLI exits with the link's code).
    #[error("{0}")]
    Link(#[from] LinkError),
}

/// Counts of each verdict.
pub fn summary(results: &[PortResult]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for r in results {
        *m.entry(r.verdict.as_str()).or_insert(0) += 1;
    }
    m
}

/// Progress of a running sweep: true at the moment it is reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Probes sent (retries included).
    pub sent: u64,
    /// Targets (hosts × ports): the probes of the first pass.
    pub total: u64,
    /// Targets probed at least once.
    pub probed: u64,
    /// Targets answered so far.
    pub replies: u64,
    /// Of those, open.
    pub open: u64,
    /// Of those, closed.
    pub closed: u64,
    /// Of those, unreachable (an ICMP error).
    pub unreachable: u64,
    /// Of those, unfiltered (an ACK probe answered with RST).
    pub unfiltered: u64,
    /// Targets our kernel refused to send to (not counted in `replies`).
    pub refused: u64,
    /// Wall-clock time since the sweep started, in milliseconds.
    pub elapsed_ms: u64,
    /// Every pass and its wait has run: the targets still silent are filtered.
    pub done: bool,
}

impl Progress {
    /// How many targets have this verdict at this moment.
    pub fn count(&self, v: Verdict) -> u64 {
        let silent = self.probed.saturating_sub(self.replies + self.refused);
        match v {
            Verdict::Open => self.open,
            Verdict::Closed => self.closed,
            Verdict::Unreachable => self.unreachable,
            Verdict::Unfiltered => self.unfiltered,
            Verdict::Refused => self.refused,
            Verdict::Filtered if self.done => silent,
            Verdict::Waiting if !self.done => silent,
            Verdict::Filtered | Verdict::Waiting => 0,
            Verdict::NotProbed => self.total.saturating_sub(self.probed),
        }
    }
}

/// Everything a sweep needs.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// Hosts, in order.
    pub hosts: Vec<IpAddr>,
    /// Ports, in order.
    pub ports: Vec<u16>,
    /// The probe (from the preset's first Send).
    pub probe: SegmentSpec,
    /// Our address.
    pub src: IpAddr,
    /// Our source port (fixed; replies come back to it).
    pub sport: u16,
    /// Packets per second.
    pub rate: u64,
    /// Extra passes over ports that did not answer.
    pub retries: u32,
    /// How long to wait for late replies after each pass.
    pub wait: std::time::Duration,
    /// The sweep's seed ([`Seed`]): the probes' cookie key comes from it.
    pub seed: u64,
    /// Hosts never probed because the link was not opened to them (local broadcast addresses,
    /// [`super::session::OpenedProbes::refused`]): their rows are [`Verdict::Refused`], reply [`LOCAL_BROADCAST`].
    pub refused_hosts: Vec<IpAddr>,
}

/// The reply column of a target refused before sending because it is a local subnet's broadcast address.
pub const LOCAL_BROADCAST: &str = "local broadcast";

/// Keeps a pass at its rate: a token bucket checked once per batch, one millisecond deep ([`MIN_WAIT`]).
struct Pacer {
    /// When the next batch is due.
    next: Instant,
    rate: u64,
    paced: bool,
}

/// The kernel's refusal of one destination, by name (`EACCES`, `EPERM`), when `e` is one: in this process an OS
/// error; through tcpcraft-link the same error as text, `… (os error 13)`.
pub fn refusal(e: &LinkError) -> Option<&'static str> {
    let code = match e {
        LinkError::Io { source, .. } => source.raw_os_error(),
        LinkError::Helper(m) => m.rsplit_once("(os error ").and_then(|(_, n)| n.trim_end_matches(')').parse().ok()),
        _ => None,
    }?;
    match code {
        libc::EACCES => Some("EACCES"),
        libc::EPERM => Some("EPERM"),
        _ => None,
    }
}

/// Sends `batch`; when the kernel refuses a destination in it, sends the batch again one probe at a time so the
/// others go out and each refused probe is recorded as [`Verdict::Refused`] (probes of the batch that left before
/// the refusal may leave twice; replies are matched once). Returns how many were sent.
fn send_or_mark(link: &mut dyn ProbeLink, batch: &[Vec<u8>], tally: &mut Tally) -> Result<u64, SweepError> {
    let Err(e) = link.send_batch(batch) else { return Ok(batch.len() as u64) };
    if refusal(&e).is_none() {
        return Err(e.into());
    }
    let mut sent = 0;
    for d in batch {
        match link.send(d) {
            Ok(()) => sent += 1,
            Err(e) => match refusal(&e) {
                Some(why) => tally.refused(d, why),
                None => return Err(e.into()),
            },
        }
    }
    Ok(sent)
}

/// Sends one batch when it is due, then takes what was captured meanwhile. A link on virtual time (the lab host)
/// is not paced: its clock is moved on by the batch's time at the rate instead, so its replies arrive as they would
/// on a wire. Returns how many were sent.
fn flush(link: &mut dyn ProbeLink, batch: &[Vec<u8>], pacer: &mut Pacer, tally: &mut Tally) -> Result<u64, SweepError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let span = Duration::from_secs_f64(batch.len() as f64 / pacer.rate as f64);
    let mut wait = Duration::ZERO;
    if pacer.paced {
        // Ahead of the rate by a millisecond or more: the time goes to taking replies, not to a sleep.
        loop {
            let ahead = pacer.next.saturating_duration_since(Instant::now());
            if ahead < MIN_WAIT {
                break;
            }
            for d in link.drain(ahead) {
                tally.observe(&d);
            }
            // A link that stopped returns at once: without this the loop would spin until the batch is due.
            failed(link)?;
        }
    } else {
        wait = span;
    }
    let sent = send_or_mark(link, batch, tally)?;
    // A sender that fell behind (a slow pipe, the scheduler) catches up by one bucket's depth at most.
    let now = Instant::now();
    pacer.next = pacer.next.max(now.checked_sub(MIN_WAIT).unwrap_or(now)) + span;
    for d in link.drain(wait) {
        tally.observe(&d);
    }
    failed(link)?;
    Ok(sent)
}

/// A link that stopped handing back captures ([`ProbeLink::failure`]) fails the sweep: its silence is no answer.
fn failed(link: &mut dyn ProbeLink) -> Result<(), SweepError> {
    link.failure().map_or(Ok(()), |e| Err(e.into()))
}

/// How far a sweep got, which decides what a silent target is: probed by every pass and waited for (filtered),
/// never reached by the first pass (not probed), or in between (waiting).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reach {
    /// Targets (in host-then-port order) the first pass has sent to.
    pub probed: usize,
    /// Every pass and its wait has run.
    pub finished: bool,
}

impl Reach {
    /// The verdict of the target at `index` (host-then-port order) that has no answer.
    pub fn silent(&self, index: usize) -> Verdict {
        if self.finished {
            Verdict::Filtered
        } else if index >= self.probed {
            Verdict::NotProbed
        } else {
            Verdict::Waiting
        }
    }
}

/// The sweep's state between probes: what it sent, how far it got, what it found.
struct Sweep<'a> {
    cfg: &'a SweepConfig,
    tally: Tally,
    reach: Reach,
    sent: u64,
    total: u64,
    started: Instant,
}

impl Sweep<'_> {
    fn progress(&self) -> Progress {
        let [open, closed, unreachable, unfiltered] = self.tally.counts;
        Progress {
            sent: self.sent,
            total: self.total,
            probed: self.reach.probed as u64,
            replies: self.tally.replies,
            open,
            closed,
            unreachable,
            unfiltered,
            refused: self.tally.refused,
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            done: self.reach.finished,
        }
    }

    /// Every target's result as far as the sweep got, after one last look at what was captured.
    fn results(&mut self, link: &mut dyn ProbeLink) -> Vec<PortResult> {
        for d in link.drain(Duration::ZERO) {
            self.tally.observe(&d);
        }
        self.tally.results(&self.cfg.hosts, &self.cfg.ports, &self.reach)
    }
}

/// Runs the sweep; `progress` is called after every batch and at the end of each pass, and stops the sweep by
/// returning `false`. A stopped sweep keeps every verdict reached: answered ports as found, ports probed but not
/// yet answered [`Verdict::Waiting`], ports never probed [`Verdict::NotProbed`]; only ports silent after every
/// pass are [`Verdict::Filtered`]. A link that fails once `progress` has asked to stop ends the sweep as a stop
/// (Ctrl-C reaches `tcpcraft-link` too).
pub fn run(
    cfg: &SweepConfig,
    link: &mut dyn ProbeLink,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Vec<PortResult>, SweepError> {
    let builders: Vec<ProbeBuilder> =
        cfg.hosts.iter().map(|&h| ProbeBuilder::new(&cfg.probe, cfg.src, cfg.sport, h)).collect::<Result<_, _>>()?;
    let targets = cfg.hosts.len() * cfg.ports.len();
    let mut sw = Sweep {
        cfg,
        tally: Tally::new(Cookies::keyed(Seed::given(cfg.seed).cookie_key()), cfg.sport)
            .for_probe(&cfg.probe)
            .expecting(targets),
        reach: Reach { probed: 0, finished: false },
        sent: 0,
        total: targets as u64,
        started: Instant::now(),
    };
    for &host in cfg.hosts.iter().filter(|h| cfg.refused_hosts.contains(h)) {
        for &port in &cfg.ports {
            sw.tally.refuse(host, port, LOCAL_BROADCAST);
        }
    }
    let rate = cfg.rate.max(1);
    let batch_len = batch_len(rate);
    let mut batch: Vec<Vec<u8>> = (0..batch_len).map(|_| Vec::with_capacity(128)).collect();
    for pass in 0..=cfg.retries {
        let mut pacer = Pacer { next: Instant::now(), rate, paced: link.paced() };
        let (mut filled, mut index) = (0usize, 0usize);
        for (b, &host) in builders.iter().zip(&cfg.hosts) {
            for &port in &cfg.ports {
                index += 1;
                if sw.tally.answered(host, port) {
                    continue;
                }
                b.probe(port, sw.tally.cookie(host, port), &mut batch[filled]);
                filled += 1;
                if filled == batch_len {
                    let sent = flush(link, &batch[..filled], &mut pacer, &mut sw.tally);
                    filled = 0;
                    match sent {
                        Ok(n) => sw.sent += n,
                        Err(e) if progress(sw.progress()) => return Err(e),
                        Err(_) => return Ok(sw.results(link)),
                    }
                    if pass == 0 {
                        // The batch ended with this target: every one up to it was sent.
                        sw.reach.probed = index;
                    }
                    if !progress(sw.progress()) {
                        return Ok(sw.results(link));
                    }
                }
            }
        }
        match flush(link, &batch[..filled], &mut pacer, &mut sw.tally) {
            Ok(n) => sw.sent += n,
            Err(e) if progress(sw.progress()) => return Err(e),
            Err(_) => return Ok(sw.results(link)),
        }
        sw.reach.probed = targets;
        // Each probe is waited for until `wait` after it was sent; the last one's deadline comes last. The pass
        // ends there, or as soon as every target is decided. Replies captured by then may still be on their way
        // (a backlog read through tcpcraft-link): past the deadline the pass goes on while the link still hands
        // some back, for one more `wait` at most (a flood to our port cannot hold it longer).
        let until = Instant::now() + cfg.wait;
        let decided = |t: &Tally| (t.replies + t.refused) as usize >= targets;
        // A link on virtual time (the lab host) waits all of `wait` in one call: its clock does not run by itself.
        let virtual_time = !link.paced();
        while !decided(&sw.tally) {
            let slice =
                if virtual_time { cfg.wait } else { until.saturating_duration_since(Instant::now()).min(END_POLL) };
            let got = link.drain(slice);
            let more = !got.is_empty();
            for d in got {
                sw.tally.observe(&d);
            }
            match failed(link) {
                Ok(()) => {}
                Err(e) if progress(sw.progress()) => return Err(e),
                Err(_) => return Ok(sw.results(link)),
            }
            let now = Instant::now();
            if virtual_time || now >= until && (!more || now >= until + cfg.wait) {
                break;
            }
        }
        let all_answered = decided(&sw.tally);
        sw.reach.finished = pass == cfg.retries || all_answered;
        if !progress(sw.progress()) || sw.reach.finished {
            break;
        }
    }
    Ok(sw.results(link))
}

#[cfg(test)]
mod tests;
