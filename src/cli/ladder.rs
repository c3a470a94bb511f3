//! The run as a text ladder diagram (client | time | arrow | server) with relative numbers and notes, fitting
//! an 80-column terminal.

use crate::exchange::states::States;
use crate::exchange::{Dir, Timeline, TimelineEvent};
use crate::link::Origin;

/// Width of the arrow column.
const ARROW: usize = 50;
/// Width notes are wrapped to.
const NOTE_WIDTH: usize = 66;

/// The label on an arrow: flags, relative seq/ack, length.
fn label(e: &TimelineEvent) -> String {
    match (&e.segment, &e.icmp) {
        (Some(s), _) => {
            let mut l = format!("{} seq={}", s.tcp.flags.wireshark(), e.rel_seq);
            if s.tcp.flags.ack {
                l += &format!(" ack={}", e.rel_ack);
            }
            if !s.payload.is_empty() {
                l += &format!(" len={}", s.payload.len());
            }
            l
        }
        (None, Some(i)) => format!("ICMP {}", i.describe()),
        (None, None) => "?".into(),
    }
}

/// Wraps `text` at word boundaries to `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().map(|l| l.chars().count()).unwrap_or(0);
        if last > 0 && last + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

/// The line under an arrow that tells the states that changed: ours at the left, the peer's at the right, and
/// why our segment left the state machine when it did.
fn state_line(now: &States, before: Option<&States>) -> Option<String> {
    let us = before.is_none_or(|b| b.us != now.us).then(|| now.us.rfc_name());
    let peer = before.is_none_or(|b| b.peer != now.peer).then(|| now.peer.rfc_name());
    if us.is_none() && peer.is_none() && now.off.is_none() {
        return None;
    }
    let left = match (us, now.off) {
        (None, None) => String::new(),
        (Some(s), None) => format!("[{s}]"),
        (_, Some(_)) => format!("[{}] ⚠", now.us.rfc_name()),
    };
    let right = peer.map(|s| format!("[{s}]")).unwrap_or_default();
    let pad = (ARROW + 2).saturating_sub(left.chars().count());
    let mut line = format!("{:>12}{left}{right:>pad$}", "").trim_end().to_string();
    if let Some(off) = now.off {
        line += &format!("\n{:>12}⚠ {}", "", crate::i18n::t(off.key()));
    }
    Some(line)
}

/// The whole diagram: a header with both ends, one arrow per event, its note, and ✓/✗ where a step judged it;
/// with `states`, the TCP states of both ends wherever they change.
pub fn render(tl: &Timeline, states: Option<&[States]>, client: &str, server: &str) -> String {
    let mut out = format!("{:>10}  {:<w$}{}\n", "time ms", client, server, w = ARROW + 2 - server.len().min(ARROW));
    for (i, e) in tl.events.iter().enumerate() {
        let l = label(e);
        let body = format!(" {l} ");
        let fill = ARROW.saturating_sub(body.chars().count() + 2);
        let arrow = match e.dir {
            Dir::Out => format!("|-{body}{}>|", "-".repeat(fill)),
            Dir::In => format!("|<{}{body}-|", "-".repeat(fill)),
        };
        let who = match e.origin {
            Origin::Crafted => "",
            Origin::Peer => "",
            Origin::LocalKernel => " our kernel",
            Origin::Icmp => " icmp",
        };
        let verdict = tl
            .verdicts
            .iter()
            .find(|v| v.event == Some(i))
            .map(|v| format!(" {} step {}", if v.pass { "✓" } else { "✗" }, v.step + 1))
            .unwrap_or_default();
        let rtt = e.rtt_us.map(|r| format!(" rtt {:.3}", r as f64 / 1000.0)).unwrap_or_default();
        // Reply evidence, as nmap's --reason gives it: how many hops the answer's sender is likely away.
        let rtt = match (&e.segment, e.dir) {
            (Some(s), Dir::In) => format!("{rtt} ttl {}", s.ttl()),
            _ => rtt,
        };
        out += &format!("{:>10.3}  {arrow}{who}{rtt}{verdict}\n", e.t_us as f64 / 1000.0);
        if let Some(line) = states.and_then(|s| state_line(s.get(i)?, i.checked_sub(1).and_then(|j| s.get(j)))) {
            out += &format!("{line}\n");
        }
        if let Some(f) = e.fragments_summary() {
            out += &format!("{:>12}  ✂ {f}\n", "");
        }
        for line in wrap(&e.note.render(), NOTE_WIDTH) {
            out += &format!("{:>12}  {line}\n", "");
        }
    }
    for v in tl.verdicts.iter().filter(|v| v.event.is_none()) {
        out +=
            &format!("{:>12}{} step {} ({}): {}\n", "", if v.pass { "✓" } else { "✗" }, v.step + 1, v.kind, v.detail);
    }
    out
}
