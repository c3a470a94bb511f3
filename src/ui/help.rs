//! Tooltips for header fields and flags, keyed like `wire::fields` keys (the same keys name translations).

/// English tooltip texts by field key.
pub const FIELD_HELP: &[(&str, &str)] = &[
    ("ip.version", "IP version: 4 for IPv4, 6 for IPv6. Anything else is dropped by every receiver."),
    ("ip.ihl", "Internet Header Length, in 32-bit words: 5 without options. A wrong value makes the receiver read the TCP header from the wrong place."),
    ("ip.dscp", "Differentiated Services Code Point: the traffic class routers may prioritise (46 = expedited forwarding)."),
    ("ip.ecn", "Explicit Congestion Notification bits: 0 = not ECN-capable, 1 or 2 = capable, 3 = congestion experienced."),
    ("ip.total_len", "Total length of the datagram in bytes. Linux raw sockets rewrite it; the link-layer path keeps a wrong value."),
    ("ip.id", "Identification: groups the fragments of one datagram."),
    ("ip.flags.evil", "The reserved bit (RFC 3514's joke 'evil bit'): must be 0."),
    ("ip.flags.df", "Don't Fragment: routers must drop rather than fragment (path MTU discovery)."),
    ("ip.flags.mf", "More Fragments: more pieces of this datagram follow."),
    ("ip.frag_offset", "Fragment offset in 8-byte units: where this piece belongs in the original datagram."),
    ("ip.ttl", "Time To Live: each router subtracts 1 and drops the datagram at 0 (traceroute uses this)."),
    ("ip.protocol", "The protocol inside: 6 = TCP. Change it to see the receiver stop treating the payload as TCP."),
    ("ip.checksum", "IPv4 header checksum (RFC 1071). 'bad' makes receivers drop the datagram silently."),
    ("ip.src", "Source address: where replies go."),
    ("ip.dst", "Destination address."),
    ("ip.options", "Raw IPv4 option bytes (hex), zero-padded to a 4-byte boundary."),
    ("ip.traffic_class", "IPv6 traffic class: DSCP and ECN, as in IPv4's TOS byte."),
    ("ip.flow_label", "IPv6 flow label (20 bits): lets routers keep a flow's packets on one path."),
    ("ip.payload_len", "IPv6 payload length: bytes after the 40-byte header."),
    ("ip.next_header", "IPv6 next header: 6 = TCP."),
    ("ip.hop_limit", "IPv6 hop limit: IPv4's TTL under another name."),
    ("tcp.sport", "Source port: with the source address, it identifies our end of the connection."),
    ("tcp.dport", "Destination port: which service on the peer (80 = HTTP, 22 = SSH)."),
    ("tcp.seq", "Sequence number: the position of this segment's first byte in our byte stream. In a SYN it is our ISN, chosen at random (RFC 9293 §3.4.1) so that old or forged segments do not fit."),
    ("tcp.ack", "Acknowledgment number: the next byte we expect from the peer (valid when ACK is set). After a SYN it is the peer's ISN + 1, because SYN takes one sequence number."),
    ("tcp.data_offset", "Data offset: header length in 32-bit words (5 without options). A lie here makes the receiver take options as data or data as options."),
    ("tcp.reserved", "Reserved bits: must be zero; set them to see who checks."),
    ("tcp.window", "Receive window: how many bytes we can accept beyond the acknowledged ones (flow control)."),
    ("tcp.checksum", "TCP checksum over a pseudo-header (addresses, protocol, length) and the whole segment. 'bad' makes receivers drop it."),
    ("tcp.urgent", "Urgent pointer: with URG set, the offset from seq where urgent data ends (RFC 9293 §3.8.5)."),
    ("tcp.options", "TCP options, in order: MSS, window scale, SACK, timestamps... at most 40 bytes unless the data offset is set by hand."),
    ("payload", "The data after the TCP header, as text or hex."),
];

/// English tooltip texts by flag name, in header bit order.
pub const FLAG_HELP: &[(&str, &str)] = &[
    ("AE", "Accurate ECN (RFC 9768; formerly NS, the ECN nonce)."),
    ("CWR", "Congestion Window Reduced: the sender slowed down after an ECN echo (RFC 3168)."),
    ("ECE", "ECN-Echo: tells the peer a router marked congestion (RFC 3168); in a SYN, offers ECN."),
    ("URG", "Urgent: the urgent pointer is meaningful. Rarely used today."),
    ("ACK", "Acknowledgment: the ack number is meaningful. Set on every segment after the first SYN."),
    ("PSH", "Push: hand the data to the application now instead of buffering it."),
    ("RST", "Reset: abort the connection at once (or refuse one)."),
    ("SYN", "Synchronize: open a connection and announce the initial sequence number (ISN)."),
    ("FIN", "Finish: no more data from this side; takes one sequence number."),
];

/// The tooltip for a field key (empty when there is none).
pub fn field(key: &str) -> &'static str {
    FIELD_HELP.iter().find(|(k, _)| *k == key).map_or("", |(_, t)| *t)
}

/// The tooltip for a flag name.
pub fn flag(name: &str) -> &'static str {
    FLAG_HELP.iter().find(|(k, _)| *k == name).map_or("", |(_, t)| *t)
}
