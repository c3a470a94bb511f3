//! The hping3-style field flags shared by `build` and `send`, and their translation into a `SegmentSpec`.

use std::net::IpAddr;

use clap::{ArgAction, ArgMatches, Args};

use super::error::CliError;
use crate::wire::text as values;
use crate::wire::{
    Auto, Checksum, IpSpec, Ipv4Spec, Ipv6Spec, Padding, Payload, SegmentSpec, TcpFlags, TcpOption, TcpSpec,
};

/// Every header field as a command-line flag, named as hping3 names them where it has a name.
#[derive(Args, Debug, Clone)]
pub struct CraftArgs {
    // --- TCP flags ---
    /// Set SYN.
    #[arg(short = 'S', long = "syn", help_heading = "TCP flags")]
    pub syn: bool,
    /// Set ACK.
    #[arg(short = 'A', long = "ack-flag", help_heading = "TCP flags")]
    pub ack_flag: bool,
    /// Set FIN.
    #[arg(short = 'F', long = "fin", help_heading = "TCP flags")]
    pub fin: bool,
    /// Set RST.
    #[arg(short = 'R', long = "rst", help_heading = "TCP flags")]
    pub rst: bool,
    /// Set PSH.
    #[arg(short = 'P', long = "push", help_heading = "TCP flags")]
    pub psh: bool,
    /// Set URG.
    #[arg(short = 'U', long = "urg", help_heading = "TCP flags")]
    pub urg: bool,
    /// Set ECE (ECN-Echo).
    #[arg(long, help_heading = "TCP flags")]
    pub ece: bool,
    /// Set CWR (Congestion Window Reduced).
    #[arg(long, help_heading = "TCP flags")]
    pub cwr: bool,
    /// Set AE (Accurate ECN; formerly NS).
    #[arg(long, help_heading = "TCP flags")]
    pub ae: bool,

    // --- TCP header ---
    /// Destination port.
    #[arg(short = 'p', long, default_value = "80", value_parser = values::u16_value, allow_negative_numbers = true, help_heading = "TCP header")]
    pub dport: u16,
    /// Source port.
    #[arg(short = 's', long, default_value = "40000", value_parser = values::u16_value, allow_negative_numbers = true, help_heading = "TCP header")]
    pub sport: u16,
    /// Sequence number.
    #[arg(short = 'M', long, default_value = "0", value_parser = values::u32_value, allow_negative_numbers = true, help_heading = "TCP header")]
    pub seq: u32,
    /// Acknowledgment number.
    #[arg(short = 'L', long, default_value = "0", value_parser = values::u32_value, allow_negative_numbers = true, help_heading = "TCP header")]
    pub ack: u32,
    /// Window.
    #[arg(short = 'w', long = "win", default_value = "64240", value_parser = values::u16_value, allow_negative_numbers = true, help_heading = "TCP header")]
    pub win: u16,
    /// Urgent pointer.
    #[arg(long, default_value = "0", value_parser = values::u16_value, allow_negative_numbers = true, help_heading = "TCP header")]
    pub urp: u16,
    /// Data offset in 32-bit words, set by hand (0-15; may be wrong on purpose).
    #[arg(long = "off", value_parser = values::bits::<4>, allow_negative_numbers = true, help_heading = "TCP header")]
    pub off: Option<u64>,
    /// The 3 reserved bits as a number 0-7 (4 = the most significant bit).
    #[arg(long, default_value = "0", value_parser = values::bits::<3>, allow_negative_numbers = true, help_heading = "TCP header")]
    pub reserved: u64,
    /// TCP checksum: a hex value, or `bad`.
    #[arg(long = "tcp-sum", value_parser = values::checksum, help_heading = "TCP header")]
    pub tcp_sum: Option<Checksum>,

    // --- TCP options, in command-line order ---
    /// MSS option.
    #[arg(long, value_parser = values::u16_value, allow_negative_numbers = true, action = ArgAction::Append, help_heading = "TCP options (sent in the order given)")]
    pub mss: Vec<u16>,
    /// Window scale option (shift count).
    #[arg(long, value_parser = values::u8_value, allow_negative_numbers = true, action = ArgAction::Append, help_heading = "TCP options (sent in the order given)")]
    pub wscale: Vec<u8>,
    /// SACK-permitted option.
    #[arg(long, action = ArgAction::Append, num_args = 0, default_missing_value = "true", help_heading = "TCP options (sent in the order given)")]
    pub sackok: Vec<bool>,
    /// SACK option: LEFT-RIGHT[,LEFT-RIGHT...].
    #[arg(long, value_parser = values::sack, action = ArgAction::Append, help_heading = "TCP options (sent in the order given)")]
    pub sack: Vec<TcpOption>,
    /// Timestamps option: TSVAL:TSECR.
    #[arg(long, value_parser = values::timestamps, action = ArgAction::Append, help_heading = "TCP options (sent in the order given)")]
    pub ts: Vec<TcpOption>,
    /// TCP Fast Open cookie (hex; empty `""` asks for a cookie).
    #[arg(long, value_parser = values::hex_bytes, action = ArgAction::Append, help_heading = "TCP options (sent in the order given)")]
    pub tfo: Vec<values::HexBytes>,
    /// NOP option (repeat for more).
    #[arg(long, action = ArgAction::Append, num_args = 0, default_missing_value = "true", help_heading = "TCP options (sent in the order given)")]
    pub nop: Vec<bool>,
    /// EOL option (repeat for more).
    #[arg(long, action = ArgAction::Append, num_args = 0, default_missing_value = "true", help_heading = "TCP options (sent in the order given)")]
    pub eol: Vec<bool>,
    /// Raw option: KIND:HEX, or KIND:LEN:HEX to write a (wrong) length byte as given.
    #[arg(long, value_parser = values::raw_option, action = ArgAction::Append, help_heading = "TCP options (sent in the order given)")]
    pub opt: Vec<TcpOption>,
    /// Padding after the options, as hex bytes, instead of zeros to a 4-byte boundary.
    #[arg(long, value_parser = values::hex_bytes, help_heading = "TCP options (sent in the order given)")]
    pub pad: Option<values::HexBytes>,

    // --- Payload ---
    /// Payload as hex.
    #[arg(long, value_parser = values::hex_bytes, conflicts_with = "text", help_heading = "Payload")]
    pub data: Option<values::HexBytes>,
    /// Payload as text (\r and \n are sent as CR and LF).
    #[arg(long, help_heading = "Payload")]
    pub text: Option<String>,

    // --- IP ---
    /// Source address (default 192.0.2.1, or 2001:db8::1 with IPv6).
    #[arg(long, help_heading = "IP")]
    pub src: Option<IpAddr>,
    /// IPv4 TTL.
    #[arg(short = 't', long, value_parser = values::u8_value, allow_negative_numbers = true, help_heading = "IP")]
    pub ttl: Option<u8>,
    /// IPv4 identification.
    #[arg(long, value_parser = values::u16_value, allow_negative_numbers = true, help_heading = "IP")]
    pub id: Option<u16>,
    /// IPv4 Don't Fragment.
    #[arg(long, help_heading = "IP")]
    pub df: bool,
    /// IPv4 More Fragments.
    #[arg(long, help_heading = "IP")]
    pub mf: bool,
    /// IPv4 reserved ("evil") bit.
    #[arg(long, help_heading = "IP")]
    pub evil: bool,
    /// IPv4 type of service byte (DSCP << 2 | ECN).
    #[arg(long, value_parser = values::u8_value, allow_negative_numbers = true, help_heading = "IP")]
    pub tos: Option<u8>,
    /// IPv4 fragment offset in 8-byte units (0-8191).
    #[arg(long, value_parser = values::bits::<13>, allow_negative_numbers = true, help_heading = "IP")]
    pub frag: Option<u64>,
    /// IPv4 header checksum: a hex value, or `bad`.
    #[arg(long = "ip-sum", value_parser = values::checksum, help_heading = "IP")]
    pub ip_sum: Option<Checksum>,
    /// IPv4 header length in words, set by hand (0-15).
    #[arg(long, value_parser = values::bits::<4>, allow_negative_numbers = true, help_heading = "IP")]
    pub ihl: Option<u64>,
    /// IP total length (IPv4) or payload length (IPv6), set by hand.
    #[arg(long = "ip-len", value_parser = values::u16_value, allow_negative_numbers = true, help_heading = "IP")]
    pub ip_len: Option<u16>,
    /// IP version nibble, set by hand (0-15).
    #[arg(long = "ip-version", value_parser = values::bits::<4>, allow_negative_numbers = true, help_heading = "IP")]
    pub ip_version: Option<u64>,
    /// IP protocol (IPv4) or next header (IPv6); default 6 (TCP).
    #[arg(long, value_parser = values::u8_value, allow_negative_numbers = true, help_heading = "IP")]
    pub proto: Option<u8>,
    /// Raw IPv4 option bytes (hex), zero-padded to 4 bytes.
    #[arg(long = "ip-opt", value_parser = values::hex_bytes, help_heading = "IP")]
    pub ip_opt: Option<values::HexBytes>,
    /// Use IPv6 (DST must be an IPv6 address).
    #[arg(short = '6', long = "ipv6", help_heading = "IP")]
    pub ipv6: bool,
    /// IPv6 hop limit.
    #[arg(long, value_parser = values::u8_value, allow_negative_numbers = true, help_heading = "IP")]
    pub hop_limit: Option<u8>,
    /// IPv6 flow label (20 bits).
    #[arg(long, value_parser = values::bits::<20>, allow_negative_numbers = true, help_heading = "IP")]
    pub flow_label: Option<u64>,
    /// IPv6 traffic class.
    #[arg(long, value_parser = values::u8_value, allow_negative_numbers = true, help_heading = "IP")]
    pub tclass: Option<u8>,
}

/// Flags that only exist in IPv4 headers, with their values' presence.
fn v4_only(a: &CraftArgs) -> [(&'static str, bool); 10] {
    [
        ("--ttl (use --hop-limit for IPv6)", a.ttl.is_some()),
        ("--id", a.id.is_some()),
        ("--df", a.df),
        ("--mf", a.mf),
        ("--evil", a.evil),
        ("--tos (use --tclass for IPv6)", a.tos.is_some()),
        ("--frag", a.frag.is_some()),
        ("--ip-sum", a.ip_sum.is_some()),
        ("--ihl", a.ihl.is_some()),
        ("--ip-opt", a.ip_opt.is_some()),
    ]
}

/// Flags that only exist in IPv6 headers.
fn v6_only(a: &CraftArgs) -> [(&'static str, bool); 3] {
    [("--hop-limit", a.hop_limit.is_some()), ("--flow-label", a.flow_label.is_some()), ("--tclass", a.tclass.is_some())]
}

impl CraftArgs {
    /// The TCP options in the order they were given; `m` holds the same arguments' positions.
    fn options(&self, m: &ArgMatches) -> Vec<TcpOption> {
        let mut placed: Vec<(usize, TcpOption)> = Vec::new();
        let mut place = |id: &str, opts: Vec<TcpOption>| {
            let idx = m.indices_of(id).map(|i| i.collect::<Vec<_>>()).unwrap_or_default();
            placed.extend(idx.into_iter().zip(opts));
        };
        place("mss", self.mss.iter().map(|v| TcpOption::Mss(*v)).collect());
        place("wscale", self.wscale.iter().map(|v| TcpOption::WindowScale(*v)).collect());
        place("sackok", vec![TcpOption::SackPermitted; self.sackok.len()]);
        place("sack", self.sack.clone());
        place("ts", self.ts.clone());
        place("tfo", self.tfo.iter().map(|h| TcpOption::FastOpen(h.0.clone())).collect());
        place("nop", vec![TcpOption::Nop; self.nop.len()]);
        place("eol", vec![TcpOption::Eol; self.eol.len()]);
        place("opt", self.opt.clone());
        placed.sort_by_key(|(i, _)| *i);
        placed.into_iter().map(|(_, o)| o).collect()
    }

    /// The spec these flags describe towards `dst`; `m` is the subcommand's matches (for option order).
    pub fn to_spec(&self, dst: IpAddr, m: &ArgMatches) -> Result<SegmentSpec, CliError> {
        let src_mismatch = self.src.is_some_and(|s| s.is_ipv4() != dst.is_ipv4());
        if src_mismatch {
            return Err(CliError::input("--src", "source and destination must both be IPv4 or both IPv6"));
        }
        let ip = match dst {
            IpAddr::V4(dst) => {
                if self.ipv6 {
                    return Err(CliError::input("-6/--ipv6", format!("destination {dst} is an IPv4 address")));
                }
                if let Some((flag, _)) = v6_only(self).into_iter().find(|(_, set)| *set) {
                    return Err(CliError::input(flag, "is an IPv6 field, but the destination is IPv4"));
                }
                let tos = self.tos.unwrap_or(0);
                let d = Ipv4Spec::default();
                IpSpec::V4(Ipv4Spec {
                    version: self.ip_version.map_or(Auto::Auto, |v| Auto::Manual(v as u8)),
                    ihl: self.ihl.map_or(Auto::Auto, |v| Auto::Manual(v as u8)),
                    dscp: tos >> 2,
                    ecn: tos & 3,
                    total_len: self.ip_len.map_or(Auto::Auto, Auto::Manual),
                    id: self.id.unwrap_or(d.id),
                    evil: self.evil,
                    df: self.df,
                    mf: self.mf,
                    frag_offset: self.frag.unwrap_or(0) as u16,
                    ttl: self.ttl.unwrap_or(d.ttl),
                    protocol: self.proto.unwrap_or(6),
                    checksum: self.ip_sum.unwrap_or_default(),
                    src: match self.src {
                        Some(IpAddr::V4(s)) => s,
                        _ => d.src,
                    },
                    dst,
                    options: self.ip_opt.as_ref().map(|h| h.0.clone()).unwrap_or_default(),
                })
            }
            IpAddr::V6(dst) => {
                if let Some((flag, _)) = v4_only(self).into_iter().find(|(_, set)| *set) {
                    return Err(CliError::input(flag, "is an IPv4 field, but the destination is IPv6"));
                }
                let d = Ipv6Spec::default();
                IpSpec::V6(Ipv6Spec {
                    version: self.ip_version.map_or(Auto::Auto, |v| Auto::Manual(v as u8)),
                    traffic_class: self.tclass.unwrap_or(0),
                    flow_label: self.flow_label.unwrap_or(0) as u32,
                    payload_len: self.ip_len.map_or(Auto::Auto, Auto::Manual),
                    next_header: self.proto.unwrap_or(6),
                    hop_limit: self.hop_limit.unwrap_or(d.hop_limit),
                    src: match self.src {
                        Some(IpAddr::V6(s)) => s,
                        _ => d.src,
                    },
                    dst,
                })
            }
        };
        let r = self.reserved;
        let tcp = TcpSpec {
            sport: self.sport,
            dport: self.dport,
            seq: self.seq,
            ack: self.ack,
            data_offset: self.off.map_or(Auto::Auto, |v| Auto::Manual(v as u8)),
            reserved: [r & 4 != 0, r & 2 != 0, r & 1 != 0],
            flags: TcpFlags {
                ae: self.ae,
                cwr: self.cwr,
                ece: self.ece,
                urg: self.urg,
                ack: self.ack_flag,
                psh: self.psh,
                rst: self.rst,
                syn: self.syn,
                fin: self.fin,
            },
            window: self.win,
            checksum: self.tcp_sum.unwrap_or_default(),
            urgent: self.urp,
            options: self.options(m),
            padding: self.pad.as_ref().map_or(Padding::Auto, |h| Padding::Manual(h.0.clone())),
        };
        let payload = match (&self.data, &self.text) {
            (Some(d), _) => Payload::Hex(d.0.clone()),
            (None, Some(t)) => Payload::Text(t.replace("\\r", "\r").replace("\\n", "\n")),
            (None, None) => Payload::default(),
        };
        Ok(SegmentSpec { ip, tcp, payload })
    }
}
