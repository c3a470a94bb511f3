//! Windows: raw sockets cannot send TCP, so both sending and capture go through Npcap at the link layer. The
//! capture has no kernel-side filter yet (the `initial` program is ignored): it sees every frame.

use std::net::IpAddr;

use super::super::bpf::Insn;
use super::super::capture::Capture;
use super::super::route::Route;
use super::super::LinkError;
use super::Sender;

/// Opens the Npcap link-layer sender and capture (unfiltered for now).
pub fn open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Result<(Box<dyn Sender>, Capture), LinkError> {
    super::l2::open(route, dst, initial)
}
