//! Fragmentation of a crafted datagram, as firewall tests use it: IPv4 fragments (IPv6: a Fragment extension header
//! in each), a chosen payload size per fragment (a multiple of 8; 8 splits the TCP header itself), sent in order,
//! reversed, shuffled or in an order given piece by piece, optionally with an overlapping duplicate that carries
//! different bytes.

use serde::{Deserialize, Serialize};

use super::checksum;
use super::error::WireError;
use super::field::{self, ipv4, ipv6, ipv6_ext};

/// In which order the fragments go out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FragOrder {
    /// First to last.
    #[default]
    In,
    /// Last to first.
    Reverse,
    /// Shuffled (seeded).
    Random,
    /// The fragments by number (0 is the one at offset 0), each once, in the order they go out: `given([2, 0, 1])`
    /// in a preset, `--frag-order 2,0,1` on the command line (how a shuffle is read back and sent again).
    Given(Vec<usize>),
}

impl std::fmt::Display for FragOrder {
    /// As `--frag-order` takes it: `in`, `reverse`, `random`, or the numbers as `2,0,1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FragOrder::In => f.write_str("in"),
            FragOrder::Reverse => f.write_str("reverse"),
            FragOrder::Random => f.write_str("random"),
            FragOrder::Given(list) => {
                let text: Vec<String> = list.iter().map(usize::to_string).collect();
                f.write_str(&text.join(","))
            }
        }
    }
}

impl std::str::FromStr for FragOrder {
    type Err = String;
    /// `in`, `reverse`, `random`, or the fragments' numbers in sending order (`2,0,1`; spaces allowed).
    fn from_str(s: &str) -> Result<FragOrder, String> {
        match s.trim() {
            "in" => Ok(FragOrder::In),
            "reverse" => Ok(FragOrder::Reverse),
            "random" => Ok(FragOrder::Random),
            list => {
                let numbers = list.split(',').map(|n| n.trim().parse::<usize>()).collect::<Result<Vec<_>, _>>();
                match numbers {
                    Ok(l) if l.len() > MAX_FRAGMENTS => {
                        Err(format!("{} numbers: at most {MAX_FRAGMENTS} fragments", l.len()))
                    }
                    Ok(l) => Ok(FragOrder::Given(l)),
                    Err(_) => Err(format!(
                        "'{}': give in, reverse, random, or the fragments' numbers in the order they go out (0 is \
                         the first piece), as 2,0,1",
                        cut(list, 40)
                    )),
                }
            }
        }
    }
}

/// How to fragment a datagram.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fragmenting {
    /// IP payload bytes per fragment (a multiple of 8, at least 8).
    pub size: usize,
    /// The order they go out in.
    #[serde(default)]
    pub order: FragOrder,
    /// Also send, just before fragment `overlap` (0-based), a duplicate at the same offset whose bytes are
    /// inverted: which copy the receiver keeps is what the test shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<usize>,
}

/// IPv6's Fragment extension header number.
const NH_FRAGMENT: u8 = 44;

/// The fragments of `datagram`, as they go out. `seed` shuffles a random order and picks IPv6's identification.
pub fn fragment(datagram: &[u8], f: &Fragmenting, seed: u64) -> Result<Vec<Vec<u8>>, WireError> {
    if f.size < 8 || f.size % 8 != 0 {
        return Err(WireError::Fragment(format!("--fragment {}: give a multiple of 8 bytes, at least 8", f.size)));
    }
    check_order(datagram, f.size, &f.order)?;
    let (header, payload, v6) = split(datagram)?;
    let mut parts: Vec<(usize, Vec<u8>)> = payload
        .chunks(f.size)
        .scan(0, |off, c| {
            let here = *off;
            *off += c.len();
            Some((here, c.to_vec()))
        })
        .collect();
    if parts.len() > MAX_FRAGMENTS {
        return Err(WireError::Fragment(format!("{} fragments; at most {MAX_FRAGMENTS}", parts.len())));
    }
    let last = parts.len().saturating_sub(1);
    let ident = (seed as u32) | 1;
    let build = |i: usize, off: usize, data: &[u8]| {
        if v6 {
            v6_fragment(header, off, data, i != last, ident)
        } else {
            v4_fragment(header, off, data, i != last)
        }
    };
    let mut out: Vec<Vec<u8>> = parts.iter().enumerate().map(|(i, (off, d))| build(i, *off, d)).collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    match &f.order {
        FragOrder::In => {}
        FragOrder::Reverse => out.reverse(),
        FragOrder::Random => rng.shuffle(&mut out),
        FragOrder::Given(list) => out = in_given_order(out, list),
    }
    if let Some(n) = f.overlap {
        let Some((off, data)) = parts.get_mut(n) else {
            return Err(WireError::Fragment(format!("--frag-overlap {n}: there are only {} fragments", last + 1)));
        };
        let other: Vec<u8> = data.iter().map(|b| !b).collect();
        let dup = build(n, *off, &other);
        // Just before the genuine one, wherever the order put it.
        let genuine = build(n, *off, data);
        let at = out.iter().position(|d| *d == genuine).unwrap_or(0);
        out.insert(at, dup);
    }
    Ok(out)
}

/// How many bytes fragmenting `datagram` cuts into pieces: its IP payload (IPv4: after the header and its
/// options; IPv6: after the fixed header).
pub fn payload_len(datagram: &[u8]) -> Result<usize, WireError> {
    split(datagram).map(|(_, payload, _)| payload.len())
}

/// The most fragments one datagram is cut into.
pub const MAX_FRAGMENTS: usize = 8192;

/// `text` cut to `max` characters, with "…" when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Whether `list` names each of the pieces `0..n` exactly once (a listed order that fits `n` fragments).
pub fn names_each_once(list: &[usize], n: usize) -> bool {
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    sorted.iter().copied().eq(0..n)
}

/// Whether `order` can send `datagram` cut into `size`-byte pieces: a listed order must name each piece once.
pub fn check_order(datagram: &[u8], size: usize, order: &FragOrder) -> Result<(), WireError> {
    let FragOrder::Given(list) = order else { return Ok(()) };
    let n = piece_count(payload_len(datagram)?, size);
    if names_each_once(list, n) {
        return Ok(());
    }
    let listed = if list.is_empty() { "(none)".to_owned() } else { cut(&order.to_string(), 40) };
    let last = n.saturating_sub(1);
    Err(WireError::Fragment(format!("fragment order {listed}: name each of the {n} fragments (0 to {last}) once")))
}

/// How many fragments `payload` bytes of IP payload make at `size` bytes each (a size under 8 counts as 8).
pub fn piece_count(payload: usize, size: usize) -> usize {
    payload.div_ceil(size.max(8))
}

/// `pieces` in the order `list` names them (each once, as [`check_order`] made sure).
fn in_given_order(pieces: Vec<Vec<u8>>, list: &[usize]) -> Vec<Vec<u8>> {
    let mut taken: Vec<Option<Vec<u8>>> = pieces.into_iter().map(Some).collect();
    list.iter().filter_map(|&k| taken.get_mut(k).and_then(Option::take)).collect()
}

/// Where one fragment sits in its datagram, as read from its IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FragInfo {
    /// Offset of its data within the original IP payload, in bytes.
    pub offset: usize,
    /// Bytes of data it carries.
    pub len: usize,
    /// Whether more fragments follow (the MF flag).
    pub more: bool,
}

/// The fragment `datagram` is, or `None` for a whole datagram (IPv4: MF clear and offset 0; IPv6: no Fragment
/// header before the upper layer) or bytes too short to tell.
pub fn info(d: &[u8]) -> Option<FragInfo> {
    match d.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(d[0] & 0x0f) * 4;
            let frag = field::get_u16(d, ipv4::FRAG)?;
            let total = usize::from(field::get_u16(d, ipv4::TOTAL_LEN)?).min(d.len());
            let (offset, more) = (usize::from(frag & ipv4::FRAG_OFFSET_MASK) * 8, frag & 0x2000 != 0);
            (offset != 0 || more).then(|| FragInfo { offset, len: total.saturating_sub(ihl), more })
        }
        Some(6) => {
            let mut next = *d.get(ipv6::NEXT_HEADER)?;
            let mut at = ipv6::HEADER_LEN;
            // Hop-by-hop, routing and destination options may come first; at most a few of them.
            for _ in 0..8 {
                match next {
                    NH_FRAGMENT => {
                        let offm = field::get_u16(d, field::at(at, ipv6_ext::FRAG_OFFSET))?;
                        let len = d.len().saturating_sub(at + ipv6_ext::FRAGMENT_LEN);
                        return Some(FragInfo { offset: usize::from(offm >> 3) * 8, len, more: offm & 1 != 0 });
                    }
                    0 | 43 | 60 => {
                        next = *d.get(at + ipv6_ext::NEXT_HEADER)?;
                        at += (usize::from(*d.get(at + ipv6_ext::LENGTH)?) + 1) * 8;
                    }
                    _ => return None,
                }
            }
            None
        }
        _ => None,
    }
}

/// For each fragment, whether it is an overlapping copy: its bytes differ from what `whole` (the datagram before
/// fragmenting) has at its offset (`--frag-overlap` sends such a copy just before the genuine fragment).
pub fn copies<'a>(fragments: impl IntoIterator<Item = &'a [u8]>, whole: &[u8]) -> Vec<bool> {
    let payload = split(whole).map(|(_, p, _)| p).unwrap_or_default();
    fragments
        .into_iter()
        .map(|d| {
            info(d).is_some_and(|i| {
                let data = d.get(d.len().saturating_sub(i.len)..).unwrap_or_default();
                payload.get(i.offset..i.offset + i.len) != Some(data)
            })
        })
        .collect()
}

/// "sent as 3 IPv4 fragments: 0+8 8+8 16+4": offset+length of each, in the order given; `*` marks an overlapping
/// copy carrying other bytes than `whole` (the datagram before fragmenting).
pub fn describe<'a>(fragments: impl IntoIterator<Item = &'a [u8]> + Clone, whole: &[u8]) -> String {
    let copy = copies(fragments.clone(), whole);
    let (mut n, mut v6, mut parts) = (0, false, Vec::new());
    for (k, d) in fragments.into_iter().enumerate() {
        n += 1;
        v6 |= d.first().is_some_and(|b| b >> 4 == 6);
        if let Some(i) = info(d) {
            parts.push(format!("{}+{}{}", i.offset, i.len, if copy.get(k) == Some(&true) { "*" } else { "" }));
        }
    }
    format!("sent as {n} {} fragments: {}", if v6 { "IPv6" } else { "IPv4" }, parts.join(" "))
}

/// The fragmenting that sent `whole` as these `fragments` (in the order they went out): the size is the data of a
/// fragment that has more after it, the order is read from the genuine fragments' offsets (neither rising nor
/// falling: the pieces' numbers as they went, so a shuffle is sent again the same way), and an overlapping copy
/// names the fragment it doubles. `None` when they are not fragments of it as [`fragment`] makes them (a size not a
/// multiple of 8, more than one copy, a piece missing).
pub fn settings<'a>(fragments: impl IntoIterator<Item = &'a [u8]> + Clone, whole: &[u8]) -> Option<Fragmenting> {
    let copy = copies(fragments.clone(), whole);
    let infos: Vec<FragInfo> = fragments.into_iter().map(info).collect::<Option<_>>()?;
    let genuine: Vec<&FragInfo> = infos.iter().zip(&copy).filter(|(_, c)| !**c).map(|(i, _)| i).collect();
    let size = match genuine.iter().find(|i| i.more) {
        Some(i) => i.len,
        // One piece with nothing after it (an IPv6 atomic fragment): a size that holds it all sends it so.
        None => genuine.first().filter(|i| genuine.len() == 1 && i.offset == 0)?.len.max(1).next_multiple_of(8),
    };
    if size < 8 || size % 8 != 0 || genuine.iter().any(|i| i.offset % size != 0 || (i.more && i.len != size)) {
        return None;
    }
    let payload = split(whole).map(|(_, p, _)| p.len()).ok()?;
    if genuine.len() != piece_count(payload, size) {
        return None;
    }
    let offsets: Vec<usize> = genuine.iter().map(|i| i.offset).collect();
    let order = if offsets.windows(2).all(|w| w[0] < w[1]) {
        FragOrder::In
    } else if offsets.windows(2).all(|w| w[0] > w[1]) {
        FragOrder::Reverse
    } else {
        FragOrder::Given(offsets.iter().map(|o| o / size).collect())
    };
    let mut dups = infos.iter().zip(&copy).filter(|(_, c)| **c).map(|(i, _)| i.offset / size);
    let overlap = dups.next();
    if dups.next().is_some() {
        return None;
    }
    Some(Fragmenting { size, order, overlap })
}

/// Whether a captured datagram is a copy of one we sent: the same bytes, but for an IPv4 header checksum the
/// kernel may have written again.
pub fn is_copy_of(sent: &[u8], captured: &[u8]) -> bool {
    let sum = ipv4::CHECKSUM;
    match sent.first().map(|b| b >> 4) {
        Some(4) if sent.len() == captured.len() && sent.len() > sum.end => {
            sent[..sum.start] == captured[..sum.start] && sent[sum.end..] == captured[sum.end..]
        }
        _ => sent == captured,
    }
}

/// The unfragmentable header (IPv4 header with options; IPv6 fixed header), the payload, and the family.
fn split(d: &[u8]) -> Result<(&[u8], &[u8], bool), WireError> {
    let bad = |why: &str| WireError::Fragment(why.to_owned());
    match d.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(d[0] & 0x0f) * 4;
            if ihl < ipv4::HEADER_LEN || d.len() < ihl {
                return Err(bad("the IPv4 header is shorter than its IHL says"));
            }
            Ok((&d[..ihl], &d[ihl..], false))
        }
        Some(6) if d.len() >= ipv6::HEADER_LEN => Ok((&d[..ipv6::HEADER_LEN], &d[ipv6::HEADER_LEN..], true)),
        _ => Err(bad("not an IPv4 or IPv6 datagram")),
    }
}

/// One IPv4 fragment: the header with its length, MF and offset set and its checksum made again.
fn v4_fragment(header: &[u8], off: usize, data: &[u8], more: bool) -> Vec<u8> {
    let mut d = Vec::with_capacity(header.len() + data.len());
    d.extend_from_slice(header);
    d.extend_from_slice(data);
    let total = d.len() as u16;
    d[ipv4::TOTAL_LEN].copy_from_slice(&total.to_be_bytes());
    // Keep the DF and evil bits as crafted; set MF and the offset (in 8-byte units).
    let flags = u16::from_be_bytes([d[6], d[7]]) & 0x6000;
    let frag = flags | if more { 0x2000 } else { 0 } | ((off / 8) as u16 & ipv4::FRAG_OFFSET_MASK);
    d[ipv4::FRAG].copy_from_slice(&frag.to_be_bytes());
    let sum = checksum::ipv4_header(&d[..header.len()]);
    d[ipv4::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    d
}

/// One IPv6 fragment: the fixed header, a Fragment header, the data.
fn v6_fragment(header: &[u8], off: usize, data: &[u8], more: bool, ident: u32) -> Vec<u8> {
    let mut d = Vec::with_capacity(header.len() + 8 + data.len());
    d.extend_from_slice(header);
    let next = header[ipv6::NEXT_HEADER];
    d[ipv6::NEXT_HEADER] = NH_FRAGMENT;
    let offm = ((off / 8) as u16) << 3 | u16::from(more);
    d.extend_from_slice(&[next, 0]);
    d.extend_from_slice(&offm.to_be_bytes());
    d.extend_from_slice(&ident.to_be_bytes());
    d.extend_from_slice(data);
    let plen = (d.len() - ipv6::HEADER_LEN) as u16;
    d[ipv6::PAYLOAD_LEN].copy_from_slice(&plen.to_be_bytes());
    d
}

#[cfg(test)]
mod tests;
