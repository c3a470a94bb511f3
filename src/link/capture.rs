//! The capture pipeline (after Sniffnet's): a named thread reads frames and writes them into a bounded channel;
//! when the channel is full the frame is dropped and counted; the thread stops when asked or when the link that
//! reads the channel is gone.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// A running capture thread and the receiving end of its ring.
pub struct Capture {
    rx: Receiver<Frame>,
    dropped: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Reads one frame: `Ok(Some(ip_datagram))`, `Ok(None)` on a read timeout (so the thread can check for stop),
/// or an error that ends the capture.
pub type FrameSource = Box<dyn FnMut() -> io::Result<Option<Vec<u8>>> + Send>;

impl Capture {
    /// Starts a thread named `name` that pulls from `source` into a ring of `capacity` frames.
    pub fn spawn(name: &str, mut source: FrameSource, capacity: usize) -> io::Result<Capture> {
        let (tx, rx): (SyncSender<Frame>, Receiver<Frame>) = mpsc::sync_channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (dropped.clone(), stop.clone());
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match source() {
                    Ok(Some(bytes)) => match tx.try_send(Frame { at: Instant::now(), bytes }) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => {
                            d.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(TrySendError::Disconnected(_)) => return,
                    },
                    Ok(None) => {}
                    Err(_) => return,
                }
            }
        })?;
        Ok(Capture { rx, dropped, stop, thread: Some(thread) })
    }

    /// The next frame, waiting at most `timeout`; `None` on timeout or when the capture has ended.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Frame> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Frames dropped because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
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
/// out and once coming in).
#[derive(Debug, Default)]
pub struct Dedup {
    recent: VecDeque<(Instant, Vec<u8>)>,
}

/// How long a frame is remembered for duplicate detection.
const DEDUP_WINDOW: Duration = Duration::from_millis(5);

impl Dedup {
    /// Whether the frame is new (true) or a copy of one seen within the window (false).
    pub fn is_new(&mut self, f: &Frame) -> bool {
        while self.recent.front().is_some_and(|(t, _)| f.at.saturating_duration_since(*t) > DEDUP_WINDOW) {
            self.recent.pop_front();
        }
        if let Some(i) = self.recent.iter().position(|(_, b)| *b == f.bytes) {
            self.recent.remove(i);
            return false;
        }
        self.recent.push_back((f.at, f.bytes.clone()));
        true
    }
}

/// The IP datagram inside an Ethernet frame (with or without one 802.1Q tag), if it carries IPv4 or IPv6.
pub fn strip_ethernet(frame: &[u8]) -> Option<&[u8]> {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    if ethertype == 0x8100 {
        off += 4;
        ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    }
    match ethertype {
        0x0800 | 0x86DD => frame.get(off + 2..),
        _ => None,
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
                Ok(Some(vec![n as u8]))
            } else {
                std::thread::sleep(Duration::from_millis(1));
                Ok(None)
            }
        });
        let cap = Capture::spawn("test-capture", source, 4).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(cap.dropped(), 6);
        let got: Vec<u8> =
            std::iter::from_fn(|| cap.recv_timeout(Duration::from_millis(5))).map(|f| f.bytes[0]).collect();
        assert_eq!(got, vec![1, 2, 3, 4]);
        drop(cap); // joins the thread; hangs here if it ignores stop
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
    }

    #[test]
    fn ethernet_and_vlan() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(strip_ethernet(&frame), Some(&[0x45][..]));
        let mut tagged = vec![0u8; 12];
        tagged.extend_from_slice(&[0x81, 0x00, 0, 5, 0x86, 0xdd, 0x60]);
        assert_eq!(strip_ethernet(&tagged), Some(&[0x60][..]));
        assert_eq!(strip_ethernet(&[0u8; 13]), None);
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0]);
        assert_eq!(strip_ethernet(&arp), None);
    }
}
