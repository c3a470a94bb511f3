//! The eframe application: persisted state plus runtime handles; panels draw and emit [`Action`]s, which are
//! applied at the end of the frame. Runs happen on the worker thread; the UI never blocks.

use std::net::IpAddr;

use egui::{Color32, RichText, Ui};

use super::dialogs::{Chosen, Dialogs, Purpose};
use super::editor::{self, EditorState};
use super::library::{self, UserPreset};
use super::state::{PersistedState, STATE_KEY};
use super::worker::{Job, LinkKind, LinkSetup, Msg, Worker};
use super::{bytes, status, timeline};
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::{self, t, tf, Lang};
use crate::link::helper;
use crate::link::privileges::RawPrivileges;
use crate::link::sim::SimConfig;
use crate::preset::{self, Step};
use crate::wire::{self, SegmentSpec};

/// What a panel asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Run the current preset (paused before each Send with `step`).
    Run {
        /// Step-through.
        step: bool,
    },
    /// Let a paused run send its next segment.
    Next,
    /// Stop the run.
    Stop,
    /// Send the edited segment once.
    SendOne,
    /// Load a bundled preset.
    LoadBuiltin(&'static str),
    /// Load one of the user's presets.
    LoadUser(usize),
    /// Show the open dialog.
    OpenDialog,
    /// Save the preset (to its file, or through the dialog).
    Save {
        /// Always ask for a file.
        as_new: bool,
    },
    /// Select a timeline event.
    SelectEvent(usize),
    /// Put a timeline event's segment into the editor.
    CraftFrom(usize),
    /// Select a Send step of the preset for editing.
    SelectStep(usize),
    /// Edit the plain segment again (no step).
    UnselectStep,
    /// Write the timeline to a pcap file (dialog).
    ExportPcap,
    /// Read a capture into the timeline (dialog).
    ImportPcap,
    /// Turn the timeline's segments (from the selected one on) into a preset draft.
    DraftPreset,
    /// Switch the language (and remember the choice).
    SetLang(Lang),
}

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
    /// The app with this state; `repaint` wakes the UI from other threads.
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

    /// The link setup for the current target and link choice.
    fn setup(&self) -> Result<LinkSetup, String> {
        let sim = self.state.preset.as_ref().and_then(|p| p.sim.clone()).unwrap_or_default();
        let text = self.state.target.trim();
        let (host, port) = crate::cli::send::split_target(text).map_err(|e| e.to_string())?;
        let target: IpAddr = if host.is_empty() {
            IpAddr::V4(sim.host)
        } else {
            crate::link::route::resolve(&host, false).map_err(|e| e.to_string())?
        };
        let dport = port.or(self.state.preset.as_ref().map(|p| p.port)).unwrap_or(80);
        Ok(LinkSetup {
            kind: self.state.link,
            target,
            dport,
            iface: (!self.state.iface.trim().is_empty()).then(|| self.state.iface.trim().to_string()),
            guard: self.state.guard,
            sim: SimConfig { ..sim },
        })
    }

    fn start(&mut self, job: Job, step: bool) {
        self.rt.started = Some(std::time::SystemTime::now());
        self.rt.events.clear();
        self.rt.verdicts.clear();
        self.rt.selected = None;
        self.rt.paused = None;
        self.rt.dropped = 0;
        self.rt.step_mode = step;
        match &mut self.rt.worker {
            Some(w) => {
                w.start(job);
                self.rt.running = true;
                self.say("ui.msg.running", &[], false);
            }
            None => self.say("ui.msg.no_worker", &[], true),
        }
    }

    /// Applies one action.
    pub fn apply(&mut self, a: Action, ctx: &egui::Context) {
        match a {
            Action::Run { step } => match (self.setup(), &self.state.preset) {
                (Ok(setup), Some(p)) => {
                    let job = Job::Run { preset: Box::new(p.clone()), setup, step_through: step };
                    self.start(job, step);
                }
                (Err(e), _) => self.say("ui.msg.target_error", &[("error", e)], true),
                (_, None) => self.say("ui.msg.choose_preset", &[], true),
            },
            Action::Next => {
                self.rt.paused = None;
                if let Some(w) = &self.rt.worker {
                    w.next();
                }
            }
            Action::Stop => {
                if let Some(w) = &mut self.rt.worker {
                    w.stop();
                }
                self.rt.running = false;
                self.rt.paused = None;
                self.say("ui.msg.stopped", &[], false);
            }
            Action::SendOne => match (self.setup(), self.built()) {
                (Ok(mut setup), Ok(bytes)) => {
                    // The segment's own destination is the peer (the lab host answers there too).
                    if let Ok(seg) = wire::parse_any_protocol(&bytes) {
                        setup.target = seg.dst();
                        setup.dport = seg.tcp.dport;
                    }
                    let (spec, wait_ms) = (Box::new(self.state.spec.clone()), self.state.wait_ms);
                    self.start(Job::SendOne { spec, setup, wait_ms }, false);
                }
                (Err(e), _) => self.say("ui.msg.target_error", &[("error", e)], true),
                (_, Err(e)) => self.say("ui.msg.cannot_build", &[("error", e)], true),
            },
            Action::LoadBuiltin(name) => match preset::builtin::builtin(name) {
                Some(Ok(p)) => self.load_preset(p, None),
                Some(Err(e)) => self.rt.message = (e.to_string(), true),
                None => {}
            },
            Action::LoadUser(i) => {
                if let Some(u) = self.rt.users.get(i) {
                    let path = u.path.clone();
                    self.open_file(path);
                }
            }
            Action::OpenDialog => self.rt.dialogs.show(ctx, Purpose::OpenPreset, library::user_dir(), None),
            Action::ExportPcap => self.rt.dialogs.show(ctx, Purpose::SavePcap, None, Some("tcpcraft.pcap".into())),
            Action::ImportPcap => self.rt.dialogs.show(ctx, Purpose::OpenPcap, None, None),
            Action::DraftPreset => self.draft_preset(),
            Action::Save { as_new } => {
                let Some(p) = &self.state.preset else { return };
                match (&self.state.preset_path, as_new) {
                    (Some(path), false) => {
                        let path = std::path::PathBuf::from(path);
                        self.save_to(path);
                    }
                    _ => {
                        let dir = library::user_dir();
                        if let Some(d) = &dir {
                            let _ = std::fs::create_dir_all(d);
                        }
                        self.rt.dialogs.show(ctx, Purpose::SavePreset, dir, Some(format!("{}.ron", p.name)));
                    }
                }
            }
            Action::SelectEvent(i) => self.rt.selected = Some(i),
            Action::CraftFrom(i) => {
                if let Some(seg) = self.rt.events.get(i).and_then(|e| e.segment.as_ref()) {
                    self.state.spec = seg.to_spec();
                    self.rt.selected_step = None;
                    self.rt.editor.bufs.reset();
                    self.say("ui.msg.event_loaded", &[("i", i.to_string())], false);
                }
            }
            Action::SelectStep(i) => {
                self.rt.selected_step = Some(i);
                self.rt.editor.bufs.reset();
            }
            Action::UnselectStep => {
                self.rt.selected_step = None;
                self.rt.editor.bufs.reset();
            }
            Action::SetLang(lang) => {
                self.set_lang(lang, true);
                ctx.request_repaint();
            }
        }
    }

    /// Loads a preset (built-in name or file) and runs it on the simulated link.
    pub fn autorun(&mut self, name: &str, ctx: &egui::Context) {
        match preset::resolve(name) {
            Ok(p) => {
                let path = (!preset::builtin::names().any(|n| n == name)).then(|| name.to_string());
                self.load_preset(p, path);
                self.state.link = LinkKind::Sim;
                self.apply(Action::Run { step: false }, ctx);
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    fn load_preset(&mut self, p: preset::Preset, path: Option<String>) {
        self.rt.lab = super::lab::LabView::default();
        self.say("ui.msg.preset_loaded", &[("name", p.name.clone())], false);
        if let Some(t) = &p.target {
            self.state.target = format!("{t}:{}", p.port);
        } else {
            self.state.target = format!("{}:{}", p.sim.clone().unwrap_or_default().host, p.port);
        }
        self.state.preset = Some(p);
        self.state.preset_path = path;
        self.rt.selected_step = None;
        self.rt.editor.bufs.reset();
    }

    /// Opens a preset file, reporting `file:line:col` errors in the status bar.
    pub fn open_file(&mut self, path: std::path::PathBuf) {
        match preset::io::load(&path) {
            Ok(p) => self.load_preset(p, Some(path.display().to_string())),
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// Saves the current preset (atomically) to `path`.
    pub fn save_to(&mut self, path: std::path::PathBuf) {
        let Some(p) = &self.state.preset else { return };
        match preset::io::save(&path, p) {
            Ok(()) => {
                self.say("ui.msg.saved", &[("path", path.display().to_string())], false);
                self.state.preset_path = Some(path.display().to_string());
                self.rt.users = library::scan_user_presets();
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// Writes the timeline's datagrams as pcap (raw IP, nanoseconds).
    pub fn export_pcap(&mut self, path: &std::path::Path) {
        let start = self.rt.started.unwrap_or_else(std::time::SystemTime::now);
        match crate::pcap::write(path, start, self.rt.events.iter().map(|e| (e.t_us, &e.bytes[..]))) {
            Ok(n) => {
                self.say("ui.msg.pcap_written", &[("n", n.to_string()), ("path", path.display().to_string())], false)
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// Reads a capture's TCP segments into the timeline (each can be crafted from).
    pub fn import_pcap(&mut self, path: &std::path::Path) {
        match crate::pcap::read(path, 1_000_000) {
            Ok(imported) => {
                let tl = crate::cli::import::timeline_of(&imported);
                self.rt.events = tl.events;
                self.rt.verdicts.clear();
                self.rt.selected = None;
                let args = [("n", imported.len().to_string()), ("path", path.display().to_string())];
                self.say("ui.msg.imported", &args, false);
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// A preset draft from the timeline, starting at the selected event (or the first); ours become Send steps,
    /// the peer's Expect steps, with seq/ack as expressions. It becomes the current (unsaved) preset.
    pub fn draft_preset(&mut self) {
        let from = self.rt.selected.unwrap_or(0);
        let segs: Vec<crate::wire::Segment> =
            self.rt.events.iter().skip(from).filter_map(|e| e.segment.clone()).collect();
        match crate::pcap::draft::preset_from(&segs, "draft") {
            Some(p) => {
                let n = p.steps.len();
                self.load_preset(p, None);
                self.say("ui.msg.draft_loaded", &[("n", n.to_string())], false);
            }
            None => self.say("ui.msg.nothing_to_draft", &[], true),
        }
    }

    /// Takes the worker's news into the runtime state.
    fn drain_worker(&mut self) {
        let Some(w) = &self.rt.worker else { return };
        for m in w.drain() {
            match m {
                Msg::Started { link, .. } => self.rt.link_desc = link,
                Msg::AboutToSend { step, spec } => {
                    if self.rt.step_mode {
                        self.rt.paused = Some((step, *spec));
                    }
                }
                Msg::Events(ev) => self.rt.events.extend(ev),
                Msg::Verdict(v) => self.rt.verdicts.push(v),
                Msg::Finished { pass, stopped, dropped } => {
                    self.rt.running = false;
                    self.rt.paused = None;
                    self.rt.dropped = dropped;
                    let lab = self.state.preset.as_ref().and_then(|p| p.exercise.as_ref());
                    let grade = lab.map(|ex| super::lab::grade(ex, &self.rt.events, &self.rt.verdicts));
                    if stopped {
                        self.say("ui.msg.stopped", &[], false);
                    } else if let Some(g) = grade {
                        // A lab's run is judged by its goals, not only by its Expect steps.
                        let left = g.goals.iter().filter(|g| !g.met).count().to_string();
                        if g.pass {
                            self.say("lab.passed", &[], false);
                        } else {
                            self.say("lab.failed", &[("n", left)], true);
                        }
                    } else if pass {
                        self.say("ui.msg.done_pass", &[("n", self.rt.events.len().to_string())], false);
                    } else {
                        self.say("ui.msg.done_fail", &[], true);
                    }
                }
                Msg::Fallback(why) => {
                    self.say("ui.msg.raw_fallback", &[], true);
                    self.rt.raw_help = why;
                    self.rt.privileges = RawPrivileges { raw: false, admin: false };
                    self.rt.show_privileges = true;
                }
                Msg::Failed(e) => {
                    self.rt.running = false;
                    self.rt.paused = None;
                    self.rt.message = (e, true);
                }
                Msg::SweepProgress(p) => self.rt.sweep.progress = Some(p),
                Msg::SweepDone(r) => {
                    let open = r.iter().filter(|x| x.verdict == crate::exchange::sweep::Verdict::Open).count();
                    self.say("ui.msg.sweep_done", &[("n", r.len().to_string()), ("open", open.to_string())], false);
                    self.rt.sweep.results = r;
                }
            }
        }
    }

    /// The whole window's contents (what eframe's `ui` and the tests call).
    pub fn ui_root(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.drain_worker();
        for c in self.rt.dialogs.poll() {
            match c {
                Chosen::Path(Purpose::OpenPreset, p) => self.open_file(p),
                Chosen::Path(Purpose::SavePreset, p) => self.save_to(p),
                Chosen::Path(Purpose::SaveCsv, p) => {
                    let text = super::sweep::csv(&self.rt.sweep.results);
                    let path = p.display().to_string();
                    match crate::preset::io::write_atomic(&p, |f| std::io::Write::write_all(f, text.as_bytes())) {
                        Ok(()) => self.say("ui.msg.wrote", &[("path", path)], false),
                        Err(e) => self.say("ui.msg.write_failed", &[("path", path), ("error", e.to_string())], true),
                    }
                }
                Chosen::Path(Purpose::SavePcap, p) => self.export_pcap(&p),
                Chosen::Path(Purpose::OpenPcap, p) => self.import_pcap(&p),
                Chosen::Unavailable(e) => self.say("ui.msg.dialog_unavailable", &[("error", e)], true),
            }
        }
        let mut actions = Vec::new();
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar(ui, &mut actions));
        let help = egui::Panel::bottom("status-bar")
            .show(ui, |ui| {
                let link = if self.rt.link_desc.is_empty() { self.link_label() } else { self.rt.link_desc.clone() };
                status::bar(
                    ui,
                    &status::StatusInfo {
                        link: &link,
                        privileges: &self.rt.privileges,
                        running: self.rt.running,
                        events: self.rt.events.len(),
                        dropped: self.rt.dropped,
                        message: &self.rt.message.0,
                        is_error: self.rt.message.1,
                    },
                )
            })
            .inner;
        if help {
            self.rt.show_privileges = true;
        }
        if self.rt.tab == Tab::Sweep {
            egui::CentralPanel::default().show(ui, |ui| self.sweep_tab(ui, &ctx));
            let mut open = self.rt.show_privileges;
            status::privileges_window(&ctx, &mut open, &self.rt.raw_help);
            self.rt.show_privileges = open;
            for a in actions {
                self.apply(a, &ctx);
            }
            return;
        }
        egui::Panel::left("library").resizable(true).default_size(200.0).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("lib-scroll").show(ui, |ui| {
                library::show(
                    ui,
                    self.state.preset.as_ref(),
                    self.state.preset_path.as_deref(),
                    &self.rt.users,
                    &self.rt.verdicts,
                    self.rt.selected_step,
                    &mut actions,
                );
            });
        });
        egui::Panel::right("timeline")
            .resizable(true)
            .default_size(640.0)
            .show(ui, |ui| self.timeline_panel(ui, &mut actions));
        egui::CentralPanel::default().show(ui, |ui| self.center(ui, &mut actions));
        let mut open = self.rt.show_privileges;
        status::privileges_window(&ctx, &mut open, &self.rt.raw_help);
        self.rt.show_privileges = open;
        for a in actions {
            self.apply(a, &ctx);
        }
    }

    /// Starts a sweep from the tab's inputs, or shows why it cannot start.
    pub fn start_sweep(&mut self) {
        use crate::exchange::sweep;
        let t = &self.rt.sweep;
        let cfg = (|| -> Result<sweep::SweepConfig, String> {
            let p = preset::resolve(&t.preset).map_err(|e| e.to_string())?;
            let hosts = sweep::parse_targets(&t.targets, false).map_err(|e| e.to_string())?;
            let ports = sweep::parse_ports(&t.ports).map_err(|e| e.to_string())?;
            Ok(sweep::SweepConfig {
                src: crate::link::sim::SIM_US.into(),
                probe: sweep::probe_of(&p).map_err(|e| e.to_string())?,
                hosts,
                ports,
                sport: 47_000,
                rate: t.rate.clamp(1, sweep::DEFAULT_RATE),
                retries: 1,
                wait: std::time::Duration::from_millis(500),
            })
        })();
        match cfg {
            Ok(cfg) => {
                self.rt.sweep.error = None;
                self.rt.sweep.results.clear();
                self.rt.sweep.progress = None;
                let kind = self.state.link;
                self.start(Job::Sweep { cfg: Box::new(cfg), kind }, false);
            }
            Err(e) => self.rt.sweep.error = Some(e),
        }
    }

    fn sweep_tab(&mut self, ui: &mut Ui, ctx: &egui::Context) {
        match super::sweep::show(ui, &mut self.rt.sweep, self.rt.running) {
            Some(super::sweep::SweepAction::Start) => self.start_sweep(),
            Some(super::sweep::SweepAction::Stop) => self.apply(Action::Stop, ctx),
            Some(super::sweep::SweepAction::ExportCsv) => {
                self.rt.dialogs.show(ctx, Purpose::SaveCsv, None, Some("sweep.csv".into()))
            }
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

    fn top_bar(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("tcpcraft").strong().size(16.0));
            ui.selectable_value(&mut self.rt.tab, Tab::Craft, t("ui.tab.craft"));
            ui.selectable_value(&mut self.rt.tab, Tab::Sweep, t("ui.tab.sweep"));
            ui.separator();
            ui.label(t("ui.top.target"));
            ui.add(
                egui::TextEdit::singleline(&mut self.state.target)
                    .desired_width(150.0)
                    .hint_text(t("ui.top.target_hint")),
            )
            .on_hover_text(t("ui.top.target_tip"));
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
                    egui::TextEdit::singleline(&mut self.state.iface)
                        .desired_width(70.0)
                        .hint_text(t("ui.top.iface_hint")),
                );
                ui.checkbox(&mut self.state.guard, t("ui.top.rst_guard")).on_hover_text(t("ui.top.rst_guard_tip"));
            }
            ui.separator();
            let idle = !self.rt.running;
            let has_preset = self.state.preset.is_some();
            let run = ui.add_enabled(idle && has_preset, egui::Button::new(t("ui.top.run")));
            if run.on_hover_text(t("ui.top.run_tip")).clicked() {
                out.push(Action::Run { step: false });
            }
            let step = ui.add_enabled(idle && has_preset, egui::Button::new(t("ui.top.step")));
            if step.on_hover_text(t("ui.top.step_tip")).clicked() {
                out.push(Action::Run { step: true });
            }
            if ui.add_enabled(self.rt.paused.is_some(), egui::Button::new(t("ui.top.next"))).clicked() {
                out.push(Action::Next);
            }
            if ui.add_enabled(self.rt.running, egui::Button::new(t("ui.top.stop"))).clicked() {
                out.push(Action::Stop);
            }
            let buildable = self.built().is_ok() && !self.rt.editor.bufs.has_errors();
            let send = ui.add_enabled(idle && buildable, egui::Button::new(t("ui.top.send_one")));
            if send.on_hover_text(t("ui.top.send_one_tip")).clicked() {
                out.push(Action::SendOne);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| language_menu(ui, out));
        });
    }

    fn center(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        if let Some((step, spec)) = &self.rt.paused {
            let preset = self.state.preset.as_ref();
            if super::step::paused(ui, *step, spec, preset, &self.rt.verdicts, &self.rt.events) {
                out.push(Action::Next);
            }
        }
        let bytes_h = 190.0;
        egui::ScrollArea::vertical()
            .id_salt("editor-scroll")
            .max_height((ui.available_height() - bytes_h).max(120.0))
            .show(ui, |ui| {
                if let Some(ex) = self.state.preset.as_ref().and_then(|p| p.exercise.as_ref()) {
                    let finished = !self.rt.running && !self.rt.events.is_empty();
                    let graded = finished.then(|| super::lab::grade(ex, &self.rt.events, &self.rt.verdicts));
                    super::lab::show(ui, ex, &mut self.rt.lab, graded.as_ref());
                    ui.add_space(6.0);
                }
                let step = self.rt.selected_step;
                let template = step.and_then(|i| match self.state.preset.as_mut().and_then(|p| p.steps.get_mut(i)) {
                    Some(Step::Send(t)) => Some(t),
                    _ => None,
                });
                match (template, step) {
                    (Some(tpl), Some(i)) => {
                        if ui.button(t("ui.editor.back")).clicked() {
                            out.push(Action::UnselectStep);
                        }
                        editor::template_editor(ui, tpl, &mut self.rt.editor, i);
                    }
                    _ => {
                        ui.heading(t("ui.editor.heading"));
                        editor::show(ui, &mut self.state.spec, &mut self.rt.editor, self.rt.bytes_hover);
                    }
                }
            });
        ui.separator();
        ui.label(RichText::new(t("ui.bytes.heading")).strong());
        egui::ScrollArea::vertical().id_salt("bytes-scroll").show(ui, |ui| match self.built() {
            Ok(b) => {
                let fields = wire::parse_any_protocol(&b).map(|s| wire::fields::fields(&s)).unwrap_or_default();
                ui.label(tf("ui.bytes.count", &[("n", &b.len().to_string())]));
                let hl = self.rt.editor.hovered.or(self.rt.bytes_hover);
                self.rt.bytes_hover = bytes::show(ui, &b, &fields, hl);
            }
            Err(e) => {
                ui.label(RichText::new(format!("⚠ {e}")).color(Color32::from_rgb(0xef, 0x47, 0x6f)));
            }
        });
    }

    fn timeline_panel(&mut self, ui: &mut Ui, out: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            ui.heading(t("ui.timeline.heading"));
            ui.checkbox(&mut self.state.absolute, t("ui.timeline.absolute"));
            if ui.add_enabled(!self.rt.events.is_empty(), egui::Button::new(t("ui.timeline.export_pcap"))).clicked() {
                out.push(Action::ExportPcap);
            }
            if ui.add_enabled(!self.rt.running, egui::Button::new(t("ui.timeline.import_pcap"))).clicked() {
                out.push(Action::ImportPcap);
            }
            let draft = ui.add_enabled(!self.rt.events.is_empty(), egui::Button::new(t("ui.timeline.draft")));
            if draft.on_hover_text(t("ui.timeline.draft_tip")).clicked() {
                out.push(Action::DraftPreset);
            }
        });
        ui.horizontal(|ui| {
            for o in [
                crate::link::Origin::Crafted,
                crate::link::Origin::Peer,
                crate::link::Origin::LocalKernel,
                crate::link::Origin::Icmp,
            ] {
                ui.colored_label(timeline::origin_color(o), format!("■ {}", timeline::origin_name(o)));
            }
        });
        let h = (ui.available_height() * 0.45).max(150.0);
        if let Some(i) =
            timeline::ladder(ui, &self.rt.events, &self.rt.verdicts, self.state.absolute, self.rt.selected, h)
        {
            out.push(Action::SelectEvent(i));
        }
        ui.separator();
        if let Some(e) = self.rt.selected.and_then(|i| self.rt.events.get(i).map(|e| (i, e))) {
            let (i, e) = e;
            let title =
                tf("ui.timeline.event", &[("i", &i.to_string()), ("label", &timeline::label(e, self.state.absolute))]);
            ui.label(RichText::new(title).strong());
            ui.label(e.note.render());
            for topic in crate::exchange::notes::topics(&e.note.key) {
                egui::CollapsingHeader::new(t(&format!("explain.title.{topic}")))
                    .id_salt(("explain", *topic))
                    .show(ui, |ui| ui.label(t(&format!("explain.{topic}"))));
            }
            if let Some(seg) = &e.segment {
                egui::CollapsingHeader::new(t("ui.timeline.parsed_fields")).id_salt("event-fields").show(ui, |ui| {
                    egui::ScrollArea::vertical().id_salt("event-fields-scroll").max_height(160.0).show(ui, |ui| {
                        egui::Grid::new("event-fields-grid").striped(true).show(ui, |ui| {
                            for f in wire::fields::fields(seg) {
                                let help = super::help::field(f.key);
                                let key = ui.monospace(f.key);
                                if !help.is_empty() {
                                    key.on_hover_text(help);
                                }
                                ui.label(f.value.to_string());
                                ui.end_row();
                            }
                            for a in &seg.anomalies {
                                ui.label(t("ui.timeline.anomaly"));
                                ui.label(a.to_string());
                                ui.end_row();
                            }
                        });
                    });
                });
                if ui.button(t("ui.timeline.craft_from")).clicked() {
                    out.push(Action::CraftFrom(i));
                }
            }
            ui.separator();
        }
        if let Some(i) = timeline::table(ui, &self.rt.events, self.state.absolute, self.rt.selected) {
            out.push(Action::SelectEvent(i));
        }
    }
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

impl eframe::App for TcpcraftApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.state);
    }
}
