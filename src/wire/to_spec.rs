//! `Segment::to_spec`: turns a decoded datagram back into an editable [`SegmentSpec`] ("craft from this").
//! Values that the builder would compute the same way stay automatic; everything else is kept by hand.

use super::parse::{IpHeader, Segment};
use super::spec::{Auto, Checksum, IpSpec, Ipv4Spec, Ipv6Spec, Padding, Payload, SegmentSpec, TcpSpec};

/// `Auto` when the builder would compute the found value itself, else `Manual(found)`.
fn auto_when<T>(builder_agrees: bool, found: T) -> Auto<T> {
    if builder_agrees {
        Auto::Auto
    } else {
        Auto::Manual(found)
    }
}

/// `Auto` when the stored checksum is exactly what the builder would compute, else `Manual(stored)`.
fn checksum_if(stored: u16, correct: Option<u16>) -> Checksum {
    match correct {
        Some(c) if c == stored => Checksum::Auto,
        _ => Checksum::Manual(stored),
    }
}

/// Text when the bytes are printable UTF-8 (so an HTTP request stays readable), hex otherwise.
fn payload_of(bytes: Vec<u8>) -> Payload {
    match String::from_utf8(bytes) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| !c.is_control() || c.is_ascii_whitespace()) => Payload::Text(s),
        Ok(s) => Payload::Hex(s.into_bytes()),
        Err(e) => Payload::Hex(e.into_bytes()),
    }
}

impl Segment {
    /// The spec that rebuilds this datagram: byte for byte when it was parsed without anomalies.
    pub fn to_spec(&self) -> SegmentSpec {
        let t = &self.tcp;
        let datagram_len = self.payload_offset + self.payload.len() + self.trailer.len();
        let segment_len = datagram_len - self.tcp_offset;
        // The builder checksums TCP with the real length only when the IP length field is automatic.
        let (ip, tcp_lengths_auto) = match &self.ip {
            IpHeader::V4(h) => {
                let total_len = auto_when(usize::from(h.total_len) == datagram_len, h.total_len);
                let spec = Ipv4Spec {
                    version: auto_when(h.version == 4, h.version),
                    ihl: auto_when(usize::from(h.ihl) * 4 == 20 + h.options.len(), h.ihl),
                    dscp: h.dscp,
                    ecn: h.ecn,
                    total_len,
                    id: h.id,
                    evil: h.evil,
                    df: h.df,
                    mf: h.mf,
                    frag_offset: h.frag_offset,
                    ttl: h.ttl,
                    protocol: h.protocol,
                    checksum: checksum_if(h.checksum, Some(h.checksum_correct)),
                    src: h.src,
                    dst: h.dst,
                    options: h.options.clone(),
                };
                (IpSpec::V4(spec), total_len == Auto::Auto)
            }
            IpHeader::V6(h) => {
                let payload_len = auto_when(usize::from(h.payload_len) == segment_len, h.payload_len);
                let spec = Ipv6Spec {
                    version: auto_when(h.version == 6, h.version),
                    traffic_class: h.traffic_class,
                    flow_label: h.flow_label,
                    payload_len,
                    next_header: h.next_header,
                    hop_limit: h.hop_limit,
                    src: h.src,
                    dst: h.dst,
                };
                (IpSpec::V6(spec), payload_len == Auto::Auto)
            }
        };
        let area_len = self.payload_offset - self.tcp_offset - 20;
        let encoded_len = area_len - t.padding.len();
        let auto_pad = (4 - encoded_len % 4) % 4;
        let padding = if t.padding.len() == auto_pad && t.padding.iter().all(|&b| b == 0) {
            Padding::Auto
        } else {
            Padding::Manual(t.padding.clone())
        };
        let mut payload = self.payload.clone();
        payload.extend_from_slice(&self.trailer);
        let tcp = TcpSpec {
            sport: t.sport,
            dport: t.dport,
            seq: t.seq,
            ack: t.ack,
            data_offset: auto_when(usize::from(t.data_offset) * 4 == 20 + area_len, t.data_offset),
            reserved: t.reserved,
            flags: t.flags,
            window: t.window,
            checksum: checksum_if(t.checksum, tcp_lengths_auto.then_some(t.checksum_correct)),
            urgent: t.urgent,
            options: t.options.clone(),
            padding,
        };
        SegmentSpec { ip, tcp, payload: payload_of(payload) }
    }
}
