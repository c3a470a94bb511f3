//! Plain-language notes for timeline arrows: a key chosen from the segment and its context, plus values, rendered
//! from a per-language template table (English here; the keys are stable so other languages can be added as data).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A note: which explanation, with which values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The template key, e.g. `synack`.
    pub key: String,
    /// Values for the template's `{placeholders}`.
    pub args: BTreeMap<String, String>,
    /// Extra sentences (keys) appended after the main one, e.g. `checksum_bad`.
    pub extra: Vec<String>,
}

/// English templates, by key.
pub const EN: &[(&str, &str)] = &[
    ("syn_open", "SYN: we open a connection and choose our initial sequence number (ISN) {seq}."),
    ("synack_ours", "SYN-ACK from us: we accept and choose ISN {seq}; ack {ack} = the peer's ISN + 1."),
    ("synack", "SYN-ACK: the server accepts and sends its own ISN {seq}; ack = our ISN + 1 = {ack}, because a SYN counts as one byte of sequence space."),
    ("ack_handshake", "ACK: ack = the server's ISN + 1. The 3-way handshake is complete: both sides are ESTABLISHED."),
    ("ack_fin", "ACK of the peer's FIN (ack = its seq + 1): the connection is closed in both directions."),
    ("ack_ours", "ACK: we acknowledge everything the peer sent up to relative seq {rel_ack}."),
    ("ack_peer", "ACK: the peer has received everything up to our relative seq {rel_ack}."),
    ("ack_probe", "A lone ACK that belongs to no connection: the host should answer RST unless a firewall drops it."),
    ("data_ours", "{len} bytes of data{psh}; the peer should acknowledge with ack = seq + {len} (relative {next_rel})."),
    ("data_peer", "{len} bytes of data from the peer{psh}; acknowledge them with ack = its seq + {len}."),
    ("psh", " with PSH, asking the receiver to hand them to the application now"),
    ("fin_ours", "FIN: we have no more data to send. FIN takes one sequence number, so the peer acknowledges seq + 1."),
    ("fin_peer", "FIN from the peer: it has no more data. Acknowledge it with ack = its seq + 1."),
    ("rst_halfopen", "RST: we tear the half-open connection down instead of completing it. The server application never sees it (a SYN scan stops here)."),
    ("rst_abort", "RST: we abort the connection at once. The peer accepts it only if its seq (relative {rel_seq}) is inside its receive window."),
    ("rst_closed", "RST-ACK: nothing listens on port {sport}, so the host refuses the connection. Its ack = our ISN + 1 acknowledges the SYN it refuses."),
    ("rst_peer", "RST: the peer resets; it has no connection that this segment belongs to (seq {seq} = the ack we sent)."),
    ("rst_kernel", "RST from our own kernel: it has no socket for this connection (we crafted it from a raw socket), so it resets the peer's answer. The kernel-RST guard (--guard) stops this."),
    ("null_probe", "A segment with no flags at all: illegal, so an open port drops it and a closed port answers RST."),
    ("fin_probe", "A FIN for a connection that does not exist: an open port drops it, a closed port answers RST."),
    ("xmas_probe", "FIN, PSH and URG together (an 'Xmas' probe): an open port drops it, a closed port answers RST."),
    ("other", "{flags}."),
    ("icmp", "ICMP {meaning} from {from}: our segment was refused on the way (type {type}, code {code})."),
    ("urg", " URG: the urgent pointer ({urgent}) marks where urgent data ends."),
    ("checksum_bad", " Its checksum does not verify, so a receiver discards it."),
];

/// The English template or phrase for `key`; the key itself when it is unknown.
pub fn phrase(key: &str) -> &str {
    EN.iter().find(|(k, _)| *k == key).map_or(key, |(_, t)| *t)
}

impl Note {
    /// A note with a key and values.
    pub fn new(key: &str, args: &[(&str, String)]) -> Note {
        Note {
            key: key.into(),
            args: args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            extra: Vec::new(),
        }
    }

    /// The note as English text.
    pub fn render(&self) -> String {
        let mut out = phrase(&self.key).to_string();
        for extra in &self.extra {
            out += phrase(extra);
        }
        for (k, v) in &self.args {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }
}
