//! The helper's privileges: exactly CAP_NET_RAW and CAP_NET_ADMIN (Linux file capabilities), checked at start,
//! narrowed as soon as the sockets are open, and dropped entirely at the end of the session.

use super::protocol::Refusal;

/// What the helper may do right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// CAP_NET_RAW (raw sockets, capture).
    pub raw: bool,
    /// CAP_NET_ADMIN (socket marks, the nftables guard).
    pub admin: bool,
}

#[cfg(target_os = "linux")]
mod imp {
    use caps::{CapSet, Capability};

    use super::{Held, Refusal};

    const NEEDED: [Capability; 2] = [Capability::CAP_NET_RAW, Capability::CAP_NET_ADMIN];

    /// Refuses extra privileges; otherwise reports what is held, with empty inheritable and ambient sets.
    pub fn start() -> Result<Held, (Refusal, String)> {
        let refuse = |why: String| {
            Err((
                Refusal::ExtraPrivileges,
                format!(
                    "tcpcraft-link refuses to run {why}: it needs only CAP_NET_RAW and CAP_NET_ADMIN, given as file \
                     capabilities (sudo setcap cap_net_raw,cap_net_admin+eip on the helper). As root, use the \
                     in-process raw link instead: tcpcraft run … --link raw"
                ),
            ))
        };
        if crate::link::privileges::effective_uid() == Some(0) {
            return refuse("as root".into());
        }
        let permitted = caps::read(None, CapSet::Permitted).map_err(|e| (Refusal::Privileges, e.to_string()))?;
        let mut extra: Vec<String> = permitted.iter().filter(|c| !NEEDED.contains(c)).map(|c| c.to_string()).collect();
        if !extra.is_empty() {
            extra.sort();
            return refuse(format!("with {}", extra.join(", ")));
        }
        let held = Held {
            raw: permitted.contains(&Capability::CAP_NET_RAW),
            admin: permitted.contains(&Capability::CAP_NET_ADMIN),
        };
        // Nothing is raised into the ambient set: the guard's nft(8) gets CAP_NET_ADMIN for its own spawn only
        // (crate::link::tool), and the inheritable and ambient sets start empty.
        for set in [CapSet::Ambient, CapSet::Inheritable] {
            let _ = caps::clear(None, set);
        }
        Ok(held)
    }

    /// Drops CAP_NET_RAW: the sockets are open.
    pub fn drop_raw() {
        for set in [CapSet::Effective, CapSet::Permitted] {
            let _ = caps::drop(None, set, Capability::CAP_NET_RAW);
        }
    }

    /// Drops every capability, for good.
    pub fn drop_all() {
        for set in [CapSet::Ambient, CapSet::Inheritable, CapSet::Effective, CapSet::Permitted] {
            let _ = caps::clear(None, set);
        }
    }

    /// What is held now.
    pub fn held() -> Held {
        let eff = caps::read(None, CapSet::Effective).unwrap_or_default();
        Held { raw: eff.contains(&Capability::CAP_NET_RAW), admin: eff.contains(&Capability::CAP_NET_ADMIN) }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Held, Refusal};

    /// Outside Linux there are no capability sets: report what the platform check says.
    pub fn start() -> Result<Held, (Refusal, String)> {
        Ok(held())
    }

    /// Nothing to drop outside Linux.
    pub fn drop_raw() {}

    /// Nothing to drop outside Linux.
    pub fn drop_all() {}

    /// What the platform check says.
    pub fn held() -> Held {
        let p = crate::link::privileges::check();
        Held { raw: p.raw, admin: p.admin }
    }
}

/// Checks the helper's privileges at start: refuses extra ones, reports what it holds.
pub fn start() -> Result<Held, (Refusal, String)> {
    imp::start()
}

/// Gives up CAP_NET_RAW once the sockets are open.
pub fn drop_raw() {
    imp::drop_raw()
}

/// Gives up every capability at the end of the session.
pub fn drop_all() {
    imp::drop_all()
}

/// The capabilities in effect now.
pub fn held() -> Held {
    imp::held()
}
