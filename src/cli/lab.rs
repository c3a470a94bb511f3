//! `tcpcraft lab`: list the bundled lab exercises, and grade one headless (`lab check FILE`) for instructors.

use clap::{Args, Subcommand};
use serde_json::json;

use super::error::CliError;
use crate::exchange::lab;
use crate::i18n;
use crate::preset::schema::text_in;
use crate::preset::{self, builtin};

/// What `tcpcraft lab` does.
#[derive(Subcommand, Debug, Clone)]
pub enum LabCommand {
    /// List the bundled lab exercises with their tasks.
    List,
    /// Run a lab on the simulated lab host and grade it: ✓/✗ per goal, with the exercise's feedback.
    Check(CheckArgs),
}

/// Arguments of `tcpcraft lab check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The lab: a saved .ron file (a student's work) or a bundled lab's name.
    pub file: String,
    /// Grade the exercise's reference solution instead of the file's steps.
    #[arg(long)]
    pub solution: bool,
    /// Print the grade as JSON.
    #[arg(long)]
    pub json: bool,
    /// Seed for the run's random numbers (our ISN and source port, the lab host's ISNs): the same seed repeats a
    /// run exactly. Without one, the lab's `sim: (seed: N)` is used, else a new random seed; `--json` names it.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// The rendered grade and whether every goal was met.
pub struct LabOutput {
    /// What to print.
    pub text: String,
    /// Every goal met.
    pub pass: bool,
}

/// Lists the bundled labs.
pub fn list() -> Result<String, CliError> {
    let lang = i18n::current();
    let mut out = String::new();
    for (name, p) in builtin::labs() {
        let task = p.exercise.as_ref().map_or("", |e| text_in(&e.task, lang));
        out += &format!("{name:<26} {task}\n");
    }
    Ok(out.trim_end().to_string())
}

/// Grades a lab.
pub fn check(args: &CheckArgs) -> Result<LabOutput, CliError> {
    let lang = i18n::current();
    let p = preset::resolve(&args.file).map_err(|e| CliError::Preset(e.to_string()))?;
    let Some(result) = lab::check(&p, args.solution, lang, args.seed) else {
        let msg = i18n::fill(i18n::get_in(lang, "lab.not_an_exercise").unwrap_or("{name}"), &[("name", &args.file)]);
        return Err(CliError::Preset(msg));
    };
    let lab::Checked { grade, timeline, seed } = result.map_err(|e| CliError::Preset(format!("{}: {e}", args.file)))?;
    let which = i18n::t(if args.solution { "lab.solution" } else { "lab.your_steps" });
    let task = p.exercise.as_ref().map_or("", |e| text_in(&e.task, lang));
    let text = if args.json {
        json!({
            "lab": p.name,
            "graded": if args.solution { "solution" } else { "steps" },
            "lang": lang,
            "pass": grade.pass,
            "goals": grade.goals,
            "events": timeline.events.len(),
            "seed": seed,
        })
        .to_string()
    } else {
        let mut out = format!("{} ({which})\n{}: {task}\n\n", p.name, i18n::t("lab.task"));
        for g in &grade.goals {
            out += &format!("{} {}\n", if g.met { "✓" } else { "✗" }, g.check);
            if let Some(f) = &g.feedback {
                out += &format!("    → {f}\n");
            }
        }
        let left = grade.goals.iter().filter(|g| !g.met).count().to_string();
        out += &if grade.pass { i18n::t("lab.passed").to_string() } else { i18n::tf("lab.failed", &[("n", &left)]) };
        out
    };
    Ok(LabOutput { text, pass: grade.pass })
}
