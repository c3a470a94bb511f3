//! `tcpcraft presets` lists the bundled presets; `tcpcraft check FILE...` validates preset files.

use clap::Args;

use super::error::CliError;
use crate::preset::{self, builtin};

/// Lists every bundled preset with its description.
pub fn list() -> Result<String, CliError> {
    let mut out = String::new();
    for name in builtin::names() {
        match builtin::builtin(name) {
            Some(Ok(p)) => out += &format!("{name:<16} {}\n", p.description_in(crate::i18n::current())),
            Some(Err(e)) => out += &format!("{name:<16} (broken: {e})\n"),
            None => {}
        }
    }
    Ok(out.trim_end().to_string())
}

/// Arguments of `tcpcraft check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// Preset files (or built-in names) to validate.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// Validates each file; the first error is returned after all are reported.
pub fn check(args: &CheckArgs) -> Result<String, CliError> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for f in &args.files {
        match preset::resolve(f) {
            Ok(p) => ok.push(format!("{f}: ok ({}, {} steps)", p.name, p.steps.len())),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(ok.join("\n"))
    } else {
        for line in &ok {
            println!("{line}");
        }
        Err(CliError::Preset(errors.join("\n")))
    }
}
