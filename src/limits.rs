//! Every limit tcpcraft enforces on input, stated once: files read, drafts written, targets, probes and rates.
//! The README's "Limits" section lists the same numbers; the helper, the CLI and the GUI all check against these.

/// The largest preset file read or written, in bytes (also the largest draft `import --draft` writes).
pub const PRESET_MAX_BYTES: u64 = 1024 * 1024;
/// Most destinations one session may declare (a /20 sweep); the helper refuses more.
pub const MAX_TARGETS: usize = 4096;
/// Highest sending rate, in datagrams per second (the helper's pacing ceiling).
pub const MAX_PPS: u32 = 200_000;
/// The default sweep rate, in packets per second.
pub const DEFAULT_RATE: u64 = 10_000;
/// Sweeps with more probes than this (targets × ports × tries) need explicit confirmation (`--yes`).
pub const CONFIRM_PROBES_ABOVE: u64 = 65_536;
