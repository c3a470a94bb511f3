//! The packet model: build and parse IPv4/IPv6 datagrams carrying TCP, with every field settable and
//! deliberately wrong values expressible. No I/O, no clock, no GUI.

pub mod build;
pub mod checksum;
pub mod error;
pub mod ethernet;
pub mod field;
pub mod fields;
pub mod flags;
pub mod fragment;
pub mod options;
pub mod parse;
pub mod seq;
pub mod spec;
pub mod tcp_state;
#[cfg(test)]
mod testdata;
pub mod text;
mod to_spec;

pub use build::build;
pub use error::{Layer, WireError};
pub use flags::TcpFlags;
pub use options::{SackBlock, TcpOption};
pub use parse::{parse, parse_any_protocol, Anomaly, IpHeader, Ipv4Header, Ipv6Header, Segment, TcpHeader};
pub use spec::{Auto, Checksum, IpSpec, Ipv4Spec, Ipv6Spec, Padding, Payload, SegmentSpec, TcpSpec};
