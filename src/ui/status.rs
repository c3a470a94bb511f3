//! The status bar and the "How to enable raw sending" window.

use egui::{Color32, RichText, Ui};

use crate::i18n::{t, tf};
use crate::link::helper;
use crate::link::privileges::RawPrivileges;

/// What the status bar shows.
pub struct StatusInfo<'a> {
    /// The link in use or chosen.
    pub link: &'a str,
    /// Privileges found at start.
    pub privileges: &'a RawPrivileges,
    /// A run is going.
    pub running: bool,
    /// Events in the timeline.
    pub events: usize,
    /// Capture drops reported by the link.
    pub dropped: u64,
    /// The latest message (errors in red).
    pub message: &'a str,
    /// Whether the message is an error.
    pub is_error: bool,
}

/// Draws the status bar; returns true when the privileges help was asked for.
pub fn bar(ui: &mut Ui, s: &StatusInfo<'_>) -> bool {
    let mut help = false;
    ui.horizontal(|ui| {
        if s.running {
            ui.spinner();
        }
        ui.label(tf("ui.status.link", &[("link", s.link)]));
        ui.separator();
        if s.privileges.raw {
            ui.label(RichText::new(t("ui.status.raw_available")).color(Color32::from_rgb(0x06, 0xd6, 0xa0)));
        } else {
            ui.label(RichText::new(t("ui.status.raw_unavailable")).color(Color32::from_rgb(0xff, 0xd1, 0x66)));
            help = ui.link(t("ui.status.how_to_raw")).clicked();
        }
        ui.separator();
        ui.label(tf("ui.status.events", &[("n", &s.events.to_string())]));
        if s.dropped > 0 {
            ui.label(
                RichText::new(tf("ui.status.dropped", &[("n", &s.dropped.to_string())]))
                    .color(Color32::from_rgb(0xef, 0x47, 0x6f)),
            );
        }
        ui.separator();
        let msg = RichText::new(if s.message.is_empty() { t("ui.msg.ready") } else { s.message });
        ui.label(if s.is_error { msg.color(Color32::from_rgb(0xef, 0x47, 0x6f)) } else { msg });
    });
    help
}

/// The window that explains why raw mode is unavailable and how to enable it on this OS.
pub fn privileges_window(ctx: &egui::Context, open: &mut bool, why: &str) {
    // A fixed id: the title is translated, the window's place and size must survive a switch.
    let window = egui::Window::new(t("ui.status.how_to_raw")).id(egui::Id::unique("privileges-window"));
    window.open(open).resizable(false).default_width(520.0).show(ctx, |ui| {
        if !why.is_empty() {
            ui.label(RichText::new(why).color(Color32::from_rgb(0xff, 0xd1, 0x66)));
            ui.separator();
        }
        ui.label(t("ui.privileges.intro"));
        let found = helper::locate().ok();
        let cmd = if cfg!(target_os = "linux") {
            helper::setcap_command(found.as_deref())
        } else {
            crate::link::privileges::fix_command()
        };
        ui.add(egui::TextEdit::multiline(&mut cmd.as_str()).code_editor().desired_rows(2).desired_width(f32::INFINITY));
        if ui.button(t("ui.privileges.copy")).clicked() {
            ui.ctx().copy_text(cmd.clone());
        }
        if cfg!(windows) {
            ui.hyperlink_to(t("ui.privileges.npcap"), "https://npcap.com/#download");
        }
        if cfg!(target_os = "macos") {
            ui.hyperlink_to(t("ui.privileges.chmodbpf"), "https://www.wireshark.org/download.html");
        }
        ui.label(t("ui.privileges.until"));
    });
}
