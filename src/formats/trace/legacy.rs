//! The legacy wire format (Go 1.11 to 1.21): per-P batches in one stream.
//!
//! Events carry no batch sizes, so the first pass must walk every event in
//! file order; it collects the strings, the stack table and the frequency
//! (written last), counts slots and records where each P's batches are.
//! The second pass replays P by P (in the order Ps first appear) so that
//! ties in time keep the reference decoder's order.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::assemble::{
    self, Clock, Details, FORMAT, HOLE, LEGACY_SYSCALL, RawDetail, SYSBLOCK_MARKER,
    SYSCALL_PLACEHOLDER, Sink, Writer, burst_kind,
};
use super::extras::{Extras, GcOp, Parts, RawAnnot, RawCpu, RawCreation, RawProc, Resolve};
use super::slots::{self, Counter, Cursor};
use super::{Reader, text};
use crate::formats::{FormatError, Limits, Loaded};
use crate::model::timeline::{GoState, SpanDetail, TimeSpan, Trace, packed, status_kind};
use crate::model::{Frame, FrameId, Input, Source, StackId, StackTable, StrId, Warnings};
use crate::progress::Progress;

const NONE: u64 = u64::MAX;
/// Strings that legacy traces encode as event types or enums get ids from
/// here up, so they flow through the same (reason, stack) pairs as v2 ones.
const SYNTH: u64 = 1 << 62;
/// Inline `UserLog` values: `INLINE + index` into the scan's value list.
const INLINE: u64 = 1 << 61;

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

fn event_name(typ: u8) -> &'static str {
    const NAMES: [&str; 50] = [
        "None",
        "Batch",
        "Frequency",
        "Stack",
        "Gomaxprocs",
        "ProcStart",
        "ProcStop",
        "GCStart",
        "GCDone",
        "STWStart",
        "STWDone",
        "GCSweepStart",
        "GCSweepDone",
        "GoCreate",
        "GoStart",
        "GoEnd",
        "GoStop",
        "GoSched",
        "GoPreempt",
        "GoSleep",
        "GoBlock",
        "GoUnblock",
        "GoBlockSend",
        "GoBlockRecv",
        "GoBlockSelect",
        "GoBlockSync",
        "GoBlockCond",
        "GoBlockNet",
        "GoSysCall",
        "GoSysExit",
        "GoSysBlock",
        "GoWaiting",
        "GoInSyscall",
        "HeapAlloc",
        "HeapGoal",
        "TimerGoroutine",
        "FutileWakeup",
        "String",
        "GoStartLocal",
        "GoUnblockLocal",
        "GoSysExitLocal",
        "GoStartLabel",
        "GoBlockGC",
        "GCMarkAssistStart",
        "GCMarkAssistDone",
        "UserTaskCreate",
        "UserTaskEnd",
        "UserRegion",
        "UserLog",
        "CPUSample",
    ];
    NAMES.get(usize::from(typ)).copied().unwrap_or("Unknown")
}

/// One framed record.
enum Rec {
    String {
        id: u64,
        bytes: Range<usize>,
    },
    Batch {
        p: u64,
        ticks: u64,
    },
    Frequency(u64),
    Stack {
        body: Range<usize>,
    },
    /// Timed and untimed events with their values; `a[0]` is the time delta
    /// for timed ones.
    Event {
        typ: u8,
        a: [u64; 8],
        extra: Option<Range<usize>>,
    },
}

enum RecError {
    Truncated,
    Corrupt(String),
}

fn next_record(r: &mut Reader<'_>, max_type: u8) -> Result<Rec, RecError> {
    let need = |v: Option<u64>| v.ok_or(RecError::Truncated);
    let b = r.byte().ok_or(RecError::Truncated)?;
    let typ = b & 0x3f;
    let count = b >> 6;
    match typ {
        37 => {
            let id = need(r.uvarint())?;
            let len = need(r.uvarint())?;
            if len > 1 << 20 {
                return Err(RecError::Corrupt(format!("a string of {len} bytes")));
            }
            let start = r.pos();
            r.bytes(len as usize).ok_or(RecError::Truncated)?;
            Ok(Rec::String {
                id,
                bytes: start..r.pos(),
            })
        }
        1 => Ok(Rec::Batch {
            p: need(r.uvarint())?,
            ticks: need(r.uvarint())?,
        }),
        0 => Err(RecError::Corrupt("event type 0".into())),
        t if t > max_type => Err(RecError::Corrupt(format!("unknown event type {t}"))),
        _ => {
            let mut a = [0u64; 8];
            if count < 3 {
                for slot in a.iter_mut().take(usize::from(count) + 1) {
                    *slot = need(r.uvarint())?;
                }
            } else {
                let len = need(r.uvarint())?;
                let start = r.pos();
                let body = r.bytes(usize::try_from(len).unwrap_or(usize::MAX));
                let body = body.ok_or(RecError::Truncated)?;
                if typ == 3 {
                    return Ok(Rec::Stack {
                        body: start..start + body.len(),
                    });
                }
                let mut inner = Reader::new(body);
                let mut i = 0;
                while !inner.is_empty() {
                    let v = inner
                        .uvarint()
                        .ok_or_else(|| RecError::Corrupt("a malformed event".into()))?;
                    if let Some(slot) = a.get_mut(i) {
                        *slot = v;
                    }
                    i += 1;
                }
            }
            if typ == 2 {
                return Ok(Rec::Frequency(a[0]));
            }
            let extra = if typ == 48 {
                let len = need(r.uvarint())?;
                let start = r.pos();
                r.bytes(usize::try_from(len).unwrap_or(usize::MAX))
                    .ok_or(RecError::Truncated)?;
                Some(start..r.pos())
            } else {
                None
            };
            Ok(Rec::Event { typ, a, extra })
        }
    }
}

pub(super) fn batch_offsets(data: &[u8], minor: u32) -> Vec<usize> {
    let max_type = if minor >= 19 { 49 } else { 48 };
    let mut r = Reader::at(data, 16);
    let mut out = Vec::new();
    loop {
        let at = r.pos();
        match next_record(&mut r, max_type) {
            Ok(Rec::Batch { .. }) => out.push(at),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    out
}

/// Where one batch's events are.
#[derive(Clone, Debug)]
struct BatchRange {
    ticks: u64,
    events: Range<usize>,
}

/// Per-P replay state, carried from one of its batches to the next.
#[derive(Copy, Clone, Debug, Default)]
struct PState {
    cur_g: Option<u64>,
    open_proc: Option<(u64, u64)>, // (thread, start tick)
}

/// Applies one timed event of P `p` at tick `t`.
#[allow(clippy::too_many_arguments)]
fn handle<S: Sink>(
    typ: u8,
    a: &[u64; 8],
    log_value: Option<u64>,
    t: u64,
    p: u64,
    st: &mut PState,
    init_end: Option<u64>,
    minor: u32,
    sink: &mut S,
    ex: Option<&mut Extras>,
) {
    let burst = init_end.is_some_and(|e| t < e);
    let proc = RawDetail::Proc((p != NONE).then_some(p));
    let block = |reason: &str| RawDetail::Combo(synth_reason(reason), a[1]);
    match typ {
        4 => {}
        5 => {
            if let Some(ex) = ex {
                close_proc(ex, st, p, t);
                st.open_proc = Some((a[1], t));
            }
        }
        6 => {
            if let Some(ex) = ex {
                close_proc(ex, st, p, t);
            }
        }
        7 => {
            if let Some(ex) = ex {
                ex.gc.push((t, GcOp::Begin));
            }
        }
        8 => {
            if let Some(ex) = ex {
                ex.gc.push((t, GcOp::End));
            }
        }
        9 => {
            if let Some(ex) = ex {
                // Before Go 1.21 the kind was 0 (mark termination) or 1
                // (sweep termination); Go 1.21 writes its STW reason enum.
                let kind = if minor >= 21 {
                    a[1].min(STW_21.len() as u64)
                } else if a[1] < 2 {
                    a[1] + 1
                } else {
                    0
                };
                ex.stw.push((t, Some(SYNTH + 100 + kind)));
            }
        }
        10 => {
            if let Some(ex) = ex {
                ex.stw.push((t, None));
            }
        }
        13 => {
            let kind = if burst {
                burst_kind(GoState::Runnable)
            } else {
                packed::CREATED
            };
            sink.go(a[1], t, kind, RawDetail::None);
            if let Some(ex) = ex {
                ex.creations.push(RawCreation {
                    g: a[1],
                    creator: st.cur_g.unwrap_or(0),
                    creator_stack: a[3],
                    start_stack: a[2],
                    tick: t,
                });
            }
        }
        14 | 38 | 41 => {
            let kind = if burst {
                burst_kind(GoState::Running)
            } else {
                packed::STARTED
            };
            sink.go(a[1], t, kind, proc);
            st.cur_g = Some(a[1]);
            if typ == 41
                && let Some(ex) = ex
            {
                ex.labels.push((a[1], a[3]));
            }
        }
        15 => {
            if let Some(g) = st.cur_g.take() {
                sink.go(
                    g,
                    t,
                    if burst { HOLE } else { packed::ENDED },
                    RawDetail::None,
                );
            }
        }
        16 | 17 | 18 | 19 | 20 | 22..=27 | 42 => {
            if let Some(g) = st.cur_g.take() {
                let (kind, reason) = match typ {
                    16 => (packed::BLOCKED, "forever"),
                    17 => (packed::STOPPED, "runtime.Gosched"),
                    18 => (packed::STOPPED, "preempted"),
                    19 => (packed::BLOCKED, "sleep"),
                    20 => (packed::BLOCKED, ""),
                    22 => (packed::BLOCKED, "chan send"),
                    23 => (packed::BLOCKED, "chan receive"),
                    24 => (packed::BLOCKED, "select"),
                    25 => (packed::BLOCKED, "sync"),
                    26 => (packed::BLOCKED, "sync.(*Cond).Wait"),
                    27 => (packed::BLOCKED, "network"),
                    _ => (packed::BLOCKED, "GC mark assist wait for work"),
                };
                if burst {
                    sink.go(g, t, HOLE, RawDetail::None);
                } else {
                    sink.go(g, t, kind, block(reason));
                }
            }
        }
        21 | 39 => {
            let kind = if burst { HOLE } else { packed::UNBLOCKED };
            sink.go(a[1], t, kind, RawDetail::Goroutine(st.cur_g.unwrap_or(0)));
        }
        28 => {
            if let Some(g) = st.cur_g {
                if burst {
                    sink.go(g, t, HOLE, RawDetail::None);
                    sink.go(g, t, HOLE, RawDetail::None);
                } else {
                    sink.go(g, t, LEGACY_SYSCALL, RawDetail::Combo(0, a[1]));
                    sink.go(g, t, SYSCALL_PLACEHOLDER, proc);
                }
            }
        }
        29 | 40 => {
            let kind = if burst {
                HOLE
            } else {
                packed::SYSCALL_ENDED_BLOCKED
            };
            sink.go(a[1], t, kind, RawDetail::None);
        }
        30 => {
            if let Some(g) = st.cur_g.take() {
                let kind = if burst { HOLE } else { SYSBLOCK_MARKER };
                sink.go(g, t, kind, RawDetail::None);
            }
        }
        31 | 32 => {
            let state = if typ == 31 {
                GoState::Waiting
            } else {
                GoState::Syscall
            };
            let kind = if burst {
                burst_kind(state)
            } else {
                status_kind(state)
            };
            sink.go(a[1], t, kind, RawDetail::None);
        }
        45 => {
            if let Some(ex) = ex {
                ex.annots.push((
                    t,
                    RawAnnot::TaskBegin {
                        task: a[1],
                        parent: a[2],
                        name: a[3],
                        stack: a[4],
                        g: st.cur_g.unwrap_or(0),
                    },
                ));
            }
        }
        46 => {
            if let Some(ex) = ex {
                ex.annots.push((t, RawAnnot::TaskEnd { task: a[1] }));
            }
        }
        47 => {
            if let Some(ex) = ex {
                let g = st.cur_g.unwrap_or(0);
                let annot = if a[2] == 0 {
                    RawAnnot::RegionBegin {
                        task: a[1],
                        name: a[3],
                        stack: a[4],
                        g,
                    }
                } else {
                    RawAnnot::RegionEnd {
                        task: a[1],
                        name: a[3],
                        g,
                    }
                };
                ex.annots.push((t, annot));
            }
        }
        48 => {
            if let Some(ex) = ex {
                ex.annots.push((
                    t,
                    RawAnnot::Log {
                        task: a[1],
                        key: a[2],
                        value: log_value.unwrap_or(0),
                        stack: a[3],
                        g: st.cur_g.unwrap_or(0),
                    },
                ));
            }
        }
        49 => {
            if let Some(ex) = ex {
                ex.cpu.push(RawCpu {
                    tick: if a[1] != 0 { a[1] } else { t },
                    m: NONE,
                    p: a[2],
                    g: a[3],
                    stack: a[4],
                });
            }
        }
        _ => {}
    }
}

fn close_proc(ex: &mut Extras, st: &mut PState, p: u64, t: u64) {
    if let Some((m, start)) = st.open_proc.take()
        && p != NONE
    {
        ex.procs.push(RawProc {
            p,
            m,
            start,
            end: Some(t),
            from_status: false,
        });
    }
}

/// Everything the first pass learns.
struct Scan {
    strings: FxHashMap<u64, Range<usize>>,
    stacks: FxHashMap<u64, Range<usize>>,
    frames: Vec<(u64, u64, u64)>,
    freq: Option<u64>,
    /// Batches per P, Ps in order of first appearance.
    ps: Vec<(u64, Vec<BatchRange>)>,
    counter: Counter,
    extras: Extras,
    init_end: Option<u64>,
    log_values: Vec<Range<usize>>,
    type_counts: [u64; 64],
    events: u64,
    warnings: Warnings,
}

fn scan(data: &[u8], minor: u32, limits: &Limits, progress: &Progress) -> Scan {
    let max_type = if minor >= 19 { 49 } else { 48 };
    let mut s = Scan {
        strings: FxHashMap::default(),
        stacks: FxHashMap::default(),
        frames: Vec::new(),
        freq: None,
        ps: Vec::new(),
        counter: Counter::default(),
        extras: Extras::default(),
        init_end: None,
        log_values: Vec::new(),
        type_counts: [0; 64],
        events: 0,
        warnings: Warnings::default(),
    };
    let mut p_index: FxHashMap<u64, usize> = FxHashMap::default();
    let mut states: FxHashMap<u64, PState> = FxHashMap::default();
    // Current batch: (P slot in `ps`, P id, state, tick).
    let mut cur: Option<(usize, u64, PState, u64)> = None;
    let mut r = Reader::at(data, 16);
    let mut n = 0u32;
    // End of the last record read whole; the second pass stops there too.
    let mut valid_end = r.pos();
    let mut batches = 0u64;
    while !r.is_empty() {
        let at = r.pos();
        valid_end = at;
        n = n.wrapping_add(1);
        if n.is_multiple_of(65_536) {
            progress.set_pos(at, data.len());
            if progress.is_cancelled() {
                break;
            }
        }
        let rec = match next_record(&mut r, max_type) {
            Ok(rec) => rec,
            Err(e) => {
                let left = data.len() - at;
                match e {
                    RecError::Truncated => s.warnings.add("trace-truncated", || {
                        format!("the trace is cut off inside the event at byte {at}; ignored its last {left} bytes")
                    }),
                    RecError::Corrupt(what) => s.warnings.add("trace-corrupt", || {
                        format!("{what} at byte {at}; ignored the last {left} bytes")
                    }),
                }
                break;
            }
        };
        let typ = match &rec {
            Rec::String { .. } => 37,
            Rec::Batch { .. } => 1,
            Rec::Frequency(_) => 2,
            Rec::Stack { .. } => 3,
            Rec::Event { typ, .. } => *typ,
        };
        if let Some(c) = s.type_counts.get_mut(usize::from(typ)) {
            *c += 1;
        }
        match rec {
            Rec::String { id, bytes } => {
                s.strings.entry(id).or_insert(bytes);
            }
            Rec::Batch { p, ticks } => {
                batches += 1;
                if batches > limits.max_trace_batches {
                    let (limit, left) = (limits.max_trace_batches, data.len() - at);
                    s.warnings.add("trace-limit", || {
                        format!(
                            "stopped after {limit} batches, the limit; ignored the last {left} bytes"
                        )
                    });
                    break;
                }
                if let Some((slot, old_p, st, _)) = cur.take() {
                    end_batch(&mut s.ps, slot, at);
                    states.insert(old_p, st);
                }
                let slot = *p_index.entry(p).or_insert_with(|| {
                    s.ps.push((p, Vec::new()));
                    s.ps.len() - 1
                });
                if let Some((_, list)) = s.ps.get_mut(slot) {
                    list.push(BatchRange {
                        ticks,
                        events: r.pos()..r.pos(),
                    });
                }
                let st = states.remove(&p).unwrap_or_default();
                cur = Some((slot, p, st, ticks));
            }
            Rec::Frequency(f) => {
                if f > 0 {
                    s.freq = Some(f);
                }
            }
            Rec::Stack { body } => {
                let mut br = Reader::new(data.get(body).unwrap_or(&[]));
                let parsed = (|| {
                    let id = br.uvarint()?;
                    let n = br.uvarint()?;
                    if n > 1000 || n > (br.remaining() / 4) as u64 {
                        return None;
                    }
                    let start = s.frames.len();
                    for _ in 0..n {
                        let _pc = br.uvarint()?;
                        s.frames.push((br.uvarint()?, br.uvarint()?, br.uvarint()?));
                    }
                    Some((id, start))
                })();
                match parsed {
                    Some((id, start)) => {
                        let end = s.frames.len().min(start + limits.max_stack_depth);
                        s.frames.truncate(end);
                        s.stacks.entry(id).or_insert(start..end);
                    }
                    None => s.warnings.add("trace-corrupt-stack", || {
                        format!("an unreadable stack record at byte {at}")
                    }),
                }
            }
            Rec::Event { typ, a, extra } => {
                if typ == 35 {
                    continue;
                }
                let Some((_, p, st, tick)) = cur.as_mut() else {
                    s.warnings.add("trace-orphan-event", || {
                        format!("an event before the first batch at byte {at}")
                    });
                    continue;
                };
                *tick = tick.wrapping_add(a[0]);
                let t = *tick;
                s.events += 1;
                s.extras.saw_tick(t);
                if typ == 4 {
                    s.init_end = Some(s.init_end.map_or(t, |e| e.min(t)));
                }
                let log_value = extra.map(|range| {
                    s.log_values.push(range);
                    INLINE + (s.log_values.len() - 1) as u64
                });
                handle(
                    typ,
                    &a,
                    log_value,
                    t,
                    *p,
                    st,
                    None,
                    minor,
                    &mut s.counter,
                    Some(&mut s.extras),
                );
            }
        }
    }
    let end = if r.is_empty() { r.pos() } else { valid_end };
    if let Some((slot, p, st, _)) = cur.take() {
        end_batch(&mut s.ps, slot, end);
        states.insert(p, st);
    }
    for (p, st) in states {
        if let Some((m, start)) = st.open_proc
            && p != NONE
        {
            s.extras.procs.push(RawProc {
                p,
                m,
                start,
                end: None,
                from_status: false,
            });
        }
    }
    s
}

fn end_batch(ps: &mut [(u64, Vec<BatchRange>)], slot: usize, end: usize) {
    if let Some(b) = ps.get_mut(slot).and_then(|(_, l)| l.last_mut()) {
        b.events.end = end.max(b.events.start);
    }
}

/// Second pass over one P's batches.
fn replay<S: Sink>(
    data: &[u8],
    p: u64,
    batches: &[BatchRange],
    init_end: Option<u64>,
    minor: u32,
    sink: &mut S,
) {
    let max_type = if minor >= 19 { 49 } else { 48 };
    let mut st = PState::default();
    for b in batches {
        let mut r = Reader::at(data.get(..b.events.end).unwrap_or(&[]), b.events.start);
        let mut tick = b.ticks;
        while !r.is_empty() {
            let Ok(rec) = next_record(&mut r, max_type) else {
                break;
            };
            if let Rec::Event { typ, a, .. } = rec {
                if typ == 35 {
                    continue;
                }
                tick = tick.wrapping_add(a[0]);
                handle(typ, &a, None, tick, p, &mut st, init_end, minor, sink, None);
            }
        }
    }
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
    data: &[u8],
    minor: u32,
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    progress.set_stage("Reading legacy trace");
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
    let init_end = s.init_end;

    progress.set_stage("Building goroutine timelines");
    // One segment: its goroutines' slot starts serve as its cursor.
    let (ids, index, span_starts) = slots::single(&mut s.counter, limits)?;
    let mut table = StackTable::default();
    let mut details = Details::default();
    let mut parts = Parts::new(&ids);
    let extras = std::mem::take(&mut s.extras);
    let end_tick = extras.max_tick.unwrap_or(0);
    let combo_keys: Vec<(u64, u64)> = s.counter.combos.iter().copied().collect();
    let mut r = LegacyResolver {
        data,
        scan: &s,
        table: &mut table,
        strings: FxHashMap::default(),
        stacks: FxHashMap::default(),
        ns_per_tick,
        max_depth: limits.max_stack_depth,
        missing: 0,
    };
    parts.add(extras, &index, &mut r, end_tick, |c| {
        init_end.is_none_or(|e| c.tick >= e)
    });
    let mut combos: FxHashMap<(u64, u64), u32> =
        FxHashMap::with_capacity_and_hasher(combo_keys.len(), Default::default());
    for key in combo_keys {
        let d = SpanDetail {
            reason: r.string(key.0),
            stack: r.stack(key.1),
        };
        combos.insert(key, details.intern(d));
    }
    let missing = r.missing;
    // Without a stack table every stack is missing; the warning above says so.
    if s.freq.is_some() {
        warnings.add_n("trace-missing-reference", missing, || {
            "events refer to strings or stacks the trace does not define".into()
        });
    }
    let built = parts.build(end_ns);

    let total = span_starts.last().copied().unwrap_or(0) as usize;
    let ps = std::mem::take(&mut s.ps);
    let events = s.events;
    let type_counts = s.type_counts;
    drop(s);
    let words = slots::new_slots(total);
    let mut w = Writer {
        slots: &words,
        index: &index,
        // One segment: each goroutine's slots start where its range does,
        // and once written the cursors are where the next ranges start.
        cursor: Cursor::Dense(span_starts),
        combos,
        clock: Clock {
            ns_per_tick,
            base_ns: start_ns,
            shift,
        },
        lost: 0,
        unresolved: 0,
    };
    for (i, (p, batches)) in ps.iter().enumerate() {
        if progress.is_cancelled() {
            return Err(FormatError::Cancelled);
        }
        progress.set(0.5 + 0.3 * i as f32 / ps.len().max(1) as f32);
        replay(data, *p, batches, init_end, minor, &mut w);
    }
    let (lost, unresolved) = (w.lost, w.unresolved);
    let mut span_starts = match w.cursor {
        Cursor::Dense(v) => v,
        // Never: built dense above. Were it, the trace would load without
        // spans instead of panicking.
        Cursor::Sparse(_) => Vec::new(),
    };
    span_starts.rotate_right(1);
    if let Some(first) = span_starts.first_mut() {
        *first = 0;
    }
    drop(index);
    let (spans, span_starts, inconsistent) =
        assemble::finish(words, span_starts, assemble::SlotOrder::ByTime);
    assemble::assembly_warnings(
        &mut warnings,
        lost,
        inconsistent,
        details.overflow + unresolved,
    );

    let names: Vec<(&'static str, u64)> = type_counts
        .iter()
        .enumerate()
        .map(|(t, &c)| (event_name(t as u8), c))
        .collect();
    let trace = Trace {
        source,
        warnings,
        go_version: format!("go1.{minor}"),
        legacy: true,
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
