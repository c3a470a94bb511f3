//! tcpcraft: a TCP packet crafter for teaching and testing TCP.
//!
//! Layers, each in its own folder: `wire` (build and parse, no I/O), `link` (raw and
//! simulated send and capture) and `cli` (the command line).

pub mod cli;
pub mod link;
pub mod wire;
