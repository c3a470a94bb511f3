//! Linux: a sweep's capture socket, read in batches. The AF_PACKET socket is opened with protocol 0 (it receives
//! nothing yet), given its kernel-side filter and `PACKET_IGNORE_OUTGOING` (Linux 4.20 and later: our own probes,
//! and on `lo` the outgoing copy of every reply, never reach the socket), then bound to the interface with
//! `ETH_P_ALL`. The capture thread reads it with `recvmmsg(2)`: one system call takes up to [`SLOTS`] frames
//! instead of a `poll` and a `recvfrom` per frame.
//!
//! Every unsafe call of this module is one of three system calls (`setsockopt`, `bind`, `recvmmsg`), each in its
//! own small function with a `// SAFETY:` note.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use super::super::bpf::Insn;
use super::super::capture::{Capture, FrameSource, Pulled, RING_CAPACITY};
use super::super::LinkError;
use super::linux::{attach, SocketFilter, CAPTURE_BUFFER};

/// `PACKET_IGNORE_OUTGOING` (`linux/if_packet.h`; not in the libc crate).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// Frames one `recvmmsg` takes at most.
pub const SLOTS: usize = 64;
/// Bytes per frame slot: a whole frame of a 64 KiB-MTU interface (`lo`), so nothing is cut. The slots' pages are
/// only touched (and so only become resident) where a frame was written.
const SLOT: usize = (64 << 10) + 256;
/// How long one read waits for a first frame, so the capture thread sees a stop request.
const READ_TIMEOUT: Duration = Duration::from_millis(20);
/// How long the thread naps after a read that took several frames and emptied the socket, before it reads (or
/// waits) again. Asleep, it is not woken by every frame (a sweep's replies come at up to the sending rate, and a
/// wake-up per frame cost a context switch per probe); awake again, it takes what came meanwhile in one read. A
/// sweep's replies are counted, not timed, so half a millisecond later costs nothing; sparse frames (one per
/// read, as a trace's answers come) are read as they come, so their times stay exact.
const NAP: Duration = Duration::from_micros(500);

/// A capture socket read `SLOTS` frames at a time, handing them out one by one.
struct BatchReader {
    socket: Socket,
    bufs: Vec<u8>,
    /// Length and `MSG_TRUNC` of each frame of the last batch.
    got: Vec<(usize, bool)>,
    next: usize,
    /// The last read took several frames but fewer than it could: busy, and the socket is empty, so nap first.
    emptied: bool,
}

impl BatchReader {
    /// The next frame: from the last batch, else from a new one (waiting at most [`READ_TIMEOUT`]).
    fn pull(&mut self) -> io::Result<Pulled> {
        if self.next >= self.got.len() {
            self.got.clear();
            self.next = 0;
            if self.emptied {
                std::thread::sleep(NAP);
            }
            match recv_batch(&self.socket, &mut self.bufs, &mut self.got) {
                Ok(()) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                Err(e) => return Err(e),
            }
            // Busy (more than one frame came since the last read) and drained: nap. A lone frame means sparse
            // traffic (a trace's few answers), where the next frame should be read, and timed, as it comes.
            self.emptied = (2..SLOTS).contains(&self.got.len());
            if self.got.is_empty() {
                return Ok(Pulled::Nothing);
            }
        }
        let i = self.next;
        self.next += 1;
        let (len, cut) = self.got[i];
        if cut {
            // Larger than a slot (cannot happen below a 64 KiB MTU): counted as seen, not passed on cut short.
            return Ok(Pulled::NotIp);
        }
        Ok(Pulled::from_ethernet(&self.bufs[i * SLOT..i * SLOT + len]))
    }
}

/// Reads up to [`SLOTS`] frames into `bufs` (one per [`SLOT`]), waiting for the first one only (the socket's
/// receive timeout bounds that wait); appends each frame's length and whether it was cut to `got`.
#[allow(unsafe_code)]
fn recv_batch(socket: &Socket, bufs: &mut [u8], got: &mut Vec<(usize, bool)>) -> io::Result<()> {
    let mut iovs: Vec<libc::iovec> = bufs
        .chunks_exact_mut(SLOT)
        .take(SLOTS)
        .map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: msghdr is a plain C struct for which all-zero bytes are a valid (empty) value.
            let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
            h.msg_iov = iov;
            h.msg_iovlen = 1;
            libc::mmsghdr { msg_hdr: h, msg_len: 0 }
        })
        .collect();
    // SAFETY: `msgs` holds `msgs.len()` initialised headers, each with one iovec into its own disjoint slot of
    // `bufs`; `bufs`, `iovs` and `msgs` are borrowed mutably and outlive the call; no address or control buffer
    // is given. The kernel writes at most `iov_len` bytes per slot and the `msg_len`/`msg_flags` fields.
    let n = unsafe {
        libc::recvmmsg(
            socket.as_raw_fd(),
            msgs.as_mut_ptr(),
            msgs.len() as libc::c_uint,
            libc::MSG_WAITFORONE,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = usize::try_from(n).unwrap_or(0).min(msgs.len());
    got.extend(msgs[..n].iter().map(|m| {
        let len = (m.msg_len as usize).min(SLOT);
        (len, m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0)
    }));
    Ok(())
}

/// Asks the kernel not to deliver frames this host sends (`PACKET_IGNORE_OUTGOING`). Returns false on a kernel
/// older than 4.20 (`ENOPROTOOPT`), where they still arrive and are dropped by the filter and the matcher.
#[allow(unsafe_code)]
fn ignore_outgoing(socket: &Socket) -> io::Result<bool> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a live c_int and its size is passed; the kernel only reads it.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            std::ptr::addr_of!(on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENOPROTOOPT) {
        return Ok(false);
    }
    Err(e)
}

/// Binds a packet socket to interface `index` for every protocol (`ETH_P_ALL`): from here on it receives.
#[allow(unsafe_code)]
fn bind_all(socket: &Socket, index: u32) -> io::Result<()> {
    // SAFETY: sockaddr_ll is a plain C struct for which all-zero bytes are a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    sll.sll_ifindex = libc::c_int::try_from(index).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `sll` is a live, initialised sockaddr_ll and its exact size is passed; the kernel only reads it.
    let r = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            std::ptr::addr_of!(sll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Starts a sweep's capture on `iface`: filtered by `program` from its first frame, our own outgoing frames left
/// out where the kernel can, read in batches. Its filter can be replaced with [`Capture::filter`]. Also says whether
/// the kernel keeps our outgoing frames out (`PACKET_IGNORE_OUTGOING`, Linux 4.20 and later).
pub fn capture(iface: &str, program: &[Insn]) -> Result<(Capture, bool), LinkError> {
    let io_err = |op: &'static str| move |source| LinkError::Io { op, source };
    let ni = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == iface)
        .ok_or_else(|| LinkError::Interface { name: iface.into(), reason: "no such interface".into() })?;
    // Protocol 0: nothing is received until `bind_all`, by which time the filter is in place.
    let socket = Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            super::super::privileges::missing_error()
        } else {
            LinkError::Io { op: "open the AF_PACKET socket", source: e }
        }
    })?;
    attach(&socket, program).map_err(io_err("attach the capture filter"))?;
    let _ = socket.set_recv_buffer_size(CAPTURE_BUFFER);
    let no_outgoing = ignore_outgoing(&socket).map_err(io_err("set PACKET_IGNORE_OUTGOING"))?;
    socket.set_read_timeout(Some(READ_TIMEOUT)).map_err(io_err("set the capture's read timeout"))?;
    bind_all(&socket, ni.index).map_err(io_err("bind the AF_PACKET capture"))?;
    let slot = SocketFilter::new(socket.try_clone().map_err(io_err("duplicate the capture socket"))?);
    let mut reader =
        BatchReader { socket, bufs: vec![0; SLOTS * SLOT], got: Vec::with_capacity(SLOTS), next: 0, emptied: false };
    let source: FrameSource = Box::new(move || reader.pull());
    let capture = Capture::spawn(&format!("tcpcraft-capture-{iface}"), source, RING_CAPACITY)
        .map_err(io_err("start the capture thread"))?;
    Ok((capture.with_filter(Box::new(slot)), no_outgoing))
}
