//! The fragmenting flags `send` and `run` share: `--fragment SIZE`, `--frag-order`, `--frag-overlap N`.

use clap::{Args, ValueEnum};

use super::error::CliError;
use crate::wire::fragment::{FragOrder, Fragmenting};

/// `--fragment SIZE [--frag-order O] [--frag-overlap N]`.
#[derive(Args, Debug, Clone)]
pub struct FragArgs {
    /// Send as IP fragments of this many payload bytes each (a multiple of 8; 8 splits the TCP header); for
    /// `run`, every Send step without a `fragment` setting of its own. On real hosts it needs raw privileges in
    /// this process (tcpcraft-link refuses later fragments: it cannot read their ports to check that they are
    /// yours).
    #[arg(long, value_name = "SIZE")]
    pub fragment: Option<usize>,
    /// The order the fragments go out in.
    #[arg(long, value_enum, default_value = "in", requires = "fragment")]
    pub frag_order: FragOrderArg,
    /// Also send a duplicate of fragment N (0-based) with different bytes, just before it (overlap test).
    #[arg(long, value_name = "N", requires = "fragment")]
    pub frag_overlap: Option<usize>,
}

/// `--frag-order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FragOrderArg {
    /// First to last.
    In,
    /// Last to first.
    Reverse,
    /// Shuffled (by the seed).
    Random,
}

impl FragArgs {
    /// The fragmenting asked for (`None` without `--fragment`), checked before any link opens.
    pub fn fragmenting(&self) -> Result<Option<Fragmenting>, CliError> {
        let Some(size) = self.fragment else { return Ok(None) };
        if size < 8 || size % 8 != 0 {
            return Err(CliError::input("--fragment", format!("{size}: give a multiple of 8 bytes, at least 8")));
        }
        let order = match self.frag_order {
            FragOrderArg::In => FragOrder::In,
            FragOrderArg::Reverse => FragOrder::Reverse,
            FragOrderArg::Random => FragOrder::Random,
        };
        Ok(Some(Fragmenting { size, order, overlap: self.frag_overlap }))
    }
}
