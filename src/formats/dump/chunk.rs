//! One piece of a dump (the whole dump when it is small) read line by line
//! into goroutines, with the panic preamble and crash sections around them.

use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::FxHashMap;

use super::super::error::FormatError;
use super::header::{Header, parse_header};
use super::prefix::LogPrefix;
use crate::formats::limits::Limits;
use crate::formats::text::{self, Lines};
use crate::model::{
    Ancestor, FrameId, Goroutine, PanicInfo, StackId, StackTable, StateKind, Warnings,
};
use crate::progress::Progress;

/// What one piece of the input produced.
pub(super) struct Chunk {
    pub(super) table: StackTable,
    pub(super) goroutines: Vec<Goroutine>,
    pub(super) warnings: Warnings,
    pub(super) panic: Option<PanicInfo>,
    pub(super) prefixed_lines: u64,
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

pub(super) struct ChunkParser<'a, 'p> {
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
    pub(super) fn new(
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

    pub(super) fn run(&mut self, start: usize, end: usize) -> Result<(), FormatError> {
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

    pub(super) fn finish(self) -> Chunk {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers() {
        assert!(is_register_line("rax    0x0"));
        assert!(is_register_line("rflags 0x10246"));
        assert!(!is_register_line("main.main()"));
    }
}
