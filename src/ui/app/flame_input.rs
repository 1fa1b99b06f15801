//! What the flame graph shows: the input and sample type chosen, the tree
//! built from it (cached), the boxes the selection highlights and the
//! header where the choice is made.

use super::*;

impl LeakscopeApp {
    /// Flame graph boxes highlighted for the selection (for tests).
    pub fn highlighted_flame_nodes(&mut self) -> Vec<NodeId> {
        self.refresh_flame();
        self.flame_cache
            .as_ref()
            .map(|c| {
                c.highlight
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| **h)
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The total weight of the flame graph shown (for tests).
    pub fn flame_root_total(&mut self) -> u64 {
        self.refresh_flame();
        self.flame_cache.as_ref().map_or(0, |c| c.tree.root_total())
    }

    /// The function names of the highlighted flame boxes (for tests).
    pub fn highlighted_flame_functions(&mut self) -> Vec<String> {
        let nodes = self.highlighted_flame_nodes();
        match (&self.flame_cache, &self.workspace) {
            (Some(c), Some(ws)) => nodes
                .into_iter()
                .filter(|&n| n != 0)
                .map(|n| ws.session.stacks.str(c.tree.nodes[n].function).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn refresh_flame(&mut self) {
        let Some(ws) = self.workspace.clone() else {
            self.flame_cache = None;
            return;
        };
        let key = (self.generation, self.flame);
        if self.flame_cache.as_ref().map(|c| c.key) != Some(key) {
            let tree = Arc::new(build_flame(&ws, self.flame));
            self.flame_cache = Some(FlameCache {
                key,
                highlight: vec![false; tree.nodes.len()],
                tree,
                highlight_for: None,
            });
        }
        let sel = self.selection;
        if let Some(cache) = &mut self.flame_cache
            && cache.highlight_for != Some(sel)
        {
            cache.highlight = vec![false; cache.tree.nodes.len()];
            let stacks = match sel {
                Selection::None => Vec::new(),
                Selection::Group(g) => group_stacks_in(&ws, g, self.flame.input),
                Selection::TraceGroup(i) => ws
                    .trace
                    .as_ref()
                    .and_then(|t| t.analysis.leaks.get(i))
                    .map(|l| vec![l.blocking_stack, l.start_stack])
                    .unwrap_or_default(),
            };
            for stack in stacks {
                for n in cache.tree.path_of(&ws.session.stacks, stack) {
                    cache.highlight[n] = true;
                }
            }
            if sel != Selection::None
                && let Some(h) = cache.highlight.first_mut()
            {
                *h = true;
            }
            cache.highlight_for = Some(sel);
        }
    }

    /// The group a flame box stands for: the growing, then largest, group
    /// whose stacks pass through it.
    pub(super) fn group_of_flame_node(&self, node: NodeId) -> Option<usize> {
        let ws = self.workspace.as_ref()?;
        let cache = self.flame_cache.as_ref()?;
        let mut best: Option<(bool, u64, usize)> = None;
        for s in &ws.analysis.suspects {
            let through = group_stacks_in(ws, s.group, self.flame.input)
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

    pub(super) fn flame_header_ui(&mut self, ui: &mut Ui, ws: &Workspace) {
        ui.horizontal(|ui| {
            ui.strong("Flame graph");
            if ui
                .small_button("Export SVG…")
                .on_hover_text("the flame graph as shown: zoom, search and all")
                .clicked()
                && let Some(k) = self.flame_view_export()
            {
                self.start_export(k);
            }
            let name = |i: usize| {
                let s = ws.session.inputs[i].source();
                let file = s.path.rsplit('/').next().unwrap_or(&s.path).to_owned();
                match &s.profile_type {
                    Some(p) => format!("{file} ({})", p.name()),
                    None if ws.session.inputs[i].as_trace().is_some() => {
                        format!("{file} (goroutines at its end)")
                    }
                    None => file,
                }
            };
            // Snapshots first, then traces (their goroutines at the end).
            let choices: Vec<usize> = (0..ws.session.inputs.len())
                .filter(|&i| ws.session.inputs[i].as_snapshot().is_some())
                .chain(
                    (0..ws.session.inputs.len())
                        .filter(|&i| ws.session.inputs[i].as_trace().is_some()),
                )
                .collect();
            let current = self.flame.input.map_or("—".to_owned(), name);
            egui::ComboBox::new("flame-input", "input")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for &i in &choices {
                        if ui
                            .selectable_label(self.flame.input == Some(i), name(i))
                            .clicked()
                        {
                            self.flame = FlameChoice {
                                input: Some(i),
                                value: 0,
                                compare: None,
                            };
                            self.flame_view.zoom = 0;
                        }
                    }
                });
            if let Some(p) = self
                .flame
                .input
                .and_then(|i| ws.session.inputs[i].as_snapshot())
                .and_then(Snapshot::samples)
                && p.sample_types.len() > 1
            {
                let t = &ws.session.stacks;
                let label = |i: usize| t.str(p.sample_types[i].kind).to_owned();
                egui::ComboBox::new("flame-value", "value")
                    .selected_text(label(self.flame.value.min(p.sample_types.len() - 1)))
                    .show_ui(ui, |ui| {
                        for i in 0..p.sample_types.len() {
                            ui.selectable_value(&mut self.flame.value, i, label(i));
                        }
                    });
            }
            let goroutine_inputs: Vec<usize> = ws.analysis.series.iter().map(|p| p.input).collect();
            if goroutine_inputs.len() >= 2
                && self
                    .flame
                    .input
                    .is_some_and(|i| goroutine_inputs.contains(&i))
            {
                let compare = self
                    .flame
                    .compare
                    .map_or("compare with…".to_owned(), |c| format!("vs {}", name(c)));
                egui::ComboBox::new("flame-compare", "diff")
                    .selected_text(compare)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.flame.compare, None, "no comparison");
                        for &i in &goroutine_inputs {
                            if Some(i) != self.flame.input {
                                ui.selectable_value(
                                    &mut self.flame.compare,
                                    Some(i),
                                    format!("growth since {}", name(i)),
                                );
                            }
                        }
                    });
            }
        });
    }
}

pub(super) fn default_flame_input(ws: &Workspace) -> Option<usize> {
    let inputs = &ws.session.inputs;
    ws.analysis
        .series
        .last()
        .map(|p| p.input)
        .or_else(|| (0..inputs.len()).find(|&i| inputs[i].as_snapshot().is_some()))
        .or_else(|| (0..inputs.len()).find(|&i| inputs[i].as_trace().is_some()))
}

fn build_flame(ws: &Workspace, choice: FlameChoice) -> FlameTree {
    let snap = |i: Option<usize>| {
        i.and_then(|i| ws.session.inputs.get(i))
            .and_then(|x| x.as_snapshot())
    };
    if let Some(t) = choice
        .input
        .and_then(|i| ws.session.inputs.get(i))
        .and_then(|x| x.as_trace())
    {
        return FlameTree::build(&ws.session.stacks, analysis::trace::stacks_at_end(t));
    }
    let Some(s) = snap(choice.input) else {
        return FlameTree::default();
    };
    let now = FlameTree::snapshot_weights(s, choice.value);
    match snap(choice.compare) {
        Some(base) => FlameTree::build_diff(
            &ws.session.stacks,
            FlameTree::snapshot_weights(base, choice.value),
            now,
        ),
        None => FlameTree::build(&ws.session.stacks, now),
    }
}

pub(super) fn flame_unit(ws: &Workspace, choice: FlameChoice) -> String {
    if choice
        .input
        .and_then(|i| ws.session.inputs.get(i))
        .is_some_and(|x| x.as_trace().is_some())
    {
        return "goroutines".into();
    }
    let Some(s) = choice
        .input
        .and_then(|i| ws.session.inputs.get(i))
        .and_then(|x| x.as_snapshot())
    else {
        return String::new();
    };
    match &s.data {
        SnapshotData::Goroutines(_) => "goroutines".into(),
        SnapshotData::Samples(p) => p
            .sample_types
            .get(choice.value)
            .map_or(String::new(), |v| ws.session.stacks.str(v.unit).to_owned()),
    }
}

/// Stacks of a group's goroutines in one input (all of them if the input is
/// not part of the series).
fn group_stacks_in(
    ws: &Workspace,
    group: usize,
    input: Option<usize>,
) -> Vec<crate::model::StackId> {
    let Some(g) = ws.analysis.groups.get(group) else {
        return Vec::new();
    };
    let series = input.and_then(|i| ws.analysis.series.iter().position(|p| p.input == i));
    let snaps = ws.analysis.series_snapshots(&ws.session);
    let mut out: Vec<crate::model::StackId> = match series {
        Some(si) => ws
            .analysis
            .records_of(group, si)
            .filter_map(|r| record_stack(snaps.get(si)?, r))
            .collect(),
        None => Vec::new(),
    };
    out.push(g.stack);
    out.sort_unstable();
    out.dedup();
    out
}

fn record_stack(s: &Snapshot, record: usize) -> Option<crate::model::StackId> {
    match &s.data {
        SnapshotData::Goroutines(gs) => gs.get(record).map(|g| g.stack),
        SnapshotData::Samples(p) => p.samples.get(record).map(|x| x.stack),
    }
}
