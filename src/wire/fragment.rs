//! Fragmentation of a crafted datagram, as firewall tests use it: IPv4 fragments (IPv6: a Fragment extension header
//! in each), a chosen payload size per fragment (a multiple of 8; 8 splits the TCP header itself), sent in order,
//! reversed, shuffled or in an order given piece by piece, optionally with an overlapping duplicate that carries different bytes.

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
            list => list.split(',').map(|n| n.trim().parse::<usize>()).collect::<Result<Vec<_>, _>>().map(FragOrder::Given).map_err(|_| {
                format!("'{list}': give in, reverse, random, or the fragments' numbers in the order they go out (0 is the first piece), as 2,0,1")
            }),
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
    let (header, payload, v6) = split(datagram)?;
    let mut parts: Vec<(usize, Vec<u8>)> = payload
        .chunks(f.size)
        .scan(0, |off, c| {
            let here = *off;
            *off += c.len();
            Some((here, c.to_vec()))
        })
        .collect();
    if parts.len() > 8192 {
        return Err(WireError::Fragment(format!("{} fragments; at most 8192", parts.len())));
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
        FragOrder::Given(list) => out = in_given_order(out, list)?,
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

/// `pieces` in the order `list` names them; each must be named once.
fn in_given_order(pieces: Vec<Vec<u8>>, list: &[usize]) -> Result<Vec<Vec<u8>>, WireError> {
    let n = pieces.len();
    let mut taken: Vec<Option<Vec<u8>>> = pieces.into_iter().map(Some).collect();
    let out: Vec<Vec<u8>> = list.iter().map_while(|&k| taken.get_mut(k).and_then(Option::take)).collect();
    if out.len() != n || list.len() != n {
        return Err(WireError::Fragment(format!(
            "fragment order {}: name each of the {n} fragments (0 to {}) once",
            FragOrder::Given(list.to_vec()),
            n.saturating_sub(1)
        )));
    }
    Ok(out)
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
/// falling: the pieces' numbers as they went, so a shuffle is sent again the same way), and an overlapping copy names the fragment it doubles. `None` when they are not fragments
/// of it as [`fragment`] makes them (a size not a multiple of 8, more than one copy, a piece missing).
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
    if genuine.len() != payload.div_ceil(size) {
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
mod tests {
    use super::*;
    use crate::wire::{self, IpSpec, Ipv6Spec, Payload, SegmentSpec, TcpFlags};

    fn syn(payload: usize, v6: bool) -> Vec<u8> {
        let mut spec = SegmentSpec::default();
        if v6 {
            spec.ip = IpSpec::V6(Ipv6Spec::default());
        }
        spec.tcp.flags = TcpFlags::SYN;
        spec.payload = Payload::Hex(vec![0x5a; payload]);
        wire::build(&spec).unwrap_or_default()
    }

    #[test]
    fn info_reads_offset_length_and_more_of_both_families_and_none_for_whole_datagrams() {
        for v6 in [false, true] {
            let whole = syn(20, v6);
            assert_eq!(info(&whole), None, "v6={v6}: a whole datagram is no fragment");
            let f = Fragmenting { size: 16, ..Fragmenting::default() };
            let frags = fragment(&whole, &f, 7).unwrap();
            let got: Vec<_> = frags.iter().map(|d| info(d).unwrap()).collect();
            assert_eq!(
                got,
                vec![
                    FragInfo { offset: 0, len: 16, more: true },
                    FragInfo { offset: 16, len: 16, more: true },
                    FragInfo { offset: 32, len: 8, more: false },
                ],
                "v6={v6}"
            );
        }
        assert_eq!(info(&[0x45, 0]), None, "too short to tell");
    }

    #[test]
    fn describe_lists_offsets_in_the_order_sent_and_marks_the_overlap() {
        let f = Fragmenting { size: 8, order: FragOrder::Reverse, overlap: Some(1) };
        let whole = syn(0, false);
        let frags = fragment(&whole, &f, 1).unwrap();
        // The copy goes out just before the genuine fragment.
        assert_eq!(describe(frags.iter().map(|d| &d[..]), &whole), "sent as 4 IPv4 fragments: 16+4 8+8* 8+8 0+8");
        assert_eq!(copies(frags.iter().map(|d| &d[..]), &whole), [false, true, false, false]);
        let whole = syn(0, true);
        let frags = fragment(&whole, &Fragmenting { size: 16, ..f.clone() }, 1).unwrap();
        assert_eq!(describe(frags.iter().map(|d| &d[..]), &whole), "sent as 3 IPv6 fragments: 16+4* 16+4 0+16");
    }

    /// Puts IPv4 fragments back together by offset (the receiver's view, first copy wins).
    fn reassemble_v4(frags: &[Vec<u8>]) -> Vec<u8> {
        let ihl = usize::from(frags[0][0] & 0x0f) * 4;
        let mut body = vec![None; 4096];
        let mut end = 0;
        for f in frags {
            let off = usize::from(u16::from_be_bytes([f[6], f[7]]) & 0x1fff) * 8;
            for (i, b) in f[ihl..].iter().enumerate() {
                body[off + i].get_or_insert(*b);
            }
            end = end.max(off + f.len() - ihl);
        }
        body[..end].iter().map(|b| b.unwrap_or(0)).collect()
    }

    #[test]
    fn ipv4_fragments_carry_offsets_mf_and_valid_checksums_and_reassemble() {
        let d = syn(30, false);
        let f = fragment(&d, &Fragmenting { size: 8, ..Default::default() }, 1).unwrap_or_default();
        assert_eq!(f.len(), 7, "20 bytes of TCP header + 30 of data in 8-byte pieces");
        assert_eq!(f[0].len(), 28, "a tiny first fragment: 8 bytes of the TCP header (ports and seq)");
        for (i, frag) in f.iter().enumerate() {
            let fl = u16::from_be_bytes([frag[6], frag[7]]);
            assert_eq!(usize::from(fl & 0x1fff), i, "offset in 8-byte units");
            assert_eq!(fl & 0x2000 != 0, i + 1 < f.len(), "MF on all but the last");
            assert_eq!(checksum::ipv4_header(&frag[..20]), u16::from_be_bytes([frag[10], frag[11]]), "checksum");
            assert_eq!(usize::from(u16::from_be_bytes([frag[2], frag[3]])), frag.len());
        }
        assert_eq!(reassemble_v4(&f), d[20..]);
        let r =
            fragment(&d, &Fragmenting { size: 16, order: FragOrder::Reverse, overlap: None }, 1).unwrap_or_default();
        assert_eq!(reassemble_v4(&r), d[20..], "reversed fragments reassemble the same");
        assert_eq!(u16::from_be_bytes([r[0][6], r[0][7]]) & 0x2000, 0, "the last one goes first");
    }

    #[test]
    fn an_overlap_duplicate_goes_just_before_the_genuine_fragment_with_other_bytes() {
        let d = syn(16, false);
        let f = fragment(&d, &Fragmenting { size: 8, order: FragOrder::In, overlap: Some(1) }, 3).unwrap_or_default();
        assert_eq!(f.len(), 6);
        assert_eq!(f[1][6..8], f[2][6..8], "same offset");
        assert_ne!(f[1][20..], f[2][20..], "different bytes");
        assert_eq!(f[2][20..], d[28..36], "the genuine one follows");
    }

    #[test]
    fn ipv6_fragments_carry_a_fragment_header() {
        let d = syn(20, true);
        let f = fragment(&d, &Fragmenting { size: 16, ..Default::default() }, 9).unwrap_or_default();
        assert_eq!(f.len(), 3);
        for (i, frag) in f.iter().enumerate() {
            assert_eq!(frag[6], NH_FRAGMENT);
            assert_eq!(frag[40], 6, "the Fragment header's next header is TCP");
            let offm = u16::from_be_bytes([frag[42], frag[43]]);
            assert_eq!((usize::from(offm >> 3), offm & 1 == 1), (i * 2, i + 1 < f.len()));
            assert_eq!(usize::from(u16::from_be_bytes([frag[4], frag[5]])), frag.len() - 40);
        }
    }

    #[test]
    fn sizes_that_are_not_multiples_of_8_are_refused() {
        let d = syn(0, false);
        for size in [0, 4, 12] {
            assert!(fragment(&d, &Fragmenting { size, ..Default::default() }, 0).is_err(), "{size}");
        }
        assert!(fragment(&d, &Fragmenting { size: 8, overlap: Some(9), ..Default::default() }, 0).is_err());
    }

    /// What [`fragment`] sends, [`settings`] reads back: size, order and the overlapping copy, over IPv4 and
    /// IPv6 (a shuffle that happens to come out rising or falling reads as that order).
    #[test]
    fn settings_read_back_what_fragment_sent() {
        for v6 in [false, true] {
            let whole = syn(36, v6);
            for size in [8, 16, 24, 48] {
                for order in [FragOrder::In, FragOrder::Reverse, FragOrder::Random] {
                    for overlap in [None, Some(0), Some(1)] {
                        let f = Fragmenting { size, order: order.clone(), overlap };
                        let out = fragment(&whole, &f, 7).unwrap();
                        let got = settings(out.iter().map(|d| &d[..]), &whole).expect("read back");
                        assert_eq!((got.size, got.overlap), (size, overlap), "{f:?} v6={v6}");
                        if order != FragOrder::Random {
                            assert_eq!(got.order, order, "{f:?} v6={v6}");
                        }
                        // Sent again as read back, under another seed: the same fragments in the same order
                        // (IPv6's identification comes from the seed, so the same seed there).
                        assert_eq!(fragment(&whole, &got, if v6 { 7 } else { 99 }).unwrap(), out, "{f:?} v6={v6}");
                    }
                }
            }
        }
    }

    /// A payload that fits one fragment goes out as an IPv6 atomic fragment (offset 0, no more after it); its
    /// settings read back as a size that holds it all, and [`fragment`] sends it the same way again.
    #[test]
    fn an_atomic_fragment_reads_back_as_a_size_that_holds_it() {
        let whole = syn(36, true);
        for overlap in [None, Some(0)] {
            let f = Fragmenting { size: 64, order: FragOrder::In, overlap };
            let out = fragment(&whole, &f, 3).unwrap();
            assert_eq!(out.len(), 1 + usize::from(overlap.is_some()), "one piece (and its copy)");
            let got = settings(out.iter().map(|d| &d[..]), &whole).expect("read back");
            assert_eq!((got.size, got.overlap), (56, overlap), "20 + 36 bytes, rounded up to 8");
            assert_eq!(fragment(&whole, &got, 3).unwrap(), out, "sent the same way");
        }
    }

    /// Pieces that are not what [`fragment`] makes give no settings: one missing, two copies, a whole datagram.
    #[test]
    fn settings_refuse_what_fragment_never_sends() {
        let whole = syn(36, false);
        let f = Fragmenting { size: 16, order: FragOrder::In, overlap: Some(0) };
        let out = fragment(&whole, &f, 1).unwrap_or_default();
        assert!(settings(out.iter().skip(1).map(|d| &d[..]), &whole).is_some(), "the copy's genuine one remains");
        assert!(settings(out.iter().take(3).map(|d| &d[..]), &whole).is_none(), "the last piece is missing");
        let twice: Vec<&[u8]> =
            [&out[0][..], &out[0][..]].into_iter().chain(out.iter().skip(1).map(|d| &d[..])).collect();
        assert!(settings(twice.iter().copied(), &whole).is_none(), "two copies");
        assert!(settings([&whole[..]], &whole).is_none(), "not a fragment");
    }

    /// A given order sends the pieces as listed, reads back as the same list, and is refused unless it names
    /// every piece once; `--frag-order` text goes both ways.
    #[test]
    fn a_given_order_sends_as_listed_and_must_name_each_piece_once() {
        let whole = syn(4, false);
        let given = |l: &[usize]| Fragmenting { size: 8, order: FragOrder::Given(l.to_vec()), overlap: None };
        let out = fragment(&whole, &given(&[2, 0, 1]), 1).unwrap();
        assert_eq!(describe(out.iter().map(|d| &d[..]), &whole), "sent as 3 IPv4 fragments: 16+8 0+8 8+8");
        assert_eq!(
            settings(out.iter().map(|d| &d[..]), &whole).map(|f| f.order),
            Some(FragOrder::Given(vec![2, 0, 1]))
        );
        for bad in [&[2, 0][..], &[2, 0, 1, 1], &[0, 0, 1], &[0, 1, 3], &[]] {
            let e = fragment(&whole, &given(bad), 1).unwrap_err().to_string();
            assert!(e.contains("name each of the 3 fragments (0 to 2) once"), "{bad:?}: {e}");
        }
        for (text, order) in [
            ("in", FragOrder::In),
            ("reverse", FragOrder::Reverse),
            ("random", FragOrder::Random),
            ("2,0,1", FragOrder::Given(vec![2, 0, 1])),
        ] {
            assert_eq!(text.parse::<FragOrder>(), Ok(order.clone()));
            assert_eq!(order.to_string(), text);
        }
        assert_eq!(" 2, 0 ,1 ".parse::<FragOrder>(), Ok(FragOrder::Given(vec![2, 0, 1])));
        for bad in ["", "backwards", "2,,1", "-1,0", "2;0"] {
            assert!(bad.parse::<FragOrder>().unwrap_err().contains("give in, reverse, random"), "{bad}");
        }
    }
}
