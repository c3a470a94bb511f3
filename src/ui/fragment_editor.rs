//! A Send step's fragmenting in the step editor: bytes per fragment, their order (first to last, last to first,
//! shuffled, or as listed by number), and an overlapping copy of one of them carrying other bytes.

use egui::{RichText, Ui};

use super::steps::bad;
use crate::i18n::{t, tf};
use crate::wire::fragment::{names_each_once, piece_count, FragOrder, Fragmenting};

/// The editor of `frag` (`None`: the segment goes out whole) for step `i`, whose previewed IP payload is `payload`
/// bytes when known (to count the pieces); sets `field` to "fragment" on a change.
pub fn fragment_editor(
    ui: &mut Ui,
    frag: &mut Option<Fragmenting>,
    payload: Option<usize>,
    i: usize,
    field: &mut Option<&str>,
) {
    let mut on = frag.is_some();
    if ui.checkbox(&mut on, t("ui.tpl.fragment")).on_hover_text(t("ui.tpl.fragment_tip")).changed() {
        *frag = on.then(|| Fragmenting { size: 8, ..Fragmenting::default() });
        *field = Some("fragment");
    }
    let Some(f) = frag else { return };
    ui.horizontal_wrapped(|ui| {
        ui.label(t("ui.tpl.frag_size")).on_hover_text(t("ui.tpl.frag_size_tip"));
        let drag = egui::DragValue::new(&mut f.size).range(8..=65_528).speed(8.0).suffix(" B");
        if ui.add(drag).changed() {
            // Offsets count in 8-byte units: every fragment but the last carries a multiple of 8.
            f.size = (f.size / 8).max(1) * 8;
            *field = Some("fragment");
        }
        let pieces = payload.map(|len| piece_count(len, f.size));
        if let Some(n) = pieces {
            ui.label(RichText::new(tf("ui.tpl.frag_pieces", &[("n", &n.to_string())])).weak());
        }
        let name = |o: &FragOrder| match o {
            FragOrder::In => t("ui.tpl.frag_in"),
            FragOrder::Reverse => t("ui.tpl.frag_reverse"),
            FragOrder::Random => t("ui.tpl.frag_random"),
            FragOrder::Given(_) => t("ui.tpl.frag_given"),
        };
        egui::ComboBox::new(("frag-order", i), t("ui.tpl.frag_order")).selected_text(name(&f.order)).show_ui(
            ui,
            |ui| {
                for o in [FragOrder::In, FragOrder::Reverse, FragOrder::Random, FragOrder::Given(Vec::new())] {
                    let current = std::mem::discriminant(&f.order) == std::mem::discriminant(&o);
                    if ui.selectable_label(current, name(&o)).clicked() && !current {
                        // A list starts as the order it replaces, when the pieces can be counted.
                        f.order = match (o, pieces) {
                            (FragOrder::Given(_), Some(n)) if f.order == FragOrder::Reverse => {
                                FragOrder::Given((0..n).rev().collect())
                            }
                            (FragOrder::Given(_), Some(n)) => FragOrder::Given((0..n).collect()),
                            (o, _) => o,
                        };
                        *field = Some("fragment");
                    }
                }
            },
        );
    });
    // Counted again after the row: its size field may have changed this frame.
    let pieces = payload.map(|len| piece_count(len, f.size));
    match &mut f.order {
        // A row of its own: the label, the field and what is wrong with it.
        FragOrder::Given(list) => {
            ui.horizontal_wrapped(|ui| list_field(ui, i, list, pieces, field));
        }
        // No list: no typed text left to come back with a later one.
        _ => ui.data_mut(|d| d.remove::<String>(list_id(i))),
    }
    ui.horizontal_wrapped(|ui| {
        let mut overlap = f.overlap.is_some();
        if ui.checkbox(&mut overlap, t("ui.tpl.frag_overlap")).on_hover_text(t("ui.tpl.frag_overlap_tip")).changed() {
            f.overlap = overlap.then_some(0);
            *field = Some("fragment");
        }
        if let Some(n) = &mut f.overlap {
            if ui.add(egui::DragValue::new(n).range(0..=8191).prefix("#")).changed() {
                *field = Some("fragment");
            }
        }
    });
}

/// The fragments' numbers in sending order, typed as `2,0,1`: applied as soon as the text reads as numbers; until
/// then the typed text stays, with what is wrong beside it. With the number of `pieces` known, a list that does
/// not name each of them once is said at once (a run would stop at this step).
fn list_field(ui: &mut Ui, i: usize, list: &mut Vec<usize>, pieces: Option<usize>, field: &mut Option<&str>) {
    let id = list_id(i);
    let shown = FragOrder::Given(list.clone()).to_string();
    let mut text = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| shown.clone());
    let label = ui.label(t("ui.tpl.frag_list")).on_hover_text(t("ui.tpl.frag_list_tip"));
    let r = ui
        .add(egui::TextEdit::singleline(&mut text).desired_width(110.0).hint_text("2,0,1"))
        .labelled_by(label.id)
        .on_hover_text(t("ui.tpl.frag_list_tip"));
    let parsed = match text.trim() {
        "" => Some(Vec::new()),
        typed => match typed.parse::<FragOrder>() {
            Ok(FragOrder::Given(l)) => Some(l),
            _ => None,
        },
    };
    match &parsed {
        Some(l) if r.changed() && l != list => {
            list.clone_from(l);
            *field = Some("fragment");
        }
        Some(_) => {}
        None => {
            ui.label(RichText::new(format!("⚠ {}", t("ui.tpl.frag_list_bad"))).color(bad(ui)).small());
        }
    }
    if let (Some(n), Some(_)) = (pieces, &parsed) {
        if !names_each_once(list, n) {
            let (n_s, last) = (n.to_string(), n.saturating_sub(1).to_string());
            let say = tf("ui.tpl.frag_list_count", &[("n", &n_s), ("last", &last)]);
            ui.label(RichText::new(format!("⚠ {say}")).color(bad(ui)).small());
        }
    }
    let keep = r.has_focus() || parsed.is_none();
    ui.data_mut(|d| {
        if keep {
            d.insert_temp(id, text);
        } else {
            d.remove::<String>(id);
        }
    });
}

/// Where step `i`'s typed list is kept while it does not read as numbers or has the focus.
fn list_id(i: usize) -> egui::Id {
    egui::Id::unique(("tcpcraft-frag-list", i))
}
