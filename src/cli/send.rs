//! `tcpcraft send`: sends one crafted segment over the raw or simulated link and prints every matched reply.

use std::net::{IpAddr, SocketAddr};

use clap::{ArgMatches, Args, ValueEnum};
use serde_json::json;

use super::craft::CraftArgs;
use super::error::CliError;
use super::events::{event_json, event_line};
use super::frag::FragArgs;
use crate::exchange::session::{self, FlowRequest, Target};
use crate::link::{Captured, Flow, Origin};
use crate::preset::LabHost;
use crate::wire::fragment;
use crate::wire::{self, IpSpec};

/// Which link carries the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LinkChoice {
    /// Raw when this process has the privileges, else the simulated lab host.
    Auto,
    /// A raw socket on a real interface.
    Raw,
    /// The simulated lab host (smoltcp, in this process; no privileges needed).
    Sim,
}

impl From<LinkChoice> for session::LinkChoice {
    fn from(c: LinkChoice) -> Self {
        match c {
            LinkChoice::Auto => session::LinkChoice::Auto,
            LinkChoice::Raw => session::LinkChoice::Raw,
            LinkChoice::Sim => session::LinkChoice::Sim,
        }
    }
}

/// Arguments of `tcpcraft send`.
#[derive(Args, Debug, Clone)]
pub struct SendArgs {
    /// Target: an address or host name, optionally with :PORT ([v6]:PORT for IPv6).
    #[arg(value_name = "DST[:PORT]")]
    pub target: String,
    /// The link to use.
    #[arg(long, value_enum, default_value = "auto")]
    pub link: LinkChoice,
    /// Interface for the raw link (default: from the routing table).
    #[arg(long)]
    pub iface: Option<String>,
    /// How long to wait for replies, in milliseconds.
    #[arg(long, default_value = "1000", value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub wait: u64,
    /// Install the kernel-RST guard while waiting (raw link, Linux).
    #[arg(long)]
    pub guard: bool,
    /// Send Ethernet frames (next hop by ARP) instead of using a raw IP socket; keeps a hand-set IPv4 total
    /// length or header checksum exactly as crafted.
    #[arg(long)]
    pub l2: bool,
    /// Print `{"events":[...]}` instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write every captured datagram to this pcap file (raw IP, nanosecond timestamps).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<std::path::PathBuf>,
    /// Seed of the simulated host's ISNs (our segment is exactly as crafted): the same seed, the same reply.
    /// Without one, every run picks a new seed. JSON output names the seed used.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fragmenting.
    #[command(flatten)]
    pub frag: FragArgs,
    /// The segment's fields.
    #[command(flatten)]
    pub craft: CraftArgs,
}

/// Sends the segment, collects replies until `--wait` runs out, renders them.
pub fn run(args: &SendArgs, m: &ArgMatches) -> Result<String, CliError> {
    let lab = LabHost::default();
    // Resolved before the segment is built, so a bad field never opens a link (or installs a guard).
    let target = session::resolve(&Target::Text(args.target.clone()), &lab, args.craft.ipv6)?;
    let dst = target.addr;
    let mut craft = args.craft.clone();
    if let Some(p) = target.port {
        craft.dport = p;
    }
    let mut spec = craft.to_spec(dst, m)?;
    let frag = args.frag.fragmenting()?;
    let req = FlowRequest {
        target: Target::Addr(dst),
        v6: args.craft.ipv6,
        choice: args.link.into(),
        iface: args.iface.clone(),
        guard: args.guard,
        layer2: args.l2,
        lab,
        in_process: true,
        fallback_to_sim: false,
        seed: args.seed,
    };
    let opened = session::open_flow(&req)?;
    if args.link == LinkChoice::Auto && !opened.raw && !args.json {
        eprintln!("note: using the simulated lab host (no raw privileges, or a lab address)");
    }
    if args.craft.src.is_none() {
        set_src(&mut spec, opened.src);
    }
    let (mut link, opened_seed) = (opened.link, opened.seed);
    let bytes = wire::build(&spec)?;
    let seg = wire::parse_any_protocol(&bytes)?;
    link.watch(Flow { local: SocketAddr::new(seg.src(), seg.tcp.sport), remote: SocketAddr::new(dst, seg.tcp.dport) })?;
    let started = std::time::SystemTime::now();
    // The fragments as they went out, with their link times (the capture sees none of them whole).
    let mut sent_frags: Vec<(u64, Vec<u8>)> = Vec::new();
    let t0 = match &frag {
        Some(f) => {
            let frags = fragment::fragment(&bytes, f, opened_seed.value)
                .map_err(|e| CliError::input("--fragment", e.to_string()))?;
            for d in frags {
                sent_frags.push((link.send(&d)?, d));
            }
            sent_frags.first().map_or_else(|| link.now(), |f| f.0)
        }
        None => link.send(&bytes)?,
    };
    let deadline = t0 + args.wait * 1000;
    let mut events = Vec::new();
    // Bounded: each call returns at the deadline at the latest, and the event count is capped.
    while events.len() < 10_000 {
        let got = link.recv_until(deadline)?;
        if got.is_empty() {
            break;
        }
        events.extend(got);
    }
    if !sent_frags.is_empty() {
        // Our own fragments as captured give way to the segment they make, shown first (as `run` shows it).
        let ours = |c: &Captured| {
            c.origin == Origin::Crafted && sent_frags.iter().any(|(_, f)| fragment::is_copy_of(f, &c.bytes))
        };
        events.retain(|c| !ours(c));
        let whole =
            Captured { t: t0, bytes: bytes.clone(), origin: Origin::Crafted, segment: Some(seg.clone()), icmp: None };
        events.insert(0, whole);
    }
    if let Some(path) = &args.pcap {
        // On the wire, the fragments stood where the whole segment is shown.
        let frags = sent_frags.iter().map(|(t, d)| (t.saturating_sub(t0), &d[..]));
        let rest =
            events.iter().skip(usize::from(!sent_frags.is_empty())).map(|c| (c.t.saturating_sub(t0), &c.bytes[..]));
        let mut all: Vec<(u64, &[u8])> = frags.chain(rest).collect();
        all.sort_by_key(|(t, _)| *t);
        crate::pcap::write(path, started, all).map_err(|e| CliError::input("--pcap", e.to_string()))?;
    }
    let frag_line =
        (!sent_frags.is_empty()).then(|| fragment::describe(sent_frags.iter().map(|(_, d)| &d[..]), &bytes));
    // A segment whose TCP checksum is wrong is dropped by the end host's stack: any TCP answer came from a device
    // in the path (a proxy, a firewall resetting on its own), as nmap's --badsum test reasons.
    let answered = events.iter().any(|c| c.origin == crate::link::Origin::Peer && c.segment.is_some());
    let path_note = (!seg.tcp_checksum_ok() && answered).then(|| {
        "our TCP checksum was wrong, which an end host drops: this answer came from a device in the path".to_owned()
    });
    if args.json {
        let ev: Vec<_> =
            events.iter().map(|c| event_json(c.origin, c.t, c.segment.as_ref(), c.icmp.as_ref(), t0)).collect();
        let seed = opened_seed.value;
        let mut v = json!({"link": link.describe(), "seed": seed, "events": ev, "dropped": link.dropped()});
        if !sent_frags.is_empty() {
            v["events"][0]["fragments"] =
                super::events::fragments_json(sent_frags.iter().map(|(t, d)| (t.saturating_sub(t0), &d[..])));
        }
        if let Some(note) = path_note {
            v["answered_by_path"] = json!(note);
        }
        return Ok(v.to_string());
    }
    let mut out = format!("link: {}\n", link.describe());
    for (i, c) in events.iter().enumerate() {
        out += &event_line(c, t0);
        out.push('\n');
        if let (0, Some(line)) = (i, &frag_line) {
            out += &format!("  ✂ {line}\n");
        }
    }
    if let Some(note) = &path_note {
        out += &format!("note: {note}\n");
    }
    if !events.iter().any(|c| c.origin != crate::link::Origin::Crafted) {
        out += &format!("no reply within {} ms\n", args.wait);
    }
    if let Some(line) = super::events::dropped_line(link.dropped()) {
        out += &format!("{line}\n");
    }
    Ok(out.trim_end().to_string())
}

/// Puts the link's source address into the spec (when the user gave none).
fn set_src(spec: &mut wire::SegmentSpec, src: IpAddr) {
    match (&mut spec.ip, src) {
        (IpSpec::V4(ip), IpAddr::V4(s)) => ip.src = s,
        (IpSpec::V6(ip), IpAddr::V6(s)) => ip.src = s,
        _ => {}
    }
}
