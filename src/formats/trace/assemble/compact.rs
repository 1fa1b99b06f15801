//! The last step of assembly: every goroutine's slots, written by the
//! second replay, put in order where the format needs it and compacted in
//! place into final spans (restatements dropped, the legacy start burst
//! and syscalls resolved, contradictions counted).

use std::sync::atomic::AtomicU64;

use rayon::prelude::*;

use super::{BURST, HOLE, LEGACY_SYSCALL, SYSBLOCK_MARKER, SYSCALL_PLACEHOLDER};
use crate::model::timeline::{GoState, initial_kind, packed, status_kind};

/// How a format's decoder left each goroutine's slots.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(in crate::formats::trace) enum SlotOrder {
    /// Already in the order the transitions happened (Go 1.22+: replayed
    /// in Go's reader order, generation after generation).
    Replayed,
    /// In no useful order; sorted by time here (legacy traces).
    ByTime,
}

/// Sorts (if need be) and compacts every goroutine's slots into spans.
///
/// Returns the spans and the goroutines' new start offsets (`span_starts`
/// is rewritten in place); the count says how many goroutines have
/// transitions that contradict each other. Nothing as large as a side
/// table per goroutine is allocated: this runs at the peak of memory use.
pub(in crate::formats::trace) fn finish(
    slots: Vec<AtomicU64>,
    mut span_starts: Vec<u32>,
    order: SlotOrder,
) -> (Vec<u64>, Vec<u32>, u64) {
    // In-place: same size and alignment, so the allocation is reused.
    let mut spans: Vec<u64> = slots.into_iter().map(AtomicU64::into_inner).collect();
    let n = span_starts.len().saturating_sub(1);
    let start_of = |g: usize| span_starts.get(g).copied().unwrap_or(0) as usize;
    // Chunks of whole goroutines, about 64k slots each, sorted in parallel.
    let mut pieces: Vec<(&mut [u64], &[u32])> = Vec::new();
    let mut rest: &mut [u64] = &mut spans;
    let mut taken = 0usize;
    let mut g0 = 0;
    while g0 < n {
        let mut g1 = g0 + 1;
        while g1 < n && start_of(g1).saturating_sub(start_of(g0)) < 65_536 {
            g1 += 1;
        }
        let len = start_of(g1).saturating_sub(taken).min(rest.len());
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
        rest = tail;
        taken += len;
        pieces.push((head, span_starts.get(g0..=g1).unwrap_or(&[])));
        g0 = g1;
    }
    let inconsistent: u64 = pieces
        .into_par_iter()
        .map(|(chunk, starts)| {
            let base = starts.first().copied().unwrap_or(0) as usize;
            let mut bad = 0u64;
            for w in starts.windows(2) {
                let &[s, e] = w else { continue };
                let (s, e) = (s as usize, e as usize);
                let Some(slice) = chunk.get_mut(s.saturating_sub(base)..e.saturating_sub(base))
                else {
                    continue;
                };
                if order == SlotOrder::ByTime {
                    slice.sort_by_key(|&w| packed::time(w));
                }
                let (len, consistent) = compact(slice);
                bad += u64::from(!consistent);
                // A shorter goroutine leaves its length in its last slot,
                // as a word of kind HOLE, which no span has.
                if len < slice.len()
                    && let Some(last) = slice.last_mut()
                {
                    *last = packed::pack(len as u64, HOLE, 0);
                }
            }
            bad
        })
        .sum();
    // Close the gaps left by compaction.
    let mut out = 0usize;
    for g in 0..n {
        let at = |g: usize| span_starts.get(g).copied().unwrap_or(0) as usize;
        let (from, end) = (at(g), at(g + 1));
        let len = match spans.get(end.wrapping_sub(1)) {
            Some(&w) if end > from && packed::kind(w) == HOLE => packed::time(w) as usize,
            _ => end.saturating_sub(from),
        };
        let len = len.min(spans.len().saturating_sub(from));
        if from != out {
            spans.copy_within(from..from + len, out);
        }
        if let Some(s) = span_starts.get_mut(g) {
            *s = out as u32;
        }
        out += len;
    }
    if let Some(s) = span_starts.get_mut(n) {
        *s = out as u32;
    }
    spans.truncate(out);
    // Large buffers are their own mappings, so this gives the tail back
    // without copying.
    spans.shrink_to_fit();
    (spans, span_starts, inconsistent)
}

fn state_of(kind: u8) -> Option<GoState> {
    crate::model::timeline::decode_kind(kind).map(|(s, _)| s)
}

/// Turns one goroutine's ordered slots into spans, in place.
///
/// Drops status events that restate the known state, places the first
/// state of goroutines that existed before the trace at the window start,
/// folds the legacy trace-start burst into that first state, and resolves
/// legacy syscalls (a GoSysCall is a syscall span only if a GoSysBlock
/// follows; otherwise the goroutine went straight back to running). Returns
/// the number of spans and whether the sequence was consistent.
///
/// Spans start no earlier than the span before them. In Go's order a
/// timestamp can be earlier than the one before it: a thread writing
/// faster than its clock ticks runs ahead of the others, and the statuses
/// closing a generation are stamped when the tracer got round to writing
/// them, after the next generation began. Go's reader moves such an event
/// to just after the previous event of the whole trace; here it moves to
/// the start of the goroutine's previous span, a zero-length span. Dropped
/// restatements move nothing, so a late status leaves no trace.
pub(super) fn compact(s: &mut [u64]) -> (usize, bool) {
    let mut out = 0usize;
    let mut prev: Option<GoState> = None;
    let mut burst: Option<GoState> = None;
    let mut consistent = true;
    let mut i = 0usize;
    while let Some(&word) = s.get(i) {
        let kind = packed::kind(word);
        i += 1;
        if kind == HOLE || kind == SYSBLOCK_MARKER || kind == SYSCALL_PLACEHOLDER {
            continue;
        }
        if kind >= BURST {
            burst = state_of(kind - BURST + packed::INITIAL);
            continue;
        }
        if let Some(state) = burst.take() {
            if let Some(slot) = s.get_mut(out) {
                *slot = packed::pack(0, initial_kind(state), 0);
                out += 1;
            }
            prev = Some(state);
        }
        let mut emit = word;
        if kind == LEGACY_SYSCALL {
            emit = packed::with_kind(word, packed::SYSCALL_BEGAN);
            let blocked = s
                .get(i + 1)
                .is_some_and(|&w| packed::kind(w) == SYSBLOCK_MARKER);
            let placeholder = s
                .get(i)
                .copied()
                .filter(|&w| packed::kind(w) == SYSCALL_PLACEHOLDER);
            if let Some(slot) = s.get_mut(out) {
                *slot = emit;
                out += 1;
            }
            prev = Some(GoState::Syscall);
            if let Some(p) = placeholder {
                i += 1;
                if !blocked {
                    if let Some(slot) = s.get_mut(out) {
                        *slot = packed::with_kind(p, packed::SYSCALL_ENDED);
                        out += 1;
                    }
                    prev = Some(GoState::Running);
                }
            }
            continue;
        }
        let Some(state) = state_of(kind) else {
            continue;
        };
        if (packed::INITIAL..=packed::LAST_STATUS).contains(&kind) {
            let initial = kind < packed::STATUS;
            match prev {
                Some(p) if p == state => continue,
                Some(_) => {
                    consistent = false;
                    emit = packed::with_kind(word, status_kind(state));
                }
                None if initial => emit = packed::with_time(word, 0),
                None => {}
            }
        } else if let Some(p) = prev {
            consistent &= expected_from(kind).is_none_or(|f| f == p);
        }
        if let Some(slot) = s.get_mut(out) {
            *slot = emit;
            out += 1;
        }
        prev = Some(state);
    }
    // Never earlier than the span before (see above).
    let mut floor = 0;
    for w in s.iter_mut().take(out) {
        let t = packed::time(*w);
        if t < floor {
            *w = packed::with_time(*w, floor);
        }
        floor = floor.max(t);
    }
    if let Some(state) = burst
        && let Some(slot) = s.get_mut(out)
    {
        *slot = packed::pack(0, initial_kind(state), 0);
        out += 1;
    }
    (out, consistent)
}

/// The state a transition of `kind` starts from, where it is fixed.
fn expected_from(k: u8) -> Option<GoState> {
    use packed::*;
    match k {
        STARTED => Some(GoState::Runnable),
        STOPPED | BLOCKED | SYSCALL_BEGAN | ENDED => Some(GoState::Running),
        UNBLOCKED | SWITCHED_IN => Some(GoState::Waiting),
        SYSCALL_ENDED | SYSCALL_ENDED_BLOCKED | ENDED_IN_SYSCALL => Some(GoState::Syscall),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::burst_kind;
    use super::*;
    use crate::model::timeline::packed::*;
    use crate::model::timeline::{initial_kind, status_kind};

    fn w(t: u64, k: u8) -> u64 {
        pack(t, k, 0)
    }

    #[test]
    fn compact_drops_restatements_and_moves_initial_state_to_start() {
        let waiting = initial_kind(GoState::Waiting);
        let st_wait = status_kind(GoState::Waiting);
        let mut s = [
            w(50, waiting),
            w(60, UNBLOCKED),
            w(70, STARTED),
            w(80, BLOCKED),
            w(90, st_wait),
        ];
        let (n, ok) = compact(&mut s);
        assert!(ok);
        assert_eq!(n, 4);
        assert_eq!(time(s[0]), 0);
        assert_eq!(kind(s[3]), BLOCKED);
    }

    #[test]
    fn compact_resolves_legacy_syscalls_and_burst() {
        let mut s = [
            w(1, burst_kind(GoState::Runnable)),
            w(1, burst_kind(GoState::Running)),
            w(5, HOLE),
            w(10, LEGACY_SYSCALL),
            w(10, SYSCALL_PLACEHOLDER),
            w(12, STOPPED),
            w(20, STARTED),
            w(30, LEGACY_SYSCALL),
            w(30, SYSCALL_PLACEHOLDER),
            w(31, SYSBLOCK_MARKER),
            w(40, SYSCALL_ENDED_BLOCKED),
        ];
        let (n, ok) = compact(&mut s);
        let kinds: Vec<u8> = s[..n].iter().map(|&x| kind(x)).collect();
        assert_eq!(
            kinds,
            vec![
                initial_kind(GoState::Running),
                SYSCALL_BEGAN,
                SYSCALL_ENDED,
                STOPPED,
                STARTED,
                SYSCALL_BEGAN,
                SYSCALL_ENDED_BLOCKED
            ]
        );
        assert!(ok);
    }
}
