//! The full-stack goroutine dump dialect.
//!
//! One block per goroutine, shared by `/debug/pprof/goroutine?debug=2`,
//! `runtime.Stack(buf, true)`, SIGQUIT and panic / `GOTRACEBACK` tracebacks:
//!
//! ```text
//! panic: assignment to entry in nil map          <- optional preamble
//!
//! goroutine 16 gp=0xc000007a40 m=4 [chan send, 15 minutes, locked to thread]:
//! main.querySearchBackend({0x80cc48, 0xc0000972f0}, 0x0)
//!     example.com/leakyd/main.go:215 +0x17c
//! main.(*priceCache).store(...)                  <- inlined: `(...)`, no offset
//!     example.com/leakyd/main.go:634
//! ...13 frames elided...
//! created by main.(*app).handleSearch.func1 in goroutine 7
//!     example.com/leakyd/main.go:201 +0x1a5
//! [originating from goroutine 7]:                <- GODEBUG=tracebackancestors
//! ```
//!
//! What varies between Go versions and settings, and is accepted here:
//! `gp= m= mp=` fields (GOTRACEBACK=system), wait ages, `locked to thread`
//! and `synctest bubble N` inside the brackets, the runtime's `(leaked)`,
//! `(scan)` and `(durable)` flags after the state, label sets inside the
//! brackets (Go 1.26 with `GODEBUG=tracebacklabels=1`) or after them (Go
//! 1.27, on by default for modules that say `go 1.27`), `...additional frames
//! elided...` (old) and `...N frames elided...` (new), the `panic:` /
//! `fatal error:` preamble with re-raised panics, `runtime stack:` sections
//! and register dumps of crashes, log lines before and after, CRLF line
//! endings, and a log prefix on every line (a dump copied out of a log).
//!
//! Big dumps are split at goroutine headers and parsed in parallel, each
//! piece into its own stack table; the pieces are merged afterwards.

mod chunk;
mod header;
mod prefix;

use chunk::{Chunk, ChunkParser};
use prefix::find_log_prefix;

use std::sync::atomic::AtomicUsize;

use rayon::prelude::*;

use super::Loaded;
use super::error::FormatError;
use super::limits::Limits;
use super::text;
use crate::model::{Input, Snapshot, SnapshotData, Source, StackTable, Warnings};
use crate::progress::Progress;

/// Inputs smaller than this are parsed on one thread: splitting costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// The most the runtime writes for `/debug/pprof/goroutine?debug=2`: it
/// takes `runtime.Stack` into a buffer that doubles from 1 MiB and, when
/// even 64 MiB fill up, writes that buffer as it is, cut wherever it ended,
/// mid-goroutine and mostly mid-line, with no marker. A dump of exactly
/// this size is such a cut.
pub const RUNTIME_DUMP_LIMIT: usize = 64 << 20;

/// Parses a full-stack dump; `data` is already inflated.
pub fn parse(
    data: &[u8],
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let (text, lossy) = text::to_text(data);
    let cut = data.len() == RUNTIME_DUMP_LIMIT;
    let text: &str = match text.rfind('\n') {
        // The last line of a cut dump is a piece of a line: left out.
        Some(i) if cut => &text[..=i],
        _ => &text,
    };
    let prefix = find_log_prefix(text);
    let ranges = match &prefix {
        Some(_) => vec![(0, text.len())],
        None => split_at_headers(text),
    };
    let done = AtomicUsize::new(0);
    let chunks: Vec<Result<Chunk, FormatError>> = ranges
        .par_iter()
        .map(|&(start, end)| {
            let mut p = ChunkParser::new(text, limits, prefix.as_ref(), progress, &done);
            p.run(start, end)?;
            Ok(p.finish())
        })
        .collect();

    let mut table = StackTable::default();
    let mut goroutines = Vec::new();
    let mut warnings = Warnings::default();
    if lossy {
        warnings.add("invalid-utf8", || {
            "the dump is not valid UTF-8; invalid bytes were replaced".to_owned()
        });
    }
    let mut panic = None;
    let mut stripped = 0;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut chunk = chunk?;
        if i == 0 {
            table = chunk.table;
            panic = chunk.panic;
        } else {
            let map = table.absorb(&chunk.table);
            for g in &mut chunk.goroutines {
                g.remap(&map);
            }
        }
        goroutines.append(&mut chunk.goroutines);
        warnings.extend(chunk.warnings);
        stripped += chunk.prefixed_lines;
    }
    if let Some(prefix) = &prefix {
        warnings.add_n("log-prefix", 1, || {
            format!(
                "removed a log prefix like {:?} from {stripped} lines",
                prefix.sample
            )
        });
    }
    if cut && let Some(last) = goroutines.last_mut() {
        // Its outer frames are missing; grouping compares it like a stack
        // the runtime elided.
        last.frames_elided = true;
        let id = last.id.unwrap_or(0);
        warnings.add("truncated", || {
            format!(
                "the dump is exactly {} MiB, the most the runtime writes for debug=2: it was \
                 cut in goroutine {id}, whose outer frames are missing, and the goroutines \
                 after it are not in the file",
                RUNTIME_DUMP_LIMIT >> 20
            )
        });
    }
    if goroutines.is_empty() {
        return Err(FormatError::NothingFound {
            format: "goroutine dump",
            what: "goroutine",
            detail: String::new(),
        });
    }
    if let Some(p) = &mut panic
        && p.goroutine_id.is_none()
    {
        p.goroutine_id = goroutines.first().and_then(|g| g.id);
    }
    progress.set(1.0);
    Ok(Loaded {
        table,
        input: Input::Snapshot(Snapshot {
            source,
            captured_at_ns: None,
            duration_ns: None,
            data: SnapshotData::Goroutines(goroutines),
            stated_total: None,
            panic,
            warnings,
        }),
    })
}

/// Byte ranges that each start at a goroutine header (the first one at 0).
fn split_at_headers(text: &str) -> Vec<(usize, usize)> {
    let len = text.len();
    if len < PARALLEL_MIN_BYTES {
        return vec![(0, len)];
    }
    let pieces = (rayon::current_num_threads() * 4).clamp(2, 64);
    let finder = memchr::memmem::Finder::new(b"\ngoroutine ");
    let mut starts = vec![0];
    for k in 1..pieces {
        let target = len * k / pieces;
        let from = (*starts.last().unwrap_or(&0)).max(target);
        if let Some(i) = finder.find(&text.as_bytes()[from..]) {
            let at = from + i + 1;
            if at > *starts.last().unwrap_or(&0) {
                starts.push(at);
            }
        }
    }
    let mut ranges = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(len);
        ranges.push((s, e));
    }
    ranges
}
