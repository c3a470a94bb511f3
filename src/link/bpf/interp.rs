//! A classic BPF interpreter with the kernel's semantics: a load past the end of the frame returns 0 (drops it),
//! and so does anything the kernel's checker would have refused (an unknown operation, a jump out of the
//! program, a scratch slot out of range). The capture uses it on the few frames read while a filter was being
//! replaced; the unit tests use it to run the programs on real frame bytes.

use super::{op, Insn};

/// The operations understood beyond those in [`op`] (the ones the programs here use).
mod more {
    pub const LD_IMM: u16 = 0x00;
    pub const LD_LEN: u16 = 0x80;
    pub const LD_MEM: u16 = 0x60;
    pub const LDX_IMM: u16 = 0x01;
    pub const LDX_LEN: u16 = 0x81;
    pub const LDX_MEM: u16 = 0x61;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ADD_K: u16 = 0x04;
    pub const SUB_K: u16 = 0x14;
    pub const AND_X: u16 = 0x5c;
    pub const OR_K: u16 = 0x44;
    pub const RSH_K: u16 = 0x74;
    pub const JEQ_X: u16 = 0x1d;
    pub const RET_A: u16 = 0x16;
    pub const TXA: u16 = 0x87;
}

/// Runs `program` on `frame` (link-layer header included) and returns what the kernel would: 0 to drop, else
/// how many bytes to keep.
pub fn run(program: &[Insn], frame: &[u8]) -> u32 {
    let (mut a, mut x, mut mem, mut pc) = (0u32, 0u32, [0u32; 16], 0usize);
    let load = |off: u32, size: usize| -> Option<u32> {
        let off = usize::try_from(off).ok()?;
        let b = frame.get(off..off.checked_add(size)?)?;
        Some(b.iter().fold(0u32, |acc, &v| (acc << 8) | u32::from(v)))
    };
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    while let Some(&i) = program.get(pc) {
        pc += 1;
        let jump = |cond: bool| usize::from(if cond { i.jt } else { i.jf });
        let slot = usize::try_from(i.k).ok().filter(|&s| s < mem.len());
        let loaded = match i.code {
            op::LD_W_ABS => Some(load(i.k, 4)),
            op::LD_H_ABS => Some(load(i.k, 2)),
            op::LD_B_ABS => Some(load(i.k, 1)),
            op::LD_W_IND => Some(load(x.wrapping_add(i.k), 4)),
            op::LD_H_IND => Some(load(x.wrapping_add(i.k), 2)),
            op::LD_B_IND => Some(load(x.wrapping_add(i.k), 1)),
            _ => None,
        };
        if let Some(v) = loaded {
            match v {
                Some(v) => a = v,
                None => return 0,
            }
            continue;
        }
        match (i.code, slot) {
            (op::LDX_B_MSH, _) => match load(i.k, 1) {
                Some(v) => x = 4 * (v & 0xf),
                None => return 0,
            },
            (more::LD_IMM, _) => a = i.k,
            (more::LD_LEN, _) => a = len,
            (more::LDX_IMM, _) => x = i.k,
            (more::LDX_LEN, _) => x = len,
            (more::LD_MEM, Some(s)) => a = mem[s],
            (more::LDX_MEM, Some(s)) => x = mem[s],
            (more::ST, Some(s)) => mem[s] = a,
            (more::STX, Some(s)) => mem[s] = x,
            (more::ADD_K, _) => a = a.wrapping_add(i.k),
            (op::ADD_X, _) => a = a.wrapping_add(x),
            (more::SUB_K, _) => a = a.wrapping_sub(i.k),
            (op::AND_K, _) => a &= i.k,
            (more::AND_X, _) => a &= x,
            (more::OR_K, _) => a |= i.k,
            (op::LSH_K, _) if i.k < 32 => a <<= i.k,
            (more::RSH_K, _) if i.k < 32 => a >>= i.k,
            (op::JA, _) => pc = pc.saturating_add(usize::try_from(i.k).unwrap_or(usize::MAX)),
            (op::JEQ_K, _) => pc += jump(a == i.k),
            (op::JGT_K, _) => pc += jump(a > i.k),
            (op::JGE_K, _) => pc += jump(a >= i.k),
            (op::JSET_K, _) => pc += jump(a & i.k != 0),
            (more::JEQ_X, _) => pc += jump(a == x),
            (op::RET_K, _) => return i.k,
            (more::RET_A, _) => return a,
            (op::TAX, _) => x = a,
            (more::TXA, _) => a = x,
            _ => return 0,
        }
    }
    0
}
