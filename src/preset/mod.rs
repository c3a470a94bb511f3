//! Presets: multi-step exchanges in RON (serde), read with `file:line:col` errors, saved atomically, and the
//! bundled set embedded in the binary.

pub mod builtin;
pub mod error;
pub mod expr;
pub mod io;
pub mod lab_host;
pub mod schema;
pub mod validate;

use std::path::Path;

pub use error::PresetError;
pub use lab_host::LabHost;
pub use schema::{ExpectStep, FlagPattern, Flags, PeerAction, Preset, SendTemplate, Step};

/// A preset by path (anything with a `/` or ending in `.ron`, or an existing file) or by built-in name.
pub fn resolve(arg: &str) -> Result<Preset, PresetError> {
    let path = Path::new(arg);
    // Any existing non-directory counts as a path, so a FIFO or device is refused as such (by `io::load`).
    if arg.ends_with(".ron") || arg.contains('/') || std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
        return io::load(path);
    }
    builtin::builtin(arg).unwrap_or_else(|| {
        let known: Vec<&str> = builtin::names().collect();
        Err(PresetError::whole_file(
            arg,
            format!("no such file, and no built-in preset of that name (built-ins: {})", known.join(", ")),
        ))
    })
}
