//! Sessions: the one place links are chosen and opened, for every face (CLI, GUI, lab grading).
//!
//! A request says where (a target as typed, a known address, or the lab host), over what ([`LinkChoice`]) and how
//! (interface, kernel-RST guard, layer 2, and whether this process may open raw sockets itself). The answer is an
//! open link with the resolved destination, our source address and a description:
//!
//! - [`open_flow`] for one flow (`run`, `send`, `lab check`, the GUI's runs), giving an [`Opened`];
//! - [`open_probes`] for a sweep, giving an [`OpenedProbes`].
//!
//! Host names are resolved here, by [`resolve`], through the system resolver: that can block for seconds, so the
//! GUI calls these functions from its worker thread, never from the UI thread. Raw links come from
//! [`helper::open_flow`] and [`helper::open_probes`] (in this process with `in_process` and raw privileges, else
//! through `tcpcraft-link`); the simulated lab host is set up from the preset's lab-host section ([`sim_config`]).
//! Each opening also settles the run's [`Seed`] (given, the preset's, or random; see [`super::seed`]): the
//! simulated host is seeded from it, and callers seed our side with [`Opened::seed`].

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::seed::Seed;
use crate::limits::MAX_TARGETS;
use crate::link::helper::{self, policy};
use crate::link::raw::RawOptions;
use crate::link::sim::{our_address, SimConfig, SimLink, SimRouter};
use crate::link::{privileges, route, Link, LinkError, ProbeLink};
use crate::preset::LabHost;

/// Which link carries a job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkChoice {
    /// Raw when this process itself has raw privileges and the target is not the lab host, else the lab host.
    #[default]
    Auto,
    /// A raw socket on a real interface (in this process, or through `tcpcraft-link`).
    Raw,
    /// The simulated lab host (smoltcp, in this process; no privileges needed).
    Sim,
}

/// Where a flow goes, before resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// The lab host: its IPv4 address (IPv6 when the request prefers IPv6).
    #[default]
    Lab,
    /// As typed: `host`, `host:port`, `[v6]:port` or a bare address; an empty host is the lab host.
    Text(String),
    /// A known address.
    Addr(IpAddr),
}

/// A target after resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The destination address.
    pub addr: IpAddr,
    /// The port the target text named, if it named one (callers fall back to the preset's port).
    pub port: Option<u16>,
}

/// Resolves a target: literals directly, host names through the system resolver (this may block; the GUI calls it
/// from its worker thread). `v6` prefers an IPv6 address where a name has both. Errors are
/// [`LinkError::Target`]: bad input, which the CLI reports with exit code 2.
pub fn resolve(target: &Target, lab: &LabHost, v6: bool) -> Result<Resolved, LinkError> {
    let lab_addr = || if v6 { IpAddr::V6(lab.host_v6) } else { IpAddr::V4(lab.host) };
    match target {
        Target::Lab => Ok(Resolved { addr: lab_addr(), port: None }),
        Target::Addr(a) => Ok(Resolved { addr: *a, port: None }),
        Target::Text(t) => {
            let (host, port) = route::split_target(t.trim())?;
            let addr = if host.trim().is_empty() { lab_addr() } else { route::resolve(&host, v6)? };
            Ok(Resolved { addr, port })
        }
    }
}

/// The simulated link's settings from a preset's lab-host section, the host seeded from the preset's seed (the
/// link's fixed default seed when the preset has none). Sessions use [`sim_config_seeded`] with the run's seed.
pub fn sim_config(lab: &LabHost) -> SimConfig {
    let seed = lab.seed.map_or(SimConfig::default().seed, |s| Seed::given(s).host());
    SimConfig { seed, ..sim_config_seeded(lab, Seed::given(0)) }
}

/// The simulated link's settings from a preset's lab-host section, the host seeded from the run's seed.
pub fn sim_config_seeded(lab: &LabHost, seed: Seed) -> SimConfig {
    SimConfig {
        host: lab.host,
        host_v6: lab.host_v6,
        open: lab.open.clone(),
        filtered: lab.filtered.clone(),
        rtt_us: lab.rtt_us,
        seed: seed.host(),
        routers: lab
            .routers
            .iter()
            .map(|r| SimRouter { addr: r.addr, addr_v6: r.addr_v6, drop: r.drop.clone(), reset: r.reset.clone() })
            .collect(),
    }
}

/// What [`open_flow`] needs: where, over what, and how.
#[derive(Clone, Debug, Default)]
pub struct FlowRequest {
    /// The destination, resolved by [`open_flow`].
    pub target: Target,
    /// Prefer IPv6 when a host name has both kinds of address.
    pub v6: bool,
    /// Raw, simulated, or automatic.
    pub choice: LinkChoice,
    /// Interface for a raw link (default: from the routing table).
    pub iface: Option<String>,
    /// Install the kernel-RST guard (raw link).
    pub guard: bool,
    /// Send Ethernet frames instead of using a raw IP socket (raw link).
    pub layer2: bool,
    /// The preset's lab-host section (the default lab host when the preset has none).
    pub lab: LabHost,
    /// May open raw sockets in this process when it has the privileges (the CLI); `false` always goes through
    /// `tcpcraft-link` (the GUI, which never holds raw privileges itself).
    pub in_process: bool,
    /// When a raw link cannot be opened, use the lab host instead and say why in [`Opened::fallback`] (the GUI).
    pub fallback_to_sim: bool,
    /// The seed given for this run (`--seed`, the GUI's seed field); else the preset's, else a random one.
    pub seed: Option<u64>,
}

/// An open flow link, ready for the runner.
pub struct Opened {
    /// The link.
    pub link: Box<dyn Link>,
    /// The resolved destination.
    pub dst: IpAddr,
    /// The port the target text named, if any.
    pub port: Option<u16>,
    /// Our source address on this link.
    pub src: IpAddr,
    /// The link's description (`sim 192.0.2.10`, `raw lo`), for status lines and JSON.
    pub describe: String,
    /// Whether this is a raw link (else the simulated lab host).
    pub raw: bool,
    /// Raw was asked for but could not be opened, so this is the lab host: why, and how to enable raw mode.
    pub fallback: Option<String>,
    /// The run's seed: the simulated host is seeded from it, and our side's random choices must be too
    /// ([`super::RunOptions::seed`]).
    pub seed: Seed,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("dst", &self.dst)
            .field("port", &self.port)
            .field("src", &self.src)
            .field("describe", &self.describe)
            .field("raw", &self.raw)
            .field("fallback", &self.fallback)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Whether [`LinkChoice::Auto`] goes raw: this process has raw privileges and the destinations are not all the lab
/// host (it never spawns the helper on its own).
fn auto_raw(lab: &LabHost, dsts: &[IpAddr]) -> bool {
    !dsts.iter().all(|&d| lab.is_host(d)) && privileges::check().raw
}

/// Resolves the target, chooses the link and opens it. With `fallback_to_sim`, a raw link that cannot be opened
/// becomes the lab host (see [`Opened::fallback`]), so the only errors left are about the target itself.
pub fn open_flow(req: &FlowRequest) -> Result<Opened, LinkError> {
    let Resolved { addr: dst, port } = resolve(&req.target, &req.lab, req.v6)?;
    let seed = Seed::choose(req.seed, &req.lab);
    let raw = match req.choice {
        LinkChoice::Raw => true,
        LinkChoice::Sim => false,
        LinkChoice::Auto => auto_raw(&req.lab, &[dst]),
    };
    let mut fallback = None;
    if raw {
        let opts = RawOptions { iface: req.iface.clone(), guard: req.guard, layer2: req.layer2 };
        match helper::open_flow(dst, &opts, req.in_process) {
            Ok((link, src)) => {
                let describe = link.describe();
                return Ok(Opened { link, dst, port, src, describe, raw: true, fallback: None, seed });
            }
            Err(e) if req.fallback_to_sim && !e.is_input() => fallback = Some(helper::fallback_message(&e)),
            Err(e) => return Err(e),
        }
    }
    let link = SimLink::new(sim_config_seeded(&req.lab, seed).at(dst));
    let describe = Link::describe(&link);
    Ok(Opened { link: Box::new(link), dst, port, src: our_address(dst), describe, raw: false, fallback, seed })
}

/// What [`open_probes`] needs for a sweep.
#[derive(Clone, Debug, Default)]
pub struct ProbeRequest {
    /// The hosts to sweep (already parsed and checked, e.g. by [`super::sweep::parse_targets`]).
    pub targets: Vec<IpAddr>,
    /// Our source port: replies come back to it, and a raw capture keeps only those.
    pub sport: u16,
    /// Raw, simulated, or automatic.
    pub choice: LinkChoice,
    /// Interface for a raw link.
    pub iface: Option<String>,
    /// The highest rate the sweep will send at, in packets per second (the helper paces to it).
    pub max_pps: u64,
    /// The preset's lab-host section (the simulated host answers at the first target).
    pub lab: LabHost,
    /// May open raw sockets in this process when it has the privileges (the CLI); `false` always goes through
    /// `tcpcraft-link` (the GUI).
    pub in_process: bool,
    /// The seed given for this sweep; else the preset's, else a random one.
    pub seed: Option<u64>,
}

/// An open probe link, ready for [`super::sweep::run`].
pub struct OpenedProbes {
    /// The link.
    pub link: Box<dyn ProbeLink + Send>,
    /// Our source address on this link.
    pub src: IpAddr,
    /// The link's description.
    pub describe: String,
    /// Whether this is a raw link (else the simulated lab host).
    pub raw: bool,
    /// The sweep's seed (the simulated host's ISNs, the probes' cookie key: [`super::sweep::SweepConfig::seed`]).
    pub seed: Seed,
    /// Targets not declared to the link because they are the broadcast address of a local subnet (the helper
    /// refuses to declare them, the kernel to send there): the sweep marks their rows refused
    /// ([`super::sweep::SweepConfig::refused_hosts`]) and goes on with the others.
    pub refused: Vec<IpAddr>,
}

impl std::fmt::Debug for OpenedProbes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedProbes")
            .field("src", &self.src)
            .field("describe", &self.describe)
            .field("raw", &self.raw)
            .field("seed", &self.seed)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

/// The targets as a short text for messages: the address, or the first and last with the count.
fn targets_text(targets: &[IpAddr]) -> String {
    match targets {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first} … {last} ({} addresses)", targets.len()),
    }
}

/// Checks a raw sweep's targets against what `tcpcraft-link` accepts for one session, before anything is opened
/// or spawned: at most [`MAX_TARGETS`] addresses, each a unicast address. (Sweeps are held to the same number
/// on every link by [`super::sweep::plan`]; this is the session's own guard for any other caller.)
pub fn check_raw_targets(targets: &[IpAddr]) -> Result<(), LinkError> {
    let refuse = |reason: String| LinkError::Target { target: targets_text(targets), reason };
    if targets.is_empty() {
        return Err(refuse("no target given".into()));
    }
    if targets.len() > MAX_TARGETS {
        return Err(refuse(format!(
            "a raw sweep reaches at most {MAX_TARGETS} addresses per session (the limit of tcpcraft-link), not {}; \
             sweep a smaller block at a time (a /20 holds {MAX_TARGETS})",
            targets.len()
        )));
    }
    targets.iter().try_for_each(|&t| policy::check_target(t)).map_err(refuse)
}

/// Chooses and opens a probe link. A raw sweep is checked first ([`check_raw_targets`]), so one the helper would
/// refuse fails here with the reason, before any link is opened or any helper spawned; local subnets' broadcast
/// addresses among the targets are left out of the link and named in [`OpenedProbes::refused`].
pub fn open_probes(req: &ProbeRequest) -> Result<OpenedProbes, LinkError> {
    let Some(&first) = req.targets.first() else {
        return Err(LinkError::Target { target: String::new(), reason: "no target given".into() });
    };
    let seed = Seed::choose(req.seed, &req.lab);
    let raw = match req.choice {
        LinkChoice::Raw => true,
        LinkChoice::Sim => false,
        LinkChoice::Auto => auto_raw(&req.lab, &req.targets),
    };
    if raw {
        check_raw_targets(&req.targets)?;
        let broadcasts = route::local_broadcasts();
        let (refused, declared): (Vec<IpAddr>, Vec<IpAddr>) = req.targets.iter().partition(|t| broadcasts.contains(t));
        if declared.is_empty() {
            return Err(LinkError::Target {
                target: targets_text(&req.targets),
                reason: "only local subnets' broadcast addresses: nothing tcpcraft-link or the kernel sends to".into(),
            });
        }
        let (link, src, describe) =
            helper::open_probes(&declared, req.sport, req.iface.as_deref(), req.max_pps, req.in_process)?;
        return Ok(OpenedProbes { link, src, describe, raw: true, seed, refused });
    }
    let link = SimLink::new(sim_config_seeded(&req.lab, seed).at(first));
    let describe = format!("sim {first}");
    Ok(OpenedProbes { link: Box::new(link), src: our_address(first), describe, raw: false, seed, refused: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The preset's default lab host is the simulated link's default host: one set of defaults, two layers.
    #[test]
    fn the_default_lab_host_is_the_default_simulated_host() {
        assert_eq!(sim_config(&LabHost::default()), SimConfig::default());
        let lab = LabHost { rtt_us: 7, filtered: vec![81], ..LabHost::default() };
        let sim = sim_config(&lab);
        assert_eq!((sim.rtt_us, sim.filtered), (7, vec![81]));
        let router = crate::preset::lab_host::LabRouter { drop: vec![8081], reset: vec![8082], ..Default::default() };
        let sim = sim_config(&LabHost { routers: vec![router.clone()], ..LabHost::default() });
        let want = SimRouter { addr: router.addr, addr_v6: router.addr_v6, drop: vec![8081], reset: vec![8082] };
        assert_eq!(sim.routers, vec![want]);
        assert_eq!(SimRouter::default().addr, router.addr, "one default router address, two layers");
    }

    #[test]
    fn targets_resolve_with_their_port_and_an_empty_host_is_the_lab_host() {
        let lab = LabHost::default();
        let r = |t: &str| resolve(&Target::Text(t.into()), &lab, false);
        assert_eq!(r("127.0.0.1:8080").unwrap(), Resolved { addr: [127, 0, 0, 1].into(), port: Some(8080) });
        assert_eq!(r("").unwrap(), Resolved { addr: lab.addr(), port: None });
        assert_eq!(r(" :22 ").unwrap(), Resolved { addr: lab.addr(), port: Some(22) });
        assert_eq!(resolve(&Target::Lab, &lab, true).unwrap().addr, IpAddr::V6(lab.host_v6));
        assert!(matches!(r("host:99999"), Err(LinkError::Target { .. })));
    }

    #[test]
    fn a_simulated_flow_answers_at_the_target_from_our_simulated_address() {
        let req = FlowRequest {
            target: Target::Text("[2001:db8::99]:443".into()),
            choice: LinkChoice::Sim,
            ..FlowRequest::default()
        };
        let o = open_flow(&req).unwrap();
        assert_eq!(
            (o.dst, o.port, o.raw, o.fallback.as_deref()),
            ("2001:db8::99".parse().unwrap(), Some(443), false, None)
        );
        assert_eq!(o.src, our_address(o.dst));
        assert_eq!(o.describe, "sim 192.0.2.10", "the simulated host is described by its IPv4 address");
    }

    /// Raw mode without a usable helper (none beside the test binary): with `fallback_to_sim` the flow opens on
    /// the lab host and says why; without it the error comes back.
    #[test]
    fn raw_without_the_helper_falls_back_only_when_asked() {
        if std::env::var_os(helper::HELPER_ENV).is_some() {
            return; // someone pointed us at a real helper; the netns tests cover that case
        }
        let mut req = FlowRequest { choice: LinkChoice::Raw, fallback_to_sim: true, ..FlowRequest::default() };
        let o = open_flow(&req).unwrap();
        assert!(!o.raw);
        assert!(o.fallback.as_deref().is_some_and(|f| !f.is_empty()));
        req.fallback_to_sim = false;
        assert!(open_flow(&req).is_err());
    }

    /// More addresses than the helper accepts are refused before anything is opened, naming the limit.
    #[test]
    fn a_raw_sweep_beyond_the_helper_limit_is_refused_up_front() {
        let targets: Vec<IpAddr> = (0..=8191u32).map(|i| IpAddr::from((10u32 << 24 | i).to_be_bytes())).collect();
        let req =
            ProbeRequest { targets, choice: LinkChoice::Raw, sport: 47_000, max_pps: 100, ..ProbeRequest::default() };
        let e = open_probes(&req).unwrap_err();
        assert!(matches!(e, LinkError::Target { .. }), "{e}");
        assert!(e.to_string().contains("4096") && e.to_string().contains("8192"), "{e}");
        let broadcast = ProbeRequest { targets: vec!["255.255.255.255".parse().unwrap()], ..req.clone() };
        assert!(open_probes(&broadcast).unwrap_err().to_string().contains("broadcast"));
        let sim = ProbeRequest { choice: LinkChoice::Sim, ..req };
        let o = open_probes(&sim).unwrap();
        assert_eq!((o.raw, o.src, o.describe.as_str()), (false, our_address(sim.targets[0]), "sim 10.0.0.0"));
    }
}
