//! The eframe application, split as rerun's viewer app is: this file holds what is persisted ([`PersistedState`])
//! and the runtime handles ([`Runtime`]); `commands` applies the [`Action`](super::action::Action)s panels emit at the end of the frame;
//! `logic` takes in the worker's news and the dialogs' results; `layout` places the panels. Runs happen on the
//! worker thread, and names are resolved there too: the UI never blocks.

mod commands;
mod layout;
mod logic;

use egui::Ui;

use super::dialogs::Dialogs;
use super::editor::EditorState;
use super::library::{self, UserPreset};
use super::state::{PersistedState, STATE_KEY};
use super::worker::{LinkKind, Worker};
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::{self, tf, Lang};
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
    /// Timeline events of the current job.
    pub events: Vec<TimelineEvent>,
    /// Verdicts of the current job.
    pub verdicts: Vec<StepVerdict>,
    /// A job is going.
    pub running: bool,
    /// The step-through pause: the segment about to go out.
    pub paused: Option<(usize, SegmentSpec)>,
    step_mode: bool,
    /// The current job is a sweep (its end keeps the sweep's summary in the status bar).
    sweeping: bool,
    link_desc: String,
    /// Latest status message and whether it is an error.
    pub message: (String, bool),
    /// How `message` was composed, so a language switch can compose it again.
    said: Option<Said>,
    /// The selected timeline event.
    pub selected: Option<usize>,
    /// The selected preset step (its template is edited).
    pub selected_step: Option<usize>,
    /// Editor buffers and hover.
    pub editor: EditorState,
    bytes_hover: Option<&'static str>,
    dialogs: Dialogs,
    users: Vec<UserPreset>,
    show_privileges: bool,
    dropped: u64,
    /// Which tab the centre shows.
    pub tab: Tab,
    /// Wall-clock time of the current job's start (pcap timestamps count from it).
    pub started: Option<std::time::SystemTime>,
    /// The Sweep tab.
    pub sweep: super::sweep::SweepTab,
    /// The lab panel's state (hints opened).
    pub lab: super::lab::LabView,
}

/// A status message as its catalog key and arguments, and the text it gave.
struct Said {
    key: &'static str,
    args: Vec<(&'static str, String)>,
    text: String,
}

/// The two faces of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Craft segments and run presets.
    Craft,
    /// Sweep ports.
    Sweep,
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
                verdicts: Vec::new(),
                running: false,
                paused: None,
                step_mode: false,
                sweeping: false,
                link_desc: String::new(),
                message: (String::new(), false),
                said: None,
                selected: None,
                selected_step: None,
                editor: EditorState::default(),
                bytes_hover: None,
                dialogs: Dialogs::default(),
                users: library::scan_user_presets(),
                show_privileges: false,
                dropped: 0,
                tab: Tab::Craft,
                started: None,
                sweep: super::sweep::SweepTab::default(),
                lab: super::lab::LabView::default(),
            },
        };
        app.say("ui.msg.ready", &[], false);
        if switched {
            app.say("ui.msg.raw_unavailable_switched", &[], true);
        }
        if let Some(w) = warning {
            app.rt.message = (w, true);
        }
        if let Some(e) = worker_err {
            app.say("ui.msg.worker_failed", &[("error", e)], true);
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
        TcpcraftApp::with_state(state, Some(cc.egui_ctx.clone()), warning)
    }

    /// Shows a status message composed from the catalog (it follows a language switch).
    pub fn say(&mut self, key: &'static str, args: &[(&'static str, String)], error: bool) {
        let pairs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let text = tf(key, &pairs);
        self.rt.message = (text.clone(), error);
        self.rt.said = Some(Said { key, args: args.to_vec(), text });
    }

    /// Switches the language of the whole window; `remember` keeps the choice for the next start (the menu
    /// does; `--lang` does not). The status message is composed again in the new language.
    pub fn set_lang(&mut self, lang: Lang, remember: bool) {
        i18n::set(lang);
        if remember {
            self.state.lang = Some(lang);
        }
        if let Some(s) = &mut self.rt.said {
            // Only while the message on show is still the one composed from the catalog.
            if self.rt.message.0 == s.text {
                let pairs: Vec<(&str, &str)> = s.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                s.text = tf(s.key, &pairs);
                self.rt.message.0 = s.text.clone();
            }
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
        self.take_dialogs();
        let actions = self.layout(ui);
        for a in actions {
            self.apply(a, &ctx);
        }
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
