//! Errors of the wire layer. Each message states the rule that was broken and the field that broke it.

use std::fmt;

use thiserror::Error;

/// The protocol layer an error refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// The IPv4 header.
    Ipv4,
    /// The IPv6 header.
    Ipv6,
    /// The TCP header.
    Tcp,
    /// The TCP option area.
    TcpOptions,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ipv4 => "IPv4 header",
            Layer::Ipv6 => "IPv6 header",
            Layer::Tcp => "TCP header",
            Layer::TcpOptions => "TCP options",
        })
    }
}

/// Everything that can go wrong while building or parsing a segment.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    /// A datagram cannot be fragmented as asked.
    #[error("fragmenting: {0}")]
    Fragment(String),
    /// A field holds a value wider than its bits allow.
    #[error("{field}: {value} does not fit; the field holds 0..={max}")]
    OutOfRange {
        /// Dotted field name, e.g. `ipv4.dscp`.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The largest value the field can hold.
        max: u64,
    },
    /// The option area is longer than an automatic length field can describe.
    #[error(
        "{layer}: {len} bytes of options, but the header length field can describe at most {max}; \
         set the {field} by hand to send them anyway"
    )]
    OptionsTooLong {
        /// Which header.
        layer: Layer,
        /// The name of the length field that would have to be set by hand.
        field: &'static str,
        /// Bytes of options (with padding).
        len: usize,
        /// Bytes the length field can describe.
        max: usize,
    },
    /// One option's data does not fit behind its one-byte length field.
    #[error("tcp.options[{index}]: kind {kind} carries {len} bytes, but an option is at most 255 bytes long")]
    OptionTooLong {
        /// Position in the option list.
        index: usize,
        /// Option kind.
        kind: u8,
        /// Total option length that was asked for.
        len: usize,
    },
    /// The whole datagram exceeds what a 16-bit length field can count.
    #[error("{layer}: the datagram would be {len} bytes, more than the 65535 a length field can count")]
    TooLong {
        /// Which length field overflows.
        layer: Layer,
        /// The length that would be needed.
        len: usize,
    },
    /// Fewer bytes than the layer's fixed header needs.
    #[error("{layer}: truncated, {required} bytes needed but only {len} present")]
    Truncated {
        /// Which header is cut short.
        layer: Layer,
        /// Bytes required.
        required: usize,
        /// Bytes present.
        len: usize,
    },
    /// The first nibble is neither 4 nor 6.
    #[error("IP version {0} is neither 4 nor 6")]
    UnknownIpVersion(u8),
    /// The datagram does not carry TCP.
    #[error("the IP payload is protocol {0}, not TCP (6)")]
    NotTcp(u8),
}
