//! Who may use the helper. The Linux packages lock `tcpcraft-link` to a group, the way Debian locks Wireshark's
//! dumpcap: `root:tcpcraft`, mode 0750, with `cap_net_raw,cap_net_admin+eip`. So raw mode can be unavailable
//! for four different reasons, and each has its own fix: the helper is missing; this user may not run it (not
//! in the group, or in `/etc/group` already but not yet logged in again, or an admin restricted it further);
//! it runs without its capabilities; or it is ready and the trouble lies elsewhere.
//!
//! [`classify`] decides from facts passed in (the file's mode and owner, this process's ids and groups, the
//! group database, the outcome of trying the helper), so the tests do not depend on the machine; [`check`]
//! gathers those facts on this machine.

use std::path::Path;

use crate::i18n::tf;
use crate::link::LinkError;

/// The group the packages give the helper to.
pub const GROUP: &str = "tcpcraft";

/// The command that adds the user running it to `group` (they must log out and in again afterwards).
pub fn join_command(group: &str) -> String {
    format!("sudo usermod -aG {group} $USER")
}

/// Whether, and why not, this user may use raw mode through the helper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// No helper was found.
    Missing,
    /// Only members of the helper's group may run it, and this process is not one.
    NotInGroup {
        /// The helper's group (`tcpcraft` as packaged).
        group: String,
        /// `/etc/group` already lists the user: they joined, but this session started before that.
        listed_in_etc_group: bool,
    },
    /// This user may not run the helper, and joining its group would not help (e.g. a dpkg-statoverride of
    /// `root root 0700`, or a file system mounted noexec).
    Restricted {
        /// The file's permission bits.
        mode: u32,
        /// The file's owner, by name when known.
        owner: String,
        /// The file's group, by name when known.
        group: String,
    },
    /// The helper runs, but without its capabilities.
    NoCapabilities,
    /// The helper may be run and, when it was tried, held its capabilities.
    Ready,
}

/// The helper file's permission bits and owner, as `stat(2)` gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileFacts {
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner's user id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Who this process is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Me {
    /// Effective user id.
    pub uid: u32,
    /// Effective group id and the supplementary groups: what the kernel checks.
    pub gids: Vec<u32>,
    /// The user's name (from `/etc/passwd`), to find them in a group's member list.
    pub name: Option<String>,
    /// The user's login group (from `/etc/passwd`).
    pub login_gid: Option<u32>,
}

/// One entry of the group database (`/etc/group`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u32,
    /// Members listed by name.
    pub members: Vec<String>,
}

/// Whether `me` may execute a file with these facts, by the kernel's rule: root needs any execute bit; otherwise
/// the owner's bits apply to the owner, the group's bits to its members, and the others' bits to everyone else.
pub fn may_execute(file: &FileFacts, me: &Me) -> bool {
    let bit = if me.uid == 0 {
        0o111
    } else if file.uid == me.uid {
        0o100
    } else if me.gids.contains(&file.gid) {
        0o010
    } else {
        0o001
    };
    file.mode & bit != 0
}

/// Whether an error says the helper could not be started for lack of permission (EACCES).
fn permission_denied(e: &LinkError) -> bool {
    match e {
        // The client reports a failed spawn as "cannot start PATH: Permission denied (os error 13)".
        LinkError::Helper(msg) => msg.contains("cannot start") && msg.contains("(os error 13)"),
        LinkError::Io { source, .. } => source.kind() == std::io::ErrorKind::PermissionDenied,
        _ => false,
    }
}

/// Classifies access to the helper from facts. `file` is `None` when no helper was found. `outcome` is what
/// happened when the helper was tried: `None` when it was not (then `Ready` only means "may be run").
pub fn classify(file: Option<&FileFacts>, me: &Me, groups: &[GroupEntry], outcome: Option<&LinkError>) -> Access {
    let Some(file) = file else { return Access::Missing };
    let group_entry = groups.iter().find(|g| g.gid == file.gid);
    let group_name = group_entry.map_or_else(|| file.gid.to_string(), |g| g.name.clone());
    if !may_execute(file, me) || outcome.is_some_and(permission_denied) {
        // Joining the file's group helps only when its group may execute and the owner's bits do not apply.
        let group_helps = file.mode & 0o010 != 0 && file.uid != me.uid && me.uid != 0;
        if group_helps && !me.gids.contains(&file.gid) {
            let listed = group_entry.is_some_and(|g| me.name.as_ref().is_some_and(|n| g.members.contains(n)))
                || me.login_gid == Some(file.gid);
            return Access::NotInGroup { group: group_name, listed_in_etc_group: listed };
        }
        return Access::Restricted { mode: file.mode, owner: file.uid.to_string(), group: group_name };
    }
    match outcome {
        Some(LinkError::Privileges { .. }) => Access::NoCapabilities,
        _ => Access::Ready,
    }
}

/// Classifies access to the helper at `path` (`None`: not found) on this machine; `outcome` as for
/// [`classify`].
pub fn check(path: Option<&Path>, outcome: Option<&LinkError>) -> Access {
    let Some(path) = path else { return Access::Missing };
    match machine::facts(path) {
        Some(Facts { file, me, groups, owner }) => match classify(Some(&file), &me, &groups, outcome) {
            Access::Restricted { mode, group, .. } => Access::Restricted { mode, owner, group },
            a => a,
        },
        // No permission facts on this platform (or the file vanished): judge by the outcome alone.
        None if !path.exists() => Access::Missing,
        None => match outcome {
            Some(LinkError::Privileges { .. }) => Access::NoCapabilities,
            _ => Access::Ready,
        },
    }
}

/// Locates the helper and tries it (one spawn and a hello) when this user may run it; returns the verdict and
/// the helper's path.
pub fn current() -> (Access, Option<std::path::PathBuf>) {
    let path = super::locate().ok();
    let access = check(path.as_deref(), None);
    let access = match (&access, &path) {
        (Access::Ready, Some(p)) => match super::client::probe(p) {
            Ok(()) => Access::Ready,
            Err(e) => check(Some(p), Some(&e)),
        },
        _ => access,
    };
    (access, path)
}

fn shown(path: Option<&Path>) -> String {
    path.map_or_else(|| format!("/usr/bin/{}", super::HELPER), |p| p.display().to_string())
}

impl Access {
    /// Why raw mode is not available, as a translated sentence (for `Ready`: that the helper is in order).
    pub fn reason(&self, path: Option<&Path>) -> String {
        let p = shown(path);
        match self {
            Access::Missing => tf("link.access.missing", &[]),
            Access::NotInGroup { group, listed_in_etc_group: false } => {
                tf("link.access.not_in_group", &[("group", group), ("path", &p)])
            }
            Access::NotInGroup { group, listed_in_etc_group: true } => {
                tf("link.access.relogin", &[("group", group), ("path", &p)])
            }
            Access::Restricted { mode, owner, group } => tf(
                "link.access.restricted",
                &[("path", &p), ("owner", owner), ("group", group), ("mode", &format!("{mode:04o}"))],
            ),
            Access::NoCapabilities => tf("link.access.no_caps", &[("path", &p)]),
            Access::Ready => tf("link.access.ready", &[("path", &p)]),
        }
    }

    /// How to fix it, as a translated sentence that names the command to run, if there is one.
    pub fn fix(&self, path: Option<&Path>) -> String {
        let p = shown(path);
        match self {
            Access::Missing => tf("link.access.missing_fix", &[("group", GROUP)]),
            Access::NotInGroup { group, listed_in_etc_group: false } => {
                tf("link.access.join_fix", &[("command", &join_command(group))])
            }
            Access::NotInGroup { group, listed_in_etc_group: true } => {
                tf("link.access.relogin_fix", &[("group", group)])
            }
            Access::Restricted { .. } => tf("link.access.restricted_fix", &[("path", &p)]),
            Access::NoCapabilities => super::setcap_fix(path),
            Access::Ready => tf("link.access.ready_fix", &[]),
        }
    }

    /// The one command that fixes it, for a copy button; `None` when there is nothing to run.
    pub fn command(&self, path: Option<&Path>) -> Option<String> {
        match self {
            Access::NotInGroup { group, listed_in_etc_group: false } => Some(join_command(group)),
            Access::NoCapabilities if cfg!(target_os = "linux") => Some(super::setcap_command(path)),
            Access::NoCapabilities => Some(crate::link::privileges::fix_command()),
            _ => None,
        }
    }
}

/// What [`check`] reads from the machine (only Linux has these facts to read).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct Facts {
    file: FileFacts,
    me: Me,
    groups: Vec<GroupEntry>,
    owner: String,
}

/// Parses the `Uid:` (effective), `Gid:` (effective) and `Groups:` lines of `/proc/self/status`: the effective
/// user id, and every group id the kernel checks.
pub fn parse_status(text: &str) -> Option<(u32, Vec<u32>)> {
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(str::split_whitespace);
    let uid = field("Uid:")?.nth(1)?.parse().ok()?;
    let egid: u32 = field("Gid:")?.nth(1)?.parse().ok()?;
    let mut gids = vec![egid];
    gids.extend(field("Groups:").into_iter().flatten().filter_map(|g| g.parse::<u32>().ok()));
    Some((uid, gids))
}

/// Parses a group database in `/etc/group` form (`name:x:gid:member,member`); bad lines are skipped.
pub fn parse_groups(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?.to_string();
            let gid = f.nth(1)?.trim().parse().ok()?;
            let members = f.next().unwrap_or("").split(',').map(str::trim).filter(|m| !m.is_empty());
            Some(GroupEntry { name, gid, members: members.map(String::from).collect() })
        })
        .collect()
}

/// Finds a user in a database in `/etc/passwd` form: their name and login group.
pub fn parse_passwd(text: &str, uid: u32) -> Option<(String, u32)> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let (name, id, gid) = (f.first()?, f.get(2)?.parse::<u32>().ok()?, f.get(3)?.parse::<u32>().ok()?);
        (id == uid).then(|| (name.to_string(), gid))
    })
}

#[cfg(target_os = "linux")]
mod machine {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::{parse_groups, parse_passwd, parse_status, Facts, FileFacts, Me};

    pub(super) fn facts(path: &Path) -> Option<Facts> {
        let meta = std::fs::metadata(path).ok()?;
        let file = FileFacts { mode: meta.mode() & 0o7777, uid: meta.uid(), gid: meta.gid() };
        let (uid, gids) = parse_status(&std::fs::read_to_string("/proc/self/status").ok()?)?;
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let user = parse_passwd(&passwd, uid);
        let owner = parse_passwd(&passwd, file.uid).map_or_else(|| file.uid.to_string(), |(n, _)| n);
        let name = user.as_ref().map(|(n, _)| n.clone()).or_else(|| std::env::var("USER").ok());
        let me = Me { uid, gids, name, login_gid: user.map(|(_, g)| g) };
        let groups = parse_groups(&std::fs::read_to_string("/etc/group").unwrap_or_default());
        Some(Facts { file, me, groups, owner })
    }
}

#[cfg(not(target_os = "linux"))]
mod machine {
    use std::path::Path;

    use super::Facts;

    /// Only the Linux packages lock the helper to a group; elsewhere there is nothing to read.
    pub(super) fn facts(_path: &Path) -> Option<Facts> {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// As packaged: root:tcpcraft (gid 998) 0750.
    const PACKAGED: FileFacts = FileFacts { mode: 0o750, uid: 0, gid: 998 };
    const ETC_GROUP: &str = "root:x:0:\nsudo:x:27:alice\ntcpcraft:x:998:bob,carol\nalice:x:1000:\n";

    fn user(uid: u32, name: &str, gids: &[u32]) -> Me {
        Me { uid, gids: gids.to_vec(), name: Some(name.into()), login_gid: Some(uid) }
    }

    fn groups() -> Vec<GroupEntry> {
        parse_groups(ETC_GROUP)
    }

    fn no_caps() -> LinkError {
        LinkError::Privileges { missing: "CAP_NET_RAW on tcpcraft-link".into(), fix: "sudo setcap …".into() }
    }

    fn eacces() -> LinkError {
        LinkError::Helper("cannot start /usr/bin/tcpcraft-link: Permission denied (os error 13)".into())
    }

    #[test]
    fn no_helper_is_missing() {
        assert_eq!(classify(None, &user(1000, "alice", &[1000]), &groups(), None), Access::Missing);
    }

    #[test]
    fn outside_the_group_the_fix_is_joining_it() {
        let alice = user(1000, "alice", &[1000, 27]);
        let want = Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: false };
        assert_eq!(classify(Some(&PACKAGED), &alice, &groups(), None), want);
        // The same from the spawn's EACCES, whatever was tried.
        assert_eq!(classify(Some(&PACKAGED), &alice, &groups(), Some(&eacces())), want);
        assert_eq!(want.command(None).as_deref(), Some("sudo usermod -aG tcpcraft $USER"));
        assert!(want.fix(None).contains("sudo usermod -aG tcpcraft $USER"), "{}", want.fix(None));
        assert!(want.reason(None).contains("tcpcraft"));
    }

    #[test]
    fn listed_in_etc_group_but_not_logged_in_again() {
        // bob is a member in /etc/group, but this process's groups predate that.
        let bob = user(1001, "bob", &[1001]);
        let want = Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: true };
        assert_eq!(classify(Some(&PACKAGED), &bob, &groups(), None), want);
        assert_eq!(want.command(None), None, "nothing to run: log out and in");
        assert_ne!(
            want.fix(None),
            Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: false }.fix(None)
        );
        // A login group of tcpcraft counts as listed too.
        let dave = Me { login_gid: Some(998), ..user(1003, "dave", &[1003]) };
        assert_eq!(classify(Some(&PACKAGED), &dave, &groups(), None), want);
    }

    #[test]
    fn a_member_may_run_it_then_the_hello_decides() {
        let carol = user(1002, "carol", &[1002, 998]);
        assert_eq!(classify(Some(&PACKAGED), &carol, &groups(), None), Access::Ready);
        assert_eq!(classify(Some(&PACKAGED), &carol, &groups(), Some(&no_caps())), Access::NoCapabilities);
        // Another failure after the helper started is not about access.
        let other = LinkError::Target { target: "10.9.9.9".into(), reason: "no route".into() };
        assert_eq!(classify(Some(&PACKAGED), &carol, &groups(), Some(&other)), Access::Ready);
        assert!(Access::NoCapabilities.command(Some(Path::new("/opt/t/tcpcraft-link"))).unwrap().contains("setcap"));
    }

    #[test]
    fn a_world_executable_helper_needs_no_group() {
        let tarball_user_install = FileFacts { mode: 0o755, uid: 1000, gid: 1000 };
        let eve = user(1004, "eve", &[1004]);
        assert_eq!(classify(Some(&tarball_user_install), &eve, &groups(), Some(&no_caps())), Access::NoCapabilities);
        assert_eq!(classify(Some(&tarball_user_install), &eve, &groups(), None), Access::Ready);
    }

    #[test]
    fn a_statoverride_that_no_group_can_pass_is_restricted() {
        let override_0700 = FileFacts { mode: 0o700, uid: 0, gid: 0 };
        let carol = user(1002, "carol", &[1002, 998]);
        let got = classify(Some(&override_0700), &carol, &groups(), None);
        assert_eq!(got, Access::Restricted { mode: 0o700, owner: "0".into(), group: "root".into() });
        assert!(got.reason(None).contains("0700"), "{}", got.reason(None));
        assert_eq!(got.command(None), None);
        // The owner's bits apply to the owner even when the group's would allow: joining does not help them.
        let owner_locked_out = FileFacts { mode: 0o070, uid: 1002, gid: 998 };
        assert!(matches!(classify(Some(&owner_locked_out), &carol, &groups(), None), Access::Restricted { .. }));
        // Executable by the group and a member, yet EACCES (noexec mount): restricted, not "join the group".
        assert!(matches!(classify(Some(&PACKAGED), &carol, &groups(), Some(&eacces())), Access::Restricted { .. }));
    }

    #[test]
    fn root_needs_any_execute_bit() {
        let root = user(0, "root", &[0]);
        assert!(may_execute(&PACKAGED, &root));
        assert!(!may_execute(&FileFacts { mode: 0o640, uid: 0, gid: 998 }, &root));
        assert_eq!(classify(Some(&PACKAGED), &root, &groups(), None), Access::Ready);
    }

    #[test]
    fn an_unknown_gid_is_named_by_number() {
        let f = FileFacts { mode: 0o750, uid: 0, gid: 4242 };
        let got = classify(Some(&f), &user(1000, "alice", &[1000]), &groups(), None);
        assert_eq!(got, Access::NotInGroup { group: "4242".into(), listed_in_etc_group: false });
    }

    #[test]
    fn proc_status_gives_effective_ids_and_groups() {
        let status = "Name:\tx\nUid:\t1000\t1001\t1001\t1001\nGid:\t1000\t100\t100\t100\nGroups:\t27 998 \n";
        assert_eq!(parse_status(status), Some((1001, vec![100, 27, 998])));
        let no_groups = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n";
        assert_eq!(parse_status(no_groups), Some((0, vec![0])));
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn group_and_passwd_files_parse() {
        let g = parse_groups("tcpcraft:x:998:bob, carol\nbroken\nempty:x:5:\n");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0], GroupEntry { name: "tcpcraft".into(), gid: 998, members: vec!["bob".into(), "carol".into()] });
        assert!(g[1].members.is_empty());
        let passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";
        assert_eq!(parse_passwd(passwd, 1001), Some(("bob".into(), 1001)));
        assert_eq!(parse_passwd(passwd, 7), None);
    }

    #[test]
    fn every_verdict_has_a_reason_and_a_fix() {
        let all = [
            Access::Missing,
            Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: false },
            Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: true },
            Access::Restricted { mode: 0o700, owner: "root".into(), group: "root".into() },
            Access::NoCapabilities,
            Access::Ready,
        ];
        for a in all {
            let (reason, fix) = (a.reason(None), a.fix(None));
            assert!(!reason.is_empty() && !reason.contains("link.access"), "{a:?}: {reason}");
            assert!(!fix.is_empty() && !fix.contains("link.access") && !fix.contains('{'), "{a:?}: {fix}");
        }
    }
}
