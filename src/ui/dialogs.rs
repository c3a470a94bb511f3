//! Open and save dialogs (rfd) on their own threads, so the UI never blocks; the chosen path comes back over a
//! channel and the thread asks for a repaint.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

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
            Purpose::OpenPreset | Purpose::SavePreset => (crate::i18n::t("ui.dialog.preset"), &["ron"]),
            Purpose::SaveCsv => ("CSV", &["csv"]),
            Purpose::SavePcap => ("pcap", &["pcap"]),
            Purpose::OpenPcap => (crate::i18n::t("ui.dialog.capture"), &["pcap", "pcapng", "cap"]),
        }
    }

    fn saves(self) -> bool {
        matches!(self, Purpose::SavePreset | Purpose::SaveCsv | Purpose::SavePcap)
    }
}

/// What a finished dialog chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// A path, for this purpose.
    Path(Purpose, PathBuf),
    /// The dialog could not be shown (no portal, say).
    Unavailable(String),
}

/// Pending dialogs.
pub struct Dialogs {
    tx: Sender<Option<Chosen>>,
    rx: Receiver<Option<Chosen>>,
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
    /// Shows a dialog for `purpose`, starting in `dir`, proposing `name` when saving.
    pub fn show(&mut self, ctx: &egui::Context, purpose: Purpose, dir: Option<PathBuf>, name: Option<String>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let (tx, ctx) = (self.tx.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("tcpcraft-dialog".into()).spawn(move || {
            let (label, ext) = purpose.filter();
            let mut d = rfd::AsyncFileDialog::new().add_filter(label, ext);
            if let Some(dir) = dir {
                d = d.set_directory(dir);
            }
            if let Some(n) = name {
                d = d.set_file_name(n);
            }
            let handle =
                if purpose.saves() { pollster::block_on(d.save_file()) } else { pollster::block_on(d.pick_file()) };
            // `None` (cancel) only ends the dialog.
            let _ = tx.send(handle.map(|h| Chosen::Path(purpose, h.path().to_path_buf())));
            ctx.request_repaint();
        });
        if let Err(e) = spawned {
            self.busy = false;
            let _ = self.tx.send(Some(Chosen::Unavailable(e.to_string())));
        }
    }

    /// What the dialogs chose since the last frame.
    pub fn poll(&mut self) -> Vec<Chosen> {
        let mut out = Vec::new();
        while let Ok(c) = self.rx.try_recv() {
            self.busy = false;
            out.extend(c);
        }
        out
    }
}
