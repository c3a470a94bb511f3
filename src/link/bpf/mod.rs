//! Kernel-side classic BPF programs for the capture socket (Linux `SO_ATTACH_FILTER`), so that only the
//! session's own traffic is ever copied into this process: one flow for a [`crate::link::Link`], or the replies
//! to one sweep's probes. Pure code: the programs are built here and attached by `raw/linux.rs`.
//!
//! The programs read frames as an AF_PACKET `SOCK_RAW` socket delivers them: a 14-byte Ethernet header (all-zero
//! MACs on `lo`), then IPv4 (ethertype 0x0800) or IPv6 (0x86DD). A VLAN tag never shows up in the bytes: the
//! kernel moves it into metadata before filters run. IPv6 extension headers are not followed: a datagram is
//! accepted only when its first next header is TCP (6) or ICMPv6 (58). IPv4 fragments other than the first are
//! dropped (their bytes after the IP header are not a TCP or ICMP header). A load past the end of a frame makes
//! the kernel return 0, so truncated frames are dropped.
//!
//! Jump offsets are resolved by a small label assembler (`asm.rs`) that refuses any offset over 255 instead of
//! truncating it.

use std::net::IpAddr;

use thiserror::Error;

use super::Flow;

mod asm;
pub mod interp;
#[cfg(test)]
mod tests;

use asm::{Asm, At, Dest, Label};

/// One classic BPF instruction, laid out like the kernel's `struct sock_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Operation code (class, size, mode or operation, source).
    pub code: u16,
    /// Forward jump when a condition holds, in instructions after the next one.
    pub jt: u8,
    /// Forward jump when it does not.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

/// What a program returns for an accepted frame: the snap length (whole frames, as tcpdump keeps them).
pub const ACCEPT: u32 = 0x40000;
/// Most source ports one sweep filter holds.
pub const MAX_SPORTS: usize = 64;
/// The kernel's limit on a classic BPF program (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// Why a filter program could not be built.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BpfError {
    /// A sweep filter was asked for no source port at all.
    #[error("a sweep capture filter needs at least one source port")]
    NoPorts,
    /// A sweep filter was asked for more source ports than it holds.
    #[error("a sweep capture filter holds at most {max} source ports, not {count}")]
    TooManyPorts {
        /// Distinct ports asked for.
        count: usize,
        /// The limit, [`MAX_SPORTS`].
        max: usize,
    },
    /// A conditional jump would skip more than 255 instructions, which its 8-bit offset cannot say.
    #[error("instruction {from} jumps to instruction {to}, more than 255 ahead")]
    JumpTooFar {
        /// The jumping instruction.
        from: usize,
        /// Its target.
        to: usize,
    },
    /// A jump goes backwards (or to itself), which classic BPF forbids.
    #[error("instruction {from} jumps back to instruction {to}; classic BPF jumps only forwards")]
    Backward {
        /// The jumping instruction.
        from: usize,
        /// Its target.
        to: usize,
    },
    /// A jump names a label that was never placed, or one past the end of the program.
    #[error("instruction {from} jumps to a label that is not placed on an instruction")]
    Unbound {
        /// The jumping instruction.
        from: usize,
    },
    /// The program is longer than the kernel accepts.
    #[error("the filter has {len} instructions; the kernel takes at most {MAX_INSNS}")]
    TooLong {
        /// Its length.
        len: usize,
    },
}

/// Operation codes (`linux/filter.h`, `linux/bpf_common.h`).
mod op {
    pub const LD_W_ABS: u16 = 0x20;
    pub const LD_H_ABS: u16 = 0x28;
    pub const LD_B_ABS: u16 = 0x30;
    pub const LD_W_IND: u16 = 0x40;
    pub const LD_H_IND: u16 = 0x48;
    pub const LD_B_IND: u16 = 0x50;
    /// `ldx 4*([k]&0xf)`: the IPv4 header length.
    pub const LDX_B_MSH: u16 = 0xb1;
    pub const AND_K: u16 = 0x54;
    pub const LSH_K: u16 = 0x64;
    pub const ADD_X: u16 = 0x0c;
    pub const TAX: u16 = 0x07;
    pub const JA: u16 = 0x05;
    pub const JEQ_K: u16 = 0x15;
    pub const JGT_K: u16 = 0x25;
    pub const JGE_K: u16 = 0x35;
    pub const JSET_K: u16 = 0x45;
    pub const RET_K: u16 = 0x06;
}

/// The ethertype's offset in the frame.
const ETHERTYPE: u32 = 12;
/// Where the IP header starts in the frame.
const IP: u32 = 14;
const ETH_IPV4: u32 = 0x0800;
const ETH_IPV6: u32 = 0x86DD;
const ETH_ARP: u32 = 0x0806;
const PROTO_TCP: u32 = 6;
const PROTO_ICMP: u32 = 1;
const PROTO_ICMPV6: u32 = 58;
/// ICMP error types that quote the offending datagram (destination unreachable, source quench, redirect, time
/// exceeded, parameter problem).
const ICMP_ERRORS: [u8; 5] = [3, 4, 5, 11, 12];
/// ICMPv6 error types (destination unreachable, packet too big, time exceeded, parameter problem).
const ICMPV6_ERRORS: [u8; 4] = [1, 2, 3, 4];

/// A program that accepts nothing (installed before there is anything to watch).
pub fn drop_all() -> Vec<Insn> {
    vec![Insn { code: op::RET_K, jt: 0, jf: 0, k: 0 }]
}

/// A program that accepts ARP frames only (the link-layer sender's socket while it resolves a neighbour).
pub fn arp() -> Vec<Insn> {
    let mut a = Asm::default();
    let drop = a.label();
    a.ldh(At::Abs(ETHERTYPE));
    a.require(ETH_ARP, drop);
    a.ret(ACCEPT);
    a.bind(drop);
    a.ret(0);
    a.finish().unwrap_or_else(|_| drop_all())
}

/// A pattern over one port field.
#[derive(Clone, Copy, Debug)]
enum Ports<'a> {
    Any,
    One(u16),
    /// Sorted, without duplicates, not empty.
    Set(&'a [u16]),
}

/// A pattern over a TCP segment's endpoints; `None` and [`Ports::Any`] match anything.
#[derive(Clone, Copy, Debug)]
struct Tuple<'a> {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: Ports<'a>,
    dport: Ports<'a>,
}

/// What a program accepts, in one family: TCP segments matching one of `tcp`, and ICMP errors whose quoted
/// TCP segment matches `quoted`.
struct Want<'a> {
    v6: bool,
    tcp: Vec<Tuple<'a>>,
    quoted: Tuple<'a>,
}

/// A program that accepts only `flow`'s TCP segments in either direction and the ICMP/ICMPv6 errors that quote
/// a segment we sent on it. A flow whose two ends are of different families matches nothing.
pub fn flow(flow: &Flow) -> Vec<Insn> {
    let (l, r) = (flow.local, flow.remote);
    if l.is_ipv4() != r.is_ipv4() {
        return drop_all();
    }
    let out = Tuple { src: Some(l.ip()), dst: Some(r.ip()), sport: Ports::One(l.port()), dport: Ports::One(r.port()) };
    let back = Tuple { src: Some(r.ip()), dst: Some(l.ip()), sport: Ports::One(r.port()), dport: Ports::One(l.port()) };
    // Fails closed. The program has one fixed shape per family, far from any limit (a unit test builds both).
    compile(&Want { v6: l.is_ipv6(), tcp: vec![out, back], quoted: out }).unwrap_or_else(|_| drop_all())
}

/// A program for a sweep from `src`: accepts TCP segments to `src` whose destination port is one of `sports`
/// (the replies to our probes), and ICMP/ICMPv6 errors quoting a TCP segment from `src` whose source port is in
/// `sports`.
///
/// Our own outgoing probes are dropped because their destination is not `src`, except on `lo` towards our own
/// address: a probe from `src:p` to `src:q` with `q` in `sports` is accepted too, and the sweep's matcher tells
/// it from a reply. At most [`MAX_SPORTS`] distinct ports; a run of consecutive ports costs two instructions.
pub fn probes(src: IpAddr, sports: &[u16]) -> Result<Vec<Insn>, BpfError> {
    let mut ports = sports.to_vec();
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() {
        return Err(BpfError::NoPorts);
    }
    if ports.len() > MAX_SPORTS {
        return Err(BpfError::TooManyPorts { count: ports.len(), max: MAX_SPORTS });
    }
    let reply = Tuple { src: None, dst: Some(src), sport: Ports::Any, dport: Ports::Set(&ports) };
    let quoted = Tuple { src: Some(src), dst: None, sport: Ports::Set(&ports), dport: Ports::Any };
    compile(&Want { v6: src.is_ipv6(), tcp: vec![reply], quoted })
}

/// Compiles `w`: returns [`ACCEPT`] for a frame it wants, 0 for any other.
fn compile(w: &Want) -> Result<Vec<Insn>, BpfError> {
    let mut a = Asm::default();
    let (accept, drop, tcp, icmp) = (a.label(), a.label(), a.label(), a.label());
    a.ldh(At::Abs(ETHERTYPE));
    if w.v6 {
        a.require(ETH_IPV6, drop);
        a.ldb(At::Abs(IP + 6));
        a.jump(op::JEQ_K, PROTO_TCP, Dest::To(tcp), Dest::Next);
        a.jump(op::JEQ_K, PROTO_ICMPV6, Dest::To(icmp), Dest::To(drop));
        a.bind(tcp);
        alternatives(&mut a, &w.tcp, At::Abs(IP + 8), 16, At::Abs(IP + 40), accept, drop);
        a.bind(icmp);
        a.ldb(At::Abs(IP + 40));
        a.one_of(&ICMPV6_ERRORS, Dest::Next, drop);
        // The quoted IPv6 header follows the 8-byte ICMPv6 header; its TCP header follows it directly.
        let inner = IP + 40 + 8;
        a.ldb(At::Abs(inner + 6));
        a.require(PROTO_TCP, drop);
        tuple(&mut a, &w.quoted, At::Abs(inner + 8), 16, At::Abs(inner + 40), Dest::To(accept), drop);
    } else {
        a.require(ETH_IPV4, drop);
        // Flags and fragment offset: a non-first fragment carries no transport header.
        a.ldh(At::Abs(IP + 6));
        a.jump(op::JSET_K, 0x1fff, Dest::To(drop), Dest::Next);
        // X = the IPv4 header's length, so the transport header is at X + 14.
        a.stmt(op::LDX_B_MSH, IP);
        a.ldb(At::Abs(IP + 9));
        a.jump(op::JEQ_K, PROTO_TCP, Dest::To(tcp), Dest::Next);
        a.jump(op::JEQ_K, PROTO_ICMP, Dest::To(icmp), Dest::To(drop));
        a.bind(tcp);
        alternatives(&mut a, &w.tcp, At::Abs(IP + 12), 4, At::Ind(IP), accept, drop);
        a.bind(icmp);
        a.ldb(At::Ind(IP));
        a.one_of(&ICMP_ERRORS, Dest::Next, drop);
        // The quoted IPv4 header starts at X + 22, after the 8-byte ICMP header.
        let inner = IP + 8;
        a.ldb(At::Ind(inner + 9));
        a.require(PROTO_TCP, drop);
        let addrs = Tuple { sport: Ports::Any, dport: Ports::Any, ..w.quoted };
        tuple(&mut a, &addrs, At::Ind(inner + 12), 4, At::Ind(inner), Dest::Next, drop);
        // X += 4 * the quoted header's IHL, so the quoted TCP header is at X + 22.
        a.ldb(At::Ind(inner));
        a.stmt(op::AND_K, 0x0f);
        a.stmt(op::LSH_K, 2);
        a.stmt(op::ADD_X, 0);
        a.stmt(op::TAX, 0);
        let ports = Tuple { src: None, dst: None, ..w.quoted };
        tuple(&mut a, &ports, At::Ind(inner + 12), 4, At::Ind(inner), Dest::To(accept), drop);
    }
    a.bind(accept);
    a.ret(ACCEPT);
    a.bind(drop);
    a.ret(0);
    a.finish()
}

/// Tries each pattern in turn: the first that matches goes to `accept`; when none does, to `drop`.
fn alternatives(a: &mut Asm, alts: &[Tuple], addrs: At, addr_len: u32, ports: At, accept: Label, drop: Label) {
    for (i, t) in alts.iter().enumerate() {
        let next = if i + 1 == alts.len() { drop } else { a.label() };
        tuple(a, t, addrs, addr_len, ports, Dest::To(accept), next);
        if next != drop {
            a.bind(next);
        }
    }
}

/// Checks `t` against a TCP header whose source and destination addresses (`addr_len` bytes each) start at
/// `addrs` and whose ports start at `ports`: on a match goes to `ok`, else to `fail`.
fn tuple(a: &mut Asm, t: &Tuple, addrs: At, addr_len: u32, ports: At, ok: Dest, fail: Label) {
    enum Check<'a> {
        Addr(At, IpAddr),
        Port(At, Ports<'a>),
    }
    let mut checks = Vec::new();
    checks.extend(t.src.map(|s| Check::Addr(addrs, s)));
    checks.extend(t.dst.map(|d| Check::Addr(addrs.plus(addr_len), d)));
    for (at, p) in [(ports, t.sport), (ports.plus(2), t.dport)] {
        if !matches!(p, Ports::Any) {
            checks.push(Check::Port(at, p));
        }
    }
    if checks.is_empty() {
        a.goto(ok);
    }
    let n = checks.len();
    for (i, c) in checks.into_iter().enumerate() {
        let on_match = if i + 1 == n { ok } else { Dest::Next };
        match c {
            Check::Addr(at, addr) => a.match_addr(at, addr, on_match, fail),
            Check::Port(at, p) => {
                a.ldh(at);
                port_in(a, p, on_match, fail);
            }
        }
    }
}

/// Goes to `ok` when A (a port) matches `p`, else to `fail`.
fn port_in(a: &mut Asm, p: Ports, ok: Dest, fail: Label) {
    match p {
        Ports::Any => a.goto(ok),
        Ports::One(v) => a.jump(op::JEQ_K, u32::from(v), ok, Dest::To(fail)),
        Ports::Set(set) => {
            let hit = a.target(ok);
            let runs = runs(set);
            for (i, &(lo, hi)) in runs.iter().enumerate() {
                let miss = if i + 1 == runs.len() { Dest::To(fail) } else { Dest::Next };
                if lo == hi {
                    a.jump(op::JEQ_K, u32::from(lo), Dest::To(hit.0), miss);
                } else {
                    // Runs ascend: a port below this run is below every later one too.
                    a.jump(op::JGE_K, u32::from(lo), Dest::Next, Dest::To(fail));
                    a.jump(op::JGT_K, u32::from(hi), miss, Dest::To(hit.0));
                }
            }
            a.bind_if(hit);
        }
    }
}

/// The runs of consecutive ports in a sorted list, as (first, last).
fn runs(sorted: &[u16]) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for &p in sorted {
        match out.last_mut() {
            Some((_, hi)) if u32::from(*hi) + 1 == u32::from(p) => *hi = p,
            _ => out.push((p, p)),
        }
    }
    out
}
