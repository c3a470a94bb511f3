//! Step-through explanations: which fields of the segment about to go out were computed from the peer's replies
//! (`ack = peer.seq + 1`), with the values that went in and why the rule is what it is.

use super::timeline::{StepVerdict, TimelineEvent};
use crate::i18n::{self, Lang};
use crate::link::Origin;
use crate::preset::expr::reply_field;
use crate::preset::schema::{SendTemplate, Step};
use crate::wire::SegmentSpec;

/// One field computed from a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computed {
    /// The header field (`seq`, `ack`, `window`, …).
    pub field: &'static str,
    /// The expression as written in the preset.
    pub expr: String,
    /// The value it gave, as it goes out.
    pub value: u32,
    /// The reply values that went in (`peer.seq = 1286335692`).
    pub inputs: Vec<(String, u32)>,
    /// Why the rule is what it is, in the requested language.
    pub why: String,
}

/// The value of `binding.field` in a run so far: the event the `Expect` step that binds it matched.
pub fn bound_value(steps: &[Step], verdicts: &[StepVerdict], events: &[TimelineEvent], name: &str) -> Option<u32> {
    let (binding, field) = name.split_once('.')?;
    let step = steps.iter().position(|s| matches!(s, Step::Expect(x) if x.bind == binding))?;
    let event = verdicts.iter().rev().find(|v| v.step == step && v.pass)?.event?;
    let peer_isn = events.iter().find(|e| e.origin == Origin::Peer && e.flags().syn).and_then(|e| e.segment.as_ref());
    reply_field(events.get(event)?.segment.as_ref()?, field, peer_isn.map(|s| s.tcp.seq))
}

fn why_key(field: &str, expr: &str) -> &'static str {
    let e = expr.replace(' ', "");
    match field {
        "ack" if e.ends_with(".seq+1") => "step.why.ack_syn",
        "ack" if e.ends_with(".next") || e.contains(".len") => "step.why.ack_data",
        "seq" if e.ends_with(".ack") => "step.why.seq_from_ack",
        _ => "step.why.generic",
    }
}

/// The fields of `template` computed from replies, with their values in `spec` (the segment about to go out).
pub fn computed(
    template: &SendTemplate,
    spec: &SegmentSpec,
    lookup: &dyn Fn(&str) -> Option<u32>,
    lang: Lang,
) -> Vec<Computed> {
    let t = &spec.tcp;
    let fields = [
        ("seq", &template.seq, t.seq),
        ("ack", &template.ack, t.ack),
        ("sport", &template.sport, u32::from(t.sport)),
        ("dport", &template.dport, u32::from(t.dport)),
        ("window", &template.window, u32::from(t.window)),
        ("urgent", &template.urgent, u32::from(t.urgent)),
    ];
    fields
        .into_iter()
        .filter_map(|(field, expr, value)| {
            let expr = expr.as_ref()?;
            let names: Vec<String> = expr.names().into_iter().filter(|n| n.contains('.')).collect();
            if names.is_empty() {
                return None;
            }
            let inputs: Vec<(String, u32)> = names.iter().filter_map(|n| lookup(n).map(|v| (n.clone(), v))).collect();
            let binding = names[0].split('.').next().unwrap_or("peer").to_string();
            let key = why_key(field, expr.text());
            let why = i18n::fill(i18n::get_in(lang, key).unwrap_or(key), &[("binding", &binding)]);
            Some(Computed { field, expr: expr.text().to_string(), value, inputs, why })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::session::{open_flow, FlowRequest, LinkChoice};
    use crate::exchange::{run, Control, Observer, RunOptions};

    /// Stops before the third step (the handshake's ACK) and keeps what a paused GUI would have.
    #[derive(Default)]
    struct Pause {
        events: Vec<TimelineEvent>,
        verdicts: Vec<StepVerdict>,
        paused: Option<SegmentSpec>,
    }

    impl Observer for Pause {
        fn before_send(&mut self, step: usize, spec: &SegmentSpec, _: &[u8]) -> Control {
            if step == 2 {
                self.paused = Some(spec.clone());
                return Control::Stop;
            }
            Control::Continue
        }
        fn on_event(&mut self, _: usize, e: &TimelineEvent) {
            self.events.push(e.clone());
        }
        fn on_verdict(&mut self, v: &StepVerdict) {
            self.verdicts.push(v.clone());
        }
    }

    #[test]
    fn the_handshake_ack_is_explained_from_the_syn_ack() {
        let p = crate::preset::resolve("normal-open").unwrap();
        let mut opened = open_flow(&FlowRequest { choice: LinkChoice::Sim, ..FlowRequest::default() }).unwrap();
        let opts = RunOptions {
            target: opened.dst,
            dport: 80,
            src: opened.src,
            sport: None,
            isn: None,
            seed: Some(3),
            linger_ms: 0,
        };
        let mut obs = Pause::default();
        run(&p, opened.link.as_mut(), &opts, &mut obs).unwrap();
        let spec = obs.paused.clone().unwrap();
        let Step::Send(t) = &p.steps[2] else { panic!() };
        let lookup = |n: &str| bound_value(&p.steps, &obs.verdicts, &obs.events, n);
        let c = computed(t, &spec, &lookup, Lang::En);
        assert_eq!(c.len(), 1, "only ack comes from the reply: {c:#?}");
        let synack = obs.events.iter().find(|e| e.origin == crate::link::Origin::Peer).unwrap();
        let peer_seq = synack.segment.as_ref().unwrap().tcp.seq;
        assert_eq!(c[0].field, "ack");
        assert_eq!(c[0].inputs, vec![("peer.seq".to_string(), peer_seq)]);
        assert_eq!(c[0].value, peer_seq.wrapping_add(1));
        assert!(c[0].why.contains("one sequence number"), "{}", c[0].why);
        let ko = computed(t, &spec, &lookup, Lang::Ko);
        assert!(ko[0].why.chars().any(|ch| ('\u{AC00}'..='\u{D7A3}').contains(&ch)), "{}", ko[0].why);
    }
}
