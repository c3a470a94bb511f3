//! Fuzz the helper's request handling: any byte stream on its stdin gets replies or a clean end, never a panic,
//! and every reply is valid protocol. The simulated host stands in for the raw sockets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpcraft::link::helper::caps::Held;
use tcpcraft::link::helper::protocol::{self, Reply};
use tcpcraft::link::helper::server::{serve, SimHost};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = serve(data, &mut out, &mut SimHost::default(), Ok(Held { raw: true, admin: true }));
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert!(protocol::decode::<Reply>(line).is_ok(), "the helper wrote a reply that is not protocol");
    }
});
