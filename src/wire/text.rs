//! Text forms of field values: numbers in decimal or hex, checksums, hex bytes, SACK blocks, timestamps and raw
//! options, as the CLI's flags and the GUI's fields take them. Each error is a message that states the rule, so the
//! caller can put the field's name in front of it (clap prints it after the flag).

use super::{Checksum, SackBlock, TcpOption};

/// An unsigned number in decimal, or hex with `0x`, checked against the field's width (the GUI's fields too).
pub fn number(s: &str, max: u64) -> Result<u64, String> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    }
    .map_err(|_| format!("'{s}' is not a number (decimal, or hex with 0x)"))?;
    if v > max {
        return Err(format!("{v} is out of range 0..={max}"));
    }
    Ok(v)
}

/// A value for a field that is `bits` wide.
pub fn bits<const BITS: u32>(s: &str) -> Result<u64, String> {
    number(s, (1u64 << BITS) - 1)
}

/// An 8-bit value.
pub fn u8_value(s: &str) -> Result<u8, String> {
    number(s, u8::MAX.into()).map(|v| v as u8)
}

/// A 16-bit value (ports, window, lengths).
pub fn u16_value(s: &str) -> Result<u16, String> {
    number(s, u16::MAX.into()).map(|v| v as u16)
}

/// A 32-bit value (sequence and acknowledgment numbers).
pub fn u32_value(s: &str) -> Result<u32, String> {
    number(s, u32::MAX.into()).map(|v| v as u32)
}

/// A checksum: `bad`, or a 16-bit value (hex, with or without `0x`).
pub fn checksum(s: &str) -> Result<Checksum, String> {
    if s.eq_ignore_ascii_case("bad") {
        return Ok(Checksum::Bad);
    }
    let h = s.trim_start_matches("0x").trim_start_matches("0X");
    u16::from_str_radix(h, 16)
        .map(Checksum::Manual)
        .map_err(|_| format!("'{s}' is neither 'bad' nor a 16-bit hex value such as 0x1c46"))
}

/// Bytes given as hex on the command line (a newtype, so clap does not take `Vec<u8>` as many values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

/// Bytes written as hex (spaces and colons allowed between bytes).
pub fn hex_bytes(s: &str) -> Result<HexBytes, String> {
    hex_vec(s).map(HexBytes)
}

/// Bytes written as hex, as a plain vector (the GUI's hex fields too).
pub fn hex_vec(s: &str) -> Result<Vec<u8>, String> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    let clean = clean.trim_start_matches("0x");
    if clean.len() % 2 == 1 {
        return Err(format!("'{s}' has an odd number of hex digits; each byte needs two"));
    }
    hex::decode(clean).map_err(|e| format!("'{s}' is not hex: {e}"))
}

/// SACK blocks: `LEFT-RIGHT[,LEFT-RIGHT...]`.
pub fn sack(s: &str) -> Result<TcpOption, String> {
    let blocks = s
        .split(',')
        .map(|pair| {
            let (l, r) = pair.split_once('-').ok_or_else(|| format!("'{pair}' is not LEFT-RIGHT"))?;
            Ok(SackBlock { left: u32_value(l)?, right: u32_value(r)? })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(TcpOption::Sack(blocks))
}

/// Timestamps: `TSVAL:TSECR`.
pub fn timestamps(s: &str) -> Result<TcpOption, String> {
    let (v, e) = s.split_once(':').ok_or_else(|| format!("'{s}' is not TSVAL:TSECR"))?;
    Ok(TcpOption::Timestamps { val: u32_value(v)?, ecr: u32_value(e)? })
}

/// A raw option: `KIND:HEX` (correct length) or `KIND:LEN:HEX` (length byte as given, possibly wrong).
pub fn raw_option(s: &str) -> Result<TcpOption, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (kind, length, data) = match parts.as_slice() {
        [k, d] => (u8_value(k)?, None, hex_vec(d)?),
        [k, l, d] => (u8_value(k)?, Some(u8_value(l)?), hex_vec(d)?),
        _ => return Err(format!("'{s}' is not KIND:HEX or KIND:LEN:HEX")),
    };
    if data.len() > 253 {
        return Err(format!("{} data bytes do not fit in one option (at most 253)", data.len()));
    }
    Ok(TcpOption::Raw { kind, length, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(u16_value("8080"), Ok(8080));
        assert_eq!(u16_value("0x1f90"), Ok(8080));
        assert_eq!(u16_value("70000"), Err("70000 is out of range 0..=65535".into()));
        assert!(u32_value("-1").is_err());
        assert_eq!(bits::<3>("7"), Ok(7));
        assert_eq!(number("0x50", 65535), Ok(80));
        assert!(number("x", 5).is_err());
        assert!(bits::<3>("8").is_err());
    }

    #[test]
    fn checksums() {
        assert_eq!(checksum("bad"), Ok(Checksum::Bad));
        assert_eq!(checksum("0x1c46"), Ok(Checksum::Manual(0x1c46)));
        assert_eq!(checksum("1c46"), Ok(Checksum::Manual(0x1c46)));
        assert!(checksum("zz").is_err());
    }

    #[test]
    fn hex_and_options() {
        assert_eq!(hex_bytes("de ad:be"), Ok(HexBytes(vec![0xde, 0xad, 0xbe])));
        assert!(hex_bytes("abc").unwrap_err().contains("odd number"));
        assert_eq!(hex_vec("de\nad"), Ok(vec![0xde, 0xad]));
        assert_eq!(raw_option("99:7:0102"), Ok(TcpOption::Raw { kind: 99, length: Some(7), data: vec![1, 2] }));
        assert_eq!(
            sack("1-2,3-4"),
            Ok(TcpOption::Sack(vec![SackBlock { left: 1, right: 2 }, SackBlock { left: 3, right: 4 }]))
        );
        assert!(sack("1:2").is_err());
        assert_eq!(timestamps("5:6"), Ok(TcpOption::Timestamps { val: 5, ecr: 6 }));
    }
}
