//! Drawing the path: the chain of boxes with arrows between them, the port lanes under it (a line as far as the
//! probes got, a barrier where they died, the verdict at the end), then each port's evidence in words. Every text
//! is a real label (screen readers and the tests read it), laid over the painted shapes.

use egui::{Align, Color32, Layout, Pos2, Rect, RichText, Sense, Stroke, Ui, UiBuilder, Vec2};

use super::path::{self, Lane, Node, NodeKind};
use crate::exchange::sweep::Verdict;
use crate::i18n::{t, tf, tn};
use crate::ui::sweep::{color, text_color, verdict_name};
use crate::ui::theme;
use crate::ui::worker::TraceReport;

/// Width of the port names' column, left of the chain (it stays put when the chain scrolls sideways).
const GUTTER: f32 = 80.0;
/// Room left of the first box, inside the strip that scrolls.
const PAD: f32 = 4.0;
/// A box's size.
const NODE: Vec2 = Vec2::new(156.0, 64.0);
/// Room between two boxes (the arrow).
const GAP: f32 = 40.0;
/// One port lane's height.
const LANE_H: f32 = 26.0;
/// Room right of the last box for a verdict.
const RIGHT: f32 = 110.0;

/// A verdict's colour for a lane's line: the Sweep tab's, a little darker on a light background (pale yellow on
/// white was nearly invisible), where the faded part past the last answer must still show.
fn line_color(ui: &Ui, c: Color32) -> Color32 {
    if ui.visuals().dark_mode {
        c
    } else {
        c.lerp_to_gamma(Color32::BLACK, 0.3)
    }
}

/// A box's title: who it is.
fn title(n: &Node) -> String {
    let hops = |(a, b): (u8, u8)| {
        if a == b {
            tf("ui.trace.hop", &[("n", &a.to_string())])
        } else {
            tf("ui.trace.hops", &[("from", &a.to_string()), ("to", &b.to_string())])
        }
    };
    match n.kind {
        NodeKind::You => t("ui.trace.you").to_string(),
        NodeKind::Hop | NodeKind::Silent | NodeKind::Gap => hops(n.ttls),
        NodeKind::Target if n.reached => tf("ui.trace.target_at", &[("n", &n.ttls.0.to_string())]),
        NodeKind::Target => t("ui.trace.target_node").to_string(),
    }
}

/// A box's second and third lines: the address, and what it answered and when.
fn body(n: &Node) -> (String, String) {
    let addr = n.addr.map(|a| a.to_string()).unwrap_or_default();
    let answer = |n: &Node| {
        let what = match n.icmp.as_deref() {
            Some("time-exceeded") => t("ui.trace.icmp_time_exceeded"),
            Some("unreachable") => t("ui.trace.icmp_unreachable"),
            Some("tcp") => t("ui.trace.icmp_tcp"),
            Some(other) => other,
            None => "",
        };
        match n.rtt_us {
            Some(us) => format!("{what} · {:.3} ms", us as f64 / 1000.0),
            None => what.to_string(),
        }
    };
    match n.kind {
        NodeKind::You => (addr, String::new()),
        NodeKind::Hop => (addr, answer(n)),
        NodeKind::Silent => (t("ui.trace.no_answer").to_string(), String::new()),
        NodeKind::Gap => (t("ui.trace.not_listed").to_string(), String::new()),
        NodeKind::Target if n.reached => (addr, answer(n)),
        NodeKind::Target => (addr, t("ui.trace.not_reached").to_string()),
    }
}

/// The x of box `i`'s left edge, from the picture's left.
fn node_x(i: usize) -> f32 {
    PAD + i as f32 * (NODE.x + GAP)
}

/// A label in `rect`, cut with "…" when too long (the whole text on hover).
fn put_label(ui: &mut Ui, rect: Rect, text: RichText, align: Align) {
    let mut child = ui.new_child(UiBuilder::new().max_rect(rect).layout(Layout::top_down(align)));
    child.set_clip_rect(rect.intersect(ui.clip_rect()));
    let whole = text.text().to_string();
    let r = child.add(egui::Label::new(text).truncate().selectable(false));
    if r.rect.width() >= rect.width() - 1.0 {
        r.on_hover_text(whole);
    }
}

/// The y of lane `k`'s top, from the picture's top.
fn lane_y(k: usize) -> f32 {
    NODE.y + 12.0 + k as f32 * LANE_H
}

/// The port names at the left, then the chain and the lanes in a strip that scrolls sideways when the path is
/// longer than the window (the names stay in view).
pub fn picture(ui: &mut Ui, r: &TraceReport) {
    let nodes = path::nodes(r);
    let lanes = path::lanes(r, &nodes);
    let n = nodes.len();
    let width = node_x(n.saturating_sub(1)) + NODE.x + RIGHT;
    let height = lane_y(lanes.len());
    ui.horizontal_top(|ui| {
        let (gutter, _) = ui.allocate_exact_size(Vec2::new(GUTTER, height), Sense::hover());
        for (k, lane) in lanes.iter().enumerate() {
            let name = Rect::from_min_size(gutter.min + Vec2::new(0.0, lane_y(k)), Vec2::new(GUTTER - 6.0, LANE_H));
            let port = tf("ui.trace.port", &[("port", &lane.port.to_string())]);
            put_label(ui, name, RichText::new(port).color(text_color(ui, lane.verdict)), Align::Min);
        }
        chain(ui, &nodes, &lanes, Vec2::new(width, height));
    });
}

/// The boxes with arrows between them, and the lanes under them, in a strip that scrolls sideways.
fn chain(ui: &mut Ui, nodes: &[Node], lanes: &[Lane], size: Vec2) {
    let n = nodes.len();
    // A path wider than the window shows a solid scroll bar at all times (egui's default bar only appears under
    // the pointer), so the cut at the right reads as "more this way".
    if size.x > ui.available_width() {
        ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
    }
    egui::ScrollArea::horizontal().id_salt("trace-path").show(ui, |ui| {
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let palette = theme::colors(ui.ctx());
        let p = ui.painter_at(rect);
        let origin = rect.min;
        // Faint guides from each box down through the lanes, so a lane's end reads against its box.
        for i in 0..n {
            let x = origin.x + node_x(i) + NODE.x / 2.0;
            let guide = Stroke::new(1.0, palette.muted.gamma_multiply(0.35));
            p.line_segment([Pos2::new(x, origin.y + NODE.y), Pos2::new(x, rect.bottom())], guide);
        }
        for (i, node) in nodes.iter().enumerate() {
            let b = Rect::from_min_size(origin + Vec2::new(node_x(i), 0.0), NODE);
            let stroke_color = match node.kind {
                NodeKind::You => palette.crafted,
                NodeKind::Hop => palette.icmp,
                NodeKind::Silent | NodeKind::Gap => palette.muted,
                NodeKind::Target if node.reached => palette.peer,
                NodeKind::Target => palette.muted,
            };
            p.rect_filled(b, 6.0, ui.visuals().faint_bg_color);
            if matches!(node.kind, NodeKind::Silent | NodeKind::Gap) || !node.reached {
                dashed_box(&p, b, Stroke::new(1.5, stroke_color));
            } else {
                p.rect_stroke(b, 6.0, Stroke::new(1.5, stroke_color), egui::StrokeKind::Inside);
            }
            let inner = b.shrink2(Vec2::new(6.0, 4.0));
            let (addr, answer) = body(node);
            let weak = matches!(node.kind, NodeKind::Silent | NodeKind::Gap) || !node.reached;
            let line = |s: String| if weak { RichText::new(s).weak() } else { RichText::new(s) };
            let row =
                |k: f32| Rect::from_min_size(inner.min + Vec2::new(0.0, k * 18.0), Vec2::new(inner.width(), 18.0));
            put_label(ui, row(0.0), RichText::new(title(node)).strong().color(stroke_color), Align::Center);
            put_label(ui, row(1.0), line(addr).size(12.5), Align::Center);
            put_label(ui, row(2.0), line(answer).size(11.5), Align::Center);
            if i + 1 < n {
                let y = b.center().y;
                let stroke = Stroke::new(1.5, palette.muted);
                p.arrow(Pos2::new(b.right() + 3.0, y), Vec2::new(GAP - 6.0, 0.0), stroke);
            }
        }
        for (k, lane) in lanes.iter().enumerate() {
            lane_row(ui, &p, origin.x, origin.y + lane_y(k), lane, palette.error);
        }
    });
}

/// A box outlined in dashes: nothing (or nothing known) answered there.
fn dashed_box(p: &egui::Painter, b: Rect, stroke: Stroke) {
    let corners = [b.left_top(), b.right_top(), b.right_bottom(), b.left_bottom(), b.left_top()];
    p.extend(egui::Shape::dashed_line(&corners, stroke, 6.0, 4.0));
}

/// One port's lane: a line from you as far as its probes got, a barrier where they died, its verdict.
fn lane_row(ui: &mut Ui, p: &egui::Painter, left: f32, top: f32, lane: &Lane, barrier: Color32) {
    let c = line_color(ui, color(lane.verdict));
    let text = text_color(ui, lane.verdict);
    let y = top + LANE_H / 2.0;
    let start = left + node_x(0) + NODE.x / 2.0;
    let end = left + node_x(lane.reach) + NODE.x / 2.0;
    let mut tip = end;
    if lane.reach > 0 {
        p.line_segment([Pos2::new(start, y), Pos2::new(end, y)], Stroke::new(3.0, c));
    }
    p.circle_filled(Pos2::new(start, y), 4.0, c);
    if let Some(after) = lane.barrier_after {
        // The barrier halfway to the next box: the probes got past that box and no further.
        let x = left + node_x(after) + NODE.x + GAP / 2.0;
        p.line_segment(
            [Pos2::new(end, y), Pos2::new(x, y)],
            Stroke::new(3.0, c.gamma_multiply(if ui.visuals().dark_mode { 0.5 } else { 0.7 })),
        );
        p.line_segment([Pos2::new(x, top + 3.0), Pos2::new(x, top + LANE_H - 3.0)], Stroke::new(5.0, barrier));
        tip = x + 4.0;
    } else if lane.reach > 0 {
        p.circle_filled(Pos2::new(end, y), 5.0, c);
        tip = end + 4.0;
    }
    let badge = Rect::from_min_size(Pos2::new(tip + 6.0, top), Vec2::new(RIGHT + GAP, LANE_H));
    // A reset that probably did not come from the host is marked here too (the words are under the picture).
    let mark = if lane.forged_before.is_some() { " ⚠" } else { "" };
    put_label(
        ui,
        badge,
        RichText::new(format!("{}{mark}", verdict_name(lane.verdict))).color(text).strong(),
        Align::Min,
    );
}

/// Each port's evidence in words, wrapped: where its answer came from and with what TTL, or where it was
/// blocked, and a warning on a reset that probably did not come from the host.
pub fn details(ui: &mut Ui, r: &TraceReport) {
    let nodes = path::nodes(r);
    let warning = theme::colors(ui.ctx()).warning;
    for lane in path::lanes(r, &nodes) {
        let c = text_color(ui, lane.verdict);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(tf("ui.trace.port", &[("port", &lane.port.to_string())])).strong().color(c));
            ui.label(RichText::new(verdict_name(lane.verdict)).color(c));
            ui.label(evidence(&lane));
            if let Some(n) = lane.forged_before {
                ui.label(RichText::new(format!("⚠ {}", tn("ui.trace.forged", u64::from(n), &[]))).color(warning));
            }
        });
    }
}

/// A lane's evidence: "at hop 2 · from 203.0.113.2 · reply TTL 63", or where it was blocked.
pub fn evidence(lane: &Lane) -> String {
    match (lane.verdict, lane.blocked_after, lane.answered_at) {
        (Verdict::Filtered, Some(h), _) => tf("ui.trace.blocked_after", &[("n", &h.to_string())]),
        (Verdict::Filtered, None, _) => t("ui.trace.nothing_answered").to_string(),
        (_, _, Some(at)) => {
            let mut parts = vec![tf("ui.trace.at_hop", &[("n", &at.to_string())])];
            if let Some(a) = lane.answered_by {
                parts.push(tf("ui.trace.from", &[("addr", &a.to_string())]));
            }
            if let Some(ttl) = lane.reply_ttl {
                parts.push(tf("ui.trace.reply_ttl", &[("ttl", &ttl.to_string())]));
            }
            parts.join(" · ")
        }
        _ => String::new(),
    }
}
