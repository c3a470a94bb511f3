//! Fuzz `wire::parse`: it must never panic, and a datagram it decodes without anomalies must rebuild byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpcraft::wire::{build, parse_any_protocol};

fuzz_target!(|data: &[u8]| {
    if let Ok(seg) = parse_any_protocol(data) {
        let _ = tcpcraft::wire::fields::fields(&seg);
        if seg.anomalies.is_empty() {
            let rebuilt = build(&seg.to_spec());
            assert_eq!(rebuilt.as_deref().ok(), Some(data), "clean parse did not rebuild");
        }
    }
});
