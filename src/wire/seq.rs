//! Sequence-space arithmetic (RFC 9293 §3.4): relative numbers and segment lengths, all modulo 2^32.

use super::flags::TcpFlags;

/// A sequence or acknowledgment number relative to an initial sequence number, as Wireshark shows it.
pub fn relative(value: u32, isn: u32) -> u32 {
    value.wrapping_sub(isn)
}

/// The length a segment occupies in sequence space: its payload bytes, plus one each for SYN and FIN.
pub fn seq_len(flags: TcpFlags, payload_len: usize) -> u32 {
    // A TCP payload is at most 65,535 bytes, so the cast cannot lose anything a real segment carries.
    (payload_len as u32).wrapping_add(u32::from(flags.syn)).wrapping_add(u32::from(flags.fin))
}

/// The sequence number right after the segment: what the peer should acknowledge.
pub fn next_seq(seq: u32, flags: TcpFlags, payload_len: usize) -> u32 {
    seq.wrapping_add(seq_len(flags, payload_len))
}

/// `a < b` in sequence space (RFC 9293's modular comparison).
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_wraps() {
        assert_eq!(relative(5, 0xFFFF_FFFE), 7);
        assert_eq!(relative(1000, 1000), 0);
    }

    #[test]
    fn syn_and_fin_count_one() {
        assert_eq!(seq_len(TcpFlags::SYN, 0), 1);
        assert_eq!(seq_len(TcpFlags::ACK, 0), 0);
        assert_eq!(seq_len(TcpFlags::from_bits(0x011), 10), 11);
        assert_eq!(seq_len(TcpFlags::from_bits(0x003), 0), 2);
        assert_eq!(next_seq(u32::MAX, TcpFlags::SYN, 0), 0);
    }

    #[test]
    fn modular_order() {
        assert!(seq_lt(0xFFFF_FFF0, 5));
        assert!(!seq_lt(5, 0xFFFF_FFF0));
        assert!(!seq_lt(7, 7));
    }
}
