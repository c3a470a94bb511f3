//! Tests of the sweep engine over links that fail, refuse or answer at once.

use super::*;

/// A link that answers every probe RST at once and fails from its `fail_at`th batch on, like a helper killed
/// by the same Ctrl-C that stops the sweep.
struct Dying {
    batches: usize,
    fail_at: usize,
    replies: Vec<Vec<u8>>,
}

impl ProbeLink for Dying {
    fn send(&mut self, d: &[u8]) -> Result<(), LinkError> {
        let s = crate::wire::parse(d).map_err(|e| LinkError::Unsendable(e.to_string()))?;
        let mut r = crate::wire::SegmentSpec::default();
        r.ip = r.ip.addressed(s.dst(), s.src()).ok_or(LinkError::Unsupported("family"))?;
        (r.tcp.sport, r.tcp.dport, r.tcp.ack) = (s.tcp.dport, s.tcp.sport, s.tcp.seq.wrapping_add(1));
        r.tcp.flags = crate::wire::TcpFlags::RST_ACK;
        self.replies.push(crate::wire::build(&r).map_err(|e| LinkError::Unsendable(e.to_string()))?);
        Ok(())
    }

    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        self.batches += 1;
        if self.batches >= self.fail_at {
            return Err(LinkError::Helper("tcpcraft-link is gone".into()));
        }
        datagrams.iter().try_for_each(|d| self.send(d))
    }

    fn drain(&mut self, _wait: Duration) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.replies)
    }

    fn paced(&self) -> bool {
        false
    }
}

fn config() -> SweepConfig {
    SweepConfig {
        hosts: vec!["192.0.2.10".parse().unwrap()],
        ports: (1..=1000).collect(),
        probe: probe_of(&crate::preset::resolve("half-open").unwrap()).unwrap(),
        src: "192.0.2.1".parse().unwrap(),
        sport: 47_000,
        rate: 10_000,
        retries: 1,
        wait: Duration::ZERO,
        seed: 3,
        refused_hosts: Vec::new(),
    }
}

/// A link that fails after a stop was asked for ends the sweep as a stop, with the verdicts reached; one that
/// fails while the sweep goes on is an error.
#[test]
fn a_link_failing_after_a_stop_is_the_stop() {
    let mut link = Dying { batches: 0, fail_at: 3, replies: Vec::new() };
    // Two batches go out; the stop is asked for while the third is sent, and that send fails: the sweep
    // asks once more (with nothing new sent) and is told to stop.
    let mut asked = 0;
    let r = run(&config(), &mut link, &mut |p| {
        asked += usize::from(p.sent >= 128);
        asked < 2
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(asked, 2);
    assert_eq!(r[127].verdict, Verdict::Closed);
    assert_eq!(r[128].verdict, Verdict::NotProbed);
    let mut link = Dying { batches: 0, fail_at: 3, replies: Vec::new() };
    assert!(matches!(run(&config(), &mut link, &mut |_| true), Err(SweepError::Link(_))));
}

/// A link whose kernel refuses one destination (EACCES, like a broadcast address) and answers RST for the
/// others; the refusal arrives for the whole batch, as from `sendmmsg`.
struct Refusing {
    inner: Dying,
    refused: IpAddr,
}

impl ProbeLink for Refusing {
    fn send(&mut self, d: &[u8]) -> Result<(), LinkError> {
        match crate::wire::parse(d) {
            Ok(s) if s.dst() == self.refused => {
                Err(LinkError::Io { op: "send", source: std::io::Error::from_raw_os_error(libc::EACCES) })
            }
            _ => self.inner.send(d),
        }
    }

    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        let refused = datagrams.iter().any(|d| crate::wire::parse(d).is_ok_and(|s| s.dst() == self.refused));
        if refused {
            return Err(LinkError::Io { op: "sendmmsg", source: std::io::Error::from_raw_os_error(libc::EACCES) });
        }
        self.inner.send_batch(datagrams)
    }

    fn drain(&mut self, wait: Duration) -> Vec<Vec<u8>> {
        self.inner.drain(wait)
    }

    fn paced(&self) -> bool {
        false
    }
}

/// One refused destination marks its rows `refused` (named by the error) and the sweep goes on: the other
/// host's ports are all answered, the refused ones are not retried, and the progress counts them apart.
#[test]
fn a_refused_destination_is_marked_and_the_sweep_goes_on() {
    let refused: IpAddr = "192.0.2.11".parse().unwrap();
    let cfg =
        SweepConfig { hosts: vec!["192.0.2.10".parse().unwrap(), refused], ports: (1..=100).collect(), ..config() };
    let mut link = Refusing { inner: Dying { batches: 0, fail_at: usize::MAX, replies: Vec::new() }, refused };
    let mut last = None;
    let r = run(&cfg, &mut link, &mut |p| {
        last = Some(p);
        true
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.len(), 200);
    assert!(r[..100].iter().all(|x| x.verdict == Verdict::Closed), "{:?}", &r[..3]);
    assert!(r[100..].iter().all(|x| x.verdict == Verdict::Refused && x.reply == "EACCES"), "{:?}", &r[100..103]);
    let p = last.unwrap();
    assert_eq!((p.refused, p.closed, p.count(Verdict::Refused), p.count(Verdict::Filtered)), (100, 100, 100, 0));
    assert!(p.done, "every target decided: no retry pass needed");
    assert_eq!(summary(&r).get("refused"), Some(&100));
}

/// Only EACCES and EPERM are refusals, in this process or as the helper's text; other failures stop the sweep.
#[test]
fn refusals_are_eacces_and_eperm() {
    let io = |code| LinkError::Io { op: "sendmmsg", source: std::io::Error::from_raw_os_error(code) };
    assert_eq!((refusal(&io(libc::EACCES)), refusal(&io(libc::EPERM))), (Some("EACCES"), Some("EPERM")));
    assert_eq!(refusal(&io(libc::ENOBUFS)), None);
    let helper = LinkError::Helper("link: sendmmsg: Permission denied (os error 13)".into());
    assert_eq!(refusal(&helper), Some("EACCES"));
    assert_eq!(refusal(&LinkError::Helper("tcpcraft-link is gone".into())), None);
}

/// The same seed, the same cookies (the probes are the same bytes); another seed, other cookies.
#[test]
fn the_seed_keys_the_cookies() {
    let cookie = |seed: u64| Cookies::keyed(Seed::given(seed).cookie_key()).cookie([192, 0, 2, 10].into(), 80, 1);
    assert_eq!(cookie(1), cookie(1));
    assert_ne!(cookie(1), cookie(2));
}

/// A link on real time (paced) that answers every probe at once, except those to port `silent`.
struct Prompt {
    inner: Dying,
    silent: u16,
}

impl ProbeLink for Prompt {
    fn send(&mut self, d: &[u8]) -> Result<(), LinkError> {
        self.inner.send(d)
    }

    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        self.inner.send_batch(datagrams)
    }

    fn drain(&mut self, wait: Duration) -> Vec<Vec<u8>> {
        let got = self.inner.drain(Duration::ZERO);
        if got.is_empty() {
            std::thread::sleep(wait);
        }
        let silent = self.silent;
        got.into_iter().filter(|d| crate::wire::parse(d).map_or(true, |s| s.tcp.sport != silent)).collect()
    }

    fn paced(&self) -> bool {
        true
    }
}

/// A pass ends as soon as every probe is answered, not after the wait; with one probe unanswered it ends when
/// that probe's wait has passed.
#[test]
fn a_pass_ends_when_every_probe_is_answered_or_waited_for() {
    let cfg = SweepConfig { wait: Duration::from_secs(30), rate: 200_000, retries: 0, ..config() };
    let prompt = |silent| Prompt { inner: Dying { batches: 0, fail_at: usize::MAX, replies: Vec::new() }, silent };
    let started = Instant::now();
    let r = run(&cfg, &mut prompt(0), &mut |_| true).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.iter().all(|x| x.verdict == Verdict::Closed));
    assert!(started.elapsed() < Duration::from_secs(10), "waited {:?}", started.elapsed());

    let cfg = SweepConfig { wait: Duration::from_millis(300), ..cfg };
    let started = Instant::now();
    let r = run(&cfg, &mut prompt(500), &mut |_| true).unwrap_or_else(|e| panic!("{e}"));
    assert!(started.elapsed() >= Duration::from_millis(300), "the silent probe is waited for");
    assert_eq!(r[499].verdict, Verdict::Filtered);
    assert_eq!(r.iter().filter(|x| x.verdict == Verdict::Closed).count(), 999);
}
