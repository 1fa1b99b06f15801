//! Everything in a trace besides goroutine spans: creations, procs, GC and
//! stop-the-world pauses, user annotations and CPU samples. Each segment
//! collects them during the first replay in its own raw terms (goroutine
//! ids, ticks, string and stack references); they are resolved once the
//! goroutine indices and the clock exist.

use rustc_hash::FxHashMap;

use super::assemble::IdIndex;
use crate::model::timeline::{
    GoIndex, GoInfo, ProcSpan, StwSpan, TimeSpan, UserLog, UserRegion, UserTask,
};
use crate::model::{CpuSample, StackId, StrId};

/// A `go` statement (or, in the legacy burst, a goroutine that existed).
#[derive(Copy, Clone, Debug)]
pub(super) struct RawCreation {
    pub g: u64,
    pub creator: u64,
    pub creator_stack: u64,
    pub start_stack: u64,
    pub tick: u64,
}

#[derive(Copy, Clone, Debug)]
pub(super) struct RawProc {
    pub p: u64,
    pub m: u64,
    pub start: u64,
    pub end: Option<u64>,
    /// Opened by a status event: it may continue a span of the previous segment.
    pub from_status: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum GcOp {
    Active,
    Begin,
    End,
}

#[derive(Copy, Clone, Debug)]
pub(super) enum RawAnnot {
    TaskBegin {
        task: u64,
        parent: u64,
        name: u64,
        stack: u64,
        g: u64,
    },
    TaskEnd {
        task: u64,
    },
    RegionBegin {
        task: u64,
        name: u64,
        stack: u64,
        g: u64,
    },
    RegionEnd {
        task: u64,
        name: u64,
        g: u64,
    },
    Log {
        task: u64,
        key: u64,
        value: u64,
        stack: u64,
        g: u64,
    },
}

#[derive(Copy, Clone, Debug)]
pub(super) struct RawCpu {
    pub tick: u64,
    pub m: u64,
    pub p: u64,
    pub g: u64,
    pub stack: u64,
}

/// What the first replay collects besides counts, in segment terms.
#[derive(Debug, Default)]
pub(super) struct Extras {
    pub creations: Vec<RawCreation>,
    pub labels: Vec<(u64, u64)>,
    pub procs: Vec<RawProc>,
    pub steals: Vec<(u64, u64)>,
    pub gc: Vec<(u64, GcOp)>,
    /// (tick, Some(kind) for a begin, None for an end).
    pub stw: Vec<(u64, Option<u64>)>,
    pub annots: Vec<(u64, RawAnnot)>,
    pub cpu: Vec<RawCpu>,
    pub min_tick: Option<u64>,
    pub max_tick: Option<u64>,
}

impl Extras {
    #[inline]
    pub fn saw_tick(&mut self, t: u64) {
        self.min_tick = Some(self.min_tick.map_or(t, |m| m.min(t)));
        self.max_tick = Some(self.max_tick.map_or(t, |m| m.max(t)));
    }
}

/// Turns a segment's ids into model ids.
pub(super) trait Resolve {
    fn string(&mut self, sid: u64) -> StrId;
    fn stack(&mut self, id: u64) -> StackId;
    fn ns(&self, tick: u64) -> i64;
}

/// The non-span parts of a trace, built segment by segment.
#[derive(Debug, Default)]
pub(super) struct Parts {
    pub goroutines: Vec<GoInfo>,
    pub labels: Vec<(GoIndex, StrId)>,
    pub procs: Vec<(ProcSpan, bool, bool)>,
    pub steals: Vec<(u64, i64)>,
    pub gc: Vec<(i64, GcOp)>,
    pub stw: Vec<(i64, Option<StrId>)>,
    pub annots: Vec<(i64, ResolvedAnnot)>,
    pub cpu: Vec<CpuSample>,
}

#[derive(Copy, Clone, Debug)]
pub(super) enum ResolvedAnnot {
    TaskBegin {
        task: u64,
        parent: u64,
        name: StrId,
        stack: StackId,
        g: Option<GoIndex>,
    },
    TaskEnd {
        task: u64,
    },
    RegionBegin {
        task: u64,
        name: StrId,
        stack: StackId,
        g: Option<GoIndex>,
    },
    RegionEnd {
        task: u64,
        name: StrId,
        g: Option<GoIndex>,
    },
    Log {
        task: u64,
        key: StrId,
        value: StrId,
        stack: StackId,
        g: Option<GoIndex>,
    },
}

const NONE_ID: u64 = u64::MAX;

impl Parts {
    pub fn new(ids: &[u64]) -> Parts {
        Parts {
            goroutines: vec![GoInfo::default(); ids.len()],
            ..Parts::default()
        }
    }

    /// Adds one segment's extras. `real_creation` says whether a creation
    /// event is a `go` statement inside the window (not a legacy burst
    /// record of a goroutine that already existed).
    pub fn add(
        &mut self,
        extras: Extras,
        index: &IdIndex,
        r: &mut impl Resolve,
        end_tick: u64,
        real_creation: impl Fn(&RawCreation) -> bool,
    ) {
        for c in &extras.creations {
            let Some(gi) = index.get(c.g) else { continue };
            let real = real_creation(c);
            let start_stack = r.stack(c.start_stack);
            let (creator, creator_stack) = if real {
                (
                    if c.creator == 0 {
                        0
                    } else {
                        index.detail(c.creator)
                    },
                    r.stack(c.creator_stack),
                )
            } else {
                (0, StackId::EMPTY)
            };
            if let Some(g) = self.goroutines.get_mut(gi as usize) {
                g.start_stack = start_stack;
                g.creator = creator;
                g.creator_stack = creator_stack;
            }
        }
        for &(g, sid) in &extras.labels {
            if let Some(gi) = index.go_index(g) {
                let s = r.string(sid);
                self.labels.push((gi, s));
            }
        }
        let end_ns = r.ns(end_tick);
        for p in &extras.procs {
            let Ok(pid) = u32::try_from(p.p) else {
                continue;
            };
            let start_ns = r.ns(p.start);
            let span = ProcSpan {
                p: pid,
                m: (p.m != NONE_ID).then_some(p.m),
                start_ns,
                end_ns: p.end.map_or(end_ns, |e| r.ns(e)).max(start_ns),
            };
            self.procs.push((span, p.from_status, p.end.is_none()));
        }
        for &(p, t) in &extras.steals {
            self.steals.push((p, r.ns(t)));
        }
        for &(t, op) in &extras.gc {
            self.gc.push((r.ns(t), op));
        }
        for &(t, kind) in &extras.stw {
            self.stw.push((r.ns(t), kind.map(|k| r.string(k))));
        }
        let go = |g: u64| if g == 0 { None } else { index.go_index(g) };
        for &(t, a) in &extras.annots {
            let resolved = match a {
                RawAnnot::TaskBegin {
                    task,
                    parent,
                    name,
                    stack,
                    g,
                } => ResolvedAnnot::TaskBegin {
                    task,
                    parent,
                    name: r.string(name),
                    stack: r.stack(stack),
                    g: go(g),
                },
                RawAnnot::TaskEnd { task } => ResolvedAnnot::TaskEnd { task },
                RawAnnot::RegionBegin {
                    task,
                    name,
                    stack,
                    g,
                } => ResolvedAnnot::RegionBegin {
                    task,
                    name: r.string(name),
                    stack: r.stack(stack),
                    g: go(g),
                },
                RawAnnot::RegionEnd { task, name, g } => ResolvedAnnot::RegionEnd {
                    task,
                    name: r.string(name),
                    g: go(g),
                },
                RawAnnot::Log {
                    task,
                    key,
                    value,
                    stack,
                    g,
                } => ResolvedAnnot::Log {
                    task,
                    key: r.string(key),
                    value: r.string(value),
                    stack: r.stack(stack),
                    g: go(g),
                },
            };
            self.annots.push((r.ns(t), resolved));
        }
        for c in &extras.cpu {
            self.cpu.push(CpuSample {
                time_ns: r.ns(c.tick),
                goroutine: go(c.g),
                p: u32::try_from(c.p).ok().filter(|_| c.p != NONE_ID),
                m: (c.m != NONE_ID).then_some(c.m),
                stack: r.stack(c.stack),
            });
        }
    }
}

/// The finished non-span collections.
pub(super) struct Built {
    pub goroutines: Vec<GoInfo>,
    pub labels: Vec<(GoIndex, StrId)>,
    pub procs: Vec<ProcSpan>,
    pub gc: Vec<TimeSpan>,
    pub stw: Vec<StwSpan>,
    pub tasks: Vec<UserTask>,
    pub regions: Vec<UserRegion>,
    pub logs: Vec<UserLog>,
    pub cpu: Vec<CpuSample>,
}

impl Parts {
    pub fn build(mut self, window_end_ns: i64) -> Built {
        self.labels.sort_by_key(|&(g, _)| g);
        self.labels.dedup_by_key(|&mut (g, _)| g);
        Built {
            procs: build_procs(self.procs, self.steals),
            gc: pair_gc(self.gc, window_end_ns),
            stw: pair_stw(self.stw, window_end_ns),
            tasks: Vec::new(),
            regions: Vec::new(),
            logs: Vec::new(),
            cpu: {
                let mut c = self.cpu;
                c.sort_by_key(|s| s.time_ns);
                c
            },
            goroutines: self.goroutines,
            labels: self.labels,
        }
        .with_annotations(self.annots)
    }
}

impl Built {
    fn with_annotations(mut self, mut annots: Vec<(i64, ResolvedAnnot)>) -> Built {
        annots.sort_by_key(|&(t, _)| t);
        let mut task_index: FxHashMap<u64, usize> = FxHashMap::default();
        let mut open_regions: FxHashMap<Option<GoIndex>, Vec<usize>> = FxHashMap::default();
        for (t, a) in annots {
            match a {
                ResolvedAnnot::TaskBegin {
                    task,
                    parent,
                    name,
                    stack,
                    g,
                } => {
                    task_index.insert(task, self.tasks.len());
                    self.tasks.push(UserTask {
                        id: task,
                        parent: (parent != 0).then_some(parent),
                        name,
                        start_ns: Some(t),
                        end_ns: None,
                        goroutine: g,
                        stack,
                    });
                }
                ResolvedAnnot::TaskEnd { task } => match task_index.get(&task) {
                    Some(&i) => {
                        if let Some(tk) = self.tasks.get_mut(i) {
                            tk.end_ns = Some(t);
                        }
                    }
                    None => {
                        task_index.insert(task, self.tasks.len());
                        self.tasks.push(UserTask {
                            id: task,
                            parent: None,
                            name: StrId::EMPTY,
                            start_ns: None,
                            end_ns: Some(t),
                            goroutine: None,
                            stack: StackId::EMPTY,
                        });
                    }
                },
                ResolvedAnnot::RegionBegin {
                    task,
                    name,
                    stack,
                    g,
                } => {
                    open_regions.entry(g).or_default().push(self.regions.len());
                    self.regions.push(UserRegion {
                        goroutine: g,
                        task,
                        name,
                        start_ns: Some(t),
                        end_ns: None,
                        stack,
                    });
                }
                ResolvedAnnot::RegionEnd { task, name, g } => {
                    let open = open_regions.entry(g).or_default();
                    let found = open.iter().rposition(|&i| {
                        self.regions
                            .get(i)
                            .is_some_and(|r| r.name == name && r.task == task)
                    });
                    match found {
                        Some(pos) => {
                            let i = open.remove(pos);
                            if let Some(r) = self.regions.get_mut(i) {
                                r.end_ns = Some(t);
                            }
                        }
                        None => self.regions.push(UserRegion {
                            goroutine: g,
                            task,
                            name,
                            start_ns: None,
                            end_ns: Some(t),
                            stack: StackId::EMPTY,
                        }),
                    }
                }
                ResolvedAnnot::Log {
                    task,
                    key,
                    value,
                    stack,
                    g,
                } => self.logs.push(UserLog {
                    time_ns: t,
                    goroutine: g,
                    task,
                    key,
                    value,
                    stack,
                }),
            }
        }
        self
    }
}

/// P spans from per-thread open/close records: spans a generation boundary
/// cut are joined again, a P taken by another thread ends there, and no P
/// is on two threads at once.
fn build_procs(mut raw: Vec<(ProcSpan, bool, bool)>, mut steals: Vec<(u64, i64)>) -> Vec<ProcSpan> {
    raw.sort_by_key(|(s, _, _)| (s.p, s.start_ns));
    steals.sort_unstable();
    let mut out: Vec<(ProcSpan, bool)> = Vec::with_capacity(raw.len());
    for (span, from_status, open_end) in raw {
        if let Some((last, last_open)) = out.last_mut()
            && last.p == span.p
        {
            if *last_open && from_status && last.m == span.m {
                last.end_ns = last.end_ns.max(span.end_ns);
                *last_open = open_end;
                continue;
            }
            last.end_ns = last.end_ns.min(span.start_ns).max(last.start_ns);
        }
        out.push((span, open_end));
    }
    let mut procs: Vec<ProcSpan> = out.into_iter().map(|(s, _)| s).collect();
    for (p, t) in steals {
        let Ok(p) = u32::try_from(p) else { continue };
        let i = procs.partition_point(|s| (s.p, s.start_ns) <= (p, t));
        if let Some(s) = i.checked_sub(1).and_then(|i| procs.get_mut(i))
            && s.p == p
            && s.end_ns > t
        {
            s.end_ns = t;
        }
    }
    procs
}

fn pair_gc(mut events: Vec<(i64, GcOp)>, end_ns: i64) -> Vec<TimeSpan> {
    events.sort_by_key(|&(t, _)| t);
    let mut out = Vec::new();
    let mut open: Option<i64> = None;
    for (t, op) in events {
        match op {
            GcOp::Begin | GcOp::Active => {
                if open.is_none() {
                    open = Some(t);
                }
            }
            GcOp::End => {
                out.push(TimeSpan {
                    start_ns: open.take().unwrap_or(t),
                    end_ns: t,
                });
            }
        }
    }
    if let Some(s) = open {
        out.push(TimeSpan {
            start_ns: s,
            end_ns: end_ns.max(s),
        });
    }
    out
}

fn pair_stw(mut events: Vec<(i64, Option<StrId>)>, end_ns: i64) -> Vec<StwSpan> {
    events.sort_by_key(|&(t, _)| t);
    let mut out = Vec::new();
    let mut open: Option<(i64, StrId)> = None;
    for (t, kind) in events {
        match kind {
            Some(k) => {
                if let Some((s, k0)) = open.take() {
                    out.push(StwSpan {
                        start_ns: s,
                        end_ns: t,
                        kind: k0,
                    });
                }
                open = Some((t, k));
            }
            None => {
                if let Some((s, k)) = open.take() {
                    out.push(StwSpan {
                        start_ns: s,
                        end_ns: t,
                        kind: k,
                    });
                }
            }
        }
    }
    if let Some((s, k)) = open {
        out.push(StwSpan {
            start_ns: s,
            end_ns: end_ns.max(s),
            kind: k,
        });
    }
    out
}
