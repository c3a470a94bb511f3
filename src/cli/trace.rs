//! `tcpcraft trace HOST[:PORT]`: the path to a host, hop by hop, found by the probe (a SYN unless `--probe` names
//! another one-probe preset) sent with TTL 1..N; with `--ports`, firewalk: one row per port, "blocked after hop N"
//! or the port's verdict, sharing the hop discovery.

use std::time::Duration;

use clap::Args;

use super::error::CliError;
use super::send::LinkChoice;
use crate::exchange::session::{self, ProbeRequest};
use crate::exchange::sweep;
use crate::exchange::trace::{self, TraceConfig, TraceError, MAX_TTL};
use crate::link::route;
use crate::preset;

/// Arguments of `tcpcraft trace`.
#[derive(Args, Debug, Clone)]
pub struct TraceArgs {
    /// The host (an address or a name), with the port to trace (default 80).
    pub target: String,
    /// Probe TTLs 1..=N (IPv6: hop limits).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..=i64::from(MAX_TTL)))]
    pub max_ttl: u8,
    /// The one-probe preset whose segment is sent (default: a SYN, as half-open sends it).
    #[arg(long, default_value = "half-open")]
    pub probe: String,
    /// Firewalk: trace these ports (e.g. `80,8081-8082`) instead of the target's one port.
    #[arg(long)]
    pub ports: Option<String>,
    /// How long to wait for answers, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=30_000))]
    pub wait: u64,
    /// Raw sockets, the simulated lab host (one hop away unless the probe preset's `sim` section puts routers in
    /// front of it, as `firewall-path` does), or raw when available.
    #[arg(long, value_enum, default_value = "auto")]
    pub link: LinkChoice,
    /// Interface for raw mode.
    #[arg(long)]
    pub iface: Option<String>,
    /// Our source port.
    #[arg(long, default_value_t = 47_100)]
    pub sport: u16,
    /// JSON: `{"hops":[...], "result":..., "blocked_after":..., "ports":[...]}`.
    #[arg(long)]
    pub json: bool,
}

/// Runs the trace and renders it.
pub fn run(args: &TraceArgs) -> Result<String, CliError> {
    let (host, port) = route::split_target(&args.target).map_err(|e| CliError::input("TARGET", e.to_string()))?;
    let target = route::resolve(&host, false)?;
    let ports = match &args.ports {
        Some(list) => sweep::parse_ports(list).map_err(|e| CliError::input("--ports", e.to_string()))?,
        None => vec![port.unwrap_or(80)],
    };
    let p = preset::resolve(&args.probe).map_err(|e| CliError::Preset(e.to_string()))?;
    let probe = sweep::probe_of(&p).map_err(|e| CliError::Preset(e.to_string()))?;
    let req = ProbeRequest {
        targets: vec![target],
        sport: args.sport,
        choice: args.link.into(),
        iface: args.iface.clone(),
        max_pps: trace::rate(ports.len(), args.max_ttl),
        lab: p.sim.clone().unwrap_or_default(),
        in_process: true,
        seed: None,
    };
    let opened = session::open_probes(&req)?;
    let mut link = opened.link;
    let cfg = TraceConfig {
        probe,
        src: opened.src,
        target,
        ports,
        sport: args.sport,
        max_ttl: args.max_ttl,
        wait: Duration::from_millis(args.wait),
    };
    let r = trace::trace(link.as_mut(), &cfg, fastrand::u32(..) & 0xff00_0000).map_err(|e| match e {
        TraceError::Link(l) => CliError::Link(l),
        TraceError::Input(m) => CliError::input("trace", m),
    })?;
    if args.json {
        return serde_json::to_string(&r).map_err(|e| CliError::input("--json", e.to_string()));
    }
    Ok(format!("trace to {target} ({}), max {} hops\n{}", opened.describe, args.max_ttl, trace::render(&r)))
}
