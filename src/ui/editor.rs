//! The segment editor: every `SegmentSpec` field, grouped IP / TCP / Flags / Options / Payload, plus the
//! template of the selected preset step (flags and expressions such as `peer.seq + 1`).

use egui::{Color32, RichText, Ui};

use super::field::Buffers;
use super::help;
use crate::preset::SendTemplate;
use crate::wire::{IpSpec, Ipv4Spec, Ipv6Spec, Padding, Payload, SackBlock, SegmentSpec, TcpFlags, TcpOption};

/// Editor state that is not part of the segment.
#[derive(Default)]
pub struct EditorState {
    /// Typed texts and their errors.
    pub bufs: Buffers,
    /// The field under the pointer (for the bytes pane).
    pub hovered: Option<&'static str>,
}

/// A labelled row that reports hover for `key` and shows its tooltip.
fn row(
    ui: &mut Ui,
    st: &mut EditorState,
    key: &'static str,
    label: &str,
    highlight: Option<&str>,
    add: impl FnOnce(&mut Ui, &mut Buffers) -> egui::Response,
) {
    let lit = highlight == Some(key);
    let text = if lit {
        RichText::new(label).strong().color(Color32::from_rgb(0xff, 0xd1, 0x66))
    } else {
        RichText::new(label)
    };
    let l = ui.label(text).on_hover_text(help::field(key));
    let r = add(ui, &mut st.bufs).on_hover_text(help::field(key));
    if l.hovered() || r.hovered() {
        st.hovered = Some(key);
    }
    ui.end_row();
}

/// Draws the whole editor for `spec`; `highlight` is the field the bytes pane points at.
pub fn show(ui: &mut Ui, spec: &mut SegmentSpec, st: &mut EditorState, highlight: Option<&str>) {
    st.hovered = None;
    ui.horizontal(|ui| {
        ui.label("IP version:");
        let v4 = matches!(spec.ip, IpSpec::V4(_));
        if ui.selectable_label(v4, "IPv4").clicked() && !v4 {
            spec.ip = IpSpec::V4(Ipv4Spec::default());
            st.bufs.reset();
        }
        if ui.selectable_label(!v4, "IPv6").clicked() && v4 {
            spec.ip = IpSpec::V6(Ipv6Spec::default());
            st.bufs.reset();
        }
    });
    egui::CollapsingHeader::new("IP header").default_open(true).show(ui, |ui| {
        egui::Grid::new("ip-grid").num_columns(2).striped(true).show(ui, |ui| match &mut spec.ip {
            IpSpec::V4(ip) => {
                row(ui, st, "ip.version", "version", highlight, |ui, b| {
                    b.auto_number(ui, "ip.version", &mut ip.version, 15, 4)
                });
                row(ui, st, "ip.ihl", "IHL", highlight, |ui, b| b.auto_number(ui, "ip.ihl", &mut ip.ihl, 15, 5));
                row(ui, st, "ip.dscp", "DSCP", highlight, |ui, b| b.number(ui, "ip.dscp", &mut ip.dscp, 63));
                row(ui, st, "ip.ecn", "ECN", highlight, |ui, b| b.number(ui, "ip.ecn", &mut ip.ecn, 3));
                row(ui, st, "ip.total_len", "total length", highlight, |ui, b| {
                    b.auto_number(ui, "ip.total_len", &mut ip.total_len, 65535, 40)
                });
                row(ui, st, "ip.id", "identification", highlight, |ui, b| b.number(ui, "ip.id", &mut ip.id, 65535));
                row(ui, st, "ip.flags.df", "flags", highlight, |ui, _| {
                    ui.horizontal(|ui| {
                        ui.toggle_value(&mut ip.evil, "evil").on_hover_text(help::field("ip.flags.evil"));
                        ui.toggle_value(&mut ip.df, "DF").on_hover_text(help::field("ip.flags.df"));
                        ui.toggle_value(&mut ip.mf, "MF").on_hover_text(help::field("ip.flags.mf"))
                    })
                    .inner
                });
                row(ui, st, "ip.frag_offset", "fragment offset", highlight, |ui, b| {
                    b.number(ui, "ip.frag_offset", &mut ip.frag_offset, 8191)
                });
                row(ui, st, "ip.ttl", "TTL", highlight, |ui, b| b.number(ui, "ip.ttl", &mut ip.ttl, 255));
                row(ui, st, "ip.protocol", "protocol", highlight, |ui, b| {
                    b.number(ui, "ip.protocol", &mut ip.protocol, 255)
                });
                row(ui, st, "ip.checksum", "header checksum", highlight, |ui, b| {
                    b.checksum(ui, "ip.checksum", &mut ip.checksum)
                });
                row(ui, st, "ip.src", "source", highlight, |ui, b| b.address(ui, "ip.src", &mut ip.src));
                row(ui, st, "ip.dst", "destination", highlight, |ui, b| b.address(ui, "ip.dst", &mut ip.dst));
                row(ui, st, "ip.options", "options (hex)", highlight, |ui, b| {
                    b.hex(ui, "ip.options", &mut ip.options, false)
                });
            }
            IpSpec::V6(ip) => {
                row(ui, st, "ip.version", "version", highlight, |ui, b| {
                    b.auto_number(ui, "ip.version", &mut ip.version, 15, 6)
                });
                row(ui, st, "ip.traffic_class", "traffic class", highlight, |ui, b| {
                    b.number(ui, "ip.traffic_class", &mut ip.traffic_class, 255)
                });
                row(ui, st, "ip.flow_label", "flow label", highlight, |ui, b| {
                    b.number(ui, "ip.flow_label", &mut ip.flow_label, 0xF_FFFF)
                });
                row(ui, st, "ip.payload_len", "payload length", highlight, |ui, b| {
                    b.auto_number(ui, "ip.payload_len", &mut ip.payload_len, 65535, 20)
                });
                row(ui, st, "ip.next_header", "next header", highlight, |ui, b| {
                    b.number(ui, "ip.next_header", &mut ip.next_header, 255)
                });
                row(ui, st, "ip.hop_limit", "hop limit", highlight, |ui, b| {
                    b.number(ui, "ip.hop_limit", &mut ip.hop_limit, 255)
                });
                row(ui, st, "ip.src", "source", highlight, |ui, b| b.address(ui, "ip.src", &mut ip.src));
                row(ui, st, "ip.dst", "destination", highlight, |ui, b| b.address(ui, "ip.dst", &mut ip.dst));
            }
        });
    });
    egui::CollapsingHeader::new("TCP header").default_open(true).show(ui, |ui| {
        let t = &mut spec.tcp;
        egui::Grid::new("tcp-grid").num_columns(2).striped(true).show(ui, |ui| {
            row(ui, st, "tcp.sport", "source port", highlight, |ui, b| b.number(ui, "tcp.sport", &mut t.sport, 65535));
            row(ui, st, "tcp.dport", "destination port", highlight, |ui, b| {
                b.number(ui, "tcp.dport", &mut t.dport, 65535)
            });
            row(ui, st, "tcp.seq", "sequence number", highlight, |ui, b| {
                b.number(ui, "tcp.seq", &mut t.seq, u32::MAX.into())
            });
            row(ui, st, "tcp.ack", "acknowledgment number", highlight, |ui, b| {
                b.number(ui, "tcp.ack", &mut t.ack, u32::MAX.into())
            });
            row(ui, st, "tcp.data_offset", "data offset", highlight, |ui, b| {
                b.auto_number(ui, "tcp.data_offset", &mut t.data_offset, 15, 5)
            });
            row(ui, st, "tcp.window", "window", highlight, |ui, b| b.number(ui, "tcp.window", &mut t.window, 65535));
            row(ui, st, "tcp.checksum", "checksum", highlight, |ui, b| b.checksum(ui, "tcp.checksum", &mut t.checksum));
            row(ui, st, "tcp.urgent", "urgent pointer", highlight, |ui, b| {
                b.number(ui, "tcp.urgent", &mut t.urgent, 65535)
            });
        });
        ui.label("Flags, in header bit order (3 reserved bits, then AE … FIN):")
            .on_hover_text(help::field("tcp.reserved"));
        ui.horizontal_wrapped(|ui| {
            for (i, r) in t.reserved.iter_mut().enumerate() {
                let resp = ui.toggle_value(r, format!("Res{}", i + 1)).on_hover_text(help::field("tcp.reserved"));
                if resp.hovered() {
                    st.hovered = Some("tcp.reserved");
                }
            }
            flag_buttons(ui, &mut t.flags, st);
        });
    });
    egui::CollapsingHeader::new("TCP options").default_open(true).show(ui, |ui| {
        options_editor(ui, &mut spec.tcp.options, &mut st.bufs, "opt");
        ui.horizontal(|ui| {
            let mut manual = matches!(spec.tcp.padding, Padding::Manual(_));
            if ui
                .checkbox(&mut manual, "padding by hand")
                .on_hover_text("Off: zero bytes up to a 4-byte boundary.")
                .changed()
            {
                spec.tcp.padding = if manual { Padding::Manual(Vec::new()) } else { Padding::Auto };
            }
            if let Padding::Manual(p) = &mut spec.tcp.padding {
                st.bufs.hex(ui, "tcp.padding", p, false);
            }
        });
    });
    egui::CollapsingHeader::new("Payload")
        .default_open(true)
        .show(ui, |ui| payload_editor(ui, &mut spec.payload, &mut st.bufs, "payload"));
}

/// The nine flag toggles (AE to FIN), each with its tooltip.
pub fn flag_buttons(ui: &mut Ui, f: &mut TcpFlags, st: &mut EditorState) {
    let mut bits = f.bits();
    for (bit, name) in [
        (0x100, "AE"),
        (0x80, "CWR"),
        (0x40, "ECE"),
        (0x20, "URG"),
        (0x10, "ACK"),
        (0x08, "PSH"),
        (0x04, "RST"),
        (0x02, "SYN"),
        (0x01, "FIN"),
    ] {
        let mut on = bits & bit != 0;
        let key: &'static str = match name {
            "AE" => "tcp.flags.ae",
            "CWR" => "tcp.flags.cwr",
            "ECE" => "tcp.flags.ece",
            "URG" => "tcp.flags.urg",
            "ACK" => "tcp.flags.ack",
            "PSH" => "tcp.flags.psh",
            "RST" => "tcp.flags.rst",
            "SYN" => "tcp.flags.syn",
            _ => "tcp.flags.fin",
        };
        let r = ui.toggle_value(&mut on, name).on_hover_text(help::flag(name));
        if r.hovered() {
            st.hovered = Some(key);
        }
        if r.changed() {
            bits ^= bit;
        }
    }
    *f = TcpFlags::from_bits(bits);
}

/// The option list: each option with its values, move up/down, remove; and an Add menu.
pub fn options_editor(ui: &mut Ui, opts: &mut Vec<TcpOption>, bufs: &mut Buffers, prefix: &str) {
    let mut action: Option<(usize, i32)> = None;
    let mut changed_shape = false;
    for (i, o) in opts.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.label(format!("{}.", i + 1));
            let k = |name: &str| format!("{prefix}.{i}.{name}");
            match o {
                TcpOption::Eol => {
                    ui.label("EOL");
                }
                TcpOption::Nop => {
                    ui.label("NOP");
                }
                TcpOption::Mss(v) => {
                    ui.label("MSS");
                    bufs.number(ui, &k("mss"), v, 65535);
                }
                TcpOption::WindowScale(v) => {
                    ui.label("Window scale");
                    bufs.number(ui, &k("ws"), v, 255);
                }
                TcpOption::SackPermitted => {
                    ui.label("SACK permitted");
                }
                TcpOption::Sack(blocks) => {
                    ui.label("SACK");
                    for (j, b) in blocks.iter_mut().enumerate() {
                        bufs.number(ui, &k(&format!("l{j}")), &mut b.left, u32::MAX.into());
                        ui.label("-");
                        bufs.number(ui, &k(&format!("r{j}")), &mut b.right, u32::MAX.into());
                    }
                    if ui.small_button("+block").clicked() && blocks.len() < 4 {
                        blocks.push(SackBlock { left: 0, right: 0 });
                    }
                }
                TcpOption::Timestamps { val, ecr } => {
                    ui.label("TS val");
                    bufs.number(ui, &k("tsval"), val, u32::MAX.into());
                    ui.label("ecr");
                    bufs.number(ui, &k("tsecr"), ecr, u32::MAX.into());
                }
                TcpOption::FastOpen(c) => {
                    ui.label("TFO cookie");
                    bufs.hex(ui, &k("tfo"), c, false);
                }
                TcpOption::Raw { kind, length, data } => {
                    ui.label("raw kind");
                    bufs.number(ui, &k("kind"), kind, 255);
                    let mut manual = length.is_some();
                    if ui
                        .checkbox(&mut manual, "length by hand")
                        .on_hover_text("Write a (possibly wrong) length byte.")
                        .changed()
                    {
                        *length = manual.then_some(u8::try_from(data.len() + 2).unwrap_or(u8::MAX));
                    }
                    if let Some(l) = length {
                        bufs.number(ui, &k("len"), l, 255);
                    }
                    ui.label("data");
                    bufs.hex(ui, &k("data"), data, false);
                }
            }
            if ui.small_button("⏶").on_hover_text("Move up").clicked() {
                action = Some((i, -1));
            }
            if ui.small_button("⏷").on_hover_text("Move down").clicked() {
                action = Some((i, 1));
            }
            if ui.small_button("🗑").on_hover_text("Remove").clicked() {
                action = Some((i, 0));
            }
        });
    }
    if let Some((i, d)) = action {
        match d {
            0 => {
                opts.remove(i);
            }
            -1 if i > 0 => opts.swap(i, i - 1),
            1 if i + 1 < opts.len() => opts.swap(i, i + 1),
            _ => {}
        }
        changed_shape = true;
    }
    ui.menu_button("➕ Add option", |ui| {
        let choices: [(&str, TcpOption); 9] = [
            ("MSS", TcpOption::Mss(1460)),
            ("Window scale", TcpOption::WindowScale(7)),
            ("SACK permitted", TcpOption::SackPermitted),
            ("SACK", TcpOption::Sack(vec![SackBlock { left: 1, right: 2 }])),
            ("Timestamps", TcpOption::Timestamps { val: 1, ecr: 0 }),
            ("NOP", TcpOption::Nop),
            ("EOL", TcpOption::Eol),
            ("TFO cookie", TcpOption::FastOpen(Vec::new())),
            ("Raw", TcpOption::Raw { kind: 99, length: None, data: Vec::new() }),
        ];
        for (name, o) in choices {
            if ui.button(name).clicked() {
                opts.push(o);
                changed_shape = true;
                ui.close();
            }
        }
    });
    if changed_shape {
        bufs.reset();
    }
}

/// Payload as text or hex.
pub fn payload_editor(ui: &mut Ui, p: &mut Payload, bufs: &mut Buffers, key: &str) {
    ui.horizontal(|ui| {
        let text = matches!(p, Payload::Text(_));
        if ui.selectable_label(text, "text").clicked() && !text {
            *p = Payload::Text(String::from_utf8_lossy(p.bytes()).into_owned());
            bufs.reset();
        }
        if ui.selectable_label(!text, "hex").clicked() && text {
            *p = Payload::Hex(p.bytes().to_vec());
            bufs.reset();
        }
        ui.label(format!("{} bytes", p.bytes().len()));
    });
    match p {
        Payload::Text(s) => {
            ui.add(egui::TextEdit::multiline(s).desired_rows(3).desired_width(f32::INFINITY))
                .on_hover_text(help::field("payload"));
        }
        Payload::Hex(b) => {
            bufs.hex(ui, key, b, true);
        }
    }
}

/// The selected preset step's template: flags, expressions, options and payload.
pub fn template_editor(ui: &mut Ui, t: &mut SendTemplate, st: &mut EditorState, step: usize) {
    ui.label(RichText::new(format!("Step {} template", step + 1)).strong());
    ui.label("Numbers may be expressions over earlier replies: isn + 1, peer.seq + 1, peer.seq + peer.len, random.");
    egui::Grid::new("tpl-grid").num_columns(2).show(ui, |ui| {
        for (name, e) in [
            ("seq", &mut t.seq),
            ("ack", &mut t.ack),
            ("sport", &mut t.sport),
            ("dport", &mut t.dport),
            ("window", &mut t.window),
            ("urgent", &mut t.urgent),
        ] {
            ui.label(name).on_hover_text(help::field(&format!("tcp.{name}")));
            st.bufs.expr(ui, &format!("tpl.{step}.{name}"), e);
            ui.end_row();
        }
    });
    ui.horizontal_wrapped(|ui| flag_buttons(ui, &mut t.flags.0, st));
    options_editor(ui, &mut t.options, &mut st.bufs, &format!("tpl.{step}.opt"));
    let mut has_payload = t.payload.is_some();
    if ui.checkbox(&mut has_payload, "payload").changed() {
        t.payload = has_payload.then(|| Payload::Text(String::new()));
    }
    if let Some(p) = &mut t.payload {
        payload_editor(ui, p, &mut st.bufs, &format!("tpl.{step}.payload"));
    }
}
