//! The lab panel: a preset with an `exercise` shows its task, hints on request, and after a run each goal with
//! ✔ or ✖ and the exercise's feedback. Grading is the same code as `tcpcraft lab check`.

use egui::{RichText, Ui};

use crate::exchange::lab;
use crate::exchange::{StepVerdict, TimelineEvent};
use crate::i18n::{self, t, tf, tn};
use crate::preset::schema::{text_in, Exercise};

/// What the panel remembers between frames.
#[derive(Clone, Debug, Default)]
pub struct LabView {
    /// How many hints the student has opened.
    pub hints_shown: usize,
}

/// Grades a finished run shown in the GUI, in the current language.
pub fn grade(ex: &Exercise, events: &[TimelineEvent], verdicts: &[StepVerdict]) -> lab::Grade {
    lab::grade(ex, events, verdicts, i18n::current())
}

/// Draws the panel; `graded` is the grade of this lab's last finished run, if it has one (before that, and after
/// another preset or lab is chosen, the goals show without ✔ or ✖).
pub fn show(ui: &mut Ui, ex: &Exercise, view: &mut LabView, graded: Option<&lab::Grade>) {
    let lang = i18n::current();
    egui::Frame::group(ui.style()).fill(ui.visuals().faint_bg_color).show(ui, |ui| {
        ui.label(RichText::new(format!("🎓 {}", t("lab.task"))).strong());
        ui.label(text_in(&ex.task, lang));
        for (i, h) in ex.hints.iter().take(view.hints_shown).enumerate() {
            ui.label(
                RichText::new(format!("💡 {}: {}", tf("lab.hint", &[("n", &(i + 1).to_string())]), text_in(h, lang)))
                    .italics(),
            );
        }
        if view.hints_shown < ex.hints.len() && ui.button(t("lab.show_hint")).clicked() {
            view.hints_shown += 1;
        }
        ui.add_space(4.0);
        ui.label(RichText::new(t("lab.goals")).strong());
        match graded {
            None => {
                for g in &ex.goals {
                    ui.label(format!("• {}", lab::describe(&g.check, lang)));
                }
            }
            Some(grade) => {
                for g in &grade.goals {
                    let pal = crate::ui::theme::colors(ui.ctx());
                    let (mark, color) = if g.met { ("✔", pal.ok) } else { ("✖", pal.error) };
                    ui.label(RichText::new(format!("{mark} {}", g.check)).color(color));
                    if let Some(f) = &g.feedback {
                        ui.label(RichText::new(format!("      {f}")).italics().color(color));
                    }
                }
                let left = grade.goals.iter().filter(|g| !g.met).count() as u64;
                let verdict = if grade.pass { t("lab.passed").to_string() } else { tn("lab.not_yet", left, &[]) };
                let pal = crate::ui::theme::colors(ui.ctx());
                ui.label(RichText::new(verdict).strong().color(if grade.pass { pal.ok } else { pal.error }));
            }
        }
    });
}
