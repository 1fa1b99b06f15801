//! The Go 1.22+ wire format: generations of per-thread batches.
//!
//! Framing is one cheap walk over the batch headers. Each generation is
//! then scanned on its own (tables, then the first replay) in parallel;
//! strings and stacks are interned sequentially into the one table; the
//! second replay writes spans, again in parallel.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::assemble::{self, Clock, Details, FORMAT, IdIndex, RawDetail, Sink, Step, Writer};
use super::extras::{Built, Extras, GcOp, Parts, RawAnnot, RawCpu, RawCreation, RawProc, Resolve};
use super::slots::{self, Counter, SegmentCounts};
use super::{Reader, text};
use crate::formats::{FormatError, Limits, Loaded};
use crate::model::timeline::{GoState, TimeSpan, packed, state_from_status};
use crate::model::{
    FrameId, Source, StackId, StackTable, StrId, Warnings,
    timeline::{initial_kind, status_kind},
};
use crate::progress::Progress;

mod replay;
mod tables;
mod wire;

use replay::{Bytes, Collect, Mode, Replayed, Schedule, Setup, replay};
use tables::scan_tables;
pub(super) use wire::batch_offsets;
use wire::{ArgTable, BatchKind, Generation, event_name, frame};

const NONE: u64 = u64::MAX;
/// One generation after its tables were read and its first replay ran.
struct Scan<'a> {
    number: u64,
    freq: Option<u64>,
    strings: FxHashMap<u64, &'a [u8]>,
    stacks: FxHashMap<u64, Range<usize>>,
    /// (function string, file string, line) of every stack frame.
    frames: Vec<(u64, u64, u64)>,
    /// Event batches per thread, threads in order of first appearance.
    threads: Vec<(u64, Vec<usize>)>,
    counter: Counter,
    /// The counter's counts, packed once the first replay is done.
    counts: SegmentCounts,
    extras: Extras,
    /// Per event type, and the structural records under their own names.
    type_counts: Vec<u64>,
    record_counts: Vec<(&'static str, u64)>,
    events: u64,
    warnings: Warnings,
    has_strings: bool,
    has_stacks: bool,
    /// The order the first replay took when the merge by time broke Go's
    /// order; the second replay takes it again.
    schedule: Option<Schedule>,
}

/// The first replay of a generation: counts, extras and warnings into its
/// scan. Merged by time and verified first; replayed again holding events
/// back if that broke Go's order.
fn first_replay(data: &[u8], g: &Generation, first_gen: bool, args: &ArgTable, s: &mut Scan<'_>) {
    let threads = std::mem::take(&mut s.threads);
    let cpu = std::mem::take(&mut s.extras.cpu);
    let setup = Setup {
        data: Bytes::whole(data),
        generation: g,
        threads: &threads,
        first_gen,
        args,
    };
    for mode in [Mode::Verify, Mode::Wait] {
        let mut counter = Counter::default();
        let mut extras = Extras::default();
        let mut type_counts = vec![0; 256];
        let mut events = 0;
        let mut warnings = Warnings::default();
        let replayed = replay(
            &setup,
            mode,
            &mut counter,
            Some(Collect {
                extras: &mut extras,
                type_counts: &mut type_counts,
                events: &mut events,
                warnings: &mut warnings,
            }),
        );
        if matches!(replayed, Replayed::Broken) {
            continue;
        }
        s.counter = counter;
        s.extras = extras;
        s.type_counts = type_counts;
        s.events = events;
        s.warnings.extend(warnings);
        if let Replayed::Scheduled(schedule) = replayed {
            s.schedule = Some(schedule);
        }
        break;
    }
    s.extras.cpu = cpu;
    s.threads = threads;
    s.counts = s.counter.pack();
}

/// Resolves one generation's string and stack ids into the shared table.
struct GenResolver<'s, 'a> {
    scan: &'s Scan<'a>,
    table: &'s mut StackTable,
    strings: FxHashMap<u64, StrId>,
    stacks: FxHashMap<u64, StackId>,
    ns_per_tick: f64,
    max_depth: usize,
    missing: u64,
    frame_buf: Vec<FrameId>,
}

impl Resolve for GenResolver<'_, '_> {
    fn string(&mut self, sid: u64) -> StrId {
        if sid == 0 {
            return StrId::EMPTY;
        }
        if let Some(&s) = self.strings.get(&sid) {
            return s;
        }
        let id = match self.scan.strings.get(&sid) {
            Some(bytes) => self.table.intern_str(&text(bytes)),
            None => {
                self.missing += 1;
                StrId::EMPTY
            }
        };
        self.strings.insert(sid, id);
        id
    }

    fn stack(&mut self, id: u64) -> StackId {
        if id == 0 {
            return StackId::EMPTY;
        }
        if let Some(&s) = self.stacks.get(&id) {
            return s;
        }
        let Some(range) = self.scan.stacks.get(&id).cloned() else {
            self.missing += 1;
            self.stacks.insert(id, StackId::EMPTY);
            return StackId::EMPTY;
        };
        let mut frames = std::mem::take(&mut self.frame_buf);
        frames.clear();
        for &(func, file, line) in self.scan.frames.get(range).unwrap_or(&[]).iter() {
            if frames.len() >= self.max_depth {
                break;
            }
            let func = self.string(func);
            let file = self.string(file);
            frames.push(self.table.intern_frame_ids(crate::model::Frame {
                function: func,
                file,
                line: u32::try_from(line).unwrap_or(u32::MAX),
            }));
        }
        let s = self.table.intern_inner_first(&frames);
        self.frame_buf = frames;
        self.stacks.insert(id, s);
        s
    }

    fn ns(&self, tick: u64) -> i64 {
        assemble::ticks_to_ns(tick, self.ns_per_tick)
    }
}

pub(super) fn parse(
    bytes: Cow<'_, [u8]>,
    minor: u32,
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    progress.set_stage("Reading trace generations");
    let mut warnings = Warnings::default();
    let data: &[u8] = &bytes;
    let gens = frame(data, minor, limits, &mut warnings);
    if gens.is_empty() {
        return Err(FormatError::NothingFound {
            format: FORMAT,
            what: "complete batch",
            detail: String::new(),
        });
    }
    let args = ArgTable::new(minor);
    let (mut scans, type_counts) = first_pass(data, &gens, &args, limits, progress);
    if progress.is_cancelled() {
        return Err(FormatError::Cancelled);
    }
    progress.set(0.4);
    let freqs = clocks(&scans, &mut warnings)?;
    let (start_ns, end_ns) = window(&scans, &freqs);
    let shift = assemble::time_shift(end_ns.saturating_sub(start_ns));

    // Goroutine table and everything besides spans, in the shared table.
    progress.set_stage("Building goroutine timelines");
    let segments: Vec<SegmentCounts> = scans
        .iter_mut()
        .map(|s| std::mem::take(&mut s.counts))
        .collect();
    let ids = slots::sorted_ids(&segments);
    let index = IdIndex::new(&ids);
    let resolved = resolve(&mut scans, &freqs, &ids, &index, limits, end_ns);
    warnings.add_n("trace-missing-reference", resolved.missing, || {
        "events refer to strings or stacks the trace does not define (a cut or damaged generation)".into()
    });
    let (span_starts, bases) = slots::plan(&ids, &index, segments, limits)?;
    let mut events = 0;
    let mut names: Vec<(&'static str, u64)> = type_counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(t, &c)| (event_name(t as u8), c))
        .collect();
    let mut threads = Vec::with_capacity(scans.len());
    for s in &mut scans {
        events += s.events;
        names.extend_from_slice(&s.record_counts);
        warnings.extend(std::mem::take(&mut s.warnings));
        threads.push((std::mem::take(&mut s.threads), s.schedule.take()));
    }
    drop(scans);

    // Second replay: spans into their slots.
    let total = span_starts.last().copied().unwrap_or(0) as usize;
    let words = slots::new_slots(total);
    let clocks = freqs.iter().map(|&ns_per_tick| Clock {
        ns_per_tick,
        base_ns: start_ns,
        shift,
    });
    let plans: Vec<SecondPass> = threads
        .into_iter()
        .zip(bases)
        .zip(resolved.combos)
        .zip(resolved.switch_ids)
        .zip(clocks)
        .map(
            |(((((threads, schedule), bases), combos), switches), clock)| SecondPass {
                threads,
                schedule,
                bases,
                combos,
                switches,
                clock,
            },
        )
        .collect();
    let into = (words.as_slice(), &index, span_starts.as_slice());
    let (lost, unresolved) = second_pass(bytes, &gens, &args, plans, into, progress);
    if progress.is_cancelled() {
        return Err(FormatError::Cancelled);
    }
    drop(index);
    progress.set(0.8);
    let loaded = assemble::Decoded {
        source,
        warnings,
        minor,
        legacy: false,
        window: TimeSpan { start_ns, end_ns },
        events,
        names,
        ids,
        built: resolved.built,
        words,
        span_starts,
        order: assemble::SlotOrder::Replayed,
        time_shift: shift,
        details: resolved.details,
        switches: resolved.switches,
        lost,
        unresolved,
        table: resolved.table,
    }
    .into_loaded();
    progress.set(1.0);
    Ok(loaded)
}

/// Tables and first replay, one generation per task; and the counts of
/// every event type, summed here rather than kept per generation (2 KB each
/// add up over a file of many tiny generations).
fn first_pass<'a>(
    data: &'a [u8],
    gens: &[Generation],
    args: &ArgTable,
    limits: &Limits,
    progress: &Progress,
) -> (Vec<Scan<'a>>, Vec<u64>) {
    let done = AtomicUsize::new(0);
    let type_totals: Vec<AtomicU64> = (0..256).map(|_| AtomicU64::new(0)).collect();
    let scans = gens
        .par_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut s = scan_tables(data, g, limits);
            if progress.is_cancelled() {
                return s;
            }
            first_replay(data, g, i == 0, args, &mut s);
            for (total, &c) in type_totals.iter().zip(&s.type_counts) {
                if c > 0 {
                    total.fetch_add(c, Ordering::Relaxed);
                }
            }
            s.type_counts = Vec::new();
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.set(0.4 * n as f32 / gens.len().max(1) as f32);
            s
        })
        .collect();
    let totals = type_totals.into_iter().map(AtomicU64::into_inner).collect();
    (scans, totals)
}

/// Nanoseconds per tick of every generation. A generation cut before its
/// frequency was written borrows a neighbour's (the rate is fixed per
/// machine); one cut before its tables is said to be incomplete.
fn clocks(scans: &[Scan<'_>], warnings: &mut Warnings) -> Result<Vec<f64>, FormatError> {
    let Some(fallback) = scans.iter().find_map(|s| s.freq) else {
        return Err(FormatError::NothingFound {
            format: FORMAT,
            what: "complete generation",
            detail: " (the trace ends before its first generation was written out: no clock frequency, strings or stacks)".into(),
        });
    };
    let mut freqs = Vec::with_capacity(scans.len());
    let mut last = fallback;
    for s in scans {
        // Go writes the tables at the end of every generation, so a
        // generation with events but no tables was cut before its end.
        let has_events = s.events > 0;
        let mut lacks = Vec::new();
        if s.freq.is_none() {
            lacks.push("clock frequency");
        }
        if has_events && !s.has_strings {
            lacks.push("strings");
        }
        if has_events && !s.has_stacks {
            lacks.push("stacks");
        }
        if let Some(f) = s.freq {
            last = f;
        }
        if !lacks.is_empty() {
            let (n, events) = (s.number, s.events);
            let clock = if s.freq.is_none() {
                ", timed with a neighbouring generation's clock"
            } else {
                ""
            };
            warnings.add("trace-incomplete-generation", || {
                format!(
                    "generation {n} is incomplete (cut before its {} were written): kept its {events} events{clock}, some without stacks or reasons",
                    lacks.join(", ")
                )
            });
        }
        freqs.push(1e9 / last as f64);
    }
    Ok(freqs)
}

/// The trace's window in nanoseconds: its first and last event.
fn window(scans: &[Scan<'_>], freqs: &[f64]) -> (i64, i64) {
    let mut window: Option<(i64, i64)> = None;
    for (s, &npt) in scans.iter().zip(freqs) {
        if let (Some(lo), Some(hi)) = (s.extras.min_tick, s.extras.max_tick) {
            let (lo, hi) = (
                assemble::ticks_to_ns(lo, npt),
                assemble::ticks_to_ns(hi, npt),
            );
            window = Some(window.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
    }
    window.unwrap_or((0, 0))
}

/// Everything of the generations but their spans, in model ids.
struct Resolved {
    table: StackTable,
    details: Details,
    built: Built,
    /// Per generation, its (reason, stack) pairs as detail ids.
    combos: Vec<FxHashMap<(u64, u64), u32>>,
    switches: assemble::Switches,
    /// Per generation, its coroutine switches' (goroutine, P) as switch ids.
    switch_ids: Vec<FxHashMap<(u64, u64), u32>>,
    /// References to strings and stacks no table defines.
    missing: u64,
}

/// Interns every generation's strings and stacks into one table, in
/// generation order, and resolves what is not a span.
fn resolve(
    scans: &mut [Scan<'_>],
    freqs: &[f64],
    ids: &[u64],
    index: &IdIndex,
    limits: &Limits,
    end_ns: i64,
) -> Resolved {
    let mut table = StackTable::default();
    let mut details = Details::default();
    let mut switches = assemble::Switches::default();
    let mut switch_ids = Vec::with_capacity(scans.len());
    let mut parts = Parts::new(ids);
    let mut missing = 0;
    let mut all_combos = Vec::with_capacity(scans.len());
    for (s, &npt) in scans.iter_mut().zip(freqs) {
        let extras = std::mem::take(&mut s.extras);
        let counter = std::mem::take(&mut s.counter);
        let end_tick = extras.max_tick.unwrap_or(0);
        let mut r = GenResolver {
            scan: s,
            table: &mut table,
            strings: FxHashMap::default(),
            stacks: FxHashMap::default(),
            ns_per_tick: npt,
            max_depth: limits.max_stack_depth,
            missing: 0,
            frame_buf: Vec::new(),
        };
        parts.add(extras, index, &mut r, end_tick, |_| true);
        all_combos.push(details.intern_combos(&counter.combos, &mut r));
        switch_ids.push(switches.intern_pairs(&counter.switches, index));
        missing += r.missing;
    }
    Resolved {
        table,
        details,
        built: parts.build(end_ns),
        combos: all_combos,
        switches,
        switch_ids,
        missing,
    }
}

/// What the second replay of one generation needs.
struct SecondPass {
    threads: Vec<(u64, Vec<usize>)>,
    schedule: Option<Schedule>,
    bases: slots::SegmentBases,
    combos: FxHashMap<(u64, u64), u32>,
    switches: FxHashMap<(u64, u64), u32>,
    clock: Clock,
}

/// Second replay: every generation writes its spans into their slots, in
/// parallel. Returns the transitions that found no slot and the unblockers
/// that name nothing.
///
/// Owned bytes are first cut into each generation's own, and each
/// generation drops its bytes once replayed, while the slots' fresh pages
/// fill as they are written (`slots::new_slots`): so the file and the
/// spans are not resident in full at once. The largest generations go
/// first, so the last ones, whose bytes and spans are both resident when
/// the slots are nearly full, are small (and the cores stay busy).
fn second_pass(
    bytes: Cow<'_, [u8]>,
    gens: &[Generation],
    args: &ArgTable,
    plans: Vec<SecondPass>,
    into: (&[AtomicU64], &IdIndex, &[u32]),
    progress: &Progress,
) -> (u64, u64) {
    let (whole, pieces) = split(bytes, gens);
    let size = |i: usize| {
        gens.get(i).map_or(0, |g| {
            g.batches.iter().map(|b| b.payload.len()).sum::<usize>()
        })
    };
    let mut work: Vec<(usize, SecondPass, Option<Piece>)> = plans
        .into_iter()
        .zip(pieces)
        .enumerate()
        .map(|(i, (plan, piece))| (i, plan, piece))
        .collect();
    work.sort_by_key(|&(i, _, _)| std::cmp::Reverse(size(i)));
    let queue = std::sync::Mutex::new(work.into_iter());
    let shared = Shared {
        args,
        into,
        done: AtomicUsize::new(0),
        total: gens.len(),
        progress,
    };
    let workers = rayon::current_num_threads().max(1);
    (0..workers)
        .into_par_iter()
        .map(|_| {
            let (mut lost, mut unresolved) = (0, 0);
            loop {
                let next = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .next();
                let Some((i, plan, piece)) = next else { break };
                let data = match &piece {
                    Some(p) => Bytes {
                        data: &p.bytes,
                        base: p.base,
                    },
                    None => Bytes::whole(&whole),
                };
                if let Some(g) = gens.get(i) {
                    let (l, u) = replay_one(data, g, i, plan, &shared);
                    lost += l;
                    unresolved += u;
                }
            }
            (lost, unresolved)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// One generation's own bytes, cut from the file; `base` is where they
/// began in it.
struct Piece {
    base: usize,
    bytes: Vec<u8>,
}

/// Cuts owned bytes into each generation's own, from the last generation
/// to the first, giving each cut's tail back to the allocator at once (a
/// copy of the file, one generation at a time). Borrowed bytes, and files
/// whose generations are not one after the other, stay whole.
fn split<'a>(bytes: Cow<'a, [u8]>, gens: &[Generation]) -> (Cow<'a, [u8]>, Vec<Option<Piece>>) {
    let none = || gens.iter().map(|_| None).collect();
    let cuts = cut_points(gens);
    let Cow::Owned(mut v) = bytes else {
        return (bytes, none());
    };
    if cuts.iter().any(Option::is_none) {
        return (Cow::Owned(v), none());
    }
    let mut pieces: Vec<Option<Piece>> = Vec::with_capacity(gens.len());
    for &cut in cuts.iter().rev().flatten() {
        let base = cut.min(v.len());
        let bytes = v.split_off(base);
        v.shrink_to_fit();
        pieces.push(Some(Piece { base, bytes }));
    }
    pieces.reverse();
    (Cow::Owned(Vec::new()), pieces)
}

/// Per generation, where its bytes begin: its first batch, if no earlier
/// generation reaches past that (Go writes generations one after the
/// other); `None` otherwise.
fn cut_points(gens: &[Generation]) -> Vec<Option<usize>> {
    let mut reach = 0usize;
    gens.iter()
        .map(|g| {
            let first = g.batches.iter().map(|b| b.offset).min();
            let cut = first.filter(|&f| f >= reach);
            let last = g.batches.iter().map(|b| b.payload.end).max();
            reach = reach.max(last.unwrap_or(0));
            cut
        })
        .collect()
}

/// What the second replays of all generations share.
struct Shared<'s> {
    args: &'s ArgTable,
    into: (&'s [AtomicU64], &'s IdIndex, &'s [u32]),
    /// Generations replayed, of `total`, for the progress bar.
    done: AtomicUsize,
    total: usize,
    progress: &'s Progress,
}

/// The second replay of generation number `i`.
fn replay_one(
    data: Bytes<'_>,
    g: &Generation,
    i: usize,
    plan: SecondPass,
    shared: &Shared<'_>,
) -> (u64, u64) {
    if shared.progress.is_cancelled() {
        return (0, 0);
    }
    let (words, index, starts) = shared.into;
    // `starts` has one more entry than there are goroutines.
    let goroutines = starts.len().saturating_sub(1);
    let mut w = Writer {
        slots: words,
        index,
        cursor: slots::cursor_for(&plan.bases, starts, goroutines),
        combos: plan.combos,
        switches: plan.switches,
        recent: Default::default(),
        clock: plan.clock,
        lost: 0,
        unresolved: 0,
    };
    drop(plan.bases);
    let setup = Setup {
        data,
        generation: g,
        threads: &plan.threads,
        first_gen: i == 0,
        args: shared.args,
    };
    let mode = match &plan.schedule {
        Some(s) => Mode::Follow(s),
        None => Mode::Trust,
    };
    replay(&setup, mode, &mut w, None);
    let n = shared.done.fetch_add(1, Ordering::Relaxed) + 1;
    let part = n as f32 / shared.total.max(1) as f32;
    shared.progress.set(0.4 + 0.4 * part);
    (w.lost, w.unresolved)
}
