//! Fuzz the preset loader: any text gives a preset or a file:line:col error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = tcpcraft::preset::io::load_str(text, "fuzz.ron") {
            let _ = tcpcraft::preset::io::to_ron(&p);
        }
    }
});
