//! From decoded events to a [`Trace`]: the part both wire formats share.
//!
//! Each format's decoder replays its events twice through a [`Sink`]. The
//! first replay ([`Counter`]) only counts how many span slots every
//! goroutine needs and which (reason, stack) pairs occur; after that the
//! goroutine table, the detail table and one span array of the exact size
//! exist, and the second replay ([`Writer`]) drops each transition into its
//! goroutine's slot. Replaying twice costs one more decoding pass but no
//! intermediate copy of the transitions, which would double peak memory.
//! Segments (generations) replay in parallel: each knows from the counts
//! where its share of every goroutine's range begins, so writers never
//! touch the same slot. Then every goroutine's slots are sorted by time and
//! compacted into final spans ([`compact`]).

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::formats::{FormatError, Limits};
use crate::model::timeline::{
    GoIndex, GoInfo, GoState, ProcSpan, SpanDetail, StwSpan, TimeSpan, UserLog, UserRegion,
    UserTask, initial_kind, packed, status_kind,
};
use crate::model::{CpuSample, StackId, StrId, Warnings};

pub const FORMAT: &str = "trace";

// Kinds that only live between decoding and compaction (see `packed`).
pub(super) const HOLE: u8 = 0;
/// A legacy GoSysCall: a real syscall span if a GoSysBlock follows it.
pub(super) const LEGACY_SYSCALL: u8 = 21;
/// The slot after a legacy GoSysCall: becomes "back to running" unless the
/// syscall blocked.
pub(super) const SYSCALL_PLACEHOLDER: u8 = 22;
/// A legacy GoSysBlock; only decides the fate of the placeholder.
pub(super) const SYSBLOCK_MARKER: u8 = 23;
/// `BURST + offset`: legacy trace-start burst events (4.6 of the format doc).
pub(super) const BURST: u8 = 24;

pub(super) fn burst_kind(state: GoState) -> u8 {
    BURST + initial_kind(state) - packed::INITIAL
}

/// A transition's detail as the decoder sees it, before global ids exist.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum RawDetail {
    None,
    /// (reason, stack) in the segment's own ids; (0, 0) is "nothing".
    Combo(u64, u64),
    /// A goroutine id; 0 for none.
    Goroutine(u64),
    /// A P id; `None` where the thread held no P.
    Proc(Option<u64>),
}

/// Receives goroutine transitions in replay order.
pub(super) trait Sink {
    fn go(&mut self, g: u64, tick: u64, kind: u8, detail: RawDetail);
}

/// First replay: how many slots each goroutine needs, and which combos exist.
#[derive(Debug, Default)]
pub(super) struct Counter {
    pub counts: FxHashMap<u64, u32>,
    pub combos: FxHashSet<(u64, u64)>,
}

impl Sink for Counter {
    #[inline]
    fn go(&mut self, g: u64, _tick: u64, _kind: u8, detail: RawDetail) {
        let c = self.counts.entry(g).or_insert(0);
        *c = c.saturating_add(1);
        if let RawDetail::Combo(a, b) = detail
            && (a, b) != (0, 0)
        {
            self.combos.insert((a, b));
        }
    }
}

/// Goroutine id to position in the goroutine table.
#[derive(Debug)]
pub(super) enum IdIndex {
    /// Go allocates ids densely, so a table beats hashing when it is small.
    Dense {
        min: u64,
        table: Vec<u32>,
    },
    Sparse(FxHashMap<u64, u32>),
}

impl IdIndex {
    /// `ids` sorted and unique.
    pub fn new(ids: &[u64]) -> IdIndex {
        let (Some(&min), Some(&max)) = (ids.first(), ids.last()) else {
            return IdIndex::Sparse(FxHashMap::default());
        };
        let range = max - min;
        if range < (ids.len() as u64).saturating_mul(4).saturating_add(1 << 16) {
            let mut table = vec![u32::MAX; range as usize + 1];
            for (i, &id) in ids.iter().enumerate() {
                if let Some(slot) = table.get_mut((id - min) as usize) {
                    *slot = i as u32;
                }
            }
            IdIndex::Dense { min, table }
        } else {
            IdIndex::Sparse(
                ids.iter()
                    .enumerate()
                    .map(|(i, &id)| (id, i as u32))
                    .collect(),
            )
        }
    }

    #[inline]
    pub fn get(&self, id: u64) -> Option<u32> {
        match self {
            IdIndex::Dense { min, table } => {
                let i = id.checked_sub(*min)?;
                let v = *table.get(usize::try_from(i).ok()?)?;
                (v != u32::MAX).then_some(v)
            }
            IdIndex::Sparse(map) => map.get(&id).copied(),
        }
    }

    /// Index + 1 as stored in span details, 0 for none or too large.
    #[inline]
    pub fn detail(&self, id: u64) -> u32 {
        match self.get(id) {
            Some(i) if i < packed::MAX_DETAIL => i + 1,
            _ => 0,
        }
    }

    pub fn go_index(&self, id: u64) -> Option<GoIndex> {
        self.get(id).map(|i| GoIndex::from_index(i as usize))
    }
}

/// Trace clock to packed span time.
#[derive(Copy, Clone, Debug)]
pub(super) struct Clock {
    pub ns_per_tick: f64,
    pub base_ns: i64,
    pub shift: u32,
}

impl Clock {
    #[inline]
    pub fn ns(&self, tick: u64) -> i64 {
        ticks_to_ns(tick, self.ns_per_tick)
    }

    #[inline]
    pub fn packed(&self, tick: u64) -> u64 {
        let rel = self.ns(tick).saturating_sub(self.base_ns).max(0) as u64;
        rel >> self.shift
    }
}

#[inline]
pub(super) fn ticks_to_ns(tick: u64, ns_per_tick: f64) -> i64 {
    // `as` saturates, so garbage ticks in a damaged file stay in range.
    (tick as f64 * ns_per_tick) as i64
}

/// The smallest shift that fits a window of `len_ns` into packed time.
pub(super) fn time_shift(len_ns: i64) -> u32 {
    let len = len_ns.max(0) as u64;
    let mut shift = 0;
    while shift < 40 && (len >> shift) > packed::MAX_TIME {
        shift += 1;
    }
    shift
}

/// Second replay: packed words into their slots.
pub(super) struct Writer<'a> {
    pub slots: &'a [AtomicU64],
    pub index: &'a IdIndex,
    /// Next free slot of each goroutine in this segment, by goroutine index.
    pub cursor: Cursor,
    /// Segment combo to global detail id.
    pub combos: FxHashMap<(u64, u64), u32>,
    pub clock: Clock,
    /// Transitions that found no slot (never expected; counted, not fatal).
    pub lost: u64,
    /// Unblockers that are not goroutines of the trace or do not fit a detail.
    pub unresolved: u64,
}

impl Sink for Writer<'_> {
    #[inline]
    fn go(&mut self, g: u64, tick: u64, kind: u8, detail: RawDetail) {
        let Some(gi) = self.index.get(g) else {
            self.lost += 1;
            return;
        };
        let Some(cur) = self.cursor.get_mut(gi) else {
            self.lost += 1;
            return;
        };
        let slot = *cur;
        *cur = cur.saturating_add(1);
        let detail = match detail {
            RawDetail::None => 0,
            RawDetail::Combo(a, b) => self.combos.get(&(a, b)).copied().unwrap_or(0),
            RawDetail::Goroutine(id) => {
                let d = if id == 0 { 0 } else { self.index.detail(id) };
                if d == 0 && id != 0 {
                    self.unresolved += 1;
                }
                d
            }
            RawDetail::Proc(p) => p
                .and_then(|p| u32::try_from(p).ok())
                .filter(|&p| p < packed::MAX_DETAIL)
                .map_or(0, |p| p + 1),
        };
        match self.slots.get(slot as usize) {
            Some(s) => s.store(
                packed::pack(self.clock.packed(tick), kind, detail),
                Ordering::Relaxed,
            ),
            None => self.lost += 1,
        }
    }
}

/// Goroutine ids sorted, from every segment's counts.
pub(super) fn sorted_ids<'a>(counts: impl Iterator<Item = &'a FxHashMap<u64, u32>>) -> Vec<u64> {
    let mut ids: Vec<u64> = Vec::new();
    for c in counts {
        ids.extend(c.keys().copied());
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `(goroutine index, first slot)` of every goroutine a segment writes.
pub(super) type SegmentBases = Vec<(u32, u32)>;

/// Where each goroutine's slots begin: `n + 1` offsets, totals from every
/// segment's counts, checked against the limits.
pub(super) fn span_starts(
    ids: &[u64],
    index: &IdIndex,
    segments: &[&FxHashMap<u64, u32>],
    limits: &Limits,
) -> Result<Vec<u32>, FormatError> {
    if ids.len() as u64 > limits.max_goroutines {
        return Err(FormatError::Limit {
            format: FORMAT,
            what: "number of goroutines",
            limit: limits.max_goroutines,
        });
    }
    // Totals first, then turned into offsets in place.
    let mut starts = vec![0u32; ids.len() + 1];
    let cap = limits.max_trace_spans.min(u64::from(u32::MAX));
    let too_many = || FormatError::Limit {
        format: FORMAT,
        what: "number of goroutine state spans",
        limit: cap,
    };
    for seg in segments {
        for (&id, &c) in seg.iter() {
            if let Some(t) = index.get(id).and_then(|i| starts.get_mut(i as usize)) {
                *t = t.checked_add(c).ok_or_else(too_many)?;
            }
        }
    }
    let mut acc = 0u64;
    for s in &mut starts {
        let total = u64::from(*s);
        *s = acc as u32;
        acc += total;
        if acc > cap {
            return Err(too_many());
        }
    }
    Ok(starts)
}

/// For each segment in replay order, where its share of every goroutine's
/// slots begins.
pub(super) fn segment_bases(
    span_starts: &[u32],
    index: &IdIndex,
    segments: &[&FxHashMap<u64, u32>],
) -> Vec<SegmentBases> {
    let mut cursor: Vec<u32> = span_starts.to_vec();
    let mut bases = Vec::with_capacity(segments.len());
    for seg in segments {
        let mut list: SegmentBases = Vec::with_capacity(seg.len());
        for (&id, &c) in seg.iter() {
            if let Some(i) = index.get(id)
                && let Some(cur) = cursor.get_mut(i as usize)
            {
                list.push((i, *cur));
                *cur = cur.saturating_add(c);
            }
        }
        bases.push(list);
    }
    bases
}

/// Next free slot per goroutine index, while one segment is written.
#[derive(Debug)]
pub(super) enum Cursor {
    /// One entry per goroutine of the trace.
    Dense(Vec<u32>),
    /// Only the goroutines the segment writes. A trace of many short
    /// generations, each touching a few of many goroutines, would otherwise
    /// fill a whole array per generation: quadratic time on a small file.
    Sparse(FxHashMap<u32, u32>),
}

impl Cursor {
    #[inline]
    fn get_mut(&mut self, goroutine: u32) -> Option<&mut u32> {
        match self {
            Cursor::Dense(v) => v.get_mut(goroutine as usize),
            Cursor::Sparse(m) => m.get_mut(&goroutine),
        }
    }
}

/// The cursors of one segment from its `(goroutine, first slot)` list.
pub(super) fn cursor_for(bases: &[(u32, u32)], goroutines: usize) -> Cursor {
    if bases.len().saturating_mul(8) < goroutines {
        return Cursor::Sparse(bases.iter().copied().collect());
    }
    let mut cursor = vec![u32::MAX; goroutines];
    for &(g, first) in bases {
        if let Some(c) = cursor.get_mut(g as usize) {
            *c = first;
        }
    }
    Cursor::Dense(cursor)
}

/// Zeroed slots that segments fill in parallel.
pub(super) fn new_slots(n: usize) -> Vec<AtomicU64> {
    std::iter::repeat_with(|| AtomicU64::new(0))
        .take(n)
        .collect()
}

/// Sorts and compacts every goroutine's slots into spans.
///
/// Returns the spans and the goroutines' new start offsets (`span_starts`
/// is rewritten in place); the count says how many goroutines have
/// transitions that contradict each other. Nothing as large as a side
/// table per goroutine is allocated: this runs at the peak of memory use.
pub(super) fn finish(
    slots: Vec<AtomicU64>,
    mut span_starts: Vec<u32>,
) -> (Vec<u64>, Vec<u32>, u64) {
    // In-place: same size and alignment, so the allocation is reused.
    let mut spans: Vec<u64> = slots.into_iter().map(AtomicU64::into_inner).collect();
    let n = span_starts.len().saturating_sub(1);
    let start_of = |g: usize| span_starts.get(g).copied().unwrap_or(0) as usize;
    // Chunks of whole goroutines, about 64k slots each, sorted in parallel.
    let mut pieces: Vec<(&mut [u64], &[u32])> = Vec::new();
    let mut rest: &mut [u64] = &mut spans;
    let mut taken = 0usize;
    let mut g0 = 0;
    while g0 < n {
        let mut g1 = g0 + 1;
        while g1 < n && start_of(g1).saturating_sub(start_of(g0)) < 65_536 {
            g1 += 1;
        }
        let len = start_of(g1).saturating_sub(taken).min(rest.len());
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
        rest = tail;
        taken += len;
        pieces.push((head, span_starts.get(g0..=g1).unwrap_or(&[])));
        g0 = g1;
    }
    let inconsistent: u64 = pieces
        .into_par_iter()
        .map(|(chunk, starts)| {
            let base = starts.first().copied().unwrap_or(0) as usize;
            let mut bad = 0u64;
            for w in starts.windows(2) {
                let &[s, e] = w else { continue };
                let (s, e) = (s as usize, e as usize);
                let Some(slice) = chunk.get_mut(s.saturating_sub(base)..e.saturating_sub(base))
                else {
                    continue;
                };
                slice.sort_by_key(|&w| packed::time(w));
                let (len, consistent) = compact(slice);
                bad += u64::from(!consistent);
                // A shorter goroutine leaves its length in its last slot,
                // as a word of kind HOLE, which no span has.
                if len < slice.len()
                    && let Some(last) = slice.last_mut()
                {
                    *last = packed::pack(len as u64, HOLE, 0);
                }
            }
            bad
        })
        .sum();
    // Close the gaps left by compaction.
    let mut out = 0usize;
    for g in 0..n {
        let at = |g: usize| span_starts.get(g).copied().unwrap_or(0) as usize;
        let (from, end) = (at(g), at(g + 1));
        let len = match spans.get(end.wrapping_sub(1)) {
            Some(&w) if end > from && packed::kind(w) == HOLE => packed::time(w) as usize,
            _ => end.saturating_sub(from),
        };
        let len = len.min(spans.len().saturating_sub(from));
        if from != out {
            spans.copy_within(from..from + len, out);
        }
        if let Some(s) = span_starts.get_mut(g) {
            *s = out as u32;
        }
        out += len;
    }
    if let Some(s) = span_starts.get_mut(n) {
        *s = out as u32;
    }
    spans.truncate(out);
    // Large buffers are their own mappings, so this gives the tail back
    // without copying.
    spans.shrink_to_fit();
    (spans, span_starts, inconsistent)
}

fn state_of(kind: u8) -> Option<GoState> {
    crate::model::timeline::decode_kind(kind).map(|(s, _)| s)
}

/// Turns one goroutine's time-sorted slots into spans, in place.
///
/// Drops status events that restate the known state, places the first
/// state of goroutines that existed before the trace at the window start,
/// folds the legacy trace-start burst into that first state, and resolves
/// legacy syscalls (a GoSysCall is a syscall span only if a GoSysBlock
/// follows; otherwise the goroutine went straight back to running). Returns
/// the number of spans and whether the sequence was consistent.
pub(super) fn compact(s: &mut [u64]) -> (usize, bool) {
    let mut out = 0usize;
    let mut prev: Option<GoState> = None;
    let mut burst: Option<GoState> = None;
    let mut consistent = true;
    let mut i = 0usize;
    while let Some(&word) = s.get(i) {
        let kind = packed::kind(word);
        i += 1;
        if kind == HOLE || kind == SYSBLOCK_MARKER || kind == SYSCALL_PLACEHOLDER {
            continue;
        }
        if kind >= BURST {
            burst = state_of(kind - BURST + packed::INITIAL);
            continue;
        }
        if let Some(state) = burst.take() {
            if let Some(slot) = s.get_mut(out) {
                *slot = packed::pack(0, initial_kind(state), 0);
                out += 1;
            }
            prev = Some(state);
        }
        let mut emit = word;
        if kind == LEGACY_SYSCALL {
            emit = packed::with_kind(word, packed::SYSCALL_BEGAN);
            let blocked = s
                .get(i + 1)
                .is_some_and(|&w| packed::kind(w) == SYSBLOCK_MARKER);
            let placeholder = s
                .get(i)
                .copied()
                .filter(|&w| packed::kind(w) == SYSCALL_PLACEHOLDER);
            if let Some(slot) = s.get_mut(out) {
                *slot = emit;
                out += 1;
            }
            prev = Some(GoState::Syscall);
            if let Some(p) = placeholder {
                i += 1;
                if !blocked {
                    if let Some(slot) = s.get_mut(out) {
                        *slot = packed::with_kind(p, packed::SYSCALL_ENDED);
                        out += 1;
                    }
                    prev = Some(GoState::Running);
                }
            }
            continue;
        }
        let Some(state) = state_of(kind) else {
            continue;
        };
        if (packed::INITIAL..=packed::LAST_MODEL_KIND).contains(&kind) {
            let initial = kind < packed::STATUS;
            match prev {
                Some(p) if p == state => continue,
                Some(_) => {
                    consistent = false;
                    emit = packed::with_kind(word, status_kind(state));
                }
                None if initial => emit = packed::with_time(word, 0),
                None => {}
            }
        } else if let Some(p) = prev {
            consistent &= expected_from(kind).is_none_or(|f| f == p);
        }
        if let Some(slot) = s.get_mut(out) {
            *slot = emit;
            out += 1;
        }
        prev = Some(state);
    }
    if let Some(state) = burst
        && let Some(slot) = s.get_mut(out)
    {
        *slot = packed::pack(0, initial_kind(state), 0);
        out += 1;
    }
    (out, consistent)
}

/// The state a transition of `kind` starts from, where it is fixed.
fn expected_from(k: u8) -> Option<GoState> {
    use packed::*;
    match k {
        STARTED => Some(GoState::Runnable),
        STOPPED | BLOCKED | SYSCALL_BEGAN | ENDED => Some(GoState::Running),
        UNBLOCKED => Some(GoState::Waiting),
        SYSCALL_ENDED | SYSCALL_ENDED_BLOCKED | ENDED_IN_SYSCALL => Some(GoState::Syscall),
        _ => None,
    }
}

/// Interns (reason, stack) pairs; id 0 is (empty, empty).
#[derive(Debug)]
pub(super) struct Details {
    pub list: Vec<SpanDetail>,
    index: FxHashMap<SpanDetail, u32>,
    pub overflow: u64,
}

impl Default for Details {
    fn default() -> Self {
        let zero = SpanDetail {
            reason: StrId::EMPTY,
            stack: StackId::EMPTY,
        };
        let mut index = FxHashMap::default();
        index.insert(zero, 0);
        Details {
            list: vec![zero],
            index,
            overflow: 0,
        }
    }
}

impl Details {
    pub fn intern(&mut self, d: SpanDetail) -> u32 {
        if let Some(&id) = self.index.get(&d) {
            return id;
        }
        let id = self.list.len() as u32;
        if id >= packed::MAX_DETAIL {
            self.overflow += 1;
            return 0;
        }
        self.list.push(d);
        self.index.insert(d, id);
        id
    }
}

// ---------------------------------------------------------------------------
// Everything besides goroutine spans, collected during the first replay in
// the segment's raw terms and resolved once goroutine indices exist.

/// A `go` statement (or, in the legacy burst, a goroutine that existed).
#[derive(Copy, Clone, Debug)]
pub(super) struct RawCreation {
    pub g: u64,
    pub creator: u64,
    pub creator_stack: u64,
    pub start_stack: u64,
    pub tick: u64,
}

#[derive(Copy, Clone, Debug)]
pub(super) struct RawProc {
    pub p: u64,
    pub m: u64,
    pub start: u64,
    pub end: Option<u64>,
    /// Opened by a status event: it may continue a span of the previous segment.
    pub from_status: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum GcOp {
    Active,
    Begin,
    End,
}

#[derive(Copy, Clone, Debug)]
pub(super) enum RawAnnot {
    TaskBegin {
        task: u64,
        parent: u64,
        name: u64,
        stack: u64,
        g: u64,
    },
    TaskEnd {
        task: u64,
    },
    RegionBegin {
        task: u64,
        name: u64,
        stack: u64,
        g: u64,
    },
    RegionEnd {
        task: u64,
        name: u64,
        g: u64,
    },
    Log {
        task: u64,
        key: u64,
        value: u64,
        stack: u64,
        g: u64,
    },
}

#[derive(Copy, Clone, Debug)]
pub(super) struct RawCpu {
    pub tick: u64,
    pub m: u64,
    pub p: u64,
    pub g: u64,
    pub stack: u64,
}

/// What the first replay collects besides counts, in segment terms.
#[derive(Debug, Default)]
pub(super) struct Extras {
    pub creations: Vec<RawCreation>,
    pub labels: Vec<(u64, u64)>,
    pub procs: Vec<RawProc>,
    pub steals: Vec<(u64, u64)>,
    pub gc: Vec<(u64, GcOp)>,
    /// (tick, Some(kind) for a begin, None for an end).
    pub stw: Vec<(u64, Option<u64>)>,
    pub annots: Vec<(u64, RawAnnot)>,
    pub cpu: Vec<RawCpu>,
    pub min_tick: Option<u64>,
    pub max_tick: Option<u64>,
}

impl Extras {
    #[inline]
    pub fn saw_tick(&mut self, t: u64) {
        self.min_tick = Some(self.min_tick.map_or(t, |m| m.min(t)));
        self.max_tick = Some(self.max_tick.map_or(t, |m| m.max(t)));
    }
}

/// Turns a segment's ids into model ids.
pub(super) trait Resolve {
    fn string(&mut self, sid: u64) -> StrId;
    fn stack(&mut self, id: u64) -> StackId;
    fn ns(&self, tick: u64) -> i64;
}

/// The non-span parts of a trace, built segment by segment.
#[derive(Debug, Default)]
pub(super) struct Parts {
    pub goroutines: Vec<GoInfo>,
    pub labels: Vec<(GoIndex, StrId)>,
    pub procs: Vec<(ProcSpan, bool, bool)>,
    pub steals: Vec<(u64, i64)>,
    pub gc: Vec<(i64, GcOp)>,
    pub stw: Vec<(i64, Option<StrId>)>,
    pub annots: Vec<(i64, ResolvedAnnot)>,
    pub cpu: Vec<CpuSample>,
}

#[derive(Copy, Clone, Debug)]
pub(super) enum ResolvedAnnot {
    TaskBegin {
        task: u64,
        parent: u64,
        name: StrId,
        stack: StackId,
        g: Option<GoIndex>,
    },
    TaskEnd {
        task: u64,
    },
    RegionBegin {
        task: u64,
        name: StrId,
        stack: StackId,
        g: Option<GoIndex>,
    },
    RegionEnd {
        task: u64,
        name: StrId,
        g: Option<GoIndex>,
    },
    Log {
        task: u64,
        key: StrId,
        value: StrId,
        stack: StackId,
        g: Option<GoIndex>,
    },
}

const NONE_ID: u64 = u64::MAX;

impl Parts {
    pub fn new(ids: &[u64]) -> Parts {
        Parts {
            goroutines: vec![GoInfo::default(); ids.len()],
            ..Parts::default()
        }
    }

    /// Adds one segment's extras. `real_creation` says whether a creation
    /// event is a `go` statement inside the window (not a legacy burst
    /// record of a goroutine that already existed).
    pub fn add(
        &mut self,
        extras: Extras,
        index: &IdIndex,
        r: &mut impl Resolve,
        end_tick: u64,
        real_creation: impl Fn(&RawCreation) -> bool,
    ) {
        for c in &extras.creations {
            let Some(gi) = index.get(c.g) else { continue };
            let real = real_creation(c);
            let start_stack = r.stack(c.start_stack);
            let (creator, creator_stack) = if real {
                (
                    if c.creator == 0 {
                        0
                    } else {
                        index.detail(c.creator)
                    },
                    r.stack(c.creator_stack),
                )
            } else {
                (0, StackId::EMPTY)
            };
            if let Some(g) = self.goroutines.get_mut(gi as usize) {
                g.start_stack = start_stack;
                g.creator = creator;
                g.creator_stack = creator_stack;
            }
        }
        for &(g, sid) in &extras.labels {
            if let Some(gi) = index.go_index(g) {
                let s = r.string(sid);
                self.labels.push((gi, s));
            }
        }
        let end_ns = r.ns(end_tick);
        for p in &extras.procs {
            let Ok(pid) = u32::try_from(p.p) else {
                continue;
            };
            let start_ns = r.ns(p.start);
            let span = ProcSpan {
                p: pid,
                m: (p.m != NONE_ID).then_some(p.m),
                start_ns,
                end_ns: p.end.map_or(end_ns, |e| r.ns(e)).max(start_ns),
            };
            self.procs.push((span, p.from_status, p.end.is_none()));
        }
        for &(p, t) in &extras.steals {
            self.steals.push((p, r.ns(t)));
        }
        for &(t, op) in &extras.gc {
            self.gc.push((r.ns(t), op));
        }
        for &(t, kind) in &extras.stw {
            self.stw.push((r.ns(t), kind.map(|k| r.string(k))));
        }
        let go = |g: u64| if g == 0 { None } else { index.go_index(g) };
        for &(t, a) in &extras.annots {
            let resolved = match a {
                RawAnnot::TaskBegin {
                    task,
                    parent,
                    name,
                    stack,
                    g,
                } => ResolvedAnnot::TaskBegin {
                    task,
                    parent,
                    name: r.string(name),
                    stack: r.stack(stack),
                    g: go(g),
                },
                RawAnnot::TaskEnd { task } => ResolvedAnnot::TaskEnd { task },
                RawAnnot::RegionBegin {
                    task,
                    name,
                    stack,
                    g,
                } => ResolvedAnnot::RegionBegin {
                    task,
                    name: r.string(name),
                    stack: r.stack(stack),
                    g: go(g),
                },
                RawAnnot::RegionEnd { task, name, g } => ResolvedAnnot::RegionEnd {
                    task,
                    name: r.string(name),
                    g: go(g),
                },
                RawAnnot::Log {
                    task,
                    key,
                    value,
                    stack,
                    g,
                } => ResolvedAnnot::Log {
                    task,
                    key: r.string(key),
                    value: r.string(value),
                    stack: r.stack(stack),
                    g: go(g),
                },
            };
            self.annots.push((r.ns(t), resolved));
        }
        for c in &extras.cpu {
            self.cpu.push(CpuSample {
                time_ns: r.ns(c.tick),
                goroutine: go(c.g),
                p: u32::try_from(c.p).ok().filter(|_| c.p != NONE_ID),
                m: (c.m != NONE_ID).then_some(c.m),
                stack: r.stack(c.stack),
            });
        }
    }
}

/// The finished non-span collections.
pub(super) struct Built {
    pub goroutines: Vec<GoInfo>,
    pub labels: Vec<(GoIndex, StrId)>,
    pub procs: Vec<ProcSpan>,
    pub gc: Vec<TimeSpan>,
    pub stw: Vec<StwSpan>,
    pub tasks: Vec<UserTask>,
    pub regions: Vec<UserRegion>,
    pub logs: Vec<UserLog>,
    pub cpu: Vec<CpuSample>,
}

impl Parts {
    pub fn build(mut self, window_end_ns: i64) -> Built {
        self.labels.sort_by_key(|&(g, _)| g);
        self.labels.dedup_by_key(|&mut (g, _)| g);
        Built {
            procs: build_procs(self.procs, self.steals),
            gc: pair_gc(self.gc, window_end_ns),
            stw: pair_stw(self.stw, window_end_ns),
            tasks: Vec::new(),
            regions: Vec::new(),
            logs: Vec::new(),
            cpu: {
                let mut c = self.cpu;
                c.sort_by_key(|s| s.time_ns);
                c
            },
            goroutines: self.goroutines,
            labels: self.labels,
        }
        .with_annotations(self.annots)
    }
}

impl Built {
    fn with_annotations(mut self, mut annots: Vec<(i64, ResolvedAnnot)>) -> Built {
        annots.sort_by_key(|&(t, _)| t);
        let mut task_index: FxHashMap<u64, usize> = FxHashMap::default();
        let mut open_regions: FxHashMap<Option<GoIndex>, Vec<usize>> = FxHashMap::default();
        for (t, a) in annots {
            match a {
                ResolvedAnnot::TaskBegin {
                    task,
                    parent,
                    name,
                    stack,
                    g,
                } => {
                    task_index.insert(task, self.tasks.len());
                    self.tasks.push(UserTask {
                        id: task,
                        parent: (parent != 0).then_some(parent),
                        name,
                        start_ns: Some(t),
                        end_ns: None,
                        goroutine: g,
                        stack,
                    });
                }
                ResolvedAnnot::TaskEnd { task } => match task_index.get(&task) {
                    Some(&i) => {
                        if let Some(tk) = self.tasks.get_mut(i) {
                            tk.end_ns = Some(t);
                        }
                    }
                    None => {
                        task_index.insert(task, self.tasks.len());
                        self.tasks.push(UserTask {
                            id: task,
                            parent: None,
                            name: StrId::EMPTY,
                            start_ns: None,
                            end_ns: Some(t),
                            goroutine: None,
                            stack: StackId::EMPTY,
                        });
                    }
                },
                ResolvedAnnot::RegionBegin {
                    task,
                    name,
                    stack,
                    g,
                } => {
                    open_regions.entry(g).or_default().push(self.regions.len());
                    self.regions.push(UserRegion {
                        goroutine: g,
                        task,
                        name,
                        start_ns: Some(t),
                        end_ns: None,
                        stack,
                    });
                }
                ResolvedAnnot::RegionEnd { task, name, g } => {
                    let open = open_regions.entry(g).or_default();
                    let found = open.iter().rposition(|&i| {
                        self.regions
                            .get(i)
                            .is_some_and(|r| r.name == name && r.task == task)
                    });
                    match found {
                        Some(pos) => {
                            let i = open.remove(pos);
                            if let Some(r) = self.regions.get_mut(i) {
                                r.end_ns = Some(t);
                            }
                        }
                        None => self.regions.push(UserRegion {
                            goroutine: g,
                            task,
                            name,
                            start_ns: None,
                            end_ns: Some(t),
                            stack: StackId::EMPTY,
                        }),
                    }
                }
                ResolvedAnnot::Log {
                    task,
                    key,
                    value,
                    stack,
                    g,
                } => self.logs.push(UserLog {
                    time_ns: t,
                    goroutine: g,
                    task,
                    key,
                    value,
                    stack,
                }),
            }
        }
        self
    }
}

/// P spans from per-thread open/close records: spans a generation boundary
/// cut are joined again, a P taken by another thread ends there, and no P
/// is on two threads at once.
fn build_procs(mut raw: Vec<(ProcSpan, bool, bool)>, mut steals: Vec<(u64, i64)>) -> Vec<ProcSpan> {
    raw.sort_by_key(|(s, _, _)| (s.p, s.start_ns));
    steals.sort_unstable();
    let mut out: Vec<(ProcSpan, bool)> = Vec::with_capacity(raw.len());
    for (span, from_status, open_end) in raw {
        if let Some((last, last_open)) = out.last_mut()
            && last.p == span.p
        {
            if *last_open && from_status && last.m == span.m {
                last.end_ns = last.end_ns.max(span.end_ns);
                *last_open = open_end;
                continue;
            }
            last.end_ns = last.end_ns.min(span.start_ns).max(last.start_ns);
        }
        out.push((span, open_end));
    }
    let mut procs: Vec<ProcSpan> = out.into_iter().map(|(s, _)| s).collect();
    for (p, t) in steals {
        let Ok(p) = u32::try_from(p) else { continue };
        let i = procs.partition_point(|s| (s.p, s.start_ns) <= (p, t));
        if let Some(s) = i.checked_sub(1).and_then(|i| procs.get_mut(i))
            && s.p == p
            && s.end_ns > t
        {
            s.end_ns = t;
        }
    }
    procs
}

fn pair_gc(mut events: Vec<(i64, GcOp)>, end_ns: i64) -> Vec<TimeSpan> {
    events.sort_by_key(|&(t, _)| t);
    let mut out = Vec::new();
    let mut open: Option<i64> = None;
    for (t, op) in events {
        match op {
            GcOp::Begin | GcOp::Active => {
                if open.is_none() {
                    open = Some(t);
                }
            }
            GcOp::End => {
                out.push(TimeSpan {
                    start_ns: open.take().unwrap_or(t),
                    end_ns: t,
                });
            }
        }
    }
    if let Some(s) = open {
        out.push(TimeSpan {
            start_ns: s,
            end_ns: end_ns.max(s),
        });
    }
    out
}

fn pair_stw(mut events: Vec<(i64, Option<StrId>)>, end_ns: i64) -> Vec<StwSpan> {
    events.sort_by_key(|&(t, _)| t);
    let mut out = Vec::new();
    let mut open: Option<(i64, StrId)> = None;
    for (t, kind) in events {
        match kind {
            Some(k) => {
                if let Some((s, k0)) = open.take() {
                    out.push(StwSpan {
                        start_ns: s,
                        end_ns: t,
                        kind: k0,
                    });
                }
                open = Some((t, k));
            }
            None => {
                if let Some((s, k)) = open.take() {
                    out.push(StwSpan {
                        start_ns: s,
                        end_ns: t,
                        kind: k,
                    });
                }
            }
        }
    }
    if let Some((s, k)) = open {
        out.push(StwSpan {
            start_ns: s,
            end_ns: end_ns.max(s),
            kind: k,
        });
    }
    out
}

/// Counts per event name in a stable order.
pub(super) fn named_counts(names: &[(&'static str, u64)]) -> Vec<(&'static str, u64)> {
    let mut map: FxHashMap<&'static str, u64> = FxHashMap::default();
    for &(n, c) in names {
        if c > 0 {
            *map.entry(n).or_insert(0) += c;
        }
    }
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_unstable();
    v
}

/// Adds the warnings every format emits after assembly.
pub(super) fn assembly_warnings(
    warnings: &mut Warnings,
    lost: u64,
    inconsistent: u64,
    detail_overflow: u64,
) {
    warnings.add_n("trace-internal", lost, || {
        "some goroutine transitions found no slot and were dropped".into()
    });
    warnings.add_n("trace-inconsistent", inconsistent, || {
        "goroutines whose transitions contradict each other once ordered by time (events lost in a cut or damaged part of the trace, or clocks that disagree between threads)".into()
    });
    warnings.add_n("trace-detail-overflow", detail_overflow, || {
        format!(
            "more than {} distinct (reason, stack) pairs or goroutines to name in spans; the rest are shown without reason, stack or unblocker",
            packed::MAX_DETAIL
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timeline::packed::*;

    fn w(t: u64, k: u8) -> u64 {
        pack(t, k, 0)
    }

    #[test]
    fn compact_drops_restatements_and_moves_initial_state_to_start() {
        let waiting = initial_kind(GoState::Waiting);
        let st_wait = status_kind(GoState::Waiting);
        let mut s = [
            w(50, waiting),
            w(60, UNBLOCKED),
            w(70, STARTED),
            w(80, BLOCKED),
            w(90, st_wait),
        ];
        let (n, ok) = compact(&mut s);
        assert!(ok);
        assert_eq!(n, 4);
        assert_eq!(time(s[0]), 0);
        assert_eq!(kind(s[3]), BLOCKED);
    }

    #[test]
    fn compact_resolves_legacy_syscalls_and_burst() {
        let mut s = [
            w(1, burst_kind(GoState::Runnable)),
            w(1, burst_kind(GoState::Running)),
            w(5, HOLE),
            w(10, LEGACY_SYSCALL),
            w(10, SYSCALL_PLACEHOLDER),
            w(12, STOPPED),
            w(20, STARTED),
            w(30, LEGACY_SYSCALL),
            w(30, SYSCALL_PLACEHOLDER),
            w(31, SYSBLOCK_MARKER),
            w(40, SYSCALL_ENDED_BLOCKED),
        ];
        let (n, ok) = compact(&mut s);
        let kinds: Vec<u8> = s[..n].iter().map(|&x| kind(x)).collect();
        assert_eq!(
            kinds,
            vec![
                initial_kind(GoState::Running),
                SYSCALL_BEGAN,
                SYSCALL_ENDED,
                STOPPED,
                STARTED,
                SYSCALL_BEGAN,
                SYSCALL_ENDED_BLOCKED
            ]
        );
        assert!(ok);
    }

    #[test]
    fn slots_convert_in_place() {
        let slots = new_slots(1000);
        let before = slots.as_ptr() as usize;
        let v: Vec<u64> = slots.into_iter().map(AtomicU64::into_inner).collect();
        assert_eq!(v.as_ptr() as usize, before);
    }

    #[test]
    fn dense_and_sparse_indices_agree() {
        let ids = [3u64, 4, 9, 100];
        let d = IdIndex::new(&ids);
        assert!(matches!(d, IdIndex::Dense { .. }));
        assert_eq!(d.get(9), Some(2));
        assert_eq!(d.get(5), None);
        assert_eq!(d.get(1), None);
        let ids = [1u64, u64::MAX / 2];
        let s = IdIndex::new(&ids);
        assert!(matches!(s, IdIndex::Sparse(_)));
        assert_eq!(s.get(u64::MAX / 2), Some(1));
    }

    /// The 500 MB trace of `scripts/scale-test.sh` creates 2.8 million
    /// goroutines in its window; with 21 detail bits every unblocker past
    /// the 2,097,151st lost its name.
    #[test]
    fn unblockers_past_two_million_goroutines_keep_their_name() {
        let ids: Vec<u64> = (1..=3_000_000u64).collect();
        let index = IdIndex::new(&ids);
        let d = index.detail(2_900_000);
        assert_eq!(d, 2_900_000);
        let w = pack(5, UNBLOCKED, d);
        assert_eq!(detail(w), 2_900_000);
        // A two-minute window (the scale trace's) keeps 8 ns steps, finer
        // than Go's 64 ns trace tick.
        let shift = time_shift(120_000_000_000);
        assert_eq!(shift, 3);
        let t = 119_999_999_936u64;
        assert_eq!(time(pack(t >> shift, BLOCKED, 0)) << shift, t);
    }
}
