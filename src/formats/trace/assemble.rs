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
//! touch the same slot. Then every goroutine's slots are put in order
//! (Go 1.22+ replays already write them in Go's order; legacy ones are
//! sorted by time) and compacted into final spans ([`compact`]).

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::{FxHashMap, FxHashSet};

use super::extras::{Built, Resolve};
use super::slots::{Cursor, SKIP_FIRST};
use crate::formats::Loaded;
use crate::model::timeline::{
    GoIndex, GoState, SpanDetail, SwitchDetail, TimeSpan, Trace, initial_kind, packed, switch_marks,
};
use crate::model::{Input, Source, StackId, StackTable, StrId, Warnings};

mod compact;
pub(super) use compact::{SlotOrder, finish};

/// The name errors and notes give the execution trace format.
pub const FORMAT: &str = "trace";

// Kinds that only live between decoding and compaction (see `packed`).
pub(super) const HOLE: u8 = 0;
/// A legacy GoSysCall: a real syscall span if a GoSysBlock follows it.
pub(super) const LEGACY_SYSCALL: u8 = 22;
/// The slot after a legacy GoSysCall: becomes "back to running" unless the
/// syscall blocked.
pub(super) const SYSCALL_PLACEHOLDER: u8 = 23;
/// A legacy GoSysBlock; only decides the fate of the placeholder.
pub(super) const SYSBLOCK_MARKER: u8 = 24;
/// `BURST + offset`: legacy trace-start burst events ("The start burst" in
/// `docs/trace-format.md`).
pub(super) const BURST: u8 = 25;

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

/// How a transition moves a goroutine's place in Go's order (Go 1.22+;
/// see `v2::replay`).
#[derive(Copy, Clone, Debug)]
pub(super) enum Step {
    /// A status or creation: the goroutine's first mention in a generation.
    First,
    /// A status written after the generation's events, from no thread, for
    /// a goroutine the generation mentions nowhere else.
    Closing,
    /// Something the goroutine's own thread did; no sequence number.
    Own,
    /// A sequenced step (start, unblock, coroutine switch) with its number.
    Seq(u64),
}

/// Receives goroutine transitions in replay order.
pub(super) trait Sink {
    fn go(&mut self, g: u64, tick: u64, kind: u8, detail: RawDetail);

    /// `go`, and whether a sequenced step came in its turn: the goroutine
    /// in the state the step starts from, and the number one more than its
    /// last. Sinks that do not follow the order say yes.
    #[inline]
    fn go_in_turn(&mut self, g: u64, tick: u64, kind: u8, detail: RawDetail, _step: Step) -> bool {
        self.go(g, tick, kind, detail);
        true
    }

    /// A coroutine switch into `g` by goroutine `by` (0 for none) on P `p`:
    /// Unblocked and Started at once, both sequenced step `seq`, which
    /// the model stores as one word (`model::timeline::switches`). Returns
    /// whether both steps came in their turn, as `go_in_turn` would.
    fn switch_in(&mut self, g: u64, tick: u64, by: u64, p: Option<u64>, seq: u64) -> bool;

    /// Whether goroutine `g` may take sequenced step `seq` from `from` now,
    /// as far as the transitions handed over so far tell. Only the sink of
    /// a first replay keeps what this needs; a second one follows the
    /// order the first found, and never asks.
    fn allows(&self, _g: u64, _from: GoState, _seq: u64) -> bool {
        true
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
    /// Segment (switching goroutine, P) to global switch id.
    pub switches: FxHashMap<(u64, u64), u32>,
    /// The last few of `switches` looked up, and whether the goroutine
    /// is one of the trace.
    pub recent: RecentSwitches<(u32, bool)>,
    pub clock: Clock,
    /// Transitions that found no slot (never expected; counted, not fatal).
    pub lost: u64,
    /// Unblockers that are not goroutines of the trace or do not fit a detail.
    pub unresolved: u64,
}

impl Sink for Writer<'_> {
    #[inline]
    fn go(&mut self, g: u64, tick: u64, kind: u8, detail: RawDetail) {
        self.put(g, tick, kind, |w| match detail {
            RawDetail::None => 0,
            RawDetail::Combo(a, b) => w.combos.get(&(a, b)).copied().unwrap_or(0),
            RawDetail::Goroutine(id) => w.goroutine_detail(id),
            RawDetail::Proc(p) => proc_detail(p),
        });
    }

    #[inline]
    fn switch_in(&mut self, g: u64, tick: u64, by: u64, p: Option<u64>, _seq: u64) -> bool {
        let key = (by, p.unwrap_or(u64::MAX));
        self.put(g, tick, packed::SWITCHED_IN, |w| {
            let (detail, resolved) = match w.recent.get(key) {
                Some(v) => v,
                None => {
                    let d = w.switches.get(&key).copied().unwrap_or(0);
                    let v = (d, by == 0 || w.index.detail(by) != 0);
                    w.recent.put(key, v);
                    v
                }
            };
            // Counted as the Unblocked transition's unblocker would be.
            w.unresolved += u64::from(!resolved);
            detail
        });
        true
    }
}

/// The last few coroutine switches' (goroutine, P) pairs and what they
/// stand for. Coroutines switch back and forth between the same few pairs
/// (37 million times in `go test -trace` of `runtime/pprof`), and hashing
/// each switch cost more than the rest of its handling.
#[derive(Debug)]
pub(super) struct RecentSwitches<V>([Option<((u64, u64), V)>; 16]);

impl<V: Copy> Default for RecentSwitches<V> {
    fn default() -> Self {
        RecentSwitches([None; 16])
    }
}

impl<V: Copy> RecentSwitches<V> {
    #[inline]
    fn slot(key: (u64, u64)) -> usize {
        let h = (key.0 ^ key.1.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 60) as usize
    }

    #[inline]
    pub fn get(&self, key: (u64, u64)) -> Option<V> {
        match self.0.get(Self::slot(key)) {
            Some(&Some((k, v))) if k == key => Some(v),
            _ => None,
        }
    }

    #[inline]
    pub fn put(&mut self, key: (u64, u64), v: V) {
        if let Some(e) = self.0.get_mut(Self::slot(key)) {
            *e = Some((key, v));
        }
    }
}

impl Writer<'_> {
    /// A goroutine as a span detail, counting the ones that name nothing.
    #[inline(always)]
    fn goroutine_detail(&mut self, id: u64) -> u32 {
        let d = if id == 0 { 0 } else { self.index.detail(id) };
        if d == 0 && id != 0 {
            self.unresolved += 1;
        }
        d
    }

    /// Stores one transition in its goroutine's next slot; its `detail`
    /// is worked out only if it gets one (restatements are skipped).
    #[inline(always)]
    fn put(&mut self, g: u64, tick: u64, kind: u8, detail: impl FnOnce(&mut Self) -> u32) {
        let Some(gi) = self.index.get(g) else {
            self.lost += 1;
            return;
        };
        let restates = (packed::STATUS..=packed::LAST_STATUS).contains(&kind);
        let Some(cur) = self.cursor.get_mut(gi) else {
            // The plan gave it no slot here: its only transition was a
            // restatement (see `slots`).
            self.lost += u64::from(!restates);
            return;
        };
        if *cur & SKIP_FIRST != 0 {
            *cur &= !SKIP_FIRST;
            // Planned from the same replay, so always the restatement.
            self.lost += u64::from(!restates);
            return;
        }
        let slot = *cur;
        *cur = cur.saturating_add(1);
        let detail = detail(self);
        match self.slots.get(slot as usize) {
            Some(s) => s.store(
                packed::pack(self.clock.packed(tick), kind, detail),
                Ordering::Relaxed,
            ),
            None => self.lost += 1,
        }
    }
}

/// A P as a span detail: P + 1, 0 for none or too large.
#[inline]
pub(super) fn proc_detail(p: Option<u64>) -> u32 {
    p.and_then(|p| u32::try_from(p).ok())
        .filter(|&p| p < packed::MAX_DETAIL)
        .map_or(0, |p| p + 1)
}

/// Interns what span details point at; id 0 is the empty value, and so is
/// every value past the ids a detail can hold (counted in `overflow`).
#[derive(Debug)]
pub(super) struct Interned<T> {
    pub list: Vec<T>,
    index: FxHashMap<T, u32>,
    pub overflow: u64,
}

/// (reason, stack) pairs; id 0 is (empty, empty).
pub(super) type Details = Interned<SpanDetail>;

/// What coroutine switches name (`model::timeline::switches`); id 0 is
/// (none, none).
pub(super) type Switches = Interned<SwitchDetail>;

impl<T: Copy + Eq + std::hash::Hash> Interned<T> {
    fn with_zero(zero: T) -> Self {
        let mut index = FxHashMap::default();
        index.insert(zero, 0);
        Interned {
            list: vec![zero],
            index,
            overflow: 0,
        }
    }

    pub fn intern(&mut self, d: T) -> u32 {
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

impl Default for Details {
    fn default() -> Self {
        Interned::with_zero(SpanDetail {
            reason: StrId::EMPTY,
            stack: StackId::EMPTY,
        })
    }
}

impl Default for Switches {
    fn default() -> Self {
        Interned::with_zero(SwitchDetail::default())
    }
}

impl Switches {
    /// The switch id of every (switching goroutine, P) pair a segment's
    /// switches named in trace ids (P `u64::MAX` for none), for its second
    /// replay.
    pub fn intern_pairs(
        &mut self,
        keys: &FxHashSet<(u64, u64)>,
        index: &IdIndex,
    ) -> FxHashMap<(u64, u64), u32> {
        let mut ids = FxHashMap::with_capacity_and_hasher(keys.len(), Default::default());
        for &(by, p) in keys {
            let d = SwitchDetail {
                unblocker: if by == 0 { 0 } else { index.detail(by) },
                p: proc_detail((p != u64::MAX).then_some(p)),
            };
            ids.insert((by, p), self.intern(d));
        }
        ids
    }
}

impl Details {
    /// The detail id of every (reason, stack) pair a segment's transitions
    /// named in its own ids, for its second replay.
    pub fn intern_combos(
        &mut self,
        keys: &FxHashSet<(u64, u64)>,
        r: &mut impl Resolve,
    ) -> FxHashMap<(u64, u64), u32> {
        let mut combos = FxHashMap::with_capacity_and_hasher(keys.len(), Default::default());
        for &key in keys {
            let d = SpanDetail {
                reason: r.string(key.0),
                stack: r.stack(key.1),
            };
            combos.insert(key, self.intern(d));
        }
        combos
    }
}

/// What a decoder has once its second replay wrote every slot. The rest of
/// a [`Trace`] is put together the same way for both wire formats.
pub(super) struct Decoded {
    pub source: Source,
    pub warnings: Warnings,
    pub minor: u32,
    pub legacy: bool,
    pub window: TimeSpan,
    /// Timed events read.
    pub events: u64,
    /// Counts per event or record name, zeros included.
    pub names: Vec<(&'static str, u64)>,
    pub ids: Vec<u64>,
    pub built: Built,
    pub words: Vec<AtomicU64>,
    pub span_starts: Vec<u32>,
    pub order: SlotOrder,
    pub time_shift: u32,
    pub details: Details,
    pub switches: Switches,
    /// Transitions that found no slot, and unblockers that name nothing.
    pub lost: u64,
    pub unresolved: u64,
    pub table: StackTable,
}

impl Decoded {
    /// Compacts the slots into spans and hands the trace over.
    pub fn into_loaded(self) -> Loaded {
        let mut warnings = self.warnings;
        let (spans, span_starts, inconsistent) = finish(self.words, self.span_starts, self.order);
        let overflow = self.details.overflow + self.switches.overflow + self.unresolved;
        let switch_marks = switch_marks(&spans);
        assembly_warnings(&mut warnings, self.lost, inconsistent, overflow);
        let built = self.built;
        let trace = Trace {
            source: self.source,
            warnings,
            go_version: format!("go1.{}", self.minor),
            legacy: self.legacy,
            window: self.window,
            started_at_ns: None,
            events: self.events,
            event_counts: named_counts(&self.names),
            goroutine_ids: self.ids,
            goroutine_info: built.goroutines,
            span_starts,
            spans,
            time_shift: self.time_shift,
            details: self.details.list,
            switches: self.switches.list,
            switch_marks,
            labels: built.labels,
            procs: built.procs,
            cpu_samples: built.cpu,
            gc: built.gc,
            stw: built.stw,
            tasks: built.tasks,
            regions: built.regions,
            logs: built.logs,
        };
        Loaded {
            table: self.table,
            input: Input::Trace(std::sync::Arc::new(trace)),
        }
    }
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
    use super::super::slots::new_slots;
    use super::*;
    use crate::model::timeline::packed::*;

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
