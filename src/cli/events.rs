//! Captured segments as JSON events and as text lines: the schema `send --json` prints (and `run` extends).

use serde_json::{json, Value};

use crate::link::{Captured, IcmpError, Origin};
use crate::wire::Segment;

/// The fragments a segment went out as, in the order sent: `[{"t_us", "offset", "len", "more", "bytes"}]`
/// (`offset` and `len` of the data in the IP payload; `bytes` of the whole fragment).
pub fn fragments_json<'a>(frags: impl IntoIterator<Item = (u64, &'a [u8])>) -> Value {
    frags
        .into_iter()
        .map(|(t_us, d)| {
            let i = crate::wire::fragment::info(d);
            json!({"t_us": t_us, "offset": i.map(|i| i.offset), "len": i.map(|i| i.len), "more": i.map(|i| i.more),
                   "bytes": d.len()})
        })
        .collect()
}

/// One captured datagram in the `send --json` event schema; `t0` is the link time of the first send.
pub fn event_json(origin: Origin, t: u64, segment: Option<&Segment>, icmp: Option<&IcmpError>, t0: u64) -> Value {
    let dir = if matches!(origin, Origin::Crafted | Origin::LocalKernel) { "out" } else { "in" };
    let mut v = json!({
        "t_us": t.saturating_sub(t0),
        "dir": dir,
        "origin": origin.as_str(),
    });
    if let Some(s) = segment {
        v["src"] = json!(format!("{}:{}", s.src(), s.tcp.sport));
        v["dst"] = json!(format!("{}:{}", s.dst(), s.tcp.dport));
        v["flags"] = json!(s.tcp.flags.names().collect::<Vec<_>>());
        v["seq"] = json!(s.tcp.seq);
        v["ack"] = json!(s.tcp.ack);
        v["win"] = json!(s.tcp.window);
        v["len"] = json!(s.payload.len());
        v["options"] = json!(s.tcp.options.iter().map(|o| o.summary()).collect::<Vec<_>>());
        v["checksum_ok"] = json!(s.tcp_checksum_ok() && s.ip_checksum_ok());
        v["ttl"] = json!(s.ttl());
        v["ip_id"] = json!(s.ip_id());
        if s.tcp.checksum_offloaded {
            v["checksum_offloaded"] = json!(true);
        }
    }
    if let Some(i) = icmp {
        v["src"] = json!(i.from.to_string());
        v["icmp"] = json!({"type": i.icmp_type, "code": i.code, "v6": i.v6, "meaning": i.describe()});
    }
    v
}

/// One line per captured datagram: time, direction, origin, endpoints, flags, numbers.
pub fn event_line(c: &Captured, t0: u64) -> String {
    let ms = c.t.saturating_sub(t0) as f64 / 1000.0;
    let who = c.origin.as_str();
    match (&c.segment, &c.icmp) {
        (Some(s), _) => {
            let opts: Vec<String> = s.tcp.options.iter().map(|o| o.summary()).collect();
            let csum = match (s.tcp_checksum_ok(), s.tcp.checksum_offloaded) {
                (true, _) => "",
                (false, true) => " (checksum left to offload)",
                (false, false) => " (checksum does not verify)",
            };
            let ip_csum = if s.ip_checksum_ok() { "" } else { " (IP header checksum does not verify)" };
            format!(
                "{ms:>9.3} ms  {who:<12} {}:{} > {}:{} {} seq={} ack={} win={} len={} ttl={}{}{}{csum}{ip_csum}",
                s.src(),
                s.tcp.sport,
                s.dst(),
                s.tcp.dport,
                s.tcp.flags.wireshark(),
                s.tcp.seq,
                s.tcp.ack,
                s.tcp.window,
                s.payload.len(),
                s.ttl(),
                s.ip_id().map(|i| format!(" id={i}")).unwrap_or_default(),
                if opts.is_empty() { String::new() } else { format!(" [{}]", opts.join(", ")) },
            )
        }
        (None, Some(i)) => {
            format!("{ms:>9.3} ms  {who:<12} from {}: {} (type {} code {})", i.from, i.describe(), i.icmp_type, i.code)
        }
        (None, None) => format!("{ms:>9.3} ms  {who:<12} {} bytes", c.bytes.len()),
    }
}

/// The line that says the capture lost frames (its ring was full, in frames or bytes), or none when it lost none.
pub fn dropped_line(dropped: u64) -> Option<String> {
    (dropped > 0).then(|| format!("capture dropped {dropped} frame{} (ring full)", if dropped == 1 { "" } else { "s" }))
}

#[cfg(test)]
mod tests {
    use super::dropped_line;

    #[test]
    fn drops_are_told_only_when_there_are_some() {
        assert_eq!(dropped_line(0), None);
        assert_eq!(dropped_line(1).as_deref(), Some("capture dropped 1 frame (ring full)"));
        assert_eq!(dropped_line(4096).as_deref(), Some("capture dropped 4096 frames (ring full)"));
    }
}
