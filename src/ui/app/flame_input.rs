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

    /// The flame tree shown (for tests and exports).
    pub fn flame_tree(&mut self) -> Option<Arc<FlameTree>> {
        self.refresh_flame();
        self.flame_cache.as_ref().map(|c| Arc::clone(&c.tree))
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
        let (Some(ws), Some(spec)) = (self.workspace.clone(), self.flame.clone()) else {
            self.flame_cache = None;
            return;
        };
        let key = (self.generation, spec);
        if self.flame_cache.as_ref().map(|c| &c.key) != Some(&key) {
            // A spec that no longer fits draws nothing rather than failing.
            let tree = flame_spec::build(&ws.session, &ws.analysis, &key.1).unwrap_or_default();
            let tree = Arc::new(tree);
            self.flame_cache = Some(FlameCache {
                key,
                highlight: vec![false; tree.nodes.len()],
                tree,
                highlight_for: None,
            });
        }
        let sel = self.selection;
        let input = self.flame.as_ref().map(|f| f.input);
        if let Some(cache) = &mut self.flame_cache
            && cache.highlight_for != Some(sel)
        {
            cache.highlight = vec![false; cache.tree.nodes.len()];
            let stacks = match (sel, input) {
                (Selection::None, _) | (_, None) => Vec::new(),
                (Selection::Group(g), Some(i)) => {
                    flame_spec::group_stacks(&ws.session, &ws.analysis, g, i)
                }
                (Selection::TraceGroup(i), _) => ws
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
        let input = self.flame.as_ref()?.input;
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
            let input = self.flame.as_ref().map(|f| f.input);
            let current = input.map_or("—".to_owned(), name);
            egui::ComboBox::new("flame-input", "input")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for &i in &choices {
                        if ui.selectable_label(input == Some(i), name(i)).clicked() {
                            self.flame = Some(FlameSpec::input(i));
                            self.flame_view.zoom = 0;
                        }
                    }
                });
            let Some(spec) = &mut self.flame else {
                return;
            };
            let snapshot = ws.session.inputs[spec.input].as_snapshot();
            if let Some(s) = snapshot
                && let Some(p) = s.samples()
                && p.sample_types.len() > 1
            {
                let t = &ws.session.stacks;
                let label = |i: usize| t.str(p.sample_types[i].kind).to_owned();
                let shown = flame_spec::value_index(s, spec);
                egui::ComboBox::new("flame-value", "value")
                    .selected_text(label(shown))
                    .show_ui(ui, |ui| {
                        for i in 0..p.sample_types.len() {
                            if ui.selectable_label(shown == i, label(i)).clicked() {
                                spec.value_index = Some(i);
                            }
                        }
                    });
            }
            let series: Vec<usize> = ws.analysis.series.iter().map(|p| p.input).collect();
            if series.len() >= 2 && series.contains(&spec.input) {
                let compare = spec
                    .compare
                    .map_or("compare with…".to_owned(), |c| format!("vs {}", name(c)));
                egui::ComboBox::new("flame-compare", "diff")
                    .selected_text(compare)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut spec.compare, None, "no comparison");
                        for &i in series.iter().filter(|&&i| i != spec.input) {
                            ui.selectable_value(
                                &mut spec.compare,
                                Some(i),
                                format!("growth since {}", name(i)),
                            );
                        }
                    });
            }
        });
    }
}

pub(super) fn flame_unit(ws: &Workspace, spec: Option<&FlameSpec>) -> String {
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
