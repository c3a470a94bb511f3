//! Unit tests of fragmenting: offsets, MF, checksums, orders, overlaps and reading the settings back.
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
    let r = fragment(&d, &Fragmenting { size: 16, order: FragOrder::Reverse, overlap: None }, 1).unwrap_or_default();
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
    let twice: Vec<&[u8]> = [&out[0][..], &out[0][..]].into_iter().chain(out.iter().skip(1).map(|d| &d[..])).collect();
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
    assert_eq!(settings(out.iter().map(|d| &d[..]), &whole).map(|f| f.order), Some(FragOrder::Given(vec![2, 0, 1])));
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
    let many = vec!["0"; MAX_FRAGMENTS + 1].join(",");
    assert_eq!(
        many.parse::<FragOrder>(),
        Err(format!("{} numbers: at most {MAX_FRAGMENTS} fragments", MAX_FRAGMENTS + 1))
    );
    let long = (0..1000).map(|k| k.to_string()).collect::<Vec<_>>().join(",");
    let e = fragment(&whole, &given(&(0..1000).collect::<Vec<_>>()), 1).unwrap_err().to_string();
    assert!(e.len() < 140 && e.contains("…") && e.contains(&long[..20]), "the list is cut in the error: {e}");
    for bad in ["", "backwards", "2,,1", "-1,0", "2;0"] {
        assert!(bad.parse::<FragOrder>().unwrap_err().contains("give in, reverse, random"), "{bad}");
    }
}
