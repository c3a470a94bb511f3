//! The desktop app driven through egui_kittest (logic only, no GPU): flags reach the bytes, bad input is marked
//! and never applied, a preset runs on the simulated link, presets save and load, the language menu switches the
//! whole window between English and Korean.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

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

#[test]
fn toggling_syn_and_ack_changes_the_flag_byte() {
    let (_lang, mut h) = harness();
    h.run();
    assert_eq!(h.state().built().unwrap()[33], 0x02, "SYN only");
    h.get_by_label("ACK").scroll_to_me();
    h.run();
    h.get_by_label("ACK").click();
    h.run();
    assert_eq!(h.state().built().unwrap()[33], 0x12, "SYN+ACK");
    h.get_by_label("SYN").click();
    h.run();
    assert_eq!(h.state().built().unwrap()[33], 0x10, "ACK only");
    // The bytes pane shows the new byte.
    assert!(h.query_by_label("10").is_some());
}

#[test]
fn an_invalid_port_is_marked_and_not_applied() {
    let (_lang, mut h) = harness();
    h.run();
    let port = || By::new().role(egui::accesskit::Role::TextInput).value("40000");
    h.get(port()).scroll_to_me();
    h.run();
    h.get(port()).focus();
    h.run();
    h.get(port()).type_text("9");
    h.run();
    assert!(h.query_by_label_contains("400009 is out of range 0..=65535").is_some(), "the reason is shown");
    assert_eq!(h.state().state.spec.tcp.sport, 40000, "the bad value was not applied");
    assert!(h.state().rt.editor.bufs.has_errors());
}

#[test]
fn normal_open_runs_on_the_simulated_link_with_three_arrows_and_checks() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("normal-open").click();
    h.run();
    assert_eq!(h.state().state.link, LinkKind::Sim);
    h.get_by_label_contains("Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    let app = h.state();
    assert_eq!(app.rt.events.len(), 3, "{:?}", app.rt.message);
    assert!(!app.rt.verdicts.is_empty() && app.rt.verdicts.iter().all(|v| v.pass));
    assert!(app.rt.message.0.contains("every expectation met"), "{}", app.rt.message.0);
    assert!(h.query_by_label("[SYN, ACK]").is_some(), "the table lists the SYN-ACK");
    assert!(h.query_by_label("2. Expect SA within 1000 ms").is_none(), "the step shows its check mark");
    assert!(h.query_by_label("✔ 2. Expect SA within 1000 ms").is_some());
}

#[test]
fn step_through_pauses_before_each_send() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("⏸ Step").click();
    h.step();
    step_until(&mut h, |a| a.rt.paused.is_some());
    assert!(h.query_by_label_contains("Paused before step 1").is_some());
    h.get_by_label_contains("Next: send it").click();
    h.step();
    step_until(&mut h, |a| a.rt.paused.as_ref().is_some_and(|(s, _)| *s == 2));
    assert_eq!(h.state().rt.events.len(), 2, "SYN and SYN-ACK so far");
    // The ACK's ack number comes from the SYN-ACK: highlighted, with its input and the reason.
    let peer_seq = h.state().rt.events[1].segment.as_ref().unwrap().tcp.seq;
    assert!(h.query_by_label_contains("Computed from the peer's reply").is_some());
    let line = format!("ack = peer.seq + 1 = {}", peer_seq.wrapping_add(1));
    assert!(h.query_by_label_contains(&line).is_some(), "{line}");
    assert!(h.query_by_label_contains(&format!("peer.seq = {peer_seq}")).is_some());
    assert!(h.query_by_label_contains("which takes one sequence number, so we acknowledge its seq + 1").is_some());
    h.get_by_label_contains("Stop").click();
    h.run();
    assert!(!h.state().rt.running);
}

#[test]
fn a_preset_saves_to_a_file_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.ron");
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("half-open").click();
    h.run();
    let before = h.state().state.preset.clone().unwrap();
    h.state_mut().save_to(path.clone());
    h.get_by_label("normal-open").click();
    h.run();
    assert_ne!(h.state().state.preset.as_ref().unwrap().name, "half-open");
    h.state_mut().open_file(path.clone());
    h.run();
    assert_eq!(h.state().state.preset.as_ref(), Some(&before));
    assert_eq!(h.state().state.preset_path.as_deref(), Some(path.display().to_string().as_str()));
}

#[test]
fn craft_from_a_timeline_event_fills_the_editor() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label_contains("Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    h.state_mut().apply(tcpcraft::ui::action::Action::SelectEvent(1), &egui::Context::default());
    h.run();
    assert!(h.query_by_label_contains("Event 1: [SYN, ACK]").is_some(), "the detail shows the event");
    h.get_by_label_contains("Craft from this").click();
    h.run();
    let spec = &h.state().state.spec;
    assert!(spec.tcp.flags.syn && spec.tcp.flags.ack);
    assert_eq!(spec.tcp.sport, 80);
}

#[test]
fn the_sweep_tab_runs_and_filters() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("Sweep").click();
    h.run();
    h.state_mut().rt.sweep.ports = "20-25,80,443".into();
    h.get_by_label_contains("Start sweep").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && !a.rt.sweep.results.is_empty());
    let r = &h.state().rt.sweep.results;
    assert_eq!(r.len(), 8);
    assert_eq!(r.iter().filter(|x| x.verdict == tcpcraft::exchange::sweep::Verdict::Open).count(), 3, "22, 80, 443");
    // Closed ports are hidden by default; the filter shows counts.
    assert!(h.query_by_label_contains("open (3)").is_some());
    assert!(h.query_by_label_contains("closed (5)").is_some());
    assert!(tcpcraft::ui::sweep::csv(r).lines().count() == 9);
    // The summary stays on the Sweep tab's own status line, and the bar shows the sweep's last progress.
    assert_eq!(h.state().rt.sweep_message.0, "sweep done: 8 ports, 3 open");
    assert!(h.query_by_label("sweep done: 8 ports, 3 open").is_some(), "the status bar shows it");
    let p = h.state().rt.sweep.progress.unwrap();
    assert_eq!((p.sent, p.total, p.replies), (8, 8, 8), "{p:?}");
}

#[test]
fn the_timeline_exports_to_pcap_and_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pcap");
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label_contains("Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    assert!(h.query_by_label("Export pcap…").is_some());
    h.state_mut().export_pcap(&path);
    let before: Vec<Vec<u8>> = h.state().rt.events.iter().map(|e| e.bytes.clone()).collect();
    h.state_mut().rt.events.clear();
    h.state_mut().import_pcap(&path);
    h.run();
    let after: Vec<Vec<u8>> = h.state().rt.events.iter().map(|e| e.bytes.clone()).collect();
    assert_eq!(after, before);
    assert!(h.state().rt.message.0.starts_with("imported 3 TCP segments"));
    h.get_by_label("Draft preset").click();
    h.run();
    let draft = h.state().state.preset.clone().unwrap();
    assert_eq!(draft.steps.len(), 3, "Send, Expect, Send");
    assert!(h.state().rt.message.0.contains("preset draft with 3 steps"));
    h.state_mut().import_pcap(&dir.path().join("missing.pcap"));
    assert!(h.state().rt.message.1, "a missing file is reported as an error");
}

#[test]
fn the_language_menu_switches_the_window_to_korean_and_back() {
    let _lang = LANG.write().unwrap_or_else(PoisonError::into_inner);
    let _reset = BackToEnglish;
    i18n::set(Lang::En);
    let mut h = harness_with(PersistedState::default());
    h.run();
    assert!(h.query_by_label("▶ Run").is_some());
    assert!(h.query_by_label("ready").is_some(), "the status bar");
    // The menu sits in the top bar, labelled in the current language, and lists each language by its own name.
    h.get(By::new().role(egui::accesskit::Role::ComboBox).value("English")).click();
    h.run();
    h.get_by_label("한국어").click();
    h.run();
    assert_eq!(i18n::current(), Lang::Ko);
    assert_eq!(h.state().state.lang, Some(Lang::Ko), "the choice is remembered");
    assert!(h.query_by_label("▶ 실행").is_some(), "the Run button speaks Korean");
    assert!(h.query_by_label("타임라인").is_some(), "and the timeline's heading");
    assert!(h.query_by_label("시퀀스 번호").is_some(), "and the editor's fields");
    assert!(h.query_by_label("준비됨").is_some(), "the status message follows the switch");
    assert!(h.query_by_label("▶ Run").is_none(), "no English label is left behind");
    // A run in Korean: the status message and the timeline's notes come from the Korean catalogs.
    h.get_by_label("▶ 실행").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    assert!(h.state().rt.message.0.contains("모든 기대 조건 충족"), "{}", h.state().rt.message.0);
    assert!(h.query_all_by_label_contains("3-way handshake의 세 번째 세그먼트").next().is_some(), "the ACK's note");
    // And back to English, through the menu that is now labelled in Korean.
    h.get_by_label("언어").click();
    h.run();
    h.get_by_label("English").click();
    h.run();
    assert_eq!(i18n::current(), Lang::En);
    assert_eq!(h.state().state.lang, Some(Lang::En));
    assert!(h.query_by_label("▶ Run").is_some());
    assert!(h.query_by_label("Timeline").is_some());
    assert!(h.state().rt.message.0.contains("every expectation met"), "{}", h.state().rt.message.0);
    // A language the state remembers is applied at start.
    let mut h = harness_with(PersistedState { lang: Some(Lang::Ko), ..PersistedState::default() });
    assert_eq!(i18n::current(), Lang::Ko);
    h.run();
    assert!(h.query_by_label("▶ 실행").is_some());
}

#[test]
fn a_lab_is_graded_with_feedback_and_solved_by_editing_the_steps() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("lab-04-half-open").scroll_to_me();
    h.run();
    h.get_by_label("lab-04-half-open").click();
    h.run();
    assert!(h.query_by_label_contains("Find out that port 80 is open").is_some(), "the task is shown");
    h.get_by_label("Show a hint").click();
    h.run();
    assert!(h.query_by_label_contains("Which flag aborts a connection at once?").is_some(), "the first hint");
    // The starting steps complete the handshake: two goals fail, with their feedback.
    h.get_by_label_contains("Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && !a.rt.events.is_empty());
    assert!(h.query_by_label("✖ You never send a segment with exactly [ACK]").is_some());
    assert!(h.query_by_label_contains("You completed the handshake with ACK").is_some(), "feedback");
    assert_eq!(h.query_all_by_label("Not yet: 2 goals to go.").count(), 2, "in the lab panel and the status bar");
    assert!(h.state().rt.message.1, "a lab not yet solved is reported as not done");
    // The student's fix: the last Send becomes RST (as the solution does), and the run is solved.
    {
        let app = h.state_mut();
        let p = app.state.preset.as_mut().unwrap();
        p.steps = p.exercise.as_ref().unwrap().solution.clone();
    }
    h.run();
    h.get_by_label_contains("Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    assert_eq!(h.query_all_by_label("Exercise solved: every goal is met.").count(), 2);
    assert!(h.query_by_label("✔ You send a segment with exactly [RST]").is_some());
}

/// A host name that never resolves (`.invalid`): the click only queues the run (the frame does not wait for the
/// resolver), and the worker's report of the failure reaches the status bar.
#[test]
fn an_unresolvable_target_is_reported_without_blocking_the_frame() {
    let (_lang, mut h) = harness();
    h.state_mut().state.target = "no-such-host.invalid:80".into();
    h.run();
    let t0 = Instant::now();
    h.get_by_label_contains("Run").click();
    h.step();
    assert!(t0.elapsed() < Duration::from_secs(2), "the frame took {:?}", t0.elapsed());
    assert!(h.state().rt.running, "the name is looked up on the worker, after the frame");
    assert!(!h.state().rt.message.1, "no error yet: {}", h.state().rt.message.0);
    let until = Instant::now() + Duration::from_secs(30);
    while h.state().rt.running {
        assert!(Instant::now() < until, "the worker never reported");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
    let (text, is_error) = h.state().rt.message.clone();
    assert!(is_error && text.starts_with("target: ") && text.contains("no-such-host.invalid"), "{text}");
    assert!(h.query_by_label(&text).is_some(), "the status bar shows it");
    assert!(h.state().rt.events.is_empty());
}

/// The CLI sweep and the GUI's worker sweep of one preset with a filtered port on its lab host agree port by port.
#[test]
fn the_cli_and_the_gui_sweep_a_presets_lab_host_alike() {
    use tcpcraft::cli::send::LinkChoice;
    use tcpcraft::cli::sweep::SweepArgs;
    use tcpcraft::ui::worker::SweepJob;

    let dir = tempfile::tempdir().unwrap();
    for name in ["half-open", "null-scan"] {
        let text = tcpcraft::preset::builtin::builtin(name).unwrap().unwrap();
        let preset = tcpcraft::preset::Preset {
            sim: Some(tcpcraft::preset::LabHost { filtered: vec![81], ..Default::default() }),
            ..text
        };
        let path = dir.path().join(format!("{name}.ron"));
        tcpcraft::preset::io::save(&path, &preset).unwrap();
        let path = path.display().to_string();
        let ports = "20-25,79-83,443,8080";
        let args = SweepArgs {
            preset: path.clone(),
            target: "192.0.2.10".into(),
            ports: ports.into(),
            rate: 10_000,
            retries: 1,
            wait: 500,
            link: LinkChoice::Sim,
            iface: None,
            sport: 47_000,
            yes: false,
            json: false,
            csv: true,
            seed: None,
        };
        let csv = tcpcraft::cli::sweep::run(&args).unwrap();
        let cli: Vec<(u16, String)> = csv
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[1].parse().unwrap(), f[2].to_string())
            })
            .collect();
        let job = SweepJob::new(&path, "192.0.2.10", ports, 10_000, LinkKind::Sim).unwrap();
        let gui = tcpcraft::ui::worker::sweep(&job, &mut |_, _, _| {}, &mut |_| true).unwrap();
        let gui: Vec<(u16, String)> = gui.iter().map(|r| (r.port, r.verdict.as_str().to_string())).collect();
        assert_eq!(cli, gui, "{name}");
        let p81 = gui.iter().find(|(p, _)| *p == 81).unwrap();
        assert_eq!(p81.1, "filtered", "{name}: the preset's lab host filters 81");
        if name == "half-open" {
            let open: Vec<u16> = gui.iter().filter(|(_, v)| v == "open").map(|(p, _)| *p).collect();
            assert_eq!(open, vec![22, 80, 443, 8080]);
            assert_eq!(gui.iter().find(|(p, _)| *p == 82).unwrap().1, "closed");
        }
    }
}

/// An English app with tcpcraft's own file dialogs only (as on a machine without a desktop portal). egui_file's
/// two text inputs (folder, file name) carry no accessible name, which the accessibility check would refuse.
fn harness_in_app() -> (RwLockReadGuard<'static, ()>, Harness<'static, TcpcraftApp>) {
    let guard = LANG.read().unwrap_or_else(PoisonError::into_inner);
    i18n::set(Lang::En);
    let mut app = TcpcraftApp::with_state(PersistedState::default(), None, None);
    app.use_in_app_dialogs();
    let h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_max_steps(64)
        .with_accessibility_check(false)
        .with_context_setup(tcpcraft::ui::fonts::install)
        .build_ui_state(|ui, app: &mut TcpcraftApp| app.ui_root(ui), app);
    (guard, h)
}

/// Runs the preset on show to its end (Run clicked, the worker waited for).
fn run_to_end(h: &mut Harness<'static, TcpcraftApp>) {
    h.get_by_label_contains("▶ Run").click();
    h.step();
    step_until(h, |a| !a.rt.running);
}

/// Clicks a preset or lab in the library by its name (the first such label: the built-in one).
fn choose(h: &mut Harness<'static, TcpcraftApp>, name: &str) {
    h.query_all_by_label(name).next().unwrap_or_else(|| panic!("no {name} in the library")).scroll_to_me();
    h.run();
    h.query_all_by_label(name).next().unwrap().click();
    h.run();
}

/// With no system dialog (forced, as on a machine without a desktop portal), Save as… opens tcpcraft's own
/// dialog in the presets folder; its Save writes the file, which then shows under Mine. Saving again asks before
/// replacing.
#[test]
fn the_in_app_dialog_saves_a_preset_that_appears_under_mine() {
    let dir = tempfile::tempdir().unwrap();
    let presets = dir.path().join("presets"); // not made yet: Save as… makes it
    let (_lang, mut h) = harness_in_app();
    h.state_mut().set_preset_dir(presets.clone());
    h.run();
    choose(&mut h, "half-open");
    assert_eq!(h.query_all_by_label("half-open").count(), 1, "only the built-in one so far");
    h.get_by_label("Save as…").click();
    h.run();
    assert!(h.state_mut().dialogs().in_app_open(), "tcpcraft's own dialog is open");
    assert!(h.query_by_label_contains("Save the preset").is_some(), "its title");
    let name = By::new().role(egui::accesskit::Role::TextInput).value("half-open.ron");
    assert!(h.query(name).is_some(), "it proposes the preset's name");
    h.get_by_label("Save").click();
    h.run();
    let file = presets.join("half-open.ron");
    assert!(file.is_file(), "{} was written", file.display());
    assert!(!h.state_mut().dialogs().busy());
    assert_eq!(h.state().rt.message.0, format!("saved {}", file.display()));
    let mine = &h.state().rt.users.list;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!((mine[0].path.as_path(), mine[0].loaded.as_deref()), (file.as_path(), Ok("half-open")));
    assert_eq!(h.query_all_by_label("half-open").count(), 2, "built-in and Mine");
    assert_eq!(tcpcraft::preset::io::load(&file).unwrap(), h.state().state.preset.clone().unwrap());
    // Again: the file exists, so tcpcraft asks first; Cancel leaves it, Replace writes it.
    h.get_by_label("Save as…").click();
    h.run();
    h.get_by_label("Save").click();
    h.run();
    assert!(h.query_by_label_contains("already exists. Replace it?").is_some());
    h.get_by_label("Cancel").click();
    h.run();
    assert!(!h.state_mut().dialogs().busy(), "nothing is open after Cancel");
    h.state_mut().state.preset.as_mut().unwrap().description = "changed".into();
    h.get_by_label("Save as…").click();
    h.run();
    h.get_by_label("Save").click();
    h.run();
    h.get_by_label("Replace").click();
    h.run();
    assert_eq!(tcpcraft::preset::io::load(&file).unwrap().description, "changed");
    assert_eq!(h.state().rt.users.list.len(), 1);
    // Open… through the same dialog: it starts in the presets folder and lists the file.
    choose(&mut h, "normal-open");
    h.get_by_label("📂 Open…").click();
    h.run();
    h.get_by_label("🗋 half-open.ron").click();
    h.run();
    h.get_by_label("Open").click();
    h.run();
    assert_eq!(h.state().state.preset_path.as_deref(), Some(file.display().to_string().as_str()));
    assert_eq!(h.state().state.preset.as_ref().unwrap().description, "changed");
}

/// Export pcap… through tcpcraft's own dialog writes a capture that tshark reads.
#[test]
fn export_pcap_through_the_in_app_dialog_is_read_by_tshark() {
    let tshark = std::process::Command::new("tshark").arg("--version").output();
    if !tshark.is_ok_and(|o| o.status.success()) {
        return common::skip_or_fail("export_pcap_through_the_in_app_dialog_is_read_by_tshark", "tshark is absent");
    }
    let dir = tempfile::tempdir().unwrap();
    let (_lang, mut h) = harness_in_app();
    h.state_mut().dialogs().start_in(dir.path().to_path_buf());
    h.run();
    // Nothing to export yet: the button is off, and the action alone says why and opens no dialog.
    h.state_mut().apply(tcpcraft::ui::action::Action::ExportPcap, &egui::Context::default());
    assert!(h.state().rt.message.1 && h.state().rt.message.0.starts_with("nothing to export"));
    assert!(!h.state_mut().dialogs().busy());
    run_to_end(&mut h);
    assert_eq!(h.state().rt.events.len(), 3);
    h.get_by_label("Export pcap…").click();
    h.run();
    assert!(h.query_by_label_contains("Export the timeline as pcap").is_some());
    h.get_by_label("Save").click();
    h.run();
    let file = dir.path().join("tcpcraft.pcap");
    assert!(file.is_file(), "{}: {:?}", file.display(), h.state().rt.message);
    assert_eq!(h.state().rt.message.0, format!("wrote 3 packets to {}", file.display()));
    let out = std::process::Command::new("tshark").arg("-r").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("[SYN, ACK]"), "{text}");
}

/// Each view owns its state: a sweep leaves the Craft tab's timeline, its lab grade and its status line alone.
#[test]
fn a_sweep_leaves_the_craft_timeline_and_the_lab_grade_alone() {
    let (_lang, mut h) = harness();
    h.run();
    choose(&mut h, "lab-04-half-open");
    {
        let p = h.state_mut().state.preset.as_mut().unwrap();
        p.steps = p.exercise.as_ref().unwrap().solution.clone();
    }
    run_to_end(&mut h);
    let solved = "Exercise solved: every goal is met.";
    assert_eq!(h.query_all_by_label(solved).count(), 2, "lab panel and status bar");
    let events: Vec<Vec<u8>> = h.state().rt.events.iter().map(|e| e.bytes.clone()).collect();
    assert!(!events.is_empty());
    h.get_by_label("Sweep").click();
    h.run();
    h.state_mut().rt.sweep.ports = "79-81".into();
    h.get_by_label_contains("Start sweep").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && !a.rt.sweep.results.is_empty());
    assert!(h.state().rt.sweep_message.0.starts_with("sweep done: 3 ports"), "{}", h.state().rt.sweep_message.0);
    assert!(h.query_by_label(solved).is_none(), "the Sweep tab's bar has its own line");
    assert!(h.query_by_label_contains("events").is_none(), "and no event count");
    h.get_by_label("Craft").click();
    h.run();
    let after: Vec<Vec<u8>> = h.state().rt.events.iter().map(|e| e.bytes.clone()).collect();
    assert_eq!(after, events, "the Craft timeline is as the lab's run left it");
    assert_eq!(h.state().rt.message.0, solved);
    assert_eq!(h.query_all_by_label(solved).count(), 2, "still graded, and still said in the bar");
    assert!(h.query_by_label_contains("Not yet").is_none());
    assert!(h.query_by_label_contains("sweep done").is_none(), "the sweep's line stays on its tab");
}

/// Choosing another preset or lab clears the old run's marks: nothing is ✔ or ✖ until it runs, and a lab is never
/// graded against another preset's timeline.
#[test]
fn choosing_another_preset_clears_the_old_verdicts() {
    let (_lang, mut h) = harness();
    h.run();
    run_to_end(&mut h);
    assert!(h.query_by_label("✔ 2. Expect SA within 1000 ms").is_some());
    choose(&mut h, "rst-closed-port");
    assert!(h.query_by_label("2. Expect RA within 1000 ms").is_some(), "no mark before it runs");
    assert!(h.query_by_label_contains("✔ 2.").is_none() && h.query_by_label_contains("✖ 2.").is_none());
    assert!(h.state().rt.verdicts.is_empty());
    assert_eq!(h.state().rt.events.len(), 3, "the timeline stays, to craft or draft from");
    // A lab chosen after another preset's run: its goals are listed, not graded against that run.
    choose(&mut h, "lab-04-half-open");
    assert!(h.query_by_label_contains("✔ ").is_none() && h.query_by_label_contains("✖ ").is_none());
    assert!(h.query_by_label_contains("Not yet").is_none() && h.query_by_label_contains("solved").is_none());
    // Its own run is graded; choosing another lab clears that grade again.
    run_to_end(&mut h);
    assert_eq!(h.query_all_by_label("Not yet: 2 goals to go.").count(), 2);
    choose(&mut h, "lab-03-rst-closed-port");
    assert!(h.query_by_label_contains("✖ ").is_none() && h.query_by_label_contains("Not yet").is_none());
    choose(&mut h, "lab-04-half-open");
    assert!(h.query_by_label_contains("✖ ").is_none(), "coming back does not bring the old grade back");
}

/// Counts and verdicts in plain words: one segment sent with no reply is "1 event", and a run that expected
/// nothing says so instead of "every expectation met". Korean has one form for every count.
#[test]
fn one_event_is_one_event_and_no_expectations_are_not_met_ones() {
    let (_lang, mut h) = harness();
    // A bad checksum: the lab host drops the segment, so the timeline holds just ours.
    h.state_mut().state.spec.tcp.checksum = tcpcraft::wire::Checksum::Bad;
    h.state_mut().state.wait_ms = 200;
    h.run();
    h.get_by_label_contains("Send one").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running);
    assert_eq!(h.state().rt.events.len(), 1, "{:?}", h.state().rt.message);
    assert_eq!(h.state().rt.message, ("done: 1 event; no expectations in this run".to_string(), false));
    assert!(h.query_by_label("1 event").is_some(), "the status bar's count");
    assert!(h.query_by_label_contains("every expectation met").is_none());
    use tcpcraft::i18n::tn;
    assert_eq!(tn("ui.status.events", 2, &[]), "2 events");
    assert_eq!(tn("ui.status.events", 0, &[]), "0 events");
    assert_eq!(tn("lab.not_yet", 1, &[]), "Not yet: 1 goal to go.");
    assert_eq!(tn("ui.msg.sweep_done", 1, &[("open", "1")]), "sweep done: 1 port, 1 open");
    drop(_lang);
    let _ko = LANG.write().unwrap_or_else(PoisonError::into_inner);
    let _reset = BackToEnglish;
    i18n::set(Lang::Ko);
    assert_eq!(tn("ui.status.events", 1, &[]), "이벤트 1개");
    assert_eq!(tn("ui.status.events", 2, &[]), "이벤트 2개");
    assert_eq!(tn("ui.msg.done_nothing_expected", 1, &[]), "완료: 이벤트 1개. 이번 실행에는 기대 조건이 없습니다");
}

// --- Layout and typed values (issue 3/9): panels keep their minimum widths, the top bar hides nothing at
// 1024x700, and a half-typed value never reaches the bytes.

/// The app in a harness of `size` (the layout tests look at a small screen).
fn layout_harness(size: egui::Vec2) -> Harness<'static, TcpcraftApp> {
    let app = TcpcraftApp::with_state(PersistedState::default(), None, None);
    Harness::builder()
        .with_size(size)
        .with_max_steps(64)
        .with_context_setup(tcpcraft::ui::fonts::install)
        .build_ui_state(|ui, app: &mut TcpcraftApp| app.ui_root(ui), app)
}

/// The x of each panel splitter, left to right (library | editor | timeline).
fn splitter_xs(h: &Harness<'static, TcpcraftApp>) -> Vec<f32> {
    let mut xs: Vec<f32> =
        h.query_all(By::new().role(egui::accesskit::Role::Splitter)).map(|n| n.rect().center().x).collect();
    xs.sort_by(f32::total_cmp);
    xs
}

/// Library, editor and timeline are each at least their minimum width in a window `width` wide.
fn assert_panels_keep_their_minimum(h: &Harness<'static, TcpcraftApp>, width: f32, when: &str) {
    use tcpcraft::ui::{MIN_EDITOR_W, MIN_LIBRARY_W, MIN_TIMELINE_W};
    let xs = splitter_xs(h);
    assert_eq!(xs.len(), 2, "{when}: two visible splitters, library|editor and editor|timeline: {xs:?}");
    let slack = 2.0;
    assert!(xs[0] >= MIN_LIBRARY_W - slack, "{when}: library {} < {MIN_LIBRARY_W}", xs[0]);
    assert!(xs[1] - xs[0] >= MIN_EDITOR_W - slack, "{when}: editor {} < {MIN_EDITOR_W}", xs[1] - xs[0]);
    assert!(width - xs[1] >= MIN_TIMELINE_W - slack, "{when}: timeline {} < {MIN_TIMELINE_W}", width - xs[1]);
    // And what they hold is on screen, in its own column.
    let segment = h.get_by_label("Segment").rect();
    assert!(segment.left() >= xs[0] && segment.left() < xs[1], "{when}: the editor heading at {segment:?}");
    let timeline = h.get_by_label("Timeline").rect();
    assert!(timeline.left() >= xs[1] && timeline.right() <= width, "{when}: the timeline heading at {timeline:?}");
}

/// The splitter between the editor and the timeline (the rightmost one).
fn editor_splitter<'h>(h: &'h Harness<'static, TcpcraftApp>) -> egui_kittest::Node<'h> {
    let mut s: Vec<_> = h.query_all(By::new().role(egui::accesskit::Role::Splitter)).collect();
    s.sort_by(|a, b| a.rect().center().x.total_cmp(&b.rect().center().x));
    s.pop().expect("the editor's splitter")
}

#[test]
fn a_long_payload_in_parsed_fields_leaves_every_panel_its_minimum_width() {
    let _lang = LANG.read().unwrap_or_else(PoisonError::into_inner);
    i18n::set(Lang::En);
    let (w, hgt) = (1024.0, 700.0);
    let mut h = layout_harness(egui::vec2(w, hgt));
    h.run();
    assert_panels_keep_their_minimum(&h, w, "at start");
    h.get_by_label("data-exchange").click();
    h.run();
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 11);
    // The peer's 72-byte reply: its payload is one 144-digit value.
    let reply = h
        .state()
        .rt
        .events
        .iter()
        .position(|e| e.segment.as_ref().is_some_and(|s| s.payload.len() == 72))
        .expect("the data-exchange preset gets a 72-byte reply");
    h.state_mut().apply(tcpcraft::ui::action::Action::SelectEvent(reply), &egui::Context::default());
    h.run();
    h.get_by_label("Parsed fields").click();
    // Many frames: the old layout widened the timeline a little more on every one.
    for _ in 0..5 {
        h.run();
    }
    assert!(h.query_by_label("payload_len").is_some(), "the parsed fields are open");
    assert_panels_keep_their_minimum(&h, w, "with the parsed fields open");
    // The splitters are draggable, but not past another panel's minimum, either way.
    editor_splitter(&h).set_value_accesskit(1.0);
    h.run();
    assert_panels_keep_their_minimum(&h, w, "the editor dragged to the far right");
    let after_drag = splitter_xs(&h)[1];
    assert!(after_drag > 600.0, "the drag moved the splitter (to {after_drag})");
    editor_splitter(&h).set_value_accesskit(0.0);
    h.run();
    assert_panels_keep_their_minimum(&h, w, "the editor dragged to the far left");
    h.query_all(By::new().role(egui::accesskit::Role::Splitter)).for_each(|s| s.set_value_accesskit(1.0));
    h.run();
    assert_panels_keep_their_minimum(&h, w, "both splitters dragged right");
}

#[test]
fn typing_300_into_ttl_never_changes_the_bytes() {
    let (_lang, mut h) = harness();
    h.run();
    const TTL: usize = 8;
    assert_eq!(h.state().built().unwrap()[TTL], 64);
    // The field's accessible name is its tooltip.
    let ttl = || By::new().role(egui::accesskit::Role::TextInput).label(tcpcraft::ui::help::field("ip.ttl"));
    h.get(ttl()).scroll_to_me();
    h.run();
    h.get(ttl()).focus();
    h.run();
    h.key_press(egui::Key::Backspace);
    h.key_press(egui::Key::Backspace);
    h.run();
    assert_eq!(h.get(ttl()).value().as_deref(), Some(""));
    for (typed, text) in [("3", "3"), ("0", "30"), ("0", "300")] {
        h.get(ttl()).type_text(typed);
        h.run();
        assert_eq!(h.get(ttl()).value().as_deref(), Some(text), "the field keeps what was typed");
        assert_eq!(h.state().built().unwrap()[TTL], 64, "{text}: the bytes keep the old TTL while typing");
        let spec_ttl = match &h.state().state.spec.ip {
            tcpcraft::wire::IpSpec::V4(ip) => Some(ip.ttl),
            tcpcraft::wire::IpSpec::V6(_) => None,
        };
        assert_eq!(spec_ttl, Some(64), "{text}: and so does the segment");
        if text != "300" {
            assert!(h.query_by_label("↩").is_some(), "{text}: marked valid but not applied yet");
        }
    }
    assert!(h.query_by_label_contains("300 is out of range 0..=255").is_some(), "the reason is shown");
    // Leaving the field with an invalid value applies nothing, and keeps the text and its error.
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!h.get(ttl()).is_focused());
    assert_eq!(h.state().built().unwrap()[TTL], 64);
    assert_eq!(h.get(ttl()).value().as_deref(), Some("300"));
    assert!(h.state().rt.editor.bufs.has_errors(), "Send one stays disabled");
    // A valid value is applied when the field is left.
    h.get(ttl()).focus();
    h.run();
    h.key_press(egui::Key::Backspace);
    h.run();
    assert_eq!(h.state().built().unwrap()[TTL], 64, "30 is valid but not applied while the field is being edited");
    assert!(!h.state().rt.editor.bufs.has_errors());
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().built().unwrap()[TTL], 30, "applied on Enter");
}

#[test]
fn at_1024x700_send_one_and_the_language_box_are_both_visible_and_apart() {
    let _lang = LANG.write().unwrap_or_else(PoisonError::into_inner);
    let _reset = BackToEnglish;
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 700.0));
    for (lang, send, language, buttons) in [
        (Lang::En, "✉ Send one", "English", ["▶ Run", "⏸ Step", "⏭ Next", "⏹ Stop"]),
        (Lang::Ko, "✉ 한 번 보내기", "한국어", ["▶ 실행", "⏸ 단계별 실행", "⏭ 다음", "⏹ 중지"]),
    ] {
        i18n::set(lang);
        let mut h = layout_harness(screen.size());
        h.run();
        let lang_box = h.get(By::new().role(egui::accesskit::Role::ComboBox).value(language)).rect();
        assert!(screen.contains_rect(lang_box), "{lang:?}: the language box {lang_box:?} is on screen");
        for label in buttons.iter().copied().chain([send]) {
            let r = h.get_by_label(label).rect();
            assert!(screen.contains_rect(r), "{lang:?}: {label} {r:?} is on screen");
            assert!(!r.intersects(lang_box), "{lang:?}: {label} {r:?} is not under the language box {lang_box:?}");
        }
    }
}

/// Runs the loaded preset once and returns the lab host's ISN (the SYN-ACK's seq) and the status bar's link text.
fn run_once(h: &mut Harness<'static, TcpcraftApp>) -> (u32, String) {
    use egui_kittest::kittest::NodeT;
    h.get_by_label_contains("Run").click();
    h.step();
    step_until(h, |a| !a.rt.running && a.rt.events.len() >= 3);
    let peer = h.state().rt.events[1].segment.as_ref().unwrap().tcp.seq;
    let node = h.query_by_label_contains("link: sim").expect("the status bar names the link");
    let link = node.accesskit_node().label().or_else(|| node.value()).unwrap_or_default();
    (peer, link)
}

/// The seed next to the link selector: unticked "auto" with 42, two runs give the lab host the same ISN and the
/// status bar shows "seed 42"; back on auto, every run has a new ISN, and the field shows the seed last used.
#[test]
fn the_seed_field_repeats_a_run_and_auto_does_not() {
    use tcpcraft::ui::link_settings::{self, SeedSetting};
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("normal-open").click();
    h.run();
    assert!(h.query_by_label("seed").is_some(), "the seed field is on show");
    link_settings::set_setting(&h.ctx, SeedSetting { auto: false, value: 42 });
    h.run();
    let (a, link) = run_once(&mut h);
    assert!(link.ends_with("· seed 42"), "the status bar names the seed: {link}");
    let (b, _) = run_once(&mut h);
    assert_eq!(a, b, "the same seed, the same ISN");
    // Auto: ticking the box lets each run take a new random seed.
    // The seed's "auto" is the one in the top bar, right of "seed" (the editor has "auto" boxes too).
    let seed_label = h.get_by_label("seed").rect();
    let boxes = h.query_all(By::new().role(egui::accesskit::Role::CheckBox).label("auto"));
    let auto = boxes
        .min_by_key(|b| {
            (b.rect().center().y - seed_label.center().y).abs() as i32 * 10_000
                + (b.rect().min.x - seed_label.max.x).abs() as i32
        })
        .unwrap();
    auto.click();
    h.run();
    assert!(link_settings::setting(&h.ctx).auto);
    let (c, link_c) = run_once(&mut h);
    let (d, link_d) = run_once(&mut h);
    assert!(c != d && c != a, "auto seeds differ: {a} {c} {d}");
    assert_ne!(link_c, link_d);
    let shown = link_settings::setting(&h.ctx).value.to_string();
    assert!(link_d.ends_with(&format!("· seed {shown}")), "the field follows the last run: {shown} vs {link_d}");
}

/// A sweep stopped halfway in the GUI: replies were counted while it ran, the ports never reached are "not
/// probed" (hidden by default, counted), no open port is filtered, and the CSV export names the never-probed ports.
#[test]
fn a_gui_sweep_stopped_halfway_shows_not_probed_ports_as_such() {
    use tcpcraft::exchange::sweep::Verdict;
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("Sweep").click();
    h.run();
    // 257 hosts × 2000 ports; only the first host answers. Long enough to be stopped.
    h.state_mut().rt.sweep.targets = "192.0.2.10, 198.51.100.0/24".into();
    h.state_mut().rt.sweep.ports = "1-2000".into();
    h.get_by_label_contains("Start sweep").click();
    h.step();
    step_until(&mut h, |a| a.rt.sweep.progress.is_some_and(|p| p.probed >= 2_000));
    let live = h.state().rt.sweep.progress.unwrap();
    assert!(live.replies >= 1_900 && live.elapsed_ms > 0, "replies and time are counted live: {live:?}");
    assert!(h.query_by_label_contains("open (3)").is_some(), "live counts (22, 80, 443): {live:?}");
    h.query_all_by_label("⏹ Stop").next().unwrap().click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && !a.rt.sweep.results.is_empty());
    let r = &h.state().rt.sweep.results;
    assert_eq!(r.len(), 257 * 2000);
    let count = |v: Verdict| r.iter().filter(|x| x.verdict == v).count();
    assert!(count(Verdict::NotProbed) > 0, "the sweep was stopped before its end");
    assert_eq!(count(Verdict::Filtered), 0, "no port ran out of its retries");
    let open: Vec<u16> = r.iter().filter(|x| x.verdict == Verdict::Open).map(|x| x.port).collect();
    assert_eq!(open, vec![22, 80, 443], "the lab host's open ports (8080 is past 2000) stay open");
    assert_eq!(r.last().unwrap().verdict, Verdict::NotProbed);
    let not_probed = count(Verdict::NotProbed);
    assert!(h.query_by_label_contains(&format!("not probed ({not_probed})")).is_some());
    assert!(h.query_by_label_contains("Stopped before the end").is_some());
    assert!(h.query_by_label("not probed").is_none(), "never-probed rows are hidden by default");
    let csv = tcpcraft::ui::sweep::csv(r);
    assert!(csv.contains("198.51.100.255,2000,not_probed,\n"), "the CSV names the ports never probed");
    assert!(csv.contains("192.0.2.10,22,open,SA\n"));
}
