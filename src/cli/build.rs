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
    #[arg(value_name = "DST", required_unless_present = "from_pcap")]
    pub dst: Option<std::net::IpAddr>,
    /// Instead of flags, print the N-th TCP segment of this pcap/pcapng file (with --index).
    #[arg(long, value_name = "FILE", requires = "index")]
    pub from_pcap: Option<std::path::PathBuf>,
    /// Which TCP segment of --from-pcap (1-based).
    #[arg(long, value_name = "N")]
    pub index: Option<usize>,
    /// Print `{"hex": "...", "fields": {...}}` instead of text.
    #[arg(long)]
    pub json: bool,
    /// The segment's fields.
    #[command(flatten)]
    pub craft: CraftArgs,
}

/// Builds the segment and renders it as text or JSON.
pub fn run(args: &BuildArgs, m: &ArgMatches) -> Result<String, CliError> {
    let bytes = match (&args.from_pcap, args.index, args.dst) {
        (Some(path), Some(index), _) => {
            crate::pcap::segment_at(path, index).map_err(|e| CliError::input("--from-pcap", e.to_string()))?.bytes
        }
        (_, _, Some(dst)) => wire::build(&args.craft.to_spec(dst, m)?)?,
        _ => return Err(CliError::input("DST", "give a destination, or --from-pcap FILE --index N")),
    };
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
