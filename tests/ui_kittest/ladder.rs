//! The ladder teaches without hovering: notes under the arrows, labelled verdict marks, whole numbers; one
//! selection shared by arrows and table rows, whose bytes fill the details and copy with Ctrl+C.

use egui::{Event, Key, Modifiers, OutputCommand};
use tcpcraft::exchange::notes::Note;
use tcpcraft::exchange::{Dir, TimelineEvent};
use tcpcraft::link::Origin;

use super::*;

/// Runs normal-open on the simulated link to its end.
fn ran_normal_open() -> (RwLockReadGuard<'static, ()>, Harness<'static, TcpcraftApp>) {
    let (lang, mut h) = harness();
    h.run();
    h.get_by_label("normal-open").click();
    h.run();
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    (lang, h)
}

#[test]
fn a_table_row_click_selects_the_event_and_shows_its_bytes_and_ctrl_c_copies_them() {
    let (_lang, mut h) = ran_normal_open();
    assert_eq!(h.state().rt.selected, None);
    assert!(h.query_by_label_contains("Bytes of this event").is_none());
    h.get_by_label("[SYN, ACK]").click();
    h.run();
    assert_eq!(h.state().rt.selected, Some(1), "the row's event is selected");
    let n = h.state().rt.events[1].bytes.len();
    assert!(h.query_by_label_contains(&format!("Bytes of this event ({n})")).is_some(), "its bytes are on show");
    let hex = hex::encode(&h.state().rt.events[1].bytes);
    // One frame per queued event: the key press alone (with Ctrl held), then the copy event a desktop sends.
    let ctrl_c =
        Event::Key { key: Key::C, pressed: true, modifiers: Modifiers::COMMAND, repeat: false, physical_key: None };
    for event in [ctrl_c, Event::Copy] {
        h.event(event.clone());
        h.step();
        let commands = &h.output().platform_output.commands;
        let copied = commands.iter().any(|c| matches!(c, OutputCommand::CopyText(t) if *t == hex));
        assert!(copied, "{event:?} copied {hex}: {commands:?}");
    }
}

#[test]
fn notes_are_written_under_the_arrows_and_verdict_marks_are_labelled() {
    let (_lang, mut h) = ran_normal_open();
    // The SYN-ACK's mark says what it is, and its note is written in its own row, left of the mark.
    let mark = h.get_by_label("✔ expect 2 met").rect();
    let note = h.state().rt.events[1].note.render();
    let under = |h: &Harness<'static, TcpcraftApp>| {
        h.query_all_by_label(&note).any(|n| {
            let r = n.rect();
            r.right() <= mark.left() && r.top() > mark.top() && r.top() < mark.top() + 80.0 && r.height() < 60.0
        })
    };
    assert!(under(&h), "the note is a label under its arrow, no hovering needed");
    // A click on the words under an arrow selects the arrow's event (the note does not take the click).
    let note_rect = h.query_all_by_label(&note).map(|n| n.rect()).find(|r| r.right() <= mark.left()).unwrap();
    let at = note_rect.center();
    h.event(Event::PointerMoved(at));
    for pressed in [true, false] {
        let button = egui::PointerButton::Primary;
        h.event(Event::PointerButton { pos: at, button, pressed, modifiers: Modifiers::NONE });
    }
    h.run();
    assert_eq!(h.state().rt.selected, Some(1), "the arrow's event is selected");
    h.get_by_label("notes under arrows").click();
    h.run();
    assert!(!under(&h), "notes can be hidden");
}

/// An event with 10-digit sequence and acknowledgment numbers.
fn big_event() -> TimelineEvent {
    let mut spec = tcpcraft::wire::SegmentSpec::default();
    spec.tcp.seq = 4_000_000_001;
    spec.tcp.ack = 3_999_999_999;
    spec.tcp.flags.ack = true;
    spec.tcp.flags.syn = false;
    let bytes = tcpcraft::wire::build(&spec).unwrap();
    TimelineEvent {
        t_us: 0,
        dir: Dir::Out,
        origin: Origin::Crafted,
        step: None,
        segment: Some(tcpcraft::wire::parse_any_protocol(&bytes).unwrap()),
        icmp: None,
        rel_seq: 0,
        rel_ack: 1,
        rtt_us: None,
        note: Note::new("ack_probe", &[]),
        bytes,
        fragments: Vec::new(),
    }
}

#[test]
fn absolute_mode_shows_whole_ten_digit_numbers_and_an_empty_timeline_says_what_to_do() {
    let (_lang, mut h) = harness();
    h.run();
    assert!(
        h.query_by_label_contains("Press ▶ Run (F5) to send normal-open's 4 steps to the simulated lab host").is_some(),
        "the empty timeline says what to do, naming the preset, its step count and where it goes"
    );
    h.state_mut().rt.events.push(big_event());
    h.run();
    assert!(h.query_by_label("4000000001").is_none(), "relative by default");
    h.get_by_label("absolute seq/ack").click();
    h.run();
    for n in ["4000000001", "3999999999"] {
        let node = h.get_by_label(n);
        let label_w = node.rect().width();
        assert!(label_w > 50.0, "{n} is laid out whole ({label_w} px)");
    }
}

#[test]
fn the_copied_command_line_names_the_events_fields() {
    let seg = big_event().segment.unwrap();
    let line = tcpcraft::ui::timeline::command::command_line(&seg);
    assert!(line.starts_with("tcpcraft build ") && line.contains("-M 4000000001") && line.contains("-A"), "{line}");
}

#[test]
fn step_through_shows_the_pending_segment_in_the_ladders_numbers_with_its_bytes() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("⏸ Step").click();
    h.step();
    step_until(&mut h, |a| a.rt.paused.is_some());
    h.get_by_label_contains("Next: send it").click();
    h.step();
    step_until(&mut h, |a| a.rt.paused.as_ref().is_some_and(|(s, _)| *s == 2));
    assert!(h.query_by_label("[ACK] seq=1 ack=1 win=64240 len=0").is_some(), "relative, as the ladder");
    assert!(h.query_by_label("The 40 bytes about to go out").is_some(), "its bytes are on show");
    assert!(h.query_by_label("▶ next to send").is_some());
    h.get_by_label("absolute seq/ack").click();
    // A run is going (its spinner repaints): a few frames, not "until it settles".
    h.run_steps(4);
    let seq = h.state().rt.paused.as_ref().unwrap().1.tcp.seq;
    assert!(h.query_by_label_contains(&format!("[ACK] seq={seq} ack=")).is_some(), "absolute, as the ladder");
    h.get_by_label_contains("Stop").click();
    h.run_steps(4);
}
