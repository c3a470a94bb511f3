//! The fragmenting flags `send` and `run` share: `--fragment SIZE`, `--frag-order`, `--frag-overlap N`.

use clap::Args;

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
    /// The order the fragments go out in: in, reverse, random (by the seed), or the fragments' numbers as they go
    /// out (0 is the one at offset 0), as 2,0,1.
    #[arg(long, value_name = "in|reverse|random|LIST", default_value = "in", requires = "fragment")]
    pub frag_order: FragOrder,
    /// Also send a duplicate of fragment N (0-based) with different bytes, just before it (overlap test).
    #[arg(long, value_name = "N", requires = "fragment")]
    pub frag_overlap: Option<usize>,
}

impl FragArgs {
    /// The fragmenting asked for (`None` without `--fragment`), checked before any link opens.
    pub fn fragmenting(&self) -> Result<Option<Fragmenting>, CliError> {
        let Some(size) = self.fragment else { return Ok(None) };
        if size < 8 || size % 8 != 0 {
            return Err(CliError::input("--fragment", format!("{size}: give a multiple of 8 bytes, at least 8")));
        }
        Ok(Some(Fragmenting { size, order: self.frag_order.clone(), overlap: self.frag_overlap }))
    }
}
