//! Windows: raw sockets cannot send TCP, so both sending and capture go through Npcap at the link layer
//! ([`super::npcap`], loaded at run time). The capture is filtered in Npcap's driver by `initial` from the start.

use std::net::IpAddr;

use super::super::bpf::Insn;
use super::super::route::Route;
use super::Opened;

/// Opens the Npcap link-layer sender and its driver-filtered capture.
pub fn open(route: &Route, dst: IpAddr, initial: Option<&[Insn]>) -> Opened {
    super::l2::open(route, dst, initial)
}
