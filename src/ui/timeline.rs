//! The timeline panel: a ladder diagram (client lane, server lane, one arrow per segment, coloured by origin,
//! ✓/✗ where an expectation judged it), the selected event's details, and a table of the same events. The ladder
//! and the table draw only the visible rows, so 100,000 events stay smooth.

use egui::{Align2, Color32, FontId, Pos2, RichText, Sense, Stroke, Ui, Vec2};
use egui_extras::{Column, TableBuilder};

use super::action::Action;
use crate::exchange::{Dir, StepVerdict, TimelineEvent};
use crate::i18n::{t, tf};
use crate::link::Origin;
use crate::wire;

/// Height of one ladder row.
pub const ROW_H: f32 = 30.0;

/// The colour of an origin.
pub fn origin_color(o: Origin) -> Color32 {
    match o {
        Origin::Crafted => Color32::from_rgb(0xff, 0xd1, 0x66),
        Origin::Peer => Color32::from_rgb(0x06, 0xd6, 0xa0),
        Origin::LocalKernel => Color32::from_rgb(0xef, 0x47, 0x6f),
        Origin::Icmp => Color32::from_rgb(0xb3, 0x88, 0xff),
    }
}

/// The name of an origin, in the current language.
pub fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::Crafted => t("ui.origin.crafted"),
        Origin::Peer => t("ui.origin.peer"),
        Origin::LocalKernel => t("ui.origin.kernel"),
        Origin::Icmp => "ICMP",
    }
}

/// The arrow label: flags, seq/ack (relative or absolute), length, RTT.
pub fn label(e: &TimelineEvent, absolute: bool) -> String {
    match (&e.segment, &e.icmp) {
        (Some(s), _) => {
            let (seq, ack) = if absolute { (s.tcp.seq, s.tcp.ack) } else { (e.rel_seq, e.rel_ack) };
            let mut l = format!("{} seq={seq}", s.tcp.flags.wireshark());
            if s.tcp.flags.ack {
                l += &format!(" ack={ack}");
            }
            if !s.payload.is_empty() {
                l += &format!(" len={}", s.payload.len());
            }
            if let Some(r) = e.rtt_us {
                l += &format!("  rtt {:.3} ms", r as f64 / 1000.0);
            }
            l
        }
        (None, Some(i)) => format!("ICMP {}", i.describe()),
        (None, None) => "?".into(),
    }
}

/// The ✓/✗ mark of an event, if a verdict points at it.
fn mark(verdicts: &[StepVerdict], i: usize) -> Option<(bool, usize)> {
    verdicts.iter().find(|v| v.event == Some(i)).map(|v| (v.pass, v.step))
}

/// Draws the ladder; returns the index of a clicked arrow.
pub fn ladder(
    ui: &mut Ui,
    events: &[TimelineEvent],
    verdicts: &[StepVerdict],
    absolute: bool,
    selected: Option<usize>,
    height: f32,
) -> Option<usize> {
    let mut clicked = None;
    ui.horizontal(|ui| {
        let w = ui.available_width();
        ui.label(egui::RichText::new(t("ui.timeline.client")).strong());
        ui.add_space((w - 220.0).max(0.0));
        ui.label(egui::RichText::new(t("ui.timeline.server")).strong());
    });
    egui::ScrollArea::vertical()
        .id_salt("ladder")
        .max_height(height)
        .stick_to_bottom(true)
        .auto_shrink([false, false])
        .show_rows(ui, ROW_H, events.len(), |ui, range| {
            for i in range {
                let e = &events[i];
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(ui.available_width(), ROW_H), Sense::click());
                let p = ui.painter_at(rect);
                let left = rect.left() + 70.0;
                let right = rect.right() - 60.0;
                let lane = Stroke::new(2.0, Color32::from_gray(120));
                p.line_segment([Pos2::new(left, rect.top()), Pos2::new(left, rect.bottom())], lane);
                p.line_segment([Pos2::new(right, rect.top()), Pos2::new(right, rect.bottom())], lane);
                if selected == Some(i) || resp.hovered() {
                    p.rect_filled(rect, 3.0, Color32::from_white_alpha(if selected == Some(i) { 24 } else { 10 }));
                }
                p.text(
                    Pos2::new(rect.left() + 2.0, rect.center().y),
                    Align2::LEFT_CENTER,
                    format!("{:.3}", e.t_us as f64 / 1000.0),
                    FontId::monospace(11.0),
                    Color32::GRAY,
                );
                let color = origin_color(e.origin);
                let y0 = rect.top() + ROW_H * 0.55;
                let y1 = rect.top() + ROW_H * 0.85;
                let (from, to) = match e.dir {
                    Dir::Out => (Pos2::new(left, y0), Pos2::new(right, y1)),
                    Dir::In => (Pos2::new(right, y0), Pos2::new(left, y1)),
                };
                p.arrow(from, to - from, Stroke::new(2.0, color));
                // The label fits between the lanes: a smaller font on a narrow timeline (the row clips the rest).
                let text = label(e, absolute);
                let room = (right - left - 8.0).max(1.0);
                let wide = p.layout_no_wrap(text.clone(), FontId::proportional(12.0), color).size().x;
                let size = if wide > room { (12.0 * room / wide).max(9.0) } else { 12.0 };
                p.text(
                    Pos2::new((left + right) / 2.0, rect.top() + 2.0),
                    Align2::CENTER_TOP,
                    text,
                    FontId::proportional(size),
                    color,
                );
                if let Some((pass, step)) = mark(verdicts, i) {
                    let (t, c) = if pass {
                        ("✔", Color32::from_rgb(0x06, 0xd6, 0xa0))
                    } else {
                        ("✖", Color32::from_rgb(0xef, 0x47, 0x6f))
                    };
                    p.text(
                        Pos2::new(right + 8.0, rect.center().y),
                        Align2::LEFT_CENTER,
                        format!("{t} {}", step + 1),
                        FontId::proportional(14.0),
                        c,
                    );
                }
                let resp = resp.on_hover_text(e.note.render());
                if resp.clicked() {
                    clicked = Some(i);
                }
            }
        });
    clicked
}

/// The event table; returns the index of a clicked row.
pub fn table(ui: &mut Ui, events: &[TimelineEvent], absolute: bool, selected: Option<usize>) -> Option<usize> {
    let mut clicked = None;
    TableBuilder::new(ui)
        .id_salt("events-table")
        .striped(true)
        .sense(Sense::click())
        .column(Column::exact(34.0))
        .column(Column::exact(52.0))
        .column(Column::exact(70.0))
        .column(Column::exact(92.0))
        .column(Column::exact(62.0))
        .column(Column::exact(62.0))
        .column(Column::exact(28.0))
        .column(Column::exact(44.0))
        .column(Column::remainder().at_least(120.0).clip(true))
        .header(18.0, |mut h| {
            let origin = t("ui.timeline.col_origin");
            let (flags, note) = (t("ui.timeline.col_flags"), t("ui.timeline.col_note"));
            for name in ["#", "ms", origin, flags, "seq", "ack", "len", "rtt", note] {
                h.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, events.len(), |mut row| {
                let i = row.index();
                let e = &events[i];
                row.set_selected(selected == Some(i));
                row.col(|ui| {
                    ui.label(i.to_string());
                });
                row.col(|ui| {
                    ui.label(format!("{:.3}", e.t_us as f64 / 1000.0));
                });
                row.col(|ui| {
                    ui.colored_label(origin_color(e.origin), origin_name(e.origin));
                });
                let (flags, seq, ack, len) = match &e.segment {
                    Some(s) if absolute => (s.tcp.flags.wireshark(), s.tcp.seq, s.tcp.ack, s.payload.len()),
                    Some(s) => (s.tcp.flags.wireshark(), e.rel_seq, e.rel_ack, s.payload.len()),
                    None => ("ICMP".into(), 0, 0, 0),
                };
                row.col(|ui| {
                    ui.label(flags);
                });
                row.col(|ui| {
                    ui.label(seq.to_string());
                });
                row.col(|ui| {
                    ui.label(ack.to_string());
                });
                row.col(|ui| {
                    ui.label(len.to_string());
                });
                row.col(|ui| {
                    ui.label(e.rtt_us.map(|r| format!("{:.3}", r as f64 / 1000.0)).unwrap_or_default());
                });
                row.col(|ui| {
                    let note = e.note.render();
                    ui.add(egui::Label::new(note.as_str()).truncate()).on_hover_text(note);
                });
                if row.response().clicked() {
                    clicked = Some(i);
                }
            });
        });
    clicked
}

/// What the timeline panel shows.
pub struct TimelineView<'a> {
    /// The current job's events.
    pub events: &'a [TimelineEvent],
    /// The current job's verdicts.
    pub verdicts: &'a [StepVerdict],
    /// The selected event.
    pub selected: Option<usize>,
    /// A job is going (no import meanwhile).
    pub running: bool,
}

/// The whole panel: buttons, legend, ladder, the selected event's details, table. `absolute` is the seq/ack
/// toggle (persisted by the app).
pub fn panel(ui: &mut Ui, view: &TimelineView<'_>, absolute: &mut bool, out: &mut Vec<Action>) {
    // Rows that wrap: a narrow timeline puts its buttons on two lines rather than hiding some.
    ui.horizontal_wrapped(|ui| {
        ui.heading(t("ui.timeline.heading"));
        ui.checkbox(absolute, t("ui.timeline.absolute"));
        if ui.add_enabled(!view.events.is_empty(), egui::Button::new(t("ui.timeline.export_pcap"))).clicked() {
            out.push(Action::ExportPcap);
        }
        if ui.add_enabled(!view.running, egui::Button::new(t("ui.timeline.import_pcap"))).clicked() {
            out.push(Action::ImportPcap);
        }
        let draft = ui.add_enabled(!view.events.is_empty(), egui::Button::new(t("ui.timeline.draft")));
        if draft.on_hover_text(t("ui.timeline.draft_tip")).clicked() {
            out.push(Action::DraftPreset);
        }
    });
    ui.horizontal_wrapped(|ui| {
        for o in [Origin::Crafted, Origin::Peer, Origin::LocalKernel, Origin::Icmp] {
            ui.colored_label(origin_color(o), format!("■ {}", origin_name(o)));
        }
    });
    // The height is shared out so that the ladder, the selected event's details and the table are all on show at
    // once, each scrolling inside its own share; the table always keeps a few rows.
    let avail = ui.available_height();
    let selected = view.selected.and_then(|i| view.events.get(i).map(|e| (i, e)));
    let ladder_share = if selected.is_some() { 0.38 } else { 0.45 };
    let h = (avail * ladder_share).max(120.0);
    if let Some(i) = ladder(ui, view.events, view.verdicts, *absolute, view.selected, h) {
        out.push(Action::SelectEvent(i));
    }
    ui.separator();
    if let Some((i, e)) = selected {
        egui::ScrollArea::vertical()
            .id_salt("event-details")
            .auto_shrink([false, true])
            .max_height((avail * 0.32).max(100.0))
            .show(ui, |ui| details(ui, i, e, *absolute, out));
        ui.separator();
    }
    // The table is wider than a narrow timeline: it scrolls sideways there instead of widening the panel.
    let table_click = egui::ScrollArea::horizontal()
        .id_salt("events-table-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| table(ui, view.events, *absolute, view.selected))
        .inner;
    if let Some(i) = table_click {
        out.push(Action::SelectEvent(i));
    }
}

/// The selected event: a button that puts its segment into the editor, its note, the explanations it points to,
/// and its parsed fields and anomalies (values wrap at the panel's width).
pub fn details(ui: &mut Ui, i: usize, e: &TimelineEvent, absolute: bool, out: &mut Vec<Action>) {
    let title = tf("ui.timeline.event", &[("i", &i.to_string()), ("label", &label(e, absolute))]);
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(title).strong());
        if e.segment.is_some() && ui.button(t("ui.timeline.craft_from")).clicked() {
            out.push(Action::CraftFrom(i));
        }
    });
    ui.label(e.note.render());
    for topic in crate::exchange::notes::topics(&e.note.key) {
        egui::CollapsingHeader::new(t(&format!("explain.title.{topic}")))
            .id_salt(("explain", *topic))
            .show(ui, |ui| ui.label(t(&format!("explain.{topic}"))));
    }
    let Some(seg) = &e.segment else { return };
    egui::CollapsingHeader::new(t("ui.timeline.parsed_fields")).id_salt("event-fields").show(ui, |ui| {
        // Values wrap at the panel's width (a 72-byte payload is one long value), and whatever still does not fit
        // scrolls: the fields never widen the panel.
        egui::ScrollArea::horizontal().id_salt("event-fields-scroll").auto_shrink([false, true]).show(ui, |ui| {
            egui::Grid::new("event-fields-grid").num_columns(2).striped(true).show(ui, |ui| {
                for f in wire::fields::fields(seg) {
                    let help = super::help::field(f.key);
                    let key = ui.monospace(f.key);
                    if !help.is_empty() {
                        key.on_hover_text(help);
                    }
                    ui.add(egui::Label::new(f.value.to_string()).wrap());
                    ui.end_row();
                }
                for a in &seg.anomalies {
                    ui.label(t("ui.timeline.anomaly"));
                    ui.add(egui::Label::new(a.to_string()).wrap());
                    ui.end_row();
                }
            });
        });
    });
}
