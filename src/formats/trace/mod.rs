//! Go execution traces (`runtime/trace`, `/debug/pprof/trace`), both wire
//! formats, into a [`Trace`] timeline.
//!
//! What this parser relies on from each format version is in
//! `docs/trace-format.md`. Go 1.22+
//! traces are replayed in the order Go's own reader gives their events
//! (`v2/replay.rs`): generation after generation, and within one the
//! threads merged by time except where a goroutine's sequence numbers say
//! otherwise; every goroutine's transitions then come out in that order.
//! Legacy traces replay each P's events in file order to learn which
//! goroutine every event belongs to, then sort each goroutine's
//! transitions by time; ties keep the replay order (Ps in the order they
//! first appear, each in file order). Both equal Go's reader on every
//! committed trace (`tests/fixtures/**/*.goreader`).
//!
//! ## Quirks worth knowing before touching this code
//!
//! * **Generations (Go 1.22+) must be buffered whole.** Nothing orders the
//!   batches of a generation; the string and stack tables and the clock
//!   frequency usually come last. Generations are independent, which is what
//!   makes them decodable in parallel and damage local.
//! * **Go 1.26 closes each generation with a marker** (header `go 1.26`,
//!   written by Go 1.26 and 1.27): a lone byte 52 where the next batch
//!   header would start. Before, a generation ended where a batch of the
//!   next began, so a cut at a generation boundary went unnoticed; now a
//!   last generation without its marker was cut off and is reported so.
//!   The events and tables are those of Go 1.25. Go 1.26 also stopped
//!   writing a P status for threads that re-enter Go from C
//!   (`GoCreateSyscall`); they hold no P until they acquire one, and
//!   `GoDestroySyscall` gives up the P, as Go's reader has it.
//! * **Status events are lazy.** A goroutine gets a `GoStatus` the first
//!   time a generation mentions it, and every goroutine not mentioned gets
//!   one at the generation's end, so a goroutine blocked through the first
//!   generation is reported only at its end. A first-generation status
//!   therefore describes the goroutine since the window start; later ones
//!   restate what is known and are dropped.
//! * **Go 1.22 statuses carry no stack; Go 1.23+ `GoStatusStack` does.**
//!   Neither carries a block reason: goroutines blocked since before the
//!   trace have an empty reason (analysis infers one from the stack).
//! * **Block stacks start at the blocking primitive**, not at
//!   `runtime.gopark`: `runtime.chansend1`, `sync.(*Mutex).Lock`. A dump of
//!   the same goroutine has a few more runtime frames on top.
//! * **Many events name no goroutine**; they apply to the writing thread's
//!   current goroutine, tracked per thread. A `GoStatus` in Syscall can set
//!   another thread's current goroutine.
//! * **Varints may be padded** (batch sizes are always 10 bytes) and
//!   "no thread / no P" is `u64::MAX`.
//! * **Legacy traces (Go 1.11-1.21) start with a burst** of fake `GoCreate`
//!   (+ `GoWaiting`/`GoInSyscall`) events describing goroutines that already
//!   existed; everything before the first `Gomaxprocs` is that burst. A
//!   legacy `GoSysCall` is a real syscall span only if `GoSysBlock` follows
//!   for the same goroutine; otherwise it returned at once. Strings may
//!   appear after their use, and the stack table and frequency come last, so
//!   a cut legacy trace has no stacks and no clock rate: its times are then
//!   raw ticks (a warning says so).
//! * **Timestamps do not order Go 1.22+ events; sequence numbers do.** A
//!   thread that writes events faster than its 64 ns tick stamps them
//!   ahead of the clock and falls back when it starts its next batch, and
//!   the statuses closing a generation are stamped when the tracer wrote
//!   them, after the next generation began. Sorting by time read valid
//!   traces as contradictions; Go's order never does. Spans still never
//!   start before the span they follow (see `assemble::compact`), and the
//!   goroutines whose transitions contradict each other even in that order
//!   (a damaged trace) are counted in a warning.
//!
//! ## Memory
//!
//! The spans are one word each (`model::timeline`; a coroutine switch-in
//! holds two spans in its word) and are written into slots allocated
//! zeroed, whose pages become resident only as they are written. A file's
//! bytes are handed to the parser (`parse_bytes`), which cuts them into
//! each generation's own (legacy: each P's) and frees each once its spans
//! are written, so the file and the spans are never resident in full at
//! once: peak memory is about the spans plus a generation, not the spans
//! plus the file.
//!
//! ## Damaged files
//!
//! Truncation and corruption cost only what they touch: v2 keeps every
//! complete batch up to the first damaged one; a generation cut before its
//! frequency and tables were written keeps its events without stacks and
//! borrows the previous generation's clock. An unknown event type ends its
//! batch (the size still finds the next one). Everything dropped is counted
//! in the input's warnings.

mod assemble;
mod extras;
mod legacy;
mod slots;
mod v2;

use std::borrow::Cow;

use crate::formats::{FormatError, Limits, Loaded};
use crate::model::Source;
use crate::progress::Progress;

pub use assemble::FORMAT;

/// The oldest legacy header we read and the newest version we know.
const OLDEST_MINOR: u32 = 11;
const NEWEST_MINOR: u32 = 26;

/// Parses a trace into a fresh stack table.
pub fn parse(
    data: &[u8],
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    parse_bytes(Cow::Borrowed(data), source, limits, progress)
}

/// [`parse`], from bytes that may be handed over: a Go 1.22+ trace frees
/// the generations it is done with while it writes spans, so the file and
/// the spans are not held in full at once.
pub(crate) fn parse_bytes(
    data: Cow<'_, [u8]>,
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let minor = header_minor(&data)?;
    if minor < OLDEST_MINOR {
        return Err(FormatError::UnsupportedVersion {
            format: FORMAT,
            version: format!("go 1.{minor} (traces of Go 1.5 to 1.10 are not supported)"),
        });
    }
    if minor > NEWEST_MINOR {
        return Err(FormatError::UnsupportedVersion {
            format: FORMAT,
            version: format!(
                "go 1.{minor} (newer than the newest trace format known here, go 1.{NEWEST_MINOR}, which Go 1.26 and 1.27 write)"
            ),
        });
    }
    if minor <= 21 {
        legacy::parse(data, minor, source, limits, progress)
    } else {
        v2::parse(data, minor, source, limits, progress)
    }
}

/// The minor version of a `go 1.NN trace` header.
fn header_minor(data: &[u8]) -> Result<u32, FormatError> {
    let malformed = |message: &str| FormatError::Malformed {
        format: FORMAT,
        offset: 0,
        message: message.to_owned(),
    };
    let head = data
        .get(..16)
        .ok_or_else(|| malformed("shorter than the 16-byte header"))?;
    let rest = head
        .strip_prefix(b"go 1.")
        .ok_or_else(|| malformed("the header does not start with \"go 1.\""))?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let tail = rest.get(digits..).unwrap_or(&[]);
    let ok_tail = tail
        .strip_prefix(b" trace")
        .is_some_and(|pad| pad.iter().all(|&b| b == 0));
    if digits == 0 || digits > 3 || !ok_tail {
        return Err(malformed("the header is not \"go 1.NN trace\""));
    }
    rest.get(..digits)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| malformed("bad version number in the header"))
}

/// A cursor over bytes that never panics: every read can fail.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub fn at(data: &'a [u8], pos: usize) -> Reader<'a> {
        Reader { data, pos }
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    #[inline]
    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// An unsigned LEB128 value of at most 10 bytes; padded encodings are fine.
    #[inline]
    pub fn uvarint(&mut self) -> Option<u64> {
        let rest = self.data.get(self.pos..)?;
        let mut value = 0u64;
        for (i, &b) in rest.iter().take(10).enumerate() {
            value |= u64::from(b & 0x7f) << (7 * i as u32);
            if b < 0x80 {
                self.pos += i + 1;
                return Some(value);
            }
        }
        None
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

/// Byte offsets where batches begin (v2 batch headers, legacy Batch
/// events), for tests that cut traces at batch boundaries.
#[doc(hidden)]
pub fn batch_offsets(data: &[u8]) -> Vec<usize> {
    match header_minor(data) {
        Ok(minor) if (OLDEST_MINOR..=21).contains(&minor) => legacy::batch_offsets(data, minor),
        Ok(minor) if minor <= NEWEST_MINOR => v2::batch_offsets(data, minor),
        _ => Vec::new(),
    }
}

/// A goroutine's spans in the notation of the `.expected` and `.goreader`
/// files beside the test traces: `From->To[reason]`, one per
/// transition, with `Undetermined` for goroutines that existed before the
/// window and `NotExist` before creation and after the end. For checking
/// this parser against the reference, not for display.
#[doc(hidden)]
pub fn reference_transitions(
    trace: &crate::model::Trace,
    table: &crate::model::StackTable,
    g: crate::model::GoIndex,
) -> Vec<String> {
    use crate::model::{GoState, SpanCause};
    let name = |s: GoState| match s {
        GoState::Runnable => "Runnable",
        GoState::Running => "Running",
        GoState::Waiting => "Waiting",
        GoState::Syscall => "Syscall",
        GoState::Ended => "NotExist",
    };
    let mut out = Vec::with_capacity(trace.span_len(g));
    let mut prev: Option<GoState> = None;
    for span in trace.spans(g) {
        let from = match prev {
            Some(p) => name(p),
            None => match span.cause {
                SpanCause::AtTraceStart => "Undetermined",
                SpanCause::Started | SpanCause::Stopped => "Runnable",
                SpanCause::Blocked | SpanCause::SyscallBegan | SpanCause::Ended => "Running",
                SpanCause::Unblocked => "Waiting",
                SpanCause::SyscallEnded
                | SpanCause::SyscallEndedBlocked
                | SpanCause::EndedInSyscall => "Syscall",
                _ => "NotExist",
            },
        };
        out.push(format!(
            "{from}->{}[{}]",
            name(span.state),
            table.str(span.reason)
        ));
        prev = Some(span.state);
    }
    out
}

/// Text of a trace string; traces are UTF-8 in practice, repair if not.
pub(crate) fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(header_minor(b"go 1.23 trace\0\0\0").unwrap(), 23);
        assert_eq!(header_minor(b"go 1.21 trace\0\0\0xx").unwrap(), 21);
        assert!(header_minor(b"go 1.23 trac\0\0\0\0").is_err());
        assert!(header_minor(b"go 1.23").is_err());
        let err = parse(
            b"go 1.99 trace\0\0\0\x01",
            Source {
                path: String::new(),
                format: crate::model::Format::Trace,
                profile_type: None,
                bytes: 17,
            },
            &Limits::default(),
            &Progress::none(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("go 1.99"), "{err}");
    }

    #[test]
    fn varints() {
        let padded = [0xab, 0xff, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(Reader::new(&padded).uvarint(), Some(65451));
        let none = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&none).uvarint(), Some(u64::MAX));
        assert_eq!(Reader::new(&[0x80, 0x80]).uvarint(), None);
        assert_eq!(Reader::new(&[0x80; 11]).uvarint(), None);
    }
}
