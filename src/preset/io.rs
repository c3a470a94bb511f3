//! Reading presets (RON, comments allowed) with `file:line:col` errors, and saving them atomically.

use std::fs;
use std::io::Write;
use std::path::Path;

use ron::ser::PrettyConfig;

use super::error::PresetError;
use super::schema::Preset;
use super::validate::validate;
use crate::fsio::{self, ReadError};
use crate::limits::{PRESET_MAX_BYTES, PRESET_MAX_NESTING};

pub use crate::fsio::write_atomic;

/// RON as presets use it: optional fields are written without `Some(...)`, nesting is bounded.
fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_recursion_limit(PRESET_MAX_NESTING)
}

/// 1-based line and column of byte offset `at` in `src`.
fn line_col(src: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Byte offset of 1-based `line`, `col` (in characters) in `src`, if inside it.
fn offset_of(src: &str, line: usize, col: usize) -> Option<usize> {
    let start = if line <= 1 { 0 } else { src.match_indices('\n').nth(line - 2)?.0 + 1 };
    let rest = &src[start..];
    let within = rest.char_indices().nth(col.saturating_sub(1)).map_or(rest.len(), |(i, _)| i);
    Some(start + within)
}

/// For an expression's error (`'TEXT': reason at character N`, or `'NAME' is not a known name`) reported by RON
/// just after the string literal that holds it, the byte offset of the offending character in `src`.
fn expr_error_offset(src: &str, end: usize, message: &str) -> Option<usize> {
    let close = src.get(..end)?.rfind('"')?;
    let open = src[..close].rfind('"')?;
    let literal = &src[open + 1..close];
    // Expression messages quote the expression first (shortened when long); escapes would shift columns.
    if literal.contains('\\') || !message.starts_with('\'') {
        return None;
    }
    // An unknown name: where the name is.
    if let Some((name, _)) = message.strip_prefix('\'').and_then(|m| m.split_once("' is not a known name")) {
        return literal.find(name).map(|i| open + 1 + i);
    }
    let (_, n) = message.rsplit_once(" at character ")?;
    let n: usize = n.parse().ok()?;
    if n > literal.chars().count() + 1 {
        return None;
    }
    let within = literal.char_indices().nth(n.saturating_sub(1)).map_or(literal.len(), |(i, _)| i);
    Some(open + 1 + within)
}

/// RON's messages, with the recursion one stated as our rule.
fn ron_message(code: &ron::Error) -> String {
    match code {
        ron::Error::ExceededRecursionLimit => {
            format!("brackets nested more than {PRESET_MAX_NESTING} deep (a preset nests a few levels at most)")
        }
        other => other.to_string(),
    }
}

/// Parses and checks preset text; `path` names it in errors.
pub fn load_str(src: &str, path: &str) -> Result<Preset, PresetError> {
    // A UTF-8 byte order mark (some Windows editors write one) is not part of the text.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let preset: Preset = ron_options().from_str(src).map_err(|e| {
        let (mut line, mut col) = (e.position.line.max(1), e.position.col.max(1));
        let message = ron_message(&e.code);
        if let ron::Error::Message(m) = &e.code {
            let at = offset_of(src, line, col).and_then(|end| expr_error_offset(src, end, m));
            if let Some(at) = at {
                (line, col) = line_col(src, at);
            }
        }
        PresetError { path: path.into(), line, col, message }
    })?;
    validate(&preset).map_err(|p| {
        let at = p.near.and_then(|(needle, nth)| src.match_indices(&needle).nth(nth).map(|(i, _)| i)).unwrap_or(0);
        let (line, col) = line_col(src, at);
        PresetError { path: path.into(), line, col, message: p.message }
    })?;
    Ok(preset)
}

/// A file-level read error as a preset error.
fn read_error(name: &str, e: ReadError) -> PresetError {
    PresetError::whole_file(name, e.to_string())
}

/// Reads and checks a preset file: a regular file of at most [`PRESET_MAX_BYTES`] (FIFOs, devices and directories
/// are refused without blocking or reading them).
pub fn load(path: &Path) -> Result<Preset, PresetError> {
    let name = path.display().to_string();
    let bytes = fsio::read_bounded(path, PRESET_MAX_BYTES, "a preset").map_err(|e| read_error(&name, e))?;
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

/// Saves a preset atomically. A preset larger than [`PRESET_MAX_BYTES`] is refused before anything is written, so
/// tcpcraft can always reopen what it saved. A file being replaced that holds comments (which serialization cannot
/// keep), or that is not a preset tcpcraft could read, is first copied to `FILE.bak`, so nothing a user wrote is
/// lost.
pub fn save(path: &Path, p: &Preset) -> Result<(), PresetError> {
    let name = path.display().to_string();
    let text = to_ron(p).map_err(|e| PresetError::whole_file(&name, format!("cannot serialize: {e}")))?;
    let size = text.len() as u64;
    if size > PRESET_MAX_BYTES {
        return Err(PresetError::whole_file(
            &name,
            format!(
                "not written: the preset would be {} ({size} bytes, {} steps); a preset is at most {} ({PRESET_MAX_BYTES} bytes), so tcpcraft could not open it again; remove steps",
                fsio::human(size),
                p.steps.len(),
                fsio::human(PRESET_MAX_BYTES)
            ),
        ));
    }
    let bak = path.with_extension("ron.bak");
    let keep = |old: &[u8]| {
        write_atomic(&bak, |f| f.write_all(old))
            .map_err(|e| PresetError::whole_file(&name, format!("cannot keep a backup: {e}")))
    };
    match fsio::read_bounded(path, PRESET_MAX_BYTES, "a preset") {
        Ok(old) if old.windows(2).any(|w| w == b"//" || w == b"/*") => keep(&old)?,
        Ok(_) => {}
        // Something other than a preset of ours: keep a copy (regular files only; a FIFO is never read).
        Err(ReadError::TooLarge { .. }) => {
            fs::copy(path, &bak).map_err(|e| PresetError::whole_file(&name, format!("cannot keep a backup: {e}")))?;
        }
        Err(_) => {}
    }
    write_atomic(path, |f| f.write_all(text.as_bytes()))
        .map_err(|e| PresetError::whole_file(&name, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_SIM: &str = "(\n    version: 1,\n    name: \"lab-host\",\n    sim: (\n        filtered: [81],\n        rtt_ms: 5,\n    ),\n    steps: [Send((flags: \"S\"))],\n)\n";

    /// A listed fragment order loads as written and survives a save and a load.
    #[test]
    fn a_listed_fragment_order_loads_and_saves() {
        use crate::wire::fragment::FragOrder;
        let src =
            "(version: 1, name: \"x\", steps: [Send((flags: \"S\", fragment: (size: 8, order: given([2, 0, 1]))))])";
        let p = load_str(src, "f.ron").unwrap();
        let order = |p: &Preset| match &p.steps[0] {
            crate::preset::Step::Send(t) => t.fragment.as_ref().map(|f| f.order.clone()),
            _ => None,
        };
        assert_eq!(order(&p), Some(FragOrder::Given(vec![2, 0, 1])));
        let again = load_str(&to_ron(&p).unwrap(), "f2.ron").unwrap();
        assert_eq!(order(&again), order(&p));
    }

    /// A misspelt field of the lab-host section is refused where it is written, not silently ignored.
    #[test]
    fn a_misspelt_lab_host_field_is_an_error_at_its_line() {
        let e = load_str(WITH_SIM, "lab.ron").unwrap_err();
        let text = e.to_string();
        assert_eq!((e.path.as_str(), e.line), ("lab.ron", 6), "{text}");
        assert!(text.starts_with("lab.ron:6:"), "{text}");
        assert!(text.contains("rtt_ms"), "{text}");
    }

    /// An expression's syntax error points at the offending character in the file, not at the end of its string.
    #[test]
    fn expression_errors_point_at_the_character() {
        let src = "(\n    version: 1,\n    name: \"x\",\n    steps: [Send((flags: \"S\", seq: \"isn + $\"))],\n)\n";
        let e = load_str(src, "p.ron").unwrap_err();
        assert_eq!((e.line, e.col), (4, 43), "{e}");
        let deep = src.replace("isn + $", &format!("{}1{}", "(".repeat(100), ")".repeat(100)));
        let e = load_str(&deep, "p.ron").unwrap_err();
        // The 65th '(' of the literal that opens at column 36.
        assert_eq!((e.line, e.col), (4, 36 + 65), "{e}");
        assert!(e.to_string().len() < 300, "{e}");
    }

    /// Deeply nested brackets are an error at their place, not a stack overflow; a BOM is not text.
    #[test]
    fn nesting_is_bounded_and_a_bom_is_skipped() {
        let deep = format!(
            "(version: 1, name: \"x\", steps: [Send((flags: \"S\", seq: {}1{}))])",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let e = load_str(&deep, "d.ron").unwrap_err();
        assert!(e.message.contains("nested more than 128 deep"), "{e}");
        let bom = format!("\u{feff}{WITH_SIM}").replace("rtt_ms", "rtt_us");
        assert!(load_str(&bom, "bom.ron").is_ok());
    }

    /// A preset too big to be read back is refused before anything is written.
    #[test]
    fn an_oversized_preset_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ron");
        let mut p = load_str(&WITH_SIM.replace("rtt_ms", "rtt_us"), "x").unwrap();
        p.description = "x".repeat(PRESET_MAX_BYTES as usize);
        let e = save(&path, &p).unwrap_err();
        assert!(e.message.contains("not written") && e.message.contains("at most 1 MiB"), "{e}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        p.description.truncate(10);
        save(&path, &p).unwrap();
        assert_eq!(load(&path).unwrap(), p);
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
