//! Applying what panels asked for ([`Action`]), at the end of the frame: starting jobs on the worker, loading and
//! saving presets, pcap import and export, drafts, language.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{JobKind, Tab, TcpcraftApp};
use crate::exchange::session::Target;
use crate::preset;
use crate::ui::action::{Action, StepEdit};
use crate::ui::dialogs::Purpose;
use crate::ui::worker::{Job, LinkKind, LinkSetup, SweepJob, TraceJob};
use crate::wire;

impl TcpcraftApp {
    /// The link setup for the current target text and link choice. Nothing is resolved here: the worker looks the
    /// name up when the job starts, so a slow resolver never holds up a frame.
    fn setup(&self) -> LinkSetup {
        LinkSetup {
            kind: self.state.link,
            target: Target::Text(self.state.target.trim().to_string()),
            port: self.state.preset.as_ref().map_or(80, |p| p.port),
            iface: self.iface(),
            guard: self.state.guard,
            local_peer: self.state.local_peer,
            lab: self.state.preset.as_ref().and_then(|p| p.sim.clone()).unwrap_or_default(),
        }
    }

    /// Starts a job on the worker. Only the view the job belongs to is cleared: a sweep leaves the Craft tab's
    /// timeline, verdicts and lab grade as they were, and a run leaves the sweep table.
    fn start(&mut self, job: Job, step: bool) {
        let kind = match &job {
            Job::Run { .. } => JobKind::Run,
            Job::SendOne { .. } => JobKind::SendOne,
            Job::Sweep(_) => JobKind::Sweep,
            Job::Trace(_) => JobKind::Trace,
        };
        let tab = kind.tab();
        if self.rt.worker.is_none() {
            return self.say_in(tab, "ui.msg.no_worker", None, &[], true);
        }
        if tab == Tab::Craft {
            self.rt.started = Some(SystemTime::now());
            self.rt.events.clear();
            self.rt.peer_truth.clear();
            self.rt.verdicts.clear();
            self.rt.ran_preset = false;
            self.rt.selected = None;
            self.rt.dropped = 0;
        }
        self.rt.paused = None;
        self.rt.step_mode = step;
        self.rt.job = Some(kind);
        if let Some(w) = &mut self.rt.worker {
            w.start(job);
            self.rt.running = true;
            self.say_in(tab, "ui.msg.running", None, &[], false);
        }
    }

    /// Applies one action.
    pub fn apply(&mut self, a: Action, ctx: &egui::Context) {
        match a {
            Action::Run { step } => match &self.state.preset {
                Some(p) if preset::validate::missing_to_run(&p.steps).is_some() => {
                    let missing = preset::validate::missing_to_run(&p.steps);
                    self.rt.message = (crate::ui::steps::missing_text(missing).to_string(), true);
                }
                Some(p) => {
                    let job = Job::Run { preset: Box::new(p.clone()), setup: self.setup(), step_through: step };
                    self.start(job, step);
                }
                None => self.say("ui.msg.choose_preset", &[], true),
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
                let tab = self.rt.job.map_or(Tab::Craft, JobKind::tab);
                self.say_in(tab, "ui.msg.stopped", None, &[], false);
            }
            Action::SendOne => match self.built() {
                Ok(bytes) => {
                    let mut setup = self.setup();
                    // The segment's own destination is the peer (the lab host answers there too).
                    if let Ok(seg) = wire::parse_any_protocol(&bytes) {
                        (setup.target, setup.port) = (Target::Addr(seg.dst()), seg.tcp.dport);
                    }
                    let (spec, wait_ms) = (Box::new(self.state.spec.clone()), self.state.wait_ms);
                    self.start(Job::SendOne { spec, setup, wait_ms }, false);
                }
                Err(e) => self.say("ui.msg.cannot_build", &[("error", e)], true),
            },
            Action::LoadBuiltin(name) => match preset::builtin::builtin(name) {
                Some(Ok(p)) => self.load_preset(p, None),
                Some(Err(e)) => self.rt.message = (e.to_string(), true),
                None => {}
            },
            Action::LoadUser(i) => {
                if let Some(u) = self.rt.users.list.get(i) {
                    let path = u.path.clone();
                    self.open_file(path);
                }
            }
            Action::OpenDialog => {
                let dir = self.rt.users.dir.clone().filter(|d| d.is_dir());
                self.rt.dialogs.show(ctx, Purpose::OpenPreset, dir, None);
            }
            Action::ExportPcap if self.rt.events.is_empty() => self.say("ui.msg.nothing_to_export", &[], true),
            Action::ExportPcap => self.rt.dialogs.show(ctx, Purpose::SavePcap, None, Some("tcpcraft.pcap".into())),
            Action::ImportPcap => self.rt.dialogs.show(ctx, Purpose::OpenPcap, None, None),
            Action::ExportCsv if self.rt.sweep.results.is_empty() => {
                self.say_in(Tab::Sweep, "ui.msg.nothing_to_export", None, &[], true);
            }
            Action::ExportCsv => self.rt.dialogs.show(ctx, Purpose::SaveCsv, None, Some("sweep.csv".into())),
            Action::DraftPreset => self.draft_preset(),
            Action::Save { as_new } => {
                let Some(p) = &self.state.preset else { return };
                let name = format!("{}.ron", p.name);
                match (&self.state.preset_path, as_new) {
                    (Some(path), false) => {
                        let path = PathBuf::from(path);
                        self.save_to(path);
                    }
                    _ => {
                        // The dialog starts in the presets folder, made first; if it cannot be made, the
                        // dialog starts elsewhere and the reason is on show.
                        let mut dir = self.rt.users.dir.clone();
                        if let Some(d) = &dir {
                            if let Err(e) = std::fs::create_dir_all(d) {
                                let args = [("dir", d.display().to_string()), ("error", e.to_string())];
                                self.say("ui.msg.cannot_create_dir", &args, true);
                                dir = None;
                            }
                        }
                        self.rt.dialogs.show(ctx, Purpose::SavePreset, dir, Some(name));
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
            Action::StartSweep => self.start_sweep(),
            Action::StartTrace => self.start_trace(),
            Action::EditSteps(edit) => self.edit_steps(edit, ctx),
            Action::UndoSteps | Action::RedoSteps => {
                let Some(p) = &mut self.state.preset else { return };
                let done = crate::ui::undo::with(ctx, &p.name, |h| match a {
                    Action::UndoSteps => h.undo(&mut p.steps),
                    _ => h.redo(&mut p.steps),
                });
                if done {
                    self.rt.selected_step = self.rt.selected_step.filter(|i| *i < p.steps.len());
                    self.rt.verdicts.clear();
                    self.rt.editor.bufs.reset();
                }
            }
        }
    }

    /// Adds, removes, copies or moves a step of the current preset, recording the steps before for undo; the step
    /// added or moved becomes the selected one. The old run's verdict marks no longer match the steps and go.
    fn edit_steps(&mut self, edit: StepEdit, ctx: &egui::Context) {
        let Some(p) = &mut self.state.preset else { return };
        let before = p.steps.clone();
        let steps = &mut p.steps;
        let n = steps.len();
        let selected = match edit {
            StepEdit::Add(kind, after) => {
                let at = after.map_or(n, |i| (i + 1).min(n));
                steps.insert(at, crate::ui::steps::new_step(kind, &steps[..at]));
                Some(at)
            }
            StepEdit::Remove(i) if i < n => {
                steps.remove(i);
                (n > 1).then(|| i.min(n - 2))
            }
            StepEdit::Duplicate(i) if i < n => {
                let copy = steps[i].clone();
                steps.insert(i + 1, copy);
                Some(i + 1)
            }
            StepEdit::Move { from, to } if from < n && to < n => {
                let s = steps.remove(from);
                steps.insert(to, s);
                Some(to)
            }
            _ => return,
        };
        let now = ctx.input(|i| i.time);
        crate::ui::undo::with(ctx, &p.name, |h| h.record(before, None, now));
        self.rt.selected_step = selected;
        self.rt.verdicts.clear();
        self.rt.ran_preset = false;
        self.rt.editor.bufs.reset();
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

    /// Makes `p` the preset on show. Its steps have not run: the old run's verdict marks and lab grade go (the
    /// timeline stays, to craft or draft from).
    fn load_preset(&mut self, p: preset::Preset, path: Option<String>) {
        self.rt.lab = crate::ui::lab::LabView::default();
        self.rt.verdicts.clear();
        self.rt.ran_preset = false;
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
    pub fn open_file(&mut self, path: PathBuf) {
        match preset::io::load(&path) {
            Ok(p) => self.load_preset(p, Some(path.display().to_string())),
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// Saves the current preset (atomically) to `path`.
    pub fn save_to(&mut self, path: PathBuf) {
        let Some(p) = &self.state.preset else { return };
        match preset::io::save(&path, p) {
            Ok(()) => {
                self.say("ui.msg.saved", &[("path", path.display().to_string())], false);
                self.state.preset_path = Some(path.display().to_string());
                self.rt.users.rescan();
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// Writes the timeline's datagrams as pcap (raw IP, nanoseconds).
    pub fn export_pcap(&mut self, path: &Path) {
        let start = self.rt.started.unwrap_or_else(SystemTime::now);
        match crate::pcap::write(path, start, self.rt.events.iter().flat_map(|e| e.on_wire())) {
            Ok(n) => {
                let args = [("path", path.display().to_string())];
                self.say_in(Tab::Craft, "ui.msg.pcap_written", Some(n as u64), &args, false);
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// Reads a capture's TCP segments into the timeline (each can be crafted from).
    pub fn import_pcap(&mut self, path: &Path) {
        match crate::pcap::read(path, 1_000_000) {
            Ok(imported) => {
                let tl = crate::pcap::timeline_of(&imported);
                self.rt.events = tl.events;
                self.rt.peer_truth.clear();
                self.rt.states = Default::default();
                self.rt.verdicts.clear();
                self.rt.ran_preset = false;
                self.rt.selected = None;
                let args = [("path", path.display().to_string())];
                self.say_in(Tab::Craft, "ui.msg.imported", Some(imported.len() as u64), &args, false);
            }
            Err(e) => self.rt.message = (e.to_string(), true),
        }
    }

    /// A preset draft from the timeline, starting at the selected event (or the first); ours become Send steps,
    /// the peer's Expect steps, with seq/ack as expressions. It becomes the current (unsaved) preset.
    pub fn draft_preset(&mut self) {
        let from = self.rt.selected.unwrap_or(0);
        let segs: Vec<wire::Segment> = self.rt.events.iter().skip(from).filter_map(|e| e.segment.clone()).collect();
        match crate::pcap::draft::preset_from(&segs, "draft") {
            Some(p) => {
                let n = p.steps.len() as u64;
                self.load_preset(p, None);
                self.say_in(Tab::Craft, "ui.msg.draft_loaded", Some(n), &[], false);
            }
            None => self.say("ui.msg.nothing_to_draft", &[], true),
        }
    }

    /// The interface typed in the top bar, if any (raw links then use it instead of the route's).
    fn iface(&self) -> Option<String> {
        Some(self.state.iface.trim().to_string()).filter(|i| !i.is_empty())
    }

    /// Starts a sweep from the tab's inputs (probe and lab host from its preset), or shows why it cannot start.
    pub fn start_sweep(&mut self) {
        let t = &self.rt.sweep;
        match SweepJob::new(&t.preset, &t.targets, &t.ports, t.rate, self.state.link) {
            Ok(mut job) => {
                job.iface = self.iface();
                self.rt.sweep.error = None;
                self.rt.sweep.results.clear();
                self.rt.sweep.progress = None;
                self.start(Job::Sweep(Box::new(job)), false);
            }
            Err(e) => {
                // Both where the inputs are and on the tab's status line.
                self.rt.sweep.error = Some(e.to_string());
                self.rt.sweep_message = (e.to_string(), true);
            }
        }
    }

    /// Starts a trace from the Trace tab's inputs (probe and lab host from its preset, over the link chosen in the
    /// top bar), or shows why it cannot start.
    pub fn start_trace(&mut self) {
        let t = &self.rt.trace;
        match TraceJob::new(&t.preset, &t.target, &t.ports, t.max_ttl, t.wait_ms, self.state.link) {
            Ok(mut job) => {
                job.iface = self.iface();
                self.rt.trace.error = None;
                self.rt.trace.report = None;
                self.rt.trace.started = Some(std::time::Instant::now());
                self.rt.trace.wait_of_run = job.wait;
                self.start(Job::Trace(Box::new(job)), false);
            }
            Err(e) => {
                // Both where the inputs are and on the tab's status line.
                self.rt.trace.error = Some(e.text());
                self.rt.trace_message = (e.short(), true);
            }
        }
    }
}
