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

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::error::FormatError;
use super::limits::Limits;
use super::text::{self, Lines};
use super::{Loaded, detect};
use crate::model::{
    Ancestor, Goroutine, Input, PanicInfo, Snapshot, SnapshotData, Source, StackTable, StateKind,
    Warnings,
};
use crate::model::{FrameId, StackId};
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

/// A log prefix in front of every line, learnt from the first goroutine header.
#[derive(Debug)]
struct LogPrefix {
    /// Length of the prefix on the header line.
    len: usize,
    /// Character classes of the prefix (digit → `9`, letter → `a`), so that
    /// timestamps that change from line to line still match.
    shape: Vec<u8>,
    /// The non-alphanumeric tail of the prefix (`]: `, ` | `), to find
    /// prefixes of another width.
    delimiter: String,
    sample: String,
}

fn char_class(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b'9',
        b'a'..=b'z' | b'A'..=b'Z' => b'a',
        other => other,
    }
}

fn find_log_prefix(text: &str) -> Option<LogPrefix> {
    for (_, line) in Lines::new(text).take(100_000) {
        if let Some(pos) = detect::find_goroutine_header(line) {
            if pos == 0 {
                return None;
            }
            let prefix = &line[..pos];
            let tail_len = prefix
                .bytes()
                .rev()
                .take_while(|b| !b.is_ascii_alphanumeric())
                .count();
            return Some(LogPrefix {
                len: pos,
                shape: prefix.bytes().map(char_class).collect(),
                delimiter: prefix[pos - tail_len..].to_owned(),
                sample: prefix.to_owned(),
            });
        }
    }
    None
}

impl LogPrefix {
    /// The line without its prefix, or `None` if it has none.
    fn strip<'a>(&self, line: &'a str) -> Option<&'a str> {
        let bytes = line.as_bytes();
        if bytes.len() >= self.len
            && line.is_char_boundary(self.len)
            && bytes[..self.len]
                .iter()
                .zip(&self.shape)
                .all(|(&b, &s)| char_class(b) == s)
        {
            return Some(&line[self.len..]);
        }
        if !self.delimiter.trim().is_empty() {
            let window = (self.len * 2).min(line.len());
            let mut end = window;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            if let Some(i) = line[..end].find(&self.delimiter) {
                return Some(&line[i + self.delimiter.len()..]);
            }
        }
        None
    }
}

/// What one piece of the input produced.
struct Chunk {
    table: StackTable,
    goroutines: Vec<Goroutine>,
    warnings: Warnings,
    panic: Option<PanicInfo>,
    prefixed_lines: u64,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Mode {
    /// Between goroutines: log lines, the panic preamble, crash sections.
    Outside,
    /// Collecting the `panic:` / `fatal error:` message.
    Preamble,
    /// Inside a goroutine block.
    Goroutine,
    /// A `runtime stack:` section of a crash (the system stack), skipped.
    SystemStack,
}

/// What the next indented location line completes.
#[derive(Copy, Clone)]
enum Pending<'a> {
    None,
    Frame(&'a str),
    Creator(&'a str),
}

struct ChunkParser<'a, 'p> {
    text: &'a str,
    limits: &'p Limits,
    prefix: Option<&'p LogPrefix>,
    progress: &'p Progress,
    done: &'p AtomicUsize,
    table: StackTable,
    frame_cache: FxHashMap<(&'a str, &'a str), FrameId>,
    goroutines: Vec<Goroutine>,
    warnings: Warnings,
    panic: Option<PanicInfo>,
    prefixed_lines: u64,
    mode: Mode,
    pending: Pending<'a>,
    /// The goroutine being read; its frames are in `frames`.
    current: Option<Goroutine>,
    frames: Vec<FrameId>,
    /// Frames of the ancestor being read (`[originating from goroutine N]`).
    ancestor: Option<(u64, Vec<FrameId>)>,
    creator_frame: Option<FrameId>,
    /// Set when the last goroutine was cut off by a limit.
    stopped: bool,
    /// The current goroutine's stack reached the depth limit (warned once per goroutine).
    depth_capped: bool,
}

impl<'a, 'p> ChunkParser<'a, 'p> {
    fn new(
        text: &'a str,
        limits: &'p Limits,
        prefix: Option<&'p LogPrefix>,
        progress: &'p Progress,
        done: &'p AtomicUsize,
    ) -> Self {
        ChunkParser {
            text,
            limits,
            prefix,
            progress,
            done,
            table: StackTable::default(),
            frame_cache: FxHashMap::default(),
            goroutines: Vec::new(),
            warnings: Warnings::default(),
            panic: None,
            prefixed_lines: 0,
            mode: Mode::Outside,
            pending: Pending::None,
            current: None,
            frames: Vec::new(),
            ancestor: None,
            creator_frame: None,
            stopped: false,
            depth_capped: false,
        }
    }

    fn run(&mut self, start: usize, end: usize) -> Result<(), FormatError> {
        let slice = self.text.get(start..end).unwrap_or("");
        let mut last_report = 0usize;
        for (rel, raw) in Lines::new(slice) {
            let offset = start + rel;
            if rel - last_report >= 1 << 20 {
                let total = self.done.fetch_add(rel - last_report, Ordering::Relaxed);
                self.progress
                    .set_pos(total + rel - last_report, self.text.len());
                last_report = rel;
                if self.progress.is_cancelled() {
                    return Err(FormatError::Cancelled);
                }
            }
            if raw.len() > self.limits.max_line_bytes {
                let max = self.limits.max_line_bytes;
                let text = self.text;
                self.warnings.add("long-line", || {
                    format!(
                        "skipped a line longer than {max} bytes (first at line {})",
                        text::line_number(text, offset)
                    )
                });
                continue;
            }
            let line = match self.prefix {
                Some(p) => match p.strip(raw) {
                    Some(l) => {
                        self.prefixed_lines += 1;
                        l
                    }
                    None => raw,
                },
                None => raw,
            };
            self.line(offset, line);
            if self.stopped {
                break;
            }
        }
        self.done
            .fetch_add(slice.len() - last_report, Ordering::Relaxed);
        self.end_goroutine(end);
        Ok(())
    }

    fn finish(self) -> Chunk {
        Chunk {
            table: self.table,
            goroutines: self.goroutines,
            warnings: self.warnings,
            panic: self.panic,
            prefixed_lines: self.prefixed_lines,
        }
    }

    fn warn(&mut self, kind: &'static str, offset: usize, what: &str) {
        let text = self.text;
        self.warnings.add(kind, || {
            format!("{what} (first at line {})", text::line_number(text, offset))
        });
    }

    fn line(&mut self, offset: usize, line: &'a str) {
        if line.starts_with("goroutine ")
            && let Some(header) = parse_header(line)
        {
            self.end_goroutine(offset);
            self.start_goroutine(offset, header);
            return;
        }
        match self.mode {
            Mode::Goroutine => self.goroutine_line(offset, line),
            Mode::Preamble => {
                if line.trim().is_empty() {
                    self.mode = Mode::Outside;
                } else if let Some(p) = &mut self.panic {
                    p.message.push('\n');
                    p.message.push_str(line);
                }
            }
            Mode::SystemStack => {
                if line.trim().is_empty() {
                    self.mode = Mode::Outside;
                }
            }
            Mode::Outside => self.outside_line(offset, line),
        }
    }

    fn outside_line(&mut self, offset: usize, line: &'a str) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        let starts_crash = [
            "panic: ",
            "fatal error: ",
            "fatal: ",
            "unexpected fault address",
        ]
        .iter()
        .any(|p| line.starts_with(p))
            || is_signal_line(line);
        if starts_crash && self.panic.is_none() && self.goroutines.is_empty() {
            self.panic = Some(PanicInfo {
                message: line.to_owned(),
                goroutine_id: None,
            });
            self.mode = Mode::Preamble;
            return;
        }
        if line.starts_with("[signal ") {
            if let Some(p) = &mut self.panic {
                p.message.push('\n');
                p.message.push_str(line);
            }
            return;
        }
        if trimmed == "runtime stack:" {
            self.mode = Mode::SystemStack;
            return;
        }
        if is_register_line(trimmed) || trimmed.starts_with("exit status ") {
            return;
        }
        self.warn(
            "ignored-line",
            offset,
            "ignored lines outside goroutine stacks",
        );
    }

    fn start_goroutine(&mut self, offset: usize, h: Header<'a>) {
        if self.goroutines.len() as u64 >= self.limits.max_goroutines {
            let max = self.limits.max_goroutines;
            self.warnings.add("goroutine-limit", || {
                format!(
                    "stopped after {max} goroutines, the limit; the rest of the dump was not loaded"
                )
            });
            self.stopped = true;
            return;
        }
        let mut g = Goroutine::new(StackId::EMPTY);
        g.id = Some(h.id);
        g.state = self.table.intern_str(h.state);
        g.kind = StateKind::classify(h.state);
        g.wait_minutes = h.minutes;
        g.locked_to_thread = h.locked;
        g.leaked = h.leaked;
        g.durable = h.durable;
        g.gc_scan = h.scan;
        g.synctest_bubble = h.bubble;
        if let Some(labels) = h.labels {
            match text::intern_labels(&mut self.table, labels) {
                Some(set) => g.labels = set,
                None => self.warn("bad-labels", offset, "unreadable label set in a header"),
            }
        }
        self.current = Some(g);
        self.depth_capped = false;
        self.frames.clear();
        self.ancestor = None;
        self.creator_frame = None;
        self.pending = Pending::None;
        self.mode = Mode::Goroutine;
        if let Some(p) = &mut self.panic
            && p.goroutine_id.is_none()
        {
            p.goroutine_id = Some(h.id);
        }
    }

    fn goroutine_line(&mut self, offset: usize, line: &'a str) {
        if line.is_empty() {
            self.end_goroutine(offset);
            return;
        }
        let indented = line.starts_with('\t') || line.starts_with(' ');
        if let Pending::Frame(func) | Pending::Creator(func) = self.pending {
            if indented {
                let frame = self.frame(offset, func, line.trim());
                match self.pending {
                    Pending::Creator(_) => self.creator_frame = Some(frame),
                    _ => self.push_frame(offset, frame),
                }
                self.pending = Pending::None;
                return;
            }
            self.flush_pending(offset, func);
        }
        if indented {
            self.warn(
                "stray-line",
                offset,
                "ignored indented lines with no function before them",
            );
            return;
        }
        if let Some(rest) = line.strip_prefix("created by ") {
            let (func, creator) = match rest.rsplit_once(" in goroutine ") {
                Some((f, id)) => (f, id.trim().parse::<u64>().ok()),
                None => (rest, None),
            };
            if let Some(g) = &mut self.current {
                g.creator_id = creator;
            }
            self.close_ancestor();
            self.pending = Pending::Creator(text::canonical_function(func.trim()));
            return;
        }
        if line.starts_with("...") && line.contains("elided") {
            if let Some(g) = &mut self.current {
                g.frames_elided = true;
            }
            return;
        }
        if let Some(rest) = line.strip_prefix("[originating from goroutine ") {
            self.close_ancestor();
            let id = rest
                .trim_end_matches(':')
                .trim_end_matches(']')
                .trim()
                .parse::<u64>()
                .unwrap_or(0);
            self.ancestor = Some((id, Vec::new()));
            return;
        }
        self.pending = Pending::Frame(text::canonical_function(text::function_of_call(line)));
    }

    fn frame(&mut self, offset: usize, func: &'a str, location: &'a str) -> FrameId {
        let location = match location.find(" +0x") {
            Some(i) => &location[..i],
            None => location,
        };
        if let Some(&id) = self.frame_cache.get(&(func, location)) {
            return id;
        }
        let id = match text::parse_location(location) {
            Some((file, line)) => self.table.intern_frame(func, file, line),
            None => {
                if !location.is_empty() {
                    self.warn("bad-location", offset, "unreadable file:line locations");
                }
                self.table.intern_frame(func, location, 0)
            }
        };
        self.frame_cache.insert((func, location), id);
        id
    }

    fn push_frame(&mut self, offset: usize, frame: FrameId) {
        let max = self.limits.max_stack_depth;
        let frames = match &mut self.ancestor {
            Some((_, f)) => f,
            None => &mut self.frames,
        };
        if frames.len() < max {
            frames.push(frame);
            return;
        }
        if self.depth_capped {
            return;
        }
        self.depth_capped = true;
        if let Some(g) = &mut self.current {
            g.frames_elided = true;
        }
        let text = self.text;
        self.warnings.add("deep-stack", || {
            format!(
                "kept the innermost {max} frames of stacks deeper than that (first at line {})",
                text::line_number(text, offset)
            )
        });
    }

    fn close_ancestor(&mut self) {
        if let Some((id, frames)) = self.ancestor.take() {
            let stack = self.table.intern_inner_first(&frames);
            if let Some(g) = &mut self.current {
                g.ancestors.push(Ancestor { id, stack });
            }
        }
    }

    /// Keeps a function line that got no location line: the dump was cut,
    /// or the runtime could not place the frame.
    fn flush_pending(&mut self, offset: usize, func: &'a str) {
        self.warn(
            "frame-without-location",
            offset,
            "frames without a file:line",
        );
        let frame = self.frame(offset, func, "");
        match self.pending {
            Pending::Creator(_) => self.creator_frame = Some(frame),
            _ => self.push_frame(offset, frame),
        }
        self.pending = Pending::None;
    }

    fn end_goroutine(&mut self, offset: usize) {
        if let Pending::Frame(func) | Pending::Creator(func) = self.pending {
            self.flush_pending(offset, func);
        }
        self.close_ancestor();
        if let Some(mut g) = self.current.take() {
            g.stack = self.table.intern_inner_first(&self.frames);
            g.created_by = self
                .creator_frame
                .take()
                .map(|f| self.table.intern_inner_first(&[f]));
            self.goroutines.push(g);
        }
        self.frames.clear();
        if self.mode == Mode::Goroutine {
            self.mode = Mode::Outside;
        }
    }
}

/// `SIGQUIT: quit`, `SIGSEGV: segmentation violation`: a dump on a signal.
fn is_signal_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, _)| {
        name.len() > 3 && name.starts_with("SIG") && name.bytes().all(|b| b.is_ascii_uppercase())
    })
}

/// `rax    0x0`, `r14    0xc000006380`, `rflags 0x10246`, `lr      0x0`.
fn is_register_line(line: &str) -> bool {
    let mut parts = line.split_ascii_whitespace();
    let (Some(name), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    name.len() <= 8
        && name.bytes().all(|b| b.is_ascii_alphanumeric())
        && value.starts_with("0x")
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The parts of `goroutine N [...]:`.
#[derive(Debug, PartialEq, Eq)]
struct Header<'a> {
    id: u64,
    state: &'a str,
    minutes: Option<u32>,
    locked: bool,
    leaked: bool,
    durable: bool,
    scan: bool,
    bubble: Option<u64>,
    labels: Option<&'a str>,
}

/// Where Go 1.26 puts a label set inside the brackets, after the last
/// field and a space: `[select, synctest bubble 1 labels:{"k": "v"}]`.
const INNER_LABELS: &str = " labels:{";

/// Parses a goroutine header as every Go release prints it:
///
/// ```text
/// goroutine 7 gp=0xc0 m=nil [chan send (leaked) (scan), 3 minutes, locked to thread, synctest bubble 2]:
/// goroutine 9 [select labels:{"handler": "search"}]:       <- Go 1.26, GODEBUG=tracebacklabels=1
/// goroutine 9 [select] {handler: search, q: "a b"}:        <- Go 1.27
/// ```
///
/// After the state come the runtime's flags, in this order: `(leaked)`
/// (proven leaked), `(scan)` (its stack was being scanned) and `(durable)`
/// (blocked in a synctest bubble; some wait reasons say `(durable)`
/// themselves, `chan receive (durable)`). The state is returned without
/// them, so that a group's wait reason is the same in and out of bubbles.
fn parse_header(line: &str) -> Option<Header<'_>> {
    let rest = line.strip_prefix("goroutine ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id: u64 = rest.get(..digits)?.parse().ok()?;
    let rest = &rest[digits..];
    let open = rest.find('[')?;
    // Between the id and `[` only `gp=… m=… mp=…` fields may stand.
    if !rest[..open]
        .split_ascii_whitespace()
        .all(|f| f.contains('='))
    {
        return None;
    }
    let body_start = open + 1;
    let close = body_start + find_closing(&rest[body_start..], b']')?;
    let mut body = &rest[body_start..close];
    let tail = rest[close + 1..].trim();
    let tail = tail.strip_suffix(':')?.trim();
    let mut labels = (!tail.is_empty() && tail.starts_with('{')).then_some(tail);
    // Fields and the state never hold braces or quotes, so the first match
    // is the label set, whatever its values hold.
    if let Some(i) = body.find(INNER_LABELS) {
        labels = Some(&body[i + INNER_LABELS.len() - 1..]);
        body = &body[..i];
    }

    let mut parts = split_top_level(body);
    let mut h = Header {
        id,
        state: parts.next()?.trim(),
        minutes: None,
        locked: false,
        leaked: false,
        durable: false,
        scan: false,
        bubble: None,
        labels,
    };
    loop {
        if let Some(s) = h.state.strip_suffix(" (leaked)") {
            (h.state, h.leaked) = (s, true);
        } else if let Some(s) = h.state.strip_suffix(" (scan)") {
            (h.state, h.scan) = (s, true);
        } else if let Some(s) = h.state.strip_suffix(" (durable)") {
            (h.state, h.durable) = (s, true);
        } else {
            break;
        }
    }
    for part in parts {
        let part = part.trim();
        if let Some(n) = part.strip_suffix(" minutes") {
            h.minutes = n
                .trim()
                .parse()
                .ok()
                .filter(|&m| m <= super::limits::MAX_WAIT_MINUTES);
        } else if part == "locked to thread" {
            h.locked = true;
        } else if let Some(n) = part.strip_prefix("synctest bubble ") {
            h.bubble = n.trim().parse().ok();
        } else if let Some(l) = part.strip_prefix("labels:") {
            h.labels = Some(l.trim());
        } else if part.starts_with('{') {
            h.labels = Some(part);
        }
    }
    Some(h)
}

/// Position of `close` at brace depth 0 and outside quotes.
fn find_closing(s: &str, close: u8) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => quoted = true,
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ if b == close && depth <= 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on commas that are outside braces and quotes.
fn split_top_level(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match find_closing(r, b',') {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_every_variant() {
        let h = parse_header("goroutine 26 [select, locked to thread]:").unwrap();
        assert_eq!((h.id, h.state, h.locked), (26, "select", true));
        let h = parse_header("goroutine 7 [chan receive (nil chan), 15 minutes]:").unwrap();
        assert_eq!((h.state, h.minutes), ("chan receive (nil chan)", Some(15)));
        let h = parse_header(
            "goroutine 1 gp=0xc000002380 m=0 mp=0x5ed9a0 [sync.Mutex.Lock, 1 minutes, locked to thread]:",
        )
        .unwrap();
        assert_eq!(
            (h.id, h.state, h.minutes, h.locked),
            (1, "sync.Mutex.Lock", Some(1), true)
        );
        let h = parse_header(r#"goroutine 9 [running] {pattern: "GET /a]b"}:"#).unwrap();
        assert_eq!(h.labels, Some(r#"{pattern: "GET /a]b"}"#));
        let h = parse_header(r#"goroutine 9 [select, labels:{"k": "v, w"}]:"#).unwrap();
        assert_eq!((h.state, h.labels), ("select", Some(r#"{"k": "v, w"}"#)));
        let h = parse_header("goroutine 4 [chan send (leaked)]:").unwrap();
        assert_eq!((h.state, h.leaked), ("chan send", true));
        let h = parse_header("goroutine 4 [chan send (leaked) (scan), 2 minutes]:").unwrap();
        assert_eq!(
            (h.state, h.leaked, h.scan, h.minutes),
            ("chan send", true, true, Some(2))
        );
        let h = parse_header(
            "goroutine 25 [sleep (durable), 5 minutes, locked to thread, synctest bubble 12]:",
        )
        .unwrap();
        assert_eq!(
            (h.state, h.durable, h.locked, h.bubble, h.minutes),
            ("sleep", true, true, Some(12), Some(5))
        );
        let h = parse_header(r#"goroutine 24 [chan receive labels:{"k": "v, ]w"}]:"#).unwrap();
        assert_eq!(
            (h.state, h.labels),
            ("chan receive", Some(r#"{"k": "v, ]w"}"#))
        );
        let h = parse_header(
            r#"goroutine 24 [select, synctest bubble 3 labels:{"handler": "search"}]:"#,
        )
        .unwrap();
        assert_eq!(
            (h.state, h.bubble, h.labels),
            ("select", Some(3), Some(r#"{"handler": "search"}"#))
        );
        assert_eq!(parse_header("goroutine profile: total 4"), None);
        assert_eq!(parse_header("goroutine 4 [select]"), None);
    }

    #[test]
    fn registers() {
        assert!(is_register_line("rax    0x0"));
        assert!(is_register_line("rflags 0x10246"));
        assert!(!is_register_line("main.main()"));
    }

    #[test]
    fn log_prefix_is_learnt_and_stripped() {
        let text = "2024-01-01T10:00:00Z app[1]: goroutine 1 [running]:\n";
        let p = find_log_prefix(text).unwrap();
        assert_eq!(
            p.strip("2024-01-01T10:00:01Z app[1]: main.main()"),
            Some("main.main()")
        );
        assert_eq!(
            p.strip("2024-01-01T10:00:01Z app[12345]: \tmain.go:3 +0x1"),
            Some("\tmain.go:3 +0x1")
        );
    }
}
