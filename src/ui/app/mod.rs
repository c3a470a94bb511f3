//! The eframe application, split as rerun's viewer app is: this file holds what is persisted ([`PersistedState`])
//! and the runtime handles ([`Runtime`]); `commands` applies the [`Action`](super::action::Action)s panels emit at the end of the frame;
//! `logic` takes in the worker's news and the dialogs' results; `layout` places the panels. Runs happen on the
//! worker thread, and names are resolved there too: the UI never blocks.
//!
//! Each view owns its state: the Craft tab its timeline, verdicts, lab grade and status line; the Sweep tab its
//! table and status line; the Trace tab its path and status line. A job of one never clears another's.

mod bytes_pane;
mod commands;
mod layout;
mod logic;
pub use layout::{tab_name, waits_for};
pub mod states_cache;

use egui::Ui;

use super::action::Action;
use super::dialogs::Dialogs;
use super::editor::EditorState;
use super::library::{self, UserPresets};
use super::state::{destination, spec_to_target, target_to_spec, PersistedState, STATE_KEY};
use super::worker::{LinkKind, Worker};
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::{self, tf, tn, Lang};
use crate::link::helper;
use crate::link::privileges::RawPrivileges;
use crate::wire::{self, SegmentSpec};

/// Runtime state: nothing here is persisted.
pub struct Runtime {
    worker: Option<Worker>,
    /// Privileges found at start.
    pub privileges: RawPrivileges,
    /// Why raw mode is unavailable and how to enable it (empty when it is available).
    pub raw_help: String,
    /// The Craft tab's timeline: events of its last run, send or import (a sweep leaves it alone).
    pub events: Vec<TimelineEvent>,
    /// The peer's own state after each event, where the link read it (the simulated host); else inferred.
    pub peer_truth: Vec<Option<crate::exchange::states::TcpState>>,
    /// Both ends' states after each event, for the ladder's rails (computed again when events or truth change).
    pub states: states_cache::StatesCache,
    /// Verdicts of the Craft tab's last run (cleared when another preset is chosen).
    pub verdicts: Vec<StepVerdict>,
    /// The Craft timeline and verdicts are a finished run of the preset on show: only then is a lab graded.
    pub ran_preset: bool,
    /// A job is going (one at a time: the worker runs one).
    pub running: bool,
    /// What the job going (or the last one) is.
    pub job: Option<JobKind>,
    /// The step-through pause: the segment about to go out.
    pub paused: Option<(usize, SegmentSpec)>,
    step_mode: bool,
    /// The link the Craft tab's last job used, as the session described it.
    link_desc: String,
    /// The link the Sweep tab's last sweep used.
    sweep_link: String,
    /// The link the Trace tab's last trace used.
    trace_link: String,
    /// The Craft tab's status line: its latest message and whether it is an error.
    pub message: (String, bool),
    /// The Sweep tab's status line.
    pub sweep_message: (String, bool),
    /// The Trace tab's status line.
    pub trace_message: (String, bool),
    /// How each line was composed, so a language switch can compose it again: [Craft, Sweep, Trace].
    said: [Option<Said>; 3],
    /// The selected timeline event.
    pub selected: Option<usize>,
    /// The selected preset step (its template is edited).
    pub selected_step: Option<usize>,
    /// Editor buffers and hover.
    pub editor: EditorState,
    bytes_hover: Option<&'static str>,
    dialogs: Dialogs,
    /// The user's presets ("Mine") and their folder.
    pub users: UserPresets,
    show_privileges: bool,
    dropped: u64,
    /// Which tab the centre shows.
    pub tab: Tab,
    /// Wall-clock time of the current job's start (pcap timestamps count from it).
    pub started: Option<std::time::SystemTime>,
    /// The Sweep tab.
    pub sweep: super::sweep::SweepTab,
    /// The Trace tab.
    pub trace: super::trace::TraceTab,
    /// The lab panel's state (hints opened).
    pub lab: super::lab::LabView,
    /// The target text and the segment's destination as last seen, to tell which of the two was edited.
    last_dest: Option<(String, (std::net::IpAddr, u16))>,
}

/// A status message as its catalog key, count and arguments, and the text it gave.
struct Said {
    key: &'static str,
    count: Option<u64>,
    args: Vec<(&'static str, String)>,
    text: String,
}

impl Said {
    fn compose(&self) -> String {
        let pairs: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match self.count {
            Some(n) => tn(self.key, n, &pairs),
            None => tf(self.key, &pairs),
        }
    }
}

/// What a job is: it tells which view its news belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A preset run (Craft tab).
    Run,
    /// The edited segment sent once (Craft tab).
    SendOne,
    /// A sweep (Sweep tab).
    Sweep,
    /// A trace (Trace tab).
    Trace,
}

impl JobKind {
    /// The tab whose view the job fills.
    pub fn tab(self) -> Tab {
        match self {
            JobKind::Run | JobKind::SendOne => Tab::Craft,
            JobKind::Sweep => Tab::Sweep,
            JobKind::Trace => Tab::Trace,
        }
    }
}

/// The faces of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Craft segments and run presets.
    Craft = 0,
    /// Sweep ports.
    Sweep = 1,
    /// Trace the path to a host, port by port.
    Trace = 2,
}

impl Tab {
    /// Every tab, in the top bar's order.
    pub const ALL: [Tab; 3] = [Tab::Craft, Tab::Sweep, Tab::Trace];
}

/// The app.
pub struct TcpcraftApp {
    /// What is persisted.
    pub state: PersistedState,
    /// What is not.
    pub rt: Runtime,
}

impl TcpcraftApp {
    /// The app with this state; `ctx` is woken from other threads when there is news.
    /// A language the state remembers is applied here.
    pub fn with_state(mut state: PersistedState, ctx: Option<egui::Context>, warning: Option<String>) -> TcpcraftApp {
        if let Some(lang) = state.lang {
            i18n::set(lang);
        }
        // Raw mode is the helper's job: ask it (a spawn and one hello) whether it can.
        let raw = helper::available();
        let privileges = RawPrivileges { raw: raw.is_ok(), admin: raw.is_ok() };
        let raw_help = raw.as_ref().err().map(helper::fallback_message).unwrap_or_default();
        let switched = !privileges.raw && state.link == LinkKind::Raw;
        if switched {
            state.link = LinkKind::Sim;
        }
        let (worker_ok, worker_err) = match Worker::spawn(move || {
            if let Some(c) = &ctx {
                c.request_repaint();
            }
        }) {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let mut app = TcpcraftApp {
            state,
            rt: Runtime {
                worker: worker_ok,
                privileges,
                raw_help,
                events: Vec::new(),
                peer_truth: Vec::new(),
                states: states_cache::StatesCache::default(),
                verdicts: Vec::new(),
                ran_preset: false,
                running: false,
                job: None,
                paused: None,
                step_mode: false,
                link_desc: String::new(),
                sweep_link: String::new(),
                trace_link: String::new(),
                message: (String::new(), false),
                sweep_message: (String::new(), false),
                trace_message: (String::new(), false),
                said: [None, None, None],
                selected: None,
                selected_step: None,
                editor: EditorState::default(),
                bytes_hover: None,
                dialogs: Dialogs::default(),
                users: UserPresets::scan(library::user_dir()),
                show_privileges: false,
                dropped: 0,
                tab: Tab::Craft,
                started: None,
                sweep: super::sweep::SweepTab::default(),
                trace: super::trace::TraceTab::default(),
                lab: super::lab::LabView::default(),
                last_dest: None,
            },
        };
        for tab in Tab::ALL {
            app.say_in(tab, "ui.msg.ready", None, &[], false);
            if switched {
                app.say_in(tab, "ui.msg.raw_unavailable_switched", None, &[], true);
            }
            if let Some(w) = &warning {
                *app.line_mut(tab) = (w.clone(), true);
            }
            if let Some(e) = &worker_err {
                app.say_in(tab, "ui.msg.worker_failed", None, &[("error", e.clone())], true);
            }
        }
        app
    }

    /// The app as eframe creates it: persisted state restored (bad state falls back to defaults, with a warning).
    pub fn new(cc: &eframe::CreationContext<'_>) -> TcpcraftApp {
        super::fonts::install(&cc.egui_ctx);
        let (state, warning) = match cc.storage.and_then(|s| s.get_string(STATE_KEY)) {
            None => (PersistedState::default(), None),
            Some(text) => match ron::from_str::<PersistedState>(&text) {
                Ok(s) => (s, None),
                Err(e) => {
                    let warning = tf("ui.msg.state_unreadable", &[("error", &e.to_string())]);
                    (PersistedState::default(), Some(warning))
                }
            },
        };
        let app = TcpcraftApp::with_state(state, Some(cc.egui_ctx.clone()), warning);
        super::theme::apply(&cc.egui_ctx, app.state.theme);
        app
    }

    /// Shows a message composed from the catalog on the Craft tab's status line (it follows a language switch).
    pub fn say(&mut self, key: &'static str, args: &[(&'static str, String)], error: bool) {
        self.say_in(Tab::Craft, key, None, args, error);
    }

    /// Shows a message on `tab`'s status line; with a `count`, the key is a counted text (`key_one`/`key_other`,
    /// `{n}` filled in).
    pub fn say_in(
        &mut self,
        tab: Tab,
        key: &'static str,
        count: Option<u64>,
        args: &[(&'static str, String)],
        error: bool,
    ) {
        let mut said = Said { key, count, args: args.to_vec(), text: String::new() };
        said.text = said.compose();
        *self.line_mut(tab) = (said.text.clone(), error);
        self.rt.said[tab as usize] = Some(said);
    }

    /// A tab's status line: its message and whether it is an error.
    pub fn line(&self, tab: Tab) -> &(String, bool) {
        match tab {
            Tab::Craft => &self.rt.message,
            Tab::Sweep => &self.rt.sweep_message,
            Tab::Trace => &self.rt.trace_message,
        }
    }

    fn line_mut(&mut self, tab: Tab) -> &mut (String, bool) {
        match tab {
            Tab::Craft => &mut self.rt.message,
            Tab::Sweep => &mut self.rt.sweep_message,
            Tab::Trace => &mut self.rt.trace_message,
        }
    }

    /// Uses tcpcraft's own file dialog from now on, never the system's (tests; the fallback path).
    pub fn use_in_app_dialogs(&mut self) {
        self.rt.dialogs = Dialogs::in_app_only();
    }

    /// The file dialogs (where they start, whether one is open).
    pub fn dialogs(&mut self) -> &mut Dialogs {
        &mut self.rt.dialogs
    }

    /// Keeps the user's presets ("Mine") in `dir` instead of the config directory, and lists them.
    pub fn set_preset_dir(&mut self, dir: std::path::PathBuf) {
        self.rt.users = UserPresets::scan(Some(dir));
    }

    /// Applies the colour theme `choice` and remembers it (as the theme menu does).
    pub fn set_theme(&mut self, choice: super::theme::ThemeChoice, ctx: &egui::Context) {
        self.state.theme = choice;
        super::theme::apply(ctx, choice);
    }

    /// Switches the language of the whole window; `remember` keeps the choice for the next start (the menu
    /// does; `--lang` does not). The status message is composed again in the new language.
    pub fn set_lang(&mut self, lang: Lang, remember: bool) {
        i18n::set(lang);
        if remember {
            self.state.lang = Some(lang);
        }
        for tab in Tab::ALL {
            let Some(mut s) = self.rt.said[tab as usize].take() else { continue };
            // Only while the message on show is still the one composed from the catalog.
            if self.line(tab).0 == s.text {
                s.text = s.compose();
                self.line_mut(tab).0 = s.text.clone();
            }
            self.rt.said[tab as usize] = Some(s);
        }
    }

    /// The datagram the editor describes, or why it cannot be built.
    pub fn built(&self) -> Result<Vec<u8>, String> {
        wire::build(&self.state.spec).map_err(|e| e.to_string())
    }

    /// The whole window's contents (what eframe's `ui` and the tests call): news first, then the panels, then
    /// the actions they emitted.
    pub fn ui_root(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.drain_worker();
        let mut actions = self.shortcuts(&ctx);
        actions.extend(self.layout(ui));
        self.rt.dialogs.ui(&ctx);
        self.take_dialogs();
        for a in actions {
            self.apply(a, &ctx);
        }
    }
}

impl TcpcraftApp {
    /// Keeps the target box and the segment's destination one: whichever changed since the last look is copied
    /// into the other (the target wins at the start and when a preset sets it).
    fn sync_target(&mut self) {
        let dest = destination(&self.state.spec);
        match &self.rt.last_dest {
            Some((target, _)) if *target != self.state.target => {
                if target_to_spec(&self.state.target, &mut self.state.spec) {
                    self.rt.editor.bufs.forget("ip.dst");
                    self.rt.editor.bufs.forget("tcp.dport");
                }
            }
            Some((_, last)) if *last != dest => {
                self.state.target = spec_to_target(&self.state.target, dest, last.0 != dest.0);
            }
            Some(_) => {}
            None => {
                target_to_spec(&self.state.target, &mut self.state.spec);
            }
        }
        self.rt.last_dest = Some((self.state.target.clone(), destination(&self.state.spec)));
    }

    /// Finishes the notes of the Craft timeline: a hand-set ISN is "chosen", not "random"; and once a run is
    /// over, returns why its last segment got no answer, when a rule explains it.
    fn timeline_notes(&mut self) -> Option<String> {
        let preset = self.state.preset.as_ref();
        let send_one = self.rt.job == Some(JobKind::SendOne);
        crate::exchange::notes::mark_chosen_isn(&mut self.rt.events, |step| match step {
            None => send_one,
            Some(i) => match preset.and_then(|p| p.steps.get(i)) {
                Some(crate::preset::Step::Send(t)) if !send_one => t.seq.as_ref().is_some_and(|e| {
                    let names = e.names();
                    !names.iter().any(|n| n == "isn" || n == "random")
                }),
                _ => send_one,
            },
        });
        if self.rt.running || self.rt.events.is_empty() {
            return None;
        }
        let filtered = match self.state.link {
            LinkKind::Sim => preset.and_then(|p| p.sim.clone()).unwrap_or_default().filtered,
            LinkKind::Raw => Vec::new(),
        };
        crate::exchange::notes::silence(&self.rt.events, &filtered).map(|n| n.render())
    }

    /// The keyboard habits, read once per frame: on the Craft tab F5 runs and F10 steps (or sends the paused
    /// segment); Esc stops whatever runs, Ctrl+S saves, Ctrl+O opens. Plain keys are left to a text field that has
    /// the focus; nothing is taken while a file dialog is open.
    fn shortcuts(&self, ctx: &egui::Context) -> Vec<Action> {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let mut out = Vec::new();
        if self.rt.dialogs.in_app_open() {
            return out;
        }
        let idle = !self.rt.running;
        let has_preset = self.state.preset.is_some();
        let typing = ctx.egui_wants_keyboard_input();
        let craft = self.rt.tab == Tab::Craft;
        ctx.input_mut(|i| {
            if !typing && craft {
                if i.consume_key(Modifiers::NONE, Key::F5) && idle && has_preset {
                    out.push(Action::Run { step: false });
                }
                if i.consume_key(Modifiers::NONE, Key::F10) {
                    if self.rt.paused.is_some() {
                        out.push(Action::Next);
                    } else if idle && has_preset {
                        out.push(Action::Run { step: true });
                    }
                }
            }
            if !typing && self.rt.running && i.consume_key(Modifiers::NONE, Key::Escape) {
                out.push(Action::Stop);
            }
            if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::S)) && has_preset {
                out.push(Action::Save { as_new: false });
            }
            if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::O)) {
                out.push(Action::OpenDialog);
            }
        });
        out
    }
}

impl eframe::App for TcpcraftApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.state);
    }
}
