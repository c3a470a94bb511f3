//! The capture pipeline (after Sniffnet's): a named thread reads frames and writes them into a channel bounded by
//! count; when it holds [`RING_CAPACITY`] frames or [`RING_BYTES`] bytes the frame is dropped and counted; the
//! thread stops when asked or when the link that reads the channel is gone. The channel grows as frames come
//! (std's list channel), so opening a link does not allocate and touch room for 65,536 frames up front (a
//! preallocated ring made that 4 MiB of page faults, most of a short sweep's start-up).
//!
//! Where the platform has one (Linux; Windows in Npcap's driver), a kernel-side filter ([`FilterSlot`], programs
//! from [`super::bpf`]) keeps every frame that is not the session's own out of the socket, so it never reaches
//! this process; elsewhere (macOS) capture stays unfiltered for now and [`Capture::filter`] is a no-op. On Linux
//! the capture thread drops all of its own capabilities before it reads anything: it only reads an already-open socket.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::bpf::{interp, Insn};

/// One captured IP datagram (link-layer header already removed) and when it was read.
#[derive(Clone, Debug)]
pub struct Frame {
    /// When the capture thread read it.
    pub at: Instant,
    /// The IP datagram.
    pub bytes: Vec<u8>,
}

/// Frames kept waiting for the reader before new ones are dropped.
pub const RING_CAPACITY: usize = 65_536;

/// Bytes of datagrams kept waiting for the reader before new ones are dropped (whichever of this and the frame
/// count is reached first): a reader that stops reading, or a flood of large datagrams, costs at most this much.
pub const RING_BYTES: usize = 32 << 20;

/// What one read of a [`FrameSource`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pulled {
    /// An IP datagram (link-layer header removed).
    Datagram(Vec<u8>),
    /// A frame that carries no IP datagram (ARP, say): counted as seen, then dropped.
    NotIp,
    /// Nothing within the read timeout (so the thread can check whether to stop).
    Nothing,
}

impl Pulled {
    /// The IP datagram inside an Ethernet frame, or [`Pulled::NotIp`].
    pub fn from_ethernet(frame: &[u8]) -> Pulled {
        crate::wire::ethernet::strip(frame).map_or(Pulled::NotIp, |d| Pulled::Datagram(d.to_vec()))
    }
}

/// Reads one frame, or returns an error that ends the capture.
pub type FrameSource = Box<dyn FnMut() -> io::Result<Pulled> + Send>;

/// A kernel-side filter that can be replaced while the capture runs (Linux: `SO_ATTACH_FILTER` on a duplicate of
/// the capture socket).
pub trait FilterSlot: Send {
    /// Replaces the filter with `program` (atomically, in the kernel), then discards what the socket had queued
    /// under the old one.
    fn install(&self, program: &[Insn]) -> io::Result<()>;
}

/// A running capture thread and the receiving end of its ring.
pub struct Capture {
    rx: Receiver<(u64, Frame)>,
    dropped: Arc<AtomicU64>,
    seen: Arc<AtomicU64>,
    /// Bytes of datagrams in the ring now.
    queued: Arc<AtomicUsize>,
    /// Frames in the ring now.
    waiting: Arc<AtomicUsize>,
    /// Bumped at each filter change; a frame tagged with an older one is checked against `program` again.
    epoch: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    filter: Option<Box<dyn FilterSlot>>,
    /// The program installed by the last [`Capture::filter`].
    program: Option<Vec<Insn>>,
}

impl Capture {
    /// Starts a thread named `name` that pulls from `source` into a ring of `capacity` frames and at most
    /// [`RING_BYTES`] bytes (unfiltered until [`Capture::with_filter`]). Fails if the thread cannot start or
    /// (Linux) cannot drop its capabilities.
    pub fn spawn(name: &str, source: FrameSource, capacity: usize) -> io::Result<Capture> {
        Capture::spawn_bounded(name, source, capacity, RING_BYTES)
    }

    /// Like [`Capture::spawn`], with a ring of at most `max_bytes` bytes of datagrams.
    pub fn spawn_bounded(
        name: &str,
        mut source: FrameSource,
        capacity: usize,
        max_bytes: usize,
    ) -> io::Result<Capture> {
        let (tx, rx) = mpsc::channel::<(u64, Frame)>();
        let dropped = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(AtomicU64::new(0));
        let queued = Arc::new(AtomicUsize::new(0));
        let waiting = Arc::new(AtomicUsize::new(0));
        let epoch = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, n, e, s, q) = (dropped.clone(), seen.clone(), epoch.clone(), stop.clone(), queued.clone());
        let w = waiting.clone();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<io::Result<()>>(1);
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            let started = drop_thread_capabilities();
            let failed = started.is_err();
            let _ = ready_tx.send(started);
            if failed {
                return;
            }
            while !s.load(Ordering::Relaxed) {
                // Read before the frame: a frame read while the filter changes counts as the old filter's.
                let at_epoch = e.load(Ordering::Acquire);
                match source() {
                    Ok(Pulled::Datagram(bytes)) => {
                        n.fetch_add(1, Ordering::Relaxed);
                        // Only this thread adds to `queued` and `waiting`, so the checks and the adds cannot race with
                        // another add.
                        let len = bytes.len();
                        if q.load(Ordering::Acquire).saturating_add(len) > max_bytes
                            || w.load(Ordering::Acquire) >= capacity
                        {
                            d.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        q.fetch_add(len, Ordering::AcqRel);
                        w.fetch_add(1, Ordering::AcqRel);
                        if tx.send((at_epoch, Frame { at: Instant::now(), bytes })).is_err() {
                            return;
                        }
                    }
                    Ok(Pulled::NotIp) => {
                        n.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Pulled::Nothing) => {}
                    Err(_) => return,
                }
            }
        })?;
        let capture = Capture {
            rx,
            dropped,
            seen,
            queued,
            waiting,
            epoch,
            stop,
            thread: Some(thread),
            filter: None,
            program: None,
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(capture),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("the capture thread ended before it started")),
        }
    }

    /// The same capture, with a kernel-side filter that [`Capture::filter`] replaces.
    pub fn with_filter(mut self, slot: Box<dyn FilterSlot>) -> Capture {
        self.filter = Some(slot);
        self
    }

    /// Whether a kernel-side filter can be installed (Linux, Windows); elsewhere capture is unfiltered.
    pub fn filterable(&self) -> bool {
        self.filter.is_some()
    }

    /// Replaces the kernel-side filter with `program`. From then on only frames that `program` accepts come
    /// out: those read before the change (already in the ring, or read while it happened) are run through it
    /// again here. Returns false, having done nothing, where the platform has no kernel-side filter.
    pub fn filter(&mut self, program: &[Insn]) -> io::Result<bool> {
        let Some(slot) = &self.filter else { return Ok(false) };
        slot.install(program)?;
        self.program = Some(program.to_vec());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        Ok(true)
    }

    /// The next frame, waiting at most `timeout`; `None` on timeout or when the capture has ended.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Frame> {
        let until = Instant::now() + timeout;
        loop {
            let item = self.rx.recv_timeout(until.saturating_duration_since(Instant::now())).ok()?;
            if let Some(frame) = self.taken(item) {
                return Some(frame);
            }
        }
    }

    /// The next frame already waiting, without waiting and without reading the clock; `None` when there is none.
    pub fn try_recv(&self) -> Option<Frame> {
        loop {
            if let Some(frame) = self.taken(self.rx.try_recv().ok()?) {
                return Some(frame);
            }
        }
    }

    /// A frame taken out of the ring: counted out, and kept if the filter of its time is the current one or the
    /// current one accepts it.
    fn taken(&self, (at_epoch, frame): (u64, Frame)) -> Option<Frame> {
        self.queued.fetch_sub(frame.bytes.len(), Ordering::AcqRel);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        (at_epoch == self.epoch.load(Ordering::Acquire) || self.accepts(&frame.bytes)).then_some(frame)
    }

    /// Whether the current program accepts a datagram read before it was installed (framed again as the
    /// kernel saw it: an Ethernet header, addresses unknown).
    fn accepts(&self, datagram: &[u8]) -> bool {
        let Some(program) = &self.program else { return true };
        let ethertype: [u8; 2] = if datagram.first().is_some_and(|b| b >> 4 == 6) { [0x86, 0xdd] } else { [0x08, 0] };
        let frame = [&[0u8; 12][..], &ethertype, datagram].concat();
        interp::run(program, &frame) != 0
    }

    /// Frames dropped because the ring was full (in frames or in bytes).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Bytes of datagrams waiting in the ring now.
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Frames read from the socket so far, IP or not, kept or not: what the kernel let into this process.
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }
}

/// Drops every capability of the calling thread (capabilities are per thread on Linux).
#[cfg(target_os = "linux")]
fn drop_thread_capabilities() -> io::Result<()> {
    // Effective first: the effective set must stay within the permitted one at each step.
    for set in [caps::CapSet::Effective, caps::CapSet::Inheritable, caps::CapSet::Permitted] {
        caps::clear(None, set)
            .map_err(|e| io::Error::other(format!("drop the capture thread's capabilities ({set:?}): {e}")))?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn drop_thread_capabilities() -> io::Result<()> {
    Ok(())
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Drops the second copy of a frame seen twice within a short window (Linux `lo` shows every frame once going
/// out and once coming in). Each frame costs O(its length), however many frames the window holds (a flood).
#[derive(Debug, Default)]
pub struct Dedup {
    /// Every frame of the window, oldest first, with its number.
    recent: VecDeque<(Instant, u64, Vec<u8>)>,
    /// The numbers of the frames of the window not yet matched by a copy, oldest first, by content.
    unmatched: HashMap<Vec<u8>, VecDeque<u64>>,
    /// The next frame's number.
    next: u64,
}

/// How long a frame is remembered for duplicate detection.
const DEDUP_WINDOW: Duration = Duration::from_millis(5);

impl Dedup {
    /// Whether the frame is new (true) or a copy of one seen within the window (false).
    pub fn is_new(&mut self, f: &Frame) -> bool {
        while self.recent.front().is_some_and(|(t, ..)| f.at.saturating_duration_since(*t) > DEDUP_WINDOW) {
            let Some((_, n, bytes)) = self.recent.pop_front() else { break };
            // Numbers leave in order, so an unmatched one leaving is the oldest of its content.
            if let Some(q) = self.unmatched.get_mut(&bytes) {
                if q.front() == Some(&n) {
                    q.pop_front();
                }
                if q.is_empty() {
                    self.unmatched.remove(&bytes);
                }
            }
        }
        if let Some(q) = self.unmatched.get_mut(&f.bytes) {
            // A copy of the oldest unmatched frame with these bytes: that one is matched now.
            q.pop_front();
            if q.is_empty() {
                self.unmatched.remove(&f.bytes);
            }
            return false;
        }
        let n = self.next;
        self.next += 1;
        self.unmatched.entry(f.bytes.clone()).or_default().push_back(n);
        self.recent.push_back((f.at, n, f.bytes.clone()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_ring_counts_drops_and_thread_stops() {
        let mut n = 0u32;
        let source: FrameSource = Box::new(move || {
            n += 1;
            if n <= 10 {
                Ok(Pulled::Datagram(vec![n as u8]))
            } else if n == 11 {
                Ok(Pulled::NotIp)
            } else {
                std::thread::sleep(Duration::from_millis(1));
                Ok(Pulled::Nothing)
            }
        });
        let mut cap = Capture::spawn("test-capture", source, 4).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(cap.dropped(), 6);
        assert_eq!(cap.seen(), 11, "every frame read counts, kept or not");
        assert!(!cap.filterable());
        assert!(!cap.filter(&crate::link::bpf::drop_all()).unwrap(), "no kernel filter: a no-op, nothing lost");
        let got: Vec<u8> =
            std::iter::from_fn(|| cap.recv_timeout(Duration::from_millis(5))).map(|f| f.bytes[0]).collect();
        assert_eq!(got, vec![1, 2, 3, 4]);
        drop(cap); // joins the thread; hangs here if it ignores stop
    }

    #[test]
    fn the_ring_is_bounded_in_bytes_as_well_as_frames() {
        let mut n = 0u32;
        let source: FrameSource = Box::new(move || {
            n += 1;
            if n <= 100 {
                Ok(Pulled::Datagram(vec![n as u8; 1000]))
            } else {
                std::thread::sleep(Duration::from_millis(1));
                Ok(Pulled::Nothing)
            }
        });
        // Room for 1000 frames, but only for 10 of these in bytes.
        let cap = Capture::spawn_bounded("test-capture", source, 1000, 10_500).unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while cap.seen() < 100 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(cap.dropped(), 90, "frames beyond the byte bound are dropped and counted");
        assert_eq!(cap.queued_bytes(), 10_000);
        let got: Vec<u8> =
            std::iter::from_fn(|| cap.recv_timeout(Duration::from_millis(5))).map(|f| f.bytes[0]).collect();
        assert_eq!(got, (1..=10).collect::<Vec<u8>>());
        assert_eq!(cap.queued_bytes(), 0, "what was read is no longer counted");
    }

    /// A filter slot that only records what it was given, and lets the test's source know.
    struct Recording(Arc<AtomicU64>);

    impl FilterSlot for Recording {
        fn install(&self, program: &[Insn]) -> io::Result<()> {
            self.0.store(program.len() as u64, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn frames_read_before_a_filter_change_pass_the_new_filter_again() {
        let installed = Arc::new(AtomicU64::new(0));
        let (flag, mut n) = (installed.clone(), 0u8);
        let source: FrameSource = Box::new(move || {
            std::thread::sleep(Duration::from_millis(1));
            if flag.load(Ordering::SeqCst) == 0 {
                n = n.saturating_add(1);
                Ok(if n <= 5 { Pulled::Datagram(vec![1]) } else { Pulled::Nothing })
            } else {
                Ok(Pulled::Datagram(vec![2]))
            }
        });
        let mut cap = Capture::spawn("test-capture", source, 64).unwrap().with_filter(Box::new(Recording(installed)));
        while cap.seen() < 5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(cap.filterable());
        assert!(cap.filter(&crate::link::bpf::drop_all()).unwrap());
        let got: Vec<u8> =
            (0..3).filter_map(|_| cap.recv_timeout(Duration::from_secs(2))).map(|f| f.bytes[0]).collect();
        assert_eq!(got, vec![2, 2, 2], "what was read under the old filter and fails the new one stays out");
        // A frame read before a change that the new filter accepts comes out.
        let keep_all = [Insn { code: 0x06, jt: 0, jf: 0, k: crate::link::bpf::ACCEPT }];
        std::thread::sleep(Duration::from_millis(20));
        assert!(cap.filter(&keep_all).unwrap());
        assert_eq!(cap.recv_timeout(Duration::from_secs(2)).map(|f| f.bytes), Some(vec![2]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn capture_thread_holds_no_capabilities() {
        let (tx, rx) = mpsc::channel();
        let mut once = Some(tx);
        let source: FrameSource = Box::new(move || {
            if let Some(tx) = once.take() {
                let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
                let caps: Vec<String> = status.lines().filter(|l| l.starts_with("Cap")).map(str::to_string).collect();
                let _ = tx.send(caps);
            }
            std::thread::sleep(Duration::from_millis(1));
            Ok(Pulled::Nothing)
        });
        let cap = Capture::spawn("test-capture", source, 4).unwrap();
        let caps = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        for set in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
            let line = caps.iter().find(|l| l.starts_with(set)).unwrap();
            assert!(line.ends_with("0000000000000000"), "{line}");
        }
        drop(cap);
    }

    #[test]
    fn loopback_duplicates_are_dropped_once() {
        let now = Instant::now();
        let f = |b: u8, ms: u64| Frame { at: now + Duration::from_millis(ms), bytes: vec![b] };
        let mut d = Dedup::default();
        assert!(d.is_new(&f(1, 0)));
        assert!(!d.is_new(&f(1, 0)));
        assert!(d.is_new(&f(1, 1)), "a third copy is a real retransmission");
        assert!(d.is_new(&f(2, 20)));
        assert!(d.is_new(&f(1, 30)), "outside the window");
        assert!(!d.is_new(&f(1, 31)));
        // A retransmission and its own loopback copy within the window: each original is matched once.
        assert!(d.is_new(&f(3, 40)) && !d.is_new(&f(3, 41)));
        assert!(d.is_new(&f(3, 42)) && !d.is_new(&f(3, 42)));
        assert!(d.is_new(&f(3, 43)));
        // A matched frame leaving the window leaves nothing behind.
        assert!(d.is_new(&f(4, 100)));
        assert!(d.unmatched.len() == 1 && d.recent.len() == 1);
    }
}
