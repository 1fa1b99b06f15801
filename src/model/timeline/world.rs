//! What a trace records besides goroutine lanes: P lanes, garbage
//! collections and stop-the-world pauses, CPU samples and the user's own
//! tasks, regions and logs.

use serde::Serialize;

use super::{GoIndex, Trace};
use crate::model::intern::StrId;
use crate::model::stack::StackId;

/// A closed time interval in trace nanoseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeSpan {
    /// Where the interval begins, in trace nanoseconds.
    pub start_ns: i64,
    /// Where it ends, in trace nanoseconds.
    pub end_ns: i64,
}

/// A P busy on a thread (ProcStart to ProcStop, or to a steal).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProcSpan {
    /// The P (logical processor) number.
    pub p: u32,
    /// OS thread id, where known.
    pub m: Option<u64>,
    /// When the P started running on the thread.
    pub start_ns: i64,
    /// When it stopped (or was stolen), or the window end.
    pub end_ns: i64,
}

/// A stop-the-world pause.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StwSpan {
    /// When the world stopped.
    pub start_ns: i64,
    /// When it started again.
    pub end_ns: i64,
    /// `GC mark termination`, `start trace`, ...
    pub kind: StrId,
}

/// A CPU profile sample recorded into the trace.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CpuSample {
    /// When the sample was taken, in trace nanoseconds.
    pub time_ns: i64,
    /// The goroutine that was running, if any (a sample may land in the runtime
    /// with none).
    pub goroutine: Option<GoIndex>,
    /// The P it ran on, where known.
    pub p: Option<u32>,
    /// The OS thread, where known.
    pub m: Option<u64>,
    /// The sampled stack.
    pub stack: StackId,
}

/// A `runtime/trace` task.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct UserTask {
    /// The task id `runtime/trace` gave it, which regions and logs refer to.
    pub id: u64,
    /// The task it was created under, to nest tasks.
    pub parent: Option<u64>,
    /// The task type passed to `trace.NewTask`.
    pub name: StrId,
    /// `None` if it began before the window.
    pub start_ns: Option<i64>,
    /// `None` if it had not ended when the window closed.
    pub end_ns: Option<i64>,
    /// The goroutine that created it.
    pub goroutine: Option<GoIndex>,
    /// Where it was created.
    pub stack: StackId,
}

/// A `runtime/trace` region on one goroutine.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct UserRegion {
    /// The goroutine the region ran on (regions never span goroutines).
    pub goroutine: Option<GoIndex>,
    /// The task it belongs to; 0 for the background task.
    pub task: u64,
    /// The region type passed to `trace.WithRegion`/`StartRegion`.
    pub name: StrId,
    /// When it began; `None` if before the window.
    pub start_ns: Option<i64>,
    /// When it ended; `None` if still open when the window closed.
    pub end_ns: Option<i64>,
    /// Where it began.
    pub stack: StackId,
}

/// A `trace.Log` record.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct UserLog {
    /// When it was logged, in trace nanoseconds.
    pub time_ns: i64,
    /// The goroutine that logged it.
    pub goroutine: Option<GoIndex>,
    /// The task it was logged under; 0 for none.
    pub task: u64,
    /// The category passed to `trace.Log`.
    pub key: StrId,
    /// The message.
    pub value: StrId,
    /// Where it was logged.
    pub stack: StackId,
}

/// Running spans by P: `(goroutine, span index)` in time order per P.
#[derive(Clone, Debug, Default)]
pub struct PLanes {
    pub(super) lanes: Vec<(u32, Vec<(GoIndex, u32)>)>,
}

impl PLanes {
    /// The Ps that ran goroutines, in order.
    pub fn procs(&self) -> impl Iterator<Item = u32> + '_ {
        self.lanes.iter().map(|(p, _)| *p)
    }

    /// Every run on `p`, in time order.
    pub fn runs(&self, p: u32) -> &[(GoIndex, u32)] {
        self.lanes
            .binary_search_by_key(&p, |(q, _)| *q)
            .ok()
            .and_then(|i| self.lanes.get(i))
            .map_or(&[], |(_, r)| r)
    }

    /// The runs on `p` that overlap `[from_ns, to_ns]`, by binary search.
    pub fn runs_in(&self, trace: &Trace, p: u32, from_ns: i64, to_ns: i64) -> &[(GoIndex, u32)] {
        let runs = self.runs(p);
        let start = |&(g, i): &(GoIndex, u32)| trace.span(g, i as usize).map_or(0, |s| s.start_ns);
        let end = |&(g, i): &(GoIndex, u32)| trace.span(g, i as usize).map_or(0, |s| s.end_ns);
        let lo = runs.partition_point(|r| end(r) < from_ns);
        let hi = runs.partition_point(|r| start(r) <= to_ns).max(lo);
        runs.get(lo..hi).unwrap_or(&[])
    }
}
