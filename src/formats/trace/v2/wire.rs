//! The Go 1.22+ framing and event table: generations of batches found by
//! one walk over the batch headers, and what each event type carries.

use super::*;

const MAX_BATCH: u64 = 64 << 10;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum BatchKind {
    Events,
    Strings,
    Stacks,
    Cpu,
    Frequency,
    Sync,
    Experimental,
}

#[derive(Clone, Debug)]
pub(super) struct Batch {
    pub(super) m: u64,
    pub(super) time: u64,
    pub(super) offset: usize,
    pub(super) payload: Range<usize>,
    pub(super) kind: BatchKind,
}

#[derive(Debug)]
pub(super) struct Generation {
    pub(super) number: u64,
    pub(super) batches: Vec<Batch>,
    /// Go 1.26+: the in-band end-of-generation marker closed it.
    pub(super) ended: bool,
}

/// Go 1.26+: a lone byte where a batch header would start; it closes the
/// generation before it (earlier versions end one where the next begins).
pub(super) const END_OF_GENERATION: u8 = 52;
/// The first version that writes [`END_OF_GENERATION`].
const MINOR_WITH_END_MARKER: u32 = 26;

/// Splits the file into generations of complete batches; stops at the first
/// damaged batch, or at the batch or generation limit, and says so.
///
/// Before Go 1.26 a generation ends where a batch of the next one begins,
/// so numbers must follow each other. From Go 1.26 an end marker closes each
/// generation and the next may carry any number (Go's reader checks no
/// more); a generation that changes number without its marker is kept with
/// a warning, and a last generation without one was cut off.
pub(super) fn frame(
    data: &[u8],
    minor: u32,
    limits: &Limits,
    warnings: &mut Warnings,
) -> Vec<Generation> {
    let marked = minor >= MINOR_WITH_END_MARKER;
    let mut gens: Vec<Generation> = Vec::new();
    let mut batches = 0u64;
    let mut r = Reader::at(data, 16);
    let mut clean_end = true;
    while !r.is_empty() {
        let offset = r.pos();
        let left = data.len() - offset;
        if batches >= limits.max_trace_batches {
            stopped(warnings, "batches", limits.max_trace_batches, left);
            clean_end = false;
            break;
        }
        let corrupt = |warnings: &mut Warnings, what: String| {
            warnings.add("trace-corrupt", || {
                format!("{what} at byte {offset}; ignored the last {left} bytes")
            });
        };
        let Some(kind) = r.byte() else { break };
        if marked && kind == END_OF_GENERATION {
            // A marker with no open generation closes nothing and drops nothing.
            if let Some(g) = gens.last_mut() {
                g.ended = true;
            }
            continue;
        }
        if kind != 1 && kind != 49 {
            corrupt(
                warnings,
                format!("expected a batch header, found byte {kind}"),
            );
            clean_end = false;
            break;
        }
        if kind == 49 && r.byte().is_none() {
            truncated(warnings, offset, left);
            clean_end = false;
            break;
        }
        let header = (|| Some((r.uvarint()?, r.uvarint()?, r.uvarint()?, r.uvarint()?)))();
        let Some((gen_no, m, time, size)) = header else {
            if r.remaining() < 40 {
                truncated(warnings, offset, left);
            } else {
                corrupt(warnings, "unreadable batch header".into());
            }
            clean_end = false;
            break;
        };
        if size > MAX_BATCH {
            corrupt(
                warnings,
                format!("a batch of {size} bytes (at most {MAX_BATCH})"),
            );
            clean_end = false;
            break;
        }
        let start = r.pos();
        if r.bytes(size as usize).is_none() {
            truncated(warnings, offset, left);
            clean_end = false;
            break;
        }
        let payload = start..r.pos();
        if gen_no == 0 {
            corrupt(warnings, "a batch of generation 0".into());
            clean_end = false;
            break;
        }
        let open = gens.last().filter(|g| !g.ended).map(|g| g.number);
        let starts_new = match open {
            Some(n) if n == gen_no => false,
            // After an end marker (Go 1.26+) any number may follow.
            None if gens.last().is_some_and(|g| g.ended) => true,
            None => true,
            Some(n) if n.checked_add(1) == Some(gen_no) => {
                if marked {
                    warnings.add("trace-missing-end-of-generation", || {
                        format!("generation {n} has no end-of-generation marker before the batch of generation {gen_no} at byte {offset}; kept both")
                    });
                }
                true
            }
            Some(n) => {
                corrupt(
                    warnings,
                    format!("a batch of generation {gen_no} after generation {n}"),
                );
                clean_end = false;
                break;
            }
        };
        if starts_new {
            if gens.len() as u64 >= limits.max_trace_generations {
                stopped(warnings, "generations", limits.max_trace_generations, left);
                clean_end = false;
                break;
            }
            gens.push(Generation {
                number: gen_no,
                batches: Vec::new(),
                ended: false,
            });
        }
        let kind = if kind == 49 {
            BatchKind::Experimental
        } else {
            match data.get(payload.start) {
                Some(4) => BatchKind::Strings,
                Some(2) => BatchKind::Stacks,
                Some(6) => BatchKind::Cpu,
                Some(8) => BatchKind::Frequency,
                Some(50) => BatchKind::Sync,
                _ => BatchKind::Events,
            }
        };
        batches += 1;
        if let Some(g) = gens.last_mut() {
            g.batches.push(Batch {
                m,
                time,
                offset,
                payload,
                kind,
            });
        }
    }
    if let Some(g) = gens.last().filter(|g| marked && clean_end && !g.ended) {
        let (n, end) = (g.number, data.len());
        warnings.add("trace-truncated", || {
            format!("the trace ends at byte {end} inside generation {n}, before its end-of-generation marker: it was cut off; kept what that generation holds")
        });
    }
    gens
}

pub(in crate::formats::trace) fn batch_offsets(data: &[u8], minor: u32) -> Vec<usize> {
    frame(data, minor, &Limits::default(), &mut Warnings::default())
        .iter()
        .flat_map(|g| g.batches.iter().map(|b| b.offset))
        .collect()
}

pub(super) fn stopped(warnings: &mut Warnings, what: &str, limit: u64, left: usize) {
    warnings.add("trace-limit", || {
        format!("stopped after {limit} {what}, the limit; ignored the last {left} bytes")
    });
}

pub(super) fn truncated(warnings: &mut Warnings, offset: usize, left: usize) {
    warnings.add("trace-truncated", || {
        format!("the trace is cut off inside the batch at byte {offset}; ignored its {left} bytes")
    });
}

/// Argument count (dt included) of a timed event type, if the version has it.
pub(super) fn args_len(typ: u8, minor: u32) -> Option<usize> {
    let n = match typ {
        9 | 10 | 13 | 16 | 19 | 20 | 22 | 26 | 29 | 33 => 3,
        11 | 17 | 18 | 23 | 24 | 27 | 36 => 1,
        12 | 14 | 21 | 25 => 4,
        15 | 28 | 30 | 31 | 32 | 34 | 35 | 37 | 38 | 39 => 2,
        40 | 44 => 5,
        41 => 3,
        42 | 43 => 4,
        45 | 46 if minor >= 23 => 3,
        47 if minor >= 23 => 4,
        48 if minor >= 23 => 5,
        128 | 129 if minor >= 23 => 4,
        130 | 133 | 136 if minor >= 23 => 2,
        131 | 132 | 134 | 135 if minor >= 23 => 3,
        _ => return None,
    };
    Some(n)
}

pub(super) fn event_name(typ: u8) -> &'static str {
    const NAMES: [&str; 53] = [
        "None",
        "EventBatch",
        "Stacks",
        "Stack",
        "Strings",
        "String",
        "CPUSamples",
        "CPUSample",
        "Frequency",
        "ProcsChange",
        "ProcStart",
        "ProcStop",
        "ProcSteal",
        "ProcStatus",
        "GoCreate",
        "GoCreateSyscall",
        "GoStart",
        "GoDestroy",
        "GoDestroySyscall",
        "GoStop",
        "GoBlock",
        "GoUnblock",
        "GoSyscallBegin",
        "GoSyscallEnd",
        "GoSyscallEndBlocked",
        "GoStatus",
        "STWBegin",
        "STWEnd",
        "GCActive",
        "GCBegin",
        "GCEnd",
        "GCSweepActive",
        "GCSweepBegin",
        "GCSweepEnd",
        "GCMarkAssistActive",
        "GCMarkAssistBegin",
        "GCMarkAssistEnd",
        "HeapAlloc",
        "HeapGoal",
        "GoLabel",
        "UserTaskBegin",
        "UserTaskEnd",
        "UserRegionBegin",
        "UserRegionEnd",
        "UserLog",
        "GoSwitch",
        "GoSwitchDestroy",
        "GoCreateBlocked",
        "GoStatusStack",
        "ExperimentalBatch",
        "Sync",
        "ClockSnapshot",
        "EndOfGeneration",
    ];
    const EXPERIMENTAL: [&str; 9] = [
        "Span",
        "SpanAlloc",
        "SpanFree",
        "HeapObject",
        "HeapObjectAlloc",
        "HeapObjectFree",
        "GoroutineStack",
        "GoroutineStackAlloc",
        "GoroutineStackFree",
    ];
    if typ >= 128 {
        return EXPERIMENTAL
            .get(usize::from(typ - 128))
            .copied()
            .unwrap_or("Unknown");
    }
    NAMES.get(usize::from(typ)).copied().unwrap_or("Unknown")
}
