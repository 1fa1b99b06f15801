//! The creation tree in the lower panel: creator functions and the groups
//! of goroutines they started, folded by level; a click on a group selects
//! it everywhere.
//!
//! The tree ([`creation_tree::build`]) is computed once per set of lanes
//! and kept in egui's memory, not every frame: a trace has tens of
//! thousands of creation events.

use std::sync::Arc;

use egui::collapsing_header::CollapsingState;
use egui::{RichText, Ui};

use crate::analysis::creation_tree::{self, Created, CreatedNode, CreationTree, CreatorNode};
use crate::analysis::lanes::LaneSource;
use crate::model::StackTable;
use crate::ui::names::Names;
use crate::ui::state::{Action, Selection};
use crate::ui::theme;

/// Label of the toggle beside the events' heading.
pub const AS_TREE: &str = "as tree";

/// Levels shown unfolded at first (creators and what they created count
/// one each): the handlers the accept loop's connections ran, and what
/// they started.
const OPEN_LEVELS: usize = 4;

/// Whether the events list is shown as the creation tree (kept in egui's
/// memory, so the app's state needs no field for it).
pub fn as_tree_toggle(ui: &mut Ui) -> bool {
    let id = egui::Id::unique("events-as-tree");
    let mut on = ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(false);
    if ui
        .toggle_value(&mut on, AS_TREE)
        .on_hover_text("who created whom: creator functions and the goroutines they started")
        .changed()
    {
        ui.data_mut(|d| d.insert_temp(id, on));
    }
    on
}

/// The tree of `lanes`, built on first use and kept while the lanes stay.
fn tree_of(ui: &Ui, lanes: &dyn LaneSource, table: &StackTable, key: usize) -> Arc<CreationTree> {
    let id = egui::Id::unique(("creation-tree", key, lanes.lane_count()));
    if let Some(t) = ui.data(|d| d.get_temp::<Arc<CreationTree>>(id)) {
        return t;
    }
    let t = Arc::new(creation_tree::build(lanes, table));
    ui.data_mut(|d| d.insert_temp(id, t.clone()));
    t
}

/// The creation tree of the lanes shown; `key` changes with them.
pub fn creation_tree_ui(
    ui: &mut Ui,
    lanes: &dyn LaneSource,
    table: &StackTable,
    key: usize,
    selection: Selection,
    names: Names,
) -> Option<Action> {
    let tree = tree_of(ui, lanes, table, key);
    if tree.roots.is_empty() {
        ui.weak(
            "No creation events: these inputs do not say who created the goroutines \
             (debug=2 dumps and traces do).",
        );
        return None;
    }
    let mut action = None;
    egui::ScrollArea::vertical()
        .id_salt("creation-tree")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let view = View { selection, names };
            for (i, c) in tree.roots.iter().enumerate() {
                view.creator_ui(ui, c, ui.make_persistent_id(("creator", i)), 0, &mut action);
            }
            if tree.truncated {
                ui.weak("(the tree is cut here: too many nodes)");
            }
        });
    action
}

struct View {
    selection: Selection,
    names: Names,
}

impl View {
    /// `F created N`, folding what it created.
    fn creator_ui(
        &self,
        ui: &mut Ui,
        c: &CreatorNode,
        id: egui::Id,
        depth: usize,
        action: &mut Option<Action>,
    ) {
        let text = RichText::new(format!(
            "{} created {}",
            self.names.function(&c.function),
            c.goroutines
        ))
        .color(theme::CREATION);
        egui::CollapsingHeader::new(text)
            .id_salt(id)
            .default_open(depth < OPEN_LEVELS)
            .show(ui, |ui| {
                for (i, n) in c.created.iter().enumerate() {
                    self.created_ui(ui, n, id.with(i), depth + 1, action);
                }
            })
            .header_response
            .on_hover_text(&c.function);
    }

    /// `N × G`, a click selects G; folding what G's goroutines created.
    fn created_ui(
        &self,
        ui: &mut Ui,
        n: &CreatedNode,
        id: egui::Id,
        depth: usize,
        action: &mut Option<Action>,
    ) {
        let select = match n.created {
            Created::Group(g) => Some(Selection::Group(g as usize)),
            Created::TraceGroup(t) => Some(Selection::TraceGroup(t as usize)),
            Created::Function(_) => None,
        };
        let again = if n.recursive { " (shown above)" } else { "" };
        let text = format!(
            "{} × {}{again}",
            n.goroutines,
            self.names.function(&n.function)
        );
        let mut row = |ui: &mut Ui| {
            let selected = select.is_some() && select == Some(self.selection);
            let r = ui.selectable_label(selected, text.clone());
            let r = match select {
                Some(_) => r.on_hover_text(format!("{}\nclick to select its group", n.function)),
                None => r.on_hover_text(format!("{}\nin no stack group", n.function)),
            };
            if r.clicked()
                && let Some(s) = select
            {
                *action = Some(Action::Select(s));
            }
        };
        if n.creators.is_empty() {
            ui.horizontal(|ui| {
                ui.add_space(ui.spacing().indent);
                row(ui);
            });
            return;
        }
        CollapsingState::load_with_default_open(ui.ctx(), id, depth < OPEN_LEVELS)
            .show_header(ui, row)
            .body(|ui| {
                for (i, c) in n.creators.iter().enumerate() {
                    self.creator_ui(ui, c, id.with(("by", i)), depth + 1, action);
                }
            });
    }
}
