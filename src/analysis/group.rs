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

use super::wait::wait_reason;
use crate::model::{
    Format, FrameId, Goroutine, LabelSetId, LabelValue, Snapshot, SnapshotData, StackId,
    StackTable, StrId, WaitReason,
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

/// A group's identity that holds across stack tables (another session, a
/// rebuilt window, another instance of the same service): its canonical
/// frames' functions and lines, and its labels, as text.
pub fn stable_key(table: &StackTable, group: &Group) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for &f in &group.key {
        table.function(f).hash(&mut h);
        table.frame(f).line.hash(&mut h);
    }
    for (k, v) in &group.labels {
        table.str(*k).hash(&mut h);
        match v {
            LabelValue::Str(s) => table.str(*s).hash(&mut h),
            LabelValue::Num { value, unit } => {
                value.hash(&mut h);
                table.str(*unit).hash(&mut h);
            }
        }
    }
    h.finish()
}

/// Goroutines sharing a canonical stack (and labels, when split by them).
#[derive(Clone, Debug)]
pub struct Group {
    /// Canonical frames, innermost first.
    pub key: Box<[FrameId]>,
    /// The labels the group was split by (empty unless split), sorted by key,
    /// to name the request kind in lists.
    pub labels: LabelKey,
    /// The deepest stack seen among members, for display: it shows the
    /// runtime frames where some dialect printed them.
    pub stack: StackId,
    /// Goroutines per series snapshot.
    pub counts: Vec<u64>,
    /// What the goroutines were doing, with goroutine counts over all
    /// snapshots (printed, or told from the stack): one group can hold
    /// runnable and waiting goroutines of the same call path.
    pub wait_reasons: BTreeMap<WaitReason, u64>,
    /// Wait ages in minutes with goroutine counts, last snapshot that has them.
    pub wait_minutes: BTreeMap<u32, u64>,
    /// Creation sites (`created by` frames or creator stacks) with counts.
    pub created_by: FxHashMap<StackId, u64>,
    /// Full label sets with goroutine counts, whatever the grouping mode,
    /// in the newest snapshot the group is in (summing over snapshots would
    /// count the same goroutines once per snapshot).
    pub label_sets: FxHashMap<LabelSetId, u64>,
    /// Goroutines the runtime marked `(leaked)` in a dump of the series:
    /// the most in any one snapshot (the same goroutines stay marked in
    /// every later dump, so summing would count them again).
    pub runtime_leaked: u64,
    /// Goroutines of the group in a `goroutineleak` profile (the most in
    /// any one): every one of them the garbage collector proved leaked.
    pub proven_by_profile: u64,
    /// Goroutines locked to an OS thread.
    pub locked_to_thread: u64,
    /// Snapshot index of the last wait-age update, so ages come from the newest one.
    wait_minutes_from: Option<u32>,
    /// `(leaked)` marks counted so far in one snapshot: (snapshot, count).
    leaked_in: (u32, u64),
    /// Snapshot the label counts are from.
    labels_from: Option<u32>,
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
            proven_by_profile: 0,
            locked_to_thread: 0,
            wait_minutes_from: None,
            leaked_in: (0, 0),
            labels_from: None,
        }
    }

    /// The most common wait reason; on a tie a wait before a running state,
    /// since the wait is where a leak would be.
    pub fn wait_reason(&self) -> Option<WaitReason> {
        self.wait_reasons
            .iter()
            .filter(|(r, _)| **r != WaitReason::Unknown)
            .max_by_key(|(r, n)| (**n, r.is_waiting(), std::cmp::Reverse(**r)))
            .map(|(r, _)| *r)
    }

    /// The most common creation site.
    pub fn created_by(&self) -> Option<StackId> {
        self.created_by
            .iter()
            .max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)))
            .map(|(s, _)| *s)
    }

    /// The count in the newest snapshot: how many goroutines the group holds
    /// now.
    pub fn last_count(&self) -> u64 {
        self.counts.last().copied().unwrap_or(0)
    }

    /// Goroutines the runtime itself proved leaked: by its `goroutineleak`
    /// profile or its `(leaked)` marks, whichever says more.
    pub fn proven(&self) -> u64 {
        self.runtime_leaked.max(self.proven_by_profile)
    }
}

/// Computes canonical stacks, remembering them per stack id.
#[derive(Clone, Debug, Default)]
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

/// Whether labels split groups, for `mode` and the snapshots of a series.
pub fn splits_by_labels(mode: &LabelMode, snapshots: &[&Snapshot]) -> bool {
    match mode {
        LabelMode::Auto => !snapshots.is_empty() && snapshots.iter().all(|s| records_labels(s)),
        LabelMode::Merge => false,
        LabelMode::Split | LabelMode::SplitBy(_) => true,
    }
}

/// Groups snapshots one at a time, so a session that grows by one capture
/// costs the new capture's records, not the whole session again: the
/// canonical stacks of earlier snapshots stay cached and every group keeps
/// its place.
#[derive(Clone, Debug, Default)]
pub struct Grouper {
    canon: Canonicalizer,
    index: FxHashMap<(Box<[FrameId]>, LabelKey), u32>,
    /// Wait reasons by (stated text, stack): each pair read once.
    reasons: FxHashMap<(StrId, StackId), WaitReason>,
    split: bool,
    keys: Option<Vec<String>>,
}

impl Grouper {
    /// A grouper for `mode`; `split` says whether labels split groups in this
    /// session (decided once, so groups of later snapshots line up with earlier
    /// ones).
    pub fn new(mode: &LabelMode, split: bool) -> Grouper {
        Grouper {
            split,
            keys: match mode {
                LabelMode::SplitBy(keys) => Some(keys.clone()),
                _ => None,
            },
            ..Grouper::default()
        }
    }

    /// Whether labels split groups, which an incremental update must keep or
    /// start over.
    pub fn splits_by_labels(&self) -> bool {
        self.split
    }

    fn project(&self, table: &StackTable, labels: LabelSetId) -> LabelKey {
        if !self.split {
            return LabelKey::default();
        }
        // Keys are looked up on every snapshot: a key may first appear in a later one.
        let keys: Option<Vec<StrId>> = self
            .keys
            .as_ref()
            .map(|keys| keys.iter().filter_map(|k| table.find_str(k)).collect());
        table
            .labels(labels)
            .iter()
            .filter(|(k, _)| keys.as_ref().is_none_or(|keys| keys.contains(k)))
            .copied()
            .collect()
    }

    /// The group a record belongs to, made with `n` zero counts if new,
    /// and the record's wait reason.
    fn place(
        &mut self,
        table: &StackTable,
        r: &Record,
        n: usize,
        groups: &mut Vec<Group>,
    ) -> (u32, WaitReason) {
        let key: Box<[FrameId]> = self.canon.canonical(table, r.stack, r.elided).into();
        let labels = self.project(table, r.labels);
        let gi = *self
            .index
            .entry((key.clone(), labels.clone()))
            .or_insert_with(|| {
                groups.push(Group::new(key, labels, r.stack, n));
                (groups.len() - 1) as u32
            });
        let reason = *self
            .reasons
            .entry((r.state, r.stack))
            .or_insert_with(|| wait_reason(table, r.state, r.stack));
        (gi, reason)
    }

    /// Adds the next snapshot of the series (index `si`, `groups[..].counts`
    /// already one longer), returning the group of each of its records.
    pub fn add(
        &mut self,
        table: &StackTable,
        snapshot: &Snapshot,
        si: usize,
        groups: &mut Vec<Group>,
    ) -> Vec<u32> {
        records(snapshot)
            .into_iter()
            .map(|r| {
                let (gi, reason) = self.place(table, &r, si + 1, groups);
                groups[gi as usize].add(table, &r, reason, si as u32);
                gi
            })
            .collect()
    }

    /// Takes in a goroutine dump of another dialect than the series' (the
    /// `debug=2` dump a capture takes after its protobuf snapshots): the
    /// same goroutines as the series' newest moment, in more detail, so it
    /// adds no step and no group, only what the series' dialect lacks: wait
    /// ages, creators and the runtime's `(leaked)` marks. `detail` numbers
    /// it apart from the series' snapshots.
    pub fn add_detail(
        &mut self,
        table: &StackTable,
        snapshot: &Snapshot,
        detail: u32,
        groups: &mut [Group],
    ) {
        let si = u32::MAX - detail;
        // A dump without labels beside labelled snapshots: its goroutines
        // belong to every label group of their stack.
        let by_stack: Option<FxHashMap<Box<[FrameId]>, Vec<u32>>> =
            (self.split && !records_labels(snapshot)).then(|| {
                let mut m: FxHashMap<Box<[FrameId]>, Vec<u32>> = FxHashMap::default();
                for ((key, _), &gi) in &self.index {
                    m.entry(key.clone()).or_default().push(gi);
                }
                m
            });
        for r in records(snapshot) {
            let key: Box<[FrameId]> = self.canon.canonical(table, r.stack, r.elided).into();
            let targets: Vec<u32> = match &by_stack {
                Some(m) => m.get(&key).cloned().unwrap_or_default(),
                None => {
                    let labels = self.project(table, r.labels);
                    self.index
                        .get(&(key, labels))
                        .copied()
                        .into_iter()
                        .collect()
                }
            };
            for gi in targets {
                groups[gi as usize].add_detail(&r, si);
            }
        }
    }
}

impl Group {
    /// What a detail dump's record adds to the group (see
    /// [`Grouper::add_detail`]).
    fn add_detail(&mut self, r: &Record, si: u32) {
        if let Some(m) = r.wait_minutes {
            if self.wait_minutes_from != Some(si) {
                self.wait_minutes.clear();
                self.wait_minutes_from = Some(si);
            }
            add(self.wait_minutes.entry(m).or_default(), r.count);
        }
        if self.created_by.is_empty()
            && let Some(c) = r.created_by
        {
            add(self.created_by.entry(c).or_default(), r.count);
        }
        self.count_leaked(r, si);
    }
}

impl Grouper {
    /// Takes in a `goroutineleak` profile: evidence about one moment, not a
    /// step of the series, so it adds no counts. Each group's goroutines in
    /// it were proven leaked; a group only the profile shows (leaked
    /// goroutines of a stack the series never saw) joins with zero counts.
    pub fn add_evidence(
        &mut self,
        table: &StackTable,
        snapshot: &Snapshot,
        series_len: usize,
        groups: &mut Vec<Group>,
    ) {
        let mut proven: FxHashMap<u32, u64> = FxHashMap::default();
        for r in records(snapshot) {
            let (gi, reason) = self.place(table, &r, series_len, groups);
            let g = &mut groups[gi as usize];
            if g.counts.iter().all(|&c| c == 0) {
                // Known only from the profile: what it says is all there is.
                if table.depth(r.stack) > table.depth(g.stack) {
                    g.stack = r.stack;
                }
                g.add_facts(&r, reason);
            }
            add(proven.entry(gi).or_default(), r.count);
        }
        for (gi, n) in proven {
            let g = &mut groups[gi as usize];
            g.proven_by_profile = g.proven_by_profile.max(n);
        }
    }
}

impl Group {
    /// Counts one record of series snapshot `si` in.
    fn add(&mut self, table: &StackTable, r: &Record, reason: WaitReason, si: u32) {
        // Counts of sampled profiles are any i64: sums saturate.
        let c = &mut self.counts[si as usize];
        *c = c.saturating_add(r.count);
        if table.depth(r.stack) > table.depth(self.stack) {
            self.stack = r.stack;
        }
        if let Some(m) = r.wait_minutes {
            // Ages come from the newest snapshot that prints them.
            if self.wait_minutes_from != Some(si) {
                self.wait_minutes.clear();
                self.wait_minutes_from = Some(si);
            }
            add(self.wait_minutes.entry(m).or_default(), r.count);
        }
        self.count_leaked(r, si);
        if self.labels_from != Some(si) {
            self.label_sets.clear();
            self.labels_from = Some(si);
        }
        self.add_facts(r, reason);
    }

    /// Counts a record's `(leaked)` mark, for the snapshot `si` it is in.
    fn count_leaked(&mut self, r: &Record, si: u32) {
        if r.leaked {
            if self.leaked_in.0 != si {
                self.leaked_in = (si, 0);
            }
            add(&mut self.leaked_in.1, r.count);
            self.runtime_leaked = self.runtime_leaked.max(self.leaked_in.1);
        }
    }

    /// What a record says of the group besides its count: reason, creator,
    /// labels, thread lock.
    fn add_facts(&mut self, r: &Record, reason: WaitReason) {
        add(self.wait_reasons.entry(reason).or_default(), r.count);
        if let Some(c) = r.created_by {
            add(self.created_by.entry(c).or_default(), r.count);
        }
        add(self.label_sets.entry(r.labels).or_default(), r.count);
        add(
            &mut self.locked_to_thread,
            if r.locked { r.count } else { 0 },
        );
    }
}

/// Groups the records of `snapshots` (already in series order), with the
/// group of every record of every snapshot.
pub fn group(
    table: &StackTable,
    snapshots: &[&Snapshot],
    mode: &LabelMode,
) -> (Vec<Group>, Vec<Vec<u32>>, Grouper) {
    let mut grouper = Grouper::new(mode, splits_by_labels(mode, snapshots));
    let mut groups: Vec<Group> = Vec::new();
    let mut record_groups = Vec::with_capacity(snapshots.len());
    for (si, snapshot) in snapshots.iter().enumerate() {
        for g in &mut groups {
            g.counts.push(0);
        }
        record_groups.push(grouper.add(table, snapshot, si, &mut groups));
    }
    (groups, record_groups, grouper)
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
