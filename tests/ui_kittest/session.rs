//! Names resolved on the worker; the CLI and the GUI sweep a preset's lab host alike.

use super::*;

/// A host name that never resolves (`.invalid`): the click only queues the run (the frame does not wait for the
/// resolver), and the worker's report of the failure reaches the status bar.
#[test]
fn an_unresolvable_target_is_reported_without_blocking_the_frame() {
    let (_lang, mut h) = harness();
    h.state_mut().state.target = "no-such-host.invalid:80".into();
    h.run();
    let t0 = Instant::now();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(t0.elapsed() < Duration::from_secs(2), "the frame took {:?}", t0.elapsed());
    assert!(h.state().rt.running, "the name is looked up on the worker, after the frame");
    assert!(!h.state().rt.message.1, "no error yet: {}", h.state().rt.message.0);
    let until = Instant::now() + Duration::from_secs(30);
    while h.state().rt.running {
        assert!(Instant::now() < until, "the worker never reported");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
    let (text, is_error) = h.state().rt.message.clone();
    assert!(is_error && text.starts_with("target no-such-host.invalid: "), "{text}");
    assert!(h.query_by_label(&text).is_some(), "the status bar shows it");
    assert!(h.state().rt.events.is_empty());
}

/// The CLI sweep and the GUI's worker sweep of one preset with a filtered port on its lab host agree port by port.
#[test]
fn the_cli_and_the_gui_sweep_a_presets_lab_host_alike() {
    use tcpcraft::cli::send::LinkChoice;
    use tcpcraft::cli::sweep::SweepArgs;
    use tcpcraft::ui::worker::SweepJob;

    let dir = tempfile::tempdir().unwrap();
    for name in ["half-open", "null-scan"] {
        let text = tcpcraft::preset::builtin::builtin(name).unwrap().unwrap();
        let preset = tcpcraft::preset::Preset {
            sim: Some(tcpcraft::preset::LabHost { filtered: vec![81], ..Default::default() }),
            ..text
        };
        let path = dir.path().join(format!("{name}.ron"));
        tcpcraft::preset::io::save(&path, &preset).unwrap();
        let path = path.display().to_string();
        let ports = "20-25,79-83,443,8080";
        let args = SweepArgs {
            preset: path.clone(),
            target: "192.0.2.10".into(),
            ports: ports.into(),
            rate: 10_000,
            retries: 1,
            wait: 500,
            link: LinkChoice::Sim,
            iface: None,
            sport: 47_000,
            yes: false,
            json: false,
            csv: true,
            seed: None,
        };
        let csv = tcpcraft::cli::sweep::run(&args).unwrap();
        let cli: Vec<(u16, String)> = csv
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[1].parse().unwrap(), f[2].to_string())
            })
            .collect();
        let job = SweepJob::new(&path, "192.0.2.10", ports, 10_000, LinkKind::Sim).unwrap();
        let gui = tcpcraft::ui::worker::sweep(&job, &mut |_, _, _| {}, &mut |_| true).unwrap();
        let gui: Vec<(u16, String)> = gui.iter().map(|r| (r.port, r.verdict.as_str().to_string())).collect();
        assert_eq!(cli, gui, "{name}");
        let p81 = gui.iter().find(|(p, _)| *p == 81).unwrap();
        assert_eq!(p81.1, "filtered", "{name}: the preset's lab host filters 81");
        if name == "half-open" {
            let open: Vec<u16> = gui.iter().filter(|(_, v)| v == "open").map(|(p, _)| *p).collect();
            assert_eq!(open, vec![22, 80, 443, 8080]);
            assert_eq!(gui.iter().find(|(p, _)| *p == 82).unwrap().1, "closed");
        }
    }
}
