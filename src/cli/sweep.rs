//! `tcpcraft sweep PRESET --target HOSTS --ports LIST`: one probe across every port and host, classified open,
//! closed, filtered or unreachable. Text, NDJSON (`--json`) or CSV (`--csv`); a progress bar on a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::error::CliError;
use super::send::LinkChoice;
use crate::exchange::session::{self, ProbeRequest};
use crate::exchange::sweep::{self, PortResult, SweepConfig, SweepError, DEFAULT_RATE};
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
    /// Packets per second (default and cap 10,000; more needs --yes).
    #[arg(long, default_value_t = DEFAULT_RATE)]
    pub rate: u64,
    /// Extra passes over ports that stayed silent.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// How long to wait for late replies after each pass, in ms.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub wait: u64,
    /// The link (auto: raw when this process may open raw sockets and a target is not the lab host, else the
    /// simulated lab host). A raw sweep reaches at most 4096 addresses (tcpcraft-link's limit).
    #[arg(long, value_enum, default_value = "auto")]
    pub link: LinkChoice,
    /// Interface for the raw link.
    #[arg(long)]
    pub iface: Option<String>,
    /// Our source port (replies come back to it).
    #[arg(long, default_value_t = 47_000)]
    pub sport: u16,
    /// Allow more than 65,536 targets, or a rate above the cap.
    #[arg(long)]
    pub yes: bool,
    /// NDJSON: progress lines, one line per port, and a summary line.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: host,port,verdict,reply.
    #[arg(long)]
    pub csv: bool,
}

/// Runs the sweep and renders the results.
pub fn run(args: &SweepArgs) -> Result<String, CliError> {
    let p = preset::resolve(&args.preset).map_err(|e| CliError::Preset(e.to_string()))?;
    let probe = sweep::probe_of(&p).map_err(|e| CliError::Preset(e.to_string()))?;
    let hosts = sweep::parse_targets(&args.target, args.yes).map_err(|e| CliError::input("--target", e.to_string()))?;
    let ports = sweep::parse_ports(&args.ports).map_err(|e| CliError::input("--ports", e.to_string()))?;
    if args.rate > DEFAULT_RATE && !args.yes {
        return Err(CliError::input(
            "--rate",
            format!("{} pps is above the {DEFAULT_RATE} pps cap; pass --yes if you mean it", args.rate),
        ));
    }
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
    };
    let opened = session::open_probes(&req)?;
    let (mut link, desc) = (opened.link, opened.describe);
    let cfg = SweepConfig {
        hosts,
        ports,
        probe,
        src: opened.src,
        sport: args.sport,
        rate: args.rate,
        retries: args.retries,
        wait: Duration::from_millis(args.wait),
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
    let results = sweep::run(&cfg, link.as_mut(), &mut |pr| {
        if let Some(b) = &bar {
            b.set_position(pr.sent.min(total));
            b.set_message(pr.replies.to_string());
        }
        if json {
            let _ = writeln!(stdout.lock(), "{}", json!({"progress": pr}));
        }
        true
    })
    .map_err(|e| match e {
        SweepError::Link(l) => CliError::Link(l),
        other => CliError::input("sweep", other.to_string()),
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let elapsed = started.elapsed();
    Ok(render(args, &results, &desc, elapsed))
}

fn render(args: &SweepArgs, results: &[PortResult], link: &str, elapsed: Duration) -> String {
    let summary = sweep::summary(results);
    if args.json {
        let mut out = String::new();
        for r in results {
            out += &json!({"host": r.host, "port": r.port, "verdict": r.verdict, "reply": r.reply}).to_string();
            out.push('\n');
        }
        out += &json!({"summary": {"link": link, "ports": results.len(), "verdicts": summary, "seconds": elapsed.as_secs_f64()}}).to_string();
        return out;
    }
    if args.csv {
        let mut out = String::from("host,port,verdict,reply\n");
        for r in results {
            out += &format!("{},{},{},{}\n", r.host, r.port, r.verdict.as_str(), r.reply);
        }
        return out.trim_end().to_string();
    }
    let mut out = format!("link: {link}   {} ports in {:.3} s\n", results.len(), elapsed.as_secs_f64());
    for r in results.iter().filter(|r| r.verdict != sweep::Verdict::Filtered || results.len() <= 32) {
        if r.verdict == sweep::Verdict::Closed && results.len() > 32 {
            continue;
        }
        out += &format!("{:<40} {:>5}  {:<12} {}\n", r.host, r.port, r.verdict.as_str(), r.reply);
    }
    let counts: Vec<String> = summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
    out += &format!("summary: {}", counts.join(", "));
    out
}
