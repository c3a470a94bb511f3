//! The selected event: its note and explanations, its bytes (copyable) and its parsed fields. Hovering a field
//! lights its bytes, and hovering a byte lights its field, as in Wireshark.

use egui::{Id, RichText, Ui};

use super::{command, hex_of, label};
use crate::exchange::TimelineEvent;
use crate::i18n::{t, tf};
use crate::ui::action::Action;
use crate::wire;

/// The selected event: buttons (craft from this, copy hex, copy as a command), its note, the explanations it
/// points to, its parsed fields and anomalies (values wrap at the panel's width), and its bytes.
pub fn details(ui: &mut Ui, i: usize, e: &TimelineEvent, absolute: bool, out: &mut Vec<Action>) {
    let title = tf("ui.timeline.event", &[("i", &i.to_string()), ("label", &label(e, absolute))]);
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(title).strong());
        if e.segment.is_some() && ui.button(t("ui.timeline.craft_from")).clicked() {
            out.push(Action::CraftFrom(i));
        }
        if ui.button(t("ui.timeline.copy_hex")).on_hover_text(t("ui.timeline.copy_hex_tip")).clicked() {
            ui.ctx().copy_text(hex_of(e));
        }
        if let Some((label, cmd)) = command::event_command(e) {
            if ui.button(t(label)).on_hover_text(&cmd).clicked() {
                ui.ctx().copy_text(cmd);
            }
        }
    });
    ui.label(e.note.render());
    if !e.fragments.is_empty() {
        fragments(ui, e);
    }
    for topic in crate::exchange::notes::topics(&e.note.key) {
        egui::CollapsingHeader::new(t(&format!("explain.title.{topic}")))
            .id_salt(("explain", *topic))
            .show(ui, |ui| ui.label(t(&format!("explain.{topic}"))));
    }
    let fields = e.segment.as_ref().map(wire::fields::fields).unwrap_or_default();
    // The field under the pointer last frame, in the bytes or in the fields list.
    let hover_id = Id::unique("event-field-hover");
    let lit: Option<&'static str> = ui.data(|d| d.get_temp(hover_id)).flatten();
    let mut hovered: Option<&'static str> = None;
    if let Some(seg) = &e.segment {
        egui::CollapsingHeader::new(t("ui.timeline.parsed_fields")).id_salt("event-fields").show(ui, |ui| {
            // Values wrap at the panel's width (a 72-byte payload is one long value), and whatever still does not
            // fit scrolls: the fields never widen the panel.
            egui::ScrollArea::horizontal().id_salt("event-fields-scroll").auto_shrink([false, true]).show(ui, |ui| {
                egui::Grid::new("event-fields-grid").num_columns(2).striped(true).show(ui, |ui| {
                    for f in &fields {
                        let mut key = RichText::new(f.key).monospace();
                        if lit == Some(f.key) {
                            let sel = ui.visuals().selection;
                            key = key.background_color(sel.bg_fill).color(sel.stroke.color);
                        }
                        let resp = ui.add(egui::Label::new(key).selectable(false));
                        if resp.hovered() {
                            hovered = Some(f.key);
                        }
                        let help = crate::ui::help::field(f.key);
                        if !help.is_empty() {
                            resp.on_hover_text(help);
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
    let bytes_title = tf("ui.timeline.event_bytes", &[("n", &e.bytes.len().to_string())]);
    egui::CollapsingHeader::new(bytes_title).id_salt("event-bytes").default_open(true).show(ui, |ui| {
        egui::ScrollArea::horizontal().id_salt("event-bytes-scroll").auto_shrink([false, true]).show(ui, |ui| {
            if let Some(k) = crate::ui::bytes::show(ui, &e.bytes, &fields, lit) {
                hovered = Some(k);
            }
        });
    });
    if hovered != lit {
        ui.data_mut(|d| d.insert_temp(hover_id, hovered));
        ui.ctx().request_repaint();
    }
}

/// The fragments a segment went out as, in the order sent: where each sits in the IP payload, and which one is
/// an overlapping copy.
fn fragments(ui: &mut Ui, e: &TimelineEvent) {
    let title = tf("ui.timeline.fragments", &[("n", &e.fragments.len().to_string())]);
    let copy = crate::wire::fragment::copies(e.fragments.iter().map(|f| &f.bytes[..]), &e.bytes);
    // Fragment numbers count from 0 in offset order, as the step editor's overlap field does.
    let mut offsets: Vec<usize> = e.fragments.iter().filter_map(|f| f.info()).map(|i| i.offset).collect();
    offsets.sort_unstable();
    offsets.dedup();
    egui::CollapsingHeader::new(title).id_salt("event-fragments").default_open(true).show(ui, |ui| {
        for (k, f) in e.fragments.iter().enumerate() {
            let Some(info) = f.info() else { continue };
            let more = if info.more { t("ui.timeline.frag_more") } else { "" };
            let dup = if copy.get(k) == Some(&true) { t("ui.timeline.frag_dup") } else { "" };
            let n = offsets.binary_search(&info.offset).unwrap_or_default();
            let row = tf(
                "ui.timeline.frag_row",
                &[
                    ("i", &(k + 1).to_string()),
                    ("n", &n.to_string()),
                    ("len", &info.len.to_string()),
                    ("from", &info.offset.to_string()),
                    ("t", &format!("{:.3}", f.t_us as f64 / 1000.0)),
                    ("more", more),
                    ("dup", dup),
                ],
            );
            ui.add(egui::Label::new(RichText::new(row).monospace()).wrap());
        }
    });
}
