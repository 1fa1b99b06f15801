//! Functions of a flame graph as tables: self and total per function, as
//! `go tool pprof -top` lists them, and one function's callers and callees
//! (speedscope's "sandwich").
//!
//! Both are read off the [`FlameTree`] the graph draws, so the tables and
//! the boxes cannot disagree: whatever a [`super::flame_spec::FlameSpec`]
//! selects (an input, a value, a group, a focus) the table shows the same.

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::flame::{FlameTree, NodeId};
use crate::model::{FrameId, SampleProfile, StackTable, StrId};

/// One function's share of a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopEntry {
    /// The function's name; rows are per function, not per line, as `pprof
    /// -top` shows them.
    pub function: String,
    /// Value of samples where it is the innermost frame (its self value).
    pub flat: i64,
    /// Value of samples where it appears anywhere (counted once per sample):
    /// its total.
    pub cum: i64,
}

/// One function's row of the table of a flame tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionRow {
    /// The function (rows are per function, as the graph's boxes merge).
    pub function: StrId,
    /// The frame of its first box, for a file and line to show.
    pub frame: Option<FrameId>,
    /// Weight of the stacks that end in it.
    pub self_weight: u64,
    /// Weight of the stacks through it, each counted once however often
    /// it recurses: a share of the whole that never exceeds 100%.
    pub total: u64,
}

/// How a table of functions is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TopOrder {
    /// Heaviest self first, as `pprof -top`: where the weight sits.
    #[default]
    SelfWeight,
    /// Heaviest total first: what the weight passes through.
    Total,
    /// By name, to find a function.
    Name,
}

/// Walks a tree depth-first telling, for every box, whether an enclosing
/// box is of the same function: totals count only the outermost box of a
/// recursion, or a stack would count once per level.
fn for_each_box(tree: &FlameTree, mut f: impl FnMut(NodeId, bool)) {
    // (end of the subtree, function) of the boxes enclosing the current one.
    let mut open: Vec<(usize, StrId)> = Vec::new();
    let mut on_path: FxHashMap<StrId, u32> = FxHashMap::default();
    for (i, n) in tree.nodes.iter().enumerate().skip(1) {
        while open.last().is_some_and(|&(end, _)| end <= i) {
            if let Some((_, g)) = open.pop()
                && let Some(c) = on_path.get_mut(&g)
            {
                *c -= 1;
            }
        }
        let count = on_path.entry(n.function).or_default();
        f(i, *count > 0);
        *count += 1;
        open.push((i + n.size as usize, n.function));
    }
}

/// Every function of a tree with its self and total weight, heaviest self
/// first (then total, then name).
pub fn functions(table: &StackTable, tree: &FlameTree) -> Vec<FunctionRow> {
    let mut rows: FxHashMap<StrId, FunctionRow> = FxHashMap::default();
    for_each_box(tree, |i, nested| {
        let n = &tree.nodes[i];
        let row = rows.entry(n.function).or_insert(FunctionRow {
            function: n.function,
            frame: n.frame,
            self_weight: 0,
            total: 0,
        });
        row.self_weight = row.self_weight.saturating_add(n.self_weight);
        if !nested {
            row.total = row.total.saturating_add(n.total);
        }
    });
    let mut rows: Vec<FunctionRow> = rows.into_values().collect();
    sort(table, &mut rows, TopOrder::SelfWeight);
    rows
}

/// Orders rows; ties go by name, so the order never depends on hashing.
pub fn sort(table: &StackTable, rows: &mut [FunctionRow], order: TopOrder) {
    let name = |r: &FunctionRow| table.str(r.function);
    rows.sort_by(|a, b| match order {
        TopOrder::SelfWeight => (b.self_weight, b.total)
            .cmp(&(a.self_weight, a.total))
            .then_with(|| name(a).cmp(name(b))),
        TopOrder::Total => (b.total, b.self_weight)
            .cmp(&(a.total, a.self_weight))
            .then_with(|| name(a).cmp(name(b))),
        TopOrder::Name => name(a).cmp(name(b)),
    });
}

/// Functions by flat value, then cumulative value, for one value column of
/// a sampled profile (what `inspect` lists under each profile): the rows of
/// its flame tree.
pub fn top_functions(
    table: &StackTable,
    profile: &SampleProfile,
    value_index: usize,
    limit: usize,
) -> Vec<TopEntry> {
    let stacks = profile.samples.iter().map(|s| {
        let v = s.values.get(value_index).copied().unwrap_or(0);
        (s.stack, u64::try_from(v).unwrap_or(0))
    });
    let tree = FlameTree::build(table, stacks);
    entries(table, &functions(table, &tree), limit)
}

/// The first `limit` rows as the JSON and text outputs print them.
pub fn entries(table: &StackTable, rows: &[FunctionRow], limit: usize) -> Vec<TopEntry> {
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    rows.iter()
        .take(limit)
        .map(|r| TopEntry {
            function: table.str(r.function).to_owned(),
            flat: int(r.self_weight),
            cum: int(r.total),
        })
        .collect()
}

/// One function between what calls it and what it calls.
#[derive(Clone, Debug, PartialEq)]
pub struct Sandwich {
    /// The function in the middle.
    pub function: StrId,
    /// The stacks up to the function, inverted: the function is the first
    /// box under the root, its callers below it, and so on outwards.
    pub callers: FlameTree,
    /// The stacks from the function down: the function first, then what it
    /// calls.
    pub callees: FlameTree,
}

/// Boxes (function and the frame shown), outermost first, and a weight.
type WeightedPath = (Vec<(StrId, Option<FrameId>)>, u64);

/// The callers and callees of `function` in `tree`. Each stack is cut at
/// its outermost call of the function, so a recursion's stacks count once
/// on both sides and both roots weigh the function's total.
pub fn sandwich(table: &StackTable, tree: &FlameTree, function: StrId) -> Sandwich {
    let mut outermost: Vec<NodeId> = Vec::new();
    for_each_box(tree, |i, nested| {
        if !nested && tree.nodes[i].function == function {
            outermost.push(i);
        }
    });
    let boxed = |i: NodeId| (tree.nodes[i].function, tree.nodes[i].frame);
    let callers: Vec<WeightedPath> = outermost
        .iter()
        .map(|&top| {
            let up: Vec<_> = tree
                .ancestry(top)
                .into_iter()
                .filter(|&a| a != 0)
                .map(boxed)
                .collect();
            (up, tree.nodes[top].total)
        })
        .collect();
    let callers = FlameTree::from_paths(table, callers.iter().map(|(p, w)| (p.as_slice(), *w)));
    Sandwich {
        function,
        callers,
        callees: tree.merge_subtrees(table, &outermost),
    }
}
