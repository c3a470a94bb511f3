//! The status bar and the "How to enable raw sending" window.

use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

use crate::i18n::{t, tf, tn};
use crate::link::helper::access::{self, Access};
use crate::link::privileges::RawPrivileges;

/// What the status bar of one tab shows (each tab has its own line).
pub struct StatusInfo<'a> {
    /// The link the tab's last job used, or the one chosen.
    pub link: String,
    /// Privileges found at start.
    pub privileges: &'a RawPrivileges,
    /// The tab's own job is going.
    pub running: bool,
    /// Events in the tab's timeline (`None`: the tab has none).
    pub events: Option<usize>,
    /// Capture drops reported by the link.
    pub dropped: u64,
    /// The latest message (errors in red).
    pub message: &'a str,
    /// Whether the message is an error.
    pub is_error: bool,
}

/// Below this width left for the message, it is cut to one line (whole on hover) rather than wrapped.
const NARROW_MESSAGE: f32 = 360.0;

/// Draws the status bar; returns true when the privileges help was asked for.
pub fn bar(ui: &mut Ui, s: &StatusInfo<'_>) -> bool {
    let mut help = false;
    ui.horizontal(|ui| {
        if s.running {
            ui.spinner();
        }
        ui.label(tf("ui.status.link", &[("link", &s.link)]));
        ui.separator();
        if s.privileges.raw {
            ui.label(RichText::new(t("ui.status.raw_available")).color(crate::ui::theme::colors(ui.ctx()).ok));
        } else {
            ui.label(RichText::new(t("ui.status.raw_unavailable")).color(crate::ui::theme::colors(ui.ctx()).warning));
            help = ui.link(t("ui.status.how_to_raw")).clicked();
        }
        if let Some(n) = s.events {
            ui.separator();
            ui.label(tn("ui.status.events", n as u64, &[]));
        }
        if s.dropped > 0 {
            ui.separator();
            ui.label(
                RichText::new(tf("ui.status.dropped", &[("n", &s.dropped.to_string())]))
                    .color(crate::ui::theme::colors(ui.ctx()).error),
            )
            .on_hover_text(t("ui.status.dropped_hint"));
        }
        ui.separator();
        let msg = RichText::new(if s.message.is_empty() { t("ui.msg.ready") } else { s.message });
        let msg = if s.is_error { msg.color(crate::ui::theme::colors(ui.ctx()).error) } else { msg };
        // Wrapped in the width left, so a long message (a path, a reason) is read whole. Where little width is left
        // (1024 pixels, a long translation before it) wrapping would make the bar several lines tall and take them
        // from the timeline: then it is one line, cut with "…", and whole on hover.
        if ui.available_width() < NARROW_MESSAGE {
            ui.add(egui::Label::new(msg).truncate());
        } else {
            ui.add(egui::Label::new(msg).wrap());
        }
    });
    help
}

/// What the window found when it opened: who may use the helper here, and where it is.
#[derive(Clone)]
struct Checked {
    access: Access,
    path: Option<PathBuf>,
}

/// The window that explains why raw mode is unavailable and how to enable it on this OS. On opening it checks
/// the helper once (found? may this user run it? does it hold its capabilities?) and shows the fix for that case.
pub fn privileges_window(ctx: &egui::Context, open: &mut bool, why: &str) {
    let cache = egui::Id::unique("privileges-window-access");
    if !*open {
        // Checked again at the next opening: the user may have fixed something meanwhile.
        ctx.data_mut(|d| d.remove::<Checked>(cache));
        return;
    }
    let checked = ctx.data_mut(|d| d.get_temp::<Checked>(cache)).unwrap_or_else(|| {
        let (access, path) = access::current();
        let c = Checked { access, path };
        ctx.data_mut(|d| d.insert_temp(cache, c.clone()));
        c
    });
    // A fixed id: the title is translated, the window's place and size must survive a switch.
    let window = egui::Window::new(t("ui.status.how_to_raw")).id(egui::Id::unique("privileges-window"));
    window.open(open).resizable(false).default_width(520.0).show(ctx, |ui| {
        privileges_body(ui, why, &checked.access, checked.path.as_deref());
    });
}

/// The window's content: the failure, the verdict for this machine and its fix, the command to copy.
fn privileges_body(ui: &mut Ui, why: &str, access: &Access, path: Option<&Path>) {
    if !why.is_empty() {
        ui.label(RichText::new(why).color(crate::ui::theme::colors(ui.ctx()).warning));
        ui.separator();
    }
    ui.label(t(if cfg!(windows) { "ui.privileges.intro_windows" } else { "ui.privileges.intro" }));
    let linux = cfg!(target_os = "linux");
    if linux {
        ui.label(RichText::new(tf("ui.privileges.here", &[("reason", &access.reason(path))])).strong());
        if *access != Access::Ready {
            ui.label(tf("ui.privileges.todo", &[("fix", &access.fix(path))]));
        }
    }
    let cmd = if linux { access.command(path) } else { Some(crate::link::privileges::fix_command()) };
    if let Some(cmd) = cmd {
        ui.add(egui::TextEdit::multiline(&mut cmd.as_str()).code_editor().desired_rows(2).desired_width(f32::INFINITY));
        if ui.button(t("ui.privileges.copy")).clicked() {
            ui.ctx().copy_text(cmd.clone());
        }
    }
    if linux {
        ui.separator();
        let join = access::join_command(access::GROUP);
        ui.label(tf("ui.privileges.group", &[("group", access::GROUP), ("command", &join)]));
    }
    if cfg!(windows) {
        ui.hyperlink_to(t("ui.privileges.npcap"), "https://npcap.com/#download");
    }
    if cfg!(target_os = "macos") {
        ui.hyperlink_to(t("ui.privileges.chmodbpf"), "https://www.wireshark.org/download.html");
    }
    ui.label(t("ui.privileges.until"));
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use egui_kittest::kittest::Queryable;
    use egui_kittest::Harness;

    use super::*;

    fn shows(access: Access, path: Option<&Path>, want: &[&str], not: &[&str]) {
        let h = Harness::new_ui(|ui| privileges_body(ui, "", &access, path));
        for w in want {
            assert!(h.query_all_by_label_contains(w).next().is_some(), "{access:?}: no label contains {w:?}");
        }
        for n in not {
            assert!(h.query_all_by_label_contains(n).next().is_none(), "{access:?}: a label contains {n:?}");
        }
    }

    #[test]
    fn each_verdict_shows_its_fix_and_the_group_note() {
        let helper = Path::new("/usr/bin/tcpcraft-link");
        let join = "sudo usermod -aG tcpcraft $USER";
        let setcap = "sudo setcap cap_net_raw,cap_net_admin+eip /usr/bin/tcpcraft-link";
        // Not in the group: the join command (in the fix and in the group note), no setcap.
        let not_in = Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: false };
        shows(not_in, Some(helper), &[join, "/usr/bin/tcpcraft-link"], &[setcap]);
        // Listed but not logged in again: newgrp is mentioned, setcap is not.
        let relogin = Access::NotInGroup { group: "tcpcraft".into(), listed_in_etc_group: true };
        shows(relogin, Some(helper), &["newgrp tcpcraft", join], &[setcap]);
        // Runs without capabilities: the setcap command.
        shows(Access::NoCapabilities, Some(helper), &[setcap, join], &[]);
        // An override no group passes: the statoverride hint, with the mode.
        let restricted = Access::Restricted { mode: 0o700, owner: "root".into(), group: "root".into() };
        shows(restricted, Some(helper), &["dpkg-statoverride --list /usr/bin/tcpcraft-link", "0700"], &[setcap]);
        shows(Access::Missing, None, &["TCPCRAFT_LINK", join], &[setcap]);
    }
}
