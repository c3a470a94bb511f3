//! Fuzz the pcap/pcapng import: any bytes give segments or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(segments) = tcpcraft::pcap::read_bytes(data, "fuzz", 10_000) {
        let list: Vec<_> = segments.iter().map(|s| s.segment.clone()).collect();
        let _ = tcpcraft::pcap::draft::preset_from(&list, "fuzz");
    }
});
