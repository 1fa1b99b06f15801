//! Who created whom: creation events as a tree of creator functions and the
//! groups of goroutines they created, with counts.
//!
//! A leak's cause is often not where its goroutines wait but who keeps
//! starting them: 40 `querySearchBackend` goroutines all started by one
//! handler, itself run by a goroutine the accept loop started. The events
//! list shows one creation per line; the tree aggregates them by function,
//! so the fan-out is read at a glance.
//!
//! One builder serves dumps and traces alike, because both are read
//! through [`LaneSource`]: a dump's `created by F in goroutine N` and a
//! trace's creation event (the creator goroutine and its stack at the `go`
//! statement) are both a lane's `Created` event with the creator's lane.

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::lanes::{EventKind, LaneSource};
use crate::model::StackTable;

/// Nodes a tree holds at most: a service that spawns recursively must not
/// make a tree too large to draw or print.
const MAX_NODES: usize = 2_000;

/// Levels a chain goes down at most, so a long chain of goroutines each
/// starting the next cannot exhaust the stack building or drawing it.
const MAX_DEPTH: usize = 48;

/// What a created node stands for, and what selecting it selects.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Created {
    /// A stack group of the snapshots ([`super::Analysis::groups`]).
    Group(u32),
    /// A trace leak group ([`super::trace::TraceAnalysis::leaks`]).
    TraceGroup(u32),
    /// Goroutines in no group, by their function.
    Function(String),
}

/// A function that ran `go` statements, and what they started.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreatorNode {
    /// The creating function, full name (`unknown` where the input has no
    /// creation stack).
    pub function: String,
    /// Goroutines it created, the sum over `created`.
    pub goroutines: u64,
    /// What it created, most goroutines first.
    pub created: Vec<CreatedNode>,
}

/// Goroutines of one group created by one creator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreatedNode {
    /// The group (or function) they belong to.
    pub created: Created,
    /// Their function, full name, to label the node.
    pub function: String,
    /// How many the creator created.
    pub goroutines: u64,
    /// What goroutines of this group created in turn. Empty where the group
    /// already appears above it (a goroutine starting its own kind), so
    /// the tree ends.
    pub creators: Vec<CreatorNode>,
    /// The group appears above it: what it created is shown there.
    pub recursive: bool,
}

/// The creation tree of a set of lanes: creators no loaded goroutine
/// created at the top.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CreationTree {
    /// The top creators, most goroutines first.
    pub roots: Vec<CreatorNode>,
    /// Whether [`MAX_NODES`] or [`MAX_DEPTH`] cut the tree short.
    pub truncated: bool,
}

/// One aggregated creation: the creator's node (none where the creator is
/// not loaded), the creating function and the created node.
type EdgeKey = (Option<Created>, String, Created);

/// What is being built: the edges with counts, and how many nodes so far.
struct Builder {
    edges: FxHashMap<Option<Created>, Vec<(String, Created, u64)>>,
    labels: FxHashMap<Created, String>,
    /// Parents whose creations are in the tree already.
    expanded: std::collections::HashSet<Option<Created>>,
    nodes: usize,
    truncated: bool,
}

/// The node a lane belongs to: its trace leak group, else its stack group,
/// else its function (the same order a click on a lane selects by).
fn node_of(lanes: &dyn LaneSource, table: &StackTable, lane: usize) -> (Created, String) {
    let info = lanes.lane(lane);
    let function = info
        .function
        .or_else(|| table.leaf(info.stack))
        .map_or_else(|| "unknown".to_owned(), |f| table.function(f).to_owned());
    let created = match (info.trace_group, info.group) {
        (Some(t), _) => Created::TraceGroup(t),
        (None, Some(g)) => Created::Group(g),
        (None, None) => Created::Function(function.clone()),
    };
    (created, function)
}

/// Builds the tree of every creation event of `lanes`.
pub fn build(lanes: &dyn LaneSource, table: &StackTable) -> CreationTree {
    let mut counts: FxHashMap<EdgeKey, u64> = FxHashMap::default();
    let mut labels: FxHashMap<Created, String> = FxHashMap::default();
    for lane in 0..lanes.lane_count() {
        let Some(e) = lanes
            .events(lane, i64::MIN, i64::MAX)
            .into_iter()
            .find(|e| e.kind == EventKind::Created)
        else {
            continue;
        };
        let (child, label) = node_of(lanes, table, lane);
        labels.entry(child.clone()).or_insert(label);
        let parent = e.other_lane.map(|p| {
            let (node, label) = node_of(lanes, table, p as usize);
            labels.entry(node.clone()).or_insert(label);
            node
        });
        let creator = e
            .stack
            .and_then(|s| table.leaf(s))
            .map_or_else(|| "unknown".to_owned(), |f| table.function(f).to_owned());
        *counts.entry((parent, creator, child)).or_default() += 1;
    }
    // Created by another node: a group that only starts its own kind is
    // where a chain starts too.
    let created: std::collections::HashSet<&Created> = counts
        .keys()
        .filter(|k| k.0.as_ref() != Some(&k.2))
        .map(|k| &k.2)
        .collect();
    let mut edges: FxHashMap<Option<Created>, Vec<(String, Created, u64)>> = FxHashMap::default();
    for ((parent, creator, child), n) in &counts {
        // A creator goroutine nothing loaded created is where a chain
        // starts (`main.main`, or an exited handler's function).
        let parent = parent.clone().filter(|p| created.contains(p));
        edges
            .entry(parent)
            .or_default()
            .push((creator.clone(), child.clone(), *n));
    }
    for v in edges.values_mut() {
        v.sort();
    }
    let mut b = Builder {
        edges,
        labels,
        expanded: Default::default(),
        nodes: 0,
        truncated: false,
    };
    let mut roots = b.creators(None, &mut Vec::new());
    // Groups that create each other in a ring nothing outside starts are
    // out of reach from the top: they start chains of their own (a chain
    // only cut short by its length does not).
    let reached = b.reachable();
    let mut left: Vec<Created> = b
        .edges
        .keys()
        .flatten()
        .filter(|p| !reached.contains(*p))
        .cloned()
        .collect();
    left.sort();
    for parent in left {
        let key = Some(parent.clone());
        if !b.expanded.contains(&key) {
            roots.extend(b.creators(key.as_ref(), &mut vec![parent]));
        }
    }
    CreationTree {
        roots,
        truncated: b.truncated,
    }
}

impl Builder {
    /// Every node the top's creations lead to, however deep.
    fn reachable(&self) -> std::collections::HashSet<Created> {
        let mut seen = std::collections::HashSet::new();
        let mut todo: Vec<Option<Created>> = vec![None];
        while let Some(p) = todo.pop() {
            for (_, child, _) in self.edges.get(&p).into_iter().flatten() {
                if seen.insert(child.clone()) {
                    todo.push(Some(child.clone()));
                }
            }
        }
        seen
    }

    /// The creators under `parent` (the top when none), each with what it
    /// created; `path` holds the groups above, to stop at a repeat.
    fn creators(&mut self, parent: Option<&Created>, path: &mut Vec<Created>) -> Vec<CreatorNode> {
        self.expanded.insert(parent.cloned());
        let edges = self
            .edges
            .get(&parent.cloned())
            .cloned()
            .unwrap_or_default();
        let mut by_creator: Vec<CreatorNode> = Vec::new();
        for (creator, child, n) in edges {
            if self.nodes >= MAX_NODES {
                self.truncated = true;
                break;
            }
            let at = match by_creator.iter().position(|c| c.function == creator) {
                Some(i) => i,
                None => {
                    self.nodes += 1;
                    by_creator.push(CreatorNode {
                        function: creator,
                        goroutines: 0,
                        created: Vec::new(),
                    });
                    by_creator.len() - 1
                }
            };
            self.nodes += 1;
            let recursive = path.contains(&child);
            let too_deep = path.len() >= MAX_DEPTH;
            self.truncated |= too_deep && !recursive;
            let creators = if recursive || too_deep {
                Vec::new()
            } else {
                path.push(child.clone());
                let c = self.creators(Some(&child), path);
                path.pop();
                c
            };
            let node = &mut by_creator[at];
            node.goroutines = node.goroutines.saturating_add(n);
            node.created.push(CreatedNode {
                function: self.labels.get(&child).cloned().unwrap_or_default(),
                created: child,
                goroutines: n,
                creators,
                recursive,
            });
        }
        for c in &mut by_creator {
            c.created.sort_by(|a, b| {
                b.goroutines
                    .cmp(&a.goroutines)
                    .then_with(|| a.function.cmp(&b.function))
            });
        }
        by_creator.sort_by(|a, b| {
            b.goroutines
                .cmp(&a.goroutines)
                .then_with(|| a.function.cmp(&b.function))
        });
        by_creator
    }
}

impl CreationTree {
    /// The tree as indented text, one node a line (`inspect --creators`):
    /// `F created N` for a creator, `N × G` for what it created.
    pub fn to_text(&self, short: impl Fn(&str) -> String) -> String {
        fn creator(
            out: &mut String,
            c: &CreatorNode,
            depth: usize,
            short: &dyn Fn(&str) -> String,
        ) {
            let pad = "  ".repeat(depth);
            out.push_str(&format!(
                "{pad}{} created {}\n",
                short(&c.function),
                c.goroutines
            ));
            for n in &c.created {
                let again = if n.recursive { " (shown above)" } else { "" };
                out.push_str(&format!(
                    "{pad}  {} × {}{again}\n",
                    n.goroutines,
                    short(&n.function)
                ));
                for sub in &n.creators {
                    creator(out, sub, depth + 2, short);
                }
            }
        }
        let mut out = String::new();
        for r in &self.roots {
            creator(&mut out, r, 0, &short);
        }
        if self.truncated {
            out.push_str(&format!(
                "(cut short: at most {MAX_NODES} nodes, {MAX_DEPTH} levels)\n"
            ));
        }
        out
    }
}
