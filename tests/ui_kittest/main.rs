//! The desktop app driven through egui_kittest (logic only, no GPU): flags reach the bytes, bad input is marked
//! and never applied, a preset runs on the simulated link, presets save and load, the language menu switches the
//! whole window between English and Korean.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

#[path = "../common/mod.rs"]
mod common;

mod basics;
mod files_state;
mod first_use;
mod habits;
mod ladder;
mod layout;
mod seeds_sweep;
mod session;
mod steps;
mod trace;

use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use egui_kittest::kittest::{By, Queryable};
use egui_kittest::Harness;
use tcpcraft::i18n::{self, Lang};
use tcpcraft::ui::app::TcpcraftApp;
use tcpcraft::ui::state::PersistedState;
use tcpcraft::ui::worker::LinkKind;

/// The language is one per process, and tests run on parallel threads: the tests that read English labels share
/// this lock, and a test that switches the language holds it alone.
static LANG: RwLock<()> = RwLock::new(());

/// Sets English again when dropped, so a failed assertion in another language leaves no trace.
struct BackToEnglish;

impl Drop for BackToEnglish {
    fn drop(&mut self) {
        i18n::set(Lang::En);
    }
}

/// The app with this state in a test harness.
fn harness_with(state: PersistedState) -> Harness<'static, TcpcraftApp> {
    let app = TcpcraftApp::with_state(state, None, None);
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_max_steps(64)
        // The app's fonts, as `TcpcraftApp::new` installs them: egui lays out no Hangul without them.
        .with_context_setup(tcpcraft::ui::fonts::install)
        .build_ui_state(|ui, app: &mut TcpcraftApp| app.ui_root(ui), app)
}

/// An English app, and the shared hold on the language that keeps it English.
fn harness() -> (RwLockReadGuard<'static, ()>, Harness<'static, TcpcraftApp>) {
    let guard = LANG.read().unwrap_or_else(PoisonError::into_inner);
    i18n::set(Lang::En);
    (guard, harness_with(PersistedState::default()))
}

/// Steps the UI until `done` holds (the worker runs on its own thread), at most 10 s.
fn step_until(h: &mut Harness<'static, TcpcraftApp>, done: impl Fn(&TcpcraftApp) -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !done(h.state()) {
        assert!(Instant::now() < until, "timed out waiting for the app");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
}
