//! tcpcraft: a TCP packet crafter for teaching and testing TCP.
//!
//! Layers, each in its own folder: `wire` (build and parse, no I/O), `link` (raw and
//! simulated send and capture), `exchange` (preset runner, timeline), `preset` (RON format) and `cli`.

pub mod cli;
pub mod exchange;
pub mod fsio;
pub mod i18n;
pub mod limits;
pub mod link;
pub mod pcap;
pub mod preset;
#[cfg(feature = "gui")]
pub mod ui;
pub mod wire;
