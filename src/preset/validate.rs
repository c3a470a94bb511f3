//! Checks beyond the syntax: the version, that names are bound before use, and the bounds of every wait.

use std::collections::HashSet;

use super::expr::{Expr, OWN_NAMES};
use super::schema::{Preset, Step, VERSION};

/// The longest wait a step may ask for.
pub const MAX_WAIT_MS: u64 = 600_000;
/// The most steps a preset may have.
pub const MAX_STEPS: usize = 10_000;

/// A semantic problem and a piece of the source text that locates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// Text to look for in the file to place the error (with which occurrence, 0-based).
    pub near: Option<(String, usize)>,
}

fn problem(message: String, near: Option<(String, usize)>) -> Problem {
    Problem { message, near }
}

/// Every expression of a step, with the field it sits in.
pub fn step_exprs(step: &Step) -> Vec<(&'static str, &Expr)> {
    let mut v = Vec::new();
    match step {
        Step::Send(t) => {
            for (name, e) in [
                ("seq", &t.seq),
                ("ack", &t.ack),
                ("sport", &t.sport),
                ("dport", &t.dport),
                ("window", &t.window),
                ("urgent", &t.urgent),
            ] {
                if let Some(e) = e {
                    v.push((name, e));
                }
            }
        }
        Step::Expect(x) => {
            if let Some(e) = &x.ack {
                v.push(("ack", e));
            }
        }
        Step::ExpectNothing { .. } | Step::Sleep(_) | Step::Peer(_) => {}
    }
    v
}

/// What a preset that is valid to edit still lacks before a run can show anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// It has no steps at all.
    NoSteps,
    /// It sends nothing (only Expect, Sleep steps): nothing will be answered.
    NoSend,
}

/// What `steps` lack to run, if anything: a preset is edited step by step, so an empty or Expect-only list is
/// valid, but it cannot run yet.
pub fn missing_to_run(steps: &[Step]) -> Option<Missing> {
    if steps.is_empty() {
        Some(Missing::NoSteps)
    } else if !steps.iter().any(|s| matches!(s, Step::Send(_))) {
        Some(Missing::NoSend)
    } else {
        None
    }
}

/// Checks a parsed preset (and its exercise's reference solution, when it has one).
pub fn validate(p: &Preset) -> Result<(), Problem> {
    validate_steps(p)?;
    let Some(ex) = &p.exercise else { return Ok(()) };
    let near = Some(("exercise".to_string(), 0));
    if !ex.task.contains_key("en")
        || ex.hints.iter().chain(ex.goals.iter().map(|g| &g.feedback)).any(|t| !t.contains_key("en"))
    {
        return Err(problem("exercise: the task, every hint and every feedback need an \"en\" text".into(), near));
    }
    if ex.goals.is_empty() {
        return Err(problem("exercise: at least one goal is needed".into(), near));
    }
    let solution = Preset { steps: ex.solution.clone(), exercise: None, ..p.clone() };
    validate_steps(&solution).map_err(|e| problem(format!("exercise solution: {}", e.message), near))
}

fn validate_steps(p: &Preset) -> Result<(), Problem> {
    if p.version != VERSION {
        return Err(problem(
            format!("version {} is not supported; this build reads version {VERSION}", p.version),
            Some(("version".into(), 0)),
        ));
    }
    if p.steps.len() > MAX_STEPS {
        return Err(problem(format!("{} steps; a preset has at most {MAX_STEPS}", p.steps.len()), None));
    }
    let mut bound: HashSet<String> = HashSet::new();
    let mut seen_kind = std::collections::HashMap::<&str, usize>::new();
    for (i, step) in p.steps.iter().enumerate() {
        let kind = step.kind();
        let nth = *seen_kind.entry(kind).and_modify(|n| *n += 1).or_insert(0);
        let here = Some((format!("{kind}("), nth));
        let n = i + 1;
        for (field, e) in step_exprs(step) {
            for name in e.names() {
                if let Some((binding, _)) = name.split_once('.') {
                    if !bound.contains(binding) {
                        return Err(problem(
                            format!(
                                "step {n} ({kind}), field {field}: '{name}' is used before any Expect binds '{binding}'"
                            ),
                            Some((format!("\"{}\"", e.text()), 0)),
                        ));
                    }
                }
            }
        }
        let wait = match step {
            Step::Expect(x) => Some(x.within_ms),
            Step::ExpectNothing { within_ms } => Some(*within_ms),
            Step::Sleep(ms) => Some(*ms),
            Step::Send(_) | Step::Peer(_) => None,
        };
        if let Some(w) = wait.filter(|w| *w > MAX_WAIT_MS) {
            return Err(problem(format!("step {n} ({kind}): waits {w} ms; the most is {MAX_WAIT_MS} ms"), here));
        }
        if let Step::Expect(x) = step {
            let ident = x.bind.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && x.bind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ident || OWN_NAMES.contains(&x.bind.as_str()) {
                return Err(problem(
                    format!("step {n} (Expect): bind \"{}\" must be a plain name other than {OWN_NAMES:?}", x.bind),
                    Some((format!("\"{}\"", x.bind), 0)),
                ));
            }
            bound.insert(x.bind.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_send_less_preset_is_valid_to_edit_and_says_what_it_lacks() {
        let mut p =
            crate::preset::builtin::builtin("normal-open").and_then(Result::ok).unwrap_or_else(|| unreachable!());
        p.steps.clear();
        assert_eq!(validate(&p), Ok(()));
        assert_eq!(missing_to_run(&p.steps), Some(Missing::NoSteps));
        p.steps.push(Step::Sleep(10));
        assert_eq!(missing_to_run(&p.steps), Some(Missing::NoSend));
        p.steps.insert(0, Step::Send(Box::default()));
        assert_eq!(missing_to_run(&p.steps), None);
    }
}
