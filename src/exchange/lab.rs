//! Grading lab exercises: a finished run's timeline is checked against the exercise's goals, and every unmet goal
//! gives the student its feedback. Runs for grading go to the simulated lab host, so grading is deterministic
//! and needs no privileges.

use serde::Serialize;

use super::session::{self, FlowRequest, LinkChoice, Target};
use super::{run, RunError, RunOptions, Silent, StepVerdict, Timeline, TimelineEvent};
use crate::i18n::{self, Lang};
use crate::link::Origin;
use crate::preset::schema::{text_in, Check, Exercise, Preset};
use crate::wire::TcpFlags;

/// The result of one goal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoalResult {
    /// Whether the run reached it.
    pub met: bool,
    /// What was checked, in words.
    pub check: String,
    /// The exercise's feedback, when the goal was not met.
    pub feedback: Option<String>,
}

/// The grade of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grade {
    /// Every goal met.
    pub pass: bool,
    /// One result per goal, in the exercise's order.
    pub goals: Vec<GoalResult>,
}

fn exactly(events: &[TimelineEvent], origin: Origin, flags: TcpFlags) -> bool {
    events.iter().any(|e| e.origin == origin && e.segment.is_some() && e.flags() == flags)
}

/// Whether a run's events and verdicts meet one check.
pub fn met(check: &Check, events: &[TimelineEvent], verdicts: &[StepVerdict]) -> bool {
    match check {
        Check::PeerSent(f) => exactly(events, Origin::Peer, f.0),
        Check::PeerNever(f) => !events.iter().any(|e| e.origin == Origin::Peer && e.flags().bits() & f.0.bits() != 0),
        Check::WeSent(f) => exactly(events, Origin::Crafted, f.0),
        Check::WeNever(f) => !exactly(events, Origin::Crafted, f.0),
        Check::PeerAcked(n) => events.iter().any(|e| e.origin == Origin::Peer && e.flags().ack && e.rel_ack >= *n),
        Check::WeAckedFin => events.iter().filter(|e| e.origin == Origin::Peer && e.flags().fin).any(|fin| {
            let Some(f) = &fin.segment else { return false };
            let want = f.tcp.seq.wrapping_add(u32::try_from(f.payload.len()).unwrap_or(0)).wrapping_add(1);
            events.iter().any(|e| {
                e.origin == Origin::Crafted && e.flags().ack && e.segment.as_ref().is_some_and(|s| s.tcp.ack == want)
            })
        }),
        Check::ExpectsMet => !verdicts.is_empty() && verdicts.iter().all(|v| v.pass),
        Check::WeReached(s) => super::states::infer(events).iter().any(|st| st.us == *s),
        Check::PeerReached(s) => super::states::infer(events).iter().any(|st| st.peer == *s),
        Check::PeerEndedIn(s) => super::states::infer(events).last().is_some_and(|st| st.peer == *s),
    }
}

/// The check in words, in `lang`.
pub fn describe(check: &Check, lang: Lang) -> String {
    let (key, arg) = match check {
        Check::PeerSent(f) => ("lab.check.peer_sent", f.0.wireshark()),
        Check::PeerNever(f) => ("lab.check.peer_never", f.0.wireshark()),
        Check::WeSent(f) => ("lab.check.we_sent", f.0.wireshark()),
        Check::WeNever(f) => ("lab.check.we_never", f.0.wireshark()),
        Check::PeerAcked(n) => ("lab.check.peer_acked", n.to_string()),
        Check::WeAckedFin => ("lab.check.we_acked_fin", String::new()),
        Check::ExpectsMet => ("lab.check.expects_met", String::new()),
        Check::WeReached(s) => ("lab.check.we_reached", s.rfc_name().to_owned()),
        Check::PeerReached(s) => ("lab.check.peer_reached", s.rfc_name().to_owned()),
        Check::PeerEndedIn(s) => ("lab.check.peer_ended_in", s.rfc_name().to_owned()),
    };
    i18n::fill(i18n::get_in(lang, key).unwrap_or(key), &[("flags", &arg), ("n", &arg), ("state", &arg)])
}

/// Grades a run's events and verdicts (a [`Timeline`]'s, or the GUI's) against an exercise.
pub fn grade(ex: &Exercise, events: &[TimelineEvent], verdicts: &[StepVerdict], lang: Lang) -> Grade {
    let goals: Vec<GoalResult> = ex
        .goals
        .iter()
        .map(|g| {
            let ok = met(&g.check, events, verdicts);
            GoalResult {
                met: ok,
                check: describe(&g.check, lang),
                feedback: (!ok).then(|| text_in(&g.feedback, lang).to_string()),
            }
        })
        .collect();
    Grade { pass: goals.iter().all(|g| g.met), goals }
}

/// A graded run: the grade, the run's timeline, and the seed it ran with (to repeat it).
#[derive(Clone, Debug)]
pub struct Checked {
    /// Goal by goal.
    pub grade: Grade,
    /// What happened.
    pub timeline: Timeline,
    /// The run's seed ([`super::seed`]): given, the preset's, or random.
    pub seed: u64,
}

/// Runs the preset's steps (or, with `solution`, its exercise's reference solution) on the simulated lab host and
/// grades the run, seeded with `seed` (else the preset's seed, else a random one). `None` when the preset is not
/// an exercise.
pub fn check(p: &Preset, solution: bool, lang: Lang, seed: Option<u64>) -> Option<Result<Checked, RunError>> {
    let ex = p.exercise.as_ref()?;
    let steps = if solution { ex.solution.clone() } else { p.steps.clone() };
    let preset = Preset { steps, ..p.clone() };
    let req = FlowRequest {
        target: Target::Lab,
        choice: LinkChoice::Sim,
        lab: p.sim.clone().unwrap_or_default(),
        seed,
        ..FlowRequest::default()
    };
    let mut opened = match session::open_flow(&req) {
        Ok(o) => o,
        Err(e) => return Some(Err(RunError::Link(e))),
    };
    let opts = RunOptions {
        target: opened.dst,
        dport: p.port,
        src: opened.src,
        sport: None,
        isn: None,
        seed: Some(opened.seed.value),
        linger_ms: 50,
    };
    let seed = opened.seed.value;
    Some(run(&preset, opened.link.as_mut(), &opts, &mut Silent).map(|r| Checked {
        grade: grade(ex, &r.timeline.events, &r.timeline.verdicts, lang),
        timeline: r.timeline,
        seed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bundled lab: the reference solution passes, the starting steps fail with the exercise's feedback.
    #[test]
    fn bundled_labs_grade_their_solution_and_their_start() {
        let labs = crate::preset::builtin::labs();
        assert!(labs.len() >= 6, "at least six labs: {}", labs.len());
        for (name, p) in labs {
            for lang in Lang::ALL {
                let Checked { grade: good, timeline: t, seed } = check(&p, true, lang, Some(7)).unwrap().unwrap();
                assert!(good.pass, "{name} ({lang:?}): the reference solution fails: {good:#?}\n{:#?}", t.events);
                assert_eq!(seed, 7);
                let bad = check(&p, false, lang, Some(7)).unwrap().unwrap().grade;
                assert!(!bad.pass, "{name}: the starting steps already pass");
                let ex = p.exercise.as_ref().unwrap();
                for (g, r) in ex.goals.iter().zip(&bad.goals) {
                    if !r.met {
                        assert_eq!(r.feedback.as_deref(), Some(text_in(&g.feedback, lang)), "{name}");
                        assert!(!r.feedback.as_deref().unwrap_or("").is_empty(), "{name}: empty feedback");
                    }
                }
                if lang == Lang::Ko {
                    let fb = bad.goals.iter().find_map(|g| g.feedback.clone()).unwrap();
                    assert!(
                        fb.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)),
                        "{name}: Korean feedback: {fb}"
                    );
                }
            }
        }
    }

    /// The grade does not depend on the seed: every bundled lab grades alike under random seeds (each run names
    /// its seed, so a failure here can be repeated).
    #[test]
    fn bundled_labs_grade_alike_under_any_seed() {
        for (name, p) in crate::preset::builtin::labs() {
            for _ in 0..8 {
                let good = check(&p, true, Lang::En, None).unwrap().unwrap();
                assert!(good.grade.pass, "{name}: the solution fails with seed {}", good.seed);
                let bad = check(&p, false, Lang::En, None).unwrap().unwrap();
                assert!(!bad.grade.pass, "{name}: the start passes with seed {}", bad.seed);
            }
        }
    }
}
