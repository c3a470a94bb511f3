//! `tcpcraft sweep PRESET --target HOSTS --ports LIST`: one probe across every port and host, classified open,
//! closed, filtered or unreachable. Text, NDJSON (`--json`) or CSV (`--csv`); a progress bar on a terminal.
//! Ctrl-C (or SIGTERM) stops the sweep and prints what it found so far, naming the ports it never probed, then
//! exits with 130 (143 for SIGTERM); a second signal quits at once. Sizes and rates are checked against
//! [`crate::limits`] by [`sweep::plan::check`] before anything opens.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::error::CliError;
use super::send::LinkChoice;
use crate::exchange::seed::Seed;
use crate::exchange::session::{self, ProbeRequest};
use crate::exchange::sweep::{self, PortResult, SweepConfig, SweepError, Verdict};
use crate::limits::DEFAULT_RATE;
use crate::preset;

/// Arguments of `tcpcraft sweep`.
#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// A one-probe preset: half-open, rst-closed-port, null-scan, fin-scan, xmas-scan, ack-probe, or a file.
    pub preset: String,
    /// Targets: HOST[,HOST..] where each is an address or a CIDR block. Broadcast, multicast and 0.0.0.0 are refused.
    #[arg(long)]
    pub target: String,
    /// Ports, e.g. 1-1024,8080.
    #[arg(long)]
    pub ports: String,
    /// Packets per second: 1 to 1,000,000; above the default of 10,000 needs --yes.
    #[arg(long, default_value_t = DEFAULT_RATE)]
    pub rate: u64,
    /// Extra passes over ports that stayed silent.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// How long to wait for late replies after each pass, in ms.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub wait: u64,
    /// The link (auto: raw when this process may open raw sockets and a target is not the lab host, else the
    /// simulated lab host). A sweep reaches at most 4096 addresses (tcpcraft-link's limit, held on every link).
    #[arg(long, value_enum, default_value = "auto")]
    pub link: LinkChoice,
    /// Interface for the raw link.
    #[arg(long)]
    pub iface: Option<String>,
    /// Our source port (replies come back to it).
    #[arg(long, default_value_t = 47_000)]
    pub sport: u16,
    /// Allow more than 65,536 probes (targets × ports × (1 + retries)), or a rate above 10,000 pps. It lifts
    /// neither ceiling: 4096 addresses, 1,000,000 pps.
    #[arg(long)]
    pub yes: bool,
    /// NDJSON: progress lines, one line per port, and a summary line.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: host,port,verdict,reply,ttl.
    #[arg(long)]
    pub csv: bool,
    /// Seed of the sweep's random numbers (the probes' cookies, the simulated host's ISNs); the same seed sends
    /// the same probes. Without one, the preset's `sim: (seed: N)` is used, else a new random seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Set by Ctrl-C or SIGTERM to the exit code it asks for (0: not stopped): the running sweep stops at its next
/// batch and reports what it has.
static STOP: AtomicU8 = AtomicU8::new(0);

/// The exit code of the signal that stopped the sweep (130 Ctrl-C, 143 SIGTERM), if one did (its results are
/// still printed).
pub fn stopped() -> Option<u8> {
    Some(STOP.load(Ordering::SeqCst)).filter(|&c| c != 0)
}

/// Makes Ctrl-C and SIGTERM stop the sweep (results so far are printed); a second signal exits at once with its
/// code. Call once, before [`run`], from the command line only.
pub fn install_stop_handler() {
    super::signals::install(|sig| {
        if STOP.swap(sig.exit_code(), Ordering::SeqCst) != 0 {
            std::process::exit(i32::from(sig.exit_code()));
        }
    });
}

/// Runs the sweep and renders the results.
pub fn run(args: &SweepArgs) -> Result<String, CliError> {
    let p = preset::resolve(&args.preset).map_err(|e| CliError::Preset(e.to_string()))?;
    let probe = sweep::probe_of(&p).map_err(|e| CliError::Preset(e.to_string()))?;
    let hosts = sweep::parse_targets(&args.target).map_err(|e| limit_error("--target", e))?;
    let ports = sweep::parse_ports(&args.ports).map_err(|e| CliError::input("--ports", e.to_string()))?;
    sweep::plan::check(hosts.len(), ports.len(), args.retries, args.rate, args.yes)
        .map_err(|e| limit_error("--rate", e))?;
    let Some(&first) = hosts.first() else { return Err(CliError::input("--target", "no target given")) };
    if hosts.iter().any(|h| h.is_ipv6() != first.is_ipv6()) {
        return Err(CliError::input("--target", "all targets must be of one family"));
    }
    // A raw sweep the helper would refuse (too many addresses) is refused here, before anything is opened.
    let req = ProbeRequest {
        targets: hosts.clone(),
        sport: args.sport,
        choice: args.link.into(),
        iface: args.iface.clone(),
        max_pps: args.rate,
        lab: p.sim.clone().unwrap_or_default(),
        in_process: true,
        seed: args.seed,
    };
    let opened = session::open_probes(&req)?;
    let (mut link, desc, seed) = (opened.link, opened.describe, opened.seed);
    let cfg = SweepConfig {
        hosts,
        ports,
        probe,
        src: opened.src,
        sport: args.sport,
        rate: args.rate,
        retries: args.retries,
        wait: Duration::from_millis(args.wait),
        seed: seed.value,
        refused_hosts: opened.refused,
    };
    let total = (cfg.hosts.len() * cfg.ports.len()) as u64;
    let stdout = std::io::stdout();
    let bar = (!args.json && !args.csv && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} probes, {msg} replies, {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let started = std::time::Instant::now();
    let json = args.json;
    let mut stopped = false;
    let results = sweep::run(&cfg, link.as_mut(), &mut |pr| {
        if let Some(b) = &bar {
            b.set_position(pr.sent.min(total));
            b.set_message(pr.replies.to_string());
        }
        if json {
            let _ = writeln!(stdout.lock(), "{}", json!({"progress": pr}));
        }
        stopped = stopped || STOP.load(Ordering::SeqCst) != 0;
        !stopped
    })
    .map_err(|e| match e {
        SweepError::Link(l) => CliError::Link(l),
        other => limit_error("sweep", other),
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let ended = Ended { link: desc, elapsed: started.elapsed(), stopped, seed };
    Ok(render(args, &results, &ended))
}

/// One `--json` row, written straight as text (a `json!` map per port cost more than the sweep's own work on a
/// 65,535-port sweep); the keys in this order, `ttl`, `reason` and `forged_hops` only when known.
#[derive(serde::Serialize)]
struct Row<'a> {
    host: std::net::IpAddr,
    port: u16,
    verdict: Verdict,
    reply: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forged_hops: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_hops: Option<u8>,
}

/// A sweep error as bad input about `flag`, or about the flag a limit names.
fn limit_error(flag: &str, e: SweepError) -> CliError {
    match e {
        SweepError::Limit { flag, message } => CliError::input(flag, message),
        other => CliError::input(flag, other.to_string()),
    }
}

/// How the sweep ended, for the report.
struct Ended {
    link: String,
    elapsed: Duration,
    stopped: bool,
    seed: Seed,
}

/// Ports of `v` per host as JSON: `{"192.0.2.10": "30785-65535"}`.
fn ranges_json(results: &[PortResult], v: Verdict) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> =
        sweep::port_ranges(results, v).into_iter().map(|(h, r)| (h.to_string(), r.into())).collect();
    m.into()
}

fn render(args: &SweepArgs, results: &[PortResult], e: &Ended) -> String {
    let summary = sweep::summary(results);
    if args.json {
        let mut out = Vec::with_capacity(results.len() * 64);
        for r in results {
            let row = Row {
                host: r.host,
                port: r.port,
                verdict: r.verdict,
                reply: &r.reply,
                ttl: r.ttl,
                reason: r.ttl.map(|_| r.reason()),
                forged_hops: r.forged_hops,
                host_hops: r.host_hops,
            };
            // Serializing plain fields into memory cannot fail.
            let _ = serde_json::to_writer(&mut out, &row);
            out.push(b'\n');
        }
        let mut out = String::from_utf8(out).unwrap_or_default();
        out += &json!({"summary": {
            "link": e.link,
            "ports": results.len(),
            "verdicts": summary,
            "seconds": e.elapsed.as_secs_f64(),
            "seed": e.seed.value,
            "stopped": e.stopped,
            "not_probed": ranges_json(results, Verdict::NotProbed),
            "waiting": ranges_json(results, Verdict::Waiting),
        }})
        .to_string();
        return out;
    }
    if args.csv {
        return sweep::csv(results).trim_end().to_string();
    }
    let big = results.len() > 32;
    let mut out = format!(
        "link: {}   {} ports in {:.3} s   seed: {}\n",
        e.link,
        results.len(),
        e.elapsed.as_secs_f64(),
        e.seed.value
    );
    // A long list shows only what answered interestingly; the rest is counted below (and folded into ranges).
    let listed = |v: Verdict| !big || matches!(v, Verdict::Open | Verdict::Unreachable | Verdict::Refused);
    for r in results.iter().filter(|r| listed(r.verdict)) {
        out += &format!("{:<40} {:>5}  {:<12} {}\n", r.host, r.port, r.verdict.as_str(), r.reason());
    }
    if e.stopped {
        out += "stopped before the end\n";
        for (v, what) in [(Verdict::Waiting, "probed, no reply yet"), (Verdict::NotProbed, "never probed")] {
            for (host, ports) in sweep::port_ranges(results, v) {
                out += &format!("{} {host}: {ports} ({what})\n", v.as_str());
            }
        }
    }
    let counts: Vec<String> = summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
    out += &format!("summary: {}", counts.join(", "));
    out
}
