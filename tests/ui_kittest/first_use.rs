//! What the bytes pane and the step list show while a preset is edited and stepped through: a preview of the
//! selected Send step, the segment about to go out, and the pending step marked.

use super::*;

#[test]
fn the_bytes_pane_previews_the_selected_send_step_and_shows_the_pending_segment() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("normal-open").click();
    h.run();
    assert!(h.query_by_label("Bytes").is_some(), "the editor's segment by default");
    // A selected Send step: its bytes, previewed with replies' numbers as 0.
    h.get_by_label_contains("3. Send ACK").scroll_to_me();
    h.run();
    h.get_by_label_contains("3. Send ACK").click();
    h.run();
    assert!(h.query_by_label_contains("Bytes of step 3 (preview").is_some(), "the selected step's bytes");
    h.get_by_label("⬅ back to the segment editor").click();
    h.run();
    // Step-through: the pending step is marked and its segment fills the pane.
    h.get_by_label("⏸ Step").click();
    h.step();
    step_until(&mut h, |a| a.rt.paused.is_some());
    assert!(h.query_by_label_contains("Bytes of step 1, about to go out").is_some());
    assert!(h.query_by_label_contains("▶ 1. Send SYN").is_some(), "the pending step is marked in the list");
    let (_, spec) = h.state().rt.paused.clone().unwrap();
    let copied = tcpcraft::wire::build(&spec).unwrap();
    assert_eq!(copied.len(), 44, "a SYN with MSS: 20 + 24 bytes");
    h.get_by_label("⏹ Stop").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running);
    assert!(h.query_by_label_contains("▶ 1.").is_none(), "no mark once stopped");
}

#[test]
fn the_korean_empty_timeline_names_the_preset_and_its_steps() {
    let _lang = LANG.write().unwrap_or_else(PoisonError::into_inner);
    let _back = BackToEnglish;
    i18n::set(Lang::Ko);
    let mut h = harness_with(PersistedState::default());
    h.run();
    assert!(h.query_by_label_contains("normal-open의 4개 단계가 시뮬레이션 실습 호스트(으)로 갑니다").is_some());
}

#[test]
fn the_ladder_rails_carry_both_ends_states() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && a.rt.events.len() >= 3);
    h.run();
    for state in ["SYN-SENT", "SYN-RECEIVED"] {
        assert!(h.query_by_label(state).is_some(), "{state} on a rail");
    }
    assert_eq!(h.query_all_by_label("ESTABLISHED").count(), 2, "ours at the SYN-ACK, the server's at our ACK");
    let s = h.state_mut().rt.states.get(&[], &[]).len();
    assert_eq!(s, 0, "the cache follows the events it is given");
}

#[test]
fn a_peer_step_scripts_the_server_and_the_rails_show_close_wait() {
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("server-close").scroll_to_me();
    h.run();
    h.get_by_label("server-close").click();
    h.run();
    assert!(h.query_by_label_contains("4. Peer closes (FIN)").is_some(), "the Peer step reads plainly");
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, |a| !a.rt.running);
    h.run();
    for state in ["CLOSE-WAIT", "LAST-ACK", "TIME-WAIT"] {
        assert!(h.query_by_label(state).is_some(), "{state} on a rail");
    }
    // A Peer step added through the step editor.
    h.get_by_label("+ Peer").scroll_to_me();
    h.run();
    h.get_by_label("+ Peer").click();
    h.run();
    assert!(h.query_by_label_contains("9. Peer closes (FIN)").is_some());
}

#[test]
fn raw_mode_offers_the_local_kernel_as_the_peer() {
    let (_lang, mut h) = harness();
    h.run();
    assert!(h.query_by_label("peer: this computer").is_none(), "only for raw runs");
    h.state_mut().state.link = LinkKind::Raw;
    h.run();
    h.get_by_label("peer: this computer").click();
    h.run();
    assert!(h.state().state.local_peer, "the choice is kept (and saved with the app's state)");
}
