//! The step editor: lab 1 solved from its handed-out state by clicks and typing only; steps added, moved, removed
//! and the removal undone; a preset without steps says what it lacks.

use super::*;

/// Clicks the widget labelled `label` and lets the UI settle.
fn click(h: &mut Harness<'static, TcpcraftApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run();
    h.get_by_label(label).click();
    h.run();
}

/// Types `text` into the expression field labelled `label`.
fn type_into(h: &mut Harness<'static, TcpcraftApp>, label: &str, text: &str) {
    let field = || By::new().role(egui::accesskit::Role::TextInput).label(label);
    h.get(field()).scroll_to_me();
    h.run();
    h.get(field()).focus();
    h.run();
    h.get(field()).type_text(text);
    h.run();
}

#[test]
fn lab_1_is_solved_by_adding_steps_in_the_step_editor() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "lab-01-three-way-open");
    assert!(h.query_by_label_contains("1. Send no flags seq=isn").is_some(), "the handed-out step reads plainly");
    // Step 1: only SYN.
    click(&mut h, "1. Send no flags seq=isn");
    click(&mut h, "SYN");
    assert!(h.query_by_label("1. Send SYN seq=isn").is_some());
    // Step 2: wait for the SYN-ACK and bind it as peer (the new Expect's defaults).
    click(&mut h, "+ Expect");
    assert!(h.query_by_label("2. Expect SA within 1000 ms").is_some());
    assert!(h.query_by_label_contains("binds the reply as peer").is_some());
    // Step 3: the ACK, numbers typed as expressions.
    click(&mut h, "+ Send");
    type_into(&mut h, "Sequence number", "isn + 1");
    type_into(&mut h, "Acknowledgment number", "peer.seq + 1");
    click(&mut h, "⬅ back to the segment editor");
    assert!(h.query_by_label("3. Send ACK seq=isn + 1 ack=peer.seq + 1").is_some());
    assert!(h.query_by_label("4. Sleep 100 ms").is_some());
    click(&mut h, "▶ Run");
    step_until(&mut h, |app| !app.rt.running);
    assert!(h.query_all_by_label_contains("Exercise solved").next().is_some(), "the lab is graded as solved");
}

#[test]
fn a_step_is_added_moved_removed_and_the_removal_undone() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "normal-open");
    click(&mut h, "+ Sleep");
    assert!(h.query_by_label("5. Sleep 100 ms").is_some(), "added at the end");
    click(&mut h, "⬆");
    assert!(h.query_by_label("4. Sleep 100 ms").is_some(), "moved up");
    assert!(h.query_by_label("5. Sleep 50 ms").is_some());
    click(&mut h, "🗙");
    assert!(h.query_by_label_contains("Sleep 100 ms").is_none(), "removed");
    assert_eq!(h.state().state.preset.as_ref().unwrap().steps.len(), 4);
    click(&mut h, "Undo");
    assert!(h.query_by_label("4. Sleep 100 ms").is_some(), "the removal is undone");
    click(&mut h, "Redo");
    assert!(h.query_by_label_contains("Sleep 100 ms").is_none(), "and redone");
}

#[test]
fn a_preset_without_steps_says_what_it_lacks() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "normal-open");
    click(&mut h, "1. Send SYN seq=isn");
    click(&mut h, "🗙");
    h.get_by_label_contains("2. Send ACK").click();
    h.run();
    click(&mut h, "🗙");
    assert!(h.query_by_label_contains("Nothing is sent: add a Send step").is_some(), "no Send is left");
    click(&mut h, "🗙");
    click(&mut h, "🗙");
    assert!(h.state().state.preset.as_ref().unwrap().steps.is_empty());
    assert!(h.query_by_label_contains("No steps yet: add a Send step").is_some());
    click(&mut h, "▶ Run");
    assert!(!h.state().rt.running, "nothing to run");
}

#[test]
fn ctrl_z_undoes_a_step_edit_and_a_bad_expression_is_marked_at_its_character() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "normal-open");
    click(&mut h, "+ Expect nothing");
    assert!(h.query_by_label("5. Expect nothing for 1000 ms").is_some());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert!(h.query_by_label_contains("Expect nothing for").is_none(), "Ctrl+Z took the step back");
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z);
    h.run();
    assert!(h.query_by_label("5. Expect nothing for 1000 ms").is_some(), "Ctrl+Shift+Z put it again");
    click(&mut h, "3. Send ACK seq=isn + 1 ack=peer.seq + 1");
    type_into(&mut h, "Urgent pointer", "1 $ 2");
    assert!(h.query_by_label_contains("at character 3").is_some(), "the reason names the character");
    assert!(h.query_by_label("  ^").is_some(), "a caret under it");
    let steps = &h.state().state.preset.as_ref().unwrap().steps;
    assert!(matches!(&steps[2], tcpcraft::preset::Step::Send(t) if t.urgent.is_none()), "not applied");
}

/// Replaces the text of the field labelled `label` with `text`.
fn retype(h: &mut Harness<'static, TcpcraftApp>, label: &str, text: &str) {
    let field = || By::new().role(egui::accesskit::Role::TextInput).label(label);
    h.get(field()).scroll_to_me();
    h.run();
    h.get(field()).focus();
    h.run();
    h.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    h.run();
    h.get(field()).type_text(text);
    h.run();
}

#[test]
fn lab_3_is_solved_by_editing_a_port_and_adding_an_expect_for_rst() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "lab-03-rst-closed-port");
    click(&mut h, "1. Send SYN seq=isn dport=80");
    retype(&mut h, "Destination port", "81");
    click(&mut h, "+ Expect");
    retype(&mut h, "Reply flags", "RA");
    click(&mut h, "⬅ back to the segment editor");
    assert!(h.query_by_label("1. Send SYN seq=isn dport=81").is_some());
    assert!(h.query_by_label("2. Expect RA within 1000 ms").is_some());
    click(&mut h, "▶ Run");
    step_until(&mut h, |app| !app.rt.running);
    assert!(h.query_all_by_label_contains("Exercise solved").next().is_some(), "the lab is graded as solved");
}

#[test]
fn lab_4_is_solved_by_turning_the_ack_into_a_reset() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "lab-04-half-open");
    click(&mut h, "3. Send ACK seq=isn + 1 ack=peer.seq + 1");
    click(&mut h, "ACK");
    click(&mut h, "RST");
    assert!(h.query_by_label("3. Send RST seq=isn + 1 ack=peer.seq + 1").is_some());
    click(&mut h, "▶ Run");
    step_until(&mut h, |app| !app.rt.running);
    assert!(h.query_all_by_label_contains("Exercise solved").next().is_some(), "the lab is graded as solved");
}

/// Clicks the first widget whose label contains `part`.
fn click_contains(h: &mut Harness<'static, TcpcraftApp>, part: &str) {
    h.get_all_by_label_contains(part).next().unwrap().scroll_to_me();
    h.run();
    h.get_all_by_label_contains(part).next().unwrap().click();
    h.run();
}

/// Runs the lab on show and asserts it is graded as solved.
fn run_and_expect_solved(h: &mut Harness<'static, TcpcraftApp>) {
    click(h, "▶ Run");
    step_until(h, |app| !app.rt.running);
    let grade: Vec<String> = h.query_all_by_label_contains("goal").map(|n| format!("{n:?}")).collect();
    assert!(h.query_all_by_label_contains("Exercise solved").next().is_some(), "not solved: {grade:?}");
}

#[test]
fn lab_2_is_solved_by_fixing_both_acks() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "lab-02-seq-ack-plus-one");
    for step in ["3. Send ACK", "4. Send"] {
        click_contains(&mut h, step);
        retype(&mut h, "Acknowledgment number", "peer.seq + 1");
        click(&mut h, "⬅ back to the segment editor");
    }
    assert!(h.query_by_label("3. Send ACK seq=isn + 1 ack=peer.seq + 1").is_some());
    run_and_expect_solved(&mut h);
}

#[test]
fn lab_5_is_solved_with_fin_ack_an_expect_for_the_servers_fin_and_its_ack() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "lab-05-fin-close");
    // Step 4: FIN becomes FIN+ACK with the handshake's ack.
    click_contains(&mut h, "4. Send FIN");
    click(&mut h, "ACK");
    retype(&mut h, "Acknowledgment number", "peer.seq + 1");
    // Step 5: wait for the server's FIN (bound as peer2, the new Expect's default name).
    click(&mut h, "+ Expect");
    retype(&mut h, "Reply flags", "F*");
    assert!(h.query_by_label_contains("binds the reply as peer2").is_some());
    // Step 6: acknowledge it.
    click(&mut h, "+ Send");
    type_into(&mut h, "Sequence number", "isn + 2");
    type_into(&mut h, "Acknowledgment number", "peer2.seq + 1");
    click(&mut h, "⬅ back to the segment editor");
    assert!(h.query_by_label("6. Send ACK seq=isn + 2 ack=peer2.seq + 1").is_some());
    run_and_expect_solved(&mut h);
}

#[test]
fn lab_6_is_solved_by_setting_urg_psh_and_the_urgent_pointer() {
    let (_lang, mut h) = harness();
    h.run();
    click(&mut h, "lab-06-urg-psh-data");
    click_contains(&mut h, "4. Send ACK");
    click(&mut h, "URG");
    click(&mut h, "PSH");
    retype(&mut h, "Urgent pointer", "5");
    click(&mut h, "⬅ back to the segment editor");
    run_and_expect_solved(&mut h);
}

/// normal-open's SYN (step 1) set to go out in fragments from the step editor, in the order labelled `order`.
fn fragment_the_syn(h: &mut Harness<'static, TcpcraftApp>, order: &str) {
    click(h, "normal-open");
    click(h, "1. Send SYN seq=isn");
    click(h, "Send as IP fragments");
    click(h, "order");
    click(h, order);
}

/// Step 1's fragment setting, as the preset holds it.
fn syn_fragmenting(h: &Harness<'static, TcpcraftApp>) -> tcpcraft::wire::fragment::Fragmenting {
    let step = h.state().state.preset.as_ref().expect("a preset is chosen").steps[0].clone();
    let tcpcraft::preset::Step::Send(tpl) = step else { panic!("step 1 is a Send") };
    tpl.fragment.expect("the step has a fragment setting")
}

/// Runs the preset to its end; the crafted SYN as the timeline holds it, and the offsets of its fragments in the
/// order they went out.
fn run_and_take_the_syn(h: &mut Harness<'static, TcpcraftApp>) -> (tcpcraft::exchange::TimelineEvent, Vec<usize>) {
    click(h, "▶ Run");
    step_until(h, |app| !app.rt.running);
    let events = &h.state().rt.events;
    assert!(events.iter().any(|e| e.origin == tcpcraft::link::Origin::Peer), "the lab host answered");
    let syn = events.iter().find(|e| e.origin == tcpcraft::link::Origin::Crafted).expect("the SYN is in the timeline");
    let offsets = syn.fragments.iter().filter_map(|f| f.info()).map(|i| i.offset).collect();
    (syn.clone(), offsets)
}

/// A Send step set to go out in fragments from the step editor: the step list says so, the run on the lab host
/// (which reassembles) passes, and the SYN in the timeline carries the fragments it went out as.
#[test]
fn a_send_step_is_fragmented_from_the_step_editor_and_the_timeline_keeps_the_fragments() {
    let (_lang, mut h) = harness();
    h.run();
    fragment_the_syn(&mut h, "last to first");
    click(&mut h, "⬅ back to the segment editor");
    assert!(h.query_by_label_contains("1. Send SYN seq=isn ✂8").is_some(), "the step list shows the fragmenting");
    let f = syn_fragmenting(&h);
    assert_eq!((f.size, &f.order), (8, &tcpcraft::wire::fragment::FragOrder::Reverse));
    let (syn, offsets) = run_and_take_the_syn(&mut h);
    assert!(syn.fragments.len() >= 3, "{} fragments", syn.fragments.len());
    assert_eq!(offsets.last(), Some(&0), "last to first: offset 0 goes last ({offsets:?})");
    // Its details copy it as the `send --fragment` command that sends it the same way (not a one-datagram build).
    let at = h.state().rt.events.iter().position(|e| e.origin == tcpcraft::link::Origin::Crafted).unwrap();
    h.state_mut().rt.selected = Some(at);
    h.run();
    assert!(h.query_by_label("Copy as tcpcraft build command").is_none(), "a fragmented segment is no build");
    h.get_by_label("Copy as tcpcraft send --fragment command").scroll_to_me();
    h.run();
    h.get_by_label("Copy as tcpcraft send --fragment command").click();
    h.step();
    let copied = h.output().platform_output.commands.iter().find_map(|c| match c {
        egui::OutputCommand::CopyText(t) => Some(t.clone()),
        _ => None,
    });
    let copied = copied.expect("the command was copied");
    assert!(copied.starts_with("tcpcraft send 192.0.2.10 "), "{copied}");
    assert!(copied.ends_with(" -S --fragment 8 --frag-order reverse"), "{copied}");
}

/// Fragments sent in an order listed by number from the step editor: text that is not numbers says so and
/// changes nothing; the editor counts the pieces and says a list that misses one, and a run with it stops at that
/// step saying how many there are; a full list sends them as listed, and the event copies as
/// `send … --frag-order` with the same list.
#[test]
fn fragments_go_out_in_the_order_listed_in_the_step_editor() {
    let (_lang, mut h) = harness();
    h.run();
    fragment_the_syn(&mut h, "as listed");
    let order = |h: &Harness<'static, TcpcraftApp>| syn_fragmenting(h).order;
    // The list starts as the order it replaces: the counted pieces, first to last.
    assert_eq!(order(&h), tcpcraft::wire::fragment::FragOrder::Given(vec![0, 1, 2]));
    retype(&mut h, "pieces", "2,0");
    type_into(&mut h, "pieces", ",x");
    assert!(h.query_by_label_contains("numbers separated by commas").is_some(), "the typing error is said");
    assert_eq!(order(&h), tcpcraft::wire::fragment::FragOrder::Given(vec![2, 0]), "only what reads as numbers");
    // The editor counts the pieces of the step's 24-byte TCP header (MSS option included) and says the short list.
    assert!(h.query_by_label("pieces: 3").is_some(), "the pieces are counted");
    // Back to "2,0": numbers, but one piece short.
    for _ in 0..2 {
        h.key_press(egui::Key::Backspace);
        h.run();
    }
    assert!(h.query_by_label_contains("numbers separated by commas").is_none(), "the text reads as numbers now");
    assert!(h.query_by_label_contains("name each of the 3 pieces, 0 to 2, once").is_some(), "the short list is said");
    click(&mut h, "⬅ back to the segment editor");
    click(&mut h, "▶ Run");
    step_until(&mut h, |app| !app.rt.running);
    let (said, error) = h.state().rt.message.clone();
    assert!(error && said.contains("name each of the 3 fragments (0 to 2) once"), "{said}");
    // Nothing was sent: the timeline says why in full (the status line may cut it).
    assert!(h.query_by_label_contains("⚠ step 1: fragmenting").is_some(), "the timeline says why nothing was sent");
    click_contains(&mut h, "1. Send SYN seq=isn ✂8");
    retype(&mut h, "pieces", "2,0,1");
    assert_eq!(order(&h), tcpcraft::wire::fragment::FragOrder::Given(vec![2, 0, 1]));
    assert!(h.query_by_label_contains("name each of the 3 pieces").is_none(), "a full list is not flagged");
    click(&mut h, "⬅ back to the segment editor");
    let (syn, offsets) = run_and_take_the_syn(&mut h);
    assert_eq!(offsets, [16, 0, 8], "as listed");
    let command = tcpcraft::ui::timeline::command::event_command(&syn).expect("a command").1;
    assert!(command.ends_with(" -S --fragment 8 --frag-order 2,0,1"), "{command}");
}
