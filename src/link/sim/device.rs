//! The device the simulated host's smoltcp interface runs on: two queues, datagrams for the host and datagrams
//! the host sent; and the small conversions between smoltcp's types and ours.

use std::collections::VecDeque;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;

use crate::link::Micros;

/// A device that is two queues: datagrams for the host, and datagrams the host sent.
#[derive(Default)]
pub(super) struct QueueDevice {
    /// Datagrams on their way into the host.
    pub(super) to_host: VecDeque<Vec<u8>>,
    /// Datagrams the host sent.
    pub(super) from_host: VecDeque<Vec<u8>>,
}

/// A datagram for the host, as smoltcp receives it.
pub(super) struct Rx(Vec<u8>);
/// Room for one datagram the host sends.
pub(super) struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl Device for QueueDevice {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx<'_>)> {
        let d = self.to_host.pop_front()?;
        Some((Rx(d), Tx(&mut self.from_host)))
    }

    fn transmit(&mut self, _t: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.from_host))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = 1500;
        c
    }
}

/// RFC 9293's name of a smoltcp socket state.
pub(super) fn state_name(s: tcp::State) -> &'static str {
    match s {
        tcp::State::Closed => "CLOSED",
        tcp::State::Listen => "LISTEN",
        tcp::State::SynSent => "SYN-SENT",
        tcp::State::SynReceived => "SYN-RECEIVED",
        tcp::State::Established => "ESTABLISHED",
        tcp::State::FinWait1 => "FIN-WAIT-1",
        tcp::State::FinWait2 => "FIN-WAIT-2",
        tcp::State::CloseWait => "CLOSE-WAIT",
        tcp::State::Closing => "CLOSING",
        tcp::State::LastAck => "LAST-ACK",
        tcp::State::TimeWait => "TIME-WAIT",
    }
}

/// smoltcp's instant for a time on the link clock.
pub(super) fn instant(t: Micros) -> Instant {
    Instant::from_micros(i64::try_from(t).unwrap_or(i64::MAX))
}
