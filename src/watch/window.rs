//! One profile of one target: its newest snapshots, ranked as they arrive.
//!
//! A watcher runs for days, so nothing here may grow with time. The window
//! holds at most `capacity` snapshots, each with its body as received (an
//! incident folder saves them as they came) and its parse (so snapshots
//! leave and the ranking is rebuilt without parsing anything again). The
//! ranking itself is the pipeline's [`Findings`], appended to as polls
//! arrive and rebuilt from the window once as many snapshots have left as
//! it holds: that bounds the stack table, which only ever grows while
//! appending.
//!
//! A restart of the service (an outage followed by fewer goroutines, or the
//! count falling by more than half at once) starts a new *segment*: the
//! ranking looks only at snapshots after it, and every group remembers the
//! highest count it had before, its *ceiling*. Regrowing up to where a
//! group was is what a restarted service does; triggers wait for a count to
//! pass its ceiling.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use regex::Regex;

use crate::analysis::{AnalysisOptions, Evidence, frames, group, growth};
use crate::formats::Loaded;
use crate::model::{Session, Snapshot, StackId};
use crate::pipeline::{Findings, InputSpec};

/// One poll's snapshot.
#[derive(Clone, Debug)]
pub struct Snap {
    /// When the body was received, on the watcher's clock (one clock for
    /// every target; a debug=0 profile is written when it is asked for).
    pub at_ns: i64,
    /// The body as the server sent it.
    pub body: Arc<[u8]>,
    /// The body parsed once, so the ranking does not parse it again each poll.
    pub loaded: Loaded,
    /// Goroutines (or the profile's count) in it.
    pub total: u64,
    /// The first snapshot after a restart.
    pub restart: bool,
}

/// What the triggers and the metrics read of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupView {
    /// Stable across rebuilds of the ranking: a hash of the group's frames and labels.
    pub key: u64,
    /// The leak site's function (the entry function for stacks of the
    /// standard library only).
    pub site: String,
    /// What the group's goroutines wait on (`chan receive`, `select`...), for the incident summary.
    pub wait_reason: String,
    /// Count in the newest snapshot.
    pub count: u64,
    /// Whether the ranking judged the group growing across the window.
    pub growing: bool,
    /// Growth per minute, where the ranking found a trend.
    pub per_minute: Option<f64>,
    /// The highest count before the last restart, while the group has not
    /// passed it again.
    pub ceiling: Option<u64>,
    /// Goroutines of the group the runtime proved leaked.
    pub proven: u64,
}

impl GroupView {
    /// Whether its count is new ground: no restart, or past where it was before one.
    pub fn above_ceiling(&self) -> bool {
        self.ceiling.is_none_or(|c| self.count > c)
    }
}

/// A target's recent snapshots of one profile and their ranking.
pub struct Window {
    capacity: usize,
    entries: VecDeque<Snap>,
    /// Index in `entries` of the first snapshot of the current segment.
    segment_start: usize,
    findings: Findings,
    /// Snapshots appended to `findings` since it was last built from the window.
    appended: usize,
    options: AnalysisOptions,
    /// Per group key, the highest count before the last restart.
    ceilings: HashMap<u64, u64>,
    /// The highest total before the last restart, until passed.
    total_ceiling: Option<u64>,
    views: Vec<GroupView>,
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("capacity", &self.capacity)
            .field("snapshots", &self.entries.len())
            .field("segment_start", &self.segment_start)
            .finish()
    }
}

impl Window {
    /// A window of the last `capacity` snapshots (at least 2, the fewest a trend needs).
    pub fn new(capacity: usize, options: AnalysisOptions) -> Window {
        Window {
            capacity: capacity.max(2),
            entries: VecDeque::new(),
            segment_start: 0,
            findings: Findings::empty(&options),
            appended: 0,
            options,
            ceilings: HashMap::new(),
            total_ceiling: None,
            views: Vec::new(),
        }
    }

    /// Takes in one poll. `after_outage` says polls failed since the last
    /// good one. Returns whether this snapshot starts a new segment (a restart).
    pub fn push(&mut self, mut snap: Snap, after_outage: bool) -> bool {
        let previous = self.entries.back().map(|e| e.total);
        snap.restart =
            previous.is_some_and(|p| growth::looks_like_restart(p, snap.total, after_outage));
        if snap.restart {
            self.remember_ceilings();
        }
        let restart = snap.restart;
        self.entries.push_back(snap);
        if self.entries.len() > self.capacity {
            self.entries.pop_front();
            self.segment_start = self.segment_start.saturating_sub(1);
        }
        if restart {
            self.segment_start = self.entries.len() - 1;
            self.rebuild();
        } else if self.appended >= self.capacity {
            self.rebuild();
        } else if let Some(newest) = self.entries.back() {
            let loaded = newest.loaded.clone();
            self.findings.append(loaded, spec(newest));
            self.appended += 1;
        }
        self.refresh_views();
        restart
    }

    /// Whether the window counts goroutines (not a count profile's entries).
    pub fn counts_goroutines(&self) -> bool {
        self.options.count_profile.is_none()
    }

    /// Every snapshot of the window, oldest first.
    pub fn snaps(&self) -> impl Iterator<Item = &Snap> {
        self.entries.iter()
    }

    /// Snapshots held, at most the capacity.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True before the first snapshot.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Totals of the current segment, oldest first, with their times.
    pub fn segment_totals(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.entries
            .iter()
            .skip(self.segment_start)
            .map(|e| (e.at_ns, e.total))
    }

    /// Totals of the whole window, oldest first.
    pub fn totals(&self) -> impl Iterator<Item = u64> + '_ {
        self.entries.iter().map(|e| e.total)
    }

    /// The latest total, for the `profile_total` metric; `None` before the first snapshot.
    pub fn newest_total(&self) -> Option<u64> {
        self.entries.back().map(|e| e.total)
    }

    /// The highest total before the last restart, while not passed again.
    pub fn total_ceiling(&self) -> Option<u64> {
        self.total_ceiling
    }

    /// The groups of the newest snapshot's ranking, best first.
    pub fn groups(&self) -> &[GroupView] {
        &self.views
    }

    /// The ranking as the pipeline computed it (current segment).
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// Goroutines of the newest snapshot whose stack has a function
    /// matching `function`, or `depth` frames or more; with the site of
    /// the largest such group.
    pub fn matching(&self, function: Option<&Regex>, depth: Option<u32>) -> (u64, Option<String>) {
        let session = &self.findings.session;
        let analysis = &self.findings.analysis;
        let mut total = 0;
        let mut best: Option<(u64, usize)> = None;
        for (gi, group) in analysis.groups.iter().enumerate() {
            let count = group.last_count();
            if count == 0 || !stack_matches(session, group.stack, function, depth) {
                continue;
            }
            total += count;
            if best.is_none_or(|(c, _)| count > c) {
                best = Some((count, gi));
            }
        }
        let site = best.map(|(_, gi)| site_of(session, analysis.groups[gi].stack));
        (total, site)
    }

    /// Builds the ranking again from the current segment: no parsing, and
    /// the stack table holds only what the window still uses.
    fn rebuild(&mut self) {
        let loaded: Vec<(Loaded, InputSpec)> = self
            .entries
            .iter()
            .skip(self.segment_start)
            .map(|e| (e.loaded.clone(), spec(e)))
            .collect();
        let mut findings = Findings::empty(&self.options);
        for (l, s) in loaded {
            findings.append(l, s);
        }
        self.findings = findings;
        self.appended = 0;
    }

    /// Before a restart's drop: every group's highest count in the segment
    /// that ends, and the highest total.
    fn remember_ceilings(&mut self) {
        let mut ceilings = HashMap::new();
        let session = &self.findings.session;
        for group in &self.findings.analysis.groups {
            let max = group.counts.iter().copied().max().unwrap_or(0);
            let key = group::stable_key(&session.stacks, group);
            let c = ceilings.entry(key).or_insert(0);
            *c = (*c).max(max);
        }
        // A group still below an older ceiling keeps the higher one.
        for (k, v) in std::mem::take(&mut self.ceilings) {
            let c = ceilings.entry(k).or_insert(0);
            *c = (*c).max(v);
        }
        self.ceilings = ceilings;
        let segment_max = self.segment_totals().map(|(_, t)| t).max();
        self.total_ceiling = segment_max.max(self.total_ceiling);
    }

    /// The views of the newest ranking; ceilings that were passed are dropped.
    fn refresh_views(&mut self) {
        let session = &self.findings.session;
        let analysis = &self.findings.analysis;
        let mut views = Vec::with_capacity(analysis.suspects.len());
        for s in &analysis.suspects {
            let group = analysis.group(s);
            let key = group::stable_key(&session.stacks, group);
            let count = group.last_count();
            let ceiling = self.ceilings.get(&key).copied();
            if ceiling.is_some_and(|c| count > c) {
                self.ceilings.remove(&key);
            }
            let growing = s.evidence == Evidence::Growing
                || (s.evidence == Evidence::Proven && s.growth.growing);
            views.push(GroupView {
                key,
                site: s.leak_site.map_or_else(
                    || site_of(session, group.stack),
                    |f| session.stacks.function(f).to_owned(),
                ),
                wait_reason: group
                    .wait_reason()
                    .map(|r| r.text(&session.stacks).to_owned())
                    .unwrap_or_default(),
                count,
                growing,
                per_minute: s.growth.per_minute,
                ceiling: self.ceilings.get(&key).copied(),
                proven: group.proven(),
            });
        }
        if let (Some(c), Some(t)) = (self.total_ceiling, self.newest_total())
            && t > c
        {
            self.total_ceiling = None;
        }
        self.views = views;
    }
}

/// How a window snapshot is named as an input of the ranking.
fn spec(snap: &Snap) -> InputSpec {
    InputSpec::Bytes {
        name: format!("poll-{}", snap.at_ns),
        data: Arc::clone(&snap.body),
    }
}

/// The innermost function worth naming in a stack.
fn site_of(session: &Session, stack: StackId) -> String {
    frames::leak_site(&session.stacks, stack)
        .or_else(|| frames::entry_function(&session.stacks, stack))
        .map(|f| session.stacks.function(f).to_owned())
        .unwrap_or_default()
}

fn stack_matches(
    session: &Session,
    stack: StackId,
    function: Option<&Regex>,
    depth: Option<u32>,
) -> bool {
    let table = &session.stacks;
    depth.is_some_and(|d| table.depth(stack) >= d)
        || function.is_some_and(|re| table.frames(stack).any(|f| re.is_match(table.function(f))))
}

/// The snapshot's goroutine count, or the sum of its samples' first value
/// (a count profile of the service's own).
pub fn total_of(loaded: &Loaded) -> u64 {
    let Some(snapshot) = loaded.input.as_snapshot() else {
        return 0;
    };
    snapshot
        .goroutine_count()
        .unwrap_or_else(|| sample_total(snapshot))
}

fn sample_total(snapshot: &Snapshot) -> u64 {
    snapshot
        .samples()
        .map_or(0, |p| u64::try_from(p.total(0)).unwrap_or(0))
}
