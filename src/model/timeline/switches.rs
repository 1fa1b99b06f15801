//! Coroutine switches: one stored word, two spans to every reader.
//!
//! ## Why
//!
//! A coroutine switch (`GoSwitch`, as `iter.Pull` makes them) unblocks its
//! target and starts it on the switching goroutine's P at the same
//! instant: an Unblocked span of zero length, then a Started one. `go test
//! -trace` of Go's `runtime/pprof` holds 37 million switches; two words for
//! each were a third of its model and took loading past three times the
//! file's size. So the target's lane stores one word of kind
//! [`packed::SWITCHED_IN`], whose detail names an interned (unblocker, P)
//! pair, and the trace expands it again wherever spans are read: span
//! indices, counts and searches all count both spans, so no caller sees
//! the difference.
//!
//! Mapping a span index to its word takes the number of switch words
//! before the word. [`switch_marks`] keeps that number at every 64th word
//! (a sixteenth of the words' size), so a lookup is a binary search over
//! the marks and a scan of at most 64 words; a trace without switches has
//! no marks and maps every index to itself.

use std::ops::Range;

use super::{GoIndex, GoState, Span, SpanCause, Trace, packed};
use crate::model::{StackId, StrId};

/// Words between two marks.
const STRIDE: usize = 64;

/// What a switch-in word names, interned: a few thousand distinct pairs
/// among millions of switches.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct SwitchDetail {
    /// The switching goroutine's index + 1, 0 for none.
    pub unblocker: u32,
    /// Its P + 1, 0 for none.
    pub p: u32,
}

#[inline]
fn is_switch(w: u64) -> bool {
    packed::kind(w) == packed::SWITCHED_IN
}

/// The switch words before every [`STRIDE`]-th word of `spans` (one mark
/// more than there are strides), or nothing if there are none.
pub(crate) fn switch_marks(spans: &[u64]) -> Vec<u32> {
    if !spans.iter().any(|&w| is_switch(w)) {
        return Vec::new();
    }
    let mut marks = Vec::with_capacity(spans.len() / STRIDE + 2);
    let mut n = 0u32;
    for chunk in spans.chunks(STRIDE) {
        marks.push(n);
        n = n.saturating_add(chunk.iter().filter(|&&w| is_switch(w)).count() as u32);
    }
    marks.push(n);
    marks
}

/// A goroutine's spans in order, switch words expanded: a plain iterator
/// rather than adapters, as analysis walks every span of every goroutine.
pub(super) struct SpanIter<'t> {
    trace: &'t Trace,
    words: &'t [u64],
    /// The next word, and whether its second span is next.
    at: usize,
    second: bool,
}

impl<'t> SpanIter<'t> {
    pub(super) fn new(trace: &'t Trace, words: &'t [u64]) -> SpanIter<'t> {
        SpanIter {
            trace,
            words,
            at: 0,
            second: false,
        }
    }
}

impl Iterator for SpanIter<'_> {
    type Item = Span;

    #[inline]
    fn next(&mut self) -> Option<Span> {
        loop {
            let i = self.at;
            let word = *self.words.get(i)?;
            let second = self.second;
            if is_switch(word) && !second {
                self.second = true;
            } else {
                self.at += 1;
                self.second = false;
            }
            // Words of no model kind (never stored) are skipped.
            if let Some(span) = self.trace.decode(self.words, i, second) {
                return Some(span);
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.words.len().saturating_sub(self.at);
        (0, Some(left.saturating_mul(2)))
    }
}

impl Trace {
    /// Switch words among `spans[..w]`.
    fn switches_before(&self, w: usize) -> usize {
        if self.switch_marks.is_empty() {
            return 0;
        }
        let b = w / STRIDE;
        let base = self.switch_marks.get(b).copied().unwrap_or(0) as usize;
        let scan = self.spans.get(b * STRIDE..w).unwrap_or(&[]);
        base + scan.iter().filter(|&&x| is_switch(x)).count()
    }

    /// Spans held by the words `r` of `spans`.
    pub(super) fn spans_in(&self, r: Range<usize>) -> usize {
        let extra = self
            .switches_before(r.end)
            .saturating_sub(self.switches_before(r.start));
        r.len() + extra
    }

    /// The word (offset in `r`) holding span `i` of the goroutine whose
    /// words are `r`, and whether it is the second span of a switch word.
    pub(super) fn locate(&self, r: Range<usize>, i: usize) -> Option<(usize, bool)> {
        let base = self.switches_before(r.start);
        if self.switches_before(r.end) == base {
            return (i < r.len()).then_some((i, false));
        }
        // The last mark inside the range at or before the span: its word's
        // span index is exact without a scan.
        let at_mark = |b: usize| {
            let w = b * STRIDE;
            let before = self.switch_marks.get(b).copied().unwrap_or(0) as usize;
            w - r.start + before.saturating_sub(base)
        };
        let (mut lo, mut hi) = (r.start.div_ceil(STRIDE), r.end / STRIDE + 1);
        let first = lo;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if mid * STRIDE < r.end && at_mark(mid) <= i {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (mut w, mut at) = match lo.checked_sub(1).filter(|&b| b >= first) {
            Some(b) => (b * STRIDE, at_mark(b)),
            None => (r.start, 0),
        };
        while let Some(&word) = self.spans.get(w).filter(|_| w < r.end) {
            let width = 1 + usize::from(is_switch(word));
            if i < at + width {
                return Some((w - r.start, i > at));
            }
            at += width;
            w += 1;
        }
        None
    }

    /// One of the two spans of the switch word `words[i]`: made runnable
    /// by the switching goroutine, then at once running on its P.
    pub(super) fn decode_switch(&self, words: &[u64], i: usize, second: bool) -> Option<Span> {
        let word = *words.get(i)?;
        let detail = self
            .switches
            .get(packed::detail(word) as usize)
            .copied()
            .unwrap_or_default();
        let start_ns = self.time_ns(packed::time(word));
        let mut span = Span {
            start_ns,
            end_ns: start_ns,
            state: GoState::Runnable,
            cause: SpanCause::Unblocked,
            reason: StrId::EMPTY,
            stack: StackId::EMPTY,
            unblocker: detail.unblocker.checked_sub(1).map(GoIndex),
            p: None,
        };
        if second {
            span.end_ns = self.end_of(words, i, start_ns);
            span.state = GoState::Running;
            span.cause = SpanCause::Started;
            span.unblocker = None;
            span.p = detail.p.checked_sub(1);
        }
        Some(span)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{TimeSpan, Warnings};
    use super::*;
    use crate::model::{Format, Source};

    /// A trace of two goroutines: the first with `n` words, every third a
    /// switch-in (so marks fall inside and between switch words), the
    /// second with one plain word.
    fn trace(n: usize) -> Trace {
        let mut spans = Vec::new();
        for i in 0..n as u64 {
            let (kind, detail) = match i % 3 {
                0 => (packed::BLOCKED, 0),
                1 => (packed::SWITCHED_IN, 1),
                _ => (packed::STOPPED, 0),
            };
            spans.push(packed::pack(10 * i, kind, detail));
        }
        spans.push(packed::pack(7, packed::CREATED, 0));
        let switch_marks = switch_marks(&spans);
        Trace {
            source: Source {
                path: String::new(),
                format: Format::Trace,
                profile_type: None,
                bytes: 0,
            },
            warnings: Warnings::default(),
            go_version: "go1.23".into(),
            started_at_ns: None,
            legacy: false,
            window: TimeSpan {
                start_ns: 0,
                end_ns: 10 * n as i64,
            },
            events: 0,
            event_counts: Vec::new(),
            goroutine_ids: vec![1, 2],
            goroutine_info: vec![Default::default(); 2],
            span_starts: vec![0, n as u32, n as u32 + 1],
            spans,
            time_shift: 0,
            details: vec![super::super::SpanDetail {
                reason: StrId::EMPTY,
                stack: StackId::EMPTY,
            }],
            switches: vec![SwitchDetail::default(), SwitchDetail { unblocker: 2, p: 4 }],
            switch_marks,
            labels: Vec::new(),
            procs: Vec::new(),
            cpu_samples: Vec::new(),
            gc: Vec::new(),
            stw: Vec::new(),
            tasks: Vec::new(),
            regions: Vec::new(),
            logs: Vec::new(),
        }
    }

    #[test]
    fn switch_words_read_as_two_spans_at_every_index() {
        for n in [0usize, 1, 2, 5, 64, 65, 191, 200, 1000] {
            let t = trace(n);
            let g = GoIndex(0);
            let all: Vec<Span> = t.spans(g).collect();
            let switches = (n + 1) / 3;
            assert_eq!(all.len(), n + switches, "n={n}");
            assert_eq!(t.span_len(g), all.len(), "n={n}");
            assert_eq!(t.span_count(), all.len() + 1, "n={n}");
            for (i, s) in all.iter().enumerate() {
                assert_eq!(t.span(g, i), Some(*s), "n={n} i={i}");
            }
            assert_eq!(t.span(g, all.len()), None);
            // Each switch: a zero-length Unblocked span by goroutine 1,
            // then a Started one on P 3.
            for w in all.windows(2) {
                if w[0].cause == SpanCause::Unblocked {
                    assert_eq!(w[0].start_ns, w[0].end_ns);
                    assert_eq!(w[0].unblocker, Some(GoIndex(1)));
                    assert_eq!(w[1].cause, SpanCause::Started);
                    assert_eq!((w[1].start_ns, w[1].p), (w[0].start_ns, Some(3)));
                }
            }
            // A time inside each span finds the span; at a switch's time
            // the Started one (the Unblocked one has no length).
            for (i, s) in all.iter().enumerate() {
                if s.duration_ns() > 0 {
                    assert_eq!(t.span_index_at(g, s.start_ns + 1), Some(i), "n={n}");
                }
            }
            let r = t.span_range(g, 0, 10 * n as i64);
            assert_eq!(r, 0..all.len(), "n={n}");
            let other: Vec<Span> = t.spans(GoIndex(1)).collect();
            assert_eq!(other.len(), 1);
            assert_eq!(t.span(GoIndex(1), 0), other.first().copied());
        }
    }

    #[test]
    fn runs_and_blocking_points_count_switch_spans() {
        let t = trace(200);
        let g = GoIndex(0);
        let lanes = t.p_lanes();
        let runs = lanes.runs(3);
        assert_eq!(runs.len(), 67);
        for &(rg, i) in runs {
            let s = t.span(rg, i as usize).expect("a run's span");
            assert_eq!((s.cause, s.p), (SpanCause::Started, Some(3)));
        }
        let waiting: Vec<StackId> = t
            .spans(g)
            .filter(|s| s.state == GoState::Waiting)
            .map(|s| s.stack)
            .collect();
        assert_eq!(waiting.len(), 67);
        assert_eq!(t.waiting_stacks(g).collect::<Vec<_>>(), waiting);
        let points: Vec<_> = t.blocking_points(g).collect();
        assert_eq!(points.len(), 67);
        for b in &points {
            assert_eq!(t.span(g, b.span).map(|s| s.state), Some(GoState::Waiting));
            assert_eq!(b.unblocker, Some(GoIndex(1)));
        }
    }
}
