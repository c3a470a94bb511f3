//! Files in and out, safely: every file tcpcraft reads is opened with [`open_bounded`] / [`read_bounded`] (regular
//! files only, never blocking on a FIFO, at most a stated number of bytes), and every file it writes goes through
//! [`write_atomic`] (a temporary file renamed over the target, removed on error; stale ones of dead processes are
//! cleared by the next save in the folder).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use thiserror::Error;

/// Why a file could not be read.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The OS refused (missing file, permissions, …).
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// Not a regular file: a FIFO, a device, a directory, a socket.
    #[error("cannot read: it is {kind}, not a regular file")]
    NotAFile {
        /// What it is, e.g. "a FIFO (named pipe)".
        kind: &'static str,
    },
    /// Larger than the limit for this kind of file.
    #[error("the file is {}; {what} is at most {}", bytes(*.size, *.at_least), bytes(*.limit, false))]
    TooLarge {
        /// Bytes seen: the file's size, or (`at_least`) how many were read before stopping.
        size: u64,
        /// The file grew while read: `size` is a lower bound.
        at_least: bool,
        /// The limit.
        limit: u64,
        /// What kind of file, e.g. "a preset".
        what: &'static str,
    },
}

/// A byte count for people: `1 MiB`, `17.7 MB`.
pub fn human(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else if bytes >= 1000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

/// `1048577 bytes (1.0 MB)`, `4 bytes`, `… or more`.
fn bytes(n: u64, at_least: bool) -> String {
    let more = if at_least { " or more" } else { "" };
    if n < 1000 {
        format!("{n} bytes{more}")
    } else {
        format!("{n} bytes{more} ({})", human(n))
    }
}

/// What a non-regular file is, for messages.
fn kind_of(t: fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Opens a regular file for reading, checking its type before and after opening (a FIFO swapped in between is
/// opened non-blocking, so it cannot hang us, and then refused) and its size against `limit`. Returns the file and
/// its size; read it through `take(limit + 1)` (as [`read_bounded`] does) since it may grow.
pub fn open_bounded(path: &Path, limit: u64, what: &'static str) -> Result<(File, u64), ReadError> {
    if let Some(kind) = kind_of(fs::metadata(path)?.file_type()) {
        return Err(ReadError::NotAFile { kind });
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking only matters for FIFOs and devices, which are refused just below; regular files ignore it.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(ReadError::NotAFile { kind });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { size: meta.len(), at_least: false, limit, what });
    }
    Ok((file, meta.len()))
}

/// Reads a whole regular file of at most `limit` bytes; anything else is refused without reading more than
/// `limit + 1` bytes. `what` names the kind of file in the size error ("a preset").
pub fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let (file, len) = open_bounded(path, limit, what)?;
    let mut buf = Vec::with_capacity(usize::try_from(len.min(limit) + 1).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    let got = buf.len() as u64;
    if got > limit {
        return Err(ReadError::TooLarge { size: got, at_least: true, limit, what });
    }
    Ok(buf)
}

/// The marker between a file's name and the writer's PID in temporary files: `.NAME.tmp-PID`.
const TMP_MARK: &str = ".tmp-";
/// On systems without `/proc`, a temporary file this old is taken as left behind.
const STALE_AFTER: Duration = Duration::from_secs(3600);
/// At most this many folder entries are looked at for stale temporary files.
const SCAN_AT_MOST: usize = 10_000;

/// The PID of a temporary file's name `.NAME.tmp-PID`, if it is one.
fn tmp_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (stem, pid) = rest.rsplit_once(TMP_MARK)?;
    if stem.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether the process that wrote a temporary file is gone (on Linux by `/proc/PID`; elsewhere by the file's age).
fn writer_is_gone(pid: u32, path: &Path) -> bool {
    if Path::new("/proc/self").exists() {
        return !Path::new(&format!("/proc/{pid}")).exists();
    }
    let age = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok());
    age.is_some_and(|a| a > STALE_AFTER)
}

/// Removes `.NAME.tmp-PID` files in `dir` whose writer is gone (killed mid-save); returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    let me = std::process::id();
    let mut removed = 0;
    for entry in rd.take(SCAN_AT_MOST).filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(tmp_pid) else { continue };
        let path = entry.path();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if pid != me && regular && writer_is_gone(pid, &path) && fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `path` atomically: a temporary file `.NAME.tmp-PID` in the same directory is written by `write`, flushed
/// to disk and renamed over `path`. If anything fails, the old file is untouched and the temporary file is removed;
/// temporary files left by killed processes in that folder are removed first.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    remove_stale_temps(dir);
    let tmp: PathBuf = dir.join(format!(".{file_name}{TMP_MARK}{}", std::process::id()));
    let result = (|| {
        // A new file, never one planted there (a symlink is not followed); a leftover of an earlier process that
        // had our PID is removed first.
        let create = || OpenOptions::new().write(true).create_new(true).open(&tmp);
        let mut f = match create() {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&tmp)?;
                create()?
            }
            other => other?,
        };
        write(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"12345").unwrap();
        assert_eq!(read_bounded(&p, 5, "a test file").unwrap(), b"12345");
        let e = read_bounded(&p, 4, "a test file").unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { size: 5, limit: 4, .. }), "{e}");
        assert!(e.to_string().contains("a test file is at most 4 bytes"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bounded(dir.path(), 10, "x").unwrap_err();
        assert!(matches!(e, ReadError::NotAFile { kind: "a directory" }), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), 10, "x").unwrap_err();
        assert!(matches!(e, ReadError::NotAFile { kind: "a character device" }), "{e}");
        assert!(matches!(read_bounded(&dir.path().join("none"), 10, "x"), Err(ReadError::Io(_))));
    }

    #[test]
    fn temp_names_are_recognised_exactly() {
        assert_eq!(tmp_pid(".a.ron.tmp-123"), Some(123));
        assert_eq!(tmp_pid(".a.ron.tmp-"), None);
        assert_eq!(tmp_pid("a.ron.tmp-12"), None);
        assert_eq!(tmp_pid(".a.ron.tmp-12x"), None);
        assert_eq!(tmp_pid("..tmp-12"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_save_clears_temps_of_dead_writers_and_keeps_live_ones() {
        let dir = tempfile::tempdir().unwrap();
        // PID 0x3fffffff is above Linux's pid_max, so never alive; PID 1 always is.
        let dead = dir.path().join(".a.ron.tmp-1073741823");
        let live = dir.path().join(".b.ron.tmp-1");
        fs::write(&dead, b"torn").unwrap();
        fs::write(&live, b"in progress").unwrap();
        write_atomic(&dir.path().join("c.ron"), |f| f.write_all(b"new")).unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
        assert_eq!(fs::read(dir.path().join("c.ron")).unwrap(), b"new");
    }

    /// A file already at the temporary name (a leftover with our PID, or a planted symlink) is replaced, never
    /// written through.
    #[cfg(unix)]
    #[test]
    fn a_planted_temp_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let tmp = dir.path().join(format!(".c.ron.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write_atomic(&dir.path().join("c.ron"), |f| f.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(dir.path().join("c.ron")).unwrap(), b"new");
        assert!(!tmp.exists());
    }

    #[test]
    fn a_failed_write_leaves_no_temp_and_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.ron");
        fs::write(&p, b"old").unwrap();
        let e = write_atomic(&p, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(e.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
