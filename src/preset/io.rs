//! Reading presets (RON, comments allowed) with `file:line:col` errors, and saving them atomically.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ron::ser::PrettyConfig;

use super::error::PresetError;
use super::schema::Preset;
use super::validate::validate;

/// The largest preset file read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// RON as presets use it: optional fields are written without `Some(...)`.
fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// 1-based line and column of byte offset `at` in `src`.
fn line_col(src: &str, at: usize) -> (usize, usize) {
    let before = &src[..at.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses and checks preset text; `path` names it in errors.
pub fn load_str(src: &str, path: &str) -> Result<Preset, PresetError> {
    let preset: Preset = ron_options().from_str(src).map_err(|e| PresetError {
        path: path.into(),
        line: e.position.line.max(1),
        col: e.position.col.max(1),
        message: e.code.to_string(),
    })?;
    validate(&preset).map_err(|p| {
        let at = p.near.and_then(|(needle, nth)| src.match_indices(&needle).nth(nth).map(|(i, _)| i)).unwrap_or(0);
        let (line, col) = line_col(src, at);
        PresetError { path: path.into(), line, col, message: p.message }
    })?;
    Ok(preset)
}

/// Reads and checks a preset file (at most [`MAX_FILE_BYTES`]).
pub fn load(path: &Path) -> Result<Preset, PresetError> {
    let name = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| PresetError::whole_file(&name, format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(PresetError::whole_file(
            &name,
            format!("the file is {} bytes; a preset is at most {MAX_FILE_BYTES} bytes", meta.len()),
        ));
    }
    let bytes = fs::read(path).map_err(|e| PresetError::whole_file(&name, format!("cannot read: {e}")))?;
    let src = String::from_utf8(bytes).map_err(|e| {
        let (line, col) = line_col(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
        PresetError { path: name.clone(), line, col, message: "the file is not UTF-8 text".into() }
    })?;
    load_str(&src, &name)
}

/// The preset as RON text, with a header comment.
pub fn to_ron(p: &Preset) -> Result<String, ron::Error> {
    let body = ron_options().to_string_pretty(p, PrettyConfig::new().struct_names(false).indentor("    "))?;
    Ok(format!("// tcpcraft preset (format version {}). Comments start with //.\n{body}\n", p.version))
}

/// Writes `path` atomically: a temporary file in the same directory is written by `write`, flushed to disk and
/// renamed over `path`. If anything fails, the old file is untouched and the temporary file is removed.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "preset".into());
    let tmp: PathBuf = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
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

/// Saves a preset atomically. A file being replaced that holds comments (which serialization cannot keep) is
/// first copied to `FILE.bak`, so nothing a user wrote is lost.
pub fn save(path: &Path, p: &Preset) -> Result<(), PresetError> {
    let name = path.display().to_string();
    let text = to_ron(p).map_err(|e| PresetError::whole_file(&name, format!("cannot serialize: {e}")))?;
    if let Ok(old) = fs::read_to_string(path) {
        if old.contains("//") || old.contains("/*") {
            let bak = path.with_extension("ron.bak");
            write_atomic(&bak, |f| f.write_all(old.as_bytes()))
                .map_err(|e| PresetError::whole_file(&name, format!("cannot keep a backup: {e}")))?;
        }
    }
    write_atomic(path, |f| f.write_all(text.as_bytes()))
        .map_err(|e| PresetError::whole_file(&name, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_SIM: &str = "(\n    version: 1,\n    name: \"lab-host\",\n    sim: (\n        filtered: [81],\n        rtt_ms: 5,\n    ),\n    steps: [Send((flags: \"S\"))],\n)\n";

    /// A misspelt field of the lab-host section is refused where it is written, not silently ignored.
    #[test]
    fn a_misspelt_lab_host_field_is_an_error_at_its_line() {
        let e = load_str(WITH_SIM, "lab.ron").unwrap_err();
        let text = e.to_string();
        assert_eq!((e.path.as_str(), e.line), ("lab.ron", 6), "{text}");
        assert!(text.starts_with("lab.ron:6:"), "{text}");
        assert!(text.contains("rtt_ms"), "{text}");
    }

    /// The section's fields are all optional; those given replace the defaults.
    #[test]
    fn the_lab_host_section_keeps_defaults_for_fields_not_given() {
        let p = load_str(&WITH_SIM.replace("rtt_ms", "rtt_us"), "lab.ron").unwrap();
        let sim = p.sim.unwrap();
        assert_eq!((sim.filtered, sim.rtt_us), (vec![81], 5));
        assert_eq!(sim.open, crate::preset::LabHost::default().open);
    }
}
