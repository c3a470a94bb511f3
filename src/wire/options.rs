//! TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018, RFC 7413): an ordered list that encodes to and decodes from
//! the option area, keeping malformed or unknown options raw so they survive a round trip.

use serde::{Deserialize, Serialize};

use super::error::WireError;

/// One edge-pair of a SACK option (RFC 2018): the left edge and the right edge (exclusive) of a received block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SackBlock {
    /// First sequence number of the block.
    pub left: u32,
    /// Sequence number right after the block.
    pub right: u32,
}

/// One TCP option, in the order it appears on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TcpOption {
    /// Kind 0: end of option list.
    Eol,
    /// Kind 1: no-operation, used for alignment.
    Nop,
    /// Kind 2: maximum segment size.
    Mss(u16),
    /// Kind 3: window scale shift count (RFC 7323).
    WindowScale(u8),
    /// Kind 4: SACK permitted (RFC 2018).
    SackPermitted,
    /// Kind 5: selective acknowledgment blocks (RFC 2018).
    Sack(Vec<SackBlock>),
    /// Kind 8: timestamps (RFC 7323).
    Timestamps {
        /// TSval: the sender's clock.
        val: u32,
        /// TSecr: the echoed TSval of the peer.
        ecr: u32,
    },
    /// Kind 34: TCP Fast Open cookie (RFC 7413); empty asks for a cookie.
    FastOpen(#[serde(with = "hex::serde")] Vec<u8>),
    /// Any kind with a length byte as given (`None`: 2 + data length) and data, wrong on purpose if wanted.
    Raw {
        /// Option kind.
        kind: u8,
        /// Length byte; `None` writes the correct length.
        length: Option<u8>,
        /// Option data after the length byte.
        #[serde(with = "hex::serde")]
        data: Vec<u8>,
    },
}

mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WSCALE: u8 = 3;
    pub const SACK_PERM: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
    pub const FAST_OPEN: u8 = 34;
}

impl TcpOption {
    /// The option kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::Eol => kind::EOL,
            TcpOption::Nop => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WSCALE,
            TcpOption::SackPermitted => kind::SACK_PERM,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps { .. } => kind::TIMESTAMPS,
            TcpOption::FastOpen(_) => kind::FAST_OPEN,
            TcpOption::Raw { kind, .. } => *kind,
        }
    }

    /// A short human-readable form, e.g. `MSS=1460`, `WS=7`, `SACK_PERM`, `TS val=1 ecr=0`.
    pub fn summary(&self) -> String {
        match self {
            TcpOption::Eol => "EOL".into(),
            TcpOption::Nop => "NOP".into(),
            TcpOption::Mss(v) => format!("MSS={v}"),
            TcpOption::WindowScale(v) => format!("WS={v}"),
            TcpOption::SackPermitted => "SACK_PERM".into(),
            TcpOption::Sack(blocks) => {
                let b: Vec<String> = blocks.iter().map(|b| format!("{}-{}", b.left, b.right)).collect();
                format!("SACK {}", b.join(","))
            }
            TcpOption::Timestamps { val, ecr } => format!("TS val={val} ecr={ecr}"),
            TcpOption::FastOpen(c) if c.is_empty() => "TFO request".into(),
            TcpOption::FastOpen(c) => format!("TFO cookie={}", hex::encode(c)),
            TcpOption::Raw { kind, length, data } => match length {
                Some(l) => format!("kind={kind} len={l} data={}", hex::encode(data)),
                None => format!("kind={kind} data={}", hex::encode(data)),
            },
        }
    }

    /// Appends the option's wire bytes; `index` names the option in errors.
    fn encode_into(&self, index: usize, out: &mut Vec<u8>) -> Result<(), WireError> {
        let with_len = |out: &mut Vec<u8>, kind: u8, data: &[u8]| {
            let len = data.len() + 2;
            let byte = u8::try_from(len).map_err(|_| WireError::OptionTooLong { index, kind, len })?;
            out.extend_from_slice(&[kind, byte]);
            out.extend_from_slice(data);
            Ok(())
        };
        match self {
            TcpOption::Eol => out.push(kind::EOL),
            TcpOption::Nop => out.push(kind::NOP),
            TcpOption::Mss(v) => with_len(out, kind::MSS, &v.to_be_bytes())?,
            TcpOption::WindowScale(v) => with_len(out, kind::WSCALE, &[*v])?,
            TcpOption::SackPermitted => with_len(out, kind::SACK_PERM, &[])?,
            TcpOption::Sack(blocks) => {
                let data: Vec<u8> =
                    blocks.iter().flat_map(|b| b.left.to_be_bytes().into_iter().chain(b.right.to_be_bytes())).collect();
                with_len(out, kind::SACK, &data)?
            }
            TcpOption::Timestamps { val, ecr } => {
                let mut data = val.to_be_bytes().to_vec();
                data.extend_from_slice(&ecr.to_be_bytes());
                with_len(out, kind::TIMESTAMPS, &data)?
            }
            TcpOption::FastOpen(cookie) => with_len(out, kind::FAST_OPEN, cookie)?,
            TcpOption::Raw { kind, length, data } => match length {
                None => with_len(out, *kind, data)?,
                Some(l) => {
                    if data.len() > 253 {
                        return Err(WireError::OptionTooLong { index, kind: *kind, len: data.len() + 2 });
                    }
                    out.extend_from_slice(&[*kind, *l]);
                    out.extend_from_slice(data);
                }
            },
        }
        Ok(())
    }
}

/// Encodes an option list, without padding.
pub fn encode(options: &[TcpOption]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    for (i, o) in options.iter().enumerate() {
        o.encode_into(i, &mut out)?;
    }
    Ok(out)
}

/// Decodes an option area into options and the padding that follows them.
///
/// Decoding stops at EOL (kept in the list); the bytes after it are padding. An option whose length byte is
/// wrong for its kind becomes [`TcpOption::Raw`] with the length as found, and a length that runs past the end of
/// the area ends decoding: the rest is kept raw. A lone last byte with no room for a length is returned as padding.
/// Encoding the result with that padding gives back the input bytes exactly.
pub fn decode(area: &[u8]) -> (Vec<TcpOption>, Vec<u8>) {
    let mut opts = Vec::new();
    let mut i = 0;
    while let Some(&k) = area.get(i) {
        match k {
            kind::EOL => {
                opts.push(TcpOption::Eol);
                return (opts, area.get(i + 1..).unwrap_or_default().to_vec());
            }
            kind::NOP => {
                opts.push(TcpOption::Nop);
                i += 1;
            }
            _ => {
                let Some(&len) = area.get(i + 1) else {
                    return (opts, area[i..].to_vec());
                };
                let end = i + usize::from(len);
                match area.get(i + 2..end) {
                    Some(data) if len >= 2 => {
                        opts.push(decode_one(k, data));
                        i = end;
                    }
                    _ => {
                        // Length below 2 or past the end: keep everything from here as one raw option.
                        opts.push(TcpOption::Raw { kind: k, length: Some(len), data: area[i + 2..].to_vec() });
                        return (opts, Vec::new());
                    }
                }
            }
        }
    }
    (opts, Vec::new())
}

/// Decodes one well-delimited option; a length that does not suit the kind keeps it raw.
fn decode_one(k: u8, data: &[u8]) -> TcpOption {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    match (k, data.len()) {
        (kind::MSS, 2) => TcpOption::Mss(u16::from_be_bytes([data[0], data[1]])),
        (kind::WSCALE, 1) => TcpOption::WindowScale(data[0]),
        (kind::SACK_PERM, 0) => TcpOption::SackPermitted,
        (kind::SACK, n) if n > 0 && n % 8 == 0 => TcpOption::Sack(
            data.chunks_exact(8).map(|c| SackBlock { left: be32(&c[..4]), right: be32(&c[4..]) }).collect(),
        ),
        (kind::TIMESTAMPS, 8) => TcpOption::Timestamps { val: be32(&data[..4]), ecr: be32(&data[4..]) },
        (kind::FAST_OPEN, _) => TcpOption::FastOpen(data.to_vec()),
        // The length byte matched the data here, so it stays automatic and follows edits to the data.
        _ => TcpOption::Raw { kind: k, length: None, data: data.to_vec() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option area of a real Linux 6.1 SYN-ACK: MSS 65495, SACK-perm, TS, NOP, WS 7.
    const LINUX_SYNACK_OPTS: [u8; 20] = [
        0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x3c, 0x2e, 0x51, 0x9a, 0x3c, 0x2e, 0x51, 0x01, 0x03,
        0x03, 0x07,
    ];

    #[test]
    fn decodes_linux_synack_options() {
        let (opts, pad) = decode(&LINUX_SYNACK_OPTS);
        assert_eq!(
            opts,
            vec![
                TcpOption::Mss(65495),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { val: 0x9a3c2e51, ecr: 0x9a3c2e51 },
                TcpOption::Nop,
                TcpOption::WindowScale(7),
            ]
        );
        assert!(pad.is_empty());
        assert_eq!(encode(&opts), Ok(LINUX_SYNACK_OPTS.to_vec()));
    }

    #[test]
    fn wrong_lengths_stay_raw_and_round_trip() {
        for area in [
            &[2u8, 3, 0x05][..],              // MSS with length 3
            &[2, 0, 1, 2][..],                // length 0
            &[2, 1][..],                      // length 1
            &[8, 40, 1, 2, 3][..],            // runs past the end
            &[5, 9, 0, 0, 0, 0, 0, 0, 0][..], // SACK not a multiple of 8
            &[1, 1, 99][..],                  // lone kind with no length byte
            &[0, 0xaa, 0xbb][..],             // EOL then junk padding
        ] {
            let (opts, pad) = decode(area);
            let mut bytes = encode(&opts).unwrap_or_default();
            bytes.extend_from_slice(&pad);
            assert_eq!(bytes, area, "{opts:?} {pad:?}");
        }
        assert_eq!(decode(&[2, 3, 5]).0, vec![TcpOption::Raw { kind: 2, length: None, data: vec![5] }]);
    }

    #[test]
    fn raw_with_wrong_length_is_written_as_given() {
        let o = TcpOption::Raw { kind: 99, length: Some(200), data: vec![1, 2] };
        assert_eq!(encode(&[o]), Ok(vec![99, 200, 1, 2]));
    }

    #[test]
    fn overlong_option_is_refused() {
        let o = TcpOption::FastOpen(vec![0; 254]);
        assert!(matches!(encode(&[TcpOption::Nop, o]), Err(WireError::OptionTooLong { index: 1, kind: 34, len: 256 })));
    }
}
