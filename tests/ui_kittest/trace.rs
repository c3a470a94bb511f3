//! The Trace tab (issue 9/9): a trace of the simulated host run from the tab draws the path and the target open;
//! bad input is shown in the tab, never run; raw mode's errors and Stop ending a real wait (in a namespace); the
//! Craft tab's controls stay on it; the tab speaks Korean.

use super::*;
use egui::OutputCommand;
use tcpcraft::exchange::trace::PathResult;

/// Opens the Trace tab.
fn open_trace_tab(h: &mut Harness<'static, TcpcraftApp>, tab_label: &str) {
    h.run();
    h.get_by_label(tab_label).click();
    h.run();
}

/// Presses Start and steps until the trace has ended (or was refused).
fn start_and_wait(h: &mut Harness<'static, TcpcraftApp>, start_label: &str) {
    h.get_by_label(start_label).click();
    h.step();
    step_until(h, |a| !a.rt.running);
    h.run();
}

/// A trace of the simulated lab host (one hop away) from the tab: the chain is you → the target at hop 1, the
/// target's lane says open with the answering address and reply TTL, a closed port says closed, and the copied
/// text is `tcpcraft trace`'s.
#[test]
fn a_trace_of_the_simulated_host_shows_the_target_open() {
    let (_lang, mut h) = harness();
    open_trace_tab(&mut h, "Trace");
    // The preset chosen at first start (normal-open) sends a SYN first: it is a one-probe preset, so it is the probe.
    assert_eq!(h.state().rt.trace.preset, "normal-open");
    assert!(h.query_by_label("No trace yet: press Start trace.").is_some());
    h.state_mut().rt.trace.ports = "80,81".into();
    h.state_mut().rt.trace.wait_ms = 500;
    h.state_mut().rt.trace.max_ttl = 4;
    start_and_wait(&mut h, "▶ Start trace");
    let r = h.state().rt.trace.report.clone().expect("the trace finished");
    assert_eq!(r.result.ports[0].result, PathResult::Open, "{r:?}");
    assert_eq!(r.result.ports[1].result, PathResult::Closed, "{r:?}");
    // The chain: you, then the target at hop 1, with its address.
    assert!(h.query_by_label("you").is_some());
    assert!(h.query_by_label("target · hop 1").is_some());
    assert!(h.query_all_by_label("192.0.2.10").next().is_some(), "the target's address is in its box");
    // Each port's lane and its evidence.
    assert!(h.query_all_by_label("port 80").next().is_some());
    assert!(h.query_all_by_label("open").next().is_some(), "the lane's verdict");
    assert!(h.query_all_by_label("at hop 1 · from 192.0.2.10 · reply TTL 64").count() == 2, "both ports' evidence");
    assert!(h.query_all_by_label("closed").next().is_some());
    assert!(h.query_by_label_contains("trace done: 2 ports, 1 open").is_some(), "the tab's status line");
    assert!(h.query_by_label("No trace yet: press Start trace.").is_none());
    // Copy as text: tcpcraft trace's words.
    h.get_by_label("📋 Copy as text").click();
    h.step();
    let commands = &h.output().platform_output.commands;
    let copied = commands.iter().find_map(|c| match c {
        OutputCommand::CopyText(t) => Some(t.clone()),
        _ => None,
    });
    let copied = copied.expect("the text was copied");
    assert_eq!(copied, r.text);
    assert!(copied.contains("port    80: open at hop 1 from 192.0.2.10 (reply ttl 64)"), "{copied}");
    // The Craft tab's timeline was left alone.
    assert!(h.state().rt.events.is_empty());
}

/// Bad ports and a bad target are shown in the tab, in words that name the mistake; nothing runs.
#[test]
fn bad_ports_or_target_show_an_error_and_do_not_run() {
    let (_lang, mut h) = harness();
    open_trace_tab(&mut h, "Trace");
    h.state_mut().rt.trace.ports = "80,eighty".into();
    h.get_by_label("▶ Start trace").click();
    h.run();
    assert!(!h.state().rt.running, "nothing started");
    // In the tab in full, and in short on the tab's status line.
    assert_eq!(h.query_all_by_label_contains("'eighty' is not a port").count(), 1, "the error is on show");
    assert!(h.query_by_label("ports 80,eighty: not a list of ports").is_some(), "the status line");
    h.state_mut().rt.trace.ports.clear();
    h.state_mut().rt.trace.target = "192.0.2.10:http".into();
    h.get_by_label("▶ Start trace").click();
    h.run();
    assert!(!h.state().rt.running);
    assert_eq!(h.query_all_by_label_contains("'http' is not a port").count(), 2);
    assert!(h.state().rt.trace.report.is_none());
}

/// On the lab host a trace's wait is the host's own clock: a filtered port's 20 s wait ends at once (no wall time
/// is spent on it) and says filtered. (A real wait, and Stop ending it, is the raw test below.)
#[test]
fn a_filtered_port_on_the_lab_host_ends_at_once_as_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("filtered.ron");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/half-open.ron")).unwrap();
    std::fs::write(&path, text.replacen("guard: false,", "guard: false,\n    sim: (filtered: [81]),", 1)).unwrap();
    let (_lang, mut h) = harness();
    open_trace_tab(&mut h, "Trace");
    h.state_mut().rt.trace.preset = path.display().to_string();
    h.state_mut().rt.trace.ports = "81".into();
    h.state_mut().rt.trace.wait_ms = 20_000;
    h.state_mut().rt.trace.max_ttl = 3;
    let t0 = Instant::now();
    start_and_wait(&mut h, "▶ Start trace");
    assert!(t0.elapsed() < Duration::from_secs(8), "the lab host's wait took wall time: {:?}", t0.elapsed());
    let r = h.state().rt.trace.report.clone().expect("the trace finished");
    assert_eq!(r.result.ports[0].result, PathResult::Filtered, "{r:?}");
}

/// Raw mode, in a network namespace of its own, through `tcpcraft-link` as the app uses it: the top bar's
/// interface is used by the trace and the sweep, and one that does not exist is said as such, as is a target
/// without a route (neither as raw mode being unavailable); a trace of a port that nft drops waits for answers
/// (the spinner and the time are on show); Stop frees the tab at once, the worker leaves the wait within a slice
/// (a new trace runs long before the 20 s are up), and the stopped trace's result is never shown.
#[cfg(target_os = "linux")]
#[test]
fn raw_mode_says_what_is_wrong_and_stop_ends_a_real_wait() {
    use common::netns::{self, sh};
    if !netns::enter("trace::raw_mode_says_what_is_wrong_and_stop_ends_a_real_wait") {
        return;
    }
    sh("nft add table inet t && nft 'add chain inet t in { type filter hook input priority 0; }' \
        && nft add rule inet t in tcp dport 81 drop");
    // As on a lab machine: the app runs as an ordinary user (nobody), raw mode through a setcap'd helper copy.
    let install = common::helper::Install::new(true);
    std::env::set_var("TCPCRAFT_LINK", install.helper());
    let _nobody = AsNobody::become_nobody();
    let (_lang, mut h) = harness();
    h.state_mut().state.link = LinkKind::Raw;
    open_trace_tab(&mut h, "Trace");
    // The interface typed in the top bar is the one used, by the trace and by the sweep; one that does not exist
    // is said as such, not as raw mode being unavailable.
    h.state_mut().state.iface = "nope0".into();
    h.state_mut().rt.trace.target = "127.0.0.1".into();
    start_and_wait(&mut h, "▶ Start trace");
    let said = |h: &Harness<'static, TcpcraftApp>, text: &str| h.query_all_by_label_contains(text).count();
    assert!(said(&h, "interface nope0: ") >= 1, "{:?}", h.state().rt.message);
    assert_eq!(said(&h, "Raw mode is not available"), 0, "{:?}", h.state().rt.message);
    h.get_by_label("Sweep").click();
    h.run();
    h.state_mut().rt.sweep.targets = "127.0.0.1".into();
    h.state_mut().rt.sweep.ports = "80".into();
    h.get_by_label_contains("Start sweep").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running);
    assert!(said(&h, "interface nope0: ") >= 1, "the sweep used it too: {:?}", h.state().rt.sweep_message);
    assert_eq!(said(&h, "Raw mode is not available"), 0, "{:?}", h.state().rt.sweep_message);
    h.state_mut().state.iface.clear();
    h.get_by_label("Trace").click();
    h.run();
    // A target this namespace has no route to is the input's fault, said as such: raw mode itself is fine.
    h.state_mut().rt.trace.target = "198.51.100.77".into();
    start_and_wait(&mut h, "▶ Start trace");
    let said = |h: &Harness<'static, TcpcraftApp>, text: &str| h.query_all_by_label_contains(text).count();
    assert_eq!(
        said(&h, "target 198.51.100.77: no route"),
        2,
        "in the tab and the status line: {:?}",
        h.state().rt.message
    );
    assert_eq!(said(&h, "Raw mode is not available"), 0, "{:?}", h.state().rt.message);
    h.state_mut().rt.trace.target = "127.0.0.1".into();
    h.state_mut().rt.trace.ports = "81".into();
    h.state_mut().rt.trace.wait_ms = 20_000;
    h.state_mut().rt.trace.max_ttl = 3;
    h.get_by_label("▶ Start trace").click();
    h.step();
    let until = Instant::now() + Duration::from_secs(10);
    while h.query_by_label_contains("waiting for answers…").is_none() {
        assert!(h.state().rt.running, "the trace ended early: {:?}", h.state().rt.message);
        assert!(Instant::now() < until, "the wait never showed");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    // The wait is real: a second on, the trace still waits, and the tab counts the time.
    let shown = Instant::now();
    while shown.elapsed() < Duration::from_secs(1) {
        assert!(h.state().rt.running, "the trace ended early: {:?}", h.state().rt.message);
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    assert!(h.query_by_label_contains("/ 20.0 s").is_some(), "the time waited out of 20 s is on show");
    assert!(h.query_by_label_contains("waiting for answers… 0.").is_none(), "a second has passed");
    let t0 = Instant::now();
    h.query_all_by_label("⏹ Stop").next().unwrap().click();
    h.step();
    assert!(!h.state().rt.running, "Stop frees the tab at once");
    // Port 80 is closed: the kernel's reset answers at once.
    h.state_mut().rt.trace.ports = "80".into();
    h.state_mut().rt.trace.wait_ms = 2_000;
    start_and_wait(&mut h, "▶ Start trace");
    assert!(t0.elapsed() < Duration::from_secs(8), "the stopped wait held the worker: {:?}", t0.elapsed());
    let r = h.state().rt.trace.report.clone().expect("the second trace finished");
    assert_eq!(r.result.ports.len(), 1);
    assert_eq!(r.result.ports[0].port, 80, "the stopped trace's result was never shown");
    assert_eq!(r.result.ports[0].result, PathResult::Closed, "{r:?}");
    // Timed by when the helper captured the reset, not by when its 50 ms drain came back.
    let rtt = r.result.hops[0].rtt_us.expect("hop 1 answered");
    assert!(rtt < 20_000, "rtt {rtt} us: {r:?}");
}

/// In Korean: the tab, its inputs, the chain and the lanes.
#[test]
fn the_trace_tab_speaks_korean() {
    let _lang = LANG.write().unwrap_or_else(PoisonError::into_inner);
    let _reset = BackToEnglish;
    i18n::set(Lang::Ko);
    let mut h = harness_with(PersistedState::default());
    open_trace_tab(&mut h, "경로 추적");
    assert!(h.query_by_label_contains("경로 추적: 호스트까지의 경로").is_some());
    for label in ["대상", "포트", "최대 TTL", "대기 (ms)"] {
        assert!(h.query_all_by_label(label).next().is_some(), "{label}");
    }
    h.state_mut().rt.trace.wait_ms = 500;
    h.state_mut().rt.trace.max_ttl = 4;
    start_and_wait(&mut h, "▶ 추적 시작");
    assert!(h.state().rt.trace.report.is_some());
    assert!(h.query_by_label("나").is_some(), "you");
    assert!(h.query_by_label("대상 · 1번째 홉").is_some());
    assert!(h.query_all_by_label("포트 80").next().is_some());
    assert!(h.query_all_by_label("열림").next().is_some(), "open, in Korean");
    assert!(h.query_by_label("1번째 홉에서 · 보낸 곳 192.0.2.10 · 응답 TTL 64").is_some());
    assert!(h.query_by_label("📋 텍스트로 복사").is_some());
    // A port list that does not parse is explained in Korean (the library's detail follows).
    h.state_mut().rt.trace.ports = "80,x".into();
    h.get_by_label("▶ 추적 시작").click();
    h.run();
    assert!(!h.state().rt.running);
    assert!(h.query_all_by_label_contains("포트 80,x을(를) 읽을 수 없습니다").next().is_some());
}

/// The bundled firewall example, one click away: the router is hop 1, 8080 is open at hop 2, 8081 is blocked
/// after hop 1, and 8082's reset is called forged one hop before the host.
#[test]
fn the_firewall_example_draws_the_router_the_barrier_and_the_forged_reset() {
    let (_lang, mut h) = harness();
    open_trace_tab(&mut h, "Trace");
    h.get_by_label("Try firewall-path").click();
    h.run();
    assert_eq!((h.state().rt.trace.preset.as_str(), h.state().rt.trace.ports.as_str()), ("firewall-path", "8080-8082"));
    assert!(h.query_by_label("Try firewall-path").is_none(), "chosen: the button goes");
    h.state_mut().rt.trace.wait_ms = 400;
    h.state_mut().rt.trace.max_ttl = 4;
    start_and_wait(&mut h, "▶ Start trace");
    let r = h.state().rt.trace.report.clone().expect("the trace finished");
    let results: Vec<PathResult> = r.result.ports.iter().map(|p| p.result).collect();
    assert_eq!(results, vec![PathResult::Open, PathResult::Filtered, PathResult::Closed], "{}", r.text);
    assert!(h.query_by_label("hop 1").is_some(), "the router's box");
    assert!(h.query_all_by_label("192.0.2.254").next().is_some());
    assert!(h.query_by_label("time exceeded · ").is_none(), "an RTT follows the answer's name");
    assert!(h.query_by_label_contains("time exceeded · ").is_some());
    assert!(h.query_by_label("target · hop 2").is_some());
    assert!(h.query_by_label("blocked after hop 1").is_some(), "8081's lane");
    assert!(h.query_by_label("at hop 2 · from 192.0.2.10 · reply TTL 63").is_some(), "8080's evidence");
    assert!(h.query_by_label("⚠ reset probably forged 1 hop before the host").is_some(), "8082's reset");
}

/// Raw chosen but not available (no helper next to the test binary): the trace does not quietly run on the lab
/// host; the tab says raw mode is not available and how to enable it.
#[test]
fn raw_unavailable_is_said_in_the_tab() {
    if std::env::var_os(tcpcraft::link::helper::HELPER_ENV).is_some() {
        return; // pointed at a real helper: the netns tests cover raw traces
    }
    let (_lang, mut h) = harness();
    open_trace_tab(&mut h, "Trace");
    h.state_mut().state.link = LinkKind::Raw;
    h.state_mut().rt.trace.wait_ms = 200;
    start_and_wait(&mut h, "▶ Start trace");
    let error = h.state().rt.trace.error.clone().expect("the failure is in the tab");
    assert!(error.contains("Raw mode is not available"), "{error}");
    assert!(h.query_all_by_label_contains("Raw mode is not available").count() >= 2, "in the tab and status line");
    assert!(h.state().rt.trace.report.is_none());
}

/// A host name that never resolves (RFC 6761 `.invalid`) is looked up on the worker (Start returns at once) and
/// its failure is said in the tab.
#[test]
fn an_unresolvable_name_is_said_in_the_tab() {
    let (_lang, mut h) = harness();
    open_trace_tab(&mut h, "Trace");
    h.state_mut().rt.trace.target = "no-such-host.invalid:80".into();
    let t0 = Instant::now();
    h.get_by_label("▶ Start trace").click();
    h.step();
    assert!(t0.elapsed() < Duration::from_secs(2), "the frame did not wait for the lookup");
    step_until(&mut h, |a| !a.rt.running);
    h.run();
    let error = h.state().rt.trace.error.clone().expect("the failure is in the tab");
    assert!(error.contains("no-such-host.invalid"), "{error}");
}

/// At 1024x700, in both languages, the picture's words never sit on one another: the boxes' titles and
/// addresses, the port names, and the verdicts at the lanes' ends each have their own place.
#[test]
fn at_1024x700_the_pictures_words_do_not_overlap() {
    use egui_kittest::kittest::NodeT;
    let _lang = LANG.write().unwrap_or_else(PoisonError::into_inner);
    let _reset = BackToEnglish;
    for (lang, tab, open) in [(Lang::En, "Trace", "open"), (Lang::Ko, "경로 추적", "열림")] {
        i18n::set(lang);
        let app = TcpcraftApp::with_state(PersistedState::default(), None, None);
        let mut h = Harness::builder()
            .with_size(egui::vec2(1024.0, 700.0))
            .with_max_steps(64)
            .with_context_setup(tcpcraft::ui::fonts::install)
            .build_ui_state(|ui, app: &mut TcpcraftApp| app.ui_root(ui), app);
        open_trace_tab(&mut h, tab);
        h.state_mut().rt.trace.preset = "firewall-path".into();
        h.state_mut().rt.trace.ports = "8080-8082".into();
        h.state_mut().rt.trace.wait_ms = 300;
        h.state_mut().rt.trace.max_ttl = 3;
        let start = if lang == Lang::En { "▶ Start trace" } else { "▶ 추적 시작" };
        start_and_wait(&mut h, start);
        assert!(h.state().rt.trace.report.is_some());
        let texts = [
            tcpcraft::i18n::t("ui.trace.you").to_string(),
            "192.0.2.254".into(),
            open.into(),
            tcpcraft::i18n::tf("ui.trace.port", &[("port", "8081")]),
            tcpcraft::i18n::tf("ui.trace.hop", &[("n", "1")]),
            tcpcraft::i18n::tf("ui.trace.target_at", &[("n", "2")]),
        ];
        // Every label of the picture (the words under it are laid out by egui and cannot overlap).
        let top = h.query_all_by_label(&texts[0]).next().expect("the 'you' box").rect().min.y;
        let bottom = top + 64.0 + 12.0 + 3.0 * 26.0;
        let mut rects: Vec<(String, egui::Rect)> = Vec::new();
        for node in h.query_all(By::new().role(egui::accesskit::Role::Label)) {
            let r = node.rect();
            if r.min.y >= top - 1.0 && r.max.y <= bottom + 1.0 {
                rects.push((node.accesskit_node().label().or_else(|| node.value()).unwrap_or_default(), r));
            }
        }
        for t in &texts {
            assert!(rects.iter().any(|(l, _)| l == t), "{t} is in the picture: {rects:?}");
        }
        for (i, (a, ra)) in rects.iter().enumerate() {
            for (b, rb) in &rects[i + 1..] {
                assert!(!ra.shrink(1.0).intersects(rb.shrink(1.0)), "{lang:?}: '{a}' {ra:?} overlaps '{b}' {rb:?}");
            }
        }
    }
}

/// This process as `nobody` (real and effective ids), with root kept as the saved id, so dropping it goes back
/// to root and the test's temporary files can be removed (also when an assertion failed).
#[cfg(target_os = "linux")]
struct AsNobody;

#[cfg(target_os = "linux")]
impl AsNobody {
    #[allow(unsafe_code)] // setresuid(2) and friends; libc has no safe wrapper
    fn become_nobody() -> AsNobody {
        // SAFETY: plain system calls on ids; glibc applies them to every thread of the process.
        let ok = unsafe { libc::setgroups(0, std::ptr::null()) == 0 && libc::setresgid(65534, 65534, 0) == 0 };
        assert!(ok && unsafe { libc::setresuid(65534, 65534, 0) } == 0, "could not become nobody");
        AsNobody
    }
}

#[cfg(target_os = "linux")]
impl Drop for AsNobody {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: as above; the saved id is root, so these are allowed.
        unsafe {
            libc::setresuid(0, 0, 0);
            libc::setresgid(0, 0, 0);
        }
    }
}

/// The Craft tab's own controls (its target, Run, Step, Next, Stop, Send one) are not in the top bar of the Sweep
/// and Trace tabs, which have their own; F5 there runs nothing. The link and the seed serve every tab.
#[test]
fn the_craft_controls_stay_on_the_craft_tab() {
    let (_lang, mut h) = harness();
    h.run();
    assert!(h.query_by_label("▶ Run").is_some() && h.query_by_label("✉ Send one").is_some());
    for tab in ["Sweep", "Trace"] {
        h.get_by_label(tab).click();
        h.run();
        for craft_only in ["▶ Run", "⏸ Step", "⏭ Next", "✉ Send one", "192.0.2.10:80"] {
            assert!(h.query_by_label(craft_only).is_none(), "{craft_only} on the {tab} tab");
        }
        assert!(h.query_by_label("link").is_some(), "the link chooser is on the {tab} tab");
        h.key_press(egui::Key::F5);
        h.run();
        assert!(!h.state().rt.running && h.state().rt.events.is_empty(), "F5 ran the Craft preset from {tab}");
    }
    h.get_by_label("Craft").click();
    h.run();
    assert!(h.query_by_label("▶ Run").is_some());
}

/// A Craft step-through paused while another tab is on show: the top bar says so next to the tabs, the tab's
/// Start waits (and its Stop is not the Craft run's), a click on the note goes back to it, Esc still stops it.
#[test]
fn a_paused_craft_run_is_said_on_the_other_tabs() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("⏸ Step").click();
    h.step();
    step_until(&mut h, |a| a.rt.paused.is_some());
    // A run is going (its spinner repaints): a few frames each time, not "until it settles".
    h.get_by_label("Trace").click();
    h.run_steps(4);
    let note = "⏸ paused on the Craft tab, before step 1";
    assert!(h.query_by_label(note).is_some(), "the paused run is said on the Trace tab");
    use egui_kittest::kittest::NodeT;
    assert!(h.get_by_label("▶ Start trace").accesskit_node().is_disabled(), "Start waits for it");
    assert!(h.get_by_label("⏹ Stop").accesskit_node().is_disabled(), "the tab's Stop is for its own trace");
    h.get_by_label("Sweep").click();
    h.run_steps(4);
    assert!(h.query_by_label(note).is_some(), "and on the Sweep tab");
    h.get_by_label(note).click();
    h.run_steps(4);
    assert_eq!(h.state().rt.tab, tcpcraft::ui::app::Tab::Craft, "one click back to it");
    assert!(h.query_by_label(note).is_none(), "not said on its own tab");
    h.get_by_label("Trace").click();
    h.run_steps(4);
    h.key_press(egui::Key::Escape);
    h.run_steps(4);
    assert!(!h.state().rt.running, "Esc stops it from any tab");
    assert!(h.query_by_label(note).is_none());
}
