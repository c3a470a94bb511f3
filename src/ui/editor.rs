//! The segment editor: every `SegmentSpec` field, grouped IP / TCP / Flags / Options / Payload, plus the
//! template of the selected preset step (flags and expressions such as `peer.seq + 1`).

use egui::{RichText, Ui};

use super::field::Buffers;
use super::help;
use crate::i18n::{t, tf};
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
        RichText::new(label).strong().color(crate::ui::theme::colors(ui.ctx()).highlight)
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
    // The flags first: they are the heart of the lesson, so they are in view without scrolling.
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(t("ui.editor.flags_bar")).strong()).on_hover_text(help::field("tcp.flags"));
        toggles(ui, &mut spec.tcp.flags, st, &LESSON_ORDER);
    });
    ui.separator();
    ui.horizontal(|ui| {
        ui.label(t("ui.editor.ip_version"));
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
    egui::CollapsingHeader::new(t("ui.editor.ip_header")).id_salt("ip-header").default_open(true).show(ui, |ui| {
        egui::Grid::new("ip-grid").num_columns(2).striped(true).show(ui, |ui| match &mut spec.ip {
            IpSpec::V4(ip) => {
                row(ui, st, "ip.version", t("ui.field.version"), highlight, |ui, b| {
                    b.auto_number(ui, "ip.version", &mut ip.version, 15, 4)
                });
                row(ui, st, "ip.ihl", "IHL", highlight, |ui, b| b.auto_number(ui, "ip.ihl", &mut ip.ihl, 15, 5));
                row(ui, st, "ip.dscp", "DSCP", highlight, |ui, b| b.number(ui, "ip.dscp", &mut ip.dscp, 63));
                row(ui, st, "ip.ecn", "ECN", highlight, |ui, b| b.number(ui, "ip.ecn", &mut ip.ecn, 3));
                row(ui, st, "ip.total_len", t("ui.field.total_len"), highlight, |ui, b| {
                    b.auto_number(ui, "ip.total_len", &mut ip.total_len, 65535, 40)
                });
                row(ui, st, "ip.id", t("ui.field.id"), highlight, |ui, b| b.number(ui, "ip.id", &mut ip.id, 65535));
                row(ui, st, "ip.flags.df", t("ui.field.flags"), highlight, |ui, _| {
                    ui.horizontal(|ui| {
                        ui.toggle_value(&mut ip.evil, t("ui.ip.evil")).on_hover_text(help::field("ip.flags.evil"));
                        ui.toggle_value(&mut ip.df, "DF").on_hover_text(help::field("ip.flags.df"));
                        ui.toggle_value(&mut ip.mf, "MF").on_hover_text(help::field("ip.flags.mf"))
                    })
                    .inner
                });
                row(ui, st, "ip.frag_offset", t("ui.field.frag_offset"), highlight, |ui, b| {
                    b.number(ui, "ip.frag_offset", &mut ip.frag_offset, 8191)
                });
                row(ui, st, "ip.ttl", "TTL", highlight, |ui, b| b.number(ui, "ip.ttl", &mut ip.ttl, 255));
                row(ui, st, "ip.protocol", t("ui.field.protocol"), highlight, |ui, b| {
                    b.number(ui, "ip.protocol", &mut ip.protocol, 255)
                });
                row(ui, st, "ip.checksum", t("ui.field.header_checksum"), highlight, |ui, b| {
                    b.checksum(ui, "ip.checksum", &mut ip.checksum)
                });
                row(ui, st, "ip.src", t("ui.field.src"), highlight, |ui, b| b.address(ui, "ip.src", &mut ip.src));
                row(ui, st, "ip.dst", t("ui.field.dst"), highlight, |ui, b| b.address(ui, "ip.dst", &mut ip.dst));
                row(ui, st, "ip.options", t("ui.field.ip_options"), highlight, |ui, b| {
                    b.hex(ui, "ip.options", &mut ip.options, false)
                });
            }
            IpSpec::V6(ip) => {
                row(ui, st, "ip.version", t("ui.field.version"), highlight, |ui, b| {
                    b.auto_number(ui, "ip.version", &mut ip.version, 15, 6)
                });
                row(ui, st, "ip.traffic_class", t("ui.field.traffic_class"), highlight, |ui, b| {
                    b.number(ui, "ip.traffic_class", &mut ip.traffic_class, 255)
                });
                row(ui, st, "ip.flow_label", t("ui.field.flow_label"), highlight, |ui, b| {
                    b.number(ui, "ip.flow_label", &mut ip.flow_label, 0xF_FFFF)
                });
                row(ui, st, "ip.payload_len", t("ui.field.payload_len"), highlight, |ui, b| {
                    b.auto_number(ui, "ip.payload_len", &mut ip.payload_len, 65535, 20)
                });
                row(ui, st, "ip.next_header", t("ui.field.next_header"), highlight, |ui, b| {
                    b.number(ui, "ip.next_header", &mut ip.next_header, 255)
                });
                row(ui, st, "ip.hop_limit", t("ui.field.hop_limit"), highlight, |ui, b| {
                    b.number(ui, "ip.hop_limit", &mut ip.hop_limit, 255)
                });
                row(ui, st, "ip.src", t("ui.field.src"), highlight, |ui, b| b.address(ui, "ip.src", &mut ip.src));
                row(ui, st, "ip.dst", t("ui.field.dst"), highlight, |ui, b| b.address(ui, "ip.dst", &mut ip.dst));
            }
        });
    });
    egui::CollapsingHeader::new(t("ui.editor.tcp_header")).id_salt("tcp-header").default_open(true).show(ui, |ui| {
        let tcp = &mut spec.tcp;
        egui::Grid::new("tcp-grid").num_columns(2).striped(true).show(ui, |ui| {
            row(ui, st, "tcp.sport", t("ui.field.sport"), highlight, |ui, b| {
                b.number(ui, "tcp.sport", &mut tcp.sport, 65535)
            });
            row(ui, st, "tcp.dport", t("ui.field.dport"), highlight, |ui, b| {
                b.number(ui, "tcp.dport", &mut tcp.dport, 65535)
            });
            row(ui, st, "tcp.seq", t("ui.field.seq"), highlight, |ui, b| {
                b.number(ui, "tcp.seq", &mut tcp.seq, u32::MAX.into())
            });
            row(ui, st, "tcp.ack", t("ui.field.ack"), highlight, |ui, b| {
                b.number(ui, "tcp.ack", &mut tcp.ack, u32::MAX.into())
            });
            row(ui, st, "tcp.data_offset", t("ui.field.data_offset"), highlight, |ui, b| {
                b.auto_number(ui, "tcp.data_offset", &mut tcp.data_offset, 15, 5)
            });
            row(ui, st, "tcp.window", t("ui.field.window"), highlight, |ui, b| {
                b.number(ui, "tcp.window", &mut tcp.window, 65535)
            });
            row(ui, st, "tcp.checksum", t("ui.field.checksum"), highlight, |ui, b| {
                b.checksum(ui, "tcp.checksum", &mut tcp.checksum)
            });
            row(ui, st, "tcp.urgent", t("ui.field.urgent"), highlight, |ui, b| {
                b.number(ui, "tcp.urgent", &mut tcp.urgent, 65535)
            });
        });
        // The flags themselves are in the bar at the top; the reserved bits before them stay here.
        let order = format!("{}\n{}", help::field("tcp.reserved"), t("ui.editor.flags_order"));
        ui.label(t("ui.editor.reserved_bits")).on_hover_text(order);
        ui.horizontal_wrapped(|ui| {
            for (i, r) in tcp.reserved.iter_mut().enumerate() {
                let resp = ui.toggle_value(r, format!("Res{}", i + 1)).on_hover_text(help::field("tcp.reserved"));
                if resp.hovered() {
                    st.hovered = Some("tcp.reserved");
                }
            }
        });
    });
    egui::CollapsingHeader::new(t("ui.editor.tcp_options")).id_salt("tcp-options").default_open(true).show(ui, |ui| {
        options_editor(ui, &mut spec.tcp.options, &mut st.bufs, "opt");
        ui.horizontal(|ui| {
            let mut manual = matches!(spec.tcp.padding, Padding::Manual(_));
            if ui
                .checkbox(&mut manual, t("ui.editor.padding_by_hand"))
                .on_hover_text(t("ui.editor.padding_tip"))
                .changed()
            {
                spec.tcp.padding = if manual { Padding::Manual(Vec::new()) } else { Padding::Auto };
            }
            if let Padding::Manual(p) = &mut spec.tcp.padding {
                st.bufs.hex(ui, "tcp.padding", p, false);
            }
        });
    });
    egui::CollapsingHeader::new(t("ui.editor.payload"))
        .id_salt("payload")
        .default_open(true)
        .show(ui, |ui| payload_editor(ui, &mut spec.payload, &mut st.bufs, "payload"));
}

/// The nine flags in header bit order (AE to FIN).
const HEADER_ORDER: [(u16, &str); 9] = [
    (0x100, "AE"),
    (0x80, "CWR"),
    (0x40, "ECE"),
    (0x20, "URG"),
    (0x10, "ACK"),
    (0x08, "PSH"),
    (0x04, "RST"),
    (0x02, "SYN"),
    (0x01, "FIN"),
];

/// The nine flags in the order a lesson meets them: the handshake's, the end's, then the rarer ones.
const LESSON_ORDER: [(u16, &str); 9] = [
    (0x02, "SYN"),
    (0x10, "ACK"),
    (0x01, "FIN"),
    (0x04, "RST"),
    (0x08, "PSH"),
    (0x20, "URG"),
    (0x40, "ECE"),
    (0x80, "CWR"),
    (0x100, "AE"),
];

/// The nine flag toggles (AE to FIN), each with its tooltip.
pub fn flag_buttons(ui: &mut Ui, f: &mut TcpFlags, st: &mut EditorState) {
    toggles(ui, f, st, &HEADER_ORDER);
}

/// One toggle per flag, in `order`, each with its tooltip.
fn toggles(ui: &mut Ui, f: &mut TcpFlags, st: &mut EditorState, order: &[(u16, &str)]) {
    let mut bits = f.bits();
    for &(bit, name) in order {
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
            ui.label(format!("{}.", i + 1)).on_hover_text(help::option(o));
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
                    ui.label(t("ui.option.wscale"));
                    bufs.number(ui, &k("ws"), v, 255);
                }
                TcpOption::SackPermitted => {
                    ui.label(t("ui.option.sack_perm"));
                }
                TcpOption::Sack(blocks) => {
                    ui.label("SACK");
                    for (j, b) in blocks.iter_mut().enumerate() {
                        bufs.number(ui, &k(&format!("l{j}")), &mut b.left, u32::MAX.into());
                        ui.label("-");
                        bufs.number(ui, &k(&format!("r{j}")), &mut b.right, u32::MAX.into());
                    }
                    if ui.small_button(t("ui.option.add_block")).clicked() && blocks.len() < 4 {
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
                    ui.label(t("ui.option.tfo_cookie"));
                    bufs.hex(ui, &k("tfo"), c, false);
                }
                TcpOption::Raw { kind, length, data } => {
                    ui.label(t("ui.option.raw_kind"));
                    bufs.number(ui, &k("kind"), kind, 255);
                    let mut manual = length.is_some();
                    if ui
                        .checkbox(&mut manual, t("ui.option.length_by_hand"))
                        .on_hover_text(t("ui.option.length_tip"))
                        .changed()
                    {
                        *length = manual.then_some(u8::try_from(data.len() + 2).unwrap_or(u8::MAX));
                    }
                    if let Some(l) = length {
                        bufs.number(ui, &k("len"), l, 255);
                    }
                    ui.label(t("ui.option.data"));
                    bufs.hex(ui, &k("data"), data, false);
                }
            }
            if ui.small_button("⏶").on_hover_text(t("ui.option.move_up")).clicked() {
                action = Some((i, -1));
            }
            if ui.small_button("⏷").on_hover_text(t("ui.option.move_down")).clicked() {
                action = Some((i, 1));
            }
            if ui.small_button("🗑").on_hover_text(t("ui.option.remove")).clicked() {
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
    ui.menu_button(t("ui.option.add"), |ui| {
        let choices: [(&str, TcpOption); 9] = [
            ("MSS", TcpOption::Mss(1460)),
            (t("ui.option.wscale"), TcpOption::WindowScale(7)),
            (t("ui.option.sack_perm"), TcpOption::SackPermitted),
            ("SACK", TcpOption::Sack(vec![SackBlock { left: 1, right: 2 }])),
            (t("ui.option.timestamps"), TcpOption::Timestamps { val: 1, ecr: 0 }),
            ("NOP", TcpOption::Nop),
            ("EOL", TcpOption::Eol),
            (t("ui.option.tfo_cookie"), TcpOption::FastOpen(Vec::new())),
            (t("ui.option.raw"), TcpOption::Raw { kind: 99, length: None, data: Vec::new() }),
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
        if ui.selectable_label(text, t("ui.payload.text")).clicked() && !text {
            *p = Payload::Text(String::from_utf8_lossy(p.bytes()).into_owned());
            bufs.reset();
        }
        if ui.selectable_label(!text, t("ui.payload.hex")).clicked() && text {
            *p = Payload::Hex(p.bytes().to_vec());
            bufs.reset();
        }
        ui.label(tf("ui.bytes.count", &[("n", &p.bytes().len().to_string())]));
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
