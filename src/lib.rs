//! tcpcraft: a TCP packet crafter for teaching and testing TCP.
pub mod wire;
