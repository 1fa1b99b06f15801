//! How many span slots every goroutine needs and where they begin: the
//! bookkeeping between the two replays of `assemble`.
//!
//! ## Why it is shaped like this
//!
//! This bookkeeping is what peaks memory on traces of many goroutines. Every
//! generation mentions every live goroutine at least once (a status event
//! for those it saw nothing of), so a trace of 460,000 parked goroutines
//! over five generations has 2.3 million (generation, goroutine) pairs. A
//! hash map per generation, as the first replay counts them, holds each in
//! about 38 bytes (16-byte entries in a table that doubles), all
//! generations at once: four fifths of the file's size. So each
//! generation's map is packed right after its replay into a sorted run of
//! varints, 3 or 4 bytes a goroutine, and planning works from those runs.
//!
//! Planning also drops, before any slot exists for them, the status events
//! that only restate a goroutine's state at a generation's start:
//! compaction would drop them anyway, and on such a trace they are most of
//! the transitions. A generation's first transition of a goroutine is such
//! a restatement when it is a status with the state the goroutine was left
//! in by the generations before; the plan counts one slot fewer and tells
//! the second replay to skip it.

use std::sync::atomic::AtomicU64;

use rustc_hash::{FxHashMap, FxHashSet};

use super::assemble::{IdIndex, RawDetail, RecentSwitches, Sink, Step};
use super::{FORMAT, Reader};
use crate::formats::{FormatError, Limits};
use crate::model::timeline::{GoState, decode_kind, packed};

/// During a replay, per goroutine: the slot count in the low 32 bits, then
/// the state it was left in (4 bits), the state of its first transition if
/// that was a status of a later generation (4 bits, 0 if not), and the
/// number of its last sequenced step modulo 2^24 (see `v2::replay`). One
/// 16-byte map entry either way.
pub(super) type Counts = FxHashMap<u64, u64>;

const SEQ_MASK: u64 = (1 << 24) - 1;
const LAST_SHIFT: u32 = 32;
const FIRST_SHIFT: u32 = 36;
const SEQ_SHIFT: u32 = 40;

/// A state as the bookkeeping keeps it; 0 for none.
fn state_code(state: Option<GoState>) -> u64 {
    match state {
        Some(GoState::Runnable) => 1,
        Some(GoState::Running) => 2,
        Some(GoState::Syscall) => 3,
        Some(GoState::Waiting) => 4,
        Some(GoState::Ended) | None => 0,
    }
}

/// First replay: how many slots each goroutine needs, and which combos exist.
#[derive(Debug, Default)]
pub(super) struct Counter {
    pub counts: Counts,
    pub combos: FxHashSet<(u64, u64)>,
    /// (switching goroutine, P or `u64::MAX`) of every coroutine switch.
    pub switches: FxHashSet<(u64, u64)>,
    /// The last few of `switches`, to skip hashing most switches.
    recent: RecentSwitches<()>,
    /// Closing statuses ([`Step::Closing`]) as `id << 4 | later << 3 |
    /// state`, `later` set in generations after the first: on a trace
    /// of many idle goroutines nearly every goroutine of a generation is
    /// one, and a list holds it in 8 bytes where the map takes 38.
    closing: Vec<u64>,
}

/// Goroutine ids up to this fit a closing status's packed form.
const MAX_CLOSING_ID: u64 = u64::MAX >> 4;

impl Counter {
    /// Counts one transition; returns the entry before and after.
    #[inline(always)]
    fn count(&mut self, g: u64, kind: u8, detail: RawDetail, seq: Option<u64>) -> (u64, u64) {
        if let RawDetail::Combo(a, b) = detail
            && (a, b) != (0, 0)
        {
            self.combos.insert((a, b));
        }
        let v = self.counts.entry(g).or_insert(0);
        let was = *v;
        *v = counted(was, kind, seq);
        (was, *v)
    }

    /// Packs the counts into a sorted run and frees the map. Only the ids
    /// are copied out to sort them (8 bytes each, not the whole entries):
    /// this runs beside the largest map of the generation.
    pub fn pack(&mut self) -> SegmentCounts {
        let counts = std::mem::take(&mut self.counts);
        let mut ids: Vec<u64> = counts.keys().copied().collect();
        ids.sort_unstable();
        let mut closing = std::mem::take(&mut self.closing);
        closing.sort_unstable();
        let mut out = SegmentCounts::default();
        let mut prev = 0;
        let mut put = |id: u64, v: u64| {
            put_uvarint(&mut out.bytes, id - prev);
            put_uvarint(&mut out.bytes, u64::from(v as u32));
            out.bytes.push(((v >> LAST_SHIFT) & 0xff) as u8);
            prev = id;
            out.len += 1;
        };
        let mut closing = closing.into_iter().peekable();
        for id in ids {
            let v = counts.get(&id).copied().unwrap_or(0);
            while let Some(c) = closing.next_if(|&c| c >> 4 < id) {
                put(c >> 4, closing_entry(c));
            }
            match closing.next_if(|&c| c >> 4 == id) {
                // Never in a trace Go wrote. Counted, and not a restatement
                // to skip: which came first is not known here.
                Some(c) => {
                    let count = u64::from((v as u32).saturating_add(1));
                    put(id, count | (c & 7) << LAST_SHIFT);
                }
                None => put(id, v),
            }
        }
        for c in closing {
            put(c >> 4, closing_entry(c));
        }
        out.bytes.shrink_to_fit();
        out
    }
}

impl Sink for Counter {
    #[inline]
    fn go(&mut self, g: u64, _tick: u64, kind: u8, detail: RawDetail) {
        self.count(g, kind, detail, None);
    }

    #[inline(always)]
    fn go_in_turn(&mut self, g: u64, _tick: u64, kind: u8, detail: RawDetail, step: Step) -> bool {
        let seq = match step {
            Step::Seq(seq) => seq,
            Step::Closing if g <= MAX_CLOSING_ID => {
                if let RawDetail::Combo(a, b) = detail
                    && (a, b) != (0, 0)
                {
                    self.combos.insert((a, b));
                }
                let state = state_code(decode_kind(kind).map(|(s, _)| s));
                let later = u64::from((packed::STATUS..=packed::LAST_STATUS).contains(&kind));
                self.closing.push(g << 4 | later << 3 | state);
                return true;
            }
            _ => {
                self.count(g, kind, detail, None);
                return true;
            }
        };
        let (was, _) = self.count(g, kind, detail, Some(seq));
        let from = match kind {
            packed::STARTED => state_code(Some(GoState::Runnable)),
            _ => state_code(Some(GoState::Waiting)),
        };
        in_turn(was, from, seq)
    }

    /// Counts the switch's two transitions as two steps, as they are in
    /// Go's order, but one slot: the model keeps both in one word.
    ///
    /// In turn as the two would be one after the other: the start carries
    /// the unblock's number, so it is never in turn, and a generation with
    /// switches takes the replay that holds events back, whose schedule the
    /// second replay then follows without merging again.
    #[inline(always)]
    fn switch_in(&mut self, g: u64, _tick: u64, by: u64, p: Option<u64>, seq: u64) -> bool {
        let key = (by, p.unwrap_or(u64::MAX));
        if self.recent.get(key).is_none() {
            self.switches.insert(key);
            self.recent.put(key, ());
        }
        let v = self.counts.entry(g).or_insert(0);
        let was = *v;
        let unblocked = counted(was, packed::UNBLOCKED, Some(seq));
        let both = counted(unblocked, packed::STARTED, Some(seq));
        let slots = u64::from((both as u32).saturating_sub(1));
        *v = (both & !u64::from(u32::MAX)) | slots;
        in_turn(was, state_code(Some(GoState::Waiting)), seq)
            && in_turn(unblocked, state_code(Some(GoState::Runnable)), seq)
    }

    #[inline]
    fn allows(&self, g: u64, from: GoState, seq: u64) -> bool {
        self.counts
            .get(&g)
            .is_some_and(|&v| in_turn(v, state_code(Some(from)), seq))
    }
}

/// A goroutine's [`Counts`] entry `was` after one more transition of
/// `kind`, with its sequence number if it has one.
#[inline(always)]
fn counted(was: u64, kind: u8, seq: Option<u64>) -> u64 {
    let count = u64::from((was as u32).saturating_add(1));
    let state = state_code(decode_kind(kind).map(|(s, _)| s));
    let first = if was == 0 && (packed::STATUS..=packed::LAST_STATUS).contains(&kind) {
        state
    } else {
        (was >> FIRST_SHIFT) & 0xf
    };
    let last_seq = seq.map_or(was >> SEQ_SHIFT, |s| s & SEQ_MASK);
    count | state << LAST_SHIFT | first << FIRST_SHIFT | last_seq << SEQ_SHIFT
}

/// Whether a goroutine whose entry is `v` may take sequenced step `seq`
/// from state code `from`: in that state, and the step one after its last.
#[inline]
fn in_turn(v: u64, from: u64, seq: u64) -> bool {
    let last = v >> SEQ_SHIFT;
    (v >> LAST_SHIFT) & 0xf == from && (last + 1) & SEQ_MASK == seq & SEQ_MASK
}

/// A [`Counts`] value for a goroutine whose only transition is a closing
/// status (packed as [`Counter::closing`] keeps it).
fn closing_entry(c: u64) -> u64 {
    let state = c & 7;
    let first = if c & 8 != 0 { state } else { 0 };
    1 | state << LAST_SHIFT | first << FIRST_SHIFT
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One segment's counts, packed: per goroutine in id order, the id's
/// distance from the previous one, the slot count (varints) and a byte of
/// states (the last in the low half, the first status in the high half).
#[derive(Debug, Default)]
pub(super) struct SegmentCounts {
    bytes: Vec<u8>,
    len: usize,
}

/// One goroutine's entry in [`SegmentCounts`].
#[derive(Copy, Clone, Debug)]
pub(super) struct Tally {
    pub id: u64,
    pub count: u32,
    /// The state of its first transition if that was a status event of a
    /// generation after the first, else 0 (state codes of [`state_code`]).
    first_status: u8,
    /// The state its last transition left it in (0 if it ended).
    last: u8,
}

impl SegmentCounts {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn iter(&self) -> impl Iterator<Item = Tally> + '_ {
        let mut r = Reader::new(&self.bytes);
        let mut id = 0u64;
        std::iter::from_fn(move || {
            id = id.wrapping_add(r.uvarint()?);
            let count = u32::try_from(r.uvarint()?).unwrap_or(u32::MAX);
            let states = r.byte()?;
            Some(Tally {
                id,
                count,
                first_status: states >> 4,
                last: states & 0xf,
            })
        })
    }
}

/// Goroutine ids sorted and unique, from every segment's counts: a merge of
/// the sorted runs, so no list of every (segment, goroutine) pair is built.
pub(super) fn sorted_ids(segments: &[SegmentCounts]) -> Vec<u64> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut iters: Vec<_> = segments.iter().map(|s| s.iter()).collect();
    let mut heap = BinaryHeap::with_capacity(iters.len());
    for (i, it) in iters.iter_mut().enumerate() {
        if let Some(t) = it.next() {
            heap.push(Reverse((t.id, i)));
        }
    }
    let most = segments.iter().map(SegmentCounts::len).max().unwrap_or(0);
    let mut ids: Vec<u64> = Vec::with_capacity(most);
    while let Some(Reverse((id, i))) = heap.pop() {
        if ids.last() != Some(&id) {
            ids.push(id);
        }
        if let Some(t) = iters.get_mut(i).and_then(Iterator::next) {
            heap.push(Reverse((t.id, i)));
        }
    }
    ids.shrink_to_fit();
    ids
}

/// Set on a goroutine in [`SegmentBases`] and in a [`Cursor`] when the
/// segment's first transition of it is a restatement to skip.
pub(super) const SKIP_FIRST: u32 = 1 << 31;

/// Where a segment's share of each goroutine's slots begins, for every
/// goroutine it writes, kept from the plan to the segment's second replay.
///
/// All segments' bases are alive while the slots are: at the peak of
/// memory use. As pairs of `u32` they took 8 bytes per (segment,
/// goroutine); packed they take 2 or 3. Per goroutine, in index order: the
/// index's distance from the previous one, then the slots earlier segments
/// took of it (usually none), shifted left once, with the low bit for
/// [`SKIP_FIRST`]; both varints. The first slot is the goroutine's start
/// plus that.
#[derive(Debug, Default)]
pub(super) struct SegmentBases {
    bytes: Vec<u8>,
    len: usize,
}

impl SegmentBases {
    fn push(&mut self, prev: &mut u32, goroutine: u32, earlier: u32, skip: bool) {
        put_uvarint(&mut self.bytes, u64::from(goroutine.wrapping_sub(*prev)));
        put_uvarint(&mut self.bytes, u64::from(earlier) << 1 | u64::from(skip));
        *prev = goroutine;
        self.len += 1;
    }

    /// `(goroutine index, first slot)` of every goroutine the segment
    /// writes, the index carrying [`SKIP_FIRST`] where set; `starts` as
    /// [`plan`] returned them.
    pub fn entries<'a>(&'a self, starts: &'a [u32]) -> impl Iterator<Item = (u32, u32)> + 'a {
        let mut r = Reader::new(&self.bytes);
        let mut g = 0u32;
        std::iter::from_fn(move || {
            g = g.wrapping_add(u32::try_from(r.uvarint()?).ok()?);
            let v = r.uvarint()?;
            let earlier = u32::try_from(v >> 1).ok()?;
            let flag = if v & 1 != 0 { SKIP_FIRST } else { 0 };
            let first = starts.get(g as usize)?.saturating_add(earlier);
            Some((g | flag, first))
        })
    }
}

/// The limit on slots: the configured one, below the [`SKIP_FIRST`] bit.
fn slot_cap(limits: &Limits) -> u64 {
    limits.max_trace_spans.min(u64::from(SKIP_FIRST - 1))
}

fn too_many_slots(limits: &Limits) -> FormatError {
    FormatError::Limit {
        format: FORMAT,
        what: "number of goroutine state spans",
        limit: slot_cap(limits),
    }
}

fn check_goroutines(ids: &[u64], limits: &Limits) -> Result<(), FormatError> {
    if ids.len() as u64 > limits.max_goroutines {
        return Err(FormatError::Limit {
            format: FORMAT,
            what: "number of goroutines",
            limit: limits.max_goroutines,
        });
    }
    Ok(())
}

/// Per-goroutine totals (with one spare entry) into start offsets, in place.
fn offsets(totals: &mut [u32], limits: &Limits) -> Result<(), FormatError> {
    let mut acc = 0u64;
    for s in totals {
        let total = u64::from(*s);
        *s = acc as u32;
        acc += total;
        if acc > slot_cap(limits) {
            return Err(too_many_slots(limits));
        }
    }
    Ok(())
}

/// One segment's goroutines and where their slots begin, straight from
/// its counter (legacy traces: no generations, no restatements to plan).
pub(super) fn single(
    counter: &mut Counter,
    limits: &Limits,
) -> Result<(Vec<u64>, IdIndex, Vec<u32>), FormatError> {
    let mut ids: Vec<u64> = counter.counts.keys().copied().collect();
    ids.sort_unstable();
    check_goroutines(&ids, limits)?;
    let index = IdIndex::new(&ids);
    let mut starts = vec![0u32; ids.len() + 1];
    for (&id, &v) in &counter.counts {
        if let Some(t) = index.get(id).and_then(|i| starts.get_mut(i as usize)) {
            *t = v as u32;
        }
    }
    counter.counts = Counts::default();
    offsets(&mut starts, limits)?;
    Ok((ids, index, starts))
}

/// Where each goroutine's slots begin (`n + 1` offsets) and, per segment
/// (generations, in replay order), where its share of them begins, from
/// every segment's counts, checked against the limits. A status that
/// restates the state the generations before left a goroutine in gets no
/// slot (see the module doc).
pub(super) fn plan(
    ids: &[u64],
    index: &IdIndex,
    segments: Vec<SegmentCounts>,
    limits: &Limits,
) -> Result<(Vec<u32>, Vec<SegmentBases>), FormatError> {
    // (goroutine index, slots) per segment, then packed as bases.
    type Counted = Vec<(u32, u32)>;
    check_goroutines(ids, limits)?;
    let too_many = || too_many_slots(limits);
    // First the slots of every (segment, goroutine), totals per goroutine.
    let mut totals = vec![0u32; ids.len() + 1];
    let mut left_in = vec![0u8; ids.len()];
    let mut all = Vec::with_capacity(segments.len());
    for seg in segments {
        let mut list: Counted = Vec::with_capacity(seg.len());
        for t in seg.iter() {
            let Some(gi) = index.get(t.id) else { continue };
            let mut count = t.count;
            let mut flag = 0;
            if let Some(left) = left_in.get_mut(gi as usize) {
                if t.first_status != 0 && t.first_status == *left {
                    count = count.saturating_sub(1);
                    flag = SKIP_FIRST;
                }
                *left = t.last;
            }
            if let Some(total) = totals.get_mut(gi as usize) {
                *total = total.checked_add(count).ok_or_else(too_many)?;
            }
            // A goroutine whose only transition is skipped needs no entry:
            // the writer skips statuses of goroutines it has none for.
            if count > 0 {
                list.push((gi | flag, count));
            }
        }
        list.shrink_to_fit();
        all.push(list);
    }
    drop(left_in);
    offsets(&mut totals, limits)?;
    let starts = totals;
    // Then each segment's counts into its bases, segment after segment:
    // what the segments before took of each goroutine.
    let mut taken = vec![0u32; ids.len()];
    let bases = all
        .into_iter()
        .map(|list| {
            let mut bases = SegmentBases::default();
            let mut prev = 0;
            for (g, count) in list {
                let gi = g & !SKIP_FIRST;
                if let Some(t) = taken.get_mut(gi as usize) {
                    bases.push(&mut prev, gi, *t, g & SKIP_FIRST != 0);
                    *t = t.saturating_add(count);
                }
            }
            bases.bytes.shrink_to_fit();
            bases
        })
        .collect();
    Ok((starts, bases))
}

/// Next free slot per goroutine index, while one segment is written; a
/// slot may carry [`SKIP_FIRST`].
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
    pub(super) fn get_mut(&mut self, goroutine: u32) -> Option<&mut u32> {
        let c = match self {
            Cursor::Dense(v) => v.get_mut(goroutine as usize),
            Cursor::Sparse(m) => m.get_mut(&goroutine),
        };
        c.filter(|c| **c != u32::MAX)
    }
}

/// The cursors of one segment from its bases; `starts` as [`plan`]
/// returned them.
pub(super) fn cursor_for(bases: &SegmentBases, starts: &[u32], goroutines: usize) -> Cursor {
    let entries = bases
        .entries(starts)
        .map(|(g, first)| (g & !SKIP_FIRST, first | (g & SKIP_FIRST)));
    if bases.len.saturating_mul(8) < goroutines {
        return Cursor::Sparse(entries.collect());
    }
    let mut cursor = vec![u32::MAX; goroutines];
    for (g, first) in entries {
        if let Some(c) = cursor.get_mut(g as usize) {
            *c = first;
        }
    }
    Cursor::Dense(cursor)
}

/// Zeroed slots that segments fill in parallel.
///
/// Asked of the allocator zeroed, so a large array is fresh pages that
/// become resident only as the second replay writes them, while it gives
/// back the file's bytes it is done with (`v2::second_pass`): the slots
/// and the whole file are never resident at once.
pub(super) fn new_slots(n: usize) -> Vec<AtomicU64> {
    bytemuck::try_zeroed_vec(n).unwrap_or_else(|()| {
        std::iter::repeat_with(|| AtomicU64::new(0))
            .take(n)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timeline::{initial_kind, status_kind};

    fn segment(events: &[(u64, u8)]) -> SegmentCounts {
        let mut c = Counter::default();
        for &(g, kind) in events {
            c.go(g, 0, kind, RawDetail::None);
        }
        c.pack()
    }

    /// Restating statuses get no slot; a status that disagrees keeps one.
    #[test]
    fn plans_leave_out_restatements() {
        let waiting = GoState::Waiting;
        let first = segment(&[(7, initial_kind(waiting)), (9, packed::CREATED)]);
        let second = segment(&[
            (7, status_kind(waiting)),
            (9, status_kind(GoState::Runnable)),
            (9, packed::STARTED),
        ]);
        let third = segment(&[(7, status_kind(waiting)), (9, status_kind(waiting))]);
        let segments = vec![first, second, third];
        let ids = sorted_ids(&segments);
        assert_eq!(ids, [7, 9]);
        let index = IdIndex::new(&ids);
        let (starts, bases) = plan(&ids, &index, segments, &Limits::default()).unwrap();
        // g7: its first status only. g9: created, started; the third
        // segment's status disagrees (it was left running) and stays.
        assert_eq!(starts, [0, 1, 4]);
        let entries = |i: usize| bases[i].entries(&starts).collect::<Vec<_>>();
        assert_eq!(entries(0), [(0, 0), (1, 1)]);
        assert_eq!(entries(1), [(1 | SKIP_FIRST, 2)]);
        assert_eq!(entries(2), [(1, 3)]);
    }

    /// Closing statuses are kept apart from the map and packed the same.
    #[test]
    fn closing_statuses_pack_like_counted_ones() {
        let waiting = GoState::Waiting;
        let mut kept = Counter::default();
        let mut listed = Counter::default();
        for c in [&mut kept, &mut listed] {
            c.go_in_turn(3, 0, packed::STARTED, RawDetail::None, Step::Seq(1));
        }
        for g in [9, 1, 5] {
            kept.go(g, 0, status_kind(waiting), RawDetail::None);
            listed.go_in_turn(g, 0, status_kind(waiting), RawDetail::None, Step::Closing);
        }
        let (kept, listed) = (kept.pack(), listed.pack());
        assert_eq!(kept.len(), 4);
        assert_eq!(kept.bytes, listed.bytes);
        let ids: Vec<u64> = listed.iter().map(|t| t.id).collect();
        assert_eq!(ids, [1, 3, 5, 9]);
        assert!(
            listed
                .iter()
                .filter(|t| t.id != 3)
                .all(|t| t.first_status == 4)
        );
        // A closing status of a goroutine counted otherwise too (never in a
        // trace Go wrote) is counted and never skipped.
        let mut both = Counter::default();
        both.go(7, 0, packed::STARTED, RawDetail::None);
        both.go_in_turn(7, 0, status_kind(waiting), RawDetail::None, Step::Closing);
        let t: Vec<Tally> = both.pack().iter().collect();
        assert_eq!(
            (t.len(), t[0].count, t[0].first_status, t[0].last),
            (1, 2, 0, 4)
        );
    }
}
