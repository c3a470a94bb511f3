//! Tests of the helper server: sessions over a simulated host, refusals, and the fuzz seeds.

use std::net::IpAddr;

use super::super::config::Config;
use super::*;
use crate::link::Flow;
use crate::wire::{build, parse, SegmentSpec, TcpFlags};

const ALL: Held = Held { raw: true, admin: true };

fn session(reqs: &[Request], held: Result<Held, (Refusal, String)>, host: &mut SimHost) -> Vec<Reply> {
    let mut input = Vec::new();
    for r in reqs {
        protocol::write(&mut input, r).unwrap();
    }
    let mut out = Vec::new();
    serve(input.as_slice(), &mut out, host, held).unwrap();
    out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| protocol::decode(l).unwrap()).collect()
}

fn syn() -> (Vec<u8>, Flow) {
    let mut s = SegmentSpec::default();
    s.tcp.dport = 80;
    s.tcp.seq = 1000;
    let bytes = build(&s).unwrap();
    let flow = Flow::of(&parse(&bytes).unwrap());
    (bytes, flow)
}

fn open(mode: Mode, target: IpAddr, guard: bool) -> Request {
    let sports = if mode == Mode::Probes { vec![40000] } else { Vec::new() };
    Request::Open { mode, targets: vec![target], iface: None, guard, layer2: false, max_pps: 100, sports }
}

fn kind(r: &Reply) -> Option<Refusal> {
    match r {
        Reply::Error { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn message(r: &Reply) -> &str {
    match r {
        Reply::Error { message, .. } => message,
        _ => "",
    }
}

#[test]
fn a_flow_session_gets_the_syn_ack_and_narrows_then_releases() {
    let (bytes, flow) = syn();
    let mut host = SimHost::default();
    let replies = session(
        &[
            Request::Hello { version: VERSION },
            open(Mode::Flow, flow.remote.ip(), true),
            Request::Watch { flow },
            Request::Send { datagram: Bytes(bytes) },
            Request::Recv { deadline: 10_000 },
            Request::Close,
        ],
        Ok(ALL),
        &mut host,
    );
    assert_eq!(replies[0], Reply::Hello { version: VERSION, raw: true, admin: true });
    assert!(matches!(&replies[1], Reply::Opened { src, .. } if *src == flow.local.ip()), "{replies:?}");
    assert_eq!(replies[2], Reply::Done);
    assert!(matches!(replies[3], Reply::Sent { .. }));
    let Reply::Captured { items, .. } = &replies[4] else { panic!("{replies:?}") };
    let sa = items.iter().find(|s| s.origin == crate::link::Origin::Peer).unwrap();
    let seg = parse(&sa.bytes.0).unwrap();
    assert_eq!((seg.tcp.flags, seg.tcp.ack), (TcpFlags::SYN_ACK, 1001));
    assert_eq!(replies[5], Reply::Done);
    assert_eq!(host.claimed, vec![flow.local], "the watch bound the flow's local port");
    assert_eq!(host.narrowed, vec![true], "NET_RAW dropped after open, NET_ADMIN kept for the guard");
    assert!(host.released >= 1, "everything dropped at the end");
}

#[test]
fn probes_session_claims_its_ports_sends_batches_and_drains() {
    let (bytes, flow) = syn();
    let mut host = SimHost::default();
    let replies = session(
        &[
            Request::Hello { version: VERSION },
            open(Mode::Probes, flow.remote.ip(), false),
            Request::SendBatch { datagrams: vec![Bytes(bytes.clone()), Bytes(bytes)], drain: false },
            Request::Drain { wait_ms: 5 },
        ],
        Ok(ALL),
        &mut host,
    );
    let Reply::Frames { frames, ages_us, sent_age_us, .. } = &replies[3] else { panic!("{replies:?}") };
    assert!(frames.iter().any(|f| parse(&f.0).is_ok_and(|s| s.tcp.flags == TcpFlags::SYN_ACK)), "{frames:?}");
    // Each frame's age comes with it (round trips are timed by capture, not by this reply); a drain sent nothing.
    assert_eq!(ages_us.len(), frames.len());
    assert_eq!(*sent_age_us, None);
    assert_eq!(host.claimed, vec![flow.local], "the probe source port is bound at open");
    assert_eq!(host.narrowed, vec![false], "no guard: everything dropped after open");
    // With `drain`, the batch's answer carries what was captured (the SYN-ACK on the simulated host, which
    // answers at once), so a sweep needs one round trip per batch.
    let (bytes, flow) = syn();
    let replies = session(
        &[
            Request::Hello { version: VERSION },
            open(Mode::Probes, flow.remote.ip(), false),
            Request::SendBatch { datagrams: vec![Bytes(bytes)], drain: true },
        ],
        Ok(ALL),
        &mut SimHost::default(),
    );
    assert!(matches!(replies[2], Reply::Frames { .. }), "{replies:?}");
    // The batch's answer says when its first datagram went out.
    assert!(matches!(replies[2], Reply::Frames { sent_age_us: Some(_), .. }), "{replies:?}");
}

#[test]
fn someone_elses_port_is_refused_at_watch_and_at_open() {
    let (bytes, flow) = syn();
    let mut host = SimHost { taken: vec![flow.local], ..SimHost::default() };
    let replies = session(
        &[
            Request::Hello { version: VERSION },
            open(Mode::Flow, flow.remote.ip(), false),
            Request::Watch { flow },
            Request::Send { datagram: Bytes(bytes) },
        ],
        Ok(ALL),
        &mut host,
    );
    assert_eq!(kind(&replies[2]), Some(Refusal::Forbidden));
    assert!(message(&replies[2]).contains("local port 192.0.2.1:40000 is in use by another socket"), "{replies:?}");
    assert_eq!(kind(&replies[3]), Some(Refusal::Forbidden), "and nothing can be sent from it");
    assert!(message(&replies[3]).contains("is not owned by this session"), "{replies:?}");
    let mut host = SimHost { taken: vec![flow.local], ..SimHost::default() };
    let r = session(
        &[Request::Hello { version: VERSION }, open(Mode::Probes, flow.remote.ip(), false)],
        Ok(ALL),
        &mut host,
    );
    assert_eq!(kind(&r[1]), Some(Refusal::Forbidden), "{r:?}");
    assert!(host.narrowed.is_empty(), "the refused open kept nothing open");
}

#[test]
fn spoofed_sources_need_roots_configuration() {
    let (_, flow) = syn();
    let mut spec = SegmentSpec::default();
    spec.tcp.dport = 80;
    let forged_src: std::net::Ipv4Addr = "198.51.100.9".parse().unwrap();
    if let crate::wire::IpSpec::V4(ip) = &mut spec.ip {
        ip.src = forged_src;
    }
    let forged = build(&spec).unwrap();
    let forged_flow = Flow { local: SocketAddr::new(forged_src.into(), flow.local.port()), ..flow };
    let reqs = [
        Request::Hello { version: VERSION },
        open(Mode::Flow, flow.remote.ip(), false),
        Request::Watch { flow: forged_flow },
        Request::Send { datagram: Bytes(forged) },
    ];
    let r = session(&reqs, Ok(ALL), &mut SimHost::default());
    assert_eq!(kind(&r[2]), Some(Refusal::Forbidden));
    assert!(message(&r[2]).contains("source 198.51.100.9 is not an address of the outgoing interface"), "{r:?}");
    assert_eq!(kind(&r[3]), Some(Refusal::Forbidden));
    let mut allowed = SimHost { config: Config { allow_spoofed_source: true }, ..SimHost::default() };
    let r = session(&reqs, Ok(ALL), &mut allowed);
    assert_eq!((&r[2], kind(&r[3])), (&Reply::Done, None), "{r:?}");
}

#[test]
fn untrusted_requests_are_refused_and_the_session_goes_on() {
    let (bytes, flow) = syn();
    let mut elsewhere = bytes.clone();
    elsewhere[16..20].copy_from_slice(&[10, 0, 0, 1]);
    let mut udp = bytes.clone();
    udp[9] = 17;
    let mut host = SimHost::default();
    let open_bcast = open(Mode::Flow, "127.255.255.255".parse().unwrap(), false);
    let replies = session(
        &[
            Request::Hello { version: VERSION },
            Request::Send { datagram: Bytes(bytes.clone()) },
            open(Mode::Flow, "224.0.0.1".parse().unwrap(), false),
            open_bcast,
            open(Mode::Flow, flow.remote.ip(), false),
            open(Mode::Flow, flow.remote.ip(), false),
            Request::Watch { flow },
            Request::Send { datagram: Bytes(elsewhere) },
            Request::Send { datagram: Bytes(vec![0x45; 10]) },
            Request::Send { datagram: Bytes(udp) },
            Request::Watch { flow: Flow { remote: "10.0.0.1:80".parse().unwrap(), ..flow } },
            Request::Recv { deadline: 120_000_000 },
            Request::Drain { wait_ms: 1 },
            Request::Hello { version: VERSION },
            Request::Send { datagram: Bytes(bytes) },
        ],
        Ok(ALL),
        &mut host,
    );
    let kinds: Vec<_> = replies.iter().map(kind).collect();
    let (invalid, forbidden) = (Some(Refusal::Invalid), Some(Refusal::Forbidden));
    // A refused target is said as the target's fault (the client shows it as a bad target, not as raw mode).
    let target = Some(Refusal::Target);
    assert_eq!(kinds[1..4], [invalid, target, target], "send before open; multicast; broadcast: {replies:#?}");
    assert!(message(&replies[2]).starts_with("target 224.0.0.1: "), "{}", message(&replies[2]));
    assert_eq!(message(&replies[3]), "target 127.255.255.255: the broadcast address of a local subnet is refused");
    assert_eq!((kinds[4], kinds[5], &replies[6]), (None, invalid, &Reply::Done), "opened once, then watched");
    assert_eq!(kinds[7..10], [forbidden, forbidden, forbidden], "{replies:#?}");
    assert!(message(&replies[7]).contains("10.0.0.1 is not one of the session's targets"));
    assert!(message(&replies[9]).contains("IP protocol 17: only TCP"));
    assert!(kinds[10..14].iter().all(|k| *k == invalid), "{replies:#?}");
    assert!(matches!(replies[14], Reply::Sent { .. }), "a good request still works after refusals");
}

#[test]
fn the_fuzz_seeds_are_current_protocol_and_succeed() {
    for seed in [
        include_str!("../../../fuzz/seeds/helper_protocol/flow.jsonl"),
        include_str!("../../../fuzz/seeds/helper_protocol/probes.jsonl"),
    ] {
        let mut out = Vec::new();
        serve(seed.as_bytes(), &mut out, &mut SimHost::default(), Ok(ALL)).unwrap();
        let replies: Vec<Reply> =
            out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| protocol::decode(l).unwrap()).collect();
        assert_eq!(replies.len(), seed.lines().count(), "{replies:?}");
        assert!(replies.iter().all(|r| kind(r).is_none()), "{replies:#?}");
    }
}

#[test]
fn probe_ports_are_declared_in_probe_mode_only() {
    let target: IpAddr = "192.0.2.10".parse().unwrap();
    let with = |mode, sports: Vec<u16>| Request::Open {
        mode,
        targets: vec![target],
        iface: None,
        guard: false,
        layer2: false,
        max_pps: 10,
        sports,
    };
    for bad in [
        with(Mode::Flow, vec![1234]),
        with(Mode::Probes, vec![]),
        with(Mode::Probes, vec![0]),
        with(Mode::Probes, (1..=65).collect()),
    ] {
        let r = session(&[Request::Hello { version: VERSION }, bad.clone()], Ok(ALL), &mut SimHost::default());
        assert_eq!(kind(&r[1]), Some(Refusal::Invalid), "{bad:?}: {r:?}");
    }
}

/// An interface name the kernel would not allow is refused as the interface's fault.
#[test]
fn a_bad_interface_name_is_refused_as_such() {
    let open = Request::Open {
        mode: Mode::Probes,
        targets: vec!["192.0.2.10".parse().unwrap()],
        iface: Some("eth0; rm".into()),
        guard: false,
        layer2: false,
        max_pps: 10,
        sports: vec![40000],
    };
    let r = session(&[Request::Hello { version: VERSION }, open], Ok(ALL), &mut SimHost::default());
    assert_eq!(kind(&r[1]), Some(Refusal::Interface), "{r:?}");
    assert!(message(&r[1]).starts_with("interface eth0; rm: "), "{}", message(&r[1]));
}

#[test]
fn refusals_at_hello_end_the_session() {
    let mut host = SimHost::default();
    let extra = Err((Refusal::ExtraPrivileges, "tcpcraft-link refuses to run as root".to_string()));
    let r = session(&[Request::Hello { version: VERSION }, Request::Close], extra, &mut host);
    assert_eq!(r.len(), 1, "nothing after the refusal: {r:?}");
    assert_eq!(kind(&r[0]), Some(Refusal::ExtraPrivileges));
    let r = session(&[Request::Hello { version: VERSION + 1 }], Ok(ALL), &mut SimHost::default());
    assert_eq!(kind(&r[0]), Some(Refusal::Version));
    let r = session(&[Request::Close], Ok(ALL), &mut SimHost::default());
    assert_eq!(kind(&r[0]), Some(Refusal::Invalid), "hello first");
}

#[test]
fn without_capabilities_open_says_how_to_grant_them() {
    let (_, flow) = syn();
    let none = Held { raw: false, admin: false };
    let mut host = SimHost::default();
    let r =
        session(&[Request::Hello { version: VERSION }, open(Mode::Flow, flow.remote.ip(), false)], Ok(none), &mut host);
    assert_eq!(r[0], Reply::Hello { version: VERSION, raw: false, admin: false });
    let Reply::Error { kind: Refusal::Privileges, message } = &r[1] else { panic!("{r:?}") };
    assert!(message.contains("lacks CAP_NET_RAW"), "{message}");
    let raw_only = Held { raw: true, admin: false };
    let r = session(
        &[Request::Hello { version: VERSION }, open(Mode::Flow, flow.remote.ip(), true)],
        Ok(raw_only),
        &mut host,
    );
    assert!(matches!(&r[1], Reply::Error { kind: Refusal::Privileges, message } if message.contains("CAP_NET_ADMIN")));
}

/// A probe link whose capture lost 7 frames.
struct Lossy;

impl crate::link::ProbeLink for Lossy {
    fn send(&mut self, _: &[u8]) -> Result<(), LinkError> {
        Ok(())
    }
    fn drain(&mut self, _: Duration) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn paced(&self) -> bool {
        true
    }
    fn dropped(&self) -> u64 {
        7
    }
}

/// The simulated host, whose probe links are [`Lossy`].
struct LossyHost(SimHost);

impl Host for LossyHost {
    fn open_flow(&mut self, t: IpAddr, i: Option<&str>, g: bool, l: bool) -> Result<(Box<dyn Link>, Route), LinkError> {
        self.0.open_flow(t, i, g, l)
    }
    fn open_probes(&mut self, t: IpAddr, i: Option<&str>, p: &[u16]) -> Result<(Probes, Route, String), LinkError> {
        let (_, route, describe) = self.0.open_probes(t, i, p)?;
        Ok((Box::new(Lossy), route, describe))
    }
    fn claim(&mut self, local: SocketAddr, freebind: bool) -> Result<Claim, String> {
        self.0.claim(local, freebind)
    }
    fn addresses(&self, iface: &str) -> Vec<IpAddr> {
        self.0.addresses(iface)
    }
    fn broadcasts(&self) -> Vec<IpAddr> {
        self.0.broadcasts()
    }
    fn config(&self) -> Config {
        self.0.config()
    }
    fn narrow(&mut self, keep_admin: bool) {
        self.0.narrow(keep_admin);
    }
    fn release(&mut self) {
        self.0.release();
    }
    fn fix(&self) -> String {
        self.0.fix()
    }
}

#[test]
fn a_probe_drain_reports_what_the_capture_dropped() {
    let (_, flow) = syn();
    let mut input = Vec::new();
    for r in [Request::Hello { version: VERSION }, open(Mode::Probes, flow.remote.ip(), false)] {
        protocol::write(&mut input, &r).unwrap();
    }
    protocol::write(&mut input, &Request::Drain { wait_ms: 1 }).unwrap();
    let mut out = Vec::new();
    serve(input.as_slice(), &mut out, &mut LossyHost(SimHost::default()), Ok(ALL)).unwrap();
    let replies: Vec<Reply> =
        out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| protocol::decode(l).unwrap()).collect();
    assert!(matches!(replies[2], Reply::Frames { dropped: 7, .. }), "{replies:?}");
}
