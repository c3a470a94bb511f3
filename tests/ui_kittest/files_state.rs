//! Files always open (tcpcraft's own dialog), each view owns its state, counts in plain words (issue 3/9).

use super::*;

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
    h.get_by_label("▶ Run").click();
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
