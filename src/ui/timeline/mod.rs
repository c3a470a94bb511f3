//! The timeline panel: a ladder diagram (client lane, server lane, one arrow per segment, coloured by origin, its
//! note written under it, a labelled ✓/✗ where an expectation judged it), the selected event's details and bytes,
//! and a table of the same events. A click on an arrow or a row selects the same event; a right click offers
//! copies and "craft from this". The ladder and the table draw only the visible rows, so 100,000 events stay
//! smooth.

pub mod command;
mod details;
mod ladder;
mod table;

use egui::{Color32, Event, Id, Key, RichText, Ui};

use super::action::Action;
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::t;
use crate::link::Origin;

/// The colour of an origin, in the theme on show.
pub fn origin_color(ctx: &egui::Context, o: Origin) -> Color32 {
    let p = crate::ui::theme::colors(ctx);
    match o {
        Origin::Crafted => p.crafted,
        Origin::Peer => p.peer,
        Origin::LocalKernel => p.kernel,
        Origin::Icmp => p.icmp,
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
            // Sent in fragments: how many (the details list them).
            if !e.fragments.is_empty() {
                l += &format!(" ✂{}", e.fragments.len());
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
    /// Both ends' TCP states after each event.
    pub states: &'a [crate::exchange::states::States],
    /// What Run would do now, for the empty timeline's hint: the preset's name, its step count, and where its
    /// segments go. `None` when no preset is chosen.
    pub next_run: Option<(&'a str, usize, String)>,
}

/// The whole panel: buttons, legend, ladder, the selected event's details, table. `absolute` is the seq/ack
/// toggle (persisted by the app). Ctrl+C copies the selected event's bytes as hex.
pub fn panel(ui: &mut Ui, view: &TimelineView<'_>, absolute: &mut bool, out: &mut Vec<Action>) {
    let notes_id = Id::unique("timeline-notes");
    let mut notes = ui.data_mut(|d| *d.get_persisted_mut_or(notes_id, true));
    // Rows that wrap: a narrow timeline puts its buttons on two lines rather than hiding some.
    ui.horizontal_wrapped(|ui| {
        ui.heading(t("ui.timeline.heading"));
        ui.checkbox(absolute, t("ui.timeline.absolute"));
        ui.checkbox(&mut notes, t("ui.timeline.notes"));
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
    ui.data_mut(|d| {
        d.insert_persisted(notes_id, notes);
        d.insert_temp(Id::unique(ABSOLUTE_ID), *absolute);
    });
    ui.horizontal_wrapped(|ui| {
        for o in [Origin::Crafted, Origin::Peer, Origin::LocalKernel, Origin::Icmp] {
            ui.colored_label(origin_color(ui.ctx(), o), format!("■ {}", origin_name(o)));
        }
        ui.weak(t("ui.timeline.states")).on_hover_text(t("ui.timeline.states_legend"));
    });
    let selected = view.selected.and_then(|i| view.events.get(i).map(|e| (i, e)));
    if let Some((_, e)) = selected {
        copy_on_ctrl_c(ui, e);
    }
    if view.events.is_empty() && !view.running {
        ui.add_space(12.0);
        let hint = match &view.next_run {
            Some((name, n, dest)) => {
                crate::i18n::tn("ui.timeline.empty_preset", *n as u64, &[("name", name), ("dest", dest)])
            }
            None => t("ui.timeline.empty").to_owned(),
        };
        ui.label(RichText::new(hint).size(15.0));
        return;
    }
    // The height is shared out so that the ladder, the selected event's details and the table are all on show at
    // once, each scrolling inside its own share; the table always keeps a few rows.
    let avail = ui.available_height();
    let ladder_share = if selected.is_some() { 0.38 } else { 0.45 };
    // A short exchange is shown whole when it fits in 60% of the height (no arrow cut by the scroll edge).
    let row_h = if notes { ladder::ROW_H_NOTES } else { ladder::ROW_H };
    let needed = view.events.len() as f32 * row_h + 4.0;
    let fits = if needed <= avail * 0.6 { needed } else { 0.0 };
    let h = (avail * ladder_share).max(fits).max(120.0);
    let lv = ladder::LadderView {
        events: view.events,
        verdicts: view.verdicts,
        absolute: *absolute,
        notes,
        states: view.states,
    };
    ladder::ladder(ui, &lv, view.selected, h, out);
    ui.separator();
    if let Some((i, e)) = selected {
        egui::ScrollArea::vertical()
            .id_salt("event-details")
            .auto_shrink([false, true])
            .max_height((ui.available_height() - 140.0).clamp(100.0, avail * 0.5))
            .show(ui, |ui| details::details(ui, i, e, *absolute, out));
        ui.separator();
    }
    // The table is wider than a narrow timeline: it scrolls sideways there instead of widening the panel.
    egui::ScrollArea::horizontal()
        .id_salt("events-table-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| table::table(ui, view.events, *absolute, view.selected, out));
}

/// Where the panel leaves its seq/ack mode for the step-through pane (egui temp data).
const ABSOLUTE_ID: &str = "timeline-absolute";

/// Whether the timeline shows absolute seq/ack (as the panel last drew it): step-through follows it.
pub fn absolute_mode(ctx: &egui::Context) -> bool {
    ctx.data(|d| d.get_temp::<bool>(Id::unique(ABSOLUTE_ID))).unwrap_or(false)
}

/// An event's bytes as one hex string.
pub fn hex_of(e: &TimelineEvent) -> String {
    hex::encode(&e.bytes)
}

/// Ctrl+C (or the platform's copy) while no text field takes typing copies the selected event's hex.
fn copy_on_ctrl_c(ui: &Ui, e: &TimelineEvent) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let copy = ui.input(|i| {
        i.events.iter().any(|ev| match ev {
            Event::Copy => true,
            Event::Key { key: Key::C, pressed: true, modifiers, .. } => modifiers.command,
            _ => false,
        })
    });
    if copy {
        ui.ctx().copy_text(hex_of(e));
    }
}

/// The right-click menu of an event (a ladder arrow or a table row): copy hex, copy as a command, craft from it.
pub fn event_menu(resp: &egui::Response, i: usize, e: &TimelineEvent, out: &mut Vec<Action>) {
    resp.context_menu(|ui| {
        if ui.button(t("ui.timeline.copy_hex")).clicked() {
            ui.ctx().copy_text(hex_of(e));
            ui.close();
        }
        if let Some((label, cmd)) = command::event_command(e) {
            if ui.button(t(label)).clicked() {
                ui.ctx().copy_text(cmd);
                ui.close();
            }
        }
        if e.segment.is_some() && ui.button(t("ui.timeline.craft_from")).clicked() {
            out.push(Action::CraftFrom(i));
            ui.close();
        }
    });
}
