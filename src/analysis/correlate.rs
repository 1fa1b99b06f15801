//! Ties a Go execution trace to the snapshots of the same service.
//!
//! A stack group from a dump or a profile and a goroutine of a trace are
//! the same kind of goroutine when the trace saw it block (or start) on the
//! same call path. Tools print that path differently — a trace's block
//! stack starts at the blocking primitive, `debug=2` hides runtime frames,
//! profiles keep `runtime.gopark` — so matching goes through
//! [`trace::same_call_path`], evaluated once per distinct trace stack.

use super::frames;
use super::growth::{self, Growth};
use super::trace::{self, CrossIndex, TraceLeakGroup, TraceSummary};
use super::{Analysis, Group};
use crate::model::timeline::{GoIndex, GoState, Trace};
use crate::model::{FrameId, Session, StackTable};

/// Extra innermost frames one tool may show and another not on the same
/// call path (runtime and wait-wrapper frames around a blocking call).
const MAX_EXTRA_INNER: usize = 6;

/// A trace leak group, measured like a snapshot group.
#[derive(Clone, Debug)]
pub struct TraceSuspect {
    /// Index into [`TraceAnalysis::leaks`].
    pub leak: usize,
    /// Where they block, in the code that matters.
    pub leak_site: Option<FrameId>,
    /// Growth of the group's count over the trace window.
    pub growth: Growth,
    /// Members that outlived a tenth of the window: created in it, never
    /// ended, and not merely requests in flight when it closed.
    pub stuck: u64,
    /// Waiting at the end with at least two stuck members, in code that is
    /// not the runtime's own (GC workers, the trace reader): goroutines
    /// piling up at one site.
    pub growing: bool,
}

/// Members of a leak group that lived a tenth of the window or more.
fn stuck_members(t: &Trace, g: &TraceLeakGroup) -> u64 {
    let (w0, w1) = (t.window.start_ns, t.window.end_ns);
    let window = (w1 - w0).max(1);
    g.goroutines
        .iter()
        .filter(|&&gi| {
            let born = t.creation(gi).map_or(w0, |c| c.time_ns);
            // Wide: a damaged trace's window can span most of `i64`.
            (i128::from(w1) - i128::from(born)) * 10 >= i128::from(window)
        })
        .count() as u64
}

/// What a trace says, and how it lines up with the session's stack groups.
#[derive(Clone, Debug)]
pub struct TraceAnalysis {
    /// Index of the trace in [`Session::inputs`].
    pub input: usize,
    /// What the trace holds (version, events, goroutines created, ended,
    /// blocked at the end), for `inspect` and the report.
    pub summary: TraceSummary,
    /// Goroutines created in the window and alive at its end, grouped.
    pub leaks: Vec<TraceLeakGroup>,
    /// The leak groups ranked: growing first, then by size.
    pub suspects: Vec<TraceSuspect>,
    /// The trace's goroutines by start, creation and blocking stack, so stack
    /// groups are matched without scanning spans.
    pub index: CrossIndex,
    /// For each snapshot stack group ([`Analysis::groups`]), the trace
    /// goroutines that started or blocked on its call path.
    pub group_goroutines: Vec<Vec<GoIndex>>,
    window_ns: i64,
}

impl TraceAnalysis {
    /// Length of the trace window.
    pub fn summary_window_ns(&self) -> i64 {
        self.window_ns
    }
}

/// The trace goroutines on a group's call path (by start or blocking stack).
pub fn goroutines_of_group(
    trace: &Trace,
    index: &CrossIndex,
    table: &StackTable,
    group: &Group,
) -> Vec<GoIndex> {
    index
        .find(trace, |s| {
            trace::same_call_path(table, s, group.stack, MAX_EXTRA_INNER)
        })
        .into_iter()
        .filter(|m| m.by_blocking || m.by_start)
        .map(|m| m.goroutine)
        .collect()
}

/// Analyses every trace of a session against its snapshot groups.
pub fn analyze_traces(session: &Session, analysis: &Analysis) -> Vec<TraceAnalysis> {
    let table = &session.stacks;
    session
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| input.as_trace().map(|t| (i, t)))
        .map(|(input, t)| {
            let summary = trace::summarize(t, table);
            let leaks = trace::trace_leaks(t, table);
            let mut suspects: Vec<TraceSuspect> = leaks
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let counts: Vec<u64> = g.counts.iter().map(|&(_, c)| c).collect();
                    let secs: Vec<f64> = g.counts.iter().map(|&(t, _)| t as f64 / 1e9).collect();
                    let growth = growth::growth(&counts, Some(&secs));
                    let stack = if g.blocking_stack.is_empty() {
                        g.start_stack
                    } else {
                        g.blocking_stack
                    };
                    let stuck = stuck_members(t, g);
                    let runtime_entry = frames::is_runtime(&g.entry_function);
                    TraceSuspect {
                        leak: i,
                        leak_site: frames::leak_site(table, stack),
                        growing: g.state == GoState::Waiting && !runtime_entry && stuck >= 2,
                        stuck,
                        growth,
                    }
                })
                .collect();
            suspects.sort_by(|a, b| {
                b.growing
                    .cmp(&a.growing)
                    .then(b.stuck.cmp(&a.stuck))
                    .then(
                        leaks[b.leak]
                            .goroutines
                            .len()
                            .cmp(&leaks[a.leak].goroutines.len()),
                    )
                    .then(a.leak.cmp(&b.leak))
            });
            let index = CrossIndex::build(t);
            let group_goroutines = analysis
                .groups
                .iter()
                .map(|g| goroutines_of_group(t, &index, table, g))
                .collect();
            TraceAnalysis {
                input,
                summary,
                leaks,
                suspects,
                index,
                group_goroutines,
                window_ns: t.window.end_ns - t.window.start_ns,
            }
        })
        .collect()
}
