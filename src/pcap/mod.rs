//! pcap in and out (with the `pcap-file` crate): runs and sweeps are written as nanosecond pcap with the raw-IP
//! link type, which Wireshark and tshark open directly; pcap and pcapng files are read back as TCP segments
//! (Ethernet, Linux cooked v1/v2, BSD loopback and raw IP link types), to show as a timeline ([`timeline_of`]),
//! craft from, or turn into a preset.

pub mod draft;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, TsResolution};
use thiserror::Error;

use crate::exchange::Timeline;
use crate::fsio::{self, ReadError};
use crate::limits::PCAP_MAX_BYTES;
use crate::link::{Captured, Origin};
use crate::wire::{self, Segment};

/// What can go wrong with a capture file.
#[derive(Debug, Error)]
pub enum PcapIoError {
    /// The file cannot be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a pcap or pcapng capture.
    #[error("{path}: not a pcap or pcapng file (magic {magic})")]
    NotACapture {
        /// The file.
        path: String,
        /// The first four bytes, in hex.
        magic: String,
    },
    /// The file is cut short or damaged.
    #[error("{path}: damaged after {packets} packets: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// Packets read before the damage.
        packets: usize,
        /// What the reader said.
        reason: String,
    },
    /// The file is not a regular file or is larger than [`PCAP_MAX_BYTES`].
    #[error("{path}: {source}")]
    Refused {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: ReadError,
    },
    /// More frames than are read (the capture is refused rather than silently cut).
    #[error("{path}: more than {limit} frames; tcpcraft reads at most {limit} (cut the capture first, e.g. `editcap -r FILE OUT.pcap 1-{limit}`)")]
    TooManyFrames {
        /// The file.
        path: String,
        /// Frames read at most.
        limit: usize,
    },
    /// No TCP segment was found.
    #[error("{path}: no TCP segments in {packets} packets")]
    NoTcp {
        /// The file.
        path: String,
        /// Packets read.
        packets: usize,
    },
    /// A requested packet index does not exist.
    #[error(
        "{path}: packet {index} is not a TCP segment of this file (it has {count} TCP segments, numbered 1..={count})"
    )]
    NoSuchIndex {
        /// The file.
        path: String,
        /// The index asked for.
        index: usize,
        /// TCP segments in the file.
        count: usize,
    },
}

/// One TCP segment read from a capture.
#[derive(Clone, Debug)]
pub struct Imported {
    /// Frame number in the file (1-based, counting every frame, as Wireshark numbers them).
    pub frame: usize,
    /// Timestamp.
    pub time: Duration,
    /// The IP datagram.
    pub bytes: Vec<u8>,
    /// The decoded segment.
    pub segment: Segment,
}

/// Writes IP datagrams with their times (microseconds after `start`) as a raw-IP, nanosecond pcap.
pub fn write<'a>(
    path: &Path,
    start: SystemTime,
    frames: impl IntoIterator<Item = (u64, &'a [u8])>,
) -> Result<usize, PcapIoError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| PcapIoError::Io { path: name.clone(), source: e };
    let base = start.duration_since(UNIX_EPOCH).unwrap_or_default();
    let header = PcapHeader { datalink: DataLink::RAW, ts_resolution: TsResolution::NanoSecond, ..Default::default() };
    let mut n = 0;
    let mut buf = Vec::new();
    {
        let mut w = PcapWriter::with_header(&mut buf, header).map_err(|e| io(std::io::Error::other(e.to_string())))?;
        for (t_us, bytes) in frames {
            let ts = base + Duration::from_micros(t_us);
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            w.write_packet(&PcapPacket::new(ts, len, bytes)).map_err(|e| io(std::io::Error::other(e.to_string())))?;
            n += 1;
        }
    }
    fsio::write_atomic(path, |f| std::io::Write::write_all(f, &buf)).map_err(io)?;
    Ok(n)
}

/// The IP datagram inside a frame of this link type, if it carries IPv4 or IPv6.
fn ip_payload(link: DataLink, frame: &[u8]) -> Option<&[u8]> {
    fn ip(d: &[u8]) -> Option<&[u8]> {
        d.first().filter(|b| matches!(*b >> 4, 4 | 6)).map(|_| d)
    }
    match link {
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => ip(frame),
        DataLink::ETHERNET => wire::ethernet::strip(frame),
        // Linux cooked capture v1: 16-byte header, protocol in its last two bytes.
        DataLink::LINUX_SLL => match u16::from_be_bytes([*frame.get(14)?, *frame.get(15)?]) {
            0x0800 | 0x86DD => frame.get(16..),
            _ => None,
        },
        // v2: 20-byte header, protocol first.
        DataLink::LINUX_SLL2 => match u16::from_be_bytes([*frame.first()?, *frame.get(1)?]) {
            0x0800 | 0x86DD => frame.get(20..),
            _ => None,
        },
        // BSD loopback: a 4-byte address family, then the datagram.
        DataLink::NULL | DataLink::LOOP => ip(frame.get(4..)?),
        _ => None,
    }
}

/// Reads every TCP segment of a pcap or pcapng file of at most `limit` frames (more is an error). Only regular files of
/// at most [`PCAP_MAX_BYTES`] are read (FIFOs and devices are refused without blocking), streamed rather than
/// loaded whole.
pub fn read(path: &Path, limit: usize) -> Result<Vec<Imported>, PcapIoError> {
    let name = path.display().to_string();
    let (file, _) = fsio::open_bounded(path, PCAP_MAX_BYTES, "a capture").map_err(|e| match e {
        ReadError::Io(source) => PcapIoError::Io { path: name.clone(), source },
        other => PcapIoError::Refused { path: name.clone(), source: other },
    })?;
    read_from(std::io::BufReader::new(file.take(PCAP_MAX_BYTES)), &name, limit)
}

/// Reads every TCP segment of a capture held in memory of at most `limit` frames; `name` names it in errors.
pub fn read_bytes(data: &[u8], name: &str, limit: usize) -> Result<Vec<Imported>, PcapIoError> {
    read_from(data, name, limit)
}

/// What a reader error means, in words: pcap-file reports a record or block longer than what follows (or than its
/// 8 MB buffer) as a bare end of file.
fn reason(e: &pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "cut short: a header, record or block claims more bytes than follow (or more than 8 MB)".into()
        }
        other => other.to_string(),
    }
}

/// Reads every TCP segment of a capture from `input`. The readers buffer at most 8 MB at a time: a record or block
/// claiming more (an absurd snaplen, a bad block length) is a [`PcapIoError::Corrupt`], not an allocation.
fn read_from(mut input: impl Read, name: &str, limit: usize) -> Result<Vec<Imported>, PcapIoError> {
    let name = name.to_string();
    let mut magic: Vec<u8> = Vec::with_capacity(4);
    (&mut input).take(4).read_to_end(&mut magic).map_err(|e| PcapIoError::Io { path: name.clone(), source: e })?;
    let data = std::io::Cursor::new(magic.clone()).chain(input);
    let mut frames: Vec<(usize, Duration, Vec<u8>)> = Vec::new();
    let mut count = 0usize;
    let corrupt = |count: usize, e: pcap_file::PcapError| PcapIoError::Corrupt {
        path: name.clone(),
        packets: count,
        reason: reason(&e),
    };
    match magic[..] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] | [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d] => {
            let mut r = PcapReader::new(data).map_err(|e| corrupt(0, e))?;
            let link = r.header().datalink;
            while let Some(p) = r.next_packet() {
                let p = p.map_err(|e| corrupt(count, e))?;
                count += 1;
                if let Some(ip) = ip_payload(link, &p.data) {
                    frames.push((count, p.timestamp, ip.to_vec()));
                }
                if count > limit {
                    return Err(PcapIoError::TooManyFrames { path: name, limit });
                }
            }
        }
        [0x0a, 0x0d, 0x0d, 0x0a] => {
            let mut r = PcapNgReader::new(data).map_err(|e| corrupt(0, e))?;
            let mut links: Vec<DataLink> = Vec::new();
            while let Some(b) = r.next_block() {
                match b.map_err(|e| corrupt(count, e))? {
                    Block::InterfaceDescription(i) => links.push(i.linktype),
                    Block::EnhancedPacket(p) => {
                        count += 1;
                        let link = links.get(p.interface_id as usize).copied().unwrap_or(DataLink::ETHERNET);
                        if let Some(ip) = ip_payload(link, &p.data) {
                            frames.push((count, p.timestamp, ip.to_vec()));
                        }
                    }
                    Block::SimplePacket(p) => {
                        count += 1;
                        let link = links.first().copied().unwrap_or(DataLink::ETHERNET);
                        if let Some(ip) = ip_payload(link, &p.data) {
                            frames.push((count, Duration::ZERO, ip.to_vec()));
                        }
                    }
                    _ => {}
                }
                if count > limit {
                    return Err(PcapIoError::TooManyFrames { path: name, limit });
                }
            }
        }
        _ => {
            let magic = if magic.is_empty() { "none: the file is empty".to_string() } else { hex::encode(&magic) };
            return Err(PcapIoError::NotACapture { path: name, magic });
        }
    }
    let out: Vec<Imported> = frames
        .into_iter()
        .filter_map(|(frame, time, bytes)| {
            wire::parse(&bytes).ok().map(|segment| Imported { frame, time, bytes, segment })
        })
        .collect();
    if out.is_empty() {
        return Err(PcapIoError::NoTcp { path: name, packets: count });
    }
    Ok(out)
}

/// The capture as a timeline: the first segment's sender is our side.
pub fn timeline_of(imported: &[Imported]) -> Timeline {
    let Some(first) = imported.first() else { return Timeline::default() };
    let us = (first.segment.src(), first.segment.tcp.sport);
    let t0 = first.time;
    let mut tl = Timeline::new(0);
    for i in imported {
        let ours = (i.segment.src(), i.segment.tcp.sport) == us;
        let t = u64::try_from(i.time.saturating_sub(t0).as_micros()).unwrap_or(u64::MAX);
        let c = Captured {
            t,
            bytes: i.bytes.clone(),
            origin: if ours { Origin::Crafted } else { Origin::Peer },
            segment: Some(i.segment.clone()),
            icmp: None,
        };
        tl.push(c, None);
    }
    tl
}

/// The `index`-th TCP segment (1-based) of a file.
pub fn segment_at(path: &Path, index: usize) -> Result<Imported, PcapIoError> {
    let all = read(path, crate::limits::PCAP_MAX_FRAMES)?;
    let count = all.len();
    all.into_iter().nth(index.wrapping_sub(1)).ok_or(PcapIoError::NoSuchIndex {
        path: path.display().to_string(),
        index,
        count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lo-handshake.pcap")
    }

    #[test]
    fn reads_the_recorded_lo_capture() {
        let all = read(&fixture(), usize::MAX).unwrap();
        assert_eq!(all.len(), 14);
        assert_eq!(all[0].segment.tcp.flags, crate::wire::TcpFlags::SYN);
        assert_eq!(all[1].segment.tcp.flags, crate::wire::TcpFlags::SYN_ACK);
        assert_eq!(all[3].segment.payload, b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(all[0].frame, 1);
        assert!(matches!(segment_at(&fixture(), 99), Err(PcapIoError::NoSuchIndex { count: 14, .. })));
    }

    #[test]
    fn round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("tcpcraft-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.pcap");
        let all = read(&fixture(), usize::MAX).unwrap();
        let n = write(
            &path,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            all.iter().enumerate().map(|(i, x)| (i as u64 * 10, &x.bytes[..])),
        )
        .unwrap();
        assert_eq!(n, 14);
        let back = read(&path, usize::MAX).unwrap();
        assert_eq!(back.len(), 14);
        assert!(back.iter().zip(&all).all(|(a, b)| a.bytes == b.bytes));
        assert_eq!(back[1].time - back[0].time, Duration::from_micros(10));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("tcpcraft-badpcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("t.pcap");
        std::fs::write(&text, b"hello, not a capture").unwrap();
        assert!(matches!(read(&text, 10), Err(PcapIoError::NotACapture { .. })));
        let good = std::fs::read(fixture()).unwrap();
        let cut = dir.join("cut.pcap");
        std::fs::write(&cut, &good[..good.len() - 7]).unwrap();
        assert!(matches!(read(&cut, usize::MAX), Err(PcapIoError::Corrupt { packets: 13, .. })));
        assert!(matches!(read(&fixture(), 13), Err(PcapIoError::TooManyFrames { limit: 13, .. })));
        assert_eq!(read(&fixture(), 14).unwrap().len(), 14);
        let ng = std::fs::read(fixture().with_extension("pcapng")).unwrap();
        assert!(matches!(read_bytes(&ng, "ng", 3), Err(PcapIoError::TooManyFrames { limit: 3, .. })));
        let empty = dir.join("empty.pcap");
        std::fs::write(&empty, &good[..24]).unwrap();
        assert!(matches!(read(&empty, 10), Err(PcapIoError::NoTcp { packets: 0, .. })));
        let _ = std::fs::remove_dir_all(dir);
    }
}
