//! Where the helper's links come from: the [`Host`] trait, the real [`RawHost`] (raw sockets, the nftables guard,
//! Linux capabilities, root's configuration) and the simulated [`SimHost`] used by tests and fuzzing.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::config::Config;
use crate::link::raw::{RawLink, RawOptions, RawProbes};
use crate::link::route::Route;
use crate::link::sim::{our_address, SimConfig, SimLink};
use crate::link::{Link, LinkError, ProbeLink};

/// A probe link the helper can own.
pub type Probes = Box<dyn ProbeLink + Send>;

/// Proof that a local address and port are ours: a socket bound to them, held until dropped.
pub type Claim = Box<dyn std::any::Any + Send>;

/// Where the helper's links come from, and what happens to its privileges as the session goes on.
pub trait Host {
    /// Opens a flow link towards `target`; returns it with its route (interface and our source address).
    fn open_flow(
        &mut self,
        target: IpAddr,
        iface: Option<&str>,
        guard: bool,
        layer2: bool,
    ) -> Result<(Box<dyn Link>, Route), LinkError>;
    /// Opens a probe link routed towards `target` that captures only replies to `sports` (and ICMP errors
    /// quoting them); returns it with its route and a description.
    fn open_probes(
        &mut self,
        target: IpAddr,
        iface: Option<&str>,
        sports: &[u16],
    ) -> Result<(Probes, Route, String), LinkError>;
    /// Proves `local` is ours by binding it with an ordinary TCP socket (no address reuse); `freebind` lets a
    /// configured spoofed address be bound. The error says why not (in use, not our address).
    fn claim(&mut self, local: SocketAddr, freebind: bool) -> Result<Claim, String>;
    /// The addresses of interface `iface`.
    fn addresses(&self, iface: &str) -> Vec<IpAddr>;
    /// The broadcast addresses of the local subnets.
    fn broadcasts(&self) -> Vec<IpAddr>;
    /// Root's configuration of the helper.
    fn config(&self) -> Config;
    /// The sockets are open: give up what is no longer needed (`admin` is still needed by the guard).
    fn narrow(&mut self, keep_admin: bool);
    /// The session is over: give up everything.
    fn release(&mut self);
    /// The fix to print when the helper lacks its capabilities.
    fn fix(&self) -> String;
    /// Waits `d` to hold the session's rate.
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The simulated peer as the helper's host, for tests and fuzzing: no sockets, no privileges, no waiting. It
/// records what the session did to its "privileges" and which ports it claimed.
#[derive(Debug, Default)]
pub struct SimHost {
    /// Each `narrow` call's `keep_admin`.
    pub narrowed: Vec<bool>,
    /// How often everything was released.
    pub released: usize,
    /// Local addresses and ports "in use by another socket": claiming them fails.
    pub taken: Vec<SocketAddr>,
    /// Addresses and ports claimed so far.
    pub claimed: Vec<SocketAddr>,
    /// The configuration root "wrote".
    pub config: Config,
}

fn sim_route(target: IpAddr) -> Route {
    Route { iface: "sim".into(), src: our_address(target) }
}

impl Host for SimHost {
    fn open_flow(
        &mut self,
        target: IpAddr,
        _iface: Option<&str>,
        _guard: bool,
        _layer2: bool,
    ) -> Result<(Box<dyn Link>, Route), LinkError> {
        Ok((Box::new(SimLink::new(SimConfig::default().at(target))), sim_route(target)))
    }

    fn open_probes(
        &mut self,
        target: IpAddr,
        _: Option<&str>,
        _: &[u16],
    ) -> Result<(Probes, Route, String), LinkError> {
        Ok((Box::new(SimLink::new(SimConfig::default().at(target))), sim_route(target), "sim".into()))
    }

    fn claim(&mut self, local: SocketAddr, _freebind: bool) -> Result<Claim, String> {
        if self.taken.contains(&local) {
            return Err(in_use(local));
        }
        self.claimed.push(local);
        Ok(Box::new(()))
    }

    fn addresses(&self, _iface: &str) -> Vec<IpAddr> {
        Vec::new()
    }

    fn broadcasts(&self) -> Vec<IpAddr> {
        vec![IpAddr::from([127, 255, 255, 255])]
    }

    fn config(&self) -> Config {
        self.config
    }

    fn narrow(&mut self, keep_admin: bool) {
        self.narrowed.push(keep_admin);
    }

    fn release(&mut self) {
        self.released += 1;
    }

    fn fix(&self) -> String {
        super::setcap_fix(None)
    }

    fn sleep(&mut self, _: Duration) {}
}

fn in_use(local: SocketAddr) -> String {
    format!(
        "local port {local} is in use by another socket: tcpcraft-link crafts only flows from a port it can bind \
         itself, so it never touches someone else's connection. Choose another source port"
    )
}

/// The real host: raw sockets, the nftables guard, Linux capabilities, and root's configuration.
#[derive(Debug, Default)]
pub struct RawHost {
    config: Config,
}

impl RawHost {
    /// The real host with root's configuration read from [`super::config::PATH`] (a warning on stderr when it
    /// is ignored).
    pub fn new() -> RawHost {
        let (config, warning) = super::config::load();
        if let Some(w) = warning {
            eprintln!("tcpcraft-link: {w}");
        }
        RawHost { config }
    }
}

impl Host for RawHost {
    fn open_flow(
        &mut self,
        target: IpAddr,
        iface: Option<&str>,
        guard: bool,
        layer2: bool,
    ) -> Result<(Box<dyn Link>, Route), LinkError> {
        let link = RawLink::open(target, &RawOptions { iface: iface.map(str::to_string), guard, layer2 })?;
        let route = link.route().clone();
        Ok((Box::new(link), route))
    }

    fn open_probes(
        &mut self,
        target: IpAddr,
        iface: Option<&str>,
        sports: &[u16],
    ) -> Result<(Probes, Route, String), LinkError> {
        // Filtered from the first frame: nothing but replies to `sports` ever enters the helper.
        let p = RawProbes::open_restricted(target, iface, sports)?;
        let route = p.route().clone();
        let describe = format!("raw {}", route.iface);
        Ok((Box::new(p), route, describe))
    }

    fn claim(&mut self, local: SocketAddr, freebind: bool) -> Result<Claim, String> {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::for_address(local), Type::STREAM, Some(Protocol::TCP))
            .map_err(|e| format!("cannot open a socket to claim {local}: {e}"))?;
        if local.is_ipv6() {
            let _ = s.set_only_v6(true);
        }
        if freebind {
            #[cfg(target_os = "linux")]
            let _ = if local.is_ipv6() { s.set_freebind_v6(true) } else { s.set_freebind_v4(true) };
        }
        s.bind(&local.into()).map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => in_use(local),
            std::io::ErrorKind::AddrNotAvailable => format!("{} is not an address of this host", local.ip()),
            std::io::ErrorKind::PermissionDenied => format!(
                "local port {} is below the first unprivileged port (net.ipv4.ip_unprivileged_port_start): \
                 craft from a port of 1024 or above",
                local.port()
            ),
            _ => format!("cannot bind {local} to claim it: {e}"),
        })?;
        Ok(Box::new(s))
    }

    fn addresses(&self, iface: &str) -> Vec<IpAddr> {
        crate::link::route::iface_addrs(iface)
    }

    fn broadcasts(&self) -> Vec<IpAddr> {
        crate::link::route::local_broadcasts()
    }

    fn config(&self) -> Config {
        self.config
    }

    fn narrow(&mut self, keep_admin: bool) {
        super::caps::drop_raw();
        if !keep_admin {
            super::caps::drop_all();
        }
        // The Ctrl-C handler's thread starts now, so it inherits only what is left (CAP_NET_ADMIN for the
        // guard, or nothing).
        crate::link::guard::install_cleanup_handlers();
    }

    fn release(&mut self) {
        crate::link::guard::remove_all();
        super::caps::drop_all();
    }

    fn fix(&self) -> String {
        super::setcap_fix(std::env::current_exe().ok().as_deref())
    }
}
