//! The flame graph as data: a tree of frames weighted by goroutines,
//! samples, bytes or delay, laid out in `0..1`, shared by the app and the
//! SVG export so both show the same boxes.
//!
//! Boxes merge by function name under the same parent, as flame graphs do
//! (two call sites of one function in one caller are one box); children are
//! ordered by name, so the layout is deterministic and two snapshots line up
//! side by side. Nodes are stored in depth-first order, so a subtree is a
//! contiguous range and drawing or searching it is a slice walk.

use rustc_hash::{FxHashMap, FxHashSet};

use super::frames::{self, FrameClass};
use super::palette;
use crate::model::{FrameId, Snapshot, SnapshotData, StackId, StackTable, StrId};

/// Index of a node in [`FlameTree::nodes`]; 0 is the root (all stacks).
pub type NodeId = usize;

/// One box of the flame graph.
#[derive(Clone, Debug, PartialEq)]
pub struct FlameNode {
    /// Function of the box; `StrId::EMPTY` for the root.
    pub function: StrId,
    /// The first frame merged into the box, for its file and line.
    pub frame: Option<FrameId>,
    /// The enclosing box (the root is its own parent), for walking up to zoom
    /// out.
    pub parent: NodeId,
    /// 0 for the root, 1 for outermost frames.
    pub depth: u32,
    /// Weight of every stack through this box.
    pub total: u64,
    /// Weight of stacks that end here.
    pub self_weight: u64,
    /// The same measures in the baseline of a differential tree (0 otherwise).
    pub base_total: u64,
    /// Left edge in `0..1` of the root's width.
    pub x: f64,
    /// Nodes in this subtree, itself included: it spans `id..id + size`.
    pub size: u32,
}

impl FlameNode {
    /// Width in `0..1` of the root's width.
    pub fn width(&self, root_total: u64) -> f64 {
        if root_total == 0 {
            0.0
        } else {
            self.total as f64 / root_total as f64
        }
    }
}

/// A laid-out flame graph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlameTree {
    /// Every box, depth-first: a subtree is the contiguous range `id..id +
    /// size`.
    pub nodes: Vec<FlameNode>,
    /// The tree compares a baseline (`base_total`) with a newer set (`total`).
    pub differential: bool,
    /// Deepest node depth.
    pub max_depth: u32,
    /// The kind of code of every box and its colour
    /// ([`palette::frame_color`]), computed once with the tree, per
    /// function: the app draws boxes in these colours and the SVG export
    /// gives inferno the same ones, so a box looks the same on screen and
    /// in the file.
    pub styles: Vec<(FrameClass, palette::Rgb)>,
}

/// Weight of one stack in a baseline and a current set.
#[derive(Copy, Clone, Debug, Default)]
struct Weights {
    base: u64,
    now: u64,
}

impl Weights {
    /// Sampled profiles' values are any i64, so sums saturate.
    fn add(&mut self, w: Weights) {
        self.base = self.base.saturating_add(w.base);
        self.now = self.now.saturating_add(w.now);
    }
}

/// "No node" in the links of [`Trie`].
const NONE: u32 = u32::MAX;

/// One box of [`Trie`] before layout.
struct RawBox {
    function: StrId,
    frame: Option<FrameId>,
    depth: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    /// Weight of stacks ending here; after [`Trie::accumulate_totals`], through here.
    w: Weights,
    own: Weights,
}

impl RawBox {
    fn new(function: StrId, frame: Option<FrameId>, depth: u32, parent: u32) -> RawBox {
        RawBox {
            function,
            frame,
            depth,
            parent,
            first_child: NONE,
            next_sibling: NONE,
            w: Weights::default(),
            own: Weights::default(),
        }
    }
}

/// The boxes before layout: an unordered trie keyed by (parent, function),
/// in flat arrays with children as linked lists, so no box allocates.
/// Building it is the part that scales with the input, so it walks the
/// stack table's own prefix tree instead of every frame of every stack.
struct Trie {
    raw: Vec<RawBox>,
    /// The box of each (parent box, function), unless every function has one frame.
    index: FxHashMap<(u32, StrId), u32>,
    /// The box every stack-table node was mapped to, `NONE` before it is:
    /// shared prefixes are walked once, not once per stack.
    memo: Vec<u32>,
    /// Where every function has a single frame (folded stacks, which carry
    /// no lines), distinct stack nodes never merge into one box: siblings
    /// differ by frame, so by function, and parents never merge. Then the
    /// stack table's tree is the flame tree and `index` can be skipped.
    one_frame_per_function: bool,
    /// Scratch for the unmapped tail of a stack, reused between stacks.
    chain: Vec<StackId>,
}

impl Trie {
    fn new(table: &StackTable) -> Trie {
        // Boxes never outnumber the stack table's nodes; reserving that
        // (address space, touched only as boxes are added) saves copying
        // a growing million-box vector.
        let mut raw = Vec::with_capacity(table.stack_count().min(1 << 24));
        raw.push(RawBox::new(StrId::EMPTY, None, 0, 0));
        let one_frame_per_function = {
            let mut seen: FxHashSet<StrId> = FxHashSet::default();
            table
                .frame_ids()
                .all(|f| seen.insert(table.frame(f).function))
        };
        Trie {
            raw,
            index: FxHashMap::default(),
            memo: vec![NONE; table.stack_count()],
            one_frame_per_function,
            chain: Vec::new(),
        }
    }

    /// Adds `w` to the box where `stack` ends, creating the boxes of the
    /// part of it no earlier stack went through.
    fn insert(&mut self, table: &StackTable, stack: StackId, w: Weights) {
        self.chain.clear();
        let mut s = stack;
        while !s.is_empty() && self.memo.get(s.index()).is_some_and(|&m| m == NONE) {
            self.chain.push(s);
            s = table.parent(s);
        }
        let mut at = if s.is_empty() {
            0
        } else {
            self.memo.get(s.index()).copied().unwrap_or(0)
        };
        for &s in self.chain.iter().rev() {
            let frame = table.leaf(s);
            let function = frame.map_or(StrId::EMPTY, |f| table.frame(f).function);
            let raw = &mut self.raw;
            let next = if self.one_frame_per_function {
                Self::add_child(raw, at, function, frame)
            } else {
                *self
                    .index
                    .entry((at, function))
                    .or_insert_with(|| Self::add_child(raw, at, function, frame))
            };
            self.memo[s.index()] = next;
            at = next;
        }
        self.raw[at as usize].own.add(w);
    }

    /// A trie fed with paths of boxes instead of stacks of a table: the
    /// sandwich's callers and callees are paths no stack of the table
    /// spells, so they merge by (parent, function) only.
    fn for_paths() -> Trie {
        Trie {
            raw: vec![RawBox::new(StrId::EMPTY, None, 0, 0)],
            index: FxHashMap::default(),
            memo: Vec::new(),
            one_frame_per_function: false,
            chain: Vec::new(),
        }
    }

    /// Adds `w` to the box where `path` (outermost first) ends.
    fn insert_path(&mut self, path: &[(StrId, Option<FrameId>)], w: u64) {
        let mut at = 0;
        for &(function, frame) in path {
            at = self.child(at, function, frame);
        }
        self.add_own(at, w);
    }

    /// The box of `function` under `at`, made if there is none.
    fn child(&mut self, at: u32, function: StrId, frame: Option<FrameId>) -> u32 {
        let raw = &mut self.raw;
        *self
            .index
            .entry((at, function))
            .or_insert_with(|| Self::add_child(raw, at, function, frame))
    }

    fn add_own(&mut self, at: u32, w: u64) {
        self.raw[at as usize].own.add(Weights { base: 0, now: w });
    }

    /// A new box under `parent`, linked in front of its siblings.
    fn add_child(
        raw: &mut Vec<RawBox>,
        parent: u32,
        function: StrId,
        frame: Option<FrameId>,
    ) -> u32 {
        let n = raw.len() as u32;
        let p = &mut raw[parent as usize];
        let (depth, sibling) = (p.depth + 1, p.first_child);
        p.first_child = n;
        let mut child = RawBox::new(function, frame, depth, parent);
        child.next_sibling = sibling;
        raw.push(child);
        n
    }

    /// Every box's weight through it. Children come after their parents,
    /// so one backward pass accumulates them.
    fn accumulate_totals(&mut self) {
        for r in &mut self.raw {
            r.w = r.own;
        }
        for i in (1..self.raw.len()).rev() {
            let (p, w) = (self.raw[i].parent as usize, self.raw[i].w);
            self.raw[p].w.add(w);
        }
    }

    /// The boxes depth-first, children by name, each at its left edge in
    /// `0..1`, with the deepest depth. Own weight comes before the
    /// children, as inferno lays them out, so the app and the exported SVG
    /// put every box in one place.
    fn lay_out(&self, rank: &[u32]) -> (Vec<FlameNode>, u32) {
        let raw = &self.raw;
        let root_total = raw[0].w.now.max(1);
        let mut nodes: Vec<FlameNode> = Vec::with_capacity(raw.len());
        let mut max_depth = 0;
        // (raw id, new parent id, x)
        let mut todo: Vec<(u32, usize, f64)> = vec![(0, 0, 0.0)];
        let mut kids: Vec<u32> = Vec::new();
        let mut placed: Vec<(u32, f64)> = Vec::new();
        while let Some((r, parent, x)) = todo.pop() {
            let id = nodes.len();
            let node = &raw[r as usize];
            max_depth = max_depth.max(node.depth);
            nodes.push(FlameNode {
                function: node.function,
                frame: node.frame,
                parent,
                depth: node.depth,
                total: node.w.now,
                self_weight: node.own.now,
                base_total: node.w.base,
                x,
                size: 1,
            });
            kids.clear();
            let mut c = node.first_child;
            while c != NONE {
                kids.push(c);
                c = raw[c as usize].next_sibling;
            }
            kids.sort_unstable_by_key(|&c| {
                rank.get(raw[c as usize].function.index())
                    .copied()
                    .unwrap_or(0)
            });
            // Push children in reverse so the first is laid out first.
            let mut cx = x + node.own.now as f64 / root_total as f64;
            placed.clear();
            for &c in &kids {
                placed.push((c, cx));
                cx += raw[c as usize].w.now as f64 / root_total as f64;
            }
            todo.extend(placed.iter().rev().map(|&(c, cx)| (c, id, cx)));
        }
        (nodes, max_depth)
    }
}

/// The alphabetical rank of every function name in `raw`, indexed by
/// string id. Names are ranked once, so sorting a million boxes by name
/// compares integers.
fn name_ranks(table: &StackTable, raw: &[RawBox]) -> Vec<u32> {
    let mut rank: Vec<u32> = vec![0; table.strings().len()];
    let mut distinct: Vec<StrId> = Vec::new();
    for r in raw {
        if let Some(slot) = rank.get_mut(r.function.index())
            && *slot == 0
        {
            *slot = 1;
            distinct.push(r.function);
        }
    }
    distinct.sort_unstable_by(|&a, &b| table.str(a).cmp(table.str(b)));
    for (i, f) in distinct.iter().enumerate() {
        rank[f.index()] = i as u32;
    }
    rank
}

impl FlameTree {
    /// A tree of stacks with their weights (repeated stacks add up).
    pub fn build(
        table: &StackTable,
        stacks: impl IntoIterator<Item = (StackId, u64)>,
    ) -> FlameTree {
        let mut by_stack: FxHashMap<StackId, Weights> = FxHashMap::default();
        for (s, w) in stacks {
            let e = by_stack.entry(s).or_default();
            e.now = e.now.saturating_add(w);
        }
        Self::from_weights(table, by_stack, false).colored(table)
    }

    /// A differential tree: widths are `now`, and every node also carries
    /// its baseline weight, so growth can be coloured.
    pub fn build_diff(
        table: &StackTable,
        base: impl IntoIterator<Item = (StackId, u64)>,
        now: impl IntoIterator<Item = (StackId, u64)>,
    ) -> FlameTree {
        let mut by_stack: FxHashMap<StackId, Weights> = FxHashMap::default();
        for (s, w) in base {
            let e = by_stack.entry(s).or_default();
            e.base = e.base.saturating_add(w);
        }
        for (s, w) in now {
            let e = by_stack.entry(s).or_default();
            e.now = e.now.saturating_add(w);
        }
        Self::from_weights(table, by_stack, true).colored(table)
    }

    /// Fills [`FlameTree::styles`]: a function's kind of code is that of
    /// the first box's frame, so every box of one function has one colour.
    fn colored(mut self, table: &StackTable) -> FlameTree {
        let mut by_function: FxHashMap<StrId, (FrameClass, palette::Rgb)> = FxHashMap::default();
        self.styles = self
            .nodes
            .iter()
            .map(|n| {
                *by_function
                    .entry(n.function)
                    .or_insert_with(|| match n.frame {
                        Some(f) => {
                            let class = frames::classify(table, f);
                            (class, palette::frame_color(table.str(n.function), class))
                        }
                        None => (FrameClass::Runtime, palette::NO_STACK),
                    })
            })
            .collect();
        self
    }

    /// The weighted stacks of a snapshot: goroutine counts, or one value
    /// column of a sampled profile (negative values count as 0).
    pub fn snapshot_weights(snapshot: &Snapshot, value_index: usize) -> Vec<(StackId, u64)> {
        match &snapshot.data {
            SnapshotData::Goroutines(gs) => gs.iter().map(|g| (g.stack, g.count)).collect(),
            SnapshotData::Samples(p) => p
                .samples
                .iter()
                .map(|s| {
                    let v = s.values.get(value_index).copied().unwrap_or(0);
                    (s.stack, u64::try_from(v).unwrap_or(0))
                })
                .collect(),
        }
    }

    /// Lays out the boxes of weighted stacks: merged into a trie, totals
    /// accumulated, then placed depth-first with children by name. Both
    /// [`FlameTree::build`] and [`FlameTree::build_diff`] end here, so a
    /// plain and a differential graph of the same stacks share one layout.
    fn from_weights(
        table: &StackTable,
        by_stack: FxHashMap<StackId, Weights>,
        differential: bool,
    ) -> FlameTree {
        let mut stacks: Vec<(StackId, Weights)> = by_stack
            .into_iter()
            .filter(|(_, w)| w.base > 0 || w.now > 0)
            .collect();
        stacks.sort_unstable_by_key(|(s, _)| *s);
        let mut trie = Trie::new(table);
        for (stack, w) in stacks {
            trie.insert(table, stack, w);
        }
        Self::finish(table, trie, differential)
    }

    /// A tree of paths of functions (outermost first) with their weights,
    /// each function with the frame its boxes show: the sandwich's callers
    /// and callees, laid out and coloured as every other tree.
    pub fn from_paths<'p>(
        table: &StackTable,
        paths: impl IntoIterator<Item = (&'p [(StrId, Option<FrameId>)], u64)>,
    ) -> FlameTree {
        let mut trie = Trie::for_paths();
        for (path, w) in paths {
            if w > 0 {
                trie.insert_path(path, w);
            }
        }
        Self::finish(table, trie, false).colored(table)
    }

    /// The subtrees of `roots` merged by function under a new root: the
    /// sandwich's callees. One pass over their boxes, each mapped through
    /// its parent's, so a deep subtree costs its size, not size × depth.
    pub fn merge_subtrees(&self, table: &StackTable, roots: &[NodeId]) -> FlameTree {
        let mut trie = Trie::for_paths();
        let mut mapped: Vec<u32> = vec![0; self.nodes.len()];
        for &top in roots {
            let Some(end) = self.nodes.get(top).map(|n| top + n.size as usize) else {
                continue;
            };
            for i in top..end.min(self.nodes.len()) {
                let n = &self.nodes[i];
                let parent = if i == top { 0 } else { mapped[n.parent] };
                let at = trie.child(parent, n.function, n.frame);
                trie.add_own(at, n.self_weight);
                mapped[i] = at;
            }
        }
        Self::finish(table, trie, false).colored(table)
    }

    /// Totals, layout and subtree sizes of a filled trie.
    fn finish(table: &StackTable, mut trie: Trie, differential: bool) -> FlameTree {
        trie.accumulate_totals();
        let rank = name_ranks(table, &trie.raw);
        let (mut nodes, max_depth) = trie.lay_out(&rank);
        // Subtree sizes: children follow their parent, so accumulate backwards.
        for i in (1..nodes.len()).rev() {
            let p = nodes[i].parent;
            nodes[p].size += nodes[i].size;
        }
        FlameTree {
            nodes,
            differential,
            max_depth,
            styles: Vec::new(),
        }
    }

    /// The weight of the whole graph: what widths are fractions of and the
    /// header states.
    pub fn root_total(&self) -> u64 {
        self.nodes.first().map_or(0, |n| n.total)
    }

    /// Direct children of a node, in layout order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let end = self.nodes.get(id).map_or(id, |n| id + n.size as usize);
        let mut at = id + 1;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let c = at;
            at += self.nodes[c].size as usize;
            Some(c)
        })
    }

    /// The boxes a stack passes through, outermost first (the root excluded);
    /// shorter than the stack where the tree does not hold it.
    pub fn path_of(&self, table: &StackTable, stack: StackId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut at = 0;
        for frame in table.frames_outer_first(stack) {
            let function = table.frame(frame).function;
            match self
                .children(at)
                .find(|&c| self.nodes[c].function == function)
            {
                Some(c) => {
                    out.push(c);
                    at = c;
                }
                None => break,
            }
        }
        out
    }

    /// The node and its ancestors up to the root, innermost first.
    pub fn ancestry(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = vec![id];
        let mut at = id;
        while at != 0 && at < self.nodes.len() {
            at = self.nodes[at].parent;
            out.push(at);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each node with weight ending there: `path own` (`path base now` for
    /// a differential tree), to read a tree at a glance.
    fn paths(f: &FlameTree, t: &StackTable) -> Vec<String> {
        let mut out = Vec::new();
        for (id, n) in f.nodes.iter().enumerate().skip(1) {
            let mut names = vec![t.str(n.function)];
            let mut p = n.parent;
            while p != 0 {
                names.push(t.str(f.nodes[p].function));
                p = f.nodes[p].parent;
            }
            names.reverse();
            let child_base: u64 = f.children(id).map(|c| f.nodes[c].base_total).sum();
            let own_base = n.base_total - child_base;
            if f.differential && (n.self_weight > 0 || own_base > 0) {
                out.push(format!("{} {own_base} {}", names.join(";"), n.self_weight));
            } else if n.self_weight > 0 {
                out.push(format!("{} {}", names.join(";"), n.self_weight));
            }
        }
        out
    }

    fn table() -> (StackTable, StackId, StackId, StackId) {
        let mut t = StackTable::default();
        let main = t.intern_frame("main.main", "m.go", 1);
        let a = t.intern_frame("main.a", "m.go", 2);
        let a2 = t.intern_frame("main.a", "m.go", 9);
        let b = t.intern_frame("main.b", "m.go", 3);
        let s1 = t.intern_inner_first(&[a, main]);
        let s2 = t.intern_inner_first(&[b, a2, main]);
        let s3 = t.intern_inner_first(&[b, main]);
        (t, s1, s2, s3)
    }

    #[test]
    fn merges_by_function_and_lays_out_by_name() {
        let (t, s1, s2, s3) = table();
        let f = FlameTree::build(&t, [(s1, 3), (s2, 1), (s3, 4), (s1, 2)]);
        assert_eq!(f.root_total(), 10);
        let name = |i: NodeId| t.str(f.nodes[i].function);
        let main: Vec<NodeId> = f.children(0).collect();
        assert_eq!(main.len(), 1);
        assert_eq!(f.nodes[main[0]].total, 10);
        let kids: Vec<NodeId> = f.children(main[0]).collect();
        assert_eq!(
            kids.iter().map(|&k| name(k)).collect::<Vec<_>>(),
            ["main.a", "main.b"]
        );
        // main.a merges both call sites (lines 2 and 9): 5 + 1.
        assert_eq!(f.nodes[kids[0]].total, 6);
        assert_eq!(f.nodes[kids[0]].self_weight, 5);
        assert!((f.nodes[kids[1]].x - 0.6).abs() < 1e-12);
        assert_eq!(f.max_depth, 3);
        assert_eq!(f.nodes[0].size as usize, f.nodes.len());
        let mut folded = paths(&f, &t);
        folded.sort();
        assert_eq!(
            folded,
            [
                "main.main;main.a 5",
                "main.main;main.a;main.b 1",
                "main.main;main.b 4"
            ]
        );
    }

    #[test]
    fn differential_trees_carry_the_baseline() {
        let (t, s1, s2, s3) = table();
        let f = FlameTree::build_diff(&t, [(s1, 2), (s3, 4)], [(s1, 5), (s2, 1)]);
        assert!(f.differential);
        assert_eq!((f.nodes[0].base_total, f.nodes[0].total), (6, 6));
        let mut folded = paths(&f, &t);
        folded.sort();
        assert_eq!(
            folded,
            [
                "main.main;main.a 2 5",
                "main.main;main.a;main.b 0 1",
                "main.main;main.b 4 0"
            ]
        );
    }
}
