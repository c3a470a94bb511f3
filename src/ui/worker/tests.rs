use super::*;
use crate::link::helper;

/// The setup of a run to `target` (as typed) over `kind`, on the default lab host.
fn setup(kind: LinkKind, target: &str) -> LinkSetup {
    LinkSetup {
        kind,
        target: Target::Text(target.into()),
        port: 80,
        iface: None,
        guard: kind == LinkKind::Raw,
        local_peer: false,
        lab: LabHost::default(),
    }
}

/// Messages of the current job until it ends (at most 30 s).
fn until_done(w: &Worker) -> Vec<Msg> {
    let until = Instant::now() + Duration::from_secs(30);
    let mut msgs = Vec::new();
    let done = |m: &Msg| matches!(m, Msg::Finished { .. } | Msg::Failed(_) | Msg::BadTarget(_));
    while Instant::now() < until && !msgs.iter().any(done) {
        msgs.extend(w.drain());
        std::thread::sleep(Duration::from_millis(5));
    }
    msgs
}

/// Raw mode without a usable helper (in a unit test there is none next to the test binary): the run falls
/// back to the simulated lab host, says why, and says how to enable raw mode.
#[test]
fn raw_without_the_helper_falls_back_to_the_lab_host_and_explains() {
    if std::env::var_os(helper::HELPER_ENV).is_some() {
        return; // someone pointed us at a real helper; the netns tests cover that case
    }
    let mut w = Worker::spawn(|| {}).unwrap();
    let preset = crate::preset::resolve("normal-open").unwrap();
    w.start(Job::Run { preset: Box::new(preset), setup: setup(LinkKind::Raw, "192.0.2.10"), step_through: false });
    let msgs = until_done(&w);
    let why = msgs.iter().find_map(|m| if let Msg::Fallback(w) = m { Some(w.clone()) } else { None });
    let why = why.unwrap_or_else(|| panic!("no fallback message: {msgs:?}"));
    assert!(why.contains("Raw mode is not available"), "{why}");
    assert!(why.contains("Running on the simulated lab host instead"), "{why}");
    assert!(why.contains("tcpcraft-link was not found") && why.contains("install the tcpcraft package"), "{why}");
    assert!(msgs.iter().any(|m| matches!(m, Msg::Started { link, .. } if link.starts_with("sim"))), "{msgs:?}");
    assert!(w.last_seed().is_some(), "the run reported its seed");
    assert!(msgs.iter().any(|m| matches!(m, Msg::Finished { pass: true, .. })), "the lab run passes: {msgs:?}");
}

/// A host name that never resolves (`.invalid`, RFC 6761): `start` returns at once, the name is looked up on
/// the worker, and its failure comes back as a message naming the host.
#[test]
fn an_unresolvable_name_is_reported_by_the_worker() {
    let mut w = Worker::spawn(|| {}).unwrap();
    let preset = crate::preset::resolve("normal-open").unwrap();
    let job = Job::Run {
        preset: Box::new(preset),
        setup: setup(LinkKind::Sim, "no-such-host.invalid:80"),
        step_through: false,
    };
    let t0 = Instant::now();
    w.start(job);
    assert!(t0.elapsed() < Duration::from_millis(50), "start only queues the job: {:?}", t0.elapsed());
    let msgs = until_done(&w);
    let why = msgs.iter().find_map(|m| if let Msg::BadTarget(w) = m { Some(w.clone()) } else { None });
    let why = why.unwrap_or_else(|| panic!("no target error: {msgs:?}"));
    assert!(why.contains("no-such-host.invalid"), "{why}");
    assert!(!msgs.iter().any(|m| matches!(m, Msg::Started { .. })), "no link was opened: {msgs:?}");
}

/// A target without a port takes the setup's (the preset's); one with a port keeps it; an empty one is the
/// preset's lab host.
#[test]
fn the_port_comes_from_the_target_text_or_else_the_setup() {
    let lab = LabHost { host: "192.0.2.77".parse().unwrap(), ..LabHost::default() };
    let with = |text: &str| LinkSetup { lab: lab.clone(), port: 8080, ..setup(LinkKind::Sim, text) };
    let o = open(&with("192.0.2.7:22"), None).unwrap();
    assert_eq!((o.dst, o.port.unwrap_or(8080)), ("192.0.2.7".parse().unwrap(), 22));
    let o = open(&with("192.0.2.7"), None).unwrap();
    assert_eq!(o.port.unwrap_or(8080), 8080);
    assert_eq!(open(&with(""), None).unwrap().dst, IpAddr::V4(lab.host));
    assert!(open(&with("192.0.2.7:http"), None).is_err());
}
