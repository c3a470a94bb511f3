//! Layout and typed values (issue 3/9): minimum panel widths, the top bar at 1024x700, half-typed values.

use super::*;

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
