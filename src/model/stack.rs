//! Frames and stacks shared by every input of a session.
//!
//! Stacks are stored as a prefix tree rooted at the outermost frame (the
//! goroutine's entry), one node per (parent, frame) pair. Two goroutines with
//! the same frames therefore get the same [`StackId`] whichever file they came
//! from, grouping becomes an integer comparison, and the flame graph is a walk
//! over the same tree. Walking parent links from a node yields the frames
//! innermost first, the order in which Go prints them.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use super::intern::{Interner, StrId};

/// Index of a distinct (function, file, line) in a [`StackTable`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameId(u32);

impl FrameId {
    /// Position in the frame table, for side tables indexed by frame (colours,
    /// classes).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A node of the stack prefix tree; names the whole stack from that node to the root.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StackId(u32);

impl StackId {
    /// The stack with no frames (a goroutine caught before it ran, a thread with no stack).
    pub const EMPTY: StackId = StackId(0);

    /// Position in the node table, for side tables indexed by stack (memos,
    /// flame boxes).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Whether this is the stack with no frames, which views show as "no stack"
    /// instead of an empty box.
    pub fn is_empty(self) -> bool {
        self == StackId::EMPTY
    }
}

/// Index of a distinct label set; [`LabelSetId::NONE`] is the empty set.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LabelSetId(u32);

impl LabelSetId {
    /// The empty set: what goroutines and samples without labels carry, so "no
    /// labels" needs no `Option`.
    pub const NONE: LabelSetId = LabelSetId(0);

    /// Position in the label-set table, for side tables indexed by label set.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One source location. Identity ignores PCs, offsets and arguments on purpose:
/// they differ between dialects and processes while the code position does not.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The function's full name (`main.(*server).serve`), what grouping and
    /// flame boxes key on.
    pub function: StrId,
    /// The source file, for showing where the frame is; empty where the input
    /// has none (folded stacks).
    pub file: StrId,
    /// The line in `file`; 0 where unknown. Part of identity, so two call sites
    /// of one function stay apart in a stack.
    pub line: u32,
}

/// A pprof label value: Go's labels are strings, profiles may also carry numbers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelValue {
    /// A string value, what `pprof.Labels` always produces.
    Str(StrId),
    /// A numeric value (`pprof` `num` labels, such as heap samples' `bytes`).
    Num {
        /// The number.
        value: i64,
        /// What it counts (`bytes`), empty when the producer gave no unit.
        unit: StrId,
    },
}

/// A label set, sorted by key so equal sets compare equal.
pub type Labels = Box<[(StrId, LabelValue)]>;

/// No node: the end of a child or sibling list.
const NO_NODE: u32 = u32::MAX;

/// Children a node lists before they also go into
/// [`StackTable::wide_index`].
const NARROW_CHILDREN: u32 = 8;

#[derive(Copy, Clone, Debug)]
struct Node {
    parent: StackId,
    frame: FrameId,
    depth: u32,
    /// Children as a linked list (newest first). Most nodes have one or two
    /// children and a new node none at all, so finding a child walks a
    /// list of a few entries of a table that is being appended to, where a
    /// hash map of every (parent, frame) pair would miss the cache on
    /// every frame of every new stack.
    first_child: u32,
    next_sibling: u32,
    children: u32,
}

/// Strings, frames, stacks and label sets of one session (or of one file while it loads).
#[derive(Clone, Debug)]
pub struct StackTable {
    strings: Interner,
    frames: Vec<Frame>,
    frame_index: FxHashMap<Frame, FrameId>,
    nodes: Vec<Node>,
    /// Children of nodes with more than [`NARROW_CHILDREN`] of them (a
    /// dispatcher calling hundreds of handlers), by (parent, frame).
    wide_index: FxHashMap<(StackId, FrameId), StackId>,
    label_sets: Vec<Labels>,
    label_index: FxHashMap<Labels, LabelSetId>,
}

impl Default for StackTable {
    fn default() -> Self {
        let root = Node {
            parent: StackId::EMPTY,
            frame: FrameId(u32::MAX),
            depth: 0,
            first_child: NO_NODE,
            next_sibling: NO_NODE,
            children: 0,
        };
        let mut label_index = FxHashMap::default();
        label_index.insert(Labels::default(), LabelSetId::NONE);
        StackTable {
            strings: Interner::default(),
            frames: Vec::new(),
            frame_index: FxHashMap::default(),
            nodes: vec![root],
            wide_index: FxHashMap::default(),
            label_sets: vec![Labels::default()],
            label_index,
        }
    }
}

/// How ids of one table map into another after [`StackTable::absorb`].
#[derive(Clone, Debug, Default)]
pub struct Remap {
    strings: Vec<StrId>,
    stacks: Vec<StackId>,
    label_sets: Vec<LabelSetId>,
}

impl Remap {
    /// The id in the absorbing table of a string of the absorbed one.
    pub fn str(&self, id: StrId) -> StrId {
        self.strings
            .get(id.index())
            .copied()
            .unwrap_or(StrId::EMPTY)
    }
    /// The id in the absorbing table of a stack of the absorbed one.
    pub fn stack(&self, id: StackId) -> StackId {
        self.stacks
            .get(id.index())
            .copied()
            .unwrap_or(StackId::EMPTY)
    }
    /// The id in the absorbing table of a label set of the absorbed one.
    pub fn labels(&self, id: LabelSetId) -> LabelSetId {
        self.label_sets
            .get(id.index())
            .copied()
            .unwrap_or(LabelSetId::NONE)
    }
}

impl StackTable {
    /// Makes room for about `stacks` more stack nodes and `frames` more
    /// frames, so a big input fills the maps without rehashing them over
    /// and over.
    pub fn reserve(&mut self, stacks: usize, frames: usize) {
        self.nodes.reserve(stacks);
        self.frames.reserve(frames);
        self.frame_index.reserve(frames);
    }

    /// Interns a string, so equal names compare as integers from here on.
    pub fn intern_str(&mut self, s: &str) -> StrId {
        self.strings.intern(s)
    }

    /// The id of a string if it was interned, without adding it: for lookups
    /// that must not grow the table.
    pub fn find_str(&self, s: &str) -> Option<StrId> {
        self.strings.find(s)
    }

    /// The text of a string id (empty for an id of another table).
    pub fn str(&self, id: StrId) -> &str {
        self.strings.get(id)
    }

    /// The interner itself, for callers that size side tables by string count.
    pub fn strings(&self) -> &Interner {
        &self.strings
    }

    /// Interns a frame given as text, as the text parsers read it.
    pub fn intern_frame(&mut self, function: &str, file: &str, line: u32) -> FrameId {
        let frame = Frame {
            function: self.strings.intern(function),
            file: self.strings.intern(file),
            line,
        };
        self.intern_frame_ids(frame)
    }

    /// Interns a frame whose strings are already interned, as the pprof parser
    /// has them.
    pub fn intern_frame_ids(&mut self, frame: Frame) -> FrameId {
        let next = FrameId(self.frames.len() as u32);
        match self.frame_index.entry(frame) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(v) => {
                v.insert(next);
                self.frames.push(frame);
                next
            }
        }
    }

    /// The frame of an id; an unknown id is an empty frame rather than a panic.
    pub fn frame(&self, id: FrameId) -> Frame {
        self.frames.get(id.index()).copied().unwrap_or(Frame {
            function: StrId::EMPTY,
            file: StrId::EMPTY,
            line: 0,
        })
    }

    /// The function name of a frame, the name most views show.
    pub fn function(&self, id: FrameId) -> &str {
        self.str(self.frame(id).function)
    }

    /// How many distinct frames the session has, for sizing tables indexed by
    /// frame.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// Every frame id, in interning order: for tables keyed by frame, such
    /// as the colour of each function.
    pub fn frame_ids(&self) -> impl Iterator<Item = FrameId> + use<> {
        (0..self.frames.len() as u32).map(FrameId)
    }

    /// The stack `parent` with `frame` called from its innermost frame.
    pub fn child(&mut self, parent: StackId, frame: FrameId) -> StackId {
        let Some(p) = self.nodes.get(parent.index()).copied() else {
            return parent;
        };
        if p.children > NARROW_CHILDREN {
            if let Some(&id) = self.wide_index.get(&(parent, frame)) {
                return id;
            }
        } else {
            let mut c = p.first_child;
            while let Some(n) = self.nodes.get(c as usize) {
                if n.frame == frame {
                    return StackId(c);
                }
                c = n.next_sibling;
            }
        }
        let next = StackId(self.nodes.len() as u32);
        self.nodes.push(Node {
            parent,
            frame,
            depth: p.depth + 1,
            first_child: NO_NODE,
            next_sibling: p.first_child,
            children: 0,
        });
        let children = p.children + 1;
        let pm = &mut self.nodes[parent.index()];
        pm.first_child = next.0;
        pm.children = children;
        if children > NARROW_CHILDREN {
            if children == NARROW_CHILDREN + 1 {
                // The node just became wide: index the children it has.
                let mut c = next.0;
                while let Some(n) = self.nodes.get(c as usize) {
                    self.wide_index.insert((parent, n.frame), StackId(c));
                    c = n.next_sibling;
                }
            } else {
                self.wide_index.insert((parent, frame), next);
            }
        }
        next
    }

    /// Interns a stack given innermost frame first, as Go prints it.
    pub fn intern_inner_first(&mut self, frames: &[FrameId]) -> StackId {
        frames
            .iter()
            .rev()
            .fold(StackId::EMPTY, |parent, &f| self.child(parent, f))
    }

    /// Interns a stack given outermost frame first, as folded stacks list it.
    pub fn intern_outer_first(&mut self, frames: impl IntoIterator<Item = FrameId>) -> StackId {
        frames
            .into_iter()
            .fold(StackId::EMPTY, |parent, f| self.child(parent, f))
    }

    /// The stack without its innermost frame (the caller's stack); empty for
    /// the empty stack.
    pub fn parent(&self, id: StackId) -> StackId {
        self.nodes
            .get(id.index())
            .map_or(StackId::EMPTY, |n| n.parent)
    }

    /// The innermost frame of a non-empty stack.
    pub fn leaf(&self, id: StackId) -> Option<FrameId> {
        if id.is_empty() {
            return None;
        }
        self.nodes.get(id.index()).map(|n| n.frame)
    }

    /// Number of frames in the stack.
    pub fn depth(&self, id: StackId) -> u32 {
        self.nodes.get(id.index()).map_or(0, |n| n.depth)
    }

    /// Number of stack nodes, the empty stack included.
    pub fn stack_count(&self) -> usize {
        self.nodes.len()
    }

    /// Frames innermost first.
    pub fn frames(&self, id: StackId) -> StackFrames<'_> {
        StackFrames {
            table: self,
            at: id,
        }
    }

    /// Frames outermost first (root to leaf), the order of folded stacks and flame graphs.
    pub fn frames_outer_first(&self, id: StackId) -> Vec<FrameId> {
        let mut v: Vec<FrameId> = self.frames(id).collect();
        v.reverse();
        v
    }

    /// Interns a label set, sorted so the same labels in any order share one
    /// id.
    pub fn intern_labels(&mut self, mut labels: Vec<(StrId, LabelValue)>) -> LabelSetId {
        if labels.is_empty() {
            return LabelSetId::NONE;
        }
        labels.sort_unstable();
        let labels: Labels = labels.into_boxed_slice();
        if let Some(&id) = self.label_index.get(&labels) {
            return id;
        }
        let id = LabelSetId(self.label_sets.len() as u32);
        self.label_sets.push(labels.clone());
        self.label_index.insert(labels, id);
        id
    }

    /// The labels of a set, sorted by key.
    pub fn labels(&self, id: LabelSetId) -> &[(StrId, LabelValue)] {
        self.label_sets.get(id.index()).map_or(&[], |l| l)
    }

    /// Renders a label set as `k=v, k=v` for people.
    pub fn labels_to_string(&self, id: LabelSetId) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.labels(id).iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(self.str(*k));
            out.push('=');
            match v {
                LabelValue::Str(s) => out.push_str(self.str(*s)),
                LabelValue::Num { value, unit } => {
                    out.push_str(&value.to_string());
                    out.push_str(self.str(*unit));
                }
            }
        }
        out
    }

    /// Copies everything of `other` into this table and says where each id went.
    ///
    /// Parsers fill a table of their own (several in parallel for one big
    /// file); the session absorbs them afterwards, so loading never contends
    /// on a shared table.
    pub fn absorb(&mut self, other: &StackTable) -> Remap {
        // Into an empty table (the first input of a session), ids stay as
        // they are: copying beats re-interning a million stack nodes.
        if self.strings.len() == 1
            && self.frames.is_empty()
            && self.nodes.len() == 1
            && self.label_sets.len() == 1
        {
            *self = other.clone();
            return Remap {
                strings: other.strings.iter().map(|(id, _)| id).collect(),
                stacks: (0..other.nodes.len() as u32).map(StackId).collect(),
                label_sets: (0..other.label_sets.len() as u32).map(LabelSetId).collect(),
            };
        }
        let strings: Vec<StrId> = other
            .strings
            .iter()
            .map(|(_, s)| self.strings.intern(s))
            .collect();
        let map_str = |id: StrId| strings.get(id.index()).copied().unwrap_or(StrId::EMPTY);
        let frames: Vec<FrameId> = other
            .frames
            .iter()
            .map(|f| {
                self.intern_frame_ids(Frame {
                    function: map_str(f.function),
                    file: map_str(f.file),
                    line: f.line,
                })
            })
            .collect();
        // Parents always precede children in `nodes`, so one forward pass suffices.
        let mut stacks = Vec::with_capacity(other.nodes.len());
        stacks.push(StackId::EMPTY);
        for node in other.nodes.iter().skip(1) {
            let parent = stacks
                .get(node.parent.index())
                .copied()
                .unwrap_or(StackId::EMPTY);
            let frame = frames.get(node.frame.index()).copied();
            let id = match frame {
                Some(f) => self.child(parent, f),
                None => parent,
            };
            stacks.push(id);
        }
        let label_sets: Vec<LabelSetId> = other
            .label_sets
            .iter()
            .map(|set| {
                let mapped = set
                    .iter()
                    .map(|(k, v)| {
                        let v = match *v {
                            LabelValue::Str(s) => LabelValue::Str(map_str(s)),
                            LabelValue::Num { value, unit } => LabelValue::Num {
                                value,
                                unit: map_str(unit),
                            },
                        };
                        (map_str(*k), v)
                    })
                    .collect();
                self.intern_labels(mapped)
            })
            .collect();
        Remap {
            strings,
            stacks,
            label_sets,
        }
    }
}

/// Iterator over a stack's frames, innermost first.
pub struct StackFrames<'a> {
    table: &'a StackTable,
    at: StackId,
}

impl Iterator for StackFrames<'_> {
    type Item = FrameId;

    fn next(&mut self) -> Option<FrameId> {
        let node = self.table.nodes.get(self.at.index())?;
        if self.at.is_empty() {
            return None;
        }
        self.at = node.parent;
        Some(node.frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_stacks_share_an_id_and_prefixes_share_nodes() {
        let mut t = StackTable::default();
        let park = t.intern_frame("runtime.gopark", "runtime/proc.go", 424);
        let f = t.intern_frame("main.f", "main.go", 10);
        let main = t.intern_frame("main.main", "main.go", 3);
        let a = t.intern_inner_first(&[park, f, main]);
        let b = t.intern_inner_first(&[park, f, main]);
        let c = t.intern_inner_first(&[f, main]);
        assert_eq!(a, b);
        assert_eq!(t.parent(a), c);
        assert_eq!(t.depth(a), 3);
        assert_eq!(t.frames(a).collect::<Vec<_>>(), vec![park, f, main]);
        assert_eq!(t.frames_outer_first(a), vec![main, f, park]);
        assert_eq!(t.leaf(a), Some(park));
        assert_eq!(t.leaf(StackId::EMPTY), None);
    }

    #[test]
    fn wide_parents_find_their_children_again() {
        let mut t = StackTable::default();
        let main = t.intern_frame("main.main", "main.go", 1);
        let handlers: Vec<FrameId> = (0..100)
            .map(|i| t.intern_frame(&format!("main.handle{i}"), "main.go", i))
            .collect();
        let first: Vec<StackId> = handlers
            .iter()
            .map(|&h| t.intern_outer_first([main, h]))
            .collect();
        let nodes = t.stack_count();
        // Again, in another order: every one is found, nothing is added.
        for (i, &h) in handlers.iter().enumerate().rev() {
            assert_eq!(t.intern_outer_first([main, h]), first[i]);
        }
        assert_eq!(t.stack_count(), nodes);
        assert_eq!(nodes, 1 + 1 + 100);
        for (i, &s) in first.iter().enumerate() {
            assert_eq!(t.leaf(s), Some(handlers[i]));
            assert_eq!(t.depth(s), 2);
        }
        // Handlers as outermost frames make the root itself wide.
        let roots: Vec<StackId> = handlers
            .iter()
            .map(|&h| t.intern_outer_first([h]))
            .collect();
        let again: Vec<StackId> = handlers
            .iter()
            .map(|&h| t.intern_outer_first([h]))
            .collect();
        assert_eq!(roots, again);
    }

    #[test]
    fn absorb_maps_every_id() {
        let mut a = StackTable::default();
        let fa = a.intern_frame("main.a", "a.go", 1);
        let sa = a.intern_inner_first(&[fa]);
        let mut b = StackTable::default();
        let fb = b.intern_frame("main.b", "b.go", 2);
        let fa2 = b.intern_frame("main.a", "a.go", 1);
        let sb = b.intern_inner_first(&[fb, fa2]);
        let k = b.intern_str("endpoint");
        let v = b.intern_str("search");
        let lb = b.intern_labels(vec![(k, LabelValue::Str(v))]);
        let remap = a.absorb(&b);
        let sb2 = remap.stack(sb);
        assert_eq!(a.parent(sb2), sa);
        assert_eq!(a.function(a.leaf(sb2).unwrap()), "main.b");
        assert_eq!(a.labels_to_string(remap.labels(lb)), "endpoint=search");
    }
}
