//! The legacy framing and event table: one stream of records, each a type
//! byte (with the count of its arguments in the top two bits) and varints,
//! with no sizes to skip by, so every record is read to find the next.

use super::*;

/// Event types of the legacy format, as numbered on the wire.
pub(in crate::formats::trace) mod ev {
    pub const BATCH: u8 = 1;
    pub const FREQUENCY: u8 = 2;
    pub const STACK: u8 = 3;
    /// The first one ends the burst of events that describe goroutines
    /// alive at the trace's start.
    pub const GOMAXPROCS: u8 = 4;
    pub const PROC_START: u8 = 5;
    pub const PROC_STOP: u8 = 6;
    pub const GC_START: u8 = 7;
    pub const GC_DONE: u8 = 8;
    pub const STW_START: u8 = 9;
    pub const STW_DONE: u8 = 10;
    pub const GO_CREATE: u8 = 13;
    pub const GO_START: u8 = 14;
    pub const GO_END: u8 = 15;
    pub const GO_STOP: u8 = 16;
    pub const GO_SCHED: u8 = 17;
    pub const GO_PREEMPT: u8 = 18;
    pub const GO_SLEEP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_BLOCK_SEND: u8 = 22;
    pub const GO_BLOCK_RECV: u8 = 23;
    pub const GO_BLOCK_SELECT: u8 = 24;
    pub const GO_BLOCK_SYNC: u8 = 25;
    pub const GO_BLOCK_COND: u8 = 26;
    pub const GO_BLOCK_NET: u8 = 27;
    pub const GO_SYSCALL: u8 = 28;
    pub const GO_SYSEXIT: u8 = 29;
    pub const GO_SYSBLOCK: u8 = 30;
    pub const GO_WAITING: u8 = 31;
    pub const GO_IN_SYSCALL: u8 = 32;
    /// Names the timer goroutine; carries no transition.
    pub const TIMER_GOROUTINE: u8 = 35;
    pub const STRING: u8 = 37;
    pub const GO_START_LOCAL: u8 = 38;
    pub const GO_UNBLOCK_LOCAL: u8 = 39;
    pub const GO_SYSEXIT_LOCAL: u8 = 40;
    pub const GO_START_LABEL: u8 = 41;
    pub const GO_BLOCK_GC: u8 = 42;
    pub const USER_TASK_CREATE: u8 = 45;
    pub const USER_TASK_END: u8 = 46;
    pub const USER_REGION: u8 = 47;
    /// Followed by its value as a length and bytes, after its arguments.
    pub const USER_LOG: u8 = 48;
    /// Go 1.19+.
    pub const CPU_SAMPLE: u8 = 49;
}

/// The highest event type a version writes.
pub(super) fn max_type(minor: u32) -> u8 {
    if minor >= 19 {
        ev::CPU_SAMPLE
    } else {
        ev::USER_LOG
    }
}

pub(super) fn event_name(typ: u8) -> &'static str {
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
pub(super) enum Rec {
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

impl Rec {
    /// The record's event type.
    pub(super) fn typ(&self) -> u8 {
        match self {
            Rec::String { .. } => ev::STRING,
            Rec::Batch { .. } => ev::BATCH,
            Rec::Frequency(_) => ev::FREQUENCY,
            Rec::Stack { .. } => ev::STACK,
            Rec::Event { typ, .. } => *typ,
        }
    }
}

pub(super) enum RecError {
    Truncated,
    Corrupt(String),
}

#[inline]
pub(super) fn next_record(r: &mut Reader<'_>, max_type: u8) -> Result<Rec, RecError> {
    let need = |v: Option<u64>| v.ok_or(RecError::Truncated);
    let b = r.byte().ok_or(RecError::Truncated)?;
    let typ = b & 0x3f;
    let count = b >> 6;
    match typ {
        ev::STRING => {
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
        ev::BATCH => Ok(Rec::Batch {
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
                // Three or more: a length, then that many bytes of varints.
                let len = need(r.uvarint())?;
                let start = r.pos();
                let body = r.bytes(usize::try_from(len).unwrap_or(usize::MAX));
                let body = body.ok_or(RecError::Truncated)?;
                if typ == ev::STACK {
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
            if typ == ev::FREQUENCY {
                return Ok(Rec::Frequency(a[0]));
            }
            let extra = if typ == ev::USER_LOG {
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

pub(in crate::formats::trace) fn batch_offsets(data: &[u8], minor: u32) -> Vec<usize> {
    let max_type = max_type(minor);
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
