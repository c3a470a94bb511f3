//! System tools run with privileges (nft(8), iptables(8)): found only at fixed, root-owned paths, never through
//! `PATH` or the environment, run with a cleared environment, and given CAP_NET_ADMIN for that one child only.
//!
//! A helper with file capabilities that ran `nft` from the caller's `PATH` with an ambient capability would run
//! the caller's program with that capability. So: no `PATH` lookup, every directory on the way to the tool must
//! be owned by root and writable by nobody else, and the ambient capability is raised just around the spawn.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Directories searched, in order; the first one holding a trustworthy file wins.
pub const DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The environment a privileged tool gets (nothing else of ours passes: no `LD_PRELOAD`, no `PATH` of the user).
const ENV: [(&str, &str); 2] = [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), ("LC_ALL", "C")];

/// Why a path cannot be trusted with privileges, or `Ok` when it can: the file and every directory above it
/// (after resolving symbolic links) belong to root and are neither group- nor world-writable.
pub fn trustworthy(path: &Path) -> Result<PathBuf, String> {
    let real = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = std::fs::metadata(&real).map_err(|e| format!("{}: {e}", real.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", real.display()));
    }
    for p in real.ancestors() {
        check_owner(p)?;
    }
    Ok(real)
}

#[cfg(unix)]
fn check_owner(p: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if m.uid() != 0 {
        return Err(format!("{} is not owned by root (uid {})", p.display(), m.uid()));
    }
    if m.mode() & 0o022 != 0 {
        return Err(format!("{} is writable by group or others (mode {:o})", p.display(), m.mode() & 0o7777));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner(_: &Path) -> Result<(), String> {
    Ok(())
}

/// The trusted path of system tool `name`, from [`DIRS`] only. A file found but not trustworthy is an error
/// naming it; a tool found nowhere is `Ok(None)`.
pub fn find(name: &str) -> Result<Option<PathBuf>, String> {
    find_in(name, &DIRS.map(Path::new))
}

/// [`find`] over the given directories (tests).
pub fn find_in(name: &str, dirs: &[&Path]) -> Result<Option<PathBuf>, String> {
    for d in dirs {
        let p = d.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            return trustworthy(&p).map(Some).map_err(|why| format!("refusing to run {}: {why}", p.display()));
        }
    }
    Ok(None)
}

/// Runs a trusted tool with `args` (and `stdin`), a cleared environment, `/` as working directory, and
/// CAP_NET_ADMIN passed to it alone when this process holds it as a file capability. Returns stdout.
pub fn run(tool: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let name = tool.file_name().map_or_else(|| tool.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut c = Command::new(tool);
    c.args(args).env_clear().envs(ENV).current_dir("/").stdout(Stdio::piped()).stderr(Stdio::piped());
    c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = admin::spawn(&mut c).map_err(|e| format!("{name}: {e}"))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("{name}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{name}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

#[cfg(target_os = "linux")]
mod admin {
    use std::process::{Child, Command};

    use caps::{CapSet, Capability};

    /// Spawns `c`; when this thread holds CAP_NET_ADMIN without being root, it is raised into the inheritable
    /// and ambient sets just for the spawn and lowered again at once, so it reaches that one child and no other.
    pub fn spawn(c: &mut Command) -> std::io::Result<Child> {
        let root = crate::link::privileges::effective_uid() == Some(0);
        let held = caps::has_cap(None, CapSet::Permitted, Capability::CAP_NET_ADMIN).unwrap_or(false);
        let pass = held && !root;
        if pass {
            let raised = caps::raise(None, CapSet::Inheritable, Capability::CAP_NET_ADMIN)
                .and_then(|()| caps::raise(None, CapSet::Ambient, Capability::CAP_NET_ADMIN));
            if let Err(e) = raised {
                lower();
                return Err(std::io::Error::other(format!("cannot pass CAP_NET_ADMIN to the tool: {e}")));
            }
        }
        let child = c.spawn();
        if pass {
            lower();
        }
        child
    }

    fn lower() {
        let _ = caps::clear(None, CapSet::Ambient);
        let _ = caps::drop(None, CapSet::Inheritable, Capability::CAP_NET_ADMIN);
    }
}

#[cfg(not(target_os = "linux"))]
mod admin {
    /// Outside Linux there are no capability sets to pass on.
    pub fn spawn(c: &mut std::process::Command) -> std::io::Result<std::process::Child> {
        c.spawn()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn only_fixed_directories_are_searched() {
        // A tool that exists nowhere in DIRS is not found, whatever PATH says.
        assert_eq!(find("tcpcraft-no-such-tool").unwrap(), None);
        assert!(DIRS.iter().all(|d| d.starts_with('/')), "absolute paths only");
    }

    #[test]
    fn writable_or_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("nft");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = find_in("nft", &[dir.path()]).unwrap_err();
        assert!(err.contains("refusing to run") && err.contains("nft"), "{err}");
        // A root-owned system tool in a root-owned directory passes.
        if let Some(sh) = ["/bin/sh", "/usr/bin/sh"].iter().map(Path::new).find(|p| p.exists()) {
            assert!(trustworthy(sh).is_ok(), "{:?}", trustworthy(sh));
        }
    }

    #[test]
    fn the_tool_sees_a_cleared_environment() {
        let Some(env) = find("env").unwrap() else { return };
        std::env::set_var("TCPCRAFT_TOOL_TEST_SECRET", "1");
        let out = run(&env, &[], None).unwrap();
        assert!(!out.contains("TCPCRAFT_TOOL_TEST_SECRET"), "{out}");
        assert!(out.contains("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), "{out}");
    }
}
