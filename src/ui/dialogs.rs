//! File dialogs that always open. The system's dialog (rfd) runs on its own thread, so the UI never blocks, and
//! its answer comes back over a channel; the thread asks for a repaint. When the system dialog cannot open
//! (Linux without a D-Bus session bus has no desktop portal; or rfd gives up faster than anyone could cancel,
//! which is how its portal backend fails), tcpcraft's own dialog (egui_file) opens in the window instead, says
//! why once, and is used for the rest of the session. Saving over an existing file asks first.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use egui_file::{FileDialog, State};

use crate::i18n::{t, tf};

/// A system dialog that answers "no file" sooner than this never showed: nobody cancels that fast.
const AT_ONCE: Duration = Duration::from_millis(500);

/// What a dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Open a preset.
    OpenPreset,
    /// Save the current preset.
    SavePreset,
    /// Write sweep results as CSV.
    SaveCsv,
    /// Write the timeline as pcap.
    SavePcap,
    /// Read a capture into the timeline.
    OpenPcap,
}

impl Purpose {
    fn filter(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Purpose::OpenPreset | Purpose::SavePreset => (t("ui.dialog.preset"), &["ron"]),
            Purpose::SaveCsv => ("CSV", &["csv"]),
            Purpose::SavePcap => ("pcap", &["pcap"]),
            Purpose::OpenPcap => (t("ui.dialog.capture"), &["pcap", "pcapng", "cap"]),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Purpose::OpenPreset => t("ui.dialog.title_open_preset"),
            Purpose::SavePreset => t("ui.dialog.title_save_preset"),
            Purpose::SaveCsv => t("ui.dialog.title_save_csv"),
            Purpose::SavePcap => t("ui.dialog.title_save_pcap"),
            Purpose::OpenPcap => t("ui.dialog.title_open_pcap"),
        }
    }

    /// Whether the dialog names a file to write.
    pub fn saves(self) -> bool {
        matches!(self, Purpose::SavePreset | Purpose::SaveCsv | Purpose::SavePcap)
    }

    /// A name to save under, with the purpose's extension added when it has none ("mine" becomes "mine.ron").
    pub fn with_extension(self, path: PathBuf) -> PathBuf {
        let (_, ext) = self.filter();
        match (self.saves(), path.extension(), ext.first()) {
            (true, None, Some(e)) => path.with_extension(e),
            _ => path,
        }
    }

    fn accepts(self, path: &Path) -> bool {
        let (_, ext) = self.filter();
        path.extension().and_then(|e| e.to_str()).is_some_and(|e| ext.iter().any(|x| x.eq_ignore_ascii_case(e)))
    }
}

/// What a dialog ended with. A cancelled dialog ends with nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// A path, for this purpose.
    Path(Purpose, PathBuf),
    /// The system dialog could not open, so tcpcraft's own is open instead; the text says why.
    Fallback(Purpose, String),
    /// Another file dialog is still open.
    Busy(Purpose),
}

/// What the system dialog's thread reports.
struct Native {
    ask: Ask,
    path: Option<PathBuf>,
    took: Duration,
}

/// A dialog as asked for: what for, where to start, the name to propose.
#[derive(Clone, Debug)]
struct Ask {
    purpose: Purpose,
    dir: Option<PathBuf>,
    name: Option<String>,
}

/// Whether the system dialog is used.
#[derive(Clone, Debug, PartialEq, Eq)]
enum System {
    /// Not tried yet, or it worked.
    Usable,
    /// It cannot open here (the reason was shown once); tcpcraft's own dialog is used.
    Unusable,
    /// Never tried: tcpcraft's own dialog only (tests, and machines known to lack a portal).
    Off,
}

/// Open and pending dialogs.
pub struct Dialogs {
    tx: Sender<Native>,
    rx: Receiver<Native>,
    system: System,
    /// The system dialog's thread is running.
    waiting: bool,
    /// tcpcraft's own dialog, when open, and what for.
    in_app: Option<(Purpose, FileDialog)>,
    /// A chosen file that exists, waiting for "Replace".
    replace: Option<(Purpose, PathBuf)>,
    /// Where the last chosen capture or CSV was: the next such dialog starts there (preset dialogs start in the
    /// presets folder).
    last_dir: Option<PathBuf>,
    done: Vec<Chosen>,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Dialogs {
            tx,
            rx,
            system: System::Usable,
            waiting: false,
            in_app: None,
            replace: None,
            last_dir: None,
            done: Vec::new(),
        }
    }
}

impl Dialogs {
    /// Dialogs that never try the system's: tcpcraft's own opens at once (for tests, and the fallback path).
    pub fn in_app_only() -> Dialogs {
        Dialogs { system: System::Off, ..Dialogs::default() }
    }

    /// Whether a dialog (the system's, tcpcraft's own, or the question before replacing a file) is open.
    pub fn busy(&self) -> bool {
        self.waiting || self.in_app.is_some() || self.replace.is_some()
    }

    /// Whether tcpcraft's own dialog is on show.
    pub fn in_app_open(&self) -> bool {
        self.in_app.is_some()
    }

    /// Where the next dialog starts when its caller names no folder.
    pub fn start_in(&mut self, dir: PathBuf) {
        self.last_dir = Some(dir);
    }

    /// Shows a dialog for `purpose`, starting in `dir` (else where the last one ended), proposing `name` when
    /// saving. The answer comes from [`Dialogs::poll`].
    pub fn show(&mut self, ctx: &egui::Context, purpose: Purpose, dir: Option<PathBuf>, name: Option<String>) {
        if self.busy() {
            self.done.push(Chosen::Busy(purpose));
            return;
        }
        let ask = Ask { purpose, dir: dir.or_else(|| self.last_dir.clone()), name };
        if self.system == System::Usable {
            if let Some(why) = system_unavailable() {
                self.system = System::Unusable;
                self.done.push(Chosen::Fallback(purpose, why));
            }
        }
        if self.system != System::Usable {
            self.open_in_app(ask);
            return;
        }
        self.waiting = true;
        let (tx, ctx2) = (self.tx.clone(), ctx.clone());
        let thread_ask = ask.clone();
        let spawned = std::thread::Builder::new().name("tcpcraft-dialog".into()).spawn(move || {
            let started = Instant::now();
            let path = system_dialog(&thread_ask);
            let _ = tx.send(Native { ask: thread_ask, path, took: started.elapsed() });
            ctx2.request_repaint();
        });
        if let Err(e) = spawned {
            self.waiting = false;
            self.system = System::Unusable;
            self.done.push(Chosen::Fallback(purpose, e.to_string()));
            self.open_in_app(ask);
        }
    }

    fn open_in_app(&mut self, ask: Ask) {
        let purpose = ask.purpose;
        let start = ask.dir.filter(|d| d.is_dir()).or_else(home).or_else(|| std::env::current_dir().ok());
        let mut d = if purpose.saves() { FileDialog::save_file() } else { FileDialog::open_file() };
        d = d
            .id(egui::Id::unique("tcpcraft-file-dialog"))
            .title(purpose.title())
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .default_size([560.0, 400.0])
            .keep_on_top(true)
            // Both only print their errors; a failure here must be seen, so they are left out.
            .show_rename(false)
            .show_new_folder(false)
            .open_button_text(Cow::Borrowed(t("ui.dialog.open")))
            .save_button_text(Cow::Borrowed(t("ui.dialog.save")))
            .cancel_button_text(Cow::Borrowed(t("ui.dialog.cancel")))
            .file_label_text(Cow::Borrowed(t("ui.dialog.file")))
            .show_hidden_checkbox_text(Cow::Borrowed(t("ui.dialog.hidden")))
            .refresh_button_hover_text(Cow::Borrowed(t("ui.dialog.refresh")))
            .parent_folder_button_hover_text(Cow::Borrowed(t("ui.dialog.parent")))
            .show_files_filter(Box::new(move |p: &Path| purpose.accepts(p)));
        if let Some(dir) = start {
            d = d.initial_path(dir);
        }
        if let Some(n) = ask.name {
            d = d.default_filename(n);
        }
        d.open();
        self.in_app = Some((purpose, d));
    }

    /// Draws tcpcraft's own dialog and the "Replace?" question, when open. Call once per frame.
    pub fn ui(&mut self, ctx: &egui::Context) {
        if let Some((purpose, d)) = &mut self.in_app {
            let purpose = *purpose;
            let state = d.show(ctx).state();
            let path = d.path().map(Path::to_path_buf);
            match (state, path) {
                (State::Open, _) => {}
                (State::Selected, Some(p)) => {
                    self.in_app = None;
                    self.chose(purpose, p, false);
                }
                // Cancelled (or closed): nothing was chosen.
                _ => self.in_app = None,
            }
        }
        if let Some((purpose, path)) = self.replace.clone() {
            let answer = egui::Modal::new(egui::Id::unique("tcpcraft-replace-file")).show(ctx, |ui| {
                // A long path wraps instead of widening the question past the window.
                ui.set_max_width(480.0);
                ui.heading(t("ui.dialog.replace_title"));
                ui.label(tf("ui.dialog.replace_question", &[("path", &path.display().to_string())]));
                ui.horizontal(|ui| {
                    if ui.button(t("ui.dialog.replace")).clicked() {
                        Some(true)
                    } else if ui.button(t("ui.dialog.cancel")).clicked() {
                        Some(false)
                    } else {
                        None
                    }
                })
                .inner
            });
            let answer = if answer.should_close() { Some(false) } else { answer.inner };
            match answer {
                Some(true) => {
                    self.replace = None;
                    self.done.push(Chosen::Path(purpose, path));
                }
                Some(false) => self.replace = None,
                None => {}
            }
        }
    }

    /// A path was chosen: saving over an existing file asks first, unless the system dialog already asked.
    fn chose(&mut self, purpose: Purpose, path: PathBuf, asked: bool) {
        let path = purpose.with_extension(path);
        if !matches!(purpose, Purpose::OpenPreset | Purpose::SavePreset) {
            self.last_dir = path.parent().map(Path::to_path_buf);
        }
        if purpose.saves() && path.exists() && !asked {
            self.replace = Some((purpose, path));
        } else {
            self.done.push(Chosen::Path(purpose, path));
        }
    }

    /// What the dialogs ended with since the last call. A system dialog that answered "no file" at once never
    /// showed: tcpcraft's own opens in its place, and the system's is not tried again this session.
    pub fn poll(&mut self) -> Vec<Chosen> {
        while let Ok(n) = self.rx.try_recv() {
            self.waiting = false;
            match n.path {
                Some(p) => {
                    // The system dialog asked before replacing, unless the extension was added here.
                    let asked = n.ask.purpose.with_extension(p.clone()) == p;
                    self.chose(n.ask.purpose, p, asked);
                }
                None if n.took < AT_ONCE => {
                    self.system = System::Unusable;
                    self.done.push(Chosen::Fallback(n.ask.purpose, t("ui.dialog.closed_at_once").to_string()));
                    self.open_in_app(n.ask);
                }
                None => {} // cancelled
            }
        }
        std::mem::take(&mut self.done)
    }
}

/// The system dialog, run to its end on the calling thread (never the UI's).
fn system_dialog(ask: &Ask) -> Option<PathBuf> {
    let (label, ext) = ask.purpose.filter();
    let mut d = rfd::AsyncFileDialog::new().add_filter(label, ext).set_title(ask.purpose.title());
    if let Some(dir) = &ask.dir {
        d = d.set_directory(dir);
    }
    if let Some(n) = &ask.name {
        d = d.set_file_name(n);
    }
    let handle =
        if ask.purpose.saves() { pollster::block_on(d.save_file()) } else { pollster::block_on(d.pick_file()) };
    handle.map(|h| h.path().to_path_buf())
}

/// The home folder, where tcpcraft's own dialog starts when nothing better is known.
fn home() -> Option<PathBuf> {
    std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" }).map(PathBuf::from).filter(|p| p.is_dir())
}

/// Why the system dialog cannot open here, when that is cheap to tell before trying. On Linux and the BSDs rfd
/// asks xdg-desktop-portal over the D-Bus session bus, and falls back to zenity: with neither a session bus nor
/// zenity, nothing can show.
fn system_unavailable() -> Option<String> {
    if !cfg!(all(unix, not(target_os = "macos"))) {
        return None;
    }
    let env_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty());
    let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists());
    let zenity =
        std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join("zenity").is_file()));
    (!env_bus && !runtime_bus && !zenity).then(|| t("ui.dialog.no_session_bus").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_name_gets_the_purposes_extension_and_keeps_its_own() {
        let p = Purpose::SavePreset.with_extension(PathBuf::from("/tmp/mine"));
        assert_eq!(p, PathBuf::from("/tmp/mine.ron"));
        let p = Purpose::SavePcap.with_extension(PathBuf::from("/tmp/a.cap"));
        assert_eq!(p, PathBuf::from("/tmp/a.cap"));
        let p = Purpose::OpenPreset.with_extension(PathBuf::from("/tmp/x"));
        assert_eq!(p, PathBuf::from("/tmp/x"), "an opened file is taken as it is");
        assert!(Purpose::OpenPcap.accepts(Path::new("a.PCAPNG")) && !Purpose::OpenPcap.accepts(Path::new("a.ron")));
    }

    #[test]
    fn a_system_dialog_that_answers_at_once_gives_way_to_the_in_app_one() {
        let mut d = Dialogs::default();
        let ask = Ask { purpose: Purpose::SavePcap, dir: None, name: Some("t.pcap".into()) };
        d.waiting = true;
        d.tx.send(Native { ask, path: None, took: Duration::from_millis(3) }).ok();
        let got = d.poll();
        assert!(matches!(&got[..], [Chosen::Fallback(Purpose::SavePcap, _)]), "{got:?}");
        assert!(d.in_app_open() && d.busy());
        assert_eq!(d.system, System::Unusable, "the system dialog is not tried again");
        // A second request while it is open is refused, visibly.
        d.show(&egui::Context::default(), Purpose::OpenPreset, None, None);
        assert_eq!(d.poll(), vec![Chosen::Busy(Purpose::OpenPreset)]);
    }

    #[test]
    fn a_slow_no_is_a_cancel() {
        let mut d = Dialogs::default();
        let ask = Ask { purpose: Purpose::OpenPreset, dir: None, name: None };
        d.waiting = true;
        d.tx.send(Native { ask, path: None, took: Duration::from_secs(4) }).ok();
        assert!(d.poll().is_empty());
        assert!(!d.busy());
        assert_eq!(d.system, System::Usable);
    }
}
