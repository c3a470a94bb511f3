//! The event table: one row per event; a click anywhere on a row selects its event (as a click on its arrow
//! does), a right click opens the event's menu. Seq/ack columns are wide enough for any 32-bit number.

use egui::{Sense, Ui};
use egui_extras::{Column, TableBuilder};

use super::{event_menu, origin_color, origin_name};
use crate::exchange::TimelineEvent;
use crate::i18n::t;
use crate::ui::action::Action;

/// The event table; a clicked row becomes [`Action::SelectEvent`].
pub fn table(ui: &mut Ui, events: &[TimelineEvent], absolute: bool, selected: Option<usize>, out: &mut Vec<Action>) {
    // Cells are words, not selectable text: a selectable label would take the click meant for the row.
    ui.style_mut().interaction.selectable_labels = false;
    TableBuilder::new(ui)
        .id_salt("events-table")
        .striped(true)
        .sense(Sense::click())
        .column(Column::exact(34.0))
        .column(Column::exact(52.0))
        .column(Column::exact(70.0))
        .column(Column::exact(92.0))
        .column(Column::exact(84.0))
        .column(Column::exact(84.0))
        .column(Column::exact(34.0))
        .column(Column::exact(48.0))
        .column(Column::remainder().at_least(160.0).clip(true))
        .header(18.0, |mut h| {
            let origin = t("ui.timeline.col_origin");
            let (flags, note) = (t("ui.timeline.col_flags"), t("ui.timeline.col_note"));
            let (ms, len, rtt) = (t("ui.timeline.col_ms"), t("ui.timeline.col_len"), t("ui.timeline.col_rtt"));
            for name in ["#", ms, origin, flags, "seq", "ack", len, rtt, note] {
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
                    ui.colored_label(origin_color(ui.ctx(), e.origin), origin_name(e.origin));
                });
                let (flags, seq, ack, len) = match &e.segment {
                    Some(s) if absolute => (s.tcp.flags.wireshark(), s.tcp.seq, s.tcp.ack, s.payload.len()),
                    Some(s) => (s.tcp.flags.wireshark(), e.rel_seq, e.rel_ack, s.payload.len()),
                    None => ("ICMP".into(), 0, 0, 0),
                };
                for text in [flags, seq.to_string(), ack.to_string(), len.to_string()] {
                    row.col(|ui| {
                        ui.label(text);
                    });
                }
                row.col(|ui| {
                    ui.label(e.rtt_us.map(|r| format!("{:.3}", r as f64 / 1000.0)).unwrap_or_default());
                });
                row.col(|ui| {
                    // A cut note shows itself whole on hover (egui does that for a truncated label): one tooltip.
                    ui.add(egui::Label::new(e.note.render()).truncate());
                });
                let resp = row.response();
                if resp.clicked() {
                    out.push(Action::SelectEvent(i));
                }
                event_menu(&resp, i, e, out);
            });
        });
}
