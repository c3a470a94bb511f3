//! Seeds repeat runs; a sweep stopped halfway tells the truth (issue 3/9).

use super::*;

/// Runs the loaded preset once and returns the lab host's ISN (the SYN-ACK's seq) and the status bar's link text.
fn run_once(h: &mut Harness<'static, TcpcraftApp>) -> (u32, String) {
    use egui_kittest::kittest::NodeT;
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(h, |a| !a.rt.running && a.rt.events.len() >= 3);
    let peer = h.state().rt.events[1].segment.as_ref().unwrap().tcp.seq;
    let node = h.query_by_label_contains("link: sim").expect("the status bar names the link");
    let link = node.accesskit_node().label().or_else(|| node.value()).unwrap_or_default();
    (peer, link)
}

/// The seed next to the link selector: unticked "auto" with 42, two runs give the lab host the same ISN and the
/// status bar shows "seed 42"; back on auto, every run has a new ISN, and the field shows the seed last used.
#[test]
fn the_seed_field_repeats_a_run_and_auto_does_not() {
    use tcpcraft::ui::link_settings::{self, SeedSetting};
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("normal-open").click();
    h.run();
    assert!(h.query_by_label("seed").is_some(), "the seed field is on show");
    link_settings::set_setting(&h.ctx, SeedSetting { auto: false, value: 42 });
    h.run();
    let (a, link) = run_once(&mut h);
    assert!(link.ends_with("· seed 42"), "the status bar names the seed: {link}");
    let (b, _) = run_once(&mut h);
    assert_eq!(a, b, "the same seed, the same ISN");
    // Auto: ticking the box lets each run take a new random seed.
    // The seed's "auto" is the one in the top bar, right of "seed" (the editor has "auto" boxes too).
    let seed_label = h.get_by_label("seed").rect();
    let boxes = h.query_all(By::new().role(egui::accesskit::Role::CheckBox).label("auto"));
    let auto = boxes
        .min_by_key(|b| {
            (b.rect().center().y - seed_label.center().y).abs() as i32 * 10_000
                + (b.rect().min.x - seed_label.max.x).abs() as i32
        })
        .unwrap();
    auto.click();
    h.run();
    assert!(link_settings::setting(&h.ctx).auto);
    let (c, link_c) = run_once(&mut h);
    let (d, link_d) = run_once(&mut h);
    assert!(c != d && c != a, "auto seeds differ: {a} {c} {d}");
    assert_ne!(link_c, link_d);
    let shown = link_settings::setting(&h.ctx).value.to_string();
    assert!(link_d.ends_with(&format!("· seed {shown}")), "the field follows the last run: {shown} vs {link_d}");
}

/// A sweep stopped halfway in the GUI: replies were counted while it ran, the ports never reached are "not
/// probed" (hidden by default, counted), no open port is filtered, and the CSV export names the never-probed ports.
#[test]
fn a_gui_sweep_stopped_halfway_shows_not_probed_ports_as_such() {
    use tcpcraft::exchange::sweep::Verdict;
    let (_lang, mut h) = harness();
    h.run();
    h.get_by_label("Sweep").click();
    h.run();
    // 257 hosts × 2000 ports; only the first host answers. Long enough to be stopped.
    h.state_mut().rt.sweep.targets = "192.0.2.10, 198.51.100.0/24".into();
    h.state_mut().rt.sweep.ports = "1-2000".into();
    h.get_by_label_contains("Start sweep").click();
    h.step();
    step_until(&mut h, |a| a.rt.sweep.progress.is_some_and(|p| p.probed >= 2_000));
    let live = h.state().rt.sweep.progress.unwrap();
    assert!(live.replies >= 1_900 && live.elapsed_ms > 0, "replies and time are counted live: {live:?}");
    assert!(h.query_by_label_contains("open (3)").is_some(), "live counts (22, 80, 443): {live:?}");
    h.query_all_by_label("⏹ Stop").next().unwrap().click();
    h.step();
    step_until(&mut h, |a| !a.rt.running && !a.rt.sweep.results.is_empty());
    let r = &h.state().rt.sweep.results;
    assert_eq!(r.len(), 257 * 2000);
    let count = |v: Verdict| r.iter().filter(|x| x.verdict == v).count();
    assert!(count(Verdict::NotProbed) > 0, "the sweep was stopped before its end");
    assert_eq!(count(Verdict::Filtered), 0, "no port ran out of its retries");
    let open: Vec<u16> = r.iter().filter(|x| x.verdict == Verdict::Open).map(|x| x.port).collect();
    assert_eq!(open, vec![22, 80, 443], "the lab host's open ports (8080 is past 2000) stay open");
    assert_eq!(r.last().unwrap().verdict, Verdict::NotProbed);
    let not_probed = count(Verdict::NotProbed);
    assert!(h.query_by_label_contains(&format!("not probed ({not_probed})")).is_some());
    assert!(h.query_by_label_contains("Stopped before the end").is_some());
    assert!(h.query_by_label("not probed").is_none(), "never-probed rows are hidden by default");
    let csv = tcpcraft::ui::sweep::csv(r);
    assert!(csv.contains("198.51.100.255,2000,not_probed,,\n"), "the CSV names the ports never probed");
    assert!(csv.contains("192.0.2.10,22,open,SA,64\n"));
}
