//! The flame graph pane: which input and value it shows
//! ([`FlameSpec`]), the tree built for it (cached until the findings or
//! the spec change), the boxes the selection highlights, the header where
//! the choice is made, and three views of the one tree: the graph
//! ([`graph`]), its functions as a table ([`table`], pprof's Top) and one
//! function between its callers and callees (speedscope's Sandwich), both
//! computed by [`crate::analysis::top`] from the tree the graph draws.

mod graph;
mod table;

use std::sync::Arc;

use egui::Ui;

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::flame_spec::{self, FlameSpec};
use crate::analysis::top::{self, FunctionRow, Sandwich, TopOrder};
use crate::model::{StackTable, StrId};
use crate::ui::export::ExportKind;
use crate::ui::state::{Action, ExportRequest, Selection};
use crate::ui::workspace::Workspace;

pub use graph::{FlameData, FlameView, flame_ui};

/// Width of the header's choices: file names are cut with "…" (the whole
/// name is in the list) so that the header fits a narrow pane.
const COMBO_WIDTH: f32 = 170.0;

/// The views of the pane's tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlameMode {
    /// The flame graph.
    #[default]
    Graph,
    /// Self and total per function.
    Top,
    /// One function's callers and callees.
    Sandwich,
}

/// The flame graph pane between frames.
#[derive(Default)]
pub struct FlamePane {
    /// What the flame graph shows; `None` with nothing to show.
    spec: Option<FlameSpec>,
    cache: Option<FlameCache>,
    view: FlameView,
    mode: FlameMode,
    order: TopOrder,
    /// The function the Sandwich shows; `None`: the default one.
    picked: Option<StrId>,
    /// Zoom of the Sandwich's two graphs.
    callers: FlameView,
    callees: FlameView,
}

/// The tree of one spec, and the boxes one selection highlights in it.
struct FlameCache {
    /// The workspace generation and the spec the tree was built for.
    key: (usize, FlameSpec),
    tree: Arc<FlameTree>,
    highlight_for: Option<Selection>,
    highlight: Vec<bool>,
    /// The Top table in an order, made when first shown.
    rows: Option<(TopOrder, Vec<FunctionRow>)>,
    /// The Sandwich of one function, made when first shown.
    sandwich: Option<Sandwich>,
}

/// What a frame of the pane is drawn from besides the pane itself.
pub struct FlameFrame<'a> {
    /// The session and its findings.
    pub ws: &'a Workspace,
    /// Bumped on every new workspace.
    pub generation: usize,
    /// The selection, highlighted in the graph.
    pub selection: Selection,
    /// Search text; matching boxes are marked.
    pub search: &'a str,
    /// Draw as an icicle (roots at the top) instead of a flame.
    pub upward: bool,
    /// How box labels name functions (short or full).
    pub names: crate::ui::names::Names,
}

impl FlamePane {
    /// Starts over on new findings: the default input, unzoomed.
    pub fn reset(&mut self, ws: &Workspace) {
        self.spec = flame_spec::default_input(&ws.session, &ws.analysis).map(FlameSpec::input);
        self.cache = None;
        self.view = FlameView::default();
    }

    /// Shows an input (its default value column), unzoomed.
    pub fn show_input(&mut self, input: usize) {
        self.spec = Some(FlameSpec::input(input));
        self.set_zoom(0);
    }

    /// The view shown: graph, Top or Sandwich.
    pub fn mode(&self) -> FlameMode {
        self.mode
    }

    /// Shows another view of the same tree (its zoom and pick stay).
    pub fn set_mode(&mut self, mode: FlameMode) {
        self.mode = mode;
    }

    /// The function picked for the Sandwich, if one was.
    pub fn picked(&self) -> Option<StrId> {
        self.picked
    }

    /// Picks a function for the Sandwich, unzoomed.
    pub fn pick(&mut self, function: Option<StrId>) {
        if self.picked != function {
            self.picked = function;
            self.callers = FlameView::default();
            self.callees = FlameView::default();
        }
    }

    /// The function of a box of the graph.
    pub fn function_of(&self, node: NodeId) -> Option<StrId> {
        let n = self.cache.as_ref()?.tree.nodes.get(node)?;
        (node != 0).then_some(n.function)
    }

    /// The part of the graph's width shown, `(left, width)` in shares of
    /// the whole (the zoomed box's unless the wheel zoomed).
    pub fn visible_range(&self) -> (f64, f64) {
        self.cache
            .as_ref()
            .map_or((0.0, 1.0), |c| self.view.visible(&c.tree))
    }

    /// The wheel's range, for the history to restore.
    pub fn wheel_range(&self) -> Option<(f64, f64)> {
        self.view.range
    }

    /// Zooms to a box, then to a range inside it (the history's places).
    pub fn set_view(&mut self, node: NodeId, range: Option<(f64, f64)>) {
        self.view.zoom = node;
        self.view.range = range;
    }

    /// What the graph shows (input, value, group, compare), once findings are loaded.
    pub fn spec(&self) -> Option<&FlameSpec> {
        self.spec.as_ref()
    }

    /// The box shown full width (0: the root).
    pub fn zoom(&self) -> NodeId {
        self.view.zoom
    }

    /// Shows a box across the width (a click, the breadcrumb, Back and
    /// Forward): the wheel's range goes.
    pub fn set_zoom(&mut self, node: NodeId) {
        self.set_view(node, None);
    }

    /// The tree shown, once [`FlamePane::refresh`]ed.
    pub fn tree(&self) -> Option<&Arc<FlameTree>> {
        self.cache.as_ref().map(|c| &c.tree)
    }

    /// Boxes the selection highlights, once [`FlamePane::refresh`]ed.
    pub fn highlighted(&self) -> Vec<NodeId> {
        self.cache.as_ref().map_or_else(Vec::new, |c| {
            c.highlight
                .iter()
                .enumerate()
                .filter(|(_, h)| **h)
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// Builds the tree when the findings or the spec changed, and the
    /// highlight when the selection did.
    pub fn refresh(&mut self, ws: &Workspace, generation: usize, selection: Selection) {
        let Some(spec) = self.spec.clone() else {
            self.cache = None;
            return;
        };
        let input = spec.input;
        let key = (generation, spec);
        if self.cache.as_ref().map(|c| &c.key) != Some(&key) {
            // A spec that no longer fits draws nothing rather than failing.
            let tree = flame_spec::build(&ws.session, &ws.analysis, &key.1).unwrap_or_default();
            let tree = Arc::new(tree);
            self.cache = Some(FlameCache {
                key,
                highlight: vec![false; tree.nodes.len()],
                tree,
                highlight_for: None,
                rows: None,
                sandwich: None,
            });
        }
        if let Some(cache) = &mut self.cache
            && cache.highlight_for != Some(selection)
        {
            cache.highlight = highlight(ws, &cache.tree, selection, input);
            cache.highlight_for = Some(selection);
        }
    }

    /// The group a flame box stands for: the growing, then largest, group
    /// whose stacks pass through it.
    pub fn group_of_node(&self, ws: &Workspace, node: NodeId) -> Option<usize> {
        let cache = self.cache.as_ref()?;
        let input = self.spec.as_ref()?.input;
        let mut best: Option<(bool, u64, usize)> = None;
        for s in &ws.analysis.suspects {
            let through = flame_spec::group_stacks(&ws.session, &ws.analysis, s.group, input)
                .into_iter()
                .any(|st| cache.tree.path_of(&ws.session.stacks, st).contains(&node));
            if through {
                let cand = (
                    s.growth.growing,
                    ws.analysis.groups[s.group].last_count(),
                    s.group,
                );
                if best.is_none_or(|b| (cand.0, cand.1) > (b.0, b.1)) {
                    best = Some(cand);
                }
            }
        }
        best.map(|b| b.2)
    }

    /// The graph as on screen (zoom, search, orientation), for export;
    /// as folded stacks with `folded`. Needs a [`FlamePane::refresh`].
    pub fn export_kind(&self, search: &str, upward: bool, folded: bool) -> Option<ExportKind> {
        let tree = Arc::clone(&self.cache.as_ref()?.tree);
        let zoom = self.view.zoom;
        if folded {
            return Some(ExportKind::Folded { tree, zoom });
        }
        let search = search.trim();
        Some(ExportKind::FlameView {
            tree,
            spec: self.spec.clone()?,
            zoom,
            search: (!search.is_empty())
                .then(|| regex::Regex::new(&format!("(?i){search}")).ok())
                .flatten(),
            upward,
        })
    }

    /// The Top table in the chosen order, made once per tree and order
    /// (needs a [`FlamePane::refresh`]).
    pub fn top_rows(&mut self, table: &StackTable) -> Option<&[FunctionRow]> {
        let order = self.order;
        let cache = self.cache.as_mut()?;
        if cache.rows.as_ref().map(|r| r.0) != Some(order) {
            let mut rows = match cache.rows.take() {
                Some((_, rows)) => rows,
                None => top::functions(table, &cache.tree),
            };
            top::sort(table, &mut rows, order);
            cache.rows = Some((order, rows));
        }
        cache.rows.as_ref().map(|r| r.1.as_slice())
    }

    /// The function the Sandwich shows: the one picked, else the selected
    /// group's leak site, else the heaviest self, whichever the graph has.
    pub fn sandwich_function(&mut self, ws: &Workspace, selection: Selection) -> Option<StrId> {
        let leak_site = selection.group().and_then(|g| {
            let s = ws.analysis.suspects.iter().find(|s| s.group == g)?;
            Some(ws.session.stacks.frame(s.leak_site?).function)
        });
        let picked = self.picked;
        let rows = self.top_rows(&ws.session.stacks)?;
        let has = |f: StrId| rows.iter().any(|r| r.function == f);
        [picked, leak_site]
            .into_iter()
            .flatten()
            .find(|&f| has(f))
            .or_else(|| {
                rows.iter()
                    .max_by_key(|r| r.self_weight)
                    .map(|r| r.function)
            })
    }

    /// The Sandwich of a function, made once per tree and function.
    fn sandwich(&mut self, table: &StackTable, function: StrId) -> Option<&Sandwich> {
        let cache = self.cache.as_mut()?;
        if cache.sandwich.as_ref().map(|s| s.function) != Some(function) {
            cache.sandwich = Some(top::sandwich(table, &cache.tree, function));
        }
        cache.sandwich.as_ref()
    }

    /// The header (input, value, comparison, view) and the view chosen.
    pub fn ui(&mut self, ui: &mut Ui, f: &FlameFrame<'_>, actions: &mut Vec<Action>) {
        // The header wraps rather than running past the pane (and pushing
        // the graph with it) where the pane is narrow.
        ui.horizontal_wrapped(|ui| self.header_ui(ui, f.ws, actions));
        self.refresh(f.ws, f.generation, f.selection);
        let unit = unit(f.ws, self.spec.as_ref());
        match self.mode {
            FlameMode::Graph => {
                let Some(cache) = &self.cache else {
                    return;
                };
                let data = FlameData {
                    tree: &cache.tree,
                    table: &f.ws.session.stacks,
                    unit: &unit,
                    highlight: &cache.highlight,
                    search: f.search,
                    upward: f.upward,
                    names: f.names,
                    id_salt: "flame-scroll",
                    click_hint: "click to zoom and select its stack group; Ctrl+wheel zooms here",
                    skip_root: false,
                };
                actions.extend(flame_ui(ui, &mut self.view, &data));
            }
            FlameMode::Top => self.top_ui(ui, f, &unit, actions),
            FlameMode::Sandwich => self.sandwich_ui(ui, f, &unit, actions),
        }
    }

    fn top_ui(&mut self, ui: &mut Ui, f: &FlameFrame<'_>, unit: &str, actions: &mut Vec<Action>) {
        let table = &f.ws.session.stacks;
        let picked = self.sandwich_function(f.ws, f.selection);
        let mut order = self.order;
        let Some(root_total) = self.tree().map(|t| t.root_total()) else {
            return;
        };
        let Some(rows) = self.top_rows(table) else {
            return;
        };
        let data = table::TableData {
            rows,
            table,
            unit,
            root_total,
            names: f.names,
            picked,
        };
        let click = table::top_ui(ui, &mut order, &data);
        self.order = order;
        match click {
            Some(table::RowClick::Pick(function)) => actions.push(Action::PickFunction(function)),
            Some(table::RowClick::Open(function)) => {
                actions.push(Action::PickFunction(function));
                self.mode = FlameMode::Sandwich;
            }
            None => {}
        }
    }

    /// The picked function's callers above it (a flame standing on it) and
    /// its callees below it (an icicle hanging from it). A click on a box
    /// picks that function instead.
    fn sandwich_ui(
        &mut self,
        ui: &mut Ui,
        f: &FlameFrame<'_>,
        unit: &str,
        actions: &mut Vec<Action>,
    ) {
        let table = &f.ws.session.stacks;
        let Some(function) = self.sandwich_function(f.ws, f.selection) else {
            ui.weak("Nothing to show: the selected input has no stacks with weight.");
            return;
        };
        let full = table.str(function);
        let root_total = self.tree().map_or(0, |t| t.root_total());
        let row = self
            .top_rows(table)
            .and_then(|rows| rows.iter().find(|r| r.function == function).copied());
        ui.horizontal_wrapped(|ui| {
            ui.label("callers and callees of");
            ui.strong(f.names.function(full)).on_hover_text(full);
            if let Some(r) = row {
                let share = r.total as f64 / root_total.max(1) as f64 * 100.0;
                ui.weak(format!(
                    "total {} ({share:.1}%), self {}",
                    graph::format_weight(r.total, unit),
                    graph::format_weight(r.self_weight, unit)
                ));
            }
        });
        self.sandwich(table, function);
        let FlamePane {
            cache,
            callers,
            callees,
            ..
        } = self;
        let Some(sw) = cache.as_ref().and_then(|c| c.sandwich.as_ref()) else {
            return;
        };
        let full_rect = ui.available_rect_before_wrap();
        // The callees get the rows they need (up to what the callers need
        // of the rest, at most 40%); the callers stand on the function
        // with whatever is left above them, as a flame graph does.
        let need = |t: &FlameTree| 28.0 + t.max_depth.max(1) as f32 * graph::MAX_ROW_HEIGHT;
        let h = full_rect.height();
        let callers_least = need(&sw.callers).min(h * 0.4);
        let split = (h - need(&sw.callees).min(h - callers_least)).floor();
        let parts = [
            (&sw.callers, callers, true, "flame-callers", 0.0, split),
            (
                &sw.callees,
                callees,
                false,
                "flame-callees",
                split,
                h - split,
            ),
        ];
        for (tree, view, upward, id_salt, top, height) in parts {
            let rect = egui::Rect::from_min_size(
                full_rect.min + egui::vec2(0.0, top),
                egui::vec2(full_rect.width(), height - 2.0),
            );
            let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect).id_salt(id_salt));
            child.set_clip_rect(rect.intersect(ui.clip_rect()));
            child.weak(if upward {
                "callers: what calls it, outwards going up"
            } else {
                "callees: what it calls"
            });
            let data = FlameData {
                tree,
                table,
                unit,
                highlight: &[],
                search: f.search,
                upward,
                names: f.names,
                id_salt,
                click_hint: "click to show this function's callers and callees",
                skip_root: true,
            };
            match flame_ui(&mut child, view, &data) {
                Some(Action::FlameClicked(n)) if n != 0 => {
                    actions.push(Action::PickFunction(tree.nodes[n].function));
                }
                Some(Action::FlameClicked(n) | Action::FlameZoom(n)) => view.set_zoom(n),
                _ => {}
            }
        }
        ui.advance_cursor_after_rect(full_rect);
    }

    /// Choosing what the graph shows changes only this pane, at once.
    fn header_ui(&mut self, ui: &mut Ui, ws: &Workspace, actions: &mut Vec<Action>) {
        ui.strong("Flame graph");
        for (mode, text, hover) in [
            (FlameMode::Graph, "Graph", "the flame graph"),
            (
                FlameMode::Top,
                "Top",
                "self and total per function, as pprof's top",
            ),
            (
                FlameMode::Sandwich,
                "Sandwich",
                "one function's callers and callees (pick it in Top or click its box)",
            ),
        ] {
            if ui
                .selectable_label(self.mode == mode, text)
                .on_hover_text(hover)
                .clicked()
            {
                self.mode = mode;
            }
        }
        if ui
            .small_button("Export SVG…")
            .on_hover_text("the flame graph as shown: zoom, search and all")
            .clicked()
        {
            actions.push(Action::Export(ExportRequest::FlameView));
        }
        self.input_combo_ui(ui, ws);
        let Some(spec) = &mut self.spec else {
            return;
        };
        value_combo_ui(ui, ws, spec);
        compare_combo_ui(ui, ws, spec);
    }

    fn input_combo_ui(&mut self, ui: &mut Ui, ws: &Workspace) {
        let inputs = &ws.session.inputs;
        // Snapshots first, then traces (their goroutines at the end).
        let choices = (0..inputs.len())
            .filter(|&i| inputs[i].as_snapshot().is_some())
            .chain((0..inputs.len()).filter(|&i| inputs[i].as_trace().is_some()));
        let input = self.spec.as_ref().map(|f| f.input);
        let current = input.map_or("—".to_owned(), |i| input_name(ws, i));
        let mut chosen = None;
        egui::ComboBox::new("flame-input", "input")
            .selected_text(current)
            .width(COMBO_WIDTH)
            .truncate()
            .show_ui(ui, |ui| {
                for i in choices {
                    if ui
                        .selectable_label(input == Some(i), input_name(ws, i))
                        .clicked()
                    {
                        chosen = Some(i);
                    }
                }
            });
        if let Some(i) = chosen {
            self.show_input(i);
        }
    }
}

/// The value column of a sampled profile with more than one.
fn value_combo_ui(ui: &mut Ui, ws: &Workspace, spec: &mut FlameSpec) {
    let Some(s) = ws.session.inputs[spec.input].as_snapshot() else {
        return;
    };
    let Some(p) = s.samples().filter(|p| p.sample_types.len() > 1) else {
        return;
    };
    let t = &ws.session.stacks;
    let label = |i: usize| t.str(p.sample_types[i].kind).to_owned();
    let shown = flame_spec::value_index(s, spec);
    egui::ComboBox::new("flame-value", "value")
        .selected_text(label(shown))
        .width(COMBO_WIDTH * 0.7)
        .truncate()
        .show_ui(ui, |ui| {
            for i in 0..p.sample_types.len() {
                if ui.selectable_label(shown == i, label(i)).clicked() {
                    spec.value_index = Some(i);
                }
            }
        });
}

/// Growth since another snapshot, as a differential graph.
fn compare_combo_ui(ui: &mut Ui, ws: &Workspace, spec: &mut FlameSpec) {
    let series: Vec<usize> = ws.analysis.series.iter().map(|p| p.input).collect();
    if series.len() < 2 || !series.contains(&spec.input) {
        return;
    }
    let compare = spec.compare.map_or("compare with…".to_owned(), |c| {
        format!("vs {}", input_name(ws, c))
    });
    egui::ComboBox::new("flame-compare", "diff")
        .selected_text(compare)
        .width(COMBO_WIDTH)
        .truncate()
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut spec.compare, None, "no comparison");
            for &i in series.iter().filter(|&&i| i != spec.input) {
                ui.selectable_value(
                    &mut spec.compare,
                    Some(i),
                    format!("growth since {}", input_name(ws, i)),
                );
            }
        });
}

/// An input by its file name and what it holds.
fn input_name(ws: &Workspace, i: usize) -> String {
    let s = ws.session.inputs[i].source();
    let file = s.path.rsplit('/').next().unwrap_or(&s.path).to_owned();
    match &s.profile_type {
        Some(p) => format!("{file} ({})", p.name()),
        None if ws.session.inputs[i].as_trace().is_some() => {
            format!("{file} (goroutines at its end)")
        }
        None => file,
    }
}

/// The boxes on the selected goroutines' stacks (and the root) in `tree`.
fn highlight(ws: &Workspace, tree: &FlameTree, selection: Selection, input: usize) -> Vec<bool> {
    let mut out = vec![false; tree.nodes.len()];
    let stacks = match selection {
        Selection::None => Vec::new(),
        Selection::Group(g) => flame_spec::group_stacks(&ws.session, &ws.analysis, g, input),
        Selection::TraceGroup(i) => ws
            .trace
            .as_ref()
            .and_then(|t| t.analysis.leaks.get(i))
            .map(|l| vec![l.blocking_stack, l.start_stack])
            .unwrap_or_default(),
    };
    for stack in stacks {
        for n in tree.path_of(&ws.session.stacks, stack) {
            out[n] = true;
        }
    }
    if selection != Selection::None
        && let Some(h) = out.first_mut()
    {
        *h = true;
    }
    out
}

/// The unit of the weights shown.
fn unit(ws: &Workspace, spec: Option<&FlameSpec>) -> String {
    spec.map_or(String::new(), |s| flame_spec::unit(&ws.session, s))
}
