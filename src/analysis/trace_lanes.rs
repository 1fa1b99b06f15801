//! Goroutine lanes of an execution trace, for the timeline.
//!
//! Reads spans straight from the trace's packed span table (nothing is
//! copied per span), and precomputes per lane only what every frame needs:
//! the goroutine's label function, its stack, and which stack group it
//! belongs to. Lanes come in the order a leak hunt wants them: goroutines
//! the trace saw pile up first, then those on the call paths of the
//! snapshot suspects, then the rest by creation time.
//!
//! Goroutines already waiting when the trace began are drawn in their
//! state from the first instant. Go 1.22+ traces give their stack there
//! (the reason is told from it), the legacy format gives neither reason nor
//! stack; then a `debug=2` dump of the session that shows the same
//! goroutine (same id, same entry function) says what it waits on, and the
//! runtime's own goroutines are the runtime's family. What stays unknown is
//! drawn as "waiting, reason not recorded", never as another state.

use std::sync::Arc;

use super::Analysis;
use super::correlate::TraceAnalysis;
use super::frames;
use super::lanes::{EventKind, LaneEvent, LaneInfo, LaneSource, LaneSpan, TimeAxis};
use crate::model::timeline::{GoIndex, GoState, Trace};
use rustc_hash::FxHashMap;

use crate::model::{FrameId, Session, StackId, StateKind, StrId, WaitReason};

const NONE: u32 = u32::MAX;

/// Points of the alive-goroutines series over the window.
pub const SERIES_POINTS: usize = 200;

/// The lanes of one trace.
pub struct TraceLanes {
    trace: Arc<Trace>,
    /// Lane → goroutine.
    order: Vec<GoIndex>,
    /// Goroutine index → lane.
    lane_of: Vec<u32>,
    function: Vec<Option<FrameId>>,
    stack: Vec<StackId>,
    /// Snapshot stack group of each lane (first match), or `NONE`.
    group: Vec<u32>,
    /// Trace leak group of each lane, or `NONE`.
    leak: Vec<u32>,
    by_group: Vec<Vec<u32>>,
    by_leak: Vec<Vec<u32>>,
    /// Goroutines alive over the window: (time, count).
    pub alive: Vec<(i64, u64)>,
    /// The wait reason of every (reason, stack) pair spans point at, read
    /// once here rather than per span drawn: a goroutine blocked since
    /// before the window has no stated reason, only its stack.
    reasons: FxHashMap<(StrId, StackId), WaitReason>,
    /// Per lane: what it waited on when the window opened, where its first
    /// span does not say (see the module doc); `Unknown` otherwise.
    before: Vec<WaitReason>,
}

impl TraceLanes {
    /// Lanes of `trace` in leak-hunt order (see the module doc), with each
    /// lane's stack group and trace leak group resolved once so drawing never
    /// looks them up.
    pub fn build(
        trace: Arc<Trace>,
        ta: &TraceAnalysis,
        analysis: &Analysis,
        session: &Session,
    ) -> TraceLanes {
        let table = &session.stacks;
        let t = &*trace;
        let n = t.goroutine_count();
        let mut group = vec![NONE; n];
        for s in &analysis.suspects {
            for &g in ta
                .group_goroutines
                .get(s.group)
                .map_or(&[][..], Vec::as_slice)
            {
                if group[g.index()] == NONE {
                    group[g.index()] = s.group as u32;
                }
            }
        }
        let mut leak = vec![NONE; n];
        for (i, l) in ta.leaks.iter().enumerate() {
            for &g in &l.goroutines {
                leak[g.index()] = i as u32;
            }
        }
        // Ranks for ordering: trace suspects, then snapshot suspects.
        let mut leak_rank = vec![usize::MAX; ta.leaks.len()];
        for (r, s) in ta.suspects.iter().enumerate() {
            leak_rank[s.leak] = r;
        }
        let mut group_rank = vec![usize::MAX; analysis.groups.len()];
        for (r, s) in analysis.suspects.iter().enumerate() {
            group_rank[s.group] = r;
        }
        let created = |g: GoIndex| t.creation(g).map_or(i64::MIN, |c| c.time_ns);
        let mut order: Vec<GoIndex> = t.goroutine_indices().collect();
        order.sort_by_key(|&g| {
            let i = g.index();
            let l = leak[i];
            let tier_leak = if l == NONE {
                usize::MAX
            } else {
                leak_rank[l as usize]
            };
            let gr = group[i];
            let tier_group = if gr == NONE {
                usize::MAX
            } else {
                group_rank[gr as usize]
            };
            (tier_leak, tier_group, created(g), i)
        });
        let mut lane_of = vec![NONE; n];
        for (lane, g) in order.iter().enumerate() {
            lane_of[g.index()] = lane as u32;
        }
        let mut by_group = vec![Vec::new(); analysis.groups.len()];
        for (gi, members) in ta.group_goroutines.iter().enumerate() {
            let mut lanes: Vec<u32> = members.iter().map(|g| lane_of[g.index()]).collect();
            lanes.sort_unstable();
            by_group[gi] = lanes;
        }
        let by_leak = ta
            .leaks
            .iter()
            .map(|l| {
                let mut lanes: Vec<u32> = l.goroutines.iter().map(|g| lane_of[g.index()]).collect();
                lanes.sort_unstable();
                lanes
            })
            .collect();
        // Per lane: the stack that says most (its last wait, else its start).
        let mut function = Vec::with_capacity(n);
        let mut stack = Vec::with_capacity(n);
        let mut lane_group = Vec::with_capacity(n);
        let mut lane_leak = Vec::with_capacity(n);
        for &g in &order {
            let last_wait = t
                .final_span(g)
                .filter(|s| s.state == GoState::Waiting && !s.stack.is_empty())
                .map(|s| s.stack);
            let start = t.goroutine(g).map_or(StackId::EMPTY, |i| i.start_stack);
            let s = last_wait.unwrap_or(start);
            stack.push(s);
            function.push(frames::leak_site(table, s));
            lane_group.push(group[g.index()]);
            lane_leak.push(leak[g.index()]);
        }
        let alive = alive_series(t, t.goroutine_indices());
        let reasons: FxHashMap<(StrId, StackId), WaitReason> = t
            .details()
            .iter()
            .map(|d| {
                let r = super::wait::wait_reason(table, d.reason, d.stack);
                ((d.reason, d.stack), r)
            })
            .collect();
        let before = waits_before_the_window(t, &order, &stack, &reasons, session, analysis);
        TraceLanes {
            before,
            reasons,
            trace,
            order,
            lane_of,
            function,
            stack,
            group: lane_group,
            leak: lane_leak,
            by_group,
            by_leak,
            alive,
        }
    }

    /// Lanes of a trace leak group ([`TraceAnalysis::leaks`]).
    pub fn lanes_of_leak(&self, leak: usize) -> &[u32] {
        self.by_leak.get(leak).map_or(&[], Vec::as_slice)
    }

    /// The trace leak group a lane belongs to.
    pub fn leak_of_lane(&self, lane: usize) -> Option<usize> {
        self.leak
            .get(lane)
            .filter(|&&l| l != NONE)
            .map(|&l| l as usize)
    }

    /// Goroutines of some lanes alive over the window.
    pub fn alive_of(&self, lanes: &[u32]) -> Vec<(i64, u64)> {
        alive_series(
            &self.trace,
            lanes
                .iter()
                .filter_map(|&l| self.order.get(l as usize).copied()),
        )
    }

    /// The trace the lanes read, for views that show a lane's spans in detail.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The reason of a lane's waiting span `span`.
    fn wait_reason(&self, lane: usize, span: usize, reason: StrId, stack: StackId) -> WaitReason {
        let r = self
            .reasons
            .get(&(reason, stack))
            .copied()
            .unwrap_or(WaitReason::Unknown);
        match (r, span) {
            (WaitReason::Unknown, 0) => self
                .before
                .get(lane)
                .copied()
                .unwrap_or(WaitReason::Unknown),
            _ => r,
        }
    }
}

/// What each lane (in `order`) waited on when the window opened, where its
/// first span is a wait the trace gives no reason for (see the module doc).
fn waits_before_the_window(
    t: &Trace,
    order: &[GoIndex],
    lane_stacks: &[StackId],
    reasons: &FxHashMap<(StrId, StackId), WaitReason>,
    session: &Session,
    analysis: &Analysis,
) -> Vec<WaitReason> {
    let table = &session.stacks;
    // The dumps' goroutines by id, the newest sighting last: (entry, reason).
    let mut dumped: FxHashMap<u64, (Option<FrameId>, WaitReason)> = FxHashMap::default();
    for snap in analysis.series_snapshots(session) {
        for g in snap.goroutines() {
            if let Some(id) = g.id {
                let reason = super::wait::wait_reason(table, g.state, g.stack);
                dumped.insert(id, (frames::entry_function(table, g.stack), reason));
            }
        }
    }
    let function_of = |f: Option<FrameId>| f.map(|f| table.function(f));
    order
        .iter()
        .zip(lane_stacks)
        .map(|(&g, &lane_stack)| {
            let Some(first) = t.span(g, 0) else {
                return WaitReason::Unknown;
            };
            let stated = reasons
                .get(&(first.reason, first.stack))
                .copied()
                .unwrap_or(WaitReason::Unknown);
            if first.state != GoState::Waiting || stated != WaitReason::Unknown {
                return WaitReason::Unknown;
            }
            // Its entry: the trace's start frame, else the outermost frame
            // of the stack it is known by.
            let start = t.goroutine(g).map_or(StackId::EMPTY, |i| i.start_stack);
            let entry = frames::entry_function(table, start)
                .or_else(|| frames::entry_function(table, first.stack))
                .or_else(|| frames::entry_function(table, lane_stack));
            let id = t.goroutine(g).map(|i| i.id);
            if let Some((dump_entry, reason)) = id.and_then(|id| dumped.get(&id))
                && entry.is_some()
                && function_of(*dump_entry) == function_of(entry)
                && reason.is_waiting()
            {
                return *reason;
            }
            if entry.is_some_and(|e| frames::is_runtime(table.function(e))) {
                return WaitReason::RuntimeInternal;
            }
            WaitReason::Unknown
        })
        .collect()
}

/// How many of `goroutines` are alive at evenly spaced times of the window.
fn alive_series(t: &Trace, goroutines: impl Iterator<Item = GoIndex>) -> Vec<(i64, u64)> {
    let (w0, w1) = (t.window.start_ns, t.window.end_ns);
    let mut births = Vec::new();
    let mut deaths = Vec::new();
    for g in goroutines {
        births.push(t.creation(g).map_or(w0, |c| c.time_ns));
        if let Some(e) = t.end_ns(g) {
            deaths.push(e);
        }
    }
    births.sort_unstable();
    deaths.sort_unstable();
    let span = (w1 - w0).max(1);
    (0..=SERIES_POINTS)
        .map(|i| {
            // Wide: a damaged trace's window can span most of `i64`.
            let at =
                w0.saturating_add((i128::from(span) * i as i128 / SERIES_POINTS as i128) as i64);
            let born = births.partition_point(|&b| b <= at) as u64;
            let died = deaths.partition_point(|&d| d <= at) as u64;
            (at, born.saturating_sub(died))
        })
        .collect()
}

fn kind_of(state: GoState) -> StateKind {
    match state {
        GoState::Running => StateKind::Running,
        GoState::Runnable => StateKind::Runnable,
        GoState::Waiting => StateKind::Waiting,
        GoState::Syscall => StateKind::Syscall,
        GoState::Ended => StateKind::Other,
    }
}

impl LaneSource for TraceLanes {
    fn lane_count(&self) -> usize {
        self.order.len()
    }

    fn lane(&self, lane: usize) -> LaneInfo {
        let t = &*self.trace;
        let Some(&g) = self.order.get(lane) else {
            return LaneInfo {
                goroutine: None,
                group: None,
                trace_group: None,
                labels: crate::model::LabelSetId::NONE,
                label_text: StrId::EMPTY,
                function: None,
                stack: StackId::EMPTY,
                created_ns: None,
                ended_ns: None,
            };
        };
        LaneInfo {
            goroutine: t.goroutine(g).map(|i| i.id),
            group: self.group.get(lane).filter(|&&x| x != NONE).copied(),
            trace_group: self.leak.get(lane).filter(|&&x| x != NONE).copied(),
            labels: crate::model::LabelSetId::NONE,
            label_text: t.label(g),
            function: self.function.get(lane).copied().flatten(),
            stack: self.stack.get(lane).copied().unwrap_or(StackId::EMPTY),
            created_ns: t.creation(g).map(|c| c.time_ns),
            ended_ns: t.end_ns(g),
        }
    }

    fn spans(&self, lane: usize, t0: i64, t1: i64, visit: &mut dyn FnMut(LaneSpan)) {
        let t = &*self.trace;
        let Some(&g) = self.order.get(lane) else {
            return;
        };
        for i in t.span_range(g, t0, t1) {
            if let Some(s) = t.span(g, i)
                && s.state != GoState::Ended
            {
                visit(LaneSpan {
                    start_ns: s.start_ns,
                    end_ns: s.end_ns,
                    kind: kind_of(s.state),
                    reason: match s.state {
                        GoState::Waiting => self.wait_reason(lane, i, s.reason, s.stack),
                        GoState::Running => WaitReason::Running,
                        GoState::Runnable => WaitReason::Runnable,
                        GoState::Syscall => WaitReason::Syscall,
                        GoState::Ended => WaitReason::Unknown,
                    },
                });
            }
        }
    }

    fn events(&self, lane: usize, t0: i64, t1: i64) -> Vec<LaneEvent> {
        let t = &*self.trace;
        let Some(&g) = self.order.get(lane) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(c) = t.creation(g)
            && c.time_ns >= t0
            && c.time_ns <= t1
        {
            out.push(LaneEvent {
                time_ns: c.time_ns,
                kind: EventKind::Created,
                stack: (!c.creator_stack.is_empty()).then_some(c.creator_stack),
                reason: WaitReason::Unknown,
                other_lane: c
                    .creator
                    .and_then(|cg| self.lane_of.get(cg.index()).copied())
                    .filter(|&l| l != NONE),
                other_goroutine: c.creator_id,
                duration_ns: None,
            });
        }
        for b in t.blocking_points(g) {
            if b.time_ns < t0 {
                continue;
            }
            if b.time_ns > t1 {
                break;
            }
            out.push(LaneEvent {
                time_ns: b.time_ns,
                kind: EventKind::Blocked,
                stack: (!b.stack.is_empty()).then_some(b.stack),
                reason: self.wait_reason(lane, b.span, b.reason, b.stack),
                other_lane: b
                    .unblocker
                    .and_then(|u| self.lane_of.get(u.index()).copied())
                    .filter(|&l| l != NONE),
                other_goroutine: b.unblocker.and_then(|u| t.goroutine(u)).map(|i| i.id),
                duration_ns: Some(b.duration_ns),
            });
        }
        if let Some(e) = t.end_ns(g)
            && e >= t0
            && e <= t1
        {
            out.push(LaneEvent {
                time_ns: e,
                kind: EventKind::Ended,
                stack: None,
                reason: WaitReason::Unknown,
                other_lane: None,
                other_goroutine: None,
                duration_ns: None,
            });
        }
        out
    }

    fn window(&self) -> (i64, i64) {
        (self.trace.window.start_ns, self.trace.window.end_ns)
    }

    fn axis(&self) -> TimeAxis {
        TimeAxis::TraceRelative
    }

    fn lanes_of_group(&self, group: u32) -> &[u32] {
        self.by_group.get(group as usize).map_or(&[], Vec::as_slice)
    }
}
