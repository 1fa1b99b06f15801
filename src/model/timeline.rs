//! A Go execution trace as a timeline: one lane per goroutine, P lanes, GC
//! and stop-the-world spans, CPU samples and user annotations.
//!
//! ## Why the layout looks like this
//!
//! A busy 35 MB trace holds about six million goroutine transitions, and the
//! whole model has to fit beside the file in about twice the file's size.
//! So a goroutine's lane is not a list of structs but a range of one flat
//! `Vec<u64>`: each state span is a single word holding its start time, how
//! it began (which also tells its state) and a 25-bit detail (see
//! [`SpanCause`]). A span ends where the next span of the same goroutine
//! starts, or at the end of the window, so no end time is stored, and spans
//! of one goroutine are sorted by start, so a view finds the visible ones by
//! binary search. Block reasons and stacks repeat a lot (a few thousand
//! distinct pairs among millions of blocks), so a span points at an interned
//! `(reason, stack)` pair instead of carrying them.
//!
//! A coroutine switch into a goroutine is two spans in one word (Unblocked
//! and Started at the same instant; see `timeline/switches.rs`): span
//! indices count both, so only this module knows.
//!
//! Blocking points are not stored separately either: a blocking point is a
//! waiting span, its duration is the span's length and the goroutine that
//! unblocked it is the detail of the span that follows.
//!
//! Times are integer nanoseconds of the trace clock (`runtime.nanotime` on
//! Linux; the legacy format's tick counter scaled by its frequency). Inside
//! a span they are stored relative to the window start in 34 bits, exact for
//! windows up to 17 s; longer windows store them in units of 2, 4, ... ns
//! (`time_shift`). Go 1.22+ stamps events in 64 ns ticks on Linux, so that
//! loses nothing for windows of up to 18 minutes, and stays below a
//! microsecond for windows of up to four hours. The detail gets the bits
//! instead: it names the goroutine that unblocked a span, and a 500 MB
//! trace of a busy service creates nearly three million goroutines, more
//! than 21 bits can name; 25 bits name 33 million.

use std::fmt;
use std::ops::Range;

use super::intern::StrId;
use super::snapshot::Source;
use super::stack::{Remap, StackId};
use super::warning::Warnings;

mod span;
mod switches;
mod world;

pub use span::*;
pub(crate) use switches::{SwitchDetail, switch_marks};
pub use world::*;

/// Position of a goroutine in [`Trace::goroutines`] (ordered by goroutine id).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GoIndex(u32);

impl GoIndex {
    /// Position in [`Trace::goroutines`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn from_index(i: usize) -> GoIndex {
        GoIndex(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

/// An interned (reason, stack) pair that spans point at.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpanDetail {
    /// Block or stop reason as the trace names it (`chan receive`,
    /// `preempted`); empty where the trace gives none.
    pub reason: StrId,
    /// Where the goroutine blocked, stopped or entered the syscall; for a
    /// goroutine's first span, the stack the trace reported with its status.
    pub stack: StackId,
}

/// One state span of a goroutine, decoded from its packed form.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// When the state began, in trace nanoseconds.
    pub start_ns: i64,
    /// When it ended: the next span's start, or the window's end for the last
    /// one.
    pub end_ns: i64,
    /// The state the goroutine was in, which picks the span's colour.
    pub state: GoState,
    /// How the span began, which says what `reason`, `stack`, `unblocker` and
    /// `p` mean.
    pub cause: SpanCause,
    /// Why it blocked or stopped, as the trace names it (`chan receive`); empty
    /// for other spans.
    pub reason: StrId,
    /// Where it blocked, stopped or entered the syscall; empty where the trace
    /// gives no stack.
    pub stack: StackId,
    /// For [`SpanCause::Unblocked`]: the goroutine that made it runnable.
    pub unblocker: Option<GoIndex>,
    /// For running spans: the P it ran on, where known.
    pub p: Option<u32>,
}

impl Span {
    /// Length of the span; zero-length spans are common (instant syscalls).
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// A moment a goroutine blocked: a waiting span seen from the leak hunter's side.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BlockingPoint {
    /// Index of the waiting span among the goroutine's spans.
    pub span: usize,
    /// When it blocked (the window start for goroutines already blocked then).
    pub time_ns: i64,
    /// Why it blocked (`chan receive`, `sync`, `select`), as the trace names
    /// it.
    pub reason: StrId,
    /// Where it blocked: the stack that groups blocking points into leak sites.
    pub stack: StackId,
    /// How long it stayed blocked within the window.
    pub duration_ns: i64,
    /// False if it was still blocked when the window closed.
    pub unblocked: bool,
    /// The goroutine that unblocked it, if a goroutine did (not the runtime).
    pub unblocker: Option<GoIndex>,
}

/// How a goroutine came into being inside the window.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Creation {
    /// When the `go` statement ran, in trace nanoseconds.
    pub time_ns: i64,
    /// The goroutine that ran the `go` statement, where it is in the trace.
    pub creator: Option<GoIndex>,
    /// Go's id of the creator (`created by ... in goroutine N`).
    pub creator_id: Option<u64>,
    /// Stack of the creator at the `go` statement.
    pub creator_stack: StackId,
    /// One-frame stack naming the entry function.
    pub start_stack: StackId,
}

/// One goroutine of the trace; its spans live in the trace.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TraceGoroutine {
    /// Go's goroutine id, as dumps and `created by ... in goroutine N` print
    /// it.
    pub id: u64,
    /// The goroutine that created this one inside the window.
    pub creator: Option<GoIndex>,
    /// Stack of the creator at the `go` statement; empty if not created in
    /// the window (the legacy format gives the `trace.Start` caller for
    /// goroutines that existed before, which is not where they came from).
    pub creator_stack: StackId,
    /// One-frame stack naming the entry function, where the trace says it.
    pub start_stack: StackId,
}

/// What the trace stores per goroutine besides its id: ids are a column of
/// their own so they can be binary-searched and nothing pads them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct GoInfo {
    /// Creator index + 1, 0 for none or unknown.
    pub creator: u32,
    pub creator_stack: StackId,
    pub start_stack: StackId,
}

impl Default for GoInfo {
    fn default() -> Self {
        GoInfo {
            creator: 0,
            creator_stack: StackId::EMPTY,
            start_stack: StackId::EMPTY,
        }
    }
}

/// A loaded execution trace.
#[derive(Clone)]
pub struct Trace {
    /// Where the trace was read from, to name it in views and reports.
    pub source: Source,
    /// What the parser skipped or repaired, so a damaged trace says so.
    pub warnings: Warnings,
    /// Version of the trace format from the header (`go1.23`; Go 1.24 writes
    /// the same format and header as Go 1.23).
    pub go_version: String,
    /// Written by Go 1.21 or older.
    pub legacy: bool,
    /// From the first to the last event kept.
    pub window: TimeSpan,
    /// When the capture started (Unix ns), where a session manifest says:
    /// a trace's own clock is the process's monotonic one, so only this
    /// places its window among the snapshots' capture times.
    pub started_at_ns: Option<i64>,
    /// Timed events decoded.
    pub events: u64,
    /// Events and records by type name, as Go's tools name them.
    pub event_counts: Vec<(&'static str, u64)>,
    /// Goroutine ids, sorted: position = [`GoIndex`].
    pub(crate) goroutine_ids: Vec<u64>,
    pub(crate) goroutine_info: Vec<GoInfo>,
    /// Spans of goroutine `i` are `spans[span_starts[i]..span_starts[i + 1]]`.
    pub(crate) span_starts: Vec<u32>,
    pub(crate) spans: Vec<u64>,
    pub(crate) time_shift: u32,
    /// Entry 0 is always (empty, empty).
    pub(crate) details: Vec<SpanDetail>,
    /// What switch-in words name; entry 0 is (none, none).
    pub(crate) switches: Vec<SwitchDetail>,
    /// Switch-in words before every 64th word of `spans`; empty if there
    /// are none (see `switches`).
    pub(crate) switch_marks: Vec<u32>,
    /// Goroutine labels (`GC (dedicated)`, ...), sorted by goroutine.
    pub(crate) labels: Vec<(GoIndex, StrId)>,
    /// Sorted by P, then start.
    pub procs: Vec<ProcSpan>,
    /// CPU profile samples recorded into the trace (when a CPU profile ran
    /// beside it), in time order.
    pub cpu_samples: Vec<CpuSample>,
    /// Garbage collection cycles, in time order.
    pub gc: Vec<TimeSpan>,
    /// Stop-the-world pauses, in time order.
    pub stw: Vec<StwSpan>,
    /// `runtime/trace` tasks, the user's own view of what the program was
    /// doing.
    pub tasks: Vec<UserTask>,
    /// `runtime/trace` regions.
    pub regions: Vec<UserRegion>,
    /// `trace.Log` messages.
    pub logs: Vec<UserLog>,
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("source", &self.source)
            .field("go_version", &self.go_version)
            .field("window", &self.window)
            .field("events", &self.events)
            .field("goroutines", &self.goroutine_ids.len())
            .field("spans", &self.spans.len())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Trace {
    /// Every goroutine the trace mentions, ordered by goroutine id.
    pub fn goroutines(&self) -> impl ExactSizeIterator<Item = TraceGoroutine> + '_ {
        self.goroutine_ids.iter().enumerate().map(|(i, &id)| {
            let info = self.goroutine_info.get(i).copied().unwrap_or_default();
            TraceGoroutine {
                id,
                creator: info.creator.checked_sub(1).map(GoIndex),
                creator_stack: info.creator_stack,
                start_stack: info.start_stack,
            }
        })
    }

    /// Number of goroutines.
    pub fn goroutine_count(&self) -> usize {
        self.goroutine_ids.len()
    }

    /// Goroutine ids by [`GoIndex`], sorted.
    pub fn goroutine_ids(&self) -> &[u64] {
        &self.goroutine_ids
    }

    /// One goroutine by index.
    pub fn goroutine(&self, g: GoIndex) -> Option<TraceGoroutine> {
        let id = *self.goroutine_ids.get(g.index())?;
        let info = self
            .goroutine_info
            .get(g.index())
            .copied()
            .unwrap_or_default();
        Some(TraceGoroutine {
            id,
            creator: info.creator.checked_sub(1).map(GoIndex),
            creator_stack: info.creator_stack,
            start_stack: info.start_stack,
        })
    }

    /// The goroutine with Go's id `id`.
    pub fn find_goroutine(&self, id: u64) -> Option<GoIndex> {
        self.goroutine_ids
            .binary_search(&id)
            .ok()
            .map(GoIndex::from_index)
    }

    /// All goroutine indices, in id order.
    pub fn goroutine_indices(&self) -> impl ExactSizeIterator<Item = GoIndex> + use<> {
        (0..self.goroutine_ids.len()).map(GoIndex::from_index)
    }

    /// Total number of spans (all goroutines).
    pub fn span_count(&self) -> usize {
        self.spans_in(0..self.spans.len())
    }

    /// Interned (reason, stack) pairs that spans point at.
    pub fn details(&self) -> &[SpanDetail] {
        &self.details
    }

    fn range(&self, g: GoIndex) -> Range<usize> {
        let i = g.index();
        let start = self.span_starts.get(i).copied().unwrap_or(0) as usize;
        let end = self.span_starts.get(i + 1).copied().unwrap_or(0) as usize;
        start..end.max(start).min(self.spans.len())
    }

    fn words(&self, g: GoIndex) -> &[u64] {
        self.spans.get(self.range(g)).unwrap_or(&[])
    }

    /// Number of spans of goroutine `g`.
    pub fn span_len(&self, g: GoIndex) -> usize {
        self.spans_in(self.range(g))
    }

    /// Absolute time of a packed time value.
    fn time_ns(&self, packed_time: u64) -> i64 {
        let offset = i64::try_from(packed_time << self.time_shift).unwrap_or(i64::MAX);
        self.window.start_ns.saturating_add(offset)
    }

    /// The span word `i` of `words` holds; for a switch-in word, its first
    /// (Unblocked) or `second` (Started) span.
    pub(super) fn decode(&self, words: &[u64], i: usize, second: bool) -> Option<Span> {
        let word = *words.get(i)?;
        let kind = packed::kind(word);
        if kind == packed::SWITCHED_IN {
            return self.decode_switch(words, i, second);
        }
        let (state, cause) = decode_kind(kind)?;
        let start_ns = self.time_ns(packed::time(word));
        let end_ns = self.end_of(words, i, start_ns);
        let detail = packed::detail(word);
        let mut span = Span {
            start_ns,
            end_ns,
            state,
            cause,
            reason: StrId::EMPTY,
            stack: StackId::EMPTY,
            unblocker: None,
            p: None,
        };
        match detail_kind(kind) {
            DetailKind::ReasonStack => {
                if let Some(d) = self.details.get(detail as usize) {
                    span.reason = d.reason;
                    span.stack = d.stack;
                }
            }
            DetailKind::Goroutine => {
                span.unblocker = detail.checked_sub(1).map(GoIndex);
            }
            DetailKind::Proc => span.p = detail.checked_sub(1),
            DetailKind::None | DetailKind::Switch => {}
        }
        Some(span)
    }

    /// Where the span of word `i` ends: where the next word's begins, or
    /// at the window's end.
    fn end_of(&self, words: &[u64], i: usize, start_ns: i64) -> i64 {
        match words.get(i + 1) {
            Some(&next) => self.time_ns(packed::time(next)),
            None => self.window.end_ns.max(start_ns),
        }
    }

    /// The `i`-th span of goroutine `g`.
    pub fn span(&self, g: GoIndex, i: usize) -> Option<Span> {
        let r = self.range(g);
        let (w, second) = self.locate(r.clone(), i)?;
        self.decode(self.spans.get(r)?, w, second)
    }

    /// All spans of `g` in time order.
    pub fn spans(&self, g: GoIndex) -> impl Iterator<Item = Span> + '_ {
        switches::SpanIter::new(self, self.words(g))
    }

    /// Index of the span of `g` that contains `time_ns`, by binary search.
    pub fn span_index_at(&self, g: GoIndex, time_ns: i64) -> Option<usize> {
        let r = self.range(g);
        let words = self.spans.get(r.clone()).unwrap_or(&[]);
        let packed_time = self.packed_time(time_ns);
        let after = words.partition_point(|&w| packed::time(w) <= packed_time);
        self.spans_in(r.start..r.start + after).checked_sub(1)
    }

    /// Indices of the spans of `g` that overlap `[from_ns, to_ns]`, for drawing.
    pub fn span_range(&self, g: GoIndex, from_ns: i64, to_ns: i64) -> Range<usize> {
        let r = self.range(g);
        let words = self.spans.get(r.clone()).unwrap_or(&[]);
        let from = self.span_index_at(g, from_ns).unwrap_or(0);
        let to_t = self.packed_time(to_ns);
        let to = words.partition_point(|&w| packed::time(w) <= to_t);
        let to = self.spans_in(r.start..r.start + to);
        from..to.max(from)
    }

    fn packed_time(&self, time_ns: i64) -> u64 {
        let rel = time_ns.saturating_sub(self.window.start_ns).max(0) as u64;
        rel >> self.time_shift
    }

    /// The creation inside the window, if the goroutine was created there.
    pub fn creation(&self, g: GoIndex) -> Option<Creation> {
        let first = self.span(g, 0)?;
        if !matches!(
            first.cause,
            SpanCause::Created | SpanCause::CreatedBlocked | SpanCause::CreatedInSyscall
        ) {
            return None;
        }
        let info = self.goroutine(g)?;
        Some(Creation {
            time_ns: first.start_ns,
            creator: info.creator,
            creator_id: info
                .creator
                .and_then(|c| self.goroutine_ids.get(c.index()).copied()),
            creator_stack: info.creator_stack,
            start_stack: info.start_stack,
        })
    }

    /// When the goroutine exited, if it did inside the window.
    pub fn end_ns(&self, g: GoIndex) -> Option<i64> {
        let n = self.span_len(g);
        let last = self.span(g, n.checked_sub(1)?)?;
        (last.state == GoState::Ended).then_some(last.start_ns)
    }

    /// The last span, which says the state at the end of the window.
    pub fn final_span(&self, g: GoIndex) -> Option<Span> {
        self.span(g, self.span_len(g).checked_sub(1)?)
    }

    /// Every time `g` waited: blocks with their reason, stack, duration and unblocker.
    pub fn blocking_points(&self, g: GoIndex) -> impl Iterator<Item = BlockingPoint> + '_ {
        let mut spans = self.spans(g).enumerate().peekable();
        std::iter::from_fn(move || {
            let (i, span) = spans.find(|(_, s)| s.state == GoState::Waiting)?;
            let next = spans.peek().map(|&(_, s)| s);
            Some(BlockingPoint {
                span: i,
                time_ns: span.start_ns,
                reason: span.reason,
                stack: span.stack,
                duration_ns: span.duration_ns(),
                unblocked: next.is_some(),
                unblocker: next.and_then(|n| n.unblocker),
            })
        })
    }

    /// The stack of every waiting span of `g`, in order: what indexing
    /// goroutines by where they block needs, read straight from the words
    /// without decoding whole spans (it runs over every span of a trace).
    pub fn waiting_stacks(&self, g: GoIndex) -> impl Iterator<Item = StackId> + '_ {
        self.words(g).iter().filter_map(|&w| {
            let kind = packed::kind(w);
            if !matches!(decode_kind(kind), Some((GoState::Waiting, _))) {
                return None;
            }
            Some(match detail_kind(kind) {
                DetailKind::ReasonStack => self
                    .details
                    .get(packed::detail(w) as usize)
                    .map_or(StackId::EMPTY, |d| d.stack),
                _ => StackId::EMPTY,
            })
        })
    }

    /// The label Go gave the goroutine (GC workers), or empty.
    pub fn label(&self, g: GoIndex) -> StrId {
        self.labels
            .binary_search_by_key(&g, |&(i, _)| i)
            .ok()
            .and_then(|i| self.labels.get(i))
            .map_or(StrId::EMPTY, |&(_, s)| s)
    }

    /// Which goroutine ran on each P, in time order, from the running spans.
    ///
    /// Computed on demand (8 bytes per run) because the goroutine lanes
    /// already hold the same information and most views never ask.
    pub fn p_lanes(&self) -> PLanes {
        let mut lane_of: rustc_hash::FxHashMap<u32, usize> = rustc_hash::FxHashMap::default();
        let mut lanes: Vec<(u32, Vec<(GoIndex, u32)>)> = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        for pass in 0..2 {
            for g in self.goroutine_indices() {
                for (i, p) in self.runs_of(g) {
                    let lane = *lane_of.entry(p).or_insert_with(|| {
                        lanes.push((p, Vec::new()));
                        counts.push(0);
                        lanes.len() - 1
                    });
                    if pass == 0 {
                        if let Some(c) = counts.get_mut(lane) {
                            *c += 1;
                        }
                    } else if let Some((_, runs)) = lanes.get_mut(lane) {
                        runs.push((g, i as u32));
                    }
                }
            }
            if pass == 0 {
                for ((_, runs), &c) in lanes.iter_mut().zip(&counts) {
                    runs.reserve_exact(c);
                }
            }
        }
        // Sort each lane by start time with the keys alongside, one lane at
        // a time so the extra memory is one lane's worth.
        use rayon::prelude::*;
        for (_, runs) in &mut lanes {
            let mut keyed: Vec<(u64, GoIndex, u32)> = runs
                .iter()
                .map(|&(g, i)| (self.run_time(g, i), g, i))
                .collect();
            keyed.par_sort_unstable_by_key(|&(t, g, i)| (t, g, i));
            runs.clear();
            runs.extend(keyed.into_iter().map(|(_, g, i)| (g, i)));
        }
        lanes.sort_unstable_by_key(|&(p, _)| p);
        PLanes { lanes }
    }

    /// Every running span of `g` that names its P: (span index, P).
    fn runs_of(&self, g: GoIndex) -> impl Iterator<Item = (usize, u32)> + '_ {
        let mut at = 0usize;
        self.words(g).iter().filter_map(move |&w| {
            let i = at;
            let kind = packed::kind(w);
            let detail = packed::detail(w);
            if kind == packed::SWITCHED_IN {
                at += 2;
                let p = self.switches.get(detail as usize)?.p;
                return Some((i + 1, p.checked_sub(1)?));
            }
            at += 1;
            if detail_kind(kind) != DetailKind::Proc {
                return None;
            }
            Some((i, detail.checked_sub(1)?))
        })
    }

    fn run_time(&self, g: GoIndex, i: u32) -> u64 {
        let r = self.range(g);
        self.locate(r.clone(), i as usize)
            .and_then(|(w, _)| self.spans.get(r.start + w))
            .map_or(0, |&w| packed::time(w))
    }

    /// Rewrites ids after the trace's table was absorbed into a session's.
    pub fn remap(&mut self, map: &Remap) {
        for d in &mut self.details {
            d.reason = map.str(d.reason);
            d.stack = map.stack(d.stack);
        }
        for g in &mut self.goroutine_info {
            g.creator_stack = map.stack(g.creator_stack);
            g.start_stack = map.stack(g.start_stack);
        }
        for (_, l) in &mut self.labels {
            *l = map.str(*l);
        }
        for s in &mut self.cpu_samples {
            s.stack = map.stack(s.stack);
        }
        for s in &mut self.stw {
            s.kind = map.str(s.kind);
        }
        for t in &mut self.tasks {
            t.name = map.str(t.name);
            t.stack = map.stack(t.stack);
        }
        for r in &mut self.regions {
            r.name = map.str(r.name);
            r.stack = map.stack(r.stack);
        }
        for l in &mut self.logs {
            l.key = map.str(l.key);
            l.value = map.str(l.value);
            l.stack = map.stack(l.stack);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips() {
        let w = packed::pack(123_456_789, packed::BLOCKED, 77);
        assert_eq!(packed::time(w), 123_456_789);
        assert_eq!(packed::kind(w), packed::BLOCKED);
        assert_eq!(packed::detail(w), 77);
        let w = packed::with_time(w, 5);
        assert_eq!(packed::time(w), 5);
        assert_eq!(packed::kind(w), packed::BLOCKED);
        let w = packed::with_kind(w, packed::STARTED);
        assert_eq!(packed::kind(w), packed::STARTED);
        assert_eq!(packed::detail(w), 77);
        // Out-of-range values saturate instead of bleeding into other fields.
        let w = packed::pack(u64::MAX, packed::ENDED, u32::MAX);
        assert_eq!(packed::time(w), packed::MAX_TIME);
        assert_eq!(packed::kind(w), packed::ENDED);
        assert_eq!(packed::detail(w), packed::MAX_DETAIL);
    }

    #[test]
    fn every_model_kind_decodes() {
        for k in 1..=packed::SWITCHED_IN {
            assert!(decode_kind(k).is_some(), "kind {k}");
        }
        assert!(decode_kind(0).is_none());
        assert!(decode_kind(packed::SWITCHED_IN + 1).is_none());
        for s in [
            GoState::Runnable,
            GoState::Running,
            GoState::Syscall,
            GoState::Waiting,
        ] {
            assert_eq!(
                decode_kind(initial_kind(s)),
                Some((s, SpanCause::AtTraceStart))
            );
            assert_eq!(decode_kind(status_kind(s)), Some((s, SpanCause::Status)));
        }
    }
}
