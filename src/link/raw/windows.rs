//! Windows: raw sockets cannot send TCP, so both sending and capture go through Npcap at the link layer.

use std::net::IpAddr;

use super::super::capture::Capture;
use super::super::route::Route;
use super::super::LinkError;
use super::Sender;

/// Opens the Npcap link-layer sender and capture.
pub fn open(route: &Route, dst: IpAddr) -> Result<(Box<dyn Sender>, Capture), LinkError> {
    super::l2::open(route, dst)
}
