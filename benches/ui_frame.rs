//! Frame CPU time of the desktop app with 100,000 timeline events against 100 (not a timed test: it reports).
//! Run: cargo bench --bench ui_frame
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failure is the report

use std::net::IpAddr;
use std::time::Instant;

use egui_kittest::Harness;
use tcpcraft::exchange::{self, RunOptions, Silent, TimelineEvent};
use tcpcraft::link::sim::{SimConfig, SimLink, SIM_US};
use tcpcraft::ui::app::TcpcraftApp;
use tcpcraft::ui::state::PersistedState;

/// `n` events, cloned from a real simulated data exchange with times moved on.
fn events(n: usize) -> Vec<TimelineEvent> {
    let p = tcpcraft::preset::resolve("data-exchange").unwrap();
    let mut link = SimLink::new(SimConfig::default());
    let opts = RunOptions {
        target: IpAddr::V4(SimConfig::default().host),
        dport: 80,
        src: IpAddr::V4(SIM_US),
        sport: Some(50000),
        isn: Some(1),
        seed: Some(1),
        linger_ms: 10,
    };
    let base = exchange::run(&p, &mut link, &opts, &mut Silent).unwrap().timeline.events;
    (0..n)
        .map(|i| {
            let mut e = base[i % base.len()].clone();
            e.t_us += (i / base.len()) as u64 * 1000;
            e
        })
        .collect()
}

/// Median and worst frame time in microseconds over `frames` frames.
fn measure(n: usize, frames: usize) -> (u128, u128) {
    let mut app = TcpcraftApp::with_state(PersistedState::default(), None, None);
    app.rt.events = events(n);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut TcpcraftApp| app.ui_root(ui), app);
    for _ in 0..5 {
        h.step();
    }
    let mut times: Vec<u128> = (0..frames)
        .map(|_| {
            let t = Instant::now();
            h.step();
            t.elapsed().as_micros()
        })
        .collect();
    times.sort_unstable();
    (times[times.len() / 2], times[times.len() - 1])
}

fn main() {
    let frames = 200;
    let (small_med, small_max) = measure(100, frames);
    let (big_med, big_max) = measure(100_000, frames);
    println!("ui frame CPU time over {frames} frames (1280x800, ladder + table + editor + bytes):");
    println!("  100 events:     median {small_med} us, worst {small_max} us");
    println!("  100,000 events: median {big_med} us, worst {big_max} us");
    println!("  ratio (100k / 100): {:.2}x", big_med as f64 / small_med.max(1) as f64);
}
