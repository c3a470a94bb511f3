//! The helper protocol: one JSON object per line in each direction, requests from the unprivileged side and
//! replies from `tcpcraft-link`. It is versioned by a `Hello` exchange; byte strings travel as hex.

use std::io::{BufRead, Write};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::HelperError;
use crate::link::{Flow, IcmpError, Micros, Origin};

/// The protocol version both sides must agree on in `Hello`.
pub const VERSION: u32 = 4;
/// The longest line either side accepts, in bytes (a full batch of hex-encoded probes fits).
pub const MAX_LINE: usize = 4 << 20;

/// A datagram as hex on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bytes(#[serde(with = "fast_hex")] pub Vec<u8>);

/// Hex for [`Bytes`] through whole-slice table lookups (`hex::encode_to_slice`, `hex::decode_to_slice`): the
/// `hex` crate's serde functions go a character at a time, which made hex most of the helper's own CPU time in a
/// sweep (every probe and every reply crosses the pipe as hex).
mod fast_hex {
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Lowercase hex, two digits per byte.
    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut buf = vec![0u8; data.len() * 2];
        hex::encode_to_slice(data, &mut buf).map_err(S::Error::custom)?;
        s.serialize_str(std::str::from_utf8(&buf).map_err(S::Error::custom)?)
    }

    /// Bytes from hex digits (either case); an odd length or another character is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        if text.len() % 2 != 0 {
            return Err(D::Error::custom("odd number of hex digits"));
        }
        let mut out = vec![0u8; text.len() / 2];
        hex::decode_to_slice(text.as_bytes(), &mut out).map_err(D::Error::custom)?;
        Ok(out)
    }
}

/// What a helper session carries: one flow over a [`crate::link::Link`], or sweep probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One crafted conversation (`watch`, `send`, `recv`).
    Flow,
    /// A sweep's probes (`send_batch`, `drain`).
    Probes,
}

/// A request from the GUI or CLI to the helper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Opens the session: which protocol version the client speaks.
    Hello {
        /// The client's [`VERSION`].
        version: u32,
    },
    /// Opens the raw link towards `targets` (the only addresses the session may send to).
    Open {
        /// Flow or probes.
        mode: Mode,
        /// Allowed destinations; the first one picks the route.
        targets: Vec<IpAddr>,
        /// Interface instead of the routing table's choice.
        iface: Option<String>,
        /// Install the kernel-RST guard for watched flows.
        guard: bool,
        /// Send at the link layer.
        layer2: bool,
        /// Upper bound on datagrams per second the session may send.
        max_pps: u32,
        /// Probe mode: our source ports (1 to 64). The helper binds each one to prove no one else uses it, and
        /// captures only replies to them. Empty in flow mode, where `watch` claims the flow's port.
        #[serde(default)]
        sports: Vec<u16>,
    },
    /// Restricts capture to one flow (flow mode). The helper first binds the flow's local address and port with
    /// an ordinary TCP socket, held for the session: a port some other socket uses is refused.
    Watch {
        /// The flow.
        flow: Flow,
    },
    /// Sends one datagram.
    Send {
        /// The IP datagram.
        datagram: Bytes,
    },
    /// Sends several datagrams (probe mode).
    SendBatch {
        /// The IP datagrams.
        datagrams: Vec<Bytes>,
        /// Answer with what was captured so far (as `Drain` with no wait would) instead of `Sent`: a sweep sends
        /// and looks at replies after every batch, and this saves the second round trip.
        #[serde(default)]
        drain: bool,
    },
    /// Waits for captured datagrams of the flow until `deadline` on the helper's clock (flow mode).
    Recv {
        /// Deadline in microseconds since the link opened.
        deadline: Micros,
    },
    /// Everything captured within `wait_ms` (probe mode).
    Drain {
        /// How long to wait, in milliseconds.
        wait_ms: u32,
    },
    /// Ends the session: removes the guard, drops every capability, and exits.
    Close,
}

impl Request {
    /// The request's name on the wire, for messages (never its payload).
    pub fn op(&self) -> &'static str {
        match self {
            Request::Hello { .. } => "hello",
            Request::Open { .. } => "open",
            Request::Watch { .. } => "watch",
            Request::Send { .. } => "send",
            Request::SendBatch { .. } => "send_batch",
            Request::Recv { .. } => "recv",
            Request::Drain { .. } => "drain",
            Request::Close => "close",
        }
    }
}

/// A captured datagram as the helper reports it (the client parses the segment itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Link time it was seen.
    pub t: Micros,
    /// The IP datagram.
    pub bytes: Bytes,
    /// Who sent it.
    pub origin: Origin,
    /// The ICMP error, for `origin == icmp`.
    pub icmp: Option<IcmpError>,
}

/// Why the helper refused or failed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The two sides speak different protocol versions.
    Version,
    /// The helper lacks CAP_NET_RAW / CAP_NET_ADMIN.
    Privileges,
    /// The helper runs with privileges it does not need (e.g. as root), and will not run like that.
    ExtraPrivileges,
    /// The request broke a rule (length, target, rate, order).
    Invalid,
    /// The request is well-formed but not allowed: a port this session does not own, a source address that is
    /// not ours, a protocol other than TCP.
    Forbidden,
    /// The link failed (socket, capture).
    Link,
    /// No route to a target, or no address of its family to send from (the message is the client's
    /// `LinkError::Target` text: `target ADDR: REASON`).
    Target,
    /// The interface asked for does not exist or cannot be used (`interface NAME: REASON`).
    Interface,
}

impl Refusal {
    /// A short name for messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::Version => "version mismatch",
            Refusal::Privileges => "missing privileges",
            Refusal::ExtraPrivileges => "refused",
            Refusal::Invalid => "invalid request",
            Refusal::Forbidden => "not allowed",
            Refusal::Link => "link error",
            Refusal::Target => "target",
            Refusal::Interface => "interface",
        }
    }
}

/// A reply from the helper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// The helper's version and what it may do.
    Hello {
        /// The helper's [`VERSION`].
        version: u32,
        /// May open raw sockets and capture.
        raw: bool,
        /// May install the kernel-RST guard.
        admin: bool,
    },
    /// The link is open.
    Opened {
        /// Link description, e.g. `raw lo`.
        describe: String,
        /// Our source address on the chosen route.
        src: IpAddr,
        /// The link clock now.
        now: Micros,
    },
    /// Done, nothing to report.
    Done,
    /// The datagram(s) left at link time `t`.
    Sent {
        /// Link time the (first) datagram left.
        t: Micros,
    },
    /// Captured datagrams of the flow.
    Captured {
        /// Oldest first.
        items: Vec<Seen>,
        /// Datagrams lost to a full capture ring so far.
        dropped: u64,
    },
    /// Captured frames (probe mode), unmatched.
    Frames {
        /// The IP datagrams.
        frames: Vec<Bytes>,
        /// How long before this reply each was captured, in microseconds (one per frame; round-trip times are
        /// taken from these, not from when the reply came).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ages_us: Vec<u64>,
        /// In the answer to a batch: how long before this reply its first datagram went out, in microseconds
        /// (the client's round-trip times start there, not where it handed the batch to the pipe).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sent_age_us: Option<u64>,
        /// Datagrams lost to a full capture ring so far.
        dropped: u64,
    },
    /// The request was refused or failed.
    Error {
        /// The kind of refusal.
        kind: Refusal,
        /// What went wrong and how to fix it.
        message: String,
    },
}

/// Reads one line of at most [`MAX_LINE`] bytes; `Ok(None)` at end of input.
pub fn read_line<R: BufRead>(r: &mut R) -> Result<Option<Vec<u8>>, HelperError> {
    let mut line = Vec::new();
    let n =
        std::io::Read::take(&mut *r, MAX_LINE as u64 + 1).read_until(b'\n', &mut line).map_err(HelperError::Pipe)?;
    if n == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(HelperError::Protocol(format!("line longer than {MAX_LINE} bytes")));
    }
    Ok(Some(line))
}

/// Decodes one message from a line.
pub fn decode<T: for<'de> Deserialize<'de>>(line: &[u8]) -> Result<T, HelperError> {
    serde_json::from_slice(line).map_err(|e| HelperError::Protocol(e.to_string()))
}

/// Writes one message as a line and flushes it.
pub fn write<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), HelperError> {
    let mut line = serde_json::to_vec(msg).map_err(|e| HelperError::Protocol(e.to_string()))?;
    line.push(b'\n');
    w.write_all(&line).and_then(|()| w.flush()).map_err(HelperError::Pipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_as_single_lines() {
        let flow = Flow { local: "127.0.0.1:40000".parse().unwrap(), remote: "127.0.0.1:80".parse().unwrap() };
        let all = [
            Request::Hello { version: VERSION },
            Request::Open {
                mode: Mode::Flow,
                targets: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
                iface: Some("lo".into()),
                guard: true,
                layer2: false,
                max_pps: 1000,
                sports: vec![40000],
            },
            Request::Watch { flow },
            Request::Send { datagram: Bytes(vec![0x45, 0, 0, 40]) },
            Request::SendBatch { datagrams: vec![Bytes(vec![1]), Bytes(vec![])], drain: true },
            Request::Recv { deadline: 5 },
            Request::Drain { wait_ms: 7 },
            Request::Close,
        ];
        for r in all {
            let mut buf = Vec::new();
            write(&mut buf, &r).unwrap();
            assert_eq!(buf.iter().filter(|&&b| b == b'\n').count(), 1, "one line: {buf:?}");
            let line = read_line(&mut buf.as_slice()).unwrap().unwrap();
            assert_eq!(decode::<Request>(&line).unwrap(), r);
        }
    }

    #[test]
    fn the_wire_format_is_stable() {
        let line = br#"{"op":"send","datagram":"4500"}"#;
        assert_eq!(decode::<Request>(line).unwrap(), Request::Send { datagram: Bytes(vec![0x45, 0]) });
        let e = Reply::Error { kind: Refusal::ExtraPrivileges, message: "m".into() };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"reply":"error","kind":"extra_privileges","message":"m"}"#);
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        for bad in [&b"{"[..], b"null", br#"{"op":"nope"}"#, br#"{"op":"send","datagram":"4g"}"#, b"\xff\xfe"] {
            assert!(decode::<Request>(bad).is_err(), "{bad:?}");
        }
        assert!(decode::<Request>(br#"{"op":"recv","deadline":1,"extra":1}"#).is_err(), "unknown fields are refused");
    }

    #[test]
    fn over_long_lines_are_refused() {
        let long = vec![b'a'; MAX_LINE + 10];
        assert!(matches!(read_line(&mut long.as_slice()), Err(HelperError::Protocol(_))));
        assert_eq!(read_line(&mut &b""[..]).unwrap(), None);
    }
}
