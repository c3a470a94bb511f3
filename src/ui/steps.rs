//! The step editor: the preset's steps as readable summaries, with add (Send, Expect, Sleep, Expect nothing),
//! remove, duplicate, move up/down or by dragging, and undo/redo (buttons, Ctrl+Z, Ctrl+Shift+Z); and the editor of the selected
//! step, whose template fields carry plain labels and accept expressions (`peer.seq + 1`), with a parse error
//! shown at its character.

use egui::{Color32, RichText, Ui};

use super::action::{Action, NewStep, StepEdit};
use super::editor::{self, EditorState};
use crate::exchange::StepVerdict;
use crate::i18n::{t, tf};
use crate::preset::expr::{Expr, ExprError};
use crate::preset::validate::{self, Missing};
use crate::preset::{ExpectStep, FlagPattern, Flags, PeerAction, Preset, SendTemplate, Step};
use crate::wire::{Payload, TcpFlags};

/// The theme's colour for what is wrong in a field (WCAG AA on both themes, unlike a fixed red or yellow).
pub(super) fn bad(ui: &Ui) -> Color32 {
    super::theme::colors(ui.ctx()).error
}

/// The theme's warning colour: what a preset still lacks, the step about to run.
fn warn(ui: &Ui) -> Color32 {
    super::theme::colors(ui.ctx()).warning
}

/// A new step of `kind`, to go after `before`: an Expect binds `peer` (or `peerN` when that is taken).
pub fn new_step(kind: NewStep, before: &[Step]) -> Step {
    match kind {
        NewStep::Send => Step::Send(Box::new(SendTemplate { flags: Flags(TcpFlags::ACK), ..Default::default() })),
        NewStep::Expect => {
            let taken = |b: &str| before.iter().any(|s| matches!(s, Step::Expect(x) if x.bind == b));
            let bind = std::iter::once("peer".to_string())
                .chain((2..).map(|n| format!("peer{n}")))
                .find(|b| !taken(b))
                .unwrap_or_default();
            let flags = FlagPattern::parse("SA").unwrap_or(FlagPattern(Vec::new()));
            Step::Expect(ExpectStep { flags, within_ms: 1000, bind, ack: None, min_len: None })
        }
        NewStep::Sleep => Step::Sleep(100),
        NewStep::ExpectNothing => Step::ExpectNothing { within_ms: 1000 },
        NewStep::Peer => Step::Peer(PeerAction::Close),
    }
}

/// What a preset still needs to run, in the current language (empty when nothing is missing).
pub fn missing_text(m: Option<Missing>) -> &'static str {
    match m {
        Some(Missing::NoSteps) => t("ui.steps.missing_none"),
        Some(Missing::NoSend) => t("ui.steps.missing_send"),
        None => "",
    }
}

/// Flags by their names, joined: `SYN-ACK`, `PSH-ACK`; "no flags" when none is set.
fn flag_names(f: TcpFlags) -> String {
    let names: Vec<&str> = f.names().collect();
    if names.is_empty() {
        t("ui.steps.no_flags").to_string()
    } else {
        names.join("-")
    }
}

/// The one-line summary of a step: `Send SYN seq=isn`, `Expect SA within 1000 ms`, `Sleep 50 ms`.
pub fn summary(s: &Step) -> String {
    match s {
        Step::Send(tpl) => {
            let mut text = flag_names(tpl.flags.0);
            for (name, e) in [("seq", &tpl.seq), ("ack", &tpl.ack), ("dport", &tpl.dport), ("urg", &tpl.urgent)] {
                if let Some(e) = e {
                    text += &format!(" {name}={e}");
                }
            }
            if let Some(p) = &tpl.payload {
                text += &format!(" +{}B", p.bytes().len());
            }
            if let Some(f) = &tpl.fragment {
                text += &format!(" ✂{}", f.size);
            }
            tf("ui.step.send", &[("flags", &text)])
        }
        Step::Expect(x) => tf("ui.step.expect", &[("flags", &x.flags.to_string()), ("ms", &x.within_ms.to_string())]),
        Step::ExpectNothing { within_ms } => tf("ui.step.expect_nothing", &[("ms", &within_ms.to_string())]),
        Step::Sleep(ms) => tf("ui.step.sleep", &[("ms", &ms.to_string())]),
        Step::Peer(a) => tf("ui.step.peer", &[("what", &peer_action_text(a))]),
    }
}

/// A peer action in words: "closes (FIN)", "sends 5 bytes".
fn peer_action_text(a: &PeerAction) -> String {
    match a {
        PeerAction::Send(p) => tf("ui.peer.sends", &[("n", &p.bytes().len().to_string())]),
        other => t(peer_action_key(other)).to_owned(),
    }
}

/// The catalog key of a peer action's name.
fn peer_action_key(a: &PeerAction) -> &'static str {
    match a {
        PeerAction::Send(_) => "ui.peer.send",
        PeerAction::Close => "ui.peer.close",
        PeerAction::Abort => "ui.peer.abort",
        PeerAction::StopReading => "ui.peer.stop_reading",
        PeerAction::ResumeReading => "ui.peer.resume_reading",
        PeerAction::Nothing => "ui.peer.nothing",
    }
}

/// The Peer step's editor: which action, and the data for a send.
fn peer_editor(ui: &mut Ui, a: &mut PeerAction, st: &mut EditorState, i: usize, field: &mut Option<&str>) {
    ui.label(RichText::new(t("ui.peer.help")).weak());
    let choices = [
        PeerAction::Close,
        PeerAction::Abort,
        PeerAction::Send(Payload::Text("hello\n".into())),
        PeerAction::StopReading,
        PeerAction::ResumeReading,
        PeerAction::Nothing,
    ];
    ui.horizontal_wrapped(|ui| {
        for c in choices {
            let on = std::mem::discriminant(a) == std::mem::discriminant(&c);
            if ui.selectable_label(on, t(peer_action_key(&c))).clicked() && !on {
                *a = c;
                *field = Some("action");
            }
        }
    });
    if let PeerAction::Send(p) = a {
        editor::payload_editor(ui, p, &mut st.bufs, &format!("step{i}.peer"));
        *field = Some("payload");
    }
}

/// What an Expect step does beyond its summary: the name it binds and the ack it checks.
fn expect_detail(x: &ExpectStep) -> String {
    let mut d = tf("ui.steps.binds", &[("name", &x.bind)]);
    if let Some(a) = &x.ack {
        d += &format!(", ack={a}");
    }
    d
}

/// What a dragged step row carries: its index.
struct StepDrag(usize);

/// Which steps the list marks: the one selected for editing, and the one step-through paused before.
#[derive(Clone, Copy, Debug, Default)]
pub struct Marks {
    /// The step open in the editor.
    pub selected: Option<usize>,
    /// The step about to run (step-through is paused before it).
    pub pending: Option<usize>,
}

/// The list of steps with its buttons (in the library column); edits go out as actions.
pub fn list(ui: &mut Ui, p: &Preset, verdicts: &[StepVerdict], marks: Marks, out: &mut Vec<Action>) {
    let Marks { selected, pending } = marks;
    let (can_undo, can_redo) = super::undo::with(ui.ctx(), &p.name, |h| (h.can_undo(), h.can_redo()));
    // Ctrl+Z / Ctrl+Shift+Z, unless a text field has the keyboard (it undoes its own typing).
    if ui.memory(|m| m.focused().is_none()) {
        let redo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z);
        let undo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);
        if ui.input_mut(|i| i.consume_shortcut(&redo)) {
            out.push(Action::RedoSteps);
        } else if ui.input_mut(|i| i.consume_shortcut(&undo)) {
            out.push(Action::UndoSteps);
        }
    }
    ui.label(RichText::new(tf("ui.library.steps_of", &[("name", &p.name)])).strong())
        .on_hover_text(p.explain_in(crate::i18n::current()));
    ui.horizontal_wrapped(|ui| {
        for (kind, key, tip) in [
            (NewStep::Send, "ui.steps.add_send", "ui.steps.add_send_tip"),
            (NewStep::Expect, "ui.steps.add_expect", "ui.steps.add_expect_tip"),
            (NewStep::Sleep, "ui.steps.add_sleep", "ui.steps.add_sleep_tip"),
            (NewStep::ExpectNothing, "ui.steps.add_nothing", "ui.steps.add_nothing_tip"),
            (NewStep::Peer, "ui.steps.add_peer", "ui.steps.add_peer_tip"),
        ] {
            if ui.small_button(t(key)).on_hover_text(t(tip)).clicked() {
                out.push(Action::EditSteps(StepEdit::Add(kind, selected)));
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        let n = p.steps.len();
        let sel = selected.filter(|i| *i < n);
        let mut button = |ui: &mut Ui, on: bool, icon: &str, tip: &str, a: Action| {
            if ui.add_enabled(on, egui::Button::new(icon).small()).on_hover_text(tip).clicked() {
                out.push(a);
            }
        };
        let i = sel.unwrap_or(0);
        button(
            ui,
            sel.is_some_and(|i| i > 0),
            "⬆",
            t("ui.steps.up"),
            Action::EditSteps(StepEdit::Move { from: i, to: i.saturating_sub(1) }),
        );
        button(
            ui,
            sel.is_some_and(|i| i + 1 < n),
            "⬇",
            t("ui.steps.down"),
            Action::EditSteps(StepEdit::Move { from: i, to: i + 1 }),
        );
        button(ui, sel.is_some(), "📋", t("ui.steps.duplicate"), Action::EditSteps(StepEdit::Duplicate(i)));
        button(ui, sel.is_some(), "🗙", t("ui.steps.remove"), Action::EditSteps(StepEdit::Remove(i)));
        ui.separator();
        button(ui, can_undo, t("ui.steps.undo_btn"), t("ui.steps.undo"), Action::UndoSteps);
        button(ui, can_redo, t("ui.steps.redo_btn"), t("ui.steps.redo"), Action::RedoSteps);
    });
    for (i, s) in p.steps.iter().enumerate() {
        let v = verdicts.iter().find(|v| v.step == i);
        let mark = match v {
            Some(v) if v.pass => "✔ ",
            Some(_) => "✖ ",
            None => "",
        };
        let mark = if pending == Some(i) { "▶ " } else { mark };
        let mut text = RichText::new(format!("{mark}{}. {}", i + 1, summary(s)));
        if pending == Some(i) {
            // The step about to run in step-through: marked and washed in the warning colour, as the paused
            // segment's frame is.
            text = text.strong().background_color(warn(ui).gamma_multiply(0.18));
        }
        let r = ui.selectable_label(selected == Some(i), text);
        let r = if pending == Some(i) { r.on_hover_text(t("ui.steps.pending_tip")) } else { r };
        // Drag a step onto another to move it there.
        let r = r.interact(egui::Sense::drag());
        r.dnd_set_drag_payload(StepDrag(i));
        if r.dnd_hover_payload::<StepDrag>().is_some_and(|d| d.0 != i) {
            let y =
                if r.dnd_hover_payload::<StepDrag>().is_some_and(|d| d.0 < i) { r.rect.bottom() } else { r.rect.top() };
            ui.painter().hline(r.rect.x_range(), y, egui::Stroke::new(2.0, warn(ui)));
        }
        if let Some(from) = r.dnd_release_payload::<StepDrag>().filter(|d| d.0 != i) {
            out.push(Action::EditSteps(StepEdit::Move { from: from.0, to: i }));
        }
        if let Step::Expect(x) = s {
            ui.label(RichText::new(format!("     {}", expect_detail(x))).weak().small());
        }
        let r = match v {
            Some(v) => r.on_hover_text(&v.detail),
            None => r,
        };
        if r.clicked() {
            out.push(if selected == Some(i) { Action::UnselectStep } else { Action::SelectStep(i) });
        }
    }
    let missing = validate::missing_to_run(&p.steps);
    if missing.is_some() {
        ui.label(RichText::new(format!("⚠ {}", missing_text(missing))).color(warn(ui)));
    } else if let Err(e) = validate::validate(&Preset { exercise: None, ..p.clone() }) {
        ui.add(egui::Label::new(RichText::new(format!("⚠ {}", e.message)).color(bad(ui)).small()).wrap());
    }
}

/// The editor of step `i` of `p` (any kind), whose previewed IP payload is `payload` bytes when it is a Send that
/// builds (its fragment editor counts the pieces). Field edits are recorded for undo, an edit of one field within
/// a second of the last merging with it.
pub fn step_editor(ui: &mut Ui, p: &mut Preset, i: usize, payload: Option<usize>, st: &mut EditorState) {
    let before = p.steps.clone();
    let mut field = None;
    let Some(step) = p.steps.get_mut(i) else { return };
    let kind = match step {
        Step::Send(_) => t("ui.steps.kind_send"),
        Step::Expect(_) => t("ui.steps.kind_expect"),
        Step::ExpectNothing { .. } => t("ui.steps.kind_nothing"),
        Step::Sleep(_) => t("ui.steps.kind_sleep"),
        Step::Peer(_) => t("ui.steps.kind_peer"),
    };
    ui.label(RichText::new(tf("ui.steps.editing", &[("n", &(i + 1).to_string()), ("kind", kind)])).strong());
    match step {
        Step::Send(tpl) => send_editor(ui, tpl, st, i, payload, &mut field),
        Step::Expect(x) => expect_editor(ui, x, i, &mut field),
        Step::Sleep(ms) => {
            ui.horizontal(|ui| {
                ui.label(t("ui.steps.sleep_ms"));
                if ui.add(egui::DragValue::new(ms).range(0..=validate::MAX_WAIT_MS).suffix(" ms")).changed() {
                    field = Some("ms");
                }
            });
        }
        Step::Peer(a) => peer_editor(ui, a, st, i, &mut field),
        Step::ExpectNothing { within_ms } => {
            ui.horizontal(|ui| {
                ui.label(t("ui.steps.within")).on_hover_text(t("ui.steps.within_tip"));
                let drag = egui::DragValue::new(within_ms).range(0..=validate::MAX_WAIT_MS).suffix(" ms");
                if ui.add(drag).changed() {
                    field = Some("ms");
                }
            });
        }
    }
    if p.steps != before {
        let key = format!("{i}.{}", field.unwrap_or("other"));
        let now = ui.input(|inp| inp.time);
        super::undo::with(ui.ctx(), &p.name, |h| h.record(before, Some(key), now));
    }
}

/// The Send template: flags, expression fields with plain labels, options, payload.
fn send_editor(
    ui: &mut Ui,
    tpl: &mut SendTemplate,
    st: &mut EditorState,
    i: usize,
    payload: Option<usize>,
    field: &mut Option<&str>,
) {
    ui.label(RichText::new(t("ui.template.help")).weak());
    ui.horizontal_wrapped(|ui| {
        ui.label(t("ui.steps.flags")).on_hover_text(t("ui.steps.flags_tip"));
        editor::flag_buttons(ui, &mut tpl.flags.0, st);
    });
    egui::Grid::new(("tpl-grid", i)).num_columns(2).show(ui, |ui| {
        for (name, e, label, tip, default) in [
            ("seq", &mut tpl.seq, "ui.tpl.seq", "ui.tpl.seq_tip", "ui.tpl.seq_default"),
            ("ack", &mut tpl.ack, "ui.tpl.ack", "ui.tpl.ack_tip", "ui.tpl.ack_default"),
            ("sport", &mut tpl.sport, "ui.tpl.sport", "ui.tpl.sport_tip", "ui.tpl.sport_default"),
            ("dport", &mut tpl.dport, "ui.tpl.dport", "ui.tpl.dport_tip", "ui.tpl.dport_default"),
            ("window", &mut tpl.window, "ui.tpl.window", "ui.tpl.window_tip", "ui.tpl.window_default"),
            ("urgent", &mut tpl.urgent, "ui.tpl.urgent", "ui.tpl.urgent_tip", "ui.tpl.urgent_default"),
        ] {
            let l = ui.label(t(label)).on_hover_text(t(tip));
            if expr_field(ui, &format!("{i}.{name}"), e, t(default), (l.id, t(tip))) {
                *field = Some(name);
            }
            ui.end_row();
        }
    });
    editor::options_editor(ui, &mut tpl.options, &mut st.bufs, &format!("step{i}.opt"));
    let mut has_payload = tpl.payload.is_some();
    if ui.checkbox(&mut has_payload, t("ui.template.payload")).changed() {
        tpl.payload = has_payload.then(|| Payload::Text(String::new()));
    }
    if let Some(p) = &mut tpl.payload {
        editor::payload_editor(ui, p, &mut st.bufs, &format!("step{i}.payload"));
        *field = Some("payload");
    }
    super::fragment_editor::fragment_editor(ui, &mut tpl.fragment, payload, i, field);
}

/// An Expect step: flag pattern, time limit, the name it binds, the ack it checks.
fn expect_editor(ui: &mut Ui, x: &mut ExpectStep, i: usize, field: &mut Option<&str>) {
    egui::Grid::new(("expect-grid", i)).num_columns(2).show(ui, |ui| {
        let label = ui.label(t("ui.steps.pattern")).on_hover_text(t("ui.steps.pattern_tip"));
        let id = egui::Id::unique(("tcpcraft-step-pattern", i));
        let shown = x.flags.to_string();
        let mut text = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| shown.clone());
        let r = ui.vertical(|ui| {
            let r = ui
                .add(egui::TextEdit::singleline(&mut text).desired_width(90.0))
                .labelled_by(label.id)
                .on_hover_text(t("ui.steps.pattern_tip"));
            match FlagPattern::parse(text.trim()) {
                Ok(p) => {
                    if r.changed() && p != x.flags {
                        x.flags = p;
                        *field = Some("pattern");
                    }
                }
                Err(e) => {
                    ui.add(egui::Label::new(RichText::new(format!("⚠ {e}")).color(bad(ui)).small()).wrap());
                }
            }
            r
        });
        let keep = r.inner.has_focus() || FlagPattern::parse(text.trim()).is_err();
        ui.data_mut(|d| {
            if keep {
                d.insert_temp(id, text);
            } else {
                d.remove::<String>(id);
            }
        });
        ui.end_row();
        ui.label(t("ui.steps.within")).on_hover_text(t("ui.steps.within_tip"));
        let drag = egui::DragValue::new(&mut x.within_ms).range(0..=validate::MAX_WAIT_MS).suffix(" ms");
        if ui.add(drag).changed() {
            *field = Some("within");
        }
        ui.end_row();
        let label = ui.label(t("ui.steps.bind")).on_hover_text(t("ui.steps.bind_tip"));
        if ui
            .add(egui::TextEdit::singleline(&mut x.bind).desired_width(90.0))
            .labelled_by(label.id)
            .on_hover_text(t("ui.steps.bind_tip"))
            .changed()
        {
            *field = Some("bind");
        }
        ui.end_row();
        let tip = t("ui.steps.expect_ack_tip");
        let l = ui.label(t("ui.tpl.ack")).on_hover_text(tip);
        if expr_field(ui, &format!("{i}.expect.ack"), &mut x.ack, t("ui.steps.expect_ack_default"), (l.id, tip)) {
            *field = Some("ack");
        }
        ui.end_row();
    });
}

/// An expression field: applied as soon as the text parses (empty: the default named by `hint`); otherwise the
/// typed text stays, with a caret under the character the error is at. `label` is the field's label and
/// tooltip. Returns whether the value changed.
fn expr_field(ui: &mut Ui, key: &str, value: &mut Option<Expr>, hint: &str, label: (egui::Id, &str)) -> bool {
    let id = egui::Id::unique(("tcpcraft-step-expr", key));
    let shown = value.as_ref().map(|e| e.text().to_string()).unwrap_or_default();
    let mut text = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| shown.clone());
    let mut changed = false;
    let inner = ui.vertical(|ui| {
        let edit = egui::TextEdit::singleline(&mut text).desired_width(140.0).code_editor().hint_text(hint);
        let r = ui.add(edit).labelled_by(label.0).on_hover_text(label.1);
        let parsed = if text.trim().is_empty() { Ok(None) } else { Expr::parse(text.trim()).map(Some) };
        match &parsed {
            Ok(e) if r.changed() && e.as_ref().map(Expr::text) != value.as_ref().map(Expr::text) => {
                *value = e.clone();
                changed = true;
            }
            Ok(_) => {}
            Err(e) => show_error(ui, &text, e),
        }
        (r.has_focus(), parsed.is_err())
    });
    let (focused, bad) = inner.inner;
    ui.data_mut(|d| {
        if focused || bad {
            d.insert_temp(id, text);
        } else {
            d.remove::<String>(id);
        }
    });
    changed
}

/// An expression's error; a syntax error with the text and a caret under its character.
fn show_error(ui: &mut Ui, text: &str, e: &ExprError) {
    if let ExprError::Syntax { reason, at, .. } = e {
        let typed = text.trim();
        let caret = format!("{}^", " ".repeat(at.saturating_sub(1)));
        let red = bad(ui);
        let mono = |s: String| RichText::new(s).monospace().color(red);
        ui.label(mono(typed.to_string()));
        ui.label(mono(caret));
        ui.label(
            RichText::new(tf("ui.steps.expr_error", &[("reason", reason), ("at", &at.to_string())]))
                .color(bad(ui))
                .small(),
        );
    } else {
        ui.add(egui::Label::new(RichText::new(format!("⚠ {e}")).color(bad(ui)).small()).wrap());
    }
}
