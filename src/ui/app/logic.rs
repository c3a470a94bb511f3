//! Taking in what arrived since the last frame: the worker's messages (events, verdicts, pauses, the end of a
//! job, a target that did not resolve) and the paths chosen in file dialogs.

use super::TcpcraftApp;
use crate::exchange::sweep::Verdict;
use crate::link::privileges::RawPrivileges;
use crate::ui::dialogs::{Chosen, Purpose};
use crate::ui::worker::Msg;

impl TcpcraftApp {
    /// Takes the worker's news into the runtime state.
    pub(super) fn drain_worker(&mut self) {
        let Some(w) = &self.rt.worker else { return };
        for m in w.drain() {
            self.take(m);
        }
    }

    /// One message from the worker.
    fn take(&mut self, m: Msg) {
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
                self.finished(pass, stopped);
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
            Msg::BadTarget(e) => {
                self.rt.running = false;
                self.rt.paused = None;
                self.say("ui.msg.target_error", &[("error", e)], true);
            }
            Msg::SweepProgress(p) => self.rt.sweep.progress = Some(p),
            Msg::SweepDone(r) => {
                let open = r.iter().filter(|x| x.verdict == Verdict::Open).count();
                self.say("ui.msg.sweep_done", &[("n", r.len().to_string()), ("open", open.to_string())], false);
                self.rt.sweep.results = r;
            }
        }
    }

    /// The status line for a job that ended: stopped, a sweep's summary (already on show), a lab's grade, or the
    /// run's own verdict.
    fn finished(&mut self, pass: bool, stopped: bool) {
        let lab = self.state.preset.as_ref().and_then(|p| p.exercise.as_ref());
        let grade = lab.map(|ex| crate::ui::lab::grade(ex, &self.rt.events, &self.rt.verdicts));
        if stopped {
            self.say("ui.msg.stopped", &[], false);
        } else if self.rt.sweeping {
            // The sweep's summary came with its results; "done: 0 events" would hide it.
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

    /// Acts on the paths chosen in finished dialogs.
    pub(super) fn take_dialogs(&mut self) {
        for c in self.rt.dialogs.poll() {
            match c {
                Chosen::Path(Purpose::OpenPreset, p) => self.open_file(p),
                Chosen::Path(Purpose::SavePreset, p) => self.save_to(p),
                Chosen::Path(Purpose::SaveCsv, p) => {
                    let text = crate::ui::sweep::csv(&self.rt.sweep.results);
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
    }
}
