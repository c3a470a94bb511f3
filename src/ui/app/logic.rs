//! Taking in what arrived since the last frame: the worker's messages (events, verdicts, pauses, the end of a
//! job, a target that did not resolve) and the paths chosen in file dialogs.

use super::{JobKind, Tab, TcpcraftApp};
use crate::exchange::lab::Grade;
use crate::exchange::sweep::Verdict;
use crate::exchange::trace::PathResult;
use crate::link::privileges::RawPrivileges;
use crate::ui::dialogs::{Chosen, Purpose};
use crate::ui::status::StatusInfo;
use crate::ui::worker::Msg;

impl TcpcraftApp {
    /// Takes the worker's news into the runtime state.
    pub(super) fn drain_worker(&mut self) {
        let Some(w) = &self.rt.worker else { return };
        for m in w.drain() {
            self.take(m);
        }
    }

    /// The tab the current job's news belongs to.
    fn job_tab(&self) -> Tab {
        self.rt.job.map_or(Tab::Craft, JobKind::tab)
    }

    /// One message from the worker; it lands in the view of the job that sent it.
    fn take(&mut self, m: Msg) {
        let tab = self.job_tab();
        match m {
            Msg::Started { link, .. } => match tab {
                Tab::Craft => self.rt.link_desc = link,
                Tab::Sweep => self.rt.sweep_link = link,
                Tab::Trace => self.rt.trace_link = link,
            },
            Msg::AboutToSend { step, spec } => {
                if self.rt.step_mode {
                    self.rt.paused = Some((step, *spec));
                }
            }
            Msg::Events(ev) => self.rt.events.extend(ev),
            Msg::PeerStates(read) => {
                for (i, state) in read {
                    if self.rt.peer_truth.len() <= i {
                        self.rt.peer_truth.resize(i + 1, None);
                    }
                    self.rt.peer_truth[i] = Some(state);
                }
            }
            Msg::Verdict(v) => self.rt.verdicts.push(v),
            Msg::Finished { pass, stopped, dropped } => {
                self.rt.running = false;
                self.rt.paused = None;
                self.rt.dropped = dropped;
                self.finished(pass, stopped);
            }
            Msg::Fallback(why) => {
                self.say_in(tab, "ui.msg.raw_fallback", None, &[], true);
                self.rt.raw_help = why;
                self.rt.privileges = RawPrivileges { raw: false, admin: false };
                self.rt.show_privileges = true;
            }
            Msg::Failed(e) => {
                self.rt.running = false;
                self.rt.paused = None;
                *self.line_mut(tab) = (e, true);
                self.error_in_tab(tab);
            }
            Msg::BadTarget(e) => {
                self.rt.running = false;
                self.rt.paused = None;
                self.say_in(tab, "ui.msg.target_error", None, &[("error", e)], true);
                self.error_in_tab(tab);
            }
            Msg::SweepProgress(p) => self.rt.sweep.progress = Some(p),
            Msg::SweepDone(r) => {
                let open = r.iter().filter(|x| x.verdict == Verdict::Open).count();
                let args = [("open", open.to_string())];
                self.say_in(Tab::Sweep, "ui.msg.sweep_done", Some(r.len() as u64), &args, false);
                self.rt.sweep.results = r;
            }
            Msg::TraceDone(r) => {
                let n = r.result.ports.len() as u64;
                let open = r.result.ports.iter().filter(|p| p.result == PathResult::Open).count().to_string();
                self.say_in(Tab::Trace, "ui.msg.trace_done", Some(n), &[("open", open)], false);
                self.rt.trace.report = Some(*r);
            }
        }
    }

    /// A job's failure shown where its inputs are too, on a tab that has a place for it (the Trace tab: a target
    /// that did not resolve, raw mode unavailable); the status line already says it.
    fn error_in_tab(&mut self, tab: Tab) {
        if tab == Tab::Trace {
            self.rt.trace.error = Some(self.line(tab).0.clone());
        }
    }

    /// The status line for a job that ended: stopped, a sweep's summary (already on show), a lab's grade, or the
    /// run's own verdict, in plain words ("1 event"; no expectations is not "every expectation met").
    fn finished(&mut self, pass: bool, stopped: bool) {
        let kind = self.rt.job;
        if stopped {
            return self.say_in(self.job_tab(), "ui.msg.stopped", None, &[], false);
        }
        if matches!(kind, Some(JobKind::Sweep | JobKind::Trace)) {
            // The sweep's (the trace's) summary came with its results, on the tab's own line.
            return;
        }
        // Only a preset's finished run is graded, never a Send-one or an import.
        self.rt.ran_preset = kind == Some(JobKind::Run);
        let n = self.rt.events.len() as u64;
        if let Some(g) = self.lab_grade() {
            // A lab's run is judged by its goals, not only by its Expect steps.
            let left = g.goals.iter().filter(|g| !g.met).count() as u64;
            if g.pass {
                self.say("lab.passed", &[], false);
            } else {
                self.say_in(Tab::Craft, "lab.not_yet", Some(left), &[], true);
            }
        } else if self.rt.verdicts.is_empty() {
            self.say_in(Tab::Craft, "ui.msg.done_nothing_expected", Some(n), &[], false);
        } else if pass {
            self.say_in(Tab::Craft, "ui.msg.done_pass", Some(n), &[], false);
        } else {
            self.say("ui.msg.done_fail", &[], true);
        }
    }

    /// The grade of the lab on show, when the Craft timeline is a finished run of that very lab (not a sweep's,
    /// not another preset's, not an import).
    pub(super) fn lab_grade(&self) -> Option<Grade> {
        if !self.rt.ran_preset || self.rt.running && self.rt.job == Some(JobKind::Run) {
            return None;
        }
        let ex = self.state.preset.as_ref()?.exercise.as_ref()?;
        Some(crate::ui::lab::grade(ex, &self.rt.events, &self.rt.verdicts))
    }

    /// What the status bar of the tab on show says: its own message, link and counts; the spinner only while
    /// its own job runs. `chosen_link` is the link picked in the top bar, shown until a job describes its own.
    pub(super) fn status_info(&self, chosen_link: String) -> StatusInfo<'_> {
        let tab = self.rt.tab;
        let own_job = self.rt.running && self.job_tab() == tab;
        let (link, events, dropped) = match tab {
            Tab::Craft => (&self.rt.link_desc, Some(self.rt.events.len()), self.rt.dropped),
            Tab::Sweep => (&self.rt.sweep_link, None, 0),
            Tab::Trace => (&self.rt.trace_link, None, 0),
        };
        let (message, is_error) = self.line(tab);
        StatusInfo {
            link: if link.is_empty() { chosen_link } else { link.clone() },
            privileges: &self.rt.privileges,
            running: own_job,
            events,
            dropped,
            message,
            is_error: *is_error,
        }
    }

    /// Acts on what finished dialogs chose, and shows why a dialog did not open as asked.
    pub(super) fn take_dialogs(&mut self) {
        for c in self.rt.dialogs.poll() {
            match c {
                Chosen::Path(Purpose::OpenPreset, p) => self.open_file(p),
                Chosen::Path(Purpose::SavePreset, p) => self.save_to(p),
                Chosen::Path(Purpose::SaveCsv, p) => {
                    let text = crate::ui::sweep::csv(&self.rt.sweep.results);
                    let path = p.display().to_string();
                    let written =
                        crate::preset::io::write_atomic(&p, |f| std::io::Write::write_all(f, text.as_bytes()));
                    match written {
                        Ok(()) => self.say_in(Tab::Sweep, "ui.msg.wrote", None, &[("path", path)], false),
                        Err(e) => {
                            let args = [("path", path), ("error", e.to_string())];
                            self.say_in(Tab::Sweep, "ui.msg.write_failed", None, &args, true);
                        }
                    }
                }
                Chosen::Path(Purpose::SavePcap, p) => self.export_pcap(&p),
                Chosen::Path(Purpose::OpenPcap, p) => self.import_pcap(&p),
                Chosen::Fallback(purpose, why) => {
                    self.say_in(tab_of(purpose), "ui.msg.dialog_fallback", None, &[("reason", why)], false);
                }
                Chosen::Busy(purpose) => self.say_in(tab_of(purpose), "ui.msg.dialog_busy", None, &[], true),
            }
        }
    }
}

/// The tab a file dialog was opened from.
fn tab_of(purpose: Purpose) -> Tab {
    match purpose {
        Purpose::SaveCsv => Tab::Sweep,
        Purpose::OpenPreset | Purpose::SavePreset | Purpose::SavePcap | Purpose::OpenPcap => Tab::Craft,
    }
}
