//! The nine TCP flag bits and their two customary spellings: Wireshark's `[SYN, ACK]` and tcpdump's `S.`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One boolean per TCP flag bit, so invalid combinations (SYN+FIN, no flags at all) can be expressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpFlags {
    /// Accurate ECN (RFC 9768); formerly NS, the ECN nonce sum (RFC 3540).
    pub ae: bool,
    /// Congestion Window Reduced (RFC 3168).
    pub cwr: bool,
    /// ECN-Echo (RFC 3168).
    pub ece: bool,
    /// The urgent pointer is significant.
    pub urg: bool,
    /// The acknowledgment number is significant.
    pub ack: bool,
    /// Push buffered data to the application.
    pub psh: bool,
    /// Reset the connection.
    pub rst: bool,
    /// Synchronize sequence numbers (open a connection).
    pub syn: bool,
    /// No more data from the sender (close a direction).
    pub fin: bool,
}

/// Each flag: its bit in the 9-bit flags field, Wireshark name, tcpdump letter, compact letter.
const TABLE: [(u16, &str, char, char); 9] = [
    (0x001, "FIN", 'F', 'F'),
    (0x002, "SYN", 'S', 'S'),
    (0x004, "RST", 'R', 'R'),
    (0x008, "PSH", 'P', 'P'),
    (0x010, "ACK", '.', 'A'),
    (0x020, "URG", 'U', 'U'),
    (0x040, "ECE", 'E', 'E'),
    (0x080, "CWR", 'W', 'C'),
    (0x100, "AE", 'e', 'N'),
];

impl TcpFlags {
    /// Only SYN.
    pub const SYN: TcpFlags = TcpFlags::from_bits(0x002);
    /// SYN and ACK.
    pub const SYN_ACK: TcpFlags = TcpFlags::from_bits(0x012);
    /// Only ACK.
    pub const ACK: TcpFlags = TcpFlags::from_bits(0x010);
    /// Only RST.
    pub const RST: TcpFlags = TcpFlags::from_bits(0x004);
    /// RST and ACK.
    pub const RST_ACK: TcpFlags = TcpFlags::from_bits(0x014);

    /// The flags as the 9-bit value of the header (AE is bit 8, FIN bit 0).
    pub const fn bits(&self) -> u16 {
        (self.fin as u16)
            | (self.syn as u16) << 1
            | (self.rst as u16) << 2
            | (self.psh as u16) << 3
            | (self.ack as u16) << 4
            | (self.urg as u16) << 5
            | (self.ece as u16) << 6
            | (self.cwr as u16) << 7
            | (self.ae as u16) << 8
    }

    /// Flags from a 9-bit header value; bits above bit 8 are ignored.
    pub const fn from_bits(bits: u16) -> TcpFlags {
        TcpFlags {
            fin: bits & 0x001 != 0,
            syn: bits & 0x002 != 0,
            rst: bits & 0x004 != 0,
            psh: bits & 0x008 != 0,
            ack: bits & 0x010 != 0,
            urg: bits & 0x020 != 0,
            ece: bits & 0x040 != 0,
            cwr: bits & 0x080 != 0,
            ae: bits & 0x100 != 0,
        }
    }

    /// Wireshark's Info-column spelling, e.g. `[SYN, ACK]`; `[<None>]` when no flag is set.
    pub fn wireshark(&self) -> String {
        let names: Vec<&str> = self.names().collect();
        if names.is_empty() {
            "[<None>]".to_string()
        } else {
            format!("[{}]", names.join(", "))
        }
    }

    /// The set flags' Wireshark names, in bit order from FIN up.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        let bits = self.bits();
        TABLE.iter().filter(move |(b, ..)| bits & b != 0).map(|(_, n, ..)| *n)
    }

    /// tcpdump's spelling, e.g. `S.` for SYN-ACK, `R.` for RST-ACK, `none` when no flag is set.
    pub fn tcpdump(&self) -> String {
        let bits = self.bits();
        let s: String = TABLE.iter().filter(|(b, ..)| bits & b != 0).map(|(_, _, c, _)| *c).collect();
        if s.is_empty() {
            "none".to_string()
        } else {
            s
        }
    }

    /// Compact letters as hping3, nmap and Scapy write them (`SA`, `RA`, `FPU`); `N` is AE, `C` is CWR.
    pub fn letters(&self) -> String {
        let bits = self.bits();
        TABLE.iter().filter(|(b, ..)| bits & b != 0).map(|(.., c)| *c).collect()
    }

    /// Parses compact letters (`SA`, `ra`, `FPU`); `None` names the first unknown or repeated letter.
    pub fn parse_letters(s: &str) -> Result<TcpFlags, char> {
        let mut bits = 0u16;
        for ch in s.chars() {
            let up = ch.to_ascii_uppercase();
            let bit = TABLE.iter().find(|(.., c)| *c == up).map(|(b, ..)| *b).ok_or(ch)?;
            if bits & bit != 0 {
                return Err(ch);
            }
            bits |= bit;
        }
        Ok(TcpFlags::from_bits(bits))
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wireshark())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_all_512() {
        for b in 0..512u16 {
            assert_eq!(TcpFlags::from_bits(b).bits(), b);
        }
    }

    #[test]
    fn wireshark_spelling() {
        assert_eq!(TcpFlags::SYN_ACK.wireshark(), "[SYN, ACK]");
        assert_eq!(TcpFlags::RST_ACK.wireshark(), "[RST, ACK]");
        assert_eq!(TcpFlags::from_bits(0x019).wireshark(), "[FIN, PSH, ACK]");
        assert_eq!(TcpFlags::from_bits(0).wireshark(), "[<None>]");
        assert_eq!(TcpFlags::from_bits(0x1C2).wireshark(), "[SYN, ECE, CWR, AE]");
    }

    #[test]
    fn tcpdump_spelling() {
        assert_eq!(TcpFlags::SYN.tcpdump(), "S");
        assert_eq!(TcpFlags::SYN_ACK.tcpdump(), "S.");
        assert_eq!(TcpFlags::RST_ACK.tcpdump(), "R.");
        assert_eq!(TcpFlags::from_bits(0x019).tcpdump(), "FP.");
        assert_eq!(TcpFlags::from_bits(0x029).tcpdump(), "FPU");
        assert_eq!(TcpFlags::from_bits(0).tcpdump(), "none");
        assert_eq!(TcpFlags::from_bits(0x0C2).tcpdump(), "SEW");
    }

    #[test]
    fn letters_round_trip() {
        for b in 0..512u16 {
            let f = TcpFlags::from_bits(b);
            assert_eq!(TcpFlags::parse_letters(&f.letters()), Ok(f));
        }
        assert_eq!(TcpFlags::parse_letters("sa"), Ok(TcpFlags::SYN_ACK));
        assert_eq!(TcpFlags::parse_letters("SX"), Err('X'));
        assert_eq!(TcpFlags::parse_letters("SS"), Err('S'));
    }
}
