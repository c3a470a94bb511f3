//! `tcpcraft import FILE`: a pcap or pcapng capture's TCP segments as a timeline (the first segment's sender is
//! the client), and `--draft OUT.ron` to turn them into a preset that replays the exchange.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::error::CliError;
use super::ladder;
use crate::fsio::human;
use crate::limits::{PCAP_MAX_FRAMES, PRESET_MAX_BYTES};
use crate::pcap;
use crate::preset::Preset;

/// Refuses, before anything is written, a draft bigger than a preset may be (tcpcraft could not open it again),
/// saying how many steps fit and how to ask for them.
fn refuse_oversized(p: &Preset, out: &std::path::Path) -> Result<(), CliError> {
    let pcap::draft::Fit { size, steps: fit } = pcap::draft::steps_that_fit(p, PRESET_MAX_BYTES);
    if fit == p.steps.len() {
        return Ok(());
    }
    Err(CliError::input(
        "--draft",
        format!(
            "{} not written: a draft of all {} steps would be {}, and a preset is at most {} ({PRESET_MAX_BYTES} bytes), so tcpcraft could not open it again; the first {fit} steps fit: add --max-steps {fit}",
            out.display(),
            p.steps.len(),
            human(size),
            human(PRESET_MAX_BYTES),
        ),
    ))
}

/// Arguments of `tcpcraft import`.
#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// The capture (pcap or pcapng).
    pub file: PathBuf,
    /// Print JSON events instead of the ladder.
    #[arg(long)]
    pub json: bool,
    /// Write a preset draft of the conversation to this file.
    #[arg(long, value_name = "OUT.ron")]
    pub draft: Option<PathBuf>,
    /// Keep only the first N steps of the draft (a draft must fit in a preset's size limit).
    #[arg(long, value_name = "N", requires = "draft")]
    pub max_steps: Option<usize>,
}

/// Reads the capture and renders it.
pub fn run(args: &ImportArgs) -> Result<String, CliError> {
    let imported = pcap::read(&args.file, PCAP_MAX_FRAMES).map_err(|e| CliError::input("FILE", e.to_string()))?;
    if let Some(out) = &args.draft {
        let first = &imported[0].segment;
        let conv: Vec<_> = imported
            .iter()
            .map(|i| i.segment.clone())
            .filter(|s| {
                let a = (s.src(), s.tcp.sport, s.dst(), s.tcp.dport);
                a == (first.src(), first.tcp.sport, first.dst(), first.tcp.dport)
                    || a == (first.dst(), first.tcp.dport, first.src(), first.tcp.sport)
            })
            .collect();
        let name = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "draft".into());
        let mut p = pcap::draft::preset_from(&conv, &name).ok_or_else(|| CliError::input("FILE", "no segments"))?;
        if let Some(n) = args.max_steps {
            pcap::draft::keep_first(&mut p, n);
        }
        refuse_oversized(&p, out)?;
        crate::preset::io::save(out, &p).map_err(|e| CliError::Preset(e.to_string()))?;
    }
    let tl = pcap::timeline_of(&imported);
    if args.json {
        let mut ev = super::run::events_json(&tl, None);
        for (v, i) in ev.iter_mut().zip(&imported) {
            v["frame"] = json!(i.frame);
        }
        return Ok(
            json!({"file": args.file.display().to_string(), "segments": imported.len(), "events": ev}).to_string()
        );
    }
    let first = &imported[0].segment;
    let client = format!("client {}:{}", first.src(), first.tcp.sport);
    let server = format!("server {}:{}", first.dst(), first.tcp.dport);
    let mut text = format!("{}: {} TCP segments\n\n", args.file.display(), imported.len());
    text += &ladder::render(&tl, None, &client, &server);
    if let Some(out) = &args.draft {
        text += &format!("\npreset draft written to {}\n", out.display());
    }
    Ok(text.trim_end().to_string())
}
