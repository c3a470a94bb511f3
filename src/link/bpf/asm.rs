//! A tiny assembler for classic BPF: instructions with symbolic forward jumps (labels), resolved and
//! range-checked at the end, so no offset is ever counted by hand or silently truncated.

use std::net::IpAddr;

use super::{op, BpfError, Insn, MAX_INSNS};

/// A place in the program, placed with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Label(usize);

/// Where a conditional jump goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dest {
    /// The next instruction.
    Next,
    /// A label.
    To(Label),
}

/// One instruction before its jumps are resolved.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// Anything without a jump.
    Stmt(u16, u32),
    /// A conditional jump.
    Cond(u16, u32, Dest, Dest),
    /// `ja`: an unconditional jump (its offset is `k`, 32 bits).
    Goto(Label),
}

/// A tiny assembler: instructions with symbolic forward jumps, resolved (and range-checked) by [`Asm::finish`].
#[derive(Debug, Default)]
pub(super) struct Asm {
    code: Vec<Op>,
    labels: Vec<Option<usize>>,
}

/// Where a load reads: a fixed offset, or the X register plus an offset.
#[derive(Clone, Copy, Debug)]
pub(super) enum At {
    Abs(u32),
    Ind(u32),
}

impl At {
    pub(super) fn plus(self, n: u32) -> At {
        match self {
            At::Abs(k) => At::Abs(k + n),
            At::Ind(k) => At::Ind(k + n),
        }
    }

    /// The load, given the operation codes of its `abs` and `ind` forms.
    fn load(self, abs: u16, ind: u16) -> Op {
        match self {
            At::Abs(k) => Op::Stmt(abs, k),
            At::Ind(k) => Op::Stmt(ind, k),
        }
    }
}

impl Asm {
    pub(super) fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `l` on the next instruction emitted.
    pub(super) fn bind(&mut self, l: Label) {
        self.labels[l.0] = Some(self.code.len());
    }

    /// A label for `d`, and whether the caller still has to bind it (when `d` is the next instruction).
    pub(super) fn target(&mut self, d: Dest) -> (Label, bool) {
        match d {
            Dest::To(l) => (l, false),
            Dest::Next => (self.label(), true),
        }
    }

    pub(super) fn bind_if(&mut self, (l, unbound): (Label, bool)) {
        if unbound {
            self.bind(l);
        }
    }

    pub(super) fn stmt(&mut self, code: u16, k: u32) {
        self.code.push(Op::Stmt(code, k));
    }

    pub(super) fn jump(&mut self, code: u16, k: u32, jt: Dest, jf: Dest) {
        self.code.push(Op::Cond(code, k, jt, jf));
    }

    /// Goes to `to`; nothing is emitted for [`Dest::Next`].
    pub(super) fn goto(&mut self, to: Dest) {
        if let Dest::To(l) = to {
            self.code.push(Op::Goto(l));
        }
    }

    pub(super) fn ret(&mut self, k: u32) {
        self.stmt(op::RET_K, k);
    }

    pub(super) fn ldh(&mut self, at: At) {
        self.code.push(at.load(op::LD_H_ABS, op::LD_H_IND));
    }

    pub(super) fn ldb(&mut self, at: At) {
        self.code.push(at.load(op::LD_B_ABS, op::LD_B_IND));
    }

    pub(super) fn ld(&mut self, at: At) {
        self.code.push(at.load(op::LD_W_ABS, op::LD_W_IND));
    }

    /// Goes on when A == k, else to `fail`.
    pub(super) fn require(&mut self, k: u32, fail: Label) {
        self.jump(op::JEQ_K, k, Dest::Next, Dest::To(fail));
    }

    /// Goes to `ok` when the address at `at` (4 or 16 bytes) is `addr`, else to `fail`.
    pub(super) fn match_addr(&mut self, at: At, addr: IpAddr, ok: Dest, fail: Label) {
        let bytes = match addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        let words = bytes.len() / 4;
        for (i, w) in bytes.chunks_exact(4).enumerate() {
            self.ld(at.plus(4 * i as u32));
            let jt = if i + 1 == words { ok } else { Dest::Next };
            self.jump(op::JEQ_K, u32::from_be_bytes([w[0], w[1], w[2], w[3]]), jt, Dest::To(fail));
        }
    }

    /// Goes to `ok` when A is one of `values`, else to `fail`.
    pub(super) fn one_of(&mut self, values: &[u8], ok: Dest, fail: Label) {
        let hit = self.target(ok);
        for (i, &v) in values.iter().enumerate() {
            let jf = if i + 1 == values.len() { Dest::To(fail) } else { Dest::Next };
            self.jump(op::JEQ_K, u32::from(v), Dest::To(hit.0), jf);
        }
        self.bind_if(hit);
    }

    /// Resolves the labels into offsets; refuses jumps that do not fit or go nowhere.
    pub(super) fn finish(self) -> Result<Vec<Insn>, BpfError> {
        let len = self.code.len();
        if len > MAX_INSNS {
            return Err(BpfError::TooLong { len });
        }
        let distance = |from: usize, l: Label| -> Result<usize, BpfError> {
            let to = self.labels.get(l.0).copied().flatten().filter(|&t| t < len).ok_or(BpfError::Unbound { from })?;
            if to <= from {
                return Err(BpfError::Backward { from, to });
            }
            Ok(to - from - 1)
        };
        let short = |from: usize, d: Dest| -> Result<u8, BpfError> {
            let Dest::To(l) = d else { return Ok(0) };
            let n = distance(from, l)?;
            u8::try_from(n).map_err(|_| BpfError::JumpTooFar { from, to: from + 1 + n })
        };
        let insn = |(i, op): (usize, &Op)| -> Result<Insn, BpfError> {
            Ok(match *op {
                Op::Stmt(code, k) => Insn { code, jt: 0, jf: 0, k },
                Op::Cond(code, k, jt, jf) => Insn { code, jt: short(i, jt)?, jf: short(i, jf)?, k },
                Op::Goto(l) => {
                    let n = distance(i, l)?;
                    Insn { code: op::JA, jt: 0, jf: 0, k: u32::try_from(n).map_err(|_| BpfError::TooLong { len })? }
                }
            })
        };
        self.code.iter().enumerate().map(insn).collect()
    }
}
