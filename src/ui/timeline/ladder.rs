//! The ladder diagram: the client lane and the server lane, one arrow per event with a filled arrowhead, its
//! label above it, its plain-language note written under it (unless notes are hidden), and a labelled verdict
//! mark ("✔ expect 2 met") beside the arrow an expectation judged.

use egui::{Align2, Color32, FontId, Pos2, RichText, Sense, Shape, Stroke, Ui, UiBuilder, Vec2};

use super::{event_menu, label, origin_color};
use crate::exchange::states::{States, TcpState};
use crate::exchange::{Dir, StepVerdict, TimelineEvent};
use crate::i18n::{t, tf};
use crate::ui::action::Action;

/// Height of one ladder row without notes (room for a label wrapped onto two lines on a narrow timeline).
pub const ROW_H: f32 = 40.0;
/// Height of one ladder row with its note (three lines of small text) under the arrow.
pub const ROW_H_NOTES: f32 = 80.0;
/// Width kept right of the server lane for the verdict mark.
const MARK_W: f32 = 118.0;

/// What the ladder draws.
pub struct LadderView<'a> {
    /// The events, in time order.
    pub events: &'a [TimelineEvent],
    /// The verdicts (their marks go beside the arrows they judged).
    pub verdicts: &'a [StepVerdict],
    /// Absolute seq/ack instead of relative.
    pub absolute: bool,
    /// Each arrow's note is written under it.
    pub notes: bool,
    /// Both ends' TCP states after each event (drawn on the rails where they change).
    pub states: &'a [States],
}

/// The ✓/✗ mark of an event, if a verdict points at it: whether it passed and its 0-based step.
fn mark(verdicts: &[StepVerdict], i: usize) -> Option<(bool, usize)> {
    verdicts.iter().find(|v| v.event == Some(i)).map(|v| (v.pass, v.step))
}

/// The words of a verdict mark, such as "✔ expect 2 met".
pub fn mark_text(pass: bool, step: usize) -> String {
    let key = if pass { "ui.timeline.mark_pass" } else { "ui.timeline.mark_fail" };
    tf(key, &[("n", &(step + 1).to_string())])
}

/// An arrow from `from` to `to` with a filled triangle at its tip.
fn arrow(p: &egui::Painter, from: Pos2, to: Pos2, color: Color32) {
    let v = to - from;
    let len = v.length().max(1.0);
    let dir = v / len;
    let head = 11.0_f32.min(len);
    let base = to - dir * head;
    let side = Vec2::new(-dir.y, dir.x) * 5.0;
    p.line_segment([from, base], Stroke::new(2.0, color));
    p.add(Shape::convex_polygon(vec![to, base + side, base - side], color, Stroke::NONE));
}

/// Draws the ladder; a click on an arrow selects its event, a right click opens its menu.
pub fn ladder(ui: &mut Ui, view: &LadderView<'_>, selected: Option<usize>, height: f32, out: &mut Vec<Action>) {
    let marks = !view.verdicts.is_empty();
    // Room right of the server lane for the verdict marks, or at least for the server's state names.
    let right_margin = if marks { MARK_W } else { 92.0 };
    ui.horizontal(|ui| {
        let w = ui.available_width();
        ui.label(RichText::new(t("ui.timeline.client")).strong());
        ui.add_space((w - 160.0 - right_margin).max(0.0));
        ui.label(RichText::new(t("ui.timeline.server")).strong());
    });
    let row_h = if view.notes { ROW_H_NOTES } else { ROW_H };
    egui::ScrollArea::vertical()
        .id_salt("ladder")
        .max_height(height)
        .stick_to_bottom(true)
        .auto_shrink([false, true])
        .show_rows(ui, row_h, view.events.len(), |ui, range| {
            for i in range {
                row(ui, view, i, selected, row_h, right_margin, out);
            }
        });
}

/// One arrow's row.
fn row(
    ui: &mut Ui,
    view: &LadderView<'_>,
    i: usize,
    selected: Option<usize>,
    row_h: f32,
    right_margin: f32,
    out: &mut Vec<Action>,
) {
    let e = &view.events[i];
    let (rect, resp) = ui.allocate_exact_size(Vec2::new(ui.available_width(), row_h), Sense::click());
    let p = ui.painter_at(rect);
    let left = rect.left() + 70.0;
    let right = (rect.right() - right_margin).max(left + 40.0);
    let palette = crate::ui::theme::colors(ui.ctx());
    let lane = Stroke::new(2.0, palette.muted);
    p.line_segment([Pos2::new(left, rect.top()), Pos2::new(left, rect.bottom())], lane);
    p.line_segment([Pos2::new(right, rect.top()), Pos2::new(right, rect.bottom())], lane);
    if selected == Some(i) || resp.hovered() {
        let fill = if selected == Some(i) {
            ui.visuals().selection.bg_fill.gamma_multiply(0.35)
        } else {
            ui.visuals().faint_bg_color
        };
        p.rect_filled(rect, 3.0, fill);
    }
    p.text(
        Pos2::new(rect.left() + 2.0, rect.top() + 15.0),
        Align2::LEFT_CENTER,
        format!("{:.3}", e.t_us as f64 / 1000.0),
        FontId::monospace(11.0),
        palette.muted,
    );
    let color = origin_color(ui.ctx(), e.origin);
    // The label fits between the lanes: a smaller font on a narrow timeline, and when even that is too wide it
    // wraps onto a second line (the arrow moves down under it): a number is never cut.
    let text = label(e, view.absolute);
    let room = (right - left - 8.0).max(1.0);
    let wide = p.layout_no_wrap(text.clone(), FontId::proportional(12.0), color).size().x;
    let size = if wide > room { (12.0 * room / wide).max(9.0) } else { 12.0 };
    let galley = p.layout(text, FontId::proportional(size), color, room);
    let extra = (galley.size().y - 14.0).max(0.0);
    let top_left = Pos2::new((left + right - galley.size().x) / 2.0, rect.top() + 2.0);
    p.galley(top_left, galley, color);
    let y0 = rect.top() + 17.0 + extra;
    let y1 = rect.top() + 26.0 + extra;
    let (from, to) = match e.dir {
        Dir::Out => (Pos2::new(left, y0), Pos2::new(right, y1)),
        Dir::In => (Pos2::new(right, y0), Pos2::new(left, y1)),
    };
    arrow(&p, from, to, color);
    // Words (not paint) for the note and the mark: they wrap, and screen readers and tests read them.
    let mut note_whole = false;
    if view.notes {
        let note_rect =
            egui::Rect::from_min_max(Pos2::new(left + 6.0, y1 + 3.0), Pos2::new(right - 6.0, rect.bottom()));
        let mut child = ui.new_child(UiBuilder::new().max_rect(note_rect));
        child.set_clip_rect(note_rect.intersect(ui.clip_rect()));
        let shown = child.add(
            egui::Label::new(RichText::new(e.note.render()).size(11.5).color(ui.visuals().text_color()))
                .wrap()
                .selectable(false),
        );
        note_whole = shown.rect.bottom() <= rect.bottom() + 0.5;
    }
    if let Some((pass, step)) = mark(view.verdicts, i) {
        let c = if pass { palette.ok } else { palette.error };
        let mark_rect =
            egui::Rect::from_min_max(Pos2::new(right + 6.0, rect.top() + 4.0), Pos2::new(rect.right(), rect.bottom()));
        let mut child = ui.new_child(UiBuilder::new().max_rect(mark_rect));
        child.add(
            egui::Label::new(RichText::new(mark_text(pass, step)).size(12.5).color(c).strong())
                .wrap()
                .selectable(false),
        );
    }
    rails(ui, view, i, rect, right);
    // One tooltip: the note (whole, when hidden or cut by a narrow row); none when it is already written in full.
    let resp = if note_whole { resp } else { resp.on_hover_text(e.note.render()) };
    if resp.clicked() {
        out.push(Action::SelectEvent(i));
    }
    event_menu(&resp, i, e, out);
}

/// The states on the rails: ours under the time, the peer's right of its lane, each where it changed (and both on
/// the first row), with a tooltip on what the state means; a warning when our segment left the state machine.
fn rails(ui: &mut Ui, view: &LadderView<'_>, i: usize, rect: egui::Rect, right: f32) {
    let Some(now) = view.states.get(i) else { return };
    let before = i.checked_sub(1).and_then(|j| view.states.get(j));
    let palette = crate::ui::theme::colors(ui.ctx());
    let y = rect.bottom() - 19.0;
    if before.is_none_or(|b| b.us != now.us) || now.off.is_some() {
        let at = egui::Rect::from_min_size(Pos2::new(rect.left() + 1.0, y), Vec2::new(68.0, 17.0));
        let r =
            state_label(ui, at, now.us, now.off.map(|_| palette.warning).unwrap_or(palette.muted), now.off.is_some());
        if let Some(off) = now.off {
            r.on_hover_text(format!("{}\n\n{}", t(off.key()), state_tip(now.us)));
        } else {
            r.on_hover_text(state_tip(now.us));
        }
    }
    if before.is_none_or(|b| b.peer != now.peer) {
        let at = egui::Rect::from_min_size(Pos2::new(right + 6.0, y), Vec2::new(rect.right() - right - 6.0, 17.0));
        state_label(ui, at, now.peer, palette.muted, false).on_hover_text(state_tip(now.peer));
    }
}

/// One state's name on a rail.
fn state_label(ui: &mut Ui, at: egui::Rect, s: TcpState, color: Color32, off: bool) -> egui::Response {
    let text = if off { format!("⚠ {}", s.rfc_name()) } else { s.rfc_name().to_owned() };
    let label = egui::Label::new(RichText::new(text).size(10.0).color(color)).selectable(false).sense(Sense::hover());
    ui.put(at, label)
}

/// What a state means and what moves it on, in the current language.
fn state_tip(s: TcpState) -> String {
    tf("ui.state.tip", &[("state", s.rfc_name()), ("what", t(&format!("state.{}", s.key())))])
}
