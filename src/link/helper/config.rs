//! Root's configuration of the helper: `/etc/tcpcraft/helper.conf`, a fixed path (never taken from the
//! environment), honoured only when the file and every directory above it belong to root and are writable by
//! no one else. Anything wrong with it leaves the safe defaults in force, with a warning.
//!
//! ```text
//! # /etc/tcpcraft/helper.conf (owner root, mode 0644)
//! # Let users send from addresses that are not their own (spoofing). Default: false.
//! allow_spoofed_source = false
//! ```

use std::path::Path;

/// Where root configures the helper.
pub const PATH: &str = "/etc/tcpcraft/helper.conf";

/// What root allows beyond the defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Datagrams may carry any source address (not only the outgoing interface's).
    pub allow_spoofed_source: bool,
}

/// Reads [`PATH`]: the defaults when it does not exist; the defaults and a warning when it cannot be trusted or
/// read.
pub fn load() -> (Config, Option<String>) {
    match load_from(Path::new(PATH)) {
        Ok(c) => (c, None),
        Err(why) => (Config::default(), Some(format!("ignoring {PATH}: {why}; the safe defaults apply"))),
    }
}

/// Reads a configuration file after checking that root owns it and the directories above it.
pub fn load_from(path: &Path) -> Result<Config, String> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(Config::default());
    }
    let real = crate::link::tool::trustworthy(path)?;
    // Bounded while reading, regular files only (a FIFO or device there is refused, not waited on).
    let text = crate::fsio::read_bounded(&real, 64 * 1024, "the configuration").map_err(|e| e.to_string())?;
    parse(&String::from_utf8_lossy(&text))
}

/// Parses `key = value` lines; `#` starts a comment. Unknown keys and bad values are errors.
pub fn parse(text: &str) -> Result<Config, String> {
    let mut c = Config::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected key = value", n + 1));
        };
        let flag = match value.trim() {
            "true" => true,
            "false" => false,
            v => return Err(format!("line {}: {v:?} is not true or false", n + 1)),
        };
        match key.trim() {
            "allow_spoofed_source" => c.allow_spoofed_source = flag,
            k => return Err(format!("line {}: unknown setting {k:?}", n + 1)),
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_mistakes_are_errors() {
        assert_eq!(parse("").unwrap(), Config::default());
        let on = parse("# comment\nallow_spoofed_source = true # yes\n").unwrap();
        assert!(on.allow_spoofed_source);
        assert!(parse("allow_spoofed_source = yes").unwrap_err().contains("line 1"));
        assert!(parse("\nallow_spoofing = true").unwrap_err().contains("line 2: unknown setting"));
        assert!(parse("allow_spoofed_source").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_write_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("helper.conf");
        std::fs::write(&f, "allow_spoofed_source = true\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(load_from(&f).unwrap_err().contains("writable by group or others"));
        assert_eq!(load_from(&dir.path().join("absent.conf")).unwrap(), Config::default());
    }
}
