//! Flags, bad input, runs, step-through, save/load, craft-from, sweep, pcap, language, labs.

use super::*;

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
    h.get_by_label("▶ Run").click();
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
    h.get_by_label("▶ Run").click();
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
    h.get_by_label("▶ Run").click();
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
    assert!(h.query_all_by_label_contains("3-way 핸드셰이크의 세 번째 세그먼트").next().is_some(), "the ACK's note");
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
    h.get_by_label("▶ Run").click();
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
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    assert_eq!(h.query_all_by_label("Exercise solved: every goal is met.").count(), 2);
    assert!(h.query_by_label("✔ You send a segment with exactly [RST]").is_some());
}
