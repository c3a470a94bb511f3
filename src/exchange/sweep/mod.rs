//! The sweep engine: one probe (a one-Send preset) across many hosts and ports, stateless like masscan and nmap.
//! One thread sends from a pre-built template (only the port, sequence number and checksum change per probe)
//! at a capped rate; replies are matched by a cookie in the sequence number, so no per-port state or thread.
//! Each port ends up open, closed, filtered (no reply after the retries) or unreachable (an ICMP error).
//!
//! [`targets`] parses what to sweep, [`probe`] builds the probes and matches the replies, and this module runs the
//! passes over a [`ProbeLink`] (opened by [`super::session::open_probes`]).

pub mod probe;
pub mod targets;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use probe::{probe_of, Cookies, ProbeBuilder, Tally};
pub use targets::{parse_ports, parse_targets};

use crate::link::{LinkError, ProbeLink};
use crate::wire::SegmentSpec;

/// The default and the ceiling of the send rate without `--yes`-style overrides (packets per second).
pub const DEFAULT_RATE: u64 = 10_000;
/// Probes per batch (one `sendmmsg` on Linux; pacing and progress work per batch).
const BATCH: usize = 64;
/// Target sets larger than this need explicit confirmation.
pub const CONFIRM_ABOVE: u64 = 65_536;

/// What a port turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Answered SYN-ACK (or, for probes without SYN, anything but RST).
    Open,
    /// Answered RST.
    Closed,
    /// No answer after every retry (for null/FIN/Xmas probes: open or filtered).
    Filtered,
    /// An ICMP error came back.
    Unreachable,
}

impl Verdict {
    /// The lower-case word used in output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Open => "open",
            Verdict::Closed => "closed",
            Verdict::Filtered => "filtered",
            Verdict::Unreachable => "unreachable",
        }
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
    /// The reply's flags as letters (`SA`, `RA`), or `icmp TYPE/CODE`, or empty.
    pub reply: String,
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

/// Progress of a running sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Probes sent (retries included).
    pub sent: u64,
    /// Probes planned for the first pass.
    pub total: u64,
    /// Ports answered so far.
    pub replies: u64,
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
}

/// Keeps a pass at its rate: each batch waits until it is due.
struct Pacer {
    start: std::time::Instant,
    sent: u64,
    rate: u64,
    paced: bool,
}

/// Sends one batch when it is due, then takes what was captured meanwhile. Returns how many were sent.
fn flush(link: &mut dyn ProbeLink, batch: &[Vec<u8>], pacer: &mut Pacer, tally: &mut Tally) -> Result<u64, SweepError> {
    if batch.is_empty() {
        return Ok(0);
    }
    if pacer.paced {
        let due = pacer.start + std::time::Duration::from_secs_f64(pacer.sent as f64 / pacer.rate as f64);
        if let Some(d) = due.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(d);
        }
    }
    link.send_batch(batch)?;
    pacer.sent += batch.len() as u64;
    for d in link.drain(std::time::Duration::ZERO) {
        tally.observe(&d);
    }
    Ok(batch.len() as u64)
}

/// Runs the sweep; `progress` is called every few hundred probes and at the end of each pass, and stops the
/// sweep by returning `false` (the ports not yet answered are then reported as filtered).
pub fn run(
    cfg: &SweepConfig,
    link: &mut dyn ProbeLink,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Vec<PortResult>, SweepError> {
    use std::time::Instant;
    let mut tally = Tally::new(Cookies::default(), cfg.sport);
    let builders: Vec<ProbeBuilder> =
        cfg.hosts.iter().map(|&h| ProbeBuilder::new(&cfg.probe, cfg.src, cfg.sport, h)).collect::<Result<_, _>>()?;
    let total = (cfg.hosts.len() * cfg.ports.len()) as u64;
    let mut sent = 0u64;
    let mut batch: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(128)).collect();
    let rate = cfg.rate.max(1);
    for _pass in 0..=cfg.retries {
        let mut pacer = Pacer { start: Instant::now(), sent: 0, rate, paced: link.paced() };
        let mut filled = 0usize;
        for (b, &host) in builders.iter().zip(&cfg.hosts) {
            for &port in &cfg.ports {
                if tally.answered(host, port) {
                    continue;
                }
                b.probe(port, tally.cookie(host, port), &mut batch[filled]);
                filled += 1;
                if filled == BATCH {
                    sent += flush(link, &batch[..filled], &mut pacer, &mut tally)?;
                    filled = 0;
                    if !progress(Progress { sent, total, replies: tally.replies }) {
                        return Ok(tally.results(&cfg.hosts, &cfg.ports));
                    }
                }
            }
        }
        sent += flush(link, &batch[..filled], &mut pacer, &mut tally)?;
        for d in link.drain(cfg.wait) {
            tally.observe(&d);
        }
        let go_on = progress(Progress { sent, total, replies: tally.replies });
        if !go_on || (tally.replies as usize) == cfg.hosts.len() * cfg.ports.len() {
            break;
        }
    }
    Ok(tally.results(&cfg.hosts, &cfg.ports))
}
