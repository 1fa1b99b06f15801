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
use crate::model::{
    FrameId, Goroutine, LabelSetId, Session, Snapshot, StackId, StackTable, StateKind, StrId,
    WaitReason,
};

/// One interval of a lane in one state.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LaneSpan {
    /// Where the span begins on the lane's time axis (ns).
    pub start_ns: i64,
    /// Where it ends; spans of a lane do not overlap, so views binary-search
    /// them.
    pub end_ns: i64,
    /// The coarse state, which picks the span's colour where the reason is
    /// unknown.
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
    /// Where the marker sits on the lane's time axis (ns).
    pub time_ns: i64,
    /// What happened, which picks the marker's shape and tooltip.
    pub kind: EventKind,
    /// Creation site, blocking stack, or unblocking stack.
    pub stack: Option<StackId>,
    /// The wait reason of a block, in the one vocabulary (what the input
    /// stated, made precise by the stack; `Unknown` where neither says).
    pub reason: WaitReason,
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
    /// Go's goroutine id where the input has one, to match the lane with a dump
    /// or a trace.
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
    /// When the goroutine came into being (or the lane starts), for the lane's
    /// tooltip and ordering.
    pub created_ns: Option<i64>,
    /// When it exited, where it did within the window: a lane that ends is not
    /// a leak.
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
    /// Nanoseconds relative to a single dump without a capture time (the
    /// dump at 0): its wait ages are the only clock it has, so a lane
    /// starts where its goroutine began to wait, minutes before the dump.
    BeforeDump,
}

/// An instant on a [`TimeAxis::BeforeDump`] axis as people read it: `dump`
/// at 0, else how long before it (`−5 min`, `−1 h 30 min`, `−15 s`).
pub fn before_dump_label(t_ns: i64) -> String {
    if t_ns >= 0 {
        return "dump".to_owned();
    }
    let secs = t_ns.unsigned_abs() / 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("−{s} s"),
        (0, m, 0) => format!("−{m} min"),
        (0, m, s) => format!("−{m} min {s} s"),
        (h, 0, _) => format!("−{h} h"),
        (h, m, _) => format!("−{h} h {m} min"),
    }
}

/// What the timeline draws.
pub trait LaneSource: Send + Sync {
    /// How many lanes there are, for sizing the scroll area.
    fn lane_count(&self) -> usize;
    /// The summary of one lane, what the timeline labels it with.
    fn lane(&self, lane: usize) -> LaneInfo;
    /// Visits the spans of a lane overlapping `[t0, t1)`, in time order.
    fn spans(&self, lane: usize, t0: i64, t1: i64, visit: &mut dyn FnMut(LaneSpan));
    /// Events of a lane within `[t0, t1]`, in time order.
    fn events(&self, lane: usize, t0: i64, t1: i64) -> Vec<LaneEvent>;
    /// The whole time range.
    fn window(&self) -> (i64, i64);
    /// How the time axis is labelled: wall time, trace time or snapshot names.
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
    let before_dump = lanes.axis() == TimeAxis::BeforeDump;
    match waited {
        Some(d) if before_dump => format!(
            "{state}, waiting for {} by the dump",
            crate::model::time::format_duration_ns(d)
        ),
        Some(d) => format!(
            "{state}, waiting for {} by the last snapshot",
            crate::model::time::format_duration_ns(d)
        ),
        // Go prints a wait age from one minute on: a waiting goroutine
        // without one began to wait less than a minute before the dump.
        None if before_dump && span.kind == StateKind::Waiting => format!(
            "{state}, waiting less than a minute by the dump (dumps print ages from one minute)"
        ),
        None if before_dump => format!("{state} (as the dump shows it)"),
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

/// Nanoseconds in a minute, the unit of a dump's wait age.
const MINUTE_NS: i64 = 60_000_000_000;

/// Who a lane follows from snapshot to snapshot: the goroutine id where the
/// dialect prints one, else the k-th goroutine of a group (aggregated
/// dialects only count them).
#[derive(Hash, PartialEq, Eq, Clone, Copy)]
enum Identity {
    Id(u64),
    Nth { group: u32, k: u64 },
}

/// The group of record `record` of series snapshot `snapshot`.
fn group_of(analysis: &Analysis, snapshot: usize, record: u32) -> Option<u32> {
    analysis
        .record_groups(snapshot)
        .get(record as usize)
        .copied()
}

/// The sightings of every goroutine of the series, one list per
/// [`Identity`] in first-seen order.
fn follow_goroutines(snaps: &[&Snapshot], analysis: &Analysis) -> Vec<Vec<Sighting>> {
    let mut lane_of: FxHashMap<Identity, usize> = FxHashMap::default();
    let mut lanes: Vec<Vec<Sighting>> = Vec::new();
    for (si, snap) in snaps.iter().enumerate() {
        let mut nth: FxHashMap<u32, u64> = FxHashMap::default();
        for (ri, g) in snap.goroutines().iter().enumerate() {
            let group = group_of(analysis, si, ri as u32).unwrap_or(u32::MAX);
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
                let lane = *lane_of.entry(id).or_insert_with(|| {
                    lanes.push(Vec::new());
                    lanes.len() - 1
                });
                lanes[lane].push(Sighting {
                    snapshot: si,
                    record: ri as u32,
                });
            }
        }
    }
    lanes
}

/// Orders lanes by their group's rank among the suspects (the likeliest
/// leak first), then by first sighting; the sort is stable, so lanes that
/// tie keep their first-seen order.
fn order_by_suspect_rank(lanes: &mut [Vec<Sighting>], analysis: &Analysis) {
    let mut rank = vec![usize::MAX; analysis.groups.len()];
    for (r, s) in analysis.suspects.iter().enumerate() {
        rank[s.group] = r;
    }
    lanes.sort_by_key(|sightings| {
        let first = &sightings[0];
        let group = group_of(analysis, first.snapshot, first.record)
            .map_or(usize::MAX, |g| rank[g as usize]);
        (group, first.snapshot)
    });
}

/// The time of every series snapshot and what a lane's ends are made of.
struct Clock {
    times_ns: Vec<i64>,
    /// Whether every snapshot has a capture time; else they are one
    /// [`STEP_NS`] apart and wait ages place nothing.
    wall: bool,
    /// One snapshot without a capture time: the dump is at 0 and wait ages
    /// place lanes before it (the only clock a lone dump has).
    before_dump: bool,
    /// The mean time between snapshots, for the margins at both ends.
    step: i64,
    /// How many snapshots are loaded (the last one is `times_ns[n - 1]`).
    n: usize,
}

impl Clock {
    /// The clock of the series; `n` (at least 1) loaded snapshots, whose
    /// dialect prints wait ages where `ages` (only then does a waiting
    /// goroutine without an age mean "under a minute").
    fn new(analysis: &Analysis, n: usize, ages: bool) -> Clock {
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
        // Capture times come from files and manifests: saturating
        // arithmetic keeps forged ones from overflowing.
        let step = if n > 1 {
            (times_ns[n - 1].saturating_sub(times_ns[0]) / (n as i64 - 1)).max(1)
        } else {
            STEP_NS
        };
        Clock {
            times_ns,
            wall,
            before_dump: !wall && n == 1 && ages,
            step,
            n,
        }
    }

    fn first(&self) -> i64 {
        self.times_ns[0]
    }

    fn last(&self) -> i64 {
        self.times_ns[self.n - 1]
    }

    /// A dump's wait age in nanoseconds. Wait ages place events only on a
    /// real clock (capture times, or a lone dump's own "before the dump"):
    /// between snapshots spaced nominally they would mean nothing.
    fn age_ns(&self, minutes: Option<u32>) -> Option<i64> {
        minutes
            .filter(|&m| (self.wall || self.before_dump) && m > 0)
            .map(|m| i64::from(m).saturating_mul(MINUTE_NS))
    }

    /// Where a lane starts: when the goroutine began waiting, if the dump
    /// says; else shortly before it was first seen (it existed by then).
    fn lane_start(&self, first: &Sighting, wait_minutes: Option<u32>) -> i64 {
        let t_first = self.times_ns[first.snapshot];
        match self.age_ns(wait_minutes) {
            Some(age) => t_first.saturating_sub(age),
            _ => {
                if first.snapshot == 0 {
                    t_first.saturating_sub(self.step / 4)
                } else {
                    // Appeared since the previous snapshot.
                    let prev = self.times_ns[first.snapshot - 1];
                    prev.saturating_add(t_first.saturating_sub(prev) / 2)
                }
            }
        }
    }

    /// Whether a goroutine last seen in `last` is still there at the end.
    fn alive_at_end(&self, last: &Sighting) -> bool {
        last.snapshot == self.n - 1
    }

    /// Where a lane last seen in `last` ends: its last state holds until
    /// halfway to the next snapshot, or a margin past the last one.
    fn lane_end(&self, last: &Sighting) -> i64 {
        if self.alive_at_end(last) {
            self.end()
        } else {
            let at = self.times_ns[last.snapshot];
            at.saturating_add(self.times_ns[last.snapshot + 1].saturating_sub(at) / 2)
        }
    }

    /// The end of the window: a margin past the last snapshot.
    fn end(&self) -> i64 {
        self.last().saturating_add(self.step / 4)
    }
}

/// A goroutine's wait reason from its state and stack. Each (state, stack)
/// pair is read once, however many goroutines share it.
struct Reasons<'t> {
    table: &'t StackTable,
    cache: FxHashMap<(StrId, StackId), WaitReason>,
}

impl Reasons<'_> {
    fn of(&mut self, g: &Goroutine) -> WaitReason {
        let table = self.table;
        *self
            .cache
            .entry((g.state, g.stack))
            .or_insert_with(|| super::wait::wait_reason(table, g.state, g.stack))
    }
}

/// What every lane is built from.
struct Series<'a> {
    snaps: Vec<&'a Snapshot>,
    analysis: &'a Analysis,
    clock: Clock,
}

impl Series<'_> {
    fn goroutine(&self, s: &Sighting) -> &Goroutine {
        &self.snaps[s.snapshot].goroutines()[s.record as usize]
    }
}

impl SnapshotLanes {
    /// Lanes for every goroutine of the analysis' series, ordered by the
    /// suspects' ranking (the likeliest leak first), then by first sighting.
    pub fn build(session: &Session, analysis: &Analysis) -> SnapshotLanes {
        let snaps = analysis.series_snapshots(session);
        if snaps.is_empty() {
            return SnapshotLanes::default();
        }
        let mut lanes = follow_goroutines(&snaps, analysis);
        order_by_suspect_rank(&mut lanes, analysis);
        let ages = snaps
            .iter()
            .all(|s| s.source.format == crate::model::Format::GoroutineDump);
        let clock = Clock::new(analysis, snaps.len(), ages);
        let series = Series {
            snaps,
            analysis,
            clock,
        };
        let mut reasons = Reasons {
            table: &session.stacks,
            cache: FxHashMap::default(),
        };
        let mut out = SnapshotLanes {
            times_ns: series.clock.times_ns.clone(),
            by_group: vec![Vec::new(); analysis.groups.len()],
            ..SnapshotLanes::default()
        };
        for sightings in &lanes {
            out.push_lane(&series, &mut reasons, sightings);
        }
        out.link_creators();
        let window_start = out
            .lanes
            .iter()
            .filter_map(|l| l.info.created_ns)
            .fold(series.clock.first(), i64::min);
        out.window = (window_start, series.clock.end());
        out.axis = Some(if series.clock.wall {
            TimeAxis::Wall
        } else if series.clock.before_dump {
            TimeAxis::BeforeDump
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

    /// One goroutine's lane: a span per sighting, the events its records
    /// tell of, and its summary.
    fn push_lane(
        &mut self,
        series: &Series<'_>,
        reasons: &mut Reasons<'_>,
        sightings: &[Sighting],
    ) {
        let clock = &series.clock;
        let lane_idx = self.lanes.len() as u32;
        let first = &sightings[0];
        let last = &sightings[sightings.len() - 1];
        let g0 = series.goroutine(first);
        let gl = series.goroutine(last);
        let group = group_of(series.analysis, last.snapshot, last.record);
        let start = clock.lane_start(first, g0.wait_minutes);
        let end = clock.lane_end(last);
        let alive_at_end = clock.alive_at_end(last);

        let span_start = self.spans.len() as u32;
        let mut from = start;
        for s in sightings {
            let g = series.goroutine(s);
            let to = clock.times_ns[s.snapshot];
            self.spans.push(LaneSpan {
                start_ns: from,
                end_ns: to.max(from.saturating_add(1)),
                kind: g.kind,
                reason: reasons.of(g),
            });
            from = to.max(from.saturating_add(1));
        }
        // The last state holds until the lane ends.
        self.spans.push(LaneSpan {
            start_ns: from,
            end_ns: end.max(from.saturating_add(1)),
            kind: gl.kind,
            reason: reasons.of(gl),
        });

        let event_start = self.events.len() as u32;
        let last_reason = reasons.of(gl);
        self.push_events(
            clock,
            (g0, gl, last_reason),
            last,
            start,
            (!alive_at_end).then_some(end),
        );
        self.lanes.push(Lane {
            info: LaneInfo {
                goroutine: gl.id,
                group,
                trace_group: None,
                labels: gl.labels,
                label_text: StrId::EMPTY,
                function: frames::leak_site(reasons.table, gl.stack),
                stack: gl.stack,
                created_ns: Some(start),
                ended_ns: (!alive_at_end).then_some(end),
            },
            spans: span_start..self.spans.len() as u32,
            events: event_start..self.events.len() as u32,
        });
        if let Some(g) = group
            && let Some(v) = self.by_group.get_mut(g as usize)
        {
            v.push(lane_idx);
        }
    }

    /// The events of one lane, in time order: created (where the dump
    /// names the creator), blocked (where it is last seen waiting, with
    /// how long) and ended (where a later snapshot no longer has it).
    fn push_events(
        &mut self,
        clock: &Clock,
        (g0, gl, last_reason): (&Goroutine, &Goroutine, WaitReason),
        last: &Sighting,
        start: i64,
        ended: Option<i64>,
    ) {
        let event_start = self.events.len();
        let event = |time_ns, kind| LaneEvent {
            time_ns,
            kind,
            stack: None,
            reason: WaitReason::Unknown,
            other_lane: None,
            other_goroutine: None,
            duration_ns: None,
        };
        if let Some(created_by) = g0.created_by {
            self.events.push(LaneEvent {
                stack: Some(created_by),
                other_goroutine: g0.creator_id,
                ..event(start, EventKind::Created)
            });
        }
        if gl.kind == StateKind::Waiting {
            let seen_at = clock.times_ns[last.snapshot];
            let since = match clock.age_ns(gl.wait_minutes) {
                Some(age) => seen_at.saturating_sub(age),
                _ => start,
            };
            // How long, as the dump says (`, N minutes`), else as seen.
            let waited = match gl.wait_minutes {
                Some(m) if m > 0 => i64::from(m).saturating_mul(MINUTE_NS),
                _ if clock.wall => seen_at.saturating_sub(since.max(start)),
                _ => 0,
            };
            self.events.push(LaneEvent {
                stack: Some(gl.stack),
                reason: last_reason,
                duration_ns: (waited > 0).then_some(waited),
                ..event(since.max(start), EventKind::Blocked)
            });
        }
        if let Some(end) = ended {
            self.events.push(event(end, EventKind::Ended));
        }
        self.events[event_start..].sort_by_key(|e| e.time_ns);
    }

    /// Links creation events to their creator's lane where it is loaded
    /// (the last lane of a goroutine id, should one repeat).
    fn link_creators(&mut self) {
        let mut id_to_lane: FxHashMap<u64, u32> = FxHashMap::default();
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(id) = lane.info.goroutine {
                id_to_lane.insert(id, i as u32);
            }
        }
        for e in &mut self.events {
            if e.kind == EventKind::Created
                && let Some(id) = e.other_goroutine
            {
                e.other_lane = id_to_lane.get(&id).copied();
            }
        }
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
