use super::*;
use crate::preset::builtin;

fn opts() -> RunOptions {
    RunOptions {
        target: IpAddr::from([192, 0, 2, 10]),
        dport: 80,
        src: IpAddr::from([192, 0, 2, 1]),
        sport: Some(40000),
        isn: Some(1000),
        seed: Some(0),
        linger_ms: 0,
    }
}

#[test]
fn preview_evaluates_a_later_send_with_replies_as_zero() -> Result<(), Box<dyn std::error::Error>> {
    let p = builtin::builtin("normal-open").ok_or("normal-open is bundled")??;
    // Step 3 is the ACK: seq = isn + 1, ack = peer.seq + 1 with no reply yet.
    let spec = preview(&p, 2, &opts()).ok_or("step 3 is a Send")??;
    assert_eq!((spec.tcp.seq, spec.tcp.ack, spec.tcp.sport, spec.tcp.dport), (1001, 1, 40000, 80));
    let syn = preview(&p, 0, &opts()).ok_or("step 1 is a Send")??;
    assert_eq!((syn.tcp.seq, syn.tcp.flags), (1000, wire::TcpFlags::SYN));
    // The Expect step has no bytes to preview.
    assert!(preview(&p, 1, &opts()).is_none());
    Ok(())
}
