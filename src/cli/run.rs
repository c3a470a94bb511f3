//! `tcpcraft run PRESET`: runs a preset over the simulated lab host (the default) or a raw link, and prints the
//! ladder diagram or JSON. Exit codes: 0 pass, 1 an expectation not met, 2 bad input or preset, 3 link unavailable.

use std::io::{BufRead, Write};

use clap::{ArgAction, Args};
use serde_json::{json, Value};

use super::error::CliError;
use super::events::event_json;
use super::frag::FragArgs;
use super::ladder;
use super::send::LinkChoice;
use crate::exchange::session::{self, FlowRequest, Target};
use crate::exchange::states::States;
use crate::exchange::{self, Control, Observer, RunOptions, Timeline};
use crate::preset::{self, Preset};
use crate::wire::SegmentSpec;

/// Arguments of `tcpcraft run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// A preset file (.ron) or a built-in name (see `tcpcraft presets`).
    pub preset: String,
    /// Target HOST[:PORT]; default: the preset's, else the simulated lab host.
    #[arg(long)]
    pub target: Option<String>,
    /// The link to use (auto: the simulated lab host unless a real target is given and raw sockets are allowed).
    #[arg(long, value_enum, default_value = "auto")]
    pub link: LinkChoice,
    /// Interface for the raw link.
    #[arg(long)]
    pub iface: Option<String>,
    /// Install the kernel-RST guard (default: when the preset asks for it).
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "no_guard")]
    pub guard: bool,
    /// Never install the kernel-RST guard (your kernel's RSTs then show in the timeline).
    #[arg(long, action = ArgAction::SetTrue)]
    pub no_guard: bool,
    /// Our source port (default: random 49152-65535).
    #[arg(long)]
    pub sport: Option<u16>,
    /// Our ISN (default: random).
    #[arg(long)]
    pub isn: Option<u32>,
    /// Seed for every random choice: our ISN and source port, and the simulated host's ISNs. The same seed repeats
    /// a run exactly; without one, the preset's `sim: (seed: N)` is used, else a new random seed every run. JSON
    /// output names the seed used.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print JSON instead of the ladder diagram.
    #[arg(long)]
    pub json: bool,
    /// Pause before each Send, show the segment, and wait for Enter (q + Enter stops).
    #[arg(long)]
    pub step: bool,
    /// Also write every captured datagram to this pcap file (raw IP, nanosecond timestamps).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<std::path::PathBuf>,
    /// Be the peer too: listen on the target address (one of this host's) and drive that socket as the preset's
    /// Peer steps say (else accept, read, and close after us); its states come from the kernel. Needs `--link raw`.
    #[arg(long)]
    pub local_peer: bool,
    /// Fragmenting of every Send step.
    #[command(flatten)]
    pub frag: FragArgs,
}

/// The outcome, for `main` to print and map to an exit code.
pub struct RunOutput {
    /// What to print.
    pub text: String,
    /// Whether every expectation was met.
    pub pass: bool,
}

/// Step-through on a terminal: shows each segment before it goes out.
struct Stepper;

impl Observer for Stepper {
    fn before_send(&mut self, step: usize, spec: &SegmentSpec, bytes: &[u8]) -> Control {
        let t = &spec.tcp;
        eprintln!(
            "step {}: about to send {} seq={} ack={} win={} len={} ({} bytes). Enter sends, q stops.",
            step + 1,
            t.flags.wireshark(),
            t.seq,
            t.ack,
            t.window,
            spec.payload.bytes().len(),
            bytes.len()
        );
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(_) if line.trim().eq_ignore_ascii_case("q") => Control::Stop,
            Ok(0) | Err(_) => Control::Stop,
            Ok(_) => Control::Continue,
        }
    }
}

/// The link request: the target from the flag, else the preset's, else the lab host.
fn request(args: &RunArgs, p: &Preset) -> FlowRequest {
    FlowRequest {
        target: args.target.as_ref().or(p.target.as_ref()).map_or(Target::Lab, |t| Target::Text(t.clone())),
        v6: false,
        choice: args.link.into(),
        iface: args.iface.clone(),
        guard: if args.no_guard { false } else { args.guard || p.guard },
        layer2: false,
        lab: p.sim.clone().unwrap_or_default(),
        in_process: true,
        fallback_to_sim: false,
        seed: args.seed,
    }
}

/// Runs the preset and renders the result.
pub fn run(args: &RunArgs) -> Result<RunOutput, CliError> {
    let mut preset = preset::resolve(&args.preset).map_err(|e| CliError::Preset(e.to_string()))?;
    if let Some(f) = args.frag.fragmenting()? {
        for step in &mut preset.steps {
            if let preset::Step::Send(t) = step {
                t.fragment.get_or_insert_with(|| f.clone());
            }
        }
    }
    let req = request(args, &preset);
    let opened = session::open_flow(&req)?;
    let (dst, dport, src, use_raw, guard, seed) =
        (opened.dst, opened.port.unwrap_or(preset.port), opened.src, opened.raw, req.guard, opened.seed);
    let mut link = opened.link;
    if args.local_peer {
        if !use_raw {
            return Err(CliError::input("--local-peer", "needs a raw link to this host's own address (--link raw)"));
        }
        link = Box::new(crate::link::local_peer::LocalPeer::serve(link, std::net::SocketAddr::new(dst, dport))?);
    }
    let opts = RunOptions {
        target: dst,
        dport,
        src,
        sport: args.sport,
        isn: args.isn,
        seed: Some(seed.value),
        linger_ms: if use_raw { 100 } else { 50 },
    };
    let started = std::time::SystemTime::now();
    let result = if args.step {
        exchange::run(&preset, link.as_mut(), &opts, &mut Stepper)
    } else {
        exchange::run(&preset, link.as_mut(), &opts, &mut exchange::Silent)
    }
    .map_err(|e| match e {
        exchange::RunError::Link(l) => CliError::Link(l),
        other => CliError::Preset(format!("{}: {other}", args.preset)),
    })?;
    let tl = &result.timeline;
    if let Some(path) = &args.pcap {
        crate::pcap::write(path, started, tl.events.iter().flat_map(|e| e.on_wire()))
            .map_err(|e| CliError::input("--pcap", e.to_string()))?;
    }
    let pass = tl.pass() && !result.stopped;
    let target_text = format!("{dst}:{dport}");
    if args.json {
        let v = json!({
            "preset": preset.name,
            "target": target_text,
            "link": link.describe(),
            "seed": seed.value,
            "seed_from": seed.source,
            "verdict": if pass { "pass" } else { "fail" },
            "steps": steps_json(&preset, tl, result.steps_run),
            "peer_state_source": result.peer_state_source,
            "events": events_json(tl, Some(&result.states)),
            "dropped": link.dropped(),
        });
        return Ok(RunOutput { text: v.to_string(), pass });
    }
    let mut text = format!("{}: {}\n", preset.name, preset.description_in(crate::i18n::current()));
    text += &format!(
        "link: {}   target: {target_text}   guard: {}   seed: {}\n\n",
        link.describe(),
        if use_raw && guard { "on" } else { "off" },
        seed.value
    );
    let client = format!("client {}", opts.src);
    text += &ladder::render(tl, Some(&result.states), &client, &format!("server {target_text}"));
    text += &format!(
        "\nverdict: {}{}\n",
        if pass { "PASS" } else { "FAIL" },
        if result.stopped { " (stopped)" } else { "" }
    );
    if let Some(line) = super::events::dropped_line(link.dropped()) {
        text += &format!("{line}\n");
    }
    let explain = preset.explain_in(crate::i18n::current());
    if !explain.is_empty() {
        text += &format!("\n{explain}\n");
    }
    let _ = std::io::stderr().flush();
    Ok(RunOutput { text: text.trim_end().to_string(), pass })
}

/// One entry per step: kind, and the verdict where the step has one.
fn steps_json(p: &Preset, tl: &Timeline, run: usize) -> Vec<Value> {
    p.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let v = tl.verdicts.iter().find(|v| v.step == i);
            json!({
                "step": i + 1,
                "kind": s.kind(),
                "ran": i < run,
                "pass": v.map(|v| v.pass),
                "detail": v.map(|v| v.detail.clone()),
            })
        })
        .collect()
}

/// The events in `send --json`'s schema plus relative numbers, RTT and the note.
pub fn events_json(tl: &Timeline, states: Option<&[States]>) -> Vec<Value> {
    tl.events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut v = event_json(e.origin, e.t_us, e.segment.as_ref(), e.icmp.as_ref(), 0);
            v["rel_seq"] = json!(e.rel_seq);
            v["rel_ack"] = json!(e.rel_ack);
            v["rtt_us"] = json!(e.rtt_us);
            v["note"] = json!(e.note.render());
            v["step"] = json!(e.step.map(|s| s + 1));
            if !e.fragments.is_empty() {
                v["fragments"] = super::events::fragments_json(e.fragments.iter().map(|f| (f.t_us, &f.bytes[..])));
            }
            if let Some(st) = states.and_then(|s| s.get(i)) {
                v["state_us"] = json!(st.us);
                v["state_peer"] = json!(st.peer);
                if let Some(off) = st.off {
                    v["off_state_machine"] = json!(off);
                }
            }
            v
        })
        .collect()
}
