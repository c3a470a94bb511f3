//! The peer as this host's own kernel, served by tcpcraft itself (`run --local-peer`): a listening socket on the
//! target address, driven by a thread as a plain server would be (accept, read, close after the client closes), or
//! as a preset's Peer steps say once the peer is scripted. Everything else goes to the wrapped raw link, and the
//! peer's states are the kernel's own (`kernel_state`).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Captured, Flow, Link, LinkError, Micros, PeerAct};

/// How long the serving thread lives at most (a run is bounded far below this).
const LIFETIME: Duration = Duration::from_secs(600);
/// How long an action waits for the connection to be accepted.
const ACCEPT_WAIT: Duration = Duration::from_millis(500);

/// A command to the serving thread, with where to answer.
enum Cmd {
    Script(Sender<Result<(), String>>),
    Act(PeerAct, Sender<Result<(), String>>),
}

/// A raw link whose peer is a socket tcpcraft serves on this host.
pub struct LocalPeer {
    inner: Box<dyn Link>,
    cmds: Option<Sender<Cmd>>,
    thread: Option<JoinHandle<()>>,
}

impl LocalPeer {
    /// Listens on `at` (an address of this host) and wraps `inner`, the raw link towards it.
    pub fn serve(inner: Box<dyn Link>, at: SocketAddr) -> Result<LocalPeer, LinkError> {
        let listener =
            TcpListener::bind(at).map_err(|e| LinkError::Io { op: "listen as the local peer", source: e })?;
        listener.set_nonblocking(true).map_err(|e| LinkError::Io { op: "listen as the local peer", source: e })?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tcpcraft-local-peer".into())
            .spawn(move || Server { listener, stream: None, scripted: false, reading: true }.run(&rx))
            .map_err(|e| LinkError::Io { op: "start the local peer", source: e })?;
        Ok(LocalPeer { inner, cmds: Some(tx), thread: Some(thread) })
    }

    fn call(&self, make: impl FnOnce(Sender<Result<(), String>>) -> Cmd) -> Result<(), LinkError> {
        let (tx, rx) = mpsc::channel();
        let gone = || LinkError::Unsendable("the local peer stopped".into());
        self.cmds.as_ref().ok_or_else(gone)?.send(make(tx)).map_err(|_| gone())?;
        rx.recv_timeout(ACCEPT_WAIT * 4).map_err(|_| gone())?.map_err(LinkError::Unsendable)
    }
}

impl Drop for LocalPeer {
    fn drop(&mut self) {
        self.cmds = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Link for LocalPeer {
    fn describe(&self) -> String {
        format!("{} (local peer)", self.inner.describe())
    }
    fn now(&self) -> Micros {
        self.inner.now()
    }
    fn watch(&mut self, flow: Flow) -> Result<(), LinkError> {
        self.inner.watch(flow)
    }
    fn send(&mut self, datagram: &[u8]) -> Result<Micros, LinkError> {
        self.inner.send(datagram)
    }
    fn recv_until(&mut self, deadline: Micros) -> Result<Vec<Captured>, LinkError> {
        self.inner.recv_until(deadline)
    }
    fn dropped(&self) -> u64 {
        self.inner.dropped()
    }
    fn peer_state(&mut self) -> Option<&'static str> {
        self.inner.peer_state()
    }
    fn script_peer(&mut self) -> Result<(), LinkError> {
        self.call(Cmd::Script)
    }
    fn peer_act(&mut self, act: &PeerAct) -> Result<(), LinkError> {
        let act = act.clone();
        self.call(move |tx| Cmd::Act(act, tx))
    }
}

/// The serving thread's state.
struct Server {
    listener: TcpListener,
    stream: Option<TcpStream>,
    scripted: bool,
    reading: bool,
}

impl Server {
    /// Serves until the link is dropped (or the lifetime ends): accept, read, and obey commands.
    fn run(mut self, cmds: &Receiver<Cmd>) {
        let until = Instant::now() + LIFETIME;
        while Instant::now() < until {
            self.accept();
            self.read();
            match cmds.recv_timeout(Duration::from_millis(2)) {
                Ok(Cmd::Script(done)) => {
                    self.scripted = true;
                    let _ = done.send(Ok(()));
                }
                Ok(Cmd::Act(a, done)) => {
                    let _ = done.send(self.act(a));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn accept(&mut self) {
        if self.stream.is_none() {
            if let Ok((s, _)) = self.listener.accept() {
                let _ = s.set_nonblocking(true);
                self.stream = Some(s);
            }
        }
    }

    /// Reads what arrived (unless told to stop); an unscripted server closes once the client has.
    fn read(&mut self) {
        let Some(s) = self.stream.as_mut() else { return };
        if !self.reading {
            return;
        }
        let mut buf = [0u8; 16 * 1024];
        for _ in 0..64 {
            match s.read(&mut buf) {
                Ok(0) => {
                    if !self.scripted {
                        self.stream = None; // closes: our FIN follows the client's
                    }
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.stream = None;
                    return;
                }
            }
        }
    }

    fn act(&mut self, a: PeerAct) -> Result<(), String> {
        match a {
            PeerAct::StopReading => self.reading = false,
            PeerAct::ResumeReading => self.reading = true,
            PeerAct::Send(_) | PeerAct::Close | PeerAct::Abort => {
                let until = Instant::now() + ACCEPT_WAIT;
                while self.stream.is_none() && Instant::now() < until {
                    self.accept();
                    std::thread::sleep(Duration::from_millis(2));
                }
                let Some(s) = self.stream.take() else {
                    return Err("the local peer has no connection yet: put the Peer step after the handshake".into());
                };
                match a {
                    PeerAct::Send(bytes) => {
                        let _ = s.set_nonblocking(false);
                        (&s).write_all(&bytes).map_err(|e| format!("the local peer cannot send: {e}"))?;
                        let _ = s.set_nonblocking(true);
                        self.stream = Some(s);
                    }
                    PeerAct::Close => {
                        // A FIN now; the socket stays open for reading (the client's data and FIN).
                        s.shutdown(Shutdown::Write).map_err(|e| format!("the local peer cannot close: {e}"))?;
                        self.stream = Some(s);
                    }
                    _ => {
                        // Linger zero: closing sends RST instead of FIN.
                        socket2::SockRef::from(&s)
                            .set_linger(Some(Duration::ZERO))
                            .map_err(|e| format!("the local peer cannot abort: {e}"))?;
                        drop(s);
                    }
                }
            }
        }
        Ok(())
    }
}
