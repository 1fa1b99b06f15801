//! Folded stacks (`a;b;c N`) from a [`FlameTree`]: the export for inferno,
//! speedscope and Brendan Gregg's scripts, and the lines the SVG is drawn
//! from.
//!
//! Lines come in the tree's depth-first order (children by name, a node's
//! own weight before its children), so consecutive lines share their
//! prefixes and a flame graph drawn from them in this order has the tree's
//! boxes in the tree's order. A differential tree gives two counts per line,
//! `a;b;c BEFORE AFTER`, which inferno reads as a differential.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::analysis::flame::{FlameTree, NodeId};
use crate::model::StackTable;

/// The frame name of stacks with no frames at all (a thread created
/// before it ran, a goroutine caught before its first frame): a flame
/// graph needs a box for their weight or its total would not add up.
pub const NO_STACK: &str = "[no stack]";

/// Whether a folded reader would take `s` for a sample count.
fn looks_like_count(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Folded lines in one buffer, so 100,000 lines are two allocations.
#[derive(Clone, Debug, Default)]
pub struct FoldedLines {
    text: String,
    ends: Vec<usize>,
}

impl FoldedLines {
    /// The lines, without newlines, in tree order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + '_ {
        (0..self.ends.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            self.text.get(start..self.ends[i]).unwrap_or("")
        })
    }

    /// How many lines (one per distinct stack), what the CLI reports after
    /// writing them.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is nothing to write, which callers report instead of
    /// writing an empty file.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The lines, each ending in a newline.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.ends.len());
        for l in self.iter() {
            out.push_str(l);
            out.push('\n');
        }
        out
    }

    fn push(&mut self, path: &[Cow<'_, str>], base: u64, now: u64, differential: bool) {
        for (i, f) in path.iter().enumerate() {
            if i > 0 {
                self.text.push(';');
            }
            self.text.push_str(f);
        }
        if differential {
            let _ = write!(self.text, " {base} {now}");
        } else {
            let _ = write!(self.text, " {now}");
        }
        self.ends.push(self.text.len());
    }
}

/// A function name as a folded frame: `;` separates frames and a newline
/// ends the line, so both are replaced; an empty name becomes `[unknown]`.
/// A name ending in a space and a number (`f 3`, from a folded file that
/// had one) would make its line read as a differential one, with two
/// counts, so that space becomes a no-break space.
pub fn frame_name(function: &str) -> Cow<'_, str> {
    if function.is_empty() {
        return Cow::Borrowed("[unknown]");
    }
    let mut name = if function.contains([';', '\n', '\r']) {
        Cow::Owned(function.replace(';', ",").replace(['\n', '\r'], " "))
    } else {
        Cow::Borrowed(function)
    };
    // As readers of folded lines look for a count: after the last ASCII
    // space of the line with its trailing whitespace trimmed, digits with
    // at most one dot.
    if let Some((head, tail)) = name.trim_end().rsplit_once(' ')
        && looks_like_count(tail)
    {
        let rest = &name[head.len() + 1..];
        name = Cow::Owned(format!("{head}\u{a0}{rest}"));
    }
    name
}

/// The folded lines of a tree, or of the subtree under `zoom` (with its
/// ancestors as the prefix of every line, as a zoomed flame graph shows
/// them).
///
/// Subtrees narrower than `min_width_pct` percent of the drawn total become
/// one line ending at their root, with the subtree's whole weight: the
/// totals stay exact, the box is too narrow to draw anyway, and a graph of
/// 100,000 distinct stacks shrinks to the few thousand lines anyone can
/// see, so it renders and opens quickly. `0.0` keeps every line.
pub fn folded_lines(
    tree: &FlameTree,
    table: &StackTable,
    zoom: Option<NodeId>,
    min_width_pct: f64,
) -> FoldedLines {
    let mut out = FoldedLines::default();
    let n = tree.nodes.len();
    let start = zoom.filter(|&z| z < n).unwrap_or(0);
    let Some(top) = tree.nodes.get(start) else {
        return out;
    };
    let end = (start + top.size as usize).min(n);
    let differential = tree.differential;
    // Baseline weight ending at each node: its baseline total less its
    // children's (the tree stores only totals for the baseline).
    let own_base: Vec<u64> = if differential {
        let mut child_base = vec![0u64; n];
        for node in tree.nodes.iter().skip(1) {
            if let Some(c) = child_base.get_mut(node.parent) {
                *c = c.saturating_add(node.base_total);
            }
        }
        tree.nodes
            .iter()
            .zip(&child_base)
            .map(|(node, c)| node.base_total.saturating_sub(*c))
            .collect()
    } else {
        Vec::new()
    };
    let min_weight = top.total as f64 * min_width_pct.max(0.0) / 100.0;
    out.text.reserve((end - start) * 64);
    // Frames from depth 1 down to the node being visited.
    let mut path: Vec<Cow<'_, str>> = Vec::new();
    if start != 0 {
        let mut ancestors = tree.ancestry(start);
        ancestors.reverse();
        for &a in ancestors.iter().skip(1) {
            if a != start {
                path.push(frame_name(table.str(tree.nodes[a].function)));
            }
        }
    } else if top.self_weight > 0 || own_base.first().is_some_and(|&b| b > 0) {
        let base = own_base.first().copied().unwrap_or(0);
        out.push(
            &[Cow::Borrowed(NO_STACK)],
            base,
            top.self_weight,
            differential,
        );
    }
    let mut i = if start == 0 { 1 } else { start };
    while i < end {
        let node = &tree.nodes[i];
        path.truncate(node.depth.saturating_sub(1) as usize);
        path.push(frame_name(table.str(node.function)));
        if (node.total as f64) < min_weight && i != start {
            out.push(&path, node.base_total, node.total, differential);
            i += node.size.max(1) as usize;
            continue;
        }
        let base = own_base.get(i).copied().unwrap_or(0);
        if node.self_weight > 0 || base > 0 {
            out.push(&path, base, node.self_weight, differential);
        }
        i += 1;
    }
    out
}

/// Writes the folded stacks of a tree (every stack, nothing pruned).
pub fn write_folded(
    tree: &FlameTree,
    table: &StackTable,
    zoom: Option<NodeId>,
    mut out: impl Write,
) -> io::Result<()> {
    let lines = folded_lines(tree, table, zoom, 0.0);
    for l in lines.iter() {
        out.write_all(l.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StackId;

    fn tree() -> (StackTable, FlameTree) {
        let mut t = StackTable::default();
        let main = t.intern_frame("main.main", "m.go", 1);
        let f = t.intern_frame("main.f", "m.go", 2);
        let func1 = t.intern_frame("main.f.func1", "m.go", 3);
        let g = t.intern_frame("main.g", "m.go", 4);
        let s1 = t.intern_inner_first(&[g, f, main]);
        let s2 = t.intern_inner_first(&[func1, main]);
        let s3 = t.intern_inner_first(&[f, main]);
        let tree = FlameTree::build(&t, [(s1, 3), (s2, 1000), (s3, 2), (StackId::EMPTY, 5)]);
        (t, tree)
    }

    #[test]
    fn lines_follow_the_tree_and_keep_totals_when_pruning() {
        let (t, tree) = tree();
        let all = folded_lines(&tree, &t, None, 0.0);
        assert_eq!(
            all.iter().collect::<Vec<_>>(),
            [
                "[no stack] 5",
                "main.main;main.f 2",
                "main.main;main.f;main.g 3",
                "main.main;main.f.func1 1000"
            ]
        );
        // main.f (5 of 1010) is under 1 %: its subtree becomes one line.
        let pruned = folded_lines(&tree, &t, None, 1.0);
        assert_eq!(
            pruned.iter().collect::<Vec<_>>(),
            [
                "[no stack] 5",
                "main.main;main.f 5",
                "main.main;main.f.func1 1000"
            ]
        );
        let total: u64 = pruned
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, tree.root_total());
        // Zoomed on main.f: its ancestors prefix every line.
        let f = tree
            .nodes
            .iter()
            .position(|n| t.str(n.function) == "main.f")
            .unwrap();
        let zoomed = folded_lines(&tree, &t, Some(f), 0.0);
        assert_eq!(
            zoomed.iter().collect::<Vec<_>>(),
            ["main.main;main.f 2", "main.main;main.f;main.g 3"]
        );
        assert_eq!(frame_name("a;b\nc"), "a,b c");
        assert_eq!(frame_name("f 3"), "f\u{a0}3");
        assert_eq!(frame_name("f -3"), "f -3");
        assert_eq!(
            frame_name("mac 9306789888000\x0c"),
            "mac\u{a0}9306789888000\x0c"
        );
        assert_eq!(frame_name("a b 2.5  "), "a b\u{a0}2.5  ");
        assert_eq!(frame_name("f 3x"), "f 3x");
        assert_eq!(frame_name(""), "[unknown]");
    }

    #[test]
    fn differential_lines_carry_both_counts() {
        let mut t = StackTable::default();
        let main = t.intern_frame("main.main", "m.go", 1);
        let a = t.intern_frame("main.a", "m.go", 2);
        let b = t.intern_frame("main.b", "m.go", 3);
        let sa = t.intern_inner_first(&[a, main]);
        let sb = t.intern_inner_first(&[b, main]);
        let sm = t.intern_inner_first(&[main]);
        let tree = FlameTree::build_diff(&t, [(sa, 2), (sm, 1)], [(sa, 5), (sb, 1)]);
        let lines = folded_lines(&tree, &t, None, 0.0);
        assert_eq!(
            lines.iter().collect::<Vec<_>>(),
            [
                "main.main 1 0",
                "main.main;main.a 2 5",
                "main.main;main.b 0 1"
            ]
        );
        assert_eq!(lines.to_text().lines().count(), 3);
    }
}
