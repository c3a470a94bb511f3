//! Every limit tcpcraft enforces on input, stated once: files read, drafts written, targets, probes and rates.
//! The README's "Limits" section lists the same numbers; the helper, the CLI and the GUI all check against these.

/// The largest preset file read or written, in bytes (also the largest draft `import --draft` writes).
pub const PRESET_MAX_BYTES: u64 = 1024 * 1024;
/// Deepest nesting of brackets in a preset's RON (ron's recursion limit), so a hostile file cannot overflow the stack.
pub const PRESET_MAX_NESTING: usize = 128;
/// Deepest nesting of parentheses in one template expression (`((isn + 1))` is 2).
pub const EXPR_MAX_DEPTH: usize = 64;
/// The largest pcap/pcapng capture read, in bytes (256 MiB); bigger captures are refused, not truncated.
pub const PCAP_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Most frames of a capture examined by `import`, `build --from-pcap` and the app's import.
pub const PCAP_MAX_FRAMES: usize = 1_000_000;
/// Most destinations one session may declare (a /20 sweep); the helper refuses more, and a sweep on any link,
/// the simulated host's included, is held to the same number (so a sweep tried on the lab host runs unchanged
/// on a real link).
pub const MAX_TARGETS: usize = 4096;
/// Highest sending rate on every link, in datagrams per second (the helper's pacing ceiling); `--yes` does not
/// lift it. Above what one core's kernel path carries here (a sweep to loopback reaches about 250,000), so a
/// sweep at the ceiling is as fast as the machine, as nmap's and hping3's unpaced floods are.
pub const MAX_PPS: u32 = 1_000_000;
/// The default sweep rate, in packets per second, and the highest one without confirmation (`--yes`).
pub const DEFAULT_RATE: u64 = 10_000;
/// Sweeps with more probes than this (targets × ports × tries) need explicit confirmation (`--yes`).
pub const CONFIRM_PROBES_ABOVE: u64 = 65_536;
