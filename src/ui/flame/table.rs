//! The Top view: every function of the flame graph with its self and total
//! weight ([`crate::analysis::top`]), as `pprof -top` lists them, sortable,
//! one row per function. A click searches the function (its boxes turn
//! pink, the timeline keeps its lanes) and picks it for the Sandwich; a
//! double click opens the Sandwich.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Ui, Vec2};

use super::graph::{fit_text, format_value, format_weight};
use crate::analysis::top::{FunctionRow, TopOrder};
use crate::model::{StackTable, StrId};
use crate::ui::names::Names;

const ROW_H: f32 = 20.0;
/// Right edges of the value columns and the left edge of the names, from
/// the row's left: wide enough for "999.99 MB" and "100.0%", and no wider,
/// so names keep most of a narrow pane.
const SELF_RIGHT: f32 = 64.0;
const SELF_SHARE_RIGHT: f32 = 110.0;
const TOTAL_RIGHT: f32 = 178.0;
const TOTAL_SHARE_RIGHT: f32 = 224.0;
const NAME_LEFT: f32 = 234.0;

/// What the table shows.
pub struct TableData<'a> {
    /// In the order shown.
    pub rows: &'a [FunctionRow],
    pub table: &'a StackTable,
    pub unit: &'a str,
    /// What shares are of: the whole graph's weight.
    pub root_total: u64,
    pub names: Names,
    /// The function the Sandwich shows, marked in the table.
    pub picked: Option<StrId>,
}

/// What a click on a row asks.
pub enum RowClick {
    /// Search the function and pick it for the Sandwich.
    Pick(StrId),
    /// The same, and show the Sandwich.
    Open(StrId),
}

/// The sort choice, the column heads and the rows.
pub fn top_ui(ui: &mut Ui, order: &mut TopOrder, d: &TableData<'_>) -> Option<RowClick> {
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} functions · {} in all · sort by",
            d.rows.len(),
            format_weight(d.root_total, d.unit)
        ));
        for (o, text, hover) in [
            (
                TopOrder::SelfWeight,
                "self",
                "weight of the stacks that end in the function",
            ),
            (
                TopOrder::Total,
                "total",
                "weight of the stacks through it, each counted once",
            ),
            (TopOrder::Name, "name", "by name"),
        ] {
            if ui
                .selectable_label(*order == o, text)
                .on_hover_text(hover)
                .clicked()
            {
                *order = o;
            }
        }
    });
    let (head, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), ROW_H), Sense::hover());
    let color = ui.visuals().weak_text_color();
    paint_cells(ui, head, ["self", "", "total", ""], "function", color);
    let mut click = None;
    egui::ScrollArea::vertical()
        .id_salt("flame-top")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_H, d.rows.len(), |ui, range| {
            for i in range {
                if let Some(c) = row_ui(ui, i, d) {
                    click = Some(c);
                }
            }
        });
    click
}

/// One function's row: its values, its short name (the full one in the
/// tooltip), marked when picked.
fn row_ui(ui: &mut Ui, i: usize, d: &TableData<'_>) -> Option<RowClick> {
    let row = &d.rows[i];
    let full = d.table.str(row.function);
    let name = d.names.function(full).into_owned();
    let (rect, response) =
        ui.allocate_exact_size(Vec2::new(ui.available_width(), ROW_H), Sense::click());
    // Found by its name in tests and by screen readers.
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    let v = ui.visuals();
    let fill = if d.picked == Some(row.function) {
        v.selection.bg_fill
    } else if response.hovered() {
        v.widgets.hovered.weak_bg_fill
    } else if i % 2 == 1 {
        v.faint_bg_color
    } else {
        Color32::TRANSPARENT
    };
    ui.painter().rect_filled(rect, 0.0, fill);
    let share = |w: u64| format!("{:.1}%", w as f64 / d.root_total.max(1) as f64 * 100.0);
    let cells = [
        format_value(row.self_weight, d.unit),
        share(row.self_weight),
        format_value(row.total, d.unit),
        share(row.total),
    ];
    paint_cells(ui, rect, cells, &name, v.text_color());
    let response = response.on_hover_ui(|ui| {
        ui.strong(full);
        if let Some(f) = row.frame {
            ui.monospace(Names::FULL.location(d.table, f));
        }
        ui.label(format!(
            "self {} ({}), total {} ({})",
            format_weight(row.self_weight, d.unit),
            share(row.self_weight),
            format_weight(row.total, d.unit),
            share(row.total)
        ));
        ui.weak("click: search it and pick it for Sandwich · double-click: open Sandwich");
    });
    if response.double_clicked() {
        Some(RowClick::Open(row.function))
    } else if response.clicked() {
        Some(RowClick::Pick(row.function))
    } else {
        None
    }
}

/// Values right-aligned in their columns, the name after them cut to the
/// row (it never runs under the scroll bar).
fn paint_cells<S: AsRef<str>>(ui: &Ui, rect: Rect, cells: [S; 4], name: &str, color: Color32) {
    let font = FontId::proportional(12.5);
    let painter = ui.painter_at(rect);
    let y = rect.center().y;
    for (text, right) in
        cells
            .iter()
            .zip([SELF_RIGHT, SELF_SHARE_RIGHT, TOTAL_RIGHT, TOTAL_SHARE_RIGHT])
    {
        painter.text(
            Pos2::new(rect.left() + right, y),
            Align2::RIGHT_CENTER,
            text.as_ref(),
            font.clone(),
            color,
        );
    }
    // Cut to the room measured in this font, with "…".
    let room = rect.width() - NAME_LEFT - 4.0;
    let whole = painter.layout_no_wrap(name.to_owned(), font.clone(), color);
    let text = if whole.size().x <= room {
        name.to_owned()
    } else {
        let per_char = whole.size().x / name.chars().count().max(1) as f32;
        fit_text(name, (room / per_char).max(1.0) as usize)
    };
    painter.text(
        Pos2::new(rect.left() + NAME_LEFT, y),
        Align2::LEFT_CENTER,
        text,
        font,
        color,
    );
}
