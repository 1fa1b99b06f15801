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

/// The first version that writes [`ev::END_OF_GENERATION`].
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
        if marked && kind == ev::END_OF_GENERATION {
            // A marker with no open generation closes nothing and drops nothing.
            if let Some(g) = gens.last_mut() {
                g.ended = true;
            }
            continue;
        }
        if kind != ev::EVENT_BATCH && kind != ev::EXPERIMENTAL_BATCH {
            corrupt(
                warnings,
                format!("expected a batch header, found byte {kind}"),
            );
            clean_end = false;
            break;
        }
        if kind == ev::EXPERIMENTAL_BATCH && r.byte().is_none() {
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
        let kind = if kind == ev::EXPERIMENTAL_BATCH {
            BatchKind::Experimental
        } else {
            match data.get(payload.start).copied() {
                Some(ev::STRINGS) => BatchKind::Strings,
                Some(ev::STACKS) => BatchKind::Stacks,
                Some(ev::CPU_SAMPLES) => BatchKind::Cpu,
                Some(ev::FREQUENCY) => BatchKind::Frequency,
                Some(ev::SYNC) => BatchKind::Sync,
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

/// Event types of the Go 1.22+ format, named as Go's `tracev2` table names
/// them. Types 1 to 8 and 49 to 52 frame batches and tables; the rest are
/// the timed events of event batches.
pub(in crate::formats::trace) mod ev {
    pub const EVENT_BATCH: u8 = 1;
    pub const STACKS: u8 = 2;
    pub const STACK: u8 = 3;
    pub const STRINGS: u8 = 4;
    pub const STRING: u8 = 5;
    pub const CPU_SAMPLES: u8 = 6;
    pub const CPU_SAMPLE: u8 = 7;
    pub const FREQUENCY: u8 = 8;
    pub const PROC_START: u8 = 10;
    pub const PROC_STOP: u8 = 11;
    pub const PROC_STEAL: u8 = 12;
    pub const PROC_STATUS: u8 = 13;
    pub const GO_CREATE: u8 = 14;
    pub const GO_CREATE_SYSCALL: u8 = 15;
    pub const GO_START: u8 = 16;
    pub const GO_DESTROY: u8 = 17;
    pub const GO_DESTROY_SYSCALL: u8 = 18;
    pub const GO_STOP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_SYSCALL_BEGIN: u8 = 22;
    pub const GO_SYSCALL_END: u8 = 23;
    pub const GO_SYSCALL_END_BLOCKED: u8 = 24;
    pub const GO_STATUS: u8 = 25;
    pub const STW_BEGIN: u8 = 26;
    pub const STW_END: u8 = 27;
    pub const GC_ACTIVE: u8 = 28;
    pub const GC_BEGIN: u8 = 29;
    pub const GC_END: u8 = 30;
    pub const GO_LABEL: u8 = 39;
    pub const USER_TASK_BEGIN: u8 = 40;
    pub const USER_TASK_END: u8 = 41;
    pub const USER_REGION_BEGIN: u8 = 42;
    pub const USER_REGION_END: u8 = 43;
    pub const USER_LOG: u8 = 44;
    /// Go 1.23+: coroutine switches (`iter.Pull`).
    pub const GO_SWITCH: u8 = 45;
    pub const GO_SWITCH_DESTROY: u8 = 46;
    pub const GO_CREATE_BLOCKED: u8 = 47;
    pub const GO_STATUS_STACK: u8 = 48;
    /// Go 1.23+: the header byte of a batch of an experiment's own data.
    pub const EXPERIMENTAL_BATCH: u8 = 49;
    /// Go 1.25+: the frequency and a clock snapshot, at a generation's start.
    pub const SYNC: u8 = 50;
    pub const CLOCK_SNAPSHOT: u8 = 51;
    /// Go 1.26+: a lone byte between batches that closes a generation.
    pub const END_OF_GENERATION: u8 = 52;
    /// The first of the experimental events (`GODEBUG=traceallocfree=1`).
    pub const FIRST_EXPERIMENTAL: u8 = 128;
}

/// What the format says of an event type: its name, how many arguments it
/// carries in an event batch (the time delta included; 0 for types that
/// never appear there) and the first format version with it.
struct Spec {
    name: &'static str,
    args: u8,
    since: u32,
}

const fn spec(name: &'static str, args: u8, since: u32) -> Spec {
    Spec { name, args, since }
}

/// Go's `tracev2` table, in type order from 0.
const SPECS: [Spec; 53] = [
    spec("None", 0, 22),
    spec("EventBatch", 0, 22),
    spec("Stacks", 0, 22),
    spec("Stack", 0, 22),
    spec("Strings", 0, 22),
    spec("String", 0, 22),
    spec("CPUSamples", 0, 22),
    spec("CPUSample", 0, 22),
    spec("Frequency", 0, 22),
    spec("ProcsChange", 3, 22),
    spec("ProcStart", 3, 22),
    spec("ProcStop", 1, 22),
    spec("ProcSteal", 4, 22),
    spec("ProcStatus", 3, 22),
    spec("GoCreate", 4, 22),
    spec("GoCreateSyscall", 2, 22),
    spec("GoStart", 3, 22),
    spec("GoDestroy", 1, 22),
    spec("GoDestroySyscall", 1, 22),
    spec("GoStop", 3, 22),
    spec("GoBlock", 3, 22),
    spec("GoUnblock", 4, 22),
    spec("GoSyscallBegin", 3, 22),
    spec("GoSyscallEnd", 1, 22),
    spec("GoSyscallEndBlocked", 1, 22),
    spec("GoStatus", 4, 22),
    spec("STWBegin", 3, 22),
    spec("STWEnd", 1, 22),
    spec("GCActive", 2, 22),
    spec("GCBegin", 3, 22),
    spec("GCEnd", 2, 22),
    spec("GCSweepActive", 2, 22),
    spec("GCSweepBegin", 2, 22),
    spec("GCSweepEnd", 3, 22),
    spec("GCMarkAssistActive", 2, 22),
    spec("GCMarkAssistBegin", 2, 22),
    spec("GCMarkAssistEnd", 1, 22),
    spec("HeapAlloc", 2, 22),
    spec("HeapGoal", 2, 22),
    spec("GoLabel", 2, 22),
    spec("UserTaskBegin", 5, 22),
    spec("UserTaskEnd", 3, 22),
    spec("UserRegionBegin", 4, 22),
    spec("UserRegionEnd", 4, 22),
    spec("UserLog", 5, 22),
    spec("GoSwitch", 3, 23),
    spec("GoSwitchDestroy", 3, 23),
    spec("GoCreateBlocked", 4, 23),
    spec("GoStatusStack", 5, 23),
    spec("ExperimentalBatch", 0, 23),
    spec("Sync", 0, 25),
    spec("ClockSnapshot", 0, 25),
    spec("EndOfGeneration", 0, 26),
];

/// The experimental events of `GODEBUG=traceallocfree=1` (Go 1.23+), from
/// [`ev::FIRST_EXPERIMENTAL`] on; ordinary batches carry them.
const EXPERIMENTAL: [Spec; 9] = [
    spec("Span", 4, 23),
    spec("SpanAlloc", 4, 23),
    spec("SpanFree", 2, 23),
    spec("HeapObject", 3, 23),
    spec("HeapObjectAlloc", 3, 23),
    spec("HeapObjectFree", 2, 23),
    spec("GoroutineStack", 3, 23),
    spec("GoroutineStackAlloc", 3, 23),
    spec("GoroutineStackFree", 2, 23),
];

fn spec_of(typ: u8) -> Option<&'static Spec> {
    match typ.checked_sub(ev::FIRST_EXPERIMENTAL) {
        Some(i) => EXPERIMENTAL.get(usize::from(i)),
        None => SPECS.get(usize::from(typ)),
    }
}

/// Argument count (dt included) of a timed event type, if the version has it.
pub(super) fn args_len(typ: u8, minor: u32) -> Option<usize> {
    spec_of(typ)
        .filter(|s| s.args > 0 && minor >= s.since)
        .map(|s| usize::from(s.args))
}

/// [`args_len`] of every type for one version, 0 for none: a lookup per
/// event instead of a search.
#[derive(Clone, Debug)]
pub(super) struct ArgTable([u8; 256]);

impl ArgTable {
    pub(super) fn new(minor: u32) -> ArgTable {
        let mut table = [0u8; 256];
        for (typ, n) in (0..=u8::MAX).zip(table.iter_mut()) {
            *n = args_len(typ, minor).map_or(0, |n| n as u8);
        }
        ArgTable(table)
    }

    #[inline]
    pub(super) fn get(&self, typ: u8) -> Option<usize> {
        let n = self.0[usize::from(typ)];
        (n > 0).then_some(usize::from(n))
    }
}

pub(super) fn event_name(typ: u8) -> &'static str {
    spec_of(typ).map_or("Unknown", |s| s.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table agrees with the names the constants give the types.
    #[test]
    fn constants_name_their_table_rows() {
        let named = [
            (ev::PROC_START, "ProcStart"),
            (ev::GO_CREATE, "GoCreate"),
            (ev::GO_UNBLOCK, "GoUnblock"),
            (ev::GO_STATUS, "GoStatus"),
            (ev::GC_END, "GCEnd"),
            (ev::USER_LOG, "UserLog"),
            (ev::GO_STATUS_STACK, "GoStatusStack"),
            (ev::SYNC, "Sync"),
            (ev::END_OF_GENERATION, "EndOfGeneration"),
            (ev::FIRST_EXPERIMENTAL, "Span"),
        ];
        for (typ, name) in named {
            assert_eq!(event_name(typ), name);
        }
        assert_eq!(args_len(ev::GO_SWITCH, 22), None);
        assert_eq!(args_len(ev::GO_SWITCH, 23), Some(3));
        assert_eq!(args_len(ev::USER_TASK_BEGIN, 22), Some(5));
        assert_eq!(args_len(ev::END_OF_GENERATION, 26), None);
        assert_eq!(args_len(ev::FIRST_EXPERIMENTAL + 8, 23), Some(2));
        assert_eq!(args_len(ev::FIRST_EXPERIMENTAL + 9, 26), None);
    }
}
