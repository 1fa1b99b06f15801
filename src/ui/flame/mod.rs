//! The flame graph pane: which input and value it shows
//! ([`FlameSpec`]), the tree built for it (cached until the findings or
//! the spec change), the boxes the selection highlights, the header where
//! the choice is made, and the widget ([`graph`]).

mod graph;

use std::sync::Arc;

use egui::Ui;

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::flame_spec::{self, FlameSpec};
use crate::model::SnapshotData;
use crate::ui::export::ExportKind;
use crate::ui::state::{Action, ExportRequest, Selection};
use crate::ui::workspace::Workspace;

pub use graph::{FlameData, FlameView, flame_ui};

/// Width of the header's choices: file names are cut with "…" (the whole
/// name is in the list) so that the header fits a narrow pane.
const COMBO_WIDTH: f32 = 170.0;

/// The flame graph pane between frames.
#[derive(Default)]
pub struct FlamePane {
    /// What the flame graph shows; `None` with nothing to show.
    spec: Option<FlameSpec>,
    cache: Option<FlameCache>,
    view: FlameView,
}

/// The tree of one spec, and the boxes one selection highlights in it.
struct FlameCache {
    /// The workspace generation and the spec the tree was built for.
    key: (usize, FlameSpec),
    tree: Arc<FlameTree>,
    highlight_for: Option<Selection>,
    highlight: Vec<bool>,
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
        self.view.zoom = 0;
    }

    /// What the graph shows (input, value, group, compare), once findings are loaded.
    pub fn spec(&self) -> Option<&FlameSpec> {
        self.spec.as_ref()
    }

    /// The box shown full width (0: the root).
    pub fn zoom(&self) -> NodeId {
        self.view.zoom
    }

    /// Zooms to a box (0: the root), as Back and Forward replay it.
    pub fn set_zoom(&mut self, node: NodeId) {
        self.view.zoom = node;
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

    /// The header (input, value, comparison) and the graph.
    pub fn ui(&mut self, ui: &mut Ui, f: &FlameFrame<'_>, actions: &mut Vec<Action>) {
        // The header wraps rather than running past the pane (and pushing
        // the graph with it) where the pane is narrow.
        ui.horizontal_wrapped(|ui| self.header_ui(ui, f.ws, actions));
        self.refresh(f.ws, f.generation, f.selection);
        let Some(cache) = &self.cache else {
            return;
        };
        let unit = unit(f.ws, self.spec.as_ref());
        let data = FlameData {
            tree: &cache.tree,
            table: &f.ws.session.stacks,
            unit: &unit,
            highlight: &cache.highlight,
            search: f.search,
            upward: f.upward,
            names: f.names,
        };
        actions.extend(flame_ui(ui, &mut self.view, &data));
    }

    /// Choosing what the graph shows changes only this pane, at once.
    fn header_ui(&mut self, ui: &mut Ui, ws: &Workspace, actions: &mut Vec<Action>) {
        ui.strong("Flame graph");
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
    let Some(input) = spec.and_then(|s| ws.session.inputs.get(s.input)) else {
        return String::new();
    };
    let Some(s) = input.as_snapshot() else {
        // A trace: its goroutines when the window closed.
        return "goroutines".into();
    };
    match &s.data {
        SnapshotData::Goroutines(_) => "goroutines".into(),
        SnapshotData::Samples(p) => p
            .sample_types
            .get(spec.map_or(0, |f| flame_spec::value_index(s, f)))
            .map_or(String::new(), |v| ws.session.stacks.str(v.unit).to_owned()),
    }
}
