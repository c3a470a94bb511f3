//! Real datagrams captured with tcpdump on `lo` in a fresh network namespace (Linux 6.1; the pcap is
//! `tests/data/lo-handshake.pcap`). Loopback segments carry partial (offloaded) TCP checksums, so their TCP
//! checksums do not verify: that is what the kernel really put on the wire.

/// A Linux SYN to 127.0.0.1:8080: MSS 65495, SACK-perm, TS, NOP, WS 10.
pub const SYN: &str =
    "4500003c669e40004006d61b7f0000017f000001a70a1f90c6ba37c300000000a002ffd7fe3000000204ffd70402080a95b86cf400000000\
0103030a";
/// The listener's SYN-ACK: MSS 65495, SACK-perm, TS, NOP, WS 10.
pub const SYN_ACK: &str =
    "4500003c000040004006 3cba7f0000017f0000011f90a70a7728899fc6ba37c4a012ffcbfe3000000204ffd70402080a324f42c695b86cf4\
0103030a";
/// A data segment: PSH-ACK with `GET / HTTP/1.0\r\n\r\n`.
pub const PSH_ACK: &str =
    "4500004666a040004006d60f7f0000017f000001a70a1f90c6ba37c4772889a08018 0040fe3a00000101080a95b86cf5324f42c6\
474554202f20485454502f312e300d0a0d0a";
/// The RST-ACK a closed port (8081) answers with.
pub const RST_ACK: &str = "450000280000400040063cce7f0000017f0000011f91c68e00000000e7620a1a50140000da310000";
/// An IPv6 SYN-ACK from [::1]:8080.
pub const V6_SYN_ACK: &str = "600e8a3a00280640000000000000000000000000000000010000000000000000000000000000000\
11f90904442f2aa8e54fdfaeea012ffb8003000000204ffc40402080a2b450d90c2a7009a0103030a";

/// The bytes of one of the constants above (spaces are allowed in them for readability).
pub fn bytes(hex_text: &str) -> Vec<u8> {
    let clean: String = hex_text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap_or_default()
}
