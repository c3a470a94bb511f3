//! "Copy as command": a `tcpcraft build …` command line that rebuilds a captured segment from its parsed fields
//! (addresses, ports, seq/ack, flags, window, urgent pointer, IP id/TTL/TOS/DF, options in order, payload); for a
//! segment we sent in fragments, the `tcpcraft send … --fragment …` line that sends it the same way.

use crate::exchange::TimelineEvent;
use crate::wire::fragment::{self, FragOrder};
use crate::wire::{IpHeader, Segment, TcpOption};

/// The arguments after `tcpcraft`, one per token (none needs quoting: all are numbers, names or hex).
pub fn build_args(seg: &Segment) -> Vec<String> {
    let t = &seg.tcp;
    let mut a: Vec<String> = vec!["build".into(), seg.dst().to_string(), "--src".into(), seg.src().to_string()];
    let mut flag = |name: &str, value: String| {
        a.push(name.into());
        a.push(value);
    };
    match &seg.ip {
        IpHeader::V4(h) => {
            flag("--ttl", h.ttl.to_string());
            flag("--id", h.id.to_string());
            if h.dscp != 0 || h.ecn != 0 {
                flag("--tos", (h.dscp << 2 | h.ecn).to_string());
            }
            if h.frag_offset != 0 {
                flag("--frag", h.frag_offset.to_string());
            }
        }
        IpHeader::V6(h) => {
            flag("--hop-limit", h.hop_limit.to_string());
            if h.flow_label != 0 {
                flag("--flow-label", h.flow_label.to_string());
            }
            if h.traffic_class != 0 {
                flag("--tclass", h.traffic_class.to_string());
            }
        }
    }
    flag("-s", t.sport.to_string());
    flag("-p", t.dport.to_string());
    flag("-M", t.seq.to_string());
    flag("-L", t.ack.to_string());
    flag("-w", t.window.to_string());
    if t.urgent != 0 {
        flag("--urp", t.urgent.to_string());
    }
    for o in &t.options {
        match o {
            TcpOption::Eol => a.push("--eol".into()),
            TcpOption::Nop => a.push("--nop".into()),
            TcpOption::Mss(v) => flag_push(&mut a, "--mss", v.to_string()),
            TcpOption::WindowScale(v) => flag_push(&mut a, "--wscale", v.to_string()),
            TcpOption::SackPermitted => a.push("--sackok".into()),
            TcpOption::Timestamps { val, ecr } => flag_push(&mut a, "--ts", format!("{val}:{ecr}")),
            TcpOption::FastOpen(c) if !c.is_empty() => flag_push(&mut a, "--tfo", hex::encode(c)),
            other => flag_push(&mut a, "--opt", raw_option(other)),
        }
    }
    if let IpHeader::V4(h) = &seg.ip {
        for (on, name) in [(h.df, "--df"), (h.mf, "--mf"), (h.evil, "--evil")] {
            if on {
                a.push(name.into());
            }
        }
    }
    if matches!(seg.ip, IpHeader::V6(_)) {
        a.push("-6".into());
    }
    let f = t.flags;
    for (on, name) in [
        (f.syn, "-S"),
        (f.ack, "-A"),
        (f.fin, "-F"),
        (f.rst, "-R"),
        (f.psh, "-P"),
        (f.urg, "-U"),
        (f.ece, "--ece"),
        (f.cwr, "--cwr"),
        (f.ae, "--ae"),
    ] {
        if on {
            a.push(name.into());
        }
    }
    if !seg.payload.is_empty() {
        flag_push(&mut a, "--data", hex::encode(&seg.payload));
    }
    a
}

fn flag_push(a: &mut Vec<String>, name: &str, value: String) {
    a.push(name.into());
    a.push(value);
}

/// An option the named flags cannot express, as `--opt KIND:HEX` (its encoded bytes after kind and length).
fn raw_option(o: &TcpOption) -> String {
    let bytes = crate::wire::options::encode(std::slice::from_ref(o)).unwrap_or_default();
    let kind = bytes.first().copied().unwrap_or(0);
    format!("{kind}:{}", hex::encode(bytes.get(2..).unwrap_or_default()))
}

/// The whole command line, as a student would type it.
pub fn command_line(seg: &Segment) -> String {
    format!("tcpcraft {}", build_args(seg).join(" "))
}

/// For an event we sent in fragments: `send` with the segment's fields and the fragmenting read back from the
/// fragments as they went out (`--fragment SIZE`, the order, the overlapping copy). `None` for any other event.
pub fn send_args(e: &TimelineEvent) -> Option<Vec<String>> {
    let seg = e.segment.as_ref()?;
    if e.fragments.is_empty() {
        return None;
    }
    let f = fragment::settings(e.fragments.iter().map(|f| &f.bytes[..]), &e.bytes)?;
    let mut a = build_args(seg);
    a[0] = "send".into();
    flag_push(&mut a, "--fragment", f.size.to_string());
    if f.order != FragOrder::In {
        flag_push(&mut a, "--frag-order", f.order.to_string());
    }
    if let Some(n) = f.overlap {
        flag_push(&mut a, "--frag-overlap", n.to_string());
    }
    Some(a)
}

/// What "Copy as command" copies for an event, with its button's label key: the `send --fragment` line for a
/// segment sent in fragments, else the `build` line; `None` without a TCP segment.
pub fn event_command(e: &TimelineEvent) -> Option<(&'static str, String)> {
    match send_args(e) {
        Some(a) => Some(("ui.timeline.copy_send", format!("tcpcraft {}", a.join(" ")))),
        None => e.segment.as_ref().map(|seg| ("ui.timeline.copy_cli", command_line(seg))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::wire::{self, TcpOption};

    /// Builds the bytes the CLI would build for these arguments.
    fn cli_bytes(args: &[String]) -> Vec<u8> {
        let argv = std::iter::once("tcpcraft".to_string()).chain(args.iter().cloned());
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        let cli = Cli::from_arg_matches(&m).unwrap();
        let Some(Command::Build(b)) = cli.command else { panic!("not a build command") };
        let sub = m.subcommand_matches("build").unwrap();
        wire::build(&b.craft.to_spec(b.dst.unwrap(), sub).unwrap()).unwrap()
    }

    #[test]
    fn the_command_line_parses_and_builds_the_same_bytes() {
        let mut spec = crate::wire::SegmentSpec::default();
        spec.tcp.seq = 3_049_812_345;
        spec.tcp.ack = 4_000_000_001;
        spec.tcp.flags.syn = true;
        spec.tcp.flags.ack = true;
        spec.tcp.window = 29200;
        spec.tcp.options = vec![
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps { val: 7, ecr: 9 },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ];
        spec.payload = crate::wire::Payload::Hex(vec![1, 2, 3]);
        let bytes = wire::build(&spec).unwrap();
        let seg = wire::parse_any_protocol(&bytes).unwrap();
        let args = build_args(&seg);
        assert_eq!(cli_bytes(&args), bytes, "{}", command_line(&seg));
        assert!(command_line(&seg).starts_with("tcpcraft build "));
        assert!(command_line(&seg).contains("-M 3049812345"));
    }

    /// A segment sent in fragments copies as `send … --fragment`, over IPv4 and IPv6 (an IPv6 atomic fragment
    /// too): clap reads back the same fragmenting (size, order, overlapping copy), its fields build the same
    /// datagram the fragments were cut from, and that fragments as they went out.
    #[test]
    fn a_fragmented_event_copies_as_a_send_command_with_its_fragmenting() {
        use crate::exchange::notes::Note;
        use crate::exchange::timeline::{Dir, SentFragment};
        use crate::link::Origin;
        use crate::wire::fragment::{fragment, FragOrder, Fragmenting};
        use crate::wire::{IpSpec, Ipv6Spec};

        let reverse = Fragmenting { size: 8, order: FragOrder::Reverse, overlap: Some(1) };
        let atomic = Fragmenting { size: 64, order: FragOrder::In, overlap: None };
        // A shuffle copies as the order it came out in (seed 5 puts the three pieces in the order 2,0,1), which
        // sends the same whatever the seed.
        let shuffled = Fragmenting { size: 8, order: FragOrder::Random, overlap: None };
        for (v6, f, tail) in [
            (false, &shuffled, "--fragment 8 --frag-order 2,0,1"),
            (false, &reverse, "--fragment 8 --frag-order reverse --frag-overlap 1"),
            (true, &reverse, "-S --fragment 8 --frag-order reverse --frag-overlap 1"),
            (true, &atomic, "-S --fragment 24"),
        ] {
            let mut spec = crate::wire::SegmentSpec::default();
            if v6 {
                spec.ip = IpSpec::V6(Ipv6Spec::default());
            }
            spec.tcp.flags.syn = true;
            spec.tcp.seq = 1_000;
            let whole = wire::build(&spec).unwrap();
            let sent = fragment(&whole, f, 5).unwrap();
            let mut e = TimelineEvent {
                t_us: 0,
                dir: Dir::Out,
                origin: Origin::Crafted,
                step: Some(0),
                segment: wire::parse_any_protocol(&whole).ok(),
                icmp: None,
                rel_seq: 0,
                rel_ack: 0,
                rtt_us: None,
                note: Note::new("none", &[]),
                bytes: whole.clone(),
                fragments: sent.iter().cloned().map(|bytes| SentFragment { t_us: 0, bytes }).collect(),
            };
            let (label, line) = event_command(&e).unwrap();
            assert_eq!(label, "ui.timeline.copy_send");
            assert!(line.starts_with("tcpcraft send "), "{line}");
            assert!(line.ends_with(tail), "{line}");
            assert_eq!(line.contains(" -6 "), v6, "{line}");
            let argv: Vec<String> = line.split(' ').map(String::from).collect();
            let m = Cli::command().try_get_matches_from(&argv).unwrap();
            let Some(Command::Send(s)) = Cli::from_arg_matches(&m).unwrap().command else { panic!("not send") };
            let again = s.frag.fragmenting().unwrap().unwrap();
            let sub = m.subcommand_matches("send").unwrap();
            let dst = s.target.parse().unwrap();
            let rebuilt = wire::build(&s.craft.to_spec(dst, sub).unwrap()).unwrap();
            assert_eq!(rebuilt, whole, "{line}");
            assert_eq!(fragment(&rebuilt, &again, if v6 { 5 } else { 6 }).unwrap(), sent, "{line}");
            // Sent whole, the same event copies as `build`.
            e.fragments.clear();
            assert_eq!(event_command(&e).unwrap().0, "ui.timeline.copy_cli");
        }
    }
}
