//! Ethernet II framing, as far as tcpcraft needs it: finding the IP datagram inside a captured frame.

use super::field::{self, ethernet};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
/// EtherType (TPID) that announces an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;

/// The IP datagram inside an Ethernet frame (with or without one 802.1Q tag), if it carries IPv4 or IPv6.
pub fn strip(frame: &[u8]) -> Option<&[u8]> {
    let mut off = 0;
    let mut ethertype = field::get_u16(frame, ethernet::ETHERTYPE)?;
    if ethertype == ETHERTYPE_VLAN {
        off = ethernet::VLAN_TAG_LEN;
        ethertype = field::get_u16(frame, field::at(off, ethernet::ETHERTYPE))?;
    }
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => frame.get(off + ethernet::HEADER_LEN..),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_and_vlan() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(strip(&frame), Some(&[0x45][..]));
        let mut tagged = vec![0u8; 12];
        tagged.extend_from_slice(&[0x81, 0x00, 0, 5, 0x86, 0xdd, 0x60]);
        assert_eq!(strip(&tagged), Some(&[0x60][..]));
        assert_eq!(strip(&[0u8; 13]), None);
        tagged.truncate(17);
        assert_eq!(strip(&tagged), None, "a tag cut short");
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0]);
        assert_eq!(strip(&arp), None);
    }
}
