//! A flat list of a parsed datagram's fields, each with its byte range: for the CLI's breakdown and JSON, and
//! for the GUI's bytes pane, which highlights the bytes of the field under the pointer.

use std::ops::Range;

use serde::Serialize;

use super::parse::{IpHeader, Segment};

/// A field's value, in the form JSON and the breakdown show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A number.
    Num(u64),
    /// A single bit.
    Bool(bool),
    /// Text: addresses, hex checksums and bytes, flag names.
    Text(String),
    /// A list, such as decoded options.
    List(Vec<String>),
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Num(n) => write!(f, "{n}"),
            FieldValue::Bool(b) => write!(f, "{}", u8::from(*b)),
            FieldValue::Text(s) => f.write_str(s),
            FieldValue::List(l) => f.write_str(&l.join(", ")),
        }
    }
}

/// One field of the datagram: a dotted key such as `tcp.flags.syn`, where its bits live, and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Dotted name, stable across versions (used as a JSON key and a translation key).
    pub key: &'static str,
    /// The bytes of the datagram that hold the field (a bit field names the byte(s) it lives in).
    pub range: Range<usize>,
    /// The decoded value.
    pub value: FieldValue,
}

/// Every field of the datagram in wire order.
pub fn fields(seg: &Segment) -> Vec<Field> {
    let mut out = Vec::with_capacity(48);
    let mut push = |key, range: Range<usize>, value| out.push(Field { key, range, value });
    let num = |v: u64| FieldValue::Num(v);
    let hex16 = |v: u16| FieldValue::Text(format!("0x{v:04x}"));
    match &seg.ip {
        IpHeader::V4(h) => {
            push("ip.version", 0..1, num(h.version.into()));
            push("ip.ihl", 0..1, num(h.ihl.into()));
            push("ip.dscp", 1..2, num(h.dscp.into()));
            push("ip.ecn", 1..2, num(h.ecn.into()));
            push("ip.total_len", 2..4, num(h.total_len.into()));
            push("ip.id", 4..6, num(h.id.into()));
            push("ip.flags.evil", 6..7, FieldValue::Bool(h.evil));
            push("ip.flags.df", 6..7, FieldValue::Bool(h.df));
            push("ip.flags.mf", 6..7, FieldValue::Bool(h.mf));
            push("ip.frag_offset", 6..8, num(h.frag_offset.into()));
            push("ip.ttl", 8..9, num(h.ttl.into()));
            push("ip.protocol", 9..10, num(h.protocol.into()));
            push("ip.checksum", 10..12, hex16(h.checksum));
            push("ip.checksum_ok", 10..12, FieldValue::Bool(seg.ip_checksum_ok()));
            push("ip.src", 12..16, FieldValue::Text(h.src.to_string()));
            push("ip.dst", 16..20, FieldValue::Text(h.dst.to_string()));
            push("ip.options", 20..seg.tcp_offset, FieldValue::Text(hex::encode(&h.options)));
        }
        IpHeader::V6(h) => {
            push("ip.version", 0..1, num(h.version.into()));
            push("ip.traffic_class", 0..2, num(h.traffic_class.into()));
            push("ip.flow_label", 1..4, num(h.flow_label.into()));
            push("ip.payload_len", 4..6, num(h.payload_len.into()));
            push("ip.next_header", 6..7, num(h.next_header.into()));
            push("ip.hop_limit", 7..8, num(h.hop_limit.into()));
            push("ip.src", 8..24, FieldValue::Text(h.src.to_string()));
            push("ip.dst", 24..40, FieldValue::Text(h.dst.to_string()));
        }
    }
    let o = seg.tcp_offset;
    let t = &seg.tcp;
    let r = t.reserved;
    push("tcp.sport", o..o + 2, num(t.sport.into()));
    push("tcp.dport", o + 2..o + 4, num(t.dport.into()));
    push("tcp.seq", o + 4..o + 8, num(t.seq.into()));
    push("tcp.ack", o + 8..o + 12, num(t.ack.into()));
    push("tcp.data_offset", o + 12..o + 13, num(t.data_offset.into()));
    push("tcp.reserved", o + 12..o + 13, num(u64::from(r[0]) << 2 | u64::from(r[1]) << 1 | u64::from(r[2])));
    push("tcp.flags", o + 12..o + 14, FieldValue::Text(t.flags.wireshark()));
    let f = t.flags;
    push("tcp.flags.ae", o + 12..o + 13, FieldValue::Bool(f.ae));
    for (key, bit) in [
        ("tcp.flags.cwr", f.cwr),
        ("tcp.flags.ece", f.ece),
        ("tcp.flags.urg", f.urg),
        ("tcp.flags.ack", f.ack),
        ("tcp.flags.psh", f.psh),
        ("tcp.flags.rst", f.rst),
        ("tcp.flags.syn", f.syn),
        ("tcp.flags.fin", f.fin),
    ] {
        push(key, o + 13..o + 14, FieldValue::Bool(bit));
    }
    push("tcp.window", o + 14..o + 16, num(t.window.into()));
    push("tcp.checksum", o + 16..o + 18, hex16(t.checksum));
    push("tcp.checksum_ok", o + 16..o + 18, FieldValue::Bool(seg.tcp_checksum_ok()));
    push("tcp.urgent", o + 18..o + 20, num(t.urgent.into()));
    let opts_end = seg.payload_offset - t.padding.len();
    push("tcp.options", o + 20..opts_end, FieldValue::List(t.options.iter().map(|x| x.summary()).collect()));
    push("tcp.padding", opts_end..seg.payload_offset, FieldValue::Text(hex::encode(&t.padding)));
    let p = seg.payload_offset;
    push("payload", p..p + seg.payload.len(), FieldValue::Text(hex::encode(&seg.payload)));
    push("payload_len", p..p + seg.payload.len(), num(seg.payload.len() as u64));
    out
}
