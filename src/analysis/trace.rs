//! What an execution trace says about leaks, on its own or beside snapshots.
//!
//! A snapshot shows how many goroutines wait where; a trace also shows
//! which of them were *born* during the window and never finished. Those
//! are the trace's leak suspects, grouped like snapshot suspects (by where
//! they were created and where they are stuck). The cross-index answers the
//! other direction: for a stack group found in a dump or a profile, which
//! trace goroutines started, blocked or were created there, and when.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::wait::wait_reason;
use crate::model::timeline::{BlockingPoint, Creation, GoIndex, GoState, Trace};
use crate::model::{FrameId, StackId, StackTable, StrId, WaitReason};

/// The `"trace"` object of `inspect --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// The trace format version from the header, since what a trace records
    /// differs by Go release.
    pub go_version: String,
    /// How many timed events were decoded, to size the trace in the summary.
    pub events: u64,
    /// Goroutines created inside the window.
    pub goroutines_created: u64,
    /// Goroutines that exited inside the window (created there or before).
    pub goroutines_ended: u64,
    /// Goroutines that had not exited when the window closed.
    pub alive_at_end: u64,
    /// Goroutines waiting when the window closed, by wait reason (reasons the
    /// trace does not state are inferred from the stack, else `unknown`).
    pub blocked_at_end: BTreeMap<String, u64>,
}

/// Spans looked back through for a goroutine's last stack: a running
/// goroutine's own span has none (the trace records stacks where a
/// goroutine stops, blocks or is created), the span before it does.
const LAST_STACK_LOOKBACK: usize = 8;

/// The goroutines alive when a trace's window closed, weighted by the last
/// stack the trace shows each in: where it waits for a waiting one (the
/// blocking stack, as a goroutine profile would show it), where it last
/// stopped, blocked or entered a syscall for the others, else its start
/// function. It is the goroutine profile of the moment the trace ended,
/// for the flame graph of a session that holds only a trace.
pub fn stacks_at_end(trace: &Trace) -> Vec<(StackId, u64)> {
    let mut by_stack: FxHashMap<StackId, u64> = FxHashMap::default();
    for g in trace.goroutine_indices() {
        let n = trace.span_len(g);
        let Some(last) = n.checked_sub(1).and_then(|i| trace.span(g, i)) else {
            continue;
        };
        if last.state == GoState::Ended {
            continue;
        }
        let stack = (0..n)
            .rev()
            .take(LAST_STACK_LOOKBACK)
            .filter_map(|i| trace.span(g, i))
            .map(|s| s.stack)
            .find(|s| !s.is_empty())
            .or_else(|| trace.goroutine(g).map(|info| info.start_stack))
            .unwrap_or(StackId::EMPTY);
        *by_stack.entry(stack).or_default() += 1;
    }
    let mut out: Vec<(StackId, u64)> = by_stack.into_iter().collect();
    out.sort_unstable();
    out
}

/// Counts what a trace shows about goroutines: created, ended, alive and
/// blocked at the end (by wait reason), the trace's part of `inspect`.
pub fn summarize(trace: &Trace, table: &StackTable) -> TraceSummary {
    let mut s = TraceSummary {
        go_version: trace.go_version.clone(),
        events: trace.events,
        goroutines_created: 0,
        goroutines_ended: 0,
        alive_at_end: 0,
        blocked_at_end: BTreeMap::new(),
    };
    for g in trace.goroutine_indices() {
        if trace.creation(g).is_some() {
            s.goroutines_created += 1;
        }
        let Some(last) = trace.final_span(g) else {
            continue;
        };
        if last.state == GoState::Ended {
            s.goroutines_ended += 1;
            continue;
        }
        s.alive_at_end += 1;
        if last.state == GoState::Waiting {
            let reason = wait_reason(table, last.reason, last.stack);
            *s.blocked_at_end
                .entry(reason.text(table).to_owned())
                .or_insert(0) += 1;
        }
    }
    s
}

/// Goroutines created in the window and alive at its end that share an
/// entry function, a creation site and a final state and stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLeakGroup {
    /// Entry function name (from the creation event).
    pub entry_function: String,
    /// One-frame stack of the entry function.
    pub start_stack: StackId,
    /// The `go` statement: innermost frame of the creator's stack.
    pub creation_site: Option<FrameId>,
    /// The creator's full stack for the first goroutine of the group.
    pub creation_stack: StackId,
    /// State when the window closed; leaks are `Waiting`.
    pub state: GoState,
    /// Where they wait at the end (empty unless `Waiting`).
    pub blocking_stack: StackId,
    /// Wait reason at the end (`chan send`), or the state (`running`).
    pub reason: WaitReason,
    /// Members, in creation order.
    pub goroutines: Vec<GoIndex>,
    /// Members alive at evenly spaced times over the window; the last point
    /// is the window end, so its count is the group size.
    pub counts: Vec<(i64, u64)>,
}

/// Points in the `counts` series of a group.
const SERIES_POINTS: i64 = 9;

/// Goroutines born in the window that never ended, grouped, largest first
/// (waiting groups before running ones, which are rarely leaks).
pub fn trace_leaks(trace: &Trace, table: &StackTable) -> Vec<TraceLeakGroup> {
    type Key = (StackId, Option<FrameId>, GoState, StackId, StrId);
    let mut groups: FxHashMap<Key, Vec<(i64, GoIndex, StackId)>> = FxHashMap::default();
    for g in trace.goroutine_indices() {
        let Some(creation) = trace.creation(g) else {
            continue;
        };
        let Some(last) = trace.final_span(g) else {
            continue;
        };
        if last.state == GoState::Ended {
            continue;
        }
        let (stack, reason) = if last.state == GoState::Waiting {
            (last.stack, last.reason)
        } else {
            (StackId::EMPTY, StrId::EMPTY)
        };
        let site = table.leaf(creation.creator_stack);
        groups
            .entry((creation.start_stack, site, last.state, stack, reason))
            .or_default()
            .push((creation.time_ns, g, creation.creator_stack));
    }
    let window = trace.window;
    let mut out: Vec<TraceLeakGroup> = groups
        .into_iter()
        .map(|((start_stack, site, state, stack, reason), mut members)| {
            members.sort_unstable_by_key(|&(t, g, _)| (t, g));
            let times: Vec<i64> = members.iter().map(|m| m.0).collect();
            let counts = (0..SERIES_POINTS)
                .map(|i| {
                    let span = window.end_ns.saturating_sub(window.start_ns);
                    let t = window.start_ns + span / (SERIES_POINTS - 1) * i;
                    let t = if i == SERIES_POINTS - 1 {
                        window.end_ns
                    } else {
                        t
                    };
                    (t, times.partition_point(|&c| c <= t) as u64)
                })
                .collect();
            let entry = table
                .leaf(start_stack)
                .or_else(|| table.frames(stack).last())
                .map_or("", |f| table.function(f));
            TraceLeakGroup {
                entry_function: entry.to_owned(),
                start_stack,
                creation_site: site,
                creation_stack: members.first().map_or(StackId::EMPTY, |m| m.2),
                state,
                blocking_stack: stack,
                reason: match state {
                    GoState::Waiting => wait_reason(table, reason, stack),
                    GoState::Running => WaitReason::Running,
                    GoState::Runnable => WaitReason::Runnable,
                    GoState::Syscall => WaitReason::Syscall,
                    GoState::Ended => WaitReason::Unknown,
                },
                goroutines: members.into_iter().map(|m| m.1).collect(),
                counts,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (b.state == GoState::Waiting)
            .cmp(&(a.state == GoState::Waiting))
            .then(b.goroutines.len().cmp(&a.goroutines.len()))
            .then_with(|| a.entry_function.cmp(&b.entry_function))
            .then(a.blocking_stack.cmp(&b.blocking_stack))
    });
    out
}

/// A trace goroutine that matches a stack group, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceMatch {
    /// The goroutine, to find its lane and spans.
    pub goroutine: GoIndex,
    /// Go's goroutine id.
    pub id: u64,
    /// Its entry (start) stack matched.
    pub by_start: bool,
    /// One of its blocking stacks matched.
    pub by_blocking: bool,
    /// The stack it was created from matched.
    pub by_creator: bool,
    /// Where and by whom it was created, if inside the window: the creator of a
    /// leaked goroutine is often where the fix goes.
    pub creation: Option<Creation>,
    /// The blocking points whose stack matched, in time order.
    pub blocking_points: Vec<BlockingPoint>,
}

/// Trace goroutines by the stacks they started, blocked and were created at.
///
/// Built once per trace; a query then evaluates its predicate once per
/// distinct stack (a few thousand even in big traces) instead of once per
/// span, so a GUI can cross-highlight every stack group cheaply.
#[derive(Clone, Debug, Default)]
pub struct CrossIndex {
    start: FxHashMap<StackId, Vec<GoIndex>>,
    creator: FxHashMap<StackId, Vec<GoIndex>>,
    blocking: FxHashMap<StackId, Vec<GoIndex>>,
}

impl CrossIndex {
    /// Indexes every goroutine of `trace` by its start, creator and blocking
    /// stacks, once per trace.
    pub fn build(trace: &Trace) -> CrossIndex {
        let mut ix = CrossIndex::default();
        let mut seen: Vec<StackId> = Vec::new();
        for g in trace.goroutine_indices() {
            if let Some(info) = trace.goroutine(g) {
                if !info.start_stack.is_empty() {
                    ix.start.entry(info.start_stack).or_default().push(g);
                }
                if !info.creator_stack.is_empty() {
                    ix.creator.entry(info.creator_stack).or_default().push(g);
                }
            }
            seen.clear();
            seen.extend(trace.waiting_stacks(g).filter(|s| !s.is_empty()));
            seen.sort_unstable();
            seen.dedup();
            for &s in &seen {
                ix.blocking.entry(s).or_default().push(g);
            }
        }
        ix
    }

    /// Every distinct stack the index knows, for callers that precompute matches.
    pub fn stacks(&self) -> impl Iterator<Item = StackId> + '_ {
        let mut all: Vec<StackId> = self
            .start
            .keys()
            .chain(self.creator.keys())
            .chain(self.blocking.keys())
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter()
    }

    /// Goroutines with a start, blocking or creator stack for which `matches` holds.
    pub fn find(&self, trace: &Trace, mut matches: impl FnMut(StackId) -> bool) -> Vec<TraceMatch> {
        let mut verdict: FxHashMap<StackId, bool> = FxHashMap::default();
        let mut check = |s: StackId| *verdict.entry(s).or_insert_with(|| matches(s));
        let mut hits: FxHashMap<GoIndex, (bool, bool, bool)> = FxHashMap::default();
        for (map, which) in [(&self.start, 0), (&self.blocking, 1), (&self.creator, 2)] {
            for (&s, gs) in map {
                if !check(s) {
                    continue;
                }
                for &g in gs {
                    let e = hits.entry(g).or_default();
                    match which {
                        0 => e.0 = true,
                        1 => e.1 = true,
                        _ => e.2 = true,
                    }
                }
            }
        }
        let mut out: Vec<TraceMatch> = hits
            .into_iter()
            .map(|(g, (by_start, by_blocking, by_creator))| TraceMatch {
                goroutine: g,
                id: trace.goroutine(g).map_or(0, |i| i.id),
                by_start,
                by_blocking,
                by_creator,
                creation: trace.creation(g),
                blocking_points: if by_blocking {
                    trace
                        .blocking_points(g)
                        .filter(|b| verdict.get(&b.stack).copied().unwrap_or(false))
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        out.sort_unstable_by_key(|m| m.goroutine);
        out
    }

    /// Goroutines matching any of `stacks` exactly.
    pub fn find_stacks(&self, trace: &Trace, stacks: &[StackId]) -> Vec<TraceMatch> {
        let set: FxHashSet<StackId> = stacks.iter().copied().collect();
        self.find(trace, |s| set.contains(&s))
    }
}

/// Whether `trace_stack` is `full` without at most `max_inner` innermost frames.
///
/// Trace block stacks begin at the blocking primitive (`runtime.chansend1`,
/// `sync.(*Mutex).Lock`) while dumps also print the runtime frames below it
/// (`runtime.gopark`, ...), so the trace stack is an ancestor of the dump's
/// in the shared prefix tree. A predicate for [`CrossIndex::find`].
pub fn stack_is_outer_part(
    table: &StackTable,
    trace_stack: StackId,
    full: StackId,
    max_inner: u32,
) -> bool {
    if trace_stack.is_empty() {
        return false;
    }
    let mut at = full;
    for _ in 0..=max_inner {
        if at == trace_stack {
            return true;
        }
        if at.is_empty() {
            return false;
        }
        at = table.parent(at);
    }
    false
}

/// Whether two stacks are the same call path seen by different tools.
///
/// A trace's block stack starts at the blocking primitive
/// (`runtime.chansend1`); a `debug=2` dump hides runtime frames and starts
/// one frame further out; a pprof goroutine profile shows `runtime.gopark`
/// and friends inside and `runtime.goexit` outside. So: drop a
/// `runtime.goexit` root from both, then the shorter must be the outer part
/// of the longer, frame for frame, with at most `max_extra_inner` more
/// frames on the longer one. Use as a [`CrossIndex::find`] predicate.
pub fn same_call_path(table: &StackTable, a: StackId, b: StackId, max_extra_inner: usize) -> bool {
    let outer_first = |s: StackId| {
        let mut v = table.frames_outer_first(s);
        if v.first()
            .is_some_and(|&f| table.function(f) == "runtime.goexit")
        {
            v.remove(0);
        }
        v
    };
    let (fa, fb) = (outer_first(a), outer_first(b));
    let (short, long) = if fa.len() <= fb.len() {
        (fa, fb)
    } else {
        (fb, fa)
    };
    !short.is_empty()
        && long.len() - short.len() <= max_extra_inner
        && long.get(..short.len()) == Some(&short[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_reasons_from_frames() {
        let mut t = StackTable::default();
        let park = t.intern_frame("runtime.gopark", "runtime/proc.go", 1);
        let recv = t.intern_frame("runtime.chanrecv1", "runtime/chan.go", 2);
        let main = t.intern_frame("main.worker", "main.go", 3);
        let s = t.intern_inner_first(&[park, recv, main]);
        assert_eq!(
            crate::analysis::wait::infer_wait_reason(&t, s),
            Some(WaitReason::ChanReceive)
        );
        let outer = t.intern_inner_first(&[recv, main]);
        assert!(stack_is_outer_part(&t, outer, s, 2));
        assert!(!stack_is_outer_part(&t, s, outer, 2));
        let exit = t.intern_frame("runtime.goexit", "runtime/asm_amd64.s", 1700);
        let pprof_style = t.intern_inner_first(&[park, recv, main, exit]);
        let dump_style = t.intern_inner_first(&[main]);
        assert!(same_call_path(&t, outer, pprof_style, 2));
        assert!(same_call_path(&t, outer, dump_style, 2));
        assert!(!same_call_path(&t, outer, pprof_style, 0));
        let other = t.intern_frame("main.other", "main.go", 9);
        let elsewhere = t.intern_inner_first(&[recv, other]);
        assert!(!same_call_path(&t, outer, elsewhere, 4));
        let only = t.intern_inner_first(&[main]);
        assert_eq!(wait_reason(&t, StrId::EMPTY, only), WaitReason::Unknown);
    }
}
