//! `tcpcraft lab` end to end: every bundled lab's reference solution passes on the simulated host, its starting
//! steps fail with the exercise's feedback text (in English and Korean), and a student's saved file is graded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

use std::process::Command;

use tcpcraft::preset::builtin::labs;
use tcpcraft::preset::io::save;
use tcpcraft::preset::schema::{text_in, Preset};

fn tcpcraft(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).env("LANG", "C").output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn every_lab_solution_passes_and_its_start_fails_with_feedback() {
    let all = labs();
    assert!(all.len() >= 10, "ten labs, four of them on TCP states");
    for (name, p) in all {
        let (code, out, err) = tcpcraft(&["lab", "check", name, "--solution", "--json"]);
        assert_eq!(code, 0, "{name} solution: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["pass"], true, "{v:#}");

        let ex = p.exercise.as_ref().unwrap();
        for (lang, flag) in [(tcpcraft::i18n::Lang::En, "en"), (tcpcraft::i18n::Lang::Ko, "ko")] {
            let (code, out, _) = tcpcraft(&["--lang", flag, "lab", "check", name]);
            assert_eq!(code, 1, "{name} start must fail: {out}");
            assert!(out.contains('✗'), "{out}");
            let shown = ex.goals.iter().map(|g| text_in(&g.feedback, lang)).filter(|f| out.contains(*f)).count();
            assert!(shown >= 1, "{name} ({flag}): no feedback text in\n{out}");
        }
    }
}

#[test]
fn a_students_saved_file_is_graded_and_bad_input_is_refused() {
    let (_, mut p): (_, Preset) = labs().into_iter().find(|(n, _)| *n == "lab-04-half-open").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my-half-open.ron");
    // The student's answer: the reference solution, saved as their own steps.
    p.steps = p.exercise.as_ref().unwrap().solution.clone();
    save(&path, &p).unwrap();
    let (code, out, err) = tcpcraft(&["lab", "check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("✓") && out.contains("Exercise solved"), "{out}");

    let (code, _, err) = tcpcraft(&["lab", "check", "normal-open"]);
    assert_eq!(code, 2, "a preset without an exercise is bad input: {err}");
    assert!(err.contains("not a lab exercise"), "{err}");
    let (code, _, err) = tcpcraft(&["lab", "check", "/nonexistent/lab.ron"]);
    assert_eq!(code, 2, "{err}");
}
