//! Goroutine lanes for the timeline, independent of the drawing code.
//!
//! The timeline draws any [`LaneSource`]: a Go execution trace gives real
//! state changes; without one, [`SnapshotLanes`] places the goroutines of
//! the snapshots over their capture times. A goroutine is followed across
//! snapshots by its id where the dialect prints ids (`debug=2`); in
//! aggregated dialects (protobuf, `debug=1`) the k-th goroutine of a group
//! stands for "the k-th oldest", so growth shows as lanes appearing. Wait
//! ages (`, 15 minutes`) start a lane before its first snapshot, at the
//! moment the goroutine began to wait.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::{Analysis, frames};
use crate::model::{FrameId, LabelSetId, Session, StackId, StateKind, StrId, WaitReason};

/// One interval of a lane in one state.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LaneSpan {
    pub start_ns: i64,
    pub end_ns: i64,
    pub kind: StateKind,
    /// What it was doing, in the one vocabulary of dumps and traces.
    pub reason: WaitReason,
}

/// What a lane marker stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The goroutine was created (by `creator_lane`, with `stack` the creation site).
    Created,
    /// It blocked at `stack` for `reason`.
    Blocked,
    /// It was unblocked (by `creator_lane`, the waker, where known).
    Unblocked,
    /// It exited.
    Ended,
}

/// A point event on a lane.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LaneEvent {
    pub time_ns: i64,
    pub kind: EventKind,
    /// Creation site, blocking stack, or unblocking stack.
    pub stack: Option<StackId>,
    /// The wait reason of a block.
    pub reason: StrId,
    /// The other goroutine's lane: the creator of a creation, the waker of an unblock.
    pub other_lane: Option<u32>,
    /// The other goroutine's id, where the lane of it is not loaded.
    pub other_goroutine: Option<u64>,
    /// How long a block lasted, where it ended in the window.
    pub duration_ns: Option<i64>,
}

/// Summary of one lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneInfo {
    pub goroutine: Option<u64>,
    /// The stack group the goroutine belongs to, when it is in one.
    pub group: Option<u32>,
    /// The trace leak group it belongs to (trace lanes only).
    pub trace_group: Option<u32>,
    /// pprof labels where the input records them (profiles, `debug=1`,
    /// Go 1.27 dumps; a trace's goroutine label as one `label` value).
    pub labels: LabelSetId,
    /// A trace's goroutine label text.
    pub label_text: StrId,
    /// The function to label it with (leak site or entry).
    pub function: Option<FrameId>,
    /// Its most telling stack (last blocking stack, or its dump stack).
    pub stack: StackId,
    pub created_ns: Option<i64>,
    pub ended_ns: Option<i64>,
}

/// How the time axis is labelled.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeAxis {
    /// Unix nanoseconds (capture times).
    Wall,
    /// Nanoseconds from the start of a trace.
    TraceRelative,
    /// Snapshots without capture times, one unit apart, with their names.
    Snapshots(Vec<String>),
}

/// What the timeline draws.
pub trait LaneSource: Send + Sync {
    fn lane_count(&self) -> usize;
    fn lane(&self, lane: usize) -> LaneInfo;
    /// Visits the spans of a lane overlapping `[t0, t1)`, in time order.
    fn spans(&self, lane: usize, t0: i64, t1: i64, visit: &mut dyn FnMut(LaneSpan));
    /// Events of a lane within `[t0, t1]`, in time order.
    fn events(&self, lane: usize, t0: i64, t1: i64) -> Vec<LaneEvent>;
    /// The whole time range.
    fn window(&self) -> (i64, i64);
    fn axis(&self) -> TimeAxis;
    /// Lanes of a group, for cross-highlighting.
    fn lanes_of_group(&self, group: u32) -> &[u32];
    /// Whether a span's length is how long the goroutine was in that state.
    /// A trace measures it; snapshots only see a state at capture times,
    /// so their spans are drawn to span the gaps and their lengths mean
    /// nothing (how long a goroutine waited is in the wait ages instead).
    fn span_lengths_measured(&self) -> bool {
        true
    }
}

fn kind_name(k: StateKind) -> &'static str {
    match k {
        StateKind::Running => "running",
        StateKind::Runnable => "runnable",
        StateKind::Waiting => "waiting",
        StateKind::Syscall => "syscall",
        StateKind::Other => "other",
        StateKind::Unknown => "state unknown",
    }
}

/// What the timeline says of a span under the pointer: its state, and how
/// long it lasted where that is known. A trace measures the span; of a
/// snapshot's span only the wait age the dump printed is known (a
/// goroutine seen once, with no age, gets no duration at all).
pub fn span_description(
    lanes: &dyn LaneSource,
    table: &crate::model::StackTable,
    lane: usize,
    span: &LaneSpan,
) -> String {
    let state = if span.reason == WaitReason::Unknown {
        kind_name(span.kind)
    } else {
        span.reason.text(table)
    };
    if lanes.span_lengths_measured() {
        return format!(
            "{state} for {}",
            crate::model::time::format_duration_ns(span.end_ns - span.start_ns)
        );
    }
    let (w0, w1) = lanes.window();
    let waited = lanes
        .events(lane, w0, w1)
        .into_iter()
        .rev()
        .find(|e| e.kind == EventKind::Blocked)
        .and_then(|e| e.duration_ns)
        .filter(|_| span.kind == StateKind::Waiting);
    match waited {
        Some(d) => format!(
            "{state}, waiting for {} by the last snapshot",
            crate::model::time::format_duration_ns(d)
        ),
        None => format!("{state} (as a snapshot shows it)"),
    }
}

/// Binary-searches the spans (sorted by start, not overlapping) that touch `[t0, t1)`.
pub fn visible_spans(spans: &[LaneSpan], t0: i64, t1: i64) -> &[LaneSpan] {
    let first = spans.partition_point(|s| s.end_ns <= t0);
    let last = spans.partition_point(|s| s.start_ns < t1);
    spans.get(first..last.max(first)).unwrap_or(&[])
}

#[derive(Clone, Debug)]
struct Lane {
    info: LaneInfo,
    spans: Range<u32>,
    events: Range<u32>,
}

/// Goroutines of the snapshot series laid out over capture times.
#[derive(Clone, Debug, Default)]
pub struct SnapshotLanes {
    lanes: Vec<Lane>,
    spans: Vec<LaneSpan>,
    events: Vec<LaneEvent>,
    by_group: Vec<Vec<u32>>,
    /// Time of each series snapshot.
    pub times_ns: Vec<i64>,
    window: (i64, i64),
    axis: Option<TimeAxis>,
}

/// Where a goroutine was seen: (series snapshot, record index).
#[derive(Clone, Debug)]
struct Sighting {
    snapshot: usize,
    record: u32,
}

/// Nanoseconds per snapshot step when capture times are unknown.
const STEP_NS: i64 = 60_000_000_000;

impl SnapshotLanes {
    /// Lanes for every goroutine of the analysis' series, ordered by the
    /// suspects' ranking (the likeliest leak first), then by first sighting.
    pub fn build(session: &Session, analysis: &Analysis) -> SnapshotLanes {
        let snaps = analysis.series_snapshots(session);
        let n = snaps.len();
        if n == 0 {
            return SnapshotLanes::default();
        }
        let wall = analysis.series.iter().all(|p| p.captured_at_ns.is_some());
        let times_ns: Vec<i64> = analysis
            .series
            .iter()
            .enumerate()
            .map(|(i, p)| match (wall, p.captured_at_ns) {
                (true, Some(t)) => t,
                _ => i as i64 * STEP_NS,
            })
            .collect();
        let first_t = times_ns[0];
        let last_t = times_ns[n - 1];
        // Capture times come from files and manifests: saturating
        // arithmetic keeps forged ones from overflowing.
        let step = if n > 1 {
            (last_t.saturating_sub(first_t) / (n as i64 - 1)).max(1)
        } else {
            STEP_NS
        };
        // Group of every record.
        let group_of = |snapshot: usize, record: u32| -> Option<u32> {
            analysis
                .record_groups(snapshot)
                .get(record as usize)
                .copied()
        };
        // Identity → sightings, in first-seen order.
        #[derive(Hash, PartialEq, Eq, Clone, Copy)]
        enum Identity {
            Id(u64),
            Nth { group: u32, k: u64 },
        }
        let mut order: Vec<Identity> = Vec::new();
        let mut seen: FxHashMap<Identity, Vec<Sighting>> = FxHashMap::default();
        for (si, snap) in snaps.iter().enumerate() {
            let mut nth: FxHashMap<u32, u64> = FxHashMap::default();
            for (ri, g) in snap.goroutines().iter().enumerate() {
                let group = group_of(si, ri as u32).unwrap_or(u32::MAX);
                let ids: Vec<Identity> = match g.id {
                    Some(id) => vec![Identity::Id(id)],
                    None => {
                        let k = nth.entry(group).or_default();
                        let v = (0..g.count)
                            .map(|j| Identity::Nth { group, k: *k + j })
                            .collect();
                        *k += g.count;
                        v
                    }
                };
                for id in ids {
                    let s = seen.entry(id).or_insert_with(|| {
                        order.push(id);
                        Vec::new()
                    });
                    s.push(Sighting {
                        snapshot: si,
                        record: ri as u32,
                    });
                }
            }
        }
        // Rank of each group in the suspects list, to order lanes.
        let mut rank = vec![usize::MAX; analysis.groups.len()];
        for (r, s) in analysis.suspects.iter().enumerate() {
            rank[s.group] = r;
        }
        let mut lanes_raw: Vec<(usize, usize, Identity)> = order
            .iter()
            .map(|id| {
                let s = &seen[id];
                let first = &s[0];
                let group =
                    group_of(first.snapshot, first.record).map_or(usize::MAX, |g| rank[g as usize]);
                (group, first.snapshot, *id)
            })
            .collect();
        lanes_raw.sort_by_key(|(r, first, _)| (*r, *first));

        let table = &session.stacks;
        // Each (state, stack) pair is read once, however many goroutines share it.
        let mut reasons: FxHashMap<(StrId, StackId), WaitReason> = FxHashMap::default();
        let mut reason_of = |g: &crate::model::Goroutine| {
            *reasons
                .entry((g.state, g.stack))
                .or_insert_with(|| super::wait::wait_reason(table, g.state, g.stack))
        };
        let mut out = SnapshotLanes {
            times_ns: times_ns.clone(),
            by_group: vec![Vec::new(); analysis.groups.len()],
            ..SnapshotLanes::default()
        };
        let mut window_start = first_t;
        let mut id_to_lane: FxHashMap<u64, u32> = FxHashMap::default();
        for (_, _, identity) in &lanes_raw {
            let sightings = &seen[identity];
            let lane_idx = out.lanes.len() as u32;
            let first = &sightings[0];
            let last = &sightings[sightings.len() - 1];
            let g0 = &snaps[first.snapshot].goroutines()[first.record as usize];
            let gl = &snaps[last.snapshot].goroutines()[last.record as usize];
            let group = group_of(last.snapshot, last.record);
            // Start: when it began waiting, if the dump says; else shortly
            // before it was first seen (it existed by then).
            let t_first = times_ns[first.snapshot];
            // Wait ages place events only on a real clock: without capture
            // times the snapshots are spaced nominally.
            let age_ns = |m: Option<u32>| {
                m.filter(|&m| wall && m > 0)
                    .map(|m| i64::from(m).saturating_mul(60_000_000_000))
            };
            let start = match age_ns(g0.wait_minutes) {
                Some(age) => t_first.saturating_sub(age),
                _ => {
                    if first.snapshot == 0 {
                        t_first.saturating_sub(step / 4)
                    } else {
                        // Appeared since the previous snapshot.
                        let prev = times_ns[first.snapshot - 1];
                        prev.saturating_add(t_first.saturating_sub(prev) / 2)
                    }
                }
            };
            window_start = window_start.min(start);
            let span_start = out.spans.len() as u32;
            let mut from = start;
            for s in sightings {
                let g = &snaps[s.snapshot].goroutines()[s.record as usize];
                let to = times_ns[s.snapshot];
                out.spans.push(LaneSpan {
                    start_ns: from,
                    end_ns: to.max(from.saturating_add(1)),
                    kind: g.kind,
                    reason: reason_of(g),
                });
                from = to.max(from.saturating_add(1));
            }
            let alive_at_end = last.snapshot == n - 1;
            // The last state holds until the next snapshot (or the end).
            let tail_end = if alive_at_end {
                last_t.saturating_add(step / 4)
            } else {
                let at = times_ns[last.snapshot];
                at.saturating_add(times_ns[last.snapshot + 1].saturating_sub(at) / 2)
            };
            out.spans.push(LaneSpan {
                start_ns: from,
                end_ns: tail_end.max(from.saturating_add(1)),
                kind: gl.kind,
                reason: reason_of(gl),
            });
            let event_start = out.events.len() as u32;
            if let Some(created_by) = g0.created_by {
                out.events.push(LaneEvent {
                    time_ns: start,
                    kind: EventKind::Created,
                    stack: Some(created_by),
                    reason: StrId::EMPTY,
                    other_lane: None,
                    other_goroutine: g0.creator_id,
                    duration_ns: None,
                });
            }
            if gl.kind == StateKind::Waiting {
                let since = match age_ns(gl.wait_minutes) {
                    Some(age) => times_ns[last.snapshot].saturating_sub(age),
                    _ => start,
                };
                // How long, as the dump says (`, N minutes`), else as seen.
                let waited = match gl.wait_minutes {
                    Some(m) if m > 0 => i64::from(m).saturating_mul(60_000_000_000),
                    _ if wall => times_ns[last.snapshot].saturating_sub(since.max(start)),
                    _ => 0,
                };
                out.events.push(LaneEvent {
                    time_ns: since.max(start),
                    kind: EventKind::Blocked,
                    stack: Some(gl.stack),
                    reason: gl.state,
                    other_lane: None,
                    other_goroutine: None,
                    duration_ns: (waited > 0).then_some(waited),
                });
            }
            if !alive_at_end {
                out.events.push(LaneEvent {
                    time_ns: tail_end,
                    kind: EventKind::Ended,
                    stack: None,
                    reason: StrId::EMPTY,
                    other_lane: None,
                    other_goroutine: None,
                    duration_ns: None,
                });
            }
            out.events[event_start as usize..].sort_by_key(|e| e.time_ns);
            let function = frames::leak_site(table, gl.stack);
            out.lanes.push(Lane {
                info: LaneInfo {
                    goroutine: gl.id,
                    group,
                    trace_group: None,
                    labels: gl.labels,
                    label_text: StrId::EMPTY,
                    function,
                    stack: gl.stack,
                    created_ns: Some(start),
                    ended_ns: (!alive_at_end).then_some(tail_end),
                },
                spans: span_start..out.spans.len() as u32,
                events: event_start..out.events.len() as u32,
            });
            if let Some(g) = group
                && let Some(v) = out.by_group.get_mut(g as usize)
            {
                v.push(lane_idx);
            }
            if let Some(id) = gl.id {
                id_to_lane.insert(id, lane_idx);
            }
        }
        // Link creation events to their creator's lane where it is loaded.
        for e in &mut out.events {
            if e.kind == EventKind::Created
                && let Some(id) = e.other_goroutine
            {
                e.other_lane = id_to_lane.get(&id).copied();
            }
        }
        out.window = (window_start, last_t.saturating_add(step / 4));
        out.axis = Some(if wall {
            TimeAxis::Wall
        } else {
            TimeAxis::Snapshots(
                analysis
                    .series
                    .iter()
                    .map(|p| {
                        let path = &session.inputs[p.input].source().path;
                        crate::text::file_name(path).to_owned()
                    })
                    .collect(),
            )
        });
        out
    }
}

impl LaneSource for SnapshotLanes {
    fn span_lengths_measured(&self) -> bool {
        false
    }

    fn lane_count(&self) -> usize {
        self.lanes.len()
    }

    fn lane(&self, lane: usize) -> LaneInfo {
        self.lanes
            .get(lane)
            .map(|l| l.info.clone())
            .unwrap_or(LaneInfo {
                goroutine: None,
                group: None,
                trace_group: None,
                labels: LabelSetId::NONE,
                label_text: StrId::EMPTY,
                function: None,
                stack: StackId::EMPTY,
                created_ns: None,
                ended_ns: None,
            })
    }

    fn spans(&self, lane: usize, t0: i64, t1: i64, visit: &mut dyn FnMut(LaneSpan)) {
        let Some(l) = self.lanes.get(lane) else {
            return;
        };
        let all = &self.spans[l.spans.start as usize..l.spans.end as usize];
        for s in visible_spans(all, t0, t1) {
            visit(*s);
        }
    }

    fn events(&self, lane: usize, t0: i64, t1: i64) -> Vec<LaneEvent> {
        self.lanes.get(lane).map_or(Vec::new(), |l| {
            self.events[l.events.start as usize..l.events.end as usize]
                .iter()
                .filter(|e| e.time_ns >= t0 && e.time_ns <= t1)
                .copied()
                .collect()
        })
    }

    fn window(&self) -> (i64, i64) {
        self.window
    }

    fn axis(&self) -> TimeAxis {
        self.axis.clone().unwrap_or(TimeAxis::TraceRelative)
    }

    fn lanes_of_group(&self, group: u32) -> &[u32] {
        self.by_group.get(group as usize).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_spans_binary_search() {
        let s = |a, b| LaneSpan {
            start_ns: a,
            end_ns: b,
            kind: StateKind::Running,
            reason: WaitReason::Running,
        };
        let spans = [s(0, 10), s(10, 20), s(20, 30), s(30, 40)];
        assert_eq!(visible_spans(&spans, 12, 25), &spans[1..3]);
        assert_eq!(visible_spans(&spans, 40, 50), &[] as &[LaneSpan]);
        assert_eq!(visible_spans(&spans, -5, 1), &spans[..1]);
    }
}
