//! Fragment reassembly in front of the simulated host, as Linux does it (the router's conntrack defragments before
//! the firewall looks at ports, and the host reassembles what reaches it): fragments are held until the datagram is
//! complete, in any order; an exact duplicate is ignored; a fragment that overlaps another with different bytes
//! spoils the whole datagram, which is then dropped (RFC 5722 for IPv6; Linux does the same for IPv4).

use crate::wire::checksum;
use crate::wire::field::{self, ipv4, ipv6, ipv6_ext};
use crate::wire::fragment;

/// Most datagrams being put together at once; the oldest is given up beyond it.
const MAX_PENDING: usize = 64;
/// Most fragments one datagram may arrive in.
const MAX_PIECES: usize = 8192;
/// The largest datagram payload reassembly builds.
const MAX_PAYLOAD: usize = 65_535;
/// IPv6's Fragment extension header number.
const NH_FRAGMENT: u8 = 44;

/// One datagram being put together.
struct Pending {
    /// Source, destination, identification and protocol: what makes fragments one datagram's.
    key: Vec<u8>,
    /// The first fragment's unfragmentable header (IPv4 header; IPv6 fixed header), once it came.
    header: Option<Vec<u8>>,
    /// The upper-layer protocol (IPv6: the Fragment header's next header).
    next: u8,
    /// Data pieces by offset.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Bytes in `pieces` (overlaps counted twice): below the payload's length, it cannot be complete yet.
    held: usize,
    /// The payload's length, known once the last fragment (MF clear) came.
    total: Option<usize>,
    /// An overlap with other bytes was seen: the datagram will be dropped.
    spoiled: bool,
}

/// The fragments held so far.
#[derive(Default)]
pub(super) struct Reassembly {
    pending: Vec<Pending>,
}

/// What a fragment's arrival gives.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Arrival {
    /// The datagram is complete: here it is, whole.
    Whole(Vec<u8>),
    /// Held until the rest comes.
    Held,
    /// The datagram was complete but spoiled by an overlap (or cannot be built), and is dropped.
    Dropped,
}

/// An IP fragment taken apart.
struct Parts<'a> {
    /// Source, destination, identification (and IPv4's protocol).
    key: Vec<u8>,
    /// The unfragmentable header.
    header: &'a [u8],
    /// The upper-layer protocol.
    next: u8,
    /// The data it carries.
    data: &'a [u8],
}

/// The key, the unfragmentable header, the upper protocol and the data of an IP fragment.
fn parts(d: &[u8]) -> Option<Parts<'_>> {
    match d.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(d[0] & 0x0f) * 4;
            let total = usize::from(field::get_u16(d, ipv4::TOTAL_LEN)?).min(d.len());
            let (header, data) = (d.get(..ihl)?, d.get(ihl..total)?);
            let mut key = d.get(ipv4::SRC.start..ipv4::DST.end)?.to_vec();
            key.extend_from_slice(d.get(ipv4::IDENT)?);
            key.push(d[ipv4::PROTOCOL]);
            Some(Parts { key, header, next: d[ipv4::PROTOCOL], data })
        }
        // The Fragment header right after the fixed header, as tcpcraft sends them.
        Some(6) if d.get(ipv6::NEXT_HEADER) == Some(&NH_FRAGMENT) => {
            let at = ipv6::HEADER_LEN;
            let next = *d.get(at + ipv6_ext::NEXT_HEADER)?;
            let mut key = d.get(ipv6::SRC.start..ipv6::DST.end)?.to_vec();
            key.extend_from_slice(d.get(at + 4..at + 8)?);
            Some(Parts { key, header: d.get(..at)?, next, data: d.get(at + ipv6_ext::FRAGMENT_LEN..)? })
        }
        _ => None,
    }
}

impl Reassembly {
    /// Takes one fragment (`datagram` with MF set or a non-zero offset).
    pub fn offer(&mut self, datagram: &[u8]) -> Arrival {
        let (Some(info), Some(Parts { key, header, next, data })) = (fragment::info(datagram), parts(datagram)) else {
            return Arrival::Dropped;
        };
        if info.offset + data.len() > MAX_PAYLOAD {
            return Arrival::Dropped;
        }
        let i = match self.pending.iter().position(|p| p.key == key) {
            Some(i) => i,
            None => {
                if self.pending.len() == MAX_PENDING {
                    self.pending.remove(0);
                }
                let p = Pending { key, header: None, next, pieces: Vec::new(), held: 0, total: None, spoiled: false };
                self.pending.push(p);
                self.pending.len() - 1
            }
        };
        let p = &mut self.pending[i];
        if info.offset == 0 {
            p.header.get_or_insert_with(|| header.to_vec());
        }
        if !info.more {
            p.total = Some(info.offset + data.len());
        }
        let (from, to) = (info.offset, info.offset + data.len());
        let mut duplicate = false;
        for (off, bytes) in &p.pieces {
            let (a, b) = (from.max(*off), to.min(off + bytes.len()));
            if a < b {
                if bytes[a - off..b - off] != data[a - from..b - from] {
                    p.spoiled = true;
                }
                duplicate |= (*off, bytes.len()) == (from, data.len());
            }
        }
        if !duplicate && p.pieces.len() < MAX_PIECES {
            p.pieces.push((from, data.to_vec()));
            p.held += data.len();
        }
        match complete(p) {
            None => Arrival::Held,
            Some(whole) => {
                let p = self.pending.remove(i);
                match whole {
                    Some(d) if !p.spoiled => Arrival::Whole(d),
                    _ => Arrival::Dropped,
                }
            }
        }
    }
}

/// `None` while pieces are missing; then the datagram (`Some(None)` when it cannot be built).
fn complete(p: &Pending) -> Option<Option<Vec<u8>>> {
    let (total, header) = (p.total?, p.header.as_ref()?);
    // Laying the pieces out costs the payload's length, on every arrival: only once there can be enough.
    if p.held < total {
        return None;
    }
    let mut payload = vec![0u8; total];
    let mut covered = vec![false; total];
    for (off, bytes) in &p.pieces {
        for (k, b) in bytes.iter().enumerate() {
            if let Some(slot) = payload.get_mut(off + k) {
                // The first copy counts (the overlap already spoiled the datagram if they differ).
                if !covered[off + k] {
                    *slot = *b;
                    covered[off + k] = true;
                }
            }
        }
    }
    if covered.iter().any(|c| !c) {
        return None;
    }
    Some(build(header, p.next, &payload))
}

/// The whole datagram: the first fragment's header with the lengths, the fragment fields and (IPv4) the header
/// checksum made again.
fn build(header: &[u8], next: u8, payload: &[u8]) -> Option<Vec<u8>> {
    let mut d = header.to_vec();
    d.extend_from_slice(payload);
    if d[0] >> 4 == 4 {
        let total = u16::try_from(d.len()).ok()?;
        d[ipv4::TOTAL_LEN].copy_from_slice(&total.to_be_bytes());
        let flags = field::get_u16(&d, ipv4::FRAG)? & 0x4000;
        d[ipv4::FRAG].copy_from_slice(&flags.to_be_bytes());
        d[ipv4::CHECKSUM].copy_from_slice(&[0, 0]);
        let sum = checksum::ipv4_header(&d[..header.len()]);
        d[ipv4::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    } else {
        d[ipv6::NEXT_HEADER] = next;
        let plen = u16::try_from(payload.len()).ok()?;
        d[ipv6::PAYLOAD_LEN].copy_from_slice(&plen.to_be_bytes());
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fragment::{FragOrder, Fragmenting};
    use crate::wire::{self, IpSpec, Ipv6Spec, Payload, SegmentSpec, TcpFlags};

    fn syn(v6: bool) -> Vec<u8> {
        let mut spec = SegmentSpec::default();
        if v6 {
            spec.ip = IpSpec::V6(Ipv6Spec::default());
        }
        spec.tcp.flags = TcpFlags::SYN;
        spec.payload = Payload::Hex((0..37).collect());
        wire::build(&spec).unwrap_or_default()
    }

    fn offer_all(frags: &[Vec<u8>]) -> Vec<Arrival> {
        let mut r = Reassembly::default();
        frags.iter().map(|f| r.offer(f)).collect()
    }

    #[test]
    fn fragments_in_any_order_give_back_the_datagram_byte_for_byte() {
        for v6 in [false, true] {
            let whole = syn(v6);
            for order in [FragOrder::In, FragOrder::Reverse, FragOrder::Random] {
                let frags =
                    fragment::fragment(&whole, &Fragmenting { size: 8, order: order.clone(), overlap: None }, 5)
                        .unwrap();
                let got = offer_all(&frags);
                assert!(got[..got.len() - 1].iter().all(|a| *a == Arrival::Held), "v6={v6} {order:?}");
                // The IPv4 header checksum is made again; everything else is as sent.
                assert_eq!(got.last(), Some(&Arrival::Whole(whole.clone())), "v6={v6} {order:?}");
            }
        }
    }

    #[test]
    fn an_overlap_with_other_bytes_drops_the_datagram_and_an_exact_duplicate_does_not() {
        for v6 in [false, true] {
            let whole = syn(v6);
            let f = Fragmenting { size: 8, order: FragOrder::In, overlap: Some(1) };
            let frags = fragment::fragment(&whole, &f, 5).unwrap();
            assert_eq!(offer_all(&frags).last(), Some(&Arrival::Dropped), "v6={v6}");
            let frags = fragment::fragment(&whole, &Fragmenting { overlap: None, ..f }, 5).unwrap();
            let mut twice = frags.clone();
            twice.insert(1, frags[1].clone());
            let got = offer_all(&twice);
            assert_eq!(got.last(), Some(&Arrival::Whole(whole.clone())), "v6={v6}");
        }
    }

    #[test]
    fn a_missing_fragment_keeps_it_held_and_garbage_is_dropped() {
        let whole = syn(false);
        let frags = fragment::fragment(&whole, &Fragmenting { size: 8, ..Fragmenting::default() }, 1).unwrap();
        assert!(offer_all(&frags[1..]).iter().all(|a| *a == Arrival::Held));
        assert_eq!(Reassembly::default().offer(&[0x45, 0, 0]), Arrival::Dropped);
    }
}
