//! Habits and first use: keyboard shortcuts, the flags bar at the top of the editor, and the target box that is
//! one with the segment's destination.

use super::*;

/// A text field by the value it shows.
fn text_input(value: &str) -> By<'_> {
    By::new().role(egui::accesskit::Role::TextInput).value(value)
}

#[test]
fn f5_runs_the_preset() {
    let (_lang, mut h) = harness();
    h.run();
    assert!(h.state().rt.events.is_empty());
    h.key_press(egui::Key::F5);
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    assert_eq!(h.state().rt.events.len(), 3, "{:?}", h.state().rt.message);
    assert!(h.state().rt.verdicts.iter().all(|v| v.pass));
    h.run();
    // The handshake's last ACK asks for nothing back: no silence note after a normal open.
    assert!(h.query_by_label_contains("no TCP rule explains it").is_none(), "a bare ACK's silence is expected");
}

#[test]
fn f10_steps_and_esc_stops_a_step_through() {
    let (_lang, mut h) = harness();
    h.run();
    h.key_press(egui::Key::F10);
    h.step();
    step_until(&mut h, |a| a.rt.paused.is_some());
    assert!(h.state().rt.running);
    // F10 again sends the paused segment.
    h.key_press(egui::Key::F10);
    h.step();
    step_until(&mut h, |a| a.rt.paused.as_ref().is_some_and(|(s, _)| *s == 2));
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(!h.state().rt.running, "Esc stopped the run");
    assert!(h.state().rt.paused.is_none());
    assert!(h.state().rt.message.0.contains("stopped"), "{}", h.state().rt.message.0);
}

#[test]
fn the_flags_bar_is_in_view_above_the_ip_header_and_toggles_syn() {
    let (_lang, mut h) = harness();
    h.run();
    let syn = h.get_by_label("SYN").rect();
    let ip = h.get_by_label_contains("IP header").rect();
    assert!(syn.max.y < ip.min.y, "the flags come before the IP header: {syn:?} {ip:?}");
    assert!(syn.max.y < 400.0, "in view without scrolling: {syn:?}");
    assert_eq!(h.state().built().unwrap()[33], 0x02, "SYN only");
    h.get_by_label("SYN").click();
    h.run();
    assert_eq!(h.state().built().unwrap()[33], 0x00, "no flag left");
    h.get_by_label("FIN").click();
    h.get_by_label("SYN").click();
    h.run();
    assert_eq!(h.state().built().unwrap()[33], 0x03, "SYN+FIN");
}

#[test]
fn the_target_box_and_the_destination_port_are_one() {
    let (_lang, mut h) = harness();
    h.run();
    assert_eq!(h.state().state.target, "192.0.2.10:80");
    assert_eq!(h.state().state.spec.tcp.dport, 80);
    // The target box's port goes into the segment as it is typed.
    h.get(text_input("192.0.2.10:80")).focus();
    h.run();
    h.get(text_input("192.0.2.10:80")).type_text("1");
    h.run();
    assert_eq!(h.state().state.spec.tcp.dport, 801);
    assert_eq!(h.state().built().unwrap()[22..24], [0x03, 0x21], "the bytes say 801");
    // The segment's destination port goes into the target box when the field is left.
    h.get(text_input("801")).scroll_to_me();
    h.run();
    h.get(text_input("801")).focus();
    h.run();
    h.get(text_input("801")).type_text("2");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().state.spec.tcp.dport, 8012);
    assert_eq!(h.state().state.target, "192.0.2.10:8012");
    assert!(h.query(text_input("192.0.2.10:8012")).is_some(), "the box shows it");
}

#[test]
fn syn_fin_met_with_silence_is_explained_and_a_hand_set_isn_is_chosen() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("FIN").click();
    h.run();
    h.get_by_label_contains("Send one").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && !a.rt.events.is_empty());
    h.run();
    assert!(h.query_by_label_contains("SYN and FIN together").is_some(), "the silence names its rule");
    assert_eq!(h.state().rt.events[0].note.key, "syn_open_chosen");
    assert!(h.query_all_by_label_contains("chosen by hand").next().is_some(), "not called random");
}

#[test]
fn the_theme_menu_switches_to_light_and_remembers_it() {
    let (_lang, mut h) = harness();
    h.run();
    assert_eq!(h.state().state.theme, tcpcraft::ui::theme::ThemeChoice::System);
    h.get_by_label("Theme").click();
    h.run();
    h.get_by_label("Light").click();
    h.run();
    assert_eq!(h.state().state.theme, tcpcraft::ui::theme::ThemeChoice::Light);
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
}

/// A selected event's bytes fill the editor column's bytes pane; with nothing selected it shows the editor's
/// segment again.
#[test]
fn the_bytes_pane_shows_the_selected_event() {
    let (_lang, mut h) = harness();
    h.run();
    h.key_press(egui::Key::F5);
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    h.state_mut().rt.selected = Some(1);
    h.run();
    assert!(h.query_by_label("Bytes of event 1").is_some(), "the pane names the selected event");
    let n = h.state().rt.events[1].bytes.len();
    assert!(h.query_by_label(&format!("{n} bytes")).is_some(), "and counts its {n} bytes");
    h.state_mut().rt.selected = None;
    h.run();
    assert!(h.query_by_label("Bytes of event 1").is_none());
    assert!(h.query_by_label("Bytes").is_some(), "the editor's segment is back");
}
