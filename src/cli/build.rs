//! `tcpcraft build`: prints the crafted datagram as hex with a field-by-field breakdown; needs no privileges.

use clap::{ArgMatches, Args};
use serde_json::{json, Map, Value};

use super::craft::CraftArgs;
use super::error::CliError;
use crate::wire::{self, fields::fields};

/// Arguments of `tcpcraft build`.
#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    /// Destination address (an IP literal).
    #[arg(value_name = "DST")]
    pub dst: std::net::IpAddr,
    /// Print `{"hex": "...", "fields": {...}}` instead of text.
    #[arg(long)]
    pub json: bool,
    /// The segment's fields.
    #[command(flatten)]
    pub craft: CraftArgs,
}

/// Builds the segment and renders it as text or JSON.
pub fn run(args: &BuildArgs, m: &ArgMatches) -> Result<String, CliError> {
    let spec = args.craft.to_spec(args.dst, m)?;
    let bytes = wire::build(&spec)?;
    let decoded = wire::parse_any_protocol(&bytes);
    if args.json {
        let mut out = Map::new();
        out.insert("hex".into(), Value::String(hex::encode(&bytes)));
        out.insert("len".into(), json!(bytes.len()));
        match &decoded {
            Ok(seg) => {
                let f: Map<String, Value> =
                    fields(seg).into_iter().map(|f| (f.key.to_string(), json!(f.value))).collect();
                out.insert("fields".into(), Value::Object(f));
                let notes: Vec<String> = seg.anomalies.iter().map(|a| a.to_string()).collect();
                out.insert("anomalies".into(), json!(notes));
            }
            Err(e) => {
                out.insert("fields".into(), Value::Object(Map::new()));
                out.insert("decode_error".into(), Value::String(e.to_string()));
            }
        }
        return Ok(Value::Object(out).to_string());
    }
    let mut text = String::new();
    match &decoded {
        Ok(seg) => {
            text += &format!(
                "{} {} -> {}  TCP {} -> {} {}  {} bytes\n",
                if bytes[0] >> 4 == 6 { "IPv6" } else { "IPv4" },
                seg.src(),
                seg.dst(),
                seg.tcp.sport,
                seg.tcp.dport,
                seg.tcp.flags.wireshark(),
                bytes.len()
            );
        }
        Err(e) => text += &format!("{} bytes (the fields cannot be decoded: {e})\n", bytes.len()),
    }
    text += &hexdump(&bytes);
    if let Ok(seg) = &decoded {
        text += "\n";
        for f in fields(seg) {
            text += &format!("  {:<18} {:<40} bytes {}..{}\n", f.key, f.value.to_string(), f.range.start, f.range.end);
        }
        for a in &seg.anomalies {
            text += &format!("  note: {a}\n");
        }
    }
    text.push_str(&format!("hex: {}", hex::encode(&bytes)));
    Ok(text)
}

/// A classic 16-bytes-per-line hex dump with offsets.
pub fn hexdump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
            format!("{:04x}  {}\n", i * 16, hex.join(" "))
        })
        .collect()
}
