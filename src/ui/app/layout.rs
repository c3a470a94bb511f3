//! Where the panels go: the top bar, the status bar, then the Sweep tab, the Trace tab, or the library (left), the
//! editor with the bytes below it (middle) and the timeline (right, taking whatever width is left). Panels only draw
//! and push [`Action`]s. No panel can squeeze another below its minimum width (`crate::ui::MIN_*_W`): each has a
//! visible splitter whose range leaves the others their minimum, and long content wraps or scrolls inside its own
//! panel instead of widening it. The top bar wraps onto a second row when the window is narrow.

use egui::{RichText, Ui};

use super::{Tab, TcpcraftApp};
use crate::i18n::{self, t, tf, Lang};
use crate::ui::action::Action;
use crate::ui::sweep::SweepAction;
use crate::ui::timeline::TimelineView;
use crate::ui::trace::{self, TraceAction};
use crate::ui::worker::LinkKind;
use crate::ui::{editor, lab, library, status, step, sweep, theme, timeline};
use crate::ui::{MIN_EDITOR_W, MIN_LIBRARY_W, MIN_TIMELINE_W};

impl TcpcraftApp {
    /// Draws every panel and returns what they asked for.
    pub(super) fn layout(&mut self, ui: &mut Ui) -> Vec<Action> {
        let ctx = ui.ctx().clone();
        crate::ui::fit_window_once(&ctx);
        let mut actions = Vec::new();
        self.sync_target();
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar(ui, &mut actions));
        // The target box and the segment's destination are one: an edit of either shows in the other at once.
        self.sync_target();
        let help = egui::Panel::bottom("status-bar").show(ui, |ui| self.status_bar(ui)).inner;
        if help {
            self.rt.show_privileges = true;
        }
        match self.rt.tab {
            Tab::Sweep => {
                egui::CentralPanel::default().show(ui, |ui| self.sweep_tab(ui, &mut actions));
            }
            Tab::Trace => {
                egui::CentralPanel::default().show(ui, |ui| self.trace_tab(ui, &mut actions));
            }
            Tab::Craft => self.craft_tab(ui, &mut actions),
        }
        let mut open = self.rt.show_privileges;
        status::privileges_window(&ctx, &mut open, &self.rt.raw_help);
        self.rt.show_privileges = open;
        actions
    }

    /// The Craft tab: library, editor and timeline side by side, each at least its minimum width.
    fn craft_tab(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        let full = ui.available_rect_before_wrap().width();
        // What the library may take while the other two keep their minimum.
        let lib_max = (full - MIN_EDITOR_W - MIN_TIMELINE_W).clamp(MIN_LIBRARY_W, 360.0);
        let lib = egui::Panel::left("library-panel")
            .resizable(true)
            .show_separator_line(true)
            .default_size((full * 0.16).clamp(MIN_LIBRARY_W, 220.0))
            .size_range(MIN_LIBRARY_W..=lib_max)
            .show(ui, |ui| {
                scroll_both("lib-scroll").show(ui, |ui| {
                    library::show(
                        ui,
                        self.state.preset.as_ref(),
                        self.state.preset_path.as_deref(),
                        &self.rt.users,
                        &self.rt.verdicts,
                        crate::ui::steps::Marks {
                            selected: self.rt.selected_step,
                            pending: self.rt.paused.as_ref().map(|(i, _)| *i),
                        },
                        actions,
                    );
                });
            });
        // The editor, then the timeline in the central panel: the timeline takes every width left over.
        let rest = full - lib.response.rect.width();
        let editor_max = (rest - MIN_TIMELINE_W).max(MIN_EDITOR_W);
        egui::Panel::left("editor-panel")
            .resizable(true)
            .show_separator_line(true)
            .default_size((rest * 0.45).clamp(MIN_EDITOR_W, 560.0))
            .size_range(MIN_EDITOR_W..=editor_max)
            .show(ui, |ui| self.center(ui, actions));
        let silence = self.timeline_notes();
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(text) = silence {
                // Why nothing came back, when the rules say nothing should.
                let color = theme::colors(ui.ctx()).warning;
                ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
                ui.separator();
            }
            let (message, is_error) = &self.rt.message;
            if *is_error && self.rt.events.is_empty() && !self.rt.running && !message.is_empty() {
                // A run that stopped before sending anything: why, in full, where its result was looked for (the
                // status line may cut it short).
                let color = theme::colors(ui.ctx()).error;
                ui.add(egui::Label::new(RichText::new(format!("⚠ {message}")).color(color)).wrap());
                ui.separator();
            }
            let states = self.rt.states.get(&self.rt.events, &self.rt.peer_truth);
            let view = TimelineView {
                events: &self.rt.events,
                states,
                verdicts: &self.rt.verdicts,
                selected: self.rt.selected,
                running: self.rt.running,
                next_run: self.state.preset.as_ref().map(|p| {
                    let dest = match self.state.link {
                        LinkKind::Sim => t("ui.timeline.to_lab_host").to_owned(),
                        LinkKind::Raw => self.state.target.clone(),
                    };
                    (p.name.as_str(), p.steps.len(), dest)
                }),
            };
            timeline::panel(ui, &view, &mut self.state.absolute, actions);
        });
    }

    /// The status bar of the tab on show (each tab has its own line); returns whether its privileges button was
    /// clicked.
    fn status_bar(&self, ui: &mut Ui) -> bool {
        status::bar(ui, &self.status_info(self.link_label()))
    }

    /// The tab whose job runs, when it is not `tab`.
    fn running_elsewhere(&self, tab: Tab) -> Option<Tab> {
        self.rt.job.filter(|_| self.rt.running).map(|j| j.tab()).filter(|t| *t != tab)
    }

    /// When a job of another tab than `tab` runs: that tab's name (its Start waits, and says why).
    fn busy_elsewhere(&self, tab: Tab) -> Option<&'static str> {
        self.running_elsewhere(tab).map(tab_name)
    }

    fn sweep_tab(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        let busy = self.busy_elsewhere(Tab::Sweep);
        let own = self.rt.running && self.rt.job == Some(super::JobKind::Sweep);
        match sweep::show(ui, &mut self.rt.sweep, busy, own) {
            Some(SweepAction::Start) => out.push(Action::StartSweep),
            Some(SweepAction::Stop) => out.push(Action::Stop),
            Some(SweepAction::ExportCsv) => out.push(Action::ExportCsv),
            None => {}
        }
    }

    fn trace_tab(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        if self.rt.trace.preset.is_empty() {
            let (chosen, path) = (self.state.preset.as_ref(), self.state.preset_path.as_deref());
            self.rt.trace.preset = trace::default_preset(chosen, path);
        }
        let busy = self.busy_elsewhere(Tab::Trace);
        let own = self.rt.running && self.rt.job == Some(super::JobKind::Trace);
        match trace::show(ui, &mut self.rt.trace, busy, own) {
            Some(TraceAction::Start) => out.push(Action::StartTrace),
            Some(TraceAction::Stop) => out.push(Action::Stop),
            None => {}
        }
    }

    fn link_label(&self) -> String {
        match self.state.link {
            LinkKind::Sim => t("ui.link.sim").to_string(),
            LinkKind::Raw => {
                let iface = self.state.iface.trim();
                let iface = if iface.is_empty() { t("ui.link.route_iface") } else { iface };
                tf("ui.link.raw_on", &[("iface", iface)])
            }
        }
    }

    /// The top bar: the language menu at the right, everything else wrapping onto more rows when the window is
    /// too narrow for one, so no control ever sits under another.
    fn top_bar(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        // As egui's `Sides::shrink_left`, but the left side wraps instead of shrinking: the language menu is
        // placed first, at the right, and the controls get the width left of it, in as many rows as they need.
        let mut row = ui.available_rect_before_wrap();
        row.max.y = row.min.y + ui.spacing().interact_size.y;
        let right_to_left = egui::Layout::right_to_left(egui::Align::Center);
        let mut right = ui.new_child(egui::UiBuilder::new().max_rect(row).layout(right_to_left));
        language_menu(&mut right, out);
        theme_menu(&mut right, &mut self.state.theme);
        let right = right.min_rect();
        let left_max = row.with_max_x((right.min.x - ui.spacing().item_spacing.x * 2.0).max(row.min.x));
        let wrapped = egui::Layout::left_to_right(egui::Align::Center).with_main_wrap(true);
        let mut left = ui.new_child(egui::UiBuilder::new().max_rect(left_max).layout(wrapped));
        self.top_controls(&mut left, out);
        ui.advance_cursor_after_rect(left.min_rect() | right);
    }

    /// The top bar's controls, left to right. The Craft tab's own (its target, the RST guard and local-peer
    /// choices, Run, Step, Next, Stop, Send one) are shown on that tab only: the Sweep and Trace tabs have their
    /// own targets and Start/Stop. The link, its interface and the seed serve every tab.
    fn top_controls(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        ui.label(RichText::new("tcpcraft").strong().size(16.0));
        for tab in [Tab::Craft, Tab::Sweep, Tab::Trace] {
            ui.selectable_value(&mut self.rt.tab, tab, tab_name(tab));
        }
        self.elsewhere(ui);
        ui.separator();
        let craft = self.rt.tab == Tab::Craft;
        if craft {
            ui.label(t("ui.top.target"));
            ui.add(
                egui::TextEdit::singleline(&mut self.state.target)
                    .desired_width(150.0)
                    .hint_text(t("ui.top.target_hint")),
            )
            .on_hover_text(t("ui.top.target_tip"));
        }
        // A fixed id: the label changes with the language, the open state must not.
        egui::ComboBox::new("link", t("ui.top.link")).selected_text(self.link_label()).show_ui(ui, |ui| {
            ui.selectable_value(&mut self.state.link, LinkKind::Sim, t("ui.link.sim"));
            let raw = ui.add_enabled(
                self.rt.privileges.raw,
                egui::Button::selectable(self.state.link == LinkKind::Raw, t("ui.link.raw_socket")),
            );
            if raw.clicked() {
                self.state.link = LinkKind::Raw;
            }
            if !self.rt.privileges.raw {
                ui.label(RichText::new(t("ui.link.raw_needs_helper")).small());
            }
        });
        if self.state.link == LinkKind::Raw {
            ui.add(
                egui::TextEdit::singleline(&mut self.state.iface).desired_width(70.0).hint_text(t("ui.top.iface_hint")),
            );
            if craft {
                ui.checkbox(&mut self.state.guard, t("ui.top.rst_guard")).on_hover_text(t("ui.top.rst_guard_tip"));
                let peer = ui.checkbox(&mut self.state.local_peer, t("ui.top.local_peer"));
                peer.on_hover_text(t("ui.top.local_peer_tip"));
            }
        }
        crate::ui::link_settings::seed(ui, self.rt.worker.as_mut());
        if craft {
            ui.separator();
            self.run_buttons(ui, out);
        }
    }

    /// A job running (or paused) on another tab than the one on show: said next to the tabs, one click from it.
    fn elsewhere(&mut self, ui: &mut Ui) {
        let Some(tab) = self.running_elsewhere(self.rt.tab) else { return };
        let name = tab_name(tab);
        let text = match &self.rt.paused {
            Some((i, _)) => tf("ui.top.elsewhere_paused", &[("tab", name), ("n", &(i + 1).to_string())]),
            None => tf("ui.top.elsewhere_running", &[("tab", name)]),
        };
        let color = ui.visuals().warn_fg_color;
        let link = ui.add(egui::Button::new(RichText::new(text).color(color)).small());
        if link.on_hover_text(t("ui.top.elsewhere_tip")).clicked() {
            self.rt.tab = tab;
        }
    }

    fn run_buttons(&self, ui: &mut Ui, out: &mut Vec<Action>) {
        let idle = !self.rt.running;
        let has_preset = self.state.preset.is_some();
        let run = ui.add_enabled(idle && has_preset, egui::Button::new(t("ui.top.run")));
        if run.on_hover_text(format!("{} (F5)", t("ui.top.run_tip"))).clicked() {
            out.push(Action::Run { step: false });
        }
        let step = ui.add_enabled(idle && has_preset, egui::Button::new(t("ui.top.step")));
        if step.on_hover_text(format!("{} (F10)", t("ui.top.step_tip"))).clicked() {
            out.push(Action::Run { step: true });
        }
        let next = ui.add_enabled(self.rt.paused.is_some(), egui::Button::new(t("ui.top.next")));
        if next.on_hover_text(format!("{} (F10)", t("ui.top.next"))).clicked() {
            out.push(Action::Next);
        }
        let stop = ui.add_enabled(self.rt.running, egui::Button::new(t("ui.top.stop")));
        if stop.on_hover_text(format!("{} (Esc)", t("ui.top.stop"))).clicked() {
            out.push(Action::Stop);
        }
        let buildable = self.built().is_ok() && !self.rt.editor.bufs.has_errors();
        let send = ui.add_enabled(idle && buildable, egui::Button::new(t("ui.top.send_one")));
        if send.on_hover_text(t("ui.top.send_one_tip")).clicked() {
            out.push(Action::SendOne);
        }
    }

    fn center(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        if let Some((i, spec)) = &self.rt.paused {
            let preset = self.state.preset.as_ref();
            if step::paused(ui, *i, spec, preset, &self.rt.verdicts, &self.rt.events) {
                out.push(Action::Next);
            }
        }
        let bytes_h = 190.0;
        // Both ways: a narrow column scrolls the editor sideways instead of clipping it.
        scroll_both("editor-scroll")
            .auto_shrink([false, true])
            .max_height((ui.available_height() - bytes_h).max(120.0))
            .show(ui, |ui| {
                if let Some(ex) = self.state.preset.as_ref().and_then(|p| p.exercise.as_ref()) {
                    // Graded only after a run of this very lab (not a sweep's, another preset's or an import).
                    let graded = self.lab_grade();
                    lab::show(ui, ex, &mut self.rt.lab, graded.as_ref());
                    ui.add_space(6.0);
                }
                let step = self.rt.selected_step;
                let payload = step.zip(self.state.preset.as_ref()).and_then(|(i, p)| self.step_payload_len(p, i));
                let preset = self.state.preset.as_mut().filter(|p| step.is_some_and(|i| i < p.steps.len()));
                match (preset, step) {
                    (Some(p), Some(i)) => {
                        if ui.button(t("ui.editor.back")).clicked() {
                            out.push(Action::UnselectStep);
                        }
                        crate::ui::steps::step_editor(ui, p, i, payload, &mut self.rt.editor);
                    }
                    _ => {
                        ui.heading(t("ui.editor.heading"));
                        editor::show(ui, &mut self.state.spec, &mut self.rt.editor, self.rt.bytes_hover);
                    }
                }
            });
        ui.separator();
        self.bytes_pane(ui);
    }
}

/// A scroll area for a panel's content: it fills the panel (so the panel keeps its width) and scrolls both ways,
/// so content wider than the panel never widens it.
fn scroll_both(id: &'static str) -> egui::ScrollArea {
    egui::ScrollArea::both().id_salt(id).auto_shrink([false, false])
}

/// The language menu: every language by its own name; a choice becomes [`Action::SetLang`].
fn language_menu(ui: &mut Ui, out: &mut Vec<Action>) {
    let current = i18n::current();
    let mut chosen = current;
    // A fixed id: the label is translated, and the menu must stay open across the switch.
    egui::ComboBox::new("lang", t("ui.top.language")).selected_text(current.native_name()).show_ui(ui, |ui| {
        for lang in Lang::ALL {
            ui.selectable_value(&mut chosen, lang, lang.native_name());
        }
    });
    if chosen != current {
        out.push(Action::SetLang(chosen));
    }
}

/// The theme menu: follow the system, dark or light; a choice is applied at once and remembered.
fn theme_menu(ui: &mut Ui, choice: &mut theme::ThemeChoice) {
    let before = *choice;
    // A fixed id: the label is translated.
    egui::ComboBox::new("theme", t("ui.top.theme")).selected_text(t(choice.label_key())).show_ui(ui, |ui| {
        for c in theme::ThemeChoice::ALL {
            ui.selectable_value(choice, c, t(c.label_key()));
        }
    });
    if *choice != before {
        theme::apply(ui.ctx(), *choice);
    }
}

/// A tab's name, as its button in the top bar says it.
pub fn tab_name(tab: Tab) -> &'static str {
    match tab {
        Tab::Craft => t("ui.tab.craft"),
        Tab::Sweep => t("ui.tab.sweep"),
        Tab::Trace => t("ui.tab.trace"),
    }
}

/// A tab's Start button while a job of another tab runs: says on hover which tab to stop it on.
pub fn waits_for(start: egui::Response, elsewhere: Option<&str>) -> egui::Response {
    match elsewhere {
        Some(tab) => start.on_disabled_hover_text(tf("ui.tab.busy_tip", &[("tab", tab)])),
        None => start,
    }
}
