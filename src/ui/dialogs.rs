//! Open and save dialogs (rfd) on their own threads, so the UI never blocks; the chosen path comes back over a
//! channel and the thread asks for a repaint.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

/// What a finished dialog was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// A preset file to open.
    Open(PathBuf),
    /// Where to save the current preset.
    SaveAs(PathBuf),
    /// Where to write sweep results as CSV.
    SaveCsv(PathBuf),
    /// The dialog could not be shown (no portal, say).
    Unavailable(String),
}

/// Pending dialogs.
pub struct Dialogs {
    tx: Sender<Chosen>,
    rx: Receiver<Chosen>,
    /// A dialog is open right now.
    pub busy: bool,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Dialogs { tx, rx, busy: false }
    }
}

impl Dialogs {
    /// Shows an open dialog for `.ron` presets, starting in `dir`.
    pub fn open(&mut self, ctx: &egui::Context, dir: Option<PathBuf>) {
        self.spawn(ctx, dir, None);
    }

    /// Shows a save dialog, proposing `name`.
    pub fn save_as(&mut self, ctx: &egui::Context, dir: Option<PathBuf>, name: String) {
        self.spawn(ctx, dir, Some(name));
    }

    /// Shows a save dialog for a CSV file.
    pub fn save_csv(&mut self, ctx: &egui::Context) {
        if self.busy {
            return;
        }
        self.busy = true;
        let (tx, ctx) = (self.tx.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("tcpcraft-dialog".into()).spawn(move || {
            let d = rfd::AsyncFileDialog::new().add_filter("CSV", &["csv"]).set_file_name("sweep.csv");
            if let Some(h) = pollster::block_on(d.save_file()) {
                let _ = tx.send(Chosen::SaveCsv(h.path().to_path_buf()));
            }
            let _ = tx.send(Chosen::Unavailable(String::new()));
            ctx.request_repaint();
        });
        if let Err(e) = spawned {
            self.busy = false;
            let _ = self.tx.send(Chosen::Unavailable(e.to_string()));
        }
    }

    fn spawn(&mut self, ctx: &egui::Context, dir: Option<PathBuf>, save_name: Option<String>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let (tx, ctx) = (self.tx.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("tcpcraft-dialog".into()).spawn(move || {
            let mut d = rfd::AsyncFileDialog::new().add_filter("tcpcraft preset", &["ron"]);
            if let Some(dir) = dir {
                d = d.set_directory(dir);
            }
            let result = match save_name {
                Some(name) => pollster::block_on(d.set_file_name(name).save_file())
                    .map(|h| Chosen::SaveAs(h.path().to_path_buf())),
                None => pollster::block_on(d.pick_file()).map(|h| Chosen::Open(h.path().to_path_buf())),
            };
            // `None` is a cancel; nothing to report.
            if let Some(r) = result {
                let _ = tx.send(r);
            }
            let _ = tx.send(Chosen::Unavailable(String::new()));
            ctx.request_repaint();
        });
        if let Err(e) = spawned {
            self.busy = false;
            let _ = self.tx.send(Chosen::Unavailable(e.to_string()));
        }
    }

    /// What the dialogs chose since the last frame.
    pub fn poll(&mut self) -> Vec<Chosen> {
        let mut out = Vec::new();
        while let Ok(c) = self.rx.try_recv() {
            match c {
                // The end-of-dialog marker (empty) only clears `busy`.
                Chosen::Unavailable(msg) if msg.is_empty() => self.busy = false,
                other => out.push(other),
            }
        }
        out
    }
}
