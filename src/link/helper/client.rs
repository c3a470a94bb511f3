//! The unprivileged side: spawns `tcpcraft-link`, speaks the protocol, and presents the helper as a
//! [`Link`] (one flow) or a [`ProbeLink`] (a sweep), so the runner and the sweep cannot tell it from a raw link.

use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::protocol::{self, Bytes, Mode, Refusal, Reply, Request, VERSION};
use crate::link::raw::RawOptions;
use crate::link::{Captured, Flow, Link, LinkError, Micros, Origin, ProbeLink};
use crate::wire;

/// A running helper process and its pipes.
struct Conn {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
    path: PathBuf,
    src: IpAddr,
    describe: String,
    /// Helper clock at `opened_at`.
    offset: Micros,
    opened_at: Instant,
}

fn helper_error(msg: impl Into<String>) -> LinkError {
    LinkError::Helper(msg.into())
}

/// A refusal as the error this process would have met opening the link itself: a target without a route or an
/// interface that cannot be used keep their kind (they are about the input, not about raw mode), the rest say
/// which kind of refusal it was.
fn refusal_error(kind: Refusal, message: String) -> LinkError {
    let parts = |prefix: &str| {
        let (a, b) = message.strip_prefix(prefix)?.split_once(": ")?;
        Some((a.to_string(), b.to_string()))
    };
    let typed = match kind {
        Refusal::Target => parts("target ").map(|(target, reason)| LinkError::Target { target, reason }),
        Refusal::Interface => parts("interface ").map(|(name, reason)| LinkError::Interface { name, reason }),
        _ => None,
    };
    typed.unwrap_or_else(|| helper_error(format!("{}: {message}", kind.as_str())))
}

/// Why the helper did not start: for a helper this user may not run (not in its group, say), the reason and
/// the fix for that case; otherwise the system's error.
fn spawn_error(path: &Path, e: std::io::Error) -> LinkError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        let access = super::access::check(Some(path), None);
        if !matches!(access, super::access::Access::Ready) {
            return LinkError::Privileges { missing: access.reason(Some(path)), fix: access.fix(Some(path)) };
        }
    }
    helper_error(format!("cannot start {}: {e}", path.display()))
}

impl Conn {
    /// Spawns the helper, checks its version and privileges, and opens the link.
    fn open(path: &Path, open: Request) -> Result<Conn, LinkError> {
        let mut conn = Conn::hello(path)?;
        match conn.call(&open)? {
            Reply::Opened { describe, src, now } => {
                conn.opened_at = Instant::now();
                (conn.describe, conn.src, conn.offset) = (format!("{describe} (via tcpcraft-link)"), src, now);
                Ok(conn)
            }
            other => Err(conn.unexpected(other)),
        }
    }

    /// Spawns the helper and checks its version and that it holds CAP_NET_RAW.
    fn hello(path: &Path) -> Result<Conn, LinkError> {
        let mut cmd = Command::new(path);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        // Its own process group: a terminal's Ctrl-C reaches this process, which stops its work and closes the
        // helper in order (end of input: the helper releases its guard and exits), instead of the helper dying
        // first and the stop being read as a failed link.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().map_err(|e| spawn_error(path, e))?;
        let (Some(to), Some(from)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(helper_error("no pipes to the helper"));
        };
        let mut conn = Conn {
            child,
            to,
            from: BufReader::new(from),
            path: path.to_path_buf(),
            src: IpAddr::from([0, 0, 0, 0]),
            describe: String::new(),
            offset: 0,
            opened_at: Instant::now(),
        };
        match conn.call(&Request::Hello { version: VERSION })? {
            Reply::Hello { version: VERSION, raw: true, .. } => {}
            Reply::Hello { version: VERSION, raw: false, .. } => return Err(conn.privileges("CAP_NET_RAW")),
            other => return Err(conn.unexpected(other)),
        }
        Ok(conn)
    }

    fn privileges(&self, missing: &str) -> LinkError {
        LinkError::Privileges {
            missing: format!("{missing} on tcpcraft-link"),
            fix: super::setcap_fix(Some(&self.path)),
        }
    }

    fn unexpected(&self, reply: Reply) -> LinkError {
        helper_error(format!("unexpected reply {reply:?}"))
    }

    /// Sends a request and reads its reply; helper refusals become typed errors.
    fn call(&mut self, req: &Request) -> Result<Reply, LinkError> {
        let pipe = |e: super::HelperError| helper_error(format!("the helper stopped: {e}"));
        protocol::write(&mut self.to, req).map_err(pipe)?;
        let line = protocol::read_line(&mut self.from).map_err(pipe)?;
        let Some(line) = line else { return Err(helper_error("the helper exited (see its message above)")) };
        match protocol::decode::<Reply>(&line).map_err(pipe)? {
            Reply::Error { kind: Refusal::Privileges, message } => {
                Err(LinkError::Privileges { missing: message, fix: super::setcap_fix(Some(&self.path)) })
            }
            Reply::Error { kind, message } => Err(refusal_error(kind, message)),
            reply => Ok(reply),
        }
    }

    fn now(&self) -> Micros {
        self.offset + u64::try_from(self.opened_at.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Close lets the helper remove its guard; a helper that does not exit soon is killed.
        let _ = protocol::write(&mut self.to, &Request::Close);
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks that the helper at `path` starts, speaks our protocol version and holds its capabilities.
pub fn probe(path: &Path) -> Result<(), LinkError> {
    Conn::hello(path).map(drop)
}

/// One crafted flow carried by the helper.
pub struct HelperLink {
    conn: Conn,
    dropped: u64,
    /// The flow watched, for reading its peer's state from this host's kernel.
    flow: Option<Flow>,
}

impl HelperLink {
    /// Spawns the helper at `path` and opens a flow link towards `dst`.
    pub fn open(path: &Path, dst: IpAddr, opts: &RawOptions) -> Result<HelperLink, LinkError> {
        let open = Request::Open {
            mode: Mode::Flow,
            targets: vec![dst],
            iface: opts.iface.clone(),
            guard: opts.guard,
            layer2: opts.layer2,
            max_pps: 10_000,
            sports: Vec::new(),
        };
        Ok(HelperLink { conn: Conn::open(path, open)?, dropped: 0, flow: None })
    }

    /// Our source address on the helper's route.
    pub fn src(&self) -> IpAddr {
        self.conn.src
    }
}

impl Link for HelperLink {
    fn describe(&self) -> String {
        self.conn.describe.clone()
    }

    fn now(&self) -> Micros {
        self.conn.now()
    }

    fn watch(&mut self, flow: Flow) -> Result<(), LinkError> {
        match self.conn.call(&Request::Watch { flow })? {
            Reply::Done => {
                self.flow = Some(flow);
                Ok(())
            }
            other => Err(self.conn.unexpected(other)),
        }
    }

    fn send(&mut self, datagram: &[u8]) -> Result<Micros, LinkError> {
        match self.conn.call(&Request::Send { datagram: Bytes(datagram.to_vec()) })? {
            Reply::Sent { t } => Ok(t),
            other => Err(self.conn.unexpected(other)),
        }
    }

    fn recv_until(&mut self, deadline: Micros) -> Result<Vec<Captured>, LinkError> {
        // Long waits go in slices, so no single request nears the helper's limit on waits.
        let deadline = deadline.min(self.now() + 30_000_000);
        match self.conn.call(&Request::Recv { deadline })? {
            Reply::Captured { items, dropped } => {
                self.dropped = dropped;
                Ok(items
                    .into_iter()
                    .map(|s| Captured {
                        t: s.t,
                        segment: if s.origin == Origin::Icmp { None } else { wire::parse(&s.bytes.0).ok() },
                        bytes: s.bytes.0,
                        origin: s.origin,
                        icmp: s.icmp,
                    })
                    .collect())
            }
            other => Err(self.conn.unexpected(other)),
        }
    }

    fn dropped(&self) -> u64 {
        self.dropped
    }

    #[cfg(target_os = "linux")]
    fn peer_state(&mut self) -> Option<&'static str> {
        crate::link::kernel_state::peer_state(self.flow.as_ref()?)
    }
}

/// A sweep's probes carried by the helper.
pub struct HelperProbes {
    conn: Conn,
    /// Frames the helper's capture dropped so far (from its last answer).
    dropped: u64,
    /// Frames that came back with a batch's answer, for the next `drain`.
    held: Vec<(Instant, Vec<u8>)>,
    /// When the helper sent each chunk of the last batch (chunk `k` holds datagrams `k * MAX_BATCH..`), by its
    /// answers.
    chunks_sent: Vec<Option<Instant>>,
    /// Why a drain could not reach the helper (it stopped, or answered nonsense), until taken by `failure`.
    failed: Option<LinkError>,
    /// A drain failed: later drains do not ask the helper again.
    broken: bool,
}

impl HelperProbes {
    /// Spawns the helper at `path` for probes from source port `sport` to `targets` (the first picks the route),
    /// at most `max_pps`.
    pub fn open(
        path: &Path,
        targets: &[IpAddr],
        sport: u16,
        iface: Option<&str>,
        max_pps: u32,
    ) -> Result<HelperProbes, LinkError> {
        let open = Request::Open {
            mode: Mode::Probes,
            targets: targets.to_vec(),
            iface: iface.map(str::to_string),
            guard: false,
            layer2: false,
            // Not clamped: a rate outside 1..=MAX_PPS is the helper's to refuse, never silently changed.
            max_pps,
            sports: vec![sport],
        };
        Ok(HelperProbes {
            conn: Conn::open(path, open)?,
            dropped: 0,
            held: Vec::new(),
            chunks_sent: Vec::new(),
            failed: None,
            broken: false,
        })
    }

    /// Our source address on the helper's route.
    pub fn src(&self) -> IpAddr {
        self.conn.src
    }

    /// The link description.
    pub fn describe(&self) -> &str {
        &self.conn.describe
    }

    /// The frames of a `Frames` reply (none for another reply), each with when it was captured: its age as the
    /// helper gave it, taken from now (a helper that gives no ages: now); and when the helper sent the batch the
    /// reply answers, if it says.
    fn frames(&mut self, reply: Reply) -> (Vec<(Instant, Vec<u8>)>, Option<Instant>) {
        let Reply::Frames { frames, ages_us, sent_age_us, dropped } = reply else { return (Vec::new(), None) };
        self.dropped = dropped;
        let now = Instant::now();
        let sent = sent_age_us.and_then(|age| now.checked_sub(Duration::from_micros(age)));
        let at = |k: usize| ages_us.get(k).and_then(|a| now.checked_sub(Duration::from_micros(*a))).unwrap_or(now);
        (frames.into_iter().enumerate().map(|(k, b)| (at(k), b.0)).collect(), sent)
    }
}

impl ProbeLink for HelperProbes {
    fn send(&mut self, datagram: &[u8]) -> Result<(), LinkError> {
        self.conn.call(&Request::Send { datagram: Bytes(datagram.to_vec()) }).map(drop)
    }

    fn send_batch(&mut self, datagrams: &[Vec<u8>]) -> Result<(), LinkError> {
        // This batch's times only: a helper answer without one leaves none, not the last batch's.
        self.chunks_sent.clear();
        for chunk in datagrams.chunks(super::policy::MAX_BATCH) {
            let datagrams = chunk.iter().cloned().map(Bytes).collect();
            // What was captured meanwhile comes back with the answer, kept for the next `drain`.
            let reply = self.conn.call(&Request::SendBatch { datagrams, drain: true })?;
            let (got, sent) = self.frames(reply);
            self.held.extend(got);
            self.chunks_sent.push(sent);
        }
        Ok(())
    }

    fn batch_sent_at(&self, index: usize) -> Option<Instant> {
        self.chunks_sent.get(index / super::policy::MAX_BATCH).copied().flatten()
    }

    fn drain(&mut self, wait: Duration) -> Vec<Vec<u8>> {
        self.drain_timed(wait).into_iter().map(|(_, d)| d).collect()
    }

    fn drain_timed(&mut self, wait: Duration) -> Vec<(Instant, Vec<u8>)> {
        let mut out = std::mem::take(&mut self.held);
        // A look without waiting right after a batch: what came back with the batch is that look.
        if wait.is_zero() && !out.is_empty() {
            return out;
        }
        if self.broken {
            return out;
        }
        let wait_ms = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX).min(30_000);
        match self.conn.call(&Request::Drain { wait_ms }) {
            Ok(reply) => out.extend(self.frames(reply).0),
            Err(e) => {
                self.broken = true;
                self.failed = Some(e);
            }
        }
        out
    }

    fn failure(&mut self) -> Option<LinkError> {
        self.failed.take()
    }

    fn paced(&self) -> bool {
        true
    }

    fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused target or interface comes back as the error opening it here would give (the GUI then says what
    /// is wrong with the input, not that raw mode is unavailable); other refusals name their kind.
    #[test]
    fn target_and_interface_refusals_keep_their_kind() {
        let sent = LinkError::Target { target: "2001:db8::9".into(), reason: "no route (os error 101)".into() };
        let got = refusal_error(Refusal::Target, sent.to_string());
        assert!(matches!(&got, LinkError::Target { target, .. } if target == "2001:db8::9"), "{got:?}");
        assert_eq!(got.to_string(), sent.to_string());
        let sent = LinkError::Interface { name: "eth9".into(), reason: "no such device: x".into() };
        let got = refusal_error(Refusal::Interface, sent.to_string());
        assert!(
            matches!(&got, LinkError::Interface { name, reason } if name == "eth9" && reason == "no such device: x")
        );
        let got = refusal_error(Refusal::Target, "not the expected words".into());
        assert!(matches!(&got, LinkError::Helper(m) if m == "target: not the expected words"), "{got:?}");
        let got = refusal_error(Refusal::Forbidden, "port 22 is not yours".into());
        assert!(matches!(&got, LinkError::Helper(m) if m == "not allowed: port 22 is not yours"), "{got:?}");
    }
}
