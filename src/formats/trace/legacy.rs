//! The legacy wire format (Go 1.11 to 1.21): per-P batches in one stream.
//!
//! Events carry no batch sizes, so the first pass (`scan.rs`) must walk
//! every record in file order (`wire.rs`); it collects the strings, the
//! stack table and the frequency (written last), counts slots and records
//! where each P's batches are. The second pass (`replay.rs`) replays P by
//! P (in the order Ps first appear) so that ties in time keep the order of
//! Go's reader. Both passes apply each event with the same handlers.

use std::borrow::Cow;
use std::ops::Range;

use rustc_hash::FxHashMap;

use super::assemble::{
    self, Clock, Details, FORMAT, HOLE, IdIndex, LEGACY_SYSCALL, RawDetail, SYSBLOCK_MARKER,
    SYSCALL_PLACEHOLDER, Sink, Writer, burst_kind,
};
use super::extras::{Built, Extras, GcOp, Parts, RawAnnot, RawCpu, RawCreation, RawProc, Resolve};
use super::slots::{self, Counter, Cursor};
use super::{Reader, text};
use crate::formats::{FormatError, Limits, Loaded};
use crate::model::timeline::{GoState, TimeSpan, packed, status_kind};
use crate::model::{Frame, FrameId, Source, StackId, StackTable, StrId, Warnings};
use crate::progress::Progress;

mod replay;
mod scan;
mod wire;

use replay::{BatchRange, Pass, replay};
use scan::{Scan, scan};
pub(super) use wire::batch_offsets;
use wire::event_name;

const NONE: u64 = u64::MAX;
/// Strings that legacy traces encode as event types or enums get ids from
/// here up, so they flow through the same (reason, stack) pairs as v2 ones.
const SYNTH: u64 = 1 << 62;
/// Inline `UserLog` values: `INLINE + index` into the scan's value list.
const INLINE: u64 = 1 << 61;

/// The reasons legacy block events stand for, in the words of the newer
/// format; `SYNTH + index` in pairs.
const REASONS: [&str; 12] = [
    "",
    "forever",
    "runtime.Gosched",
    "preempted",
    "sleep",
    "chan send",
    "chan receive",
    "select",
    "sync",
    "sync.(*Cond).Wait",
    "network",
    "GC mark assist wait for work",
];

/// Go 1.21's stop-the-world reasons, by the number it writes;
/// `SYNTH + 100 + index` as strings.
const STW_21: [&str; 17] = [
    "unknown",
    "GC mark termination",
    "GC sweep termination",
    "write heap dump",
    "goroutine profile",
    "goroutine profile cleanup",
    "all goroutines stack trace",
    "read mem stats",
    "AllThreadsSyscall",
    "GOMAXPROCS",
    "start trace",
    "stop trace",
    "CountPagesInUse (test)",
    "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)",
    "PageCachePagesLeaked (test)",
    "ResetDebugLog (test)",
];

fn synth_reason(name: &str) -> u64 {
    SYNTH + REASONS.iter().position(|r| *r == name).unwrap_or(0) as u64
}

struct LegacyResolver<'s> {
    data: &'s [u8],
    scan: &'s Scan,
    table: &'s mut StackTable,
    strings: FxHashMap<u64, StrId>,
    stacks: FxHashMap<u64, StackId>,
    ns_per_tick: f64,
    max_depth: usize,
    missing: u64,
}

impl Resolve for LegacyResolver<'_> {
    fn string(&mut self, sid: u64) -> StrId {
        if sid == 0 {
            return StrId::EMPTY;
        }
        if let Some(&s) = self.strings.get(&sid) {
            return s;
        }
        let id = if sid >= SYNTH {
            let k = sid - SYNTH;
            let name = if k >= 100 {
                STW_21.get((k - 100) as usize).copied().unwrap_or("unknown")
            } else {
                REASONS.get(k as usize).copied().unwrap_or("")
            };
            self.table.intern_str(name)
        } else if sid >= INLINE {
            let range = self.scan.log_values.get((sid - INLINE) as usize).cloned();
            let bytes = range.and_then(|r| self.data.get(r)).unwrap_or(&[]);
            self.table.intern_str(&text(bytes))
        } else {
            match self.scan.strings.get(&sid).cloned() {
                Some(range) => {
                    let bytes = self.data.get(range).unwrap_or(&[]);
                    self.table.intern_str(&text(bytes))
                }
                None => {
                    self.missing += 1;
                    StrId::EMPTY
                }
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
        let mut frames: Vec<FrameId> = Vec::with_capacity(range.len());
        for &(func, file, line) in self.scan.frames.get(range).unwrap_or(&[]).iter() {
            if frames.len() >= self.max_depth {
                break;
            }
            let function = self.string(func);
            let file = self.string(file);
            frames.push(self.table.intern_frame_ids(Frame {
                function,
                file,
                line: u32::try_from(line).unwrap_or(u32::MAX),
            }));
        }
        let s = self.table.intern_inner_first(&frames);
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
    progress.set_stage("Reading legacy trace");
    let data: &[u8] = &bytes;
    let mut s = scan(data, minor, limits, progress);
    if progress.is_cancelled() {
        return Err(FormatError::Cancelled);
    }
    if s.ps.is_empty() {
        return Err(FormatError::NothingFound {
            format: FORMAT,
            what: "event batch",
            detail: String::new(),
        });
    }
    let mut warnings = std::mem::take(&mut s.warnings);
    let ns_per_tick = match s.freq {
        Some(f) => 1e9 / f as f64,
        None => {
            warnings.add("trace-no-frequency", || {
                "the trace was cut before its clock frequency and stack table were written: times are raw clock ticks, not nanoseconds, and there are no stacks".into()
            });
            1.0
        }
    };
    let (start_ns, end_ns) = match (s.extras.min_tick, s.extras.max_tick) {
        (Some(lo), Some(hi)) => (
            assemble::ticks_to_ns(lo, ns_per_tick),
            assemble::ticks_to_ns(hi, ns_per_tick),
        ),
        _ => (0, 0),
    };
    let shift = assemble::time_shift(end_ns.saturating_sub(start_ns));

    progress.set_stage("Building goroutine timelines");
    // One segment: its goroutines' slot starts serve as its cursor.
    let (ids, index, span_starts) = slots::single(&mut s.counter, limits)?;
    let resolved = resolve(data, &mut s, &ids, &index, ns_per_tick, limits, end_ns);
    // Without a stack table every stack is missing; the warning above says so.
    if s.freq.is_some() {
        warnings.add_n("trace-missing-reference", resolved.missing, || {
            "events refer to strings or stacks the trace does not define".into()
        });
    }

    let total = span_starts.last().copied().unwrap_or(0) as usize;
    let ps = std::mem::take(&mut s.ps);
    let (events, type_counts, init_end) = (s.events, s.type_counts, s.init_end);
    drop(s);
    let ps = per_p_bytes(bytes, ps);
    let words = slots::new_slots(total);
    let w = Writer {
        slots: &words,
        index: &index,
        // One segment: each goroutine's slots start where its range does,
        // and once written the cursors are where the next ranges start.
        cursor: Cursor::Dense(span_starts),
        combos: resolved.combos,
        switches: FxHashMap::default(),
        recent: Default::default(),
        clock: Clock {
            ns_per_tick,
            base_ns: start_ns,
            shift,
        },
        lost: 0,
        unresolved: 0,
    };
    let pass = Pass { minor, init_end };
    let (span_starts, lost, unresolved) = second_pass(ps, pass, w, progress)?;
    drop(index);

    let names: Vec<(&'static str, u64)> = type_counts
        .iter()
        .enumerate()
        .map(|(t, &c)| (event_name(t as u8), c))
        .collect();
    let loaded = assemble::Decoded {
        source,
        warnings,
        minor,
        legacy: true,
        window: TimeSpan { start_ns, end_ns },
        events,
        names,
        ids,
        built: resolved.built,
        words,
        span_starts,
        order: assemble::SlotOrder::ByTime,
        time_shift: shift,
        details: resolved.details,
        switches: assemble::Switches::default(),
        lost,
        unresolved,
        table: resolved.table,
    }
    .into_loaded();
    progress.set(1.0);
    Ok(loaded)
}

/// One P's batches for the second pass, and the bytes they are in.
struct PBatches<'a> {
    p: u64,
    bytes: Cow<'a, [u8]>,
    batches: Vec<BatchRange>,
}

/// The second pass's bytes, P by P. Owned bytes are copied into each P's
/// own (its batches' events only) and the file is freed: the second pass
/// then frees each P's bytes once replayed, while the slots' fresh pages
/// fill (`slots::new_slots`), so the file and the spans are not resident
/// in full at once. Lent bytes are shared as they are.
fn per_p_bytes<'a>(bytes: Cow<'a, [u8]>, ps: Vec<(u64, Vec<BatchRange>)>) -> Vec<PBatches<'a>> {
    let data = match bytes {
        Cow::Borrowed(data) => {
            return ps
                .into_iter()
                .map(|(p, batches)| PBatches {
                    p,
                    bytes: Cow::Borrowed(data),
                    batches,
                })
                .collect();
        }
        Cow::Owned(data) => data,
    };
    ps.into_iter()
        .map(|(p, batches)| {
            let events = |b: &BatchRange| data.get(b.events.clone()).unwrap_or(&[]);
            let mut own = Vec::with_capacity(batches.iter().map(|b| events(b).len()).sum());
            let batches = batches
                .iter()
                .map(|b| {
                    let start = own.len();
                    own.extend_from_slice(events(b));
                    BatchRange {
                        ticks: b.ticks,
                        events: start..own.len(),
                    }
                })
                .collect();
            PBatches {
                p,
                bytes: Cow::Owned(own),
                batches,
            }
        })
        .collect()
}

/// Everything of the trace but its spans, in model ids.
struct Resolved {
    table: StackTable,
    details: Details,
    built: Built,
    /// The (reason, stack) pairs of the transitions as detail ids.
    combos: FxHashMap<(u64, u64), u32>,
    /// References to strings and stacks the trace does not define.
    missing: u64,
}

/// Interns the strings and stacks the trace uses into a fresh table and
/// resolves what is not a span. Goroutines created in the burst existed
/// before the window: they get no creation.
fn resolve(
    data: &[u8],
    s: &mut Scan,
    ids: &[u64],
    index: &IdIndex,
    ns_per_tick: f64,
    limits: &Limits,
    end_ns: i64,
) -> Resolved {
    let mut table = StackTable::default();
    let mut details = Details::default();
    let mut parts = Parts::new(ids);
    let extras = std::mem::take(&mut s.extras);
    let end_tick = extras.max_tick.unwrap_or(0);
    let init_end = s.init_end;
    let mut r = LegacyResolver {
        data,
        scan: s,
        table: &mut table,
        strings: FxHashMap::default(),
        stacks: FxHashMap::default(),
        ns_per_tick,
        max_depth: limits.max_stack_depth,
        missing: 0,
    };
    parts.add(extras, index, &mut r, end_tick, |c| {
        init_end.is_none_or(|e| c.tick >= e)
    });
    let combos = details.intern_combos(&s.counter.combos, &mut r);
    let missing = r.missing;
    Resolved {
        table,
        details,
        built: parts.build(end_ns),
        combos,
        missing,
    }
}

/// Second pass: every P's batches write their spans into the slots.
/// Returns where each goroutine's slots begin and the writer's counts of
/// transitions that found no slot and of unblockers that name nothing.
fn second_pass(
    ps: Vec<PBatches<'_>>,
    pass: Pass,
    mut w: Writer<'_>,
    progress: &Progress,
) -> Result<(Vec<u32>, u64, u64), FormatError> {
    let n = ps.len();
    // Each P's own bytes are freed as soon as it is replayed.
    for (i, p) in ps.into_iter().enumerate() {
        if progress.is_cancelled() {
            return Err(FormatError::Cancelled);
        }
        progress.set(0.5 + 0.3 * i as f32 / n.max(1) as f32);
        replay(&p.bytes, p.p, &p.batches, pass, &mut w);
    }
    let mut span_starts = match w.cursor {
        Cursor::Dense(v) => v,
        // Never: built dense above. Were it, the trace would load without
        // spans instead of panicking.
        Cursor::Sparse(_) => Vec::new(),
    };
    // Each cursor ends where the next goroutine's slots begin.
    span_starts.rotate_right(1);
    if let Some(first) = span_starts.first_mut() {
        *first = 0;
    }
    Ok((span_starts, w.lost, w.unresolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::formats::trace::assemble::BURST;

    #[test]
    fn synthetic_reasons_are_known() {
        for r in REASONS.iter().skip(1) {
            assert_ne!(synth_reason(r), SYNTH, "{r}");
        }
        assert_eq!(BURST + 3, burst_kind(GoState::Waiting));
    }
}
