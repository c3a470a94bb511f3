//! TCP connection states with RFC 9293's names (§3.3.2): what the ladder's rails, the JSON and lab goals speak of.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A TCP connection state (RFC 9293 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// No connection.
    Closed,
    /// Waiting for a connection request.
    Listen,
    /// Sent a SYN, waiting for the SYN-ACK.
    SynSent,
    /// Received a SYN and answered it, waiting for the ACK of ours.
    SynReceived,
    /// The connection is open; data flows both ways.
    Established,
    /// Sent a FIN, waiting for its ACK (or the peer's FIN).
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// The peer closed its side; waiting for our application to close.
    CloseWait,
    /// Both sent FIN at once; waiting for the ACK of ours.
    Closing,
    /// Closed after the peer: waiting for the ACK of our FIN.
    LastAck,
    /// Both sides closed; waiting 2×MSL so that late segments die out.
    TimeWait,
}

impl TcpState {
    /// Every state, in the order RFC 9293 lists them.
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    /// The RFC's name: `SYN-SENT`, `TIME-WAIT`.
    pub fn rfc_name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }

    /// The catalog key part: `syn_sent`, `time_wait` (for `state.<key>` and `state.<key>.tip`).
    pub fn key(self) -> &'static str {
        match self {
            TcpState::Closed => "closed",
            TcpState::Listen => "listen",
            TcpState::SynSent => "syn_sent",
            TcpState::SynReceived => "syn_received",
            TcpState::Established => "established",
            TcpState::FinWait1 => "fin_wait_1",
            TcpState::FinWait2 => "fin_wait_2",
            TcpState::CloseWait => "close_wait",
            TcpState::Closing => "closing",
            TcpState::LastAck => "last_ack",
            TcpState::TimeWait => "time_wait",
        }
    }

    /// The state of that RFC name, if any (also what smoltcp's `Display` prints, upper-cased).
    pub fn from_rfc_name(name: &str) -> Option<TcpState> {
        let wanted = name.trim().to_ascii_uppercase().replace('_', "-");
        TcpState::ALL.into_iter().find(|s| s.rfc_name() == wanted)
    }
}

impl Serialize for TcpState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.rfc_name())
    }
}

impl<'de> Deserialize<'de> for TcpState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        TcpState::from_rfc_name(&name).ok_or_else(|| {
            let all: Vec<&str> = TcpState::ALL.iter().map(|s| s.rfc_name()).collect();
            serde::de::Error::custom(format!("{name:?} is not a TCP state; one of {}", all.join(", ")))
        })
    }
}
