//! Goroutines grouped by what they are doing, across snapshots and dialects.
//!
//! A group is identified by its *canonical stack*: the frames with runtime
//! internals and compiler-generated `go`/`defer` wrappers removed, so the protobuf profile (which keeps `runtime.gopark`
//! and friends), `debug=1` (which hides the runtime frames on top) and
//! `debug=2` (which hides them everywhere) of one moment give the same
//! groups. Arguments, PCs and offsets are not part of frames at all, so they
//! never split a group. Stacks deeper than the runtime prints in full
//! (tracebacks keep 50 + 50 frames past 100, `debug=2` the first 100,
//! profiles 128 PCs) are compared on their innermost 50 frames, which every
//! dialect keeps.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::wait::infer_wait_reason;
use crate::model::{
    Format, FrameId, Goroutine, LabelSetId, LabelValue, Snapshot, SnapshotData, StackId,
    StackTable, StrId,
};

/// Frames kept when a stack is too deep for every dialect to print it whole.
const DEEP_STACK_KEEP: usize = 50;
/// Frames the runtime prints at most per goroutine: panic tracebacks elide
/// the middle of deeper stacks (50 + 50), `runtime.Stack` and `debug=2`
/// stop after 100 without saying so.
const TRACEBACK_MAX_FRAMES: usize = 100;

/// How pprof labels take part in grouping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabelMode {
    /// Split by label set when every snapshot's dialect records labels
    /// (protobuf, `debug=1`, Go 1.27+ tracebacks), else merge, so that
    /// snapshots of mixed dialects still line up.
    #[default]
    Auto,
    /// Ignore labels.
    Merge,
    /// Split by the whole label set.
    Split,
    /// Split by the values of these keys only.
    SplitBy(Vec<String>),
}

/// A label set projected for grouping, sorted by key.
pub type LabelKey = Box<[(StrId, LabelValue)]>;

/// Where a goroutine record of a group sits: which series snapshot, which record.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Index into [`super::Analysis::series`].
    pub snapshot: u32,
    /// Index into that snapshot's goroutines (or samples).
    pub record: u32,
}

/// Goroutines sharing a canonical stack (and labels, when split by them).
#[derive(Clone, Debug)]
pub struct Group {
    /// Canonical frames, innermost first.
    pub key: Box<[FrameId]>,
    pub labels: LabelKey,
    /// The deepest stack seen among members, for display: it shows the
    /// runtime frames where some dialect printed them.
    pub stack: StackId,
    /// Goroutines per series snapshot.
    pub counts: Vec<u64>,
    /// Wait reasons with goroutine counts over all snapshots (printed, or
    /// told from the stack).
    pub wait_reasons: BTreeMap<String, u64>,
    /// Wait ages in minutes with goroutine counts, last snapshot that has them.
    pub wait_minutes: BTreeMap<u32, u64>,
    /// Creation sites (`created by` frames or creator stacks) with counts.
    pub created_by: FxHashMap<StackId, u64>,
    /// Full label sets with counts, whatever the grouping mode.
    pub label_sets: FxHashMap<LabelSetId, u64>,
    /// Goroutines the runtime marked `(leaked)`.
    pub runtime_leaked: u64,
    /// Goroutines locked to an OS thread.
    pub locked_to_thread: u64,
    pub members: Vec<Member>,
    /// Snapshot index of the last wait-age update, so ages come from the newest one.
    wait_minutes_from: Option<u32>,
}

impl Group {
    fn new(key: Box<[FrameId]>, labels: LabelKey, stack: StackId, snapshots: usize) -> Group {
        Group {
            key,
            labels,
            stack,
            counts: vec![0; snapshots],
            wait_reasons: BTreeMap::new(),
            wait_minutes: BTreeMap::new(),
            created_by: FxHashMap::default(),
            label_sets: FxHashMap::default(),
            runtime_leaked: 0,
            locked_to_thread: 0,
            members: Vec::new(),
            wait_minutes_from: None,
        }
    }

    /// The most common wait reason.
    pub fn wait_reason(&self) -> Option<&str> {
        self.wait_reasons
            .iter()
            .max_by_key(|(r, n)| (**n, std::cmp::Reverse(*r)))
            .map(|(r, _)| r.as_str())
    }

    /// The most common creation site.
    pub fn created_by(&self) -> Option<StackId> {
        self.created_by
            .iter()
            .max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)))
            .map(|(s, _)| *s)
    }

    pub fn last_count(&self) -> u64 {
        self.counts.last().copied().unwrap_or(0)
    }
}

/// Computes canonical stacks, remembering them per stack id.
#[derive(Default)]
pub struct Canonicalizer {
    cache: FxHashMap<(StackId, bool), Box<[FrameId]>>,
}

impl Canonicalizer {
    /// Canonical frames of a stack, innermost first. `elided` says the
    /// dialect left frames out of the middle.
    pub fn canonical(&mut self, table: &StackTable, stack: StackId, elided: bool) -> &[FrameId] {
        self.cache.entry((stack, elided)).or_insert_with(|| {
            let all: Vec<FrameId> = table.frames(stack).collect();
            let mut kept: Vec<FrameId> = all
                .iter()
                .copied()
                .filter(|&f| {
                    let function = table.function(f);
                    !super::frames::is_runtime(function)
                        && !super::frames::is_compiler_wrapper(function)
                })
                .collect();
            if kept.is_empty() {
                kept = all;
            }
            if elided || kept.len() >= TRACEBACK_MAX_FRAMES {
                kept.truncate(DEEP_STACK_KEEP);
            }
            kept.into_boxed_slice()
        })
    }
}

/// One goroutine-like record, from a goroutine snapshot or a sample.
struct Record {
    stack: StackId,
    count: u64,
    labels: LabelSetId,
    state: StrId,
    wait_minutes: Option<u32>,
    created_by: Option<StackId>,
    elided: bool,
    leaked: bool,
    locked: bool,
}

impl Record {
    /// `ages`: the dialect prints wait ages, so a waiting goroutine without
    /// one has waited less than a minute.
    fn from_goroutine(g: &Goroutine, ages: bool) -> Record {
        let waiting = g.kind == crate::model::StateKind::Waiting;
        Record {
            stack: g.stack,
            count: g.count,
            labels: g.labels,
            state: g.state,
            wait_minutes: g.wait_minutes.or((ages && waiting).then_some(0)),
            created_by: g.created_by,
            elided: g.frames_elided,
            leaked: g.leaked,
            locked: g.locked_to_thread,
        }
    }
}

/// Adds a count to a sum of counts; sampled profiles' values are any i64,
/// so a few of them can add up past `u64::MAX`.
fn add(sum: &mut u64, n: u64) {
    *sum = sum.saturating_add(n);
}

fn records(snapshot: &Snapshot) -> Vec<Record> {
    match &snapshot.data {
        SnapshotData::Goroutines(gs) => {
            let ages = snapshot.source.format == Format::GoroutineDump;
            gs.iter().map(|g| Record::from_goroutine(g, ages)).collect()
        }
        SnapshotData::Samples(p) => p
            .samples
            .iter()
            .map(|s| Record {
                stack: s.stack,
                count: s
                    .values
                    .first()
                    .copied()
                    .map_or(0, |v| u64::try_from(v).unwrap_or(0)),
                labels: s.labels,
                state: StrId::EMPTY,
                wait_minutes: None,
                created_by: None,
                elided: false,
                leaked: false,
                locked: false,
            })
            .collect(),
    }
}

/// Whether a snapshot's dialect records pprof labels.
pub fn records_labels(snapshot: &Snapshot) -> bool {
    match snapshot.source.format {
        Format::Pprof | Format::GoroutineDebug1 => true,
        _ => snapshot
            .goroutines()
            .iter()
            .any(|g| g.labels != LabelSetId::NONE),
    }
}

/// Groups the records of `snapshots` (already in series order).
pub fn group(table: &StackTable, snapshots: &[&Snapshot], mode: &LabelMode) -> Vec<Group> {
    let split = match mode {
        LabelMode::Auto => !snapshots.is_empty() && snapshots.iter().all(|s| records_labels(s)),
        LabelMode::Merge => false,
        LabelMode::Split | LabelMode::SplitBy(_) => true,
    };
    let keys: Option<Vec<StrId>> = match mode {
        LabelMode::SplitBy(keys) => Some(keys.iter().filter_map(|k| table.find_str(k)).collect()),
        _ => None,
    };
    let project = |labels: LabelSetId| -> LabelKey {
        if !split {
            return LabelKey::default();
        }
        table
            .labels(labels)
            .iter()
            .filter(|(k, _)| keys.as_ref().is_none_or(|keys| keys.contains(k)))
            .copied()
            .collect()
    };

    let mut canon = Canonicalizer::default();
    let mut index: FxHashMap<(Box<[FrameId]>, LabelKey), usize> = FxHashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    let n = snapshots.len();
    for (si, snapshot) in snapshots.iter().enumerate() {
        for (ri, r) in records(snapshot).into_iter().enumerate() {
            let key: Box<[FrameId]> = canon.canonical(table, r.stack, r.elided).into();
            let labels = project(r.labels);
            let gi = *index
                .entry((key.clone(), labels.clone()))
                .or_insert_with(|| {
                    groups.push(Group::new(key, labels, r.stack, n));
                    groups.len() - 1
                });
            let g = &mut groups[gi];
            // Counts of sampled profiles are any i64: sums saturate.
            g.counts[si] = g.counts[si].saturating_add(r.count);
            if table.depth(r.stack) > table.depth(g.stack) {
                g.stack = r.stack;
            }
            let reason = if r.state != StrId::EMPTY {
                Some(table.str(r.state))
            } else {
                infer_wait_reason(table, r.stack)
            };
            if let Some(reason) = reason {
                add(
                    g.wait_reasons.entry(reason.to_owned()).or_default(),
                    r.count,
                );
            }
            if let Some(m) = r.wait_minutes {
                // Ages come from the newest snapshot that prints them.
                let si = si as u32;
                if g.wait_minutes_from != Some(si) {
                    g.wait_minutes.clear();
                    g.wait_minutes_from = Some(si);
                }
                add(g.wait_minutes.entry(m).or_default(), r.count);
            }
            if let Some(c) = r.created_by {
                add(g.created_by.entry(c).or_default(), r.count);
            }
            add(g.label_sets.entry(r.labels).or_default(), r.count);
            add(&mut g.runtime_leaked, if r.leaked { r.count } else { 0 });
            add(&mut g.locked_to_thread, if r.locked { r.count } else { 0 });
            g.members.push(Member {
                snapshot: si as u32,
                record: ri as u32,
            });
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_frames_do_not_split_groups() {
        let mut t = StackTable::default();
        let park = t.intern_frame("runtime.gopark", "runtime/proc.go", 1);
        let send = t.intern_frame("runtime.chansend1", "runtime/chan.go", 2);
        let app = t.intern_frame("main.f", "main.go", 3);
        let exit = t.intern_frame("runtime.goexit", "runtime/asm.s", 4);
        let full = t.intern_inner_first(&[park, send, app, exit]);
        let bare = t.intern_inner_first(&[app]);
        let mut c = Canonicalizer::default();
        assert_eq!(c.canonical(&t, full, false), &[app]);
        assert_eq!(c.canonical(&t, bare, false), &[app]);
        // All-runtime stacks keep their frames rather than becoming empty.
        let rt = t.intern_inner_first(&[park, exit]);
        assert_eq!(c.canonical(&t, rt, false), &[park, exit]);
    }
}
