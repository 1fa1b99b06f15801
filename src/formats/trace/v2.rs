//! The Go 1.22+ wire format: generations of per-thread batches.
//!
//! Framing is one cheap walk over the batch headers. Each generation is
//! then scanned on its own (tables, then the first replay) in parallel;
//! strings and stacks are interned sequentially into the one table; the
//! second replay writes spans, again in parallel.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::assemble::{self, Clock, Counter, Details, FORMAT, IdIndex, RawDetail, Sink, Writer};
use super::extras::{Extras, GcOp, Parts, RawAnnot, RawCpu, RawCreation, RawProc, Resolve};
use super::{Reader, text};
use crate::formats::{FormatError, Limits, Loaded};
use crate::model::timeline::{GoState, SpanDetail, TimeSpan, Trace, packed, state_from_status};
use crate::model::{
    FrameId, Input, Source, StackId, StackTable, StrId, Warnings,
    timeline::{initial_kind, status_kind},
};
use crate::progress::Progress;

mod tables;
mod wire;

use tables::scan_tables;
pub(super) use wire::batch_offsets;
use wire::{BatchKind, Generation, args_len, event_name, frame};

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
    extras: Extras,
    /// Per event type, and the structural records under their own names.
    type_counts: Vec<u64>,
    record_counts: Vec<(&'static str, u64)>,
    events: u64,
    warnings: Warnings,
    has_strings: bool,
    has_stacks: bool,
}

/// Pass-one-only state of a replay.
struct Collect<'x> {
    extras: &'x mut Extras,
    type_counts: &'x mut [u64],
    events: &'x mut u64,
    warnings: &'x mut Warnings,
}

/// Replays one generation's events thread by thread (the simple-viewer
/// recipe), handing goroutine transitions to `sink`.
fn replay<S: Sink>(
    data: &[u8],
    g: &Generation,
    threads: &[(u64, Vec<usize>)],
    first_gen: bool,
    minor: u32,
    sink: &mut S,
    mut collect: Option<Collect<'_>>,
) {
    // Current goroutine of threads not being replayed right now (a status
    // event can set another thread's).
    let mut parked: FxHashMap<u64, u64> = FxHashMap::default();
    for (m, batch_ids) in threads {
        let m = *m;
        let mut cur_g: Option<u64> = parked.remove(&m);
        let mut cur_p: Option<u64> = None;
        let mut open_p: Option<(u64, u64, bool)> = None; // (p, start tick, from status)
        for &bi in batch_ids {
            let Some(b) = g.batches.get(bi) else { continue };
            let mut r = Reader::new(data.get(b.payload.clone()).unwrap_or(&[]));
            let mut ts = b.time;
            'events: while !r.is_empty() {
                let at = b.payload.start + r.pos();
                let Some(typ) = r.byte() else { break };
                let Some(n) = args_len(typ, minor) else {
                    if let Some(c) = collect.as_mut() {
                        c.warnings.add("trace-unknown-event", || {
                            format!("unknown event type {typ} at byte {at}; ignored the rest of its batch")
                        });
                    }
                    break;
                };
                let mut a = [0u64; 5];
                for slot in a.iter_mut().take(n) {
                    match r.uvarint() {
                        Some(v) => *slot = v,
                        None => {
                            if let Some(c) = collect.as_mut() {
                                c.warnings.add("trace-corrupt-batch", || {
                                    format!("an unreadable event at byte {at}; ignored the rest of its batch")
                                });
                            }
                            break 'events;
                        }
                    }
                }
                ts = ts.wrapping_add(a[0]);
                let t = ts;
                if let Some(c) = collect.as_mut() {
                    if let Some(x) = c.type_counts.get_mut(usize::from(typ)) {
                        *x += 1;
                    }
                    *c.events += 1;
                    c.extras.saw_tick(t);
                }
                let ex = collect.as_mut().map(|c| &mut *c.extras);
                match typ {
                    // ProcStart
                    10 => {
                        if let Some(ex) = ex {
                            close_proc(ex, &mut open_p, m, t);
                            open_p = Some((a[1], t, false));
                        }
                        cur_p = Some(a[1]);
                    }
                    // ProcStop
                    11 => {
                        if let Some(ex) = ex {
                            close_proc(ex, &mut open_p, m, t);
                        }
                        cur_p = None;
                    }
                    // ProcSteal
                    12 => {
                        if let Some(ex) = ex {
                            ex.steals.push((a[1], t));
                            if a[3] == m {
                                close_proc(ex, &mut open_p, m, t);
                            }
                        }
                        if a[3] == m {
                            cur_p = None;
                        }
                    }
                    // ProcStatus
                    13 if a[2] == 1 || a[2] == 3 => {
                        if let Some(ex) = ex
                            && m != NONE
                            && open_p.map(|o| o.0) != Some(a[1])
                        {
                            close_proc(ex, &mut open_p, m, t);
                            open_p = Some((a[1], t, true));
                        }
                        cur_p = Some(a[1]);
                    }
                    // GoCreate, GoCreateBlocked
                    14 | 47 => {
                        let kind = if typ == 14 {
                            packed::CREATED
                        } else {
                            packed::CREATED_BLOCKED
                        };
                        sink.go(a[1], t, kind, RawDetail::None);
                        if let Some(ex) = ex {
                            ex.creations.push(RawCreation {
                                g: a[1],
                                creator: cur_g.unwrap_or(0),
                                creator_stack: a[3],
                                start_stack: a[2],
                                tick: t,
                            });
                        }
                    }
                    // GoCreateSyscall
                    15 => {
                        sink.go(a[1], t, packed::CREATED_SYSCALL, RawDetail::None);
                        cur_g = Some(a[1]);
                    }
                    // GoStart
                    16 => {
                        sink.go(a[1], t, packed::STARTED, RawDetail::Proc(cur_p));
                        cur_g = Some(a[1]);
                    }
                    // GoDestroy, GoDestroySyscall
                    17 | 18 => {
                        if let Some(gid) = cur_g.take() {
                            let kind = if typ == 17 {
                                packed::ENDED
                            } else {
                                packed::ENDED_IN_SYSCALL
                            };
                            sink.go(gid, t, kind, RawDetail::None);
                        }
                        // A C thread leaving Go keeps no P: Go's reader
                        // steals it back from the thread right there.
                        if typ == 18 {
                            if let Some(ex) = ex {
                                close_proc(ex, &mut open_p, m, t);
                            }
                            cur_p = None;
                        }
                    }
                    // GoStop, GoBlock
                    19 | 20 => {
                        if let Some(gid) = cur_g.take() {
                            let kind = if typ == 19 {
                                packed::STOPPED
                            } else {
                                packed::BLOCKED
                            };
                            sink.go(gid, t, kind, RawDetail::Combo(a[1], a[2]));
                        }
                    }
                    // GoUnblock
                    21 => sink.go(
                        a[1],
                        t,
                        packed::UNBLOCKED,
                        RawDetail::Goroutine(cur_g.unwrap_or(0)),
                    ),
                    // GoSyscallBegin
                    22 => {
                        if let Some(gid) = cur_g {
                            sink.go(gid, t, packed::SYSCALL_BEGAN, RawDetail::Combo(0, a[2]));
                        }
                    }
                    // GoSyscallEnd
                    23 => {
                        if let Some(gid) = cur_g {
                            sink.go(gid, t, packed::SYSCALL_ENDED, RawDetail::Proc(cur_p));
                        }
                    }
                    // GoSyscallEndBlocked: the thread lost its P during the syscall.
                    24 => {
                        if let Some(gid) = cur_g.take() {
                            sink.go(gid, t, packed::SYSCALL_ENDED_BLOCKED, RawDetail::None);
                        }
                        if let Some(ex) = ex {
                            close_proc(ex, &mut open_p, m, t);
                        }
                        cur_p = None;
                    }
                    // GoStatus, GoStatusStack
                    25 | 48 => {
                        let (gid, mid, status) = (a[1], a[2], a[3]);
                        let stack = if typ == 48 { a[4] } else { 0 };
                        match state_from_status(status) {
                            Some(state) => {
                                let kind = if first_gen {
                                    initial_kind(state)
                                } else {
                                    status_kind(state)
                                };
                                sink.go(gid, t, kind, RawDetail::Combo(0, stack));
                                if state == GoState::Running {
                                    cur_g = Some(gid);
                                } else if state == GoState::Syscall {
                                    if mid == NONE || mid == m {
                                        cur_g = Some(gid);
                                    } else {
                                        parked.insert(mid, gid);
                                    }
                                }
                            }
                            None => {
                                if let Some(ex_c) = collect.as_mut() {
                                    ex_c.warnings.add("trace-bad-status", || {
                                        format!("goroutine {gid} has the invalid status {status} at byte {at}")
                                    });
                                }
                            }
                        }
                    }
                    // STWBegin, STWEnd
                    26 => {
                        if let Some(ex) = ex {
                            ex.stw.push((t, Some(a[1])));
                        }
                    }
                    27 => {
                        if let Some(ex) = ex {
                            ex.stw.push((t, None));
                        }
                    }
                    // GCActive, GCBegin, GCEnd
                    28..=30 => {
                        if let Some(ex) = ex {
                            let op = match typ {
                                28 => GcOp::Active,
                                29 => GcOp::Begin,
                                _ => GcOp::End,
                            };
                            ex.gc.push((t, op));
                        }
                    }
                    // GoLabel
                    39 => {
                        if let (Some(ex), Some(gid)) = (ex, cur_g) {
                            ex.labels.push((gid, a[1]));
                        }
                    }
                    40 => {
                        if let Some(ex) = ex {
                            ex.annots.push((
                                t,
                                RawAnnot::TaskBegin {
                                    task: a[1],
                                    parent: a[2],
                                    name: a[3],
                                    stack: a[4],
                                    g: cur_g.unwrap_or(0),
                                },
                            ));
                        }
                    }
                    41 => {
                        if let Some(ex) = ex {
                            ex.annots.push((t, RawAnnot::TaskEnd { task: a[1] }));
                        }
                    }
                    42 => {
                        if let Some(ex) = ex {
                            ex.annots.push((
                                t,
                                RawAnnot::RegionBegin {
                                    task: a[1],
                                    name: a[2],
                                    stack: a[3],
                                    g: cur_g.unwrap_or(0),
                                },
                            ));
                        }
                    }
                    43 => {
                        if let Some(ex) = ex {
                            ex.annots.push((
                                t,
                                RawAnnot::RegionEnd {
                                    task: a[1],
                                    name: a[2],
                                    g: cur_g.unwrap_or(0),
                                },
                            ));
                        }
                    }
                    44 => {
                        if let Some(ex) = ex {
                            ex.annots.push((
                                t,
                                RawAnnot::Log {
                                    task: a[1],
                                    key: a[2],
                                    value: a[3],
                                    stack: a[4],
                                    g: cur_g.unwrap_or(0),
                                },
                            ));
                        }
                    }
                    // GoSwitch, GoSwitchDestroy: unblock the target, block or
                    // end the current goroutine, start the target.
                    45 | 46 => {
                        let next = a[1];
                        sink.go(
                            next,
                            t,
                            packed::UNBLOCKED,
                            RawDetail::Goroutine(cur_g.unwrap_or(0)),
                        );
                        if let Some(gid) = cur_g {
                            if typ == 45 {
                                sink.go(gid, t, packed::BLOCKED, RawDetail::None);
                            } else {
                                sink.go(gid, t, packed::ENDED, RawDetail::None);
                            }
                        }
                        sink.go(next, t, packed::STARTED, RawDetail::Proc(cur_p));
                        cur_g = Some(next);
                    }
                    _ => {}
                }
            }
        }
        if let Some(gid) = cur_g {
            parked.insert(m, gid);
        }
        if let (Some(c), Some((p, start, from_status))) = (collect.as_mut(), open_p) {
            c.extras.procs.push(RawProc {
                p,
                m,
                start,
                end: None,
                from_status,
            });
        }
    }
}

fn close_proc(ex: &mut Extras, open: &mut Option<(u64, u64, bool)>, m: u64, t: u64) {
    if let Some((p, start, from_status)) = open.take() {
        ex.procs.push(RawProc {
            p,
            m,
            start,
            end: Some(t),
            from_status,
        });
    }
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
    data: &[u8],
    minor: u32,
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    progress.set_stage("Reading trace generations");
    let mut warnings = Warnings::default();
    let gens = frame(data, minor, limits, &mut warnings);
    if gens.is_empty() {
        return Err(FormatError::NothingFound {
            format: FORMAT,
            what: "complete batch",
            detail: String::new(),
        });
    }

    // Tables and first replay, one generation per task.
    let done = AtomicUsize::new(0);
    let tick = |from: f32, to: f32| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress.set(from + (to - from) * n as f32 / gens.len().max(1) as f32);
    };
    let type_totals: Vec<AtomicU64> = (0..256).map(|_| AtomicU64::new(0)).collect();
    let scans: Vec<Scan> = gens
        .par_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut s = scan_tables(data, g, limits);
            if progress.is_cancelled() {
                return s;
            }
            let threads = std::mem::take(&mut s.threads);
            let mut counter = std::mem::take(&mut s.counter);
            let mut extras = std::mem::take(&mut s.extras);
            let mut type_counts = std::mem::take(&mut s.type_counts);
            let mut events = 0;
            replay(
                data,
                g,
                &threads,
                i == 0,
                minor,
                &mut counter,
                Some(Collect {
                    extras: &mut extras,
                    type_counts: &mut type_counts,
                    events: &mut events,
                    warnings: &mut s.warnings,
                }),
            );
            s.threads = threads;
            s.counter = counter;
            s.extras = extras;
            // Summed here rather than kept per generation: 2 KB each adds
            // up over a file of many tiny generations.
            for (total, &c) in type_totals.iter().zip(&type_counts) {
                if c > 0 {
                    total.fetch_add(c, Ordering::Relaxed);
                }
            }
            s.events = events;
            tick(0.0, 0.4);
            s
        })
        .collect();
    if progress.is_cancelled() {
        return Err(FormatError::Cancelled);
    }
    progress.set(0.4);

    // Clock per generation: a generation cut before its frequency was
    // written borrows a neighbour's (the rate is fixed per machine).
    let any_freq = scans.iter().find_map(|s| s.freq);
    let Some(fallback) = any_freq else {
        return Err(FormatError::NothingFound {
            format: FORMAT,
            what: "complete generation",
            detail: " (the trace ends before its first generation was written out: no clock frequency, strings or stacks)".into(),
        });
    };
    let mut freqs = Vec::with_capacity(scans.len());
    let mut last = fallback;
    for s in &scans {
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
    let mut window: Option<(i64, i64)> = None;
    for (s, &npt) in scans.iter().zip(&freqs) {
        if let (Some(lo), Some(hi)) = (s.extras.min_tick, s.extras.max_tick) {
            let (lo, hi) = (
                assemble::ticks_to_ns(lo, npt),
                assemble::ticks_to_ns(hi, npt),
            );
            window = Some(window.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
    }
    let (start_ns, end_ns) = window.unwrap_or((0, 0));
    let shift = assemble::time_shift(end_ns.saturating_sub(start_ns));

    // Goroutine table and everything besides spans, in the shared table.
    progress.set_stage("Building goroutine timelines");
    let ids = assemble::sorted_ids(scans.iter().map(|s| &s.counter.counts));
    let index = IdIndex::new(&ids);
    let mut table = StackTable::default();
    let mut details = Details::default();
    let mut parts = Parts::new(&ids);
    let mut missing = 0;
    let mut writer_combos = Vec::with_capacity(scans.len());
    let mut scans = scans;
    for (s, &npt) in scans.iter_mut().zip(&freqs) {
        let extras = std::mem::take(&mut s.extras);
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
        parts.add(extras, &index, &mut r, end_tick, |_| true);
        let mut combos: FxHashMap<(u64, u64), u32> =
            FxHashMap::with_capacity_and_hasher(s.counter.combos.len(), Default::default());
        for &key in &s.counter.combos {
            let d = SpanDetail {
                reason: r.string(key.0),
                stack: r.stack(key.1),
            };
            combos.insert(key, details.intern(d));
        }
        missing += r.missing;
        writer_combos.push(combos);
    }
    warnings.add_n("trace-missing-reference", missing, || {
        "events refer to strings or stacks the trace does not define (a cut or damaged generation)".into()
    });
    let built = parts.build(end_ns);

    let counts: Vec<&FxHashMap<u64, u32>> = scans.iter().map(|s| &s.counter.counts).collect();
    let span_starts = assemble::span_starts(&ids, &index, &counts, limits)?;
    let goroutines = ids.len();
    let bases = assemble::segment_bases(&span_starts, &index, &counts);
    drop(counts);
    let mut events = 0;
    let type_counts: Vec<u64> = type_totals.into_iter().map(AtomicU64::into_inner).collect();
    let mut record_counts = Vec::new();
    let mut threads = Vec::with_capacity(scans.len());
    for s in &mut scans {
        s.counter = Counter::default();
        events += s.events;
        record_counts.extend_from_slice(&s.record_counts);
        warnings.extend(std::mem::take(&mut s.warnings));
        threads.push(std::mem::take(&mut s.threads));
    }
    drop(scans);

    // Second replay: spans into their slots.
    done.store(0, Ordering::Relaxed);
    let total = span_starts.last().copied().unwrap_or(0) as usize;
    let slots = assemble::new_slots(total);
    let (lost, unresolved): (u64, u64) = gens
        .par_iter()
        .enumerate()
        .zip(threads)
        .zip(bases)
        .zip(writer_combos)
        .zip(freqs)
        .map(|(((((i, g), threads), bases), combos), npt)| {
            if progress.is_cancelled() {
                return (0, 0);
            }
            let mut w = Writer {
                slots: &slots,
                index: &index,
                cursor: assemble::cursor_for(&bases, goroutines),
                combos,
                clock: Clock {
                    ns_per_tick: npt,
                    base_ns: start_ns,
                    shift,
                },
                lost: 0,
                unresolved: 0,
            };
            drop(bases);
            replay(data, g, &threads, i == 0, minor, &mut w, None);
            tick(0.4, 0.8);
            (w.lost, w.unresolved)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if progress.is_cancelled() {
        return Err(FormatError::Cancelled);
    }
    drop(index);
    progress.set(0.8);
    let (spans, span_starts, inconsistent) = assemble::finish(slots, span_starts);
    assemble::assembly_warnings(
        &mut warnings,
        lost,
        inconsistent,
        details.overflow + unresolved,
    );

    let mut names: Vec<(&'static str, u64)> = type_counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(t, &c)| (event_name(t as u8), c))
        .collect();
    names.extend(record_counts);
    let trace = Trace {
        source,
        warnings,
        go_version: format!("go1.{minor}"),
        legacy: false,
        window: TimeSpan { start_ns, end_ns },
        events,
        event_counts: assemble::named_counts(&names),
        goroutine_ids: ids,
        goroutine_info: built.goroutines,
        span_starts,
        spans,
        time_shift: shift,
        details: details.list,
        labels: built.labels,
        procs: built.procs,
        cpu_samples: built.cpu,
        gc: built.gc,
        stw: built.stw,
        tasks: built.tasks,
        regions: built.regions,
        logs: built.logs,
    };
    progress.set(1.0);
    Ok(Loaded {
        table,
        input: Input::Trace(std::sync::Arc::new(trace)),
    })
}
