//! Pure functions from a loaded [`Session`] to what users look at: stack
//! groups, their growth across snapshots, and ranked leak suspects.

pub mod correlate;
pub mod flame;
pub mod flame_spec;
pub mod frames;
pub mod group;
pub mod growth;
pub mod lanes;
pub mod palette;
pub mod summary;
pub mod top;
pub mod trace;
pub mod trace_lanes;
pub mod wait;
pub mod wording;

use std::sync::Arc;

use serde::Serialize;

pub use group::{Group, LabelMode};
pub use growth::Growth;

use group::Grouper;

use crate::model::{Format, FrameId, Session, Snapshot, SnapshotData, StackId, StackTable};

/// Knobs of the analysis.
#[derive(Clone, Debug, Default)]
pub struct AnalysisOptions {
    pub labels: LabelMode,
}

/// How the snapshots of the series were put in order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeriesOrder {
    /// Every snapshot records its capture time.
    CaptureTime,
    /// Some do not: the order the inputs were given in.
    InputOrder,
}

/// One snapshot of the series, in series order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesPoint {
    /// Index into [`Session::inputs`].
    pub input: usize,
    pub captured_at_ns: Option<i64>,
    /// Goroutines (or samples) in it.
    pub total: u64,
}

/// Wait ages of a group's goroutines, in minutes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitAges {
    pub min: u32,
    pub median: u32,
    pub max: u32,
}

/// A group ranked as a possible leak.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspect {
    /// Index into [`Analysis::groups`].
    pub group: usize,
    /// Where the goroutines are stuck, in the code that matters
    /// ([`frames::leak_site`]).
    pub leak_site: Option<FrameId>,
    /// The goroutines' entry function.
    pub entry: Option<FrameId>,
    pub growth: Growth,
    /// Ranking score: the growth score across snapshots, or with a single
    /// snapshot the goroutine count weighted by wait age.
    pub score: f64,
    pub wait_ages: Option<WaitAges>,
}

/// Everything computed from a session.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub series: Vec<SeriesPoint>,
    pub order: SeriesOrder,
    pub groups: Vec<Group>,
    /// Best first: growing groups, then the rest by size.
    pub suspects: Vec<Suspect>,
    /// Groups were split by labels.
    pub split_by_labels: bool,
    /// For each series snapshot, the group of each of its records: shared,
    /// so copying an analysis to hand it to another thread stays cheap.
    record_groups: Vec<Arc<[u32]>>,
    grouper: Grouper,
    options: AnalysisOptions,
}

/// Snapshots the growth statistics look at, the newest ones: whether a
/// group grows *now* is what matters, and the bound keeps the cost of
/// ranking after each new capture flat however long a session runs (the
/// statistics look at every pair of snapshots). 32 points are plenty for
/// Kendall's tau and Theil–Sen to tell a trend from noise. Counts of every
/// snapshot are kept and shown.
pub const GROWTH_WINDOW: usize = 32;

impl Analysis {
    pub fn group(&self, suspect: &Suspect) -> &Group {
        &self.groups[suspect.group]
    }

    /// The snapshots the series is made of, in series order.
    pub fn series_snapshots<'s>(&self, session: &'s Session) -> Vec<&'s Snapshot> {
        self.series
            .iter()
            .filter_map(|p| session.inputs.get(p.input)?.as_snapshot())
            .collect()
    }

    /// The group of each record of series snapshot `si`.
    pub fn record_groups(&self, si: usize) -> &[u32] {
        self.record_groups.get(si).map_or(&[], |r| &r[..])
    }

    /// The records of series snapshot `si` that belong to `group`.
    pub fn records_of(&self, group: usize, si: usize) -> impl Iterator<Item = usize> + '_ {
        self.record_groups(si)
            .iter()
            .enumerate()
            .filter(move |(_, g)| **g as usize == group)
            .map(|(r, _)| r)
    }

    /// The series position of a session input, if it is in the series.
    pub fn series_index(&self, input: usize) -> Option<usize> {
        self.series.iter().position(|p| p.input == input)
    }

    pub fn options(&self) -> &AnalysisOptions {
        &self.options
    }

    /// Takes in input `input`, just added to `session`, without going over
    /// the earlier inputs again where that gives the same result as
    /// [`analyze`]: a goroutine snapshot captured after the series' last
    /// one (or, without capture times, given after it) that does not change
    /// how labels split groups. Anything else is analysed from scratch.
    pub fn append(&mut self, session: &Session, input: usize) {
        if !self.extends_series(session, input) {
            *self = analyze(session, &self.options);
            return;
        }
        let Some(snapshot) = session.inputs.get(input).and_then(|i| i.as_snapshot()) else {
            return;
        };
        let si = self.series.len();
        for g in &mut self.groups {
            g.counts.push(0);
        }
        let records = self
            .grouper
            .add(&session.stacks, snapshot, si, &mut self.groups);
        self.record_groups.push(records.into());
        self.series.push(SeriesPoint {
            input,
            captured_at_ns: snapshot.captured_at_ns,
            total: self
                .groups
                .iter()
                .fold(0u64, |t, g| t.saturating_add(g.counts[si])),
        });
        self.rank(&session.stacks);
    }

    /// Whether `input` can join the end of the series as it is.
    fn extends_series(&self, session: &Session, input: usize) -> bool {
        let Some(snapshot) = session.inputs.get(input).and_then(|i| i.as_snapshot()) else {
            // Traces and sampled profiles are not part of the series.
            return session
                .inputs
                .get(input)
                .is_some_and(|i| !in_series_kind(i, true));
        };
        if !in_series_kind(&session.inputs[input], self.series_is_goroutines(session)) {
            return !in_series_kind(&session.inputs[input], true)
                && !in_series_kind(&session.inputs[input], false);
        }
        let labels_ok = match self.options.labels {
            LabelMode::Auto => self.grouper.splits_by_labels() == group::records_labels(snapshot),
            _ => true,
        };
        let time_ok = match (self.order, self.series.last()) {
            (_, None) => false,
            (SeriesOrder::CaptureTime, Some(last)) => {
                snapshot.captured_at_ns >= last.captured_at_ns && snapshot.captured_at_ns.is_some()
            }
            (SeriesOrder::InputOrder, Some(_)) => snapshot.captured_at_ns.is_none(),
        };
        labels_ok && time_ok
    }

    fn series_is_goroutines(&self, session: &Session) -> bool {
        self.series.first().is_none_or(|p| {
            session
                .inputs
                .get(p.input)
                .is_some_and(|i| in_series_kind(i, true))
        })
    }

    /// Measures every group's growth and ranks the suspects.
    fn rank(&mut self, table: &StackTable) {
        let window = self.series.len().saturating_sub(GROWTH_WINDOW);
        let xs: Option<Vec<f64>> = (self.order == SeriesOrder::CaptureTime).then(|| {
            self.series[window..]
                .iter()
                .map(|p| p.captured_at_ns.unwrap_or(0) as f64 / 1e9)
                .collect()
        });
        let snapshots = self.series.len();
        let groups = &self.groups;
        let mut suspects: Vec<Suspect> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let growth = growth::growth(&g.counts[window..], xs.as_deref());
                let wait_ages = wait_ages(g);
                let score = if snapshots >= 2 {
                    growth.score
                } else {
                    // One snapshot: size first, weighted up to 2× for goroutines
                    // that have waited an hour or more.
                    let median = wait_ages.map_or(0, |w| w.median.min(60));
                    g.last_count() as f64 * (1.0 + f64::from(median) / 60.0)
                };
                Suspect {
                    group: i,
                    leak_site: frames::leak_site(table, g.stack),
                    entry: frames::entry_function(table, g.stack),
                    growth,
                    score,
                    wait_ages,
                }
            })
            .collect();
        let name = |s: &Suspect| s.leak_site.map_or("", |f| table.function(f));
        suspects.sort_by(|a, b| {
            let (ga, gb) = (&groups[a.group], &groups[b.group]);
            b.growth
                .growing
                .cmp(&a.growth.growing)
                .then(b.score.total_cmp(&a.score))
                .then(gb.last_count().cmp(&ga.last_count()))
                .then(b.wait_ages.map(|w| w.max).cmp(&a.wait_ages.map(|w| w.max)))
                .then_with(|| name(a).cmp(name(b)))
                .then(a.group.cmp(&b.group))
        });
        self.suspects = suspects;
    }
}

/// Whether an input is of the kind that makes a series: goroutine
/// snapshots (`goroutines`), else folded stacks.
fn in_series_kind(input: &crate::model::Input, goroutines: bool) -> bool {
    input.as_snapshot().is_some_and(|s| {
        if goroutines {
            matches!(s.data, SnapshotData::Goroutines(_))
        } else {
            s.source.format == Format::Folded
        }
    })
}

/// The snapshots that form the growth series: goroutine snapshots, or where
/// there are none, folded stacks (whose counts are then taken as the
/// measure).
fn series_inputs(session: &Session) -> Vec<usize> {
    let pick = |goroutines: bool| -> Vec<usize> {
        session
            .inputs
            .iter()
            .enumerate()
            .filter(|(_, input)| in_series_kind(input, goroutines))
            .map(|(i, _)| i)
            .collect()
    };
    let goroutines = pick(true);
    if !goroutines.is_empty() {
        return goroutines;
    }
    pick(false)
}

/// Groups, measures and ranks.
pub fn analyze(session: &Session, options: &AnalysisOptions) -> Analysis {
    let mut inputs = series_inputs(session);
    let times: Vec<Option<i64>> = inputs
        .iter()
        .map(|&i| {
            session.inputs[i]
                .as_snapshot()
                .and_then(|s| s.captured_at_ns)
        })
        .collect();
    let order = if !inputs.is_empty() && times.iter().all(Option::is_some) {
        // Stable: snapshots taken at the same instant keep input order.
        let mut paired: Vec<(i64, usize)> = times
            .iter()
            .zip(&inputs)
            .map(|(t, &i)| (t.unwrap_or(0), i))
            .collect();
        paired.sort_by_key(|&(t, _)| t);
        inputs = paired.into_iter().map(|(_, i)| i).collect();
        SeriesOrder::CaptureTime
    } else {
        SeriesOrder::InputOrder
    };
    let snapshots: Vec<&Snapshot> = inputs
        .iter()
        .filter_map(|&i| session.inputs[i].as_snapshot())
        .collect();
    let table = &session.stacks;
    let (groups, record_groups, grouper) = group::group(table, &snapshots, &options.labels);
    let series: Vec<SeriesPoint> = inputs
        .iter()
        .enumerate()
        .map(|(si, &input)| SeriesPoint {
            input,
            captured_at_ns: session.inputs[input]
                .as_snapshot()
                .and_then(|s| s.captured_at_ns),
            total: groups
                .iter()
                .fold(0u64, |t, g| t.saturating_add(g.counts[si])),
        })
        .collect();
    let mut analysis = Analysis {
        series,
        order,
        split_by_labels: grouper.splits_by_labels(),
        groups,
        suspects: Vec::new(),
        record_groups: record_groups.into_iter().map(Into::into).collect(),
        grouper,
        options: options.clone(),
    };
    analysis.rank(table);
    analysis
}

fn wait_ages(g: &Group) -> Option<WaitAges> {
    let total: u64 = g.wait_minutes.values().fold(0, |t, &n| t.saturating_add(n));
    if total == 0 {
        return None;
    }
    let min = *g.wait_minutes.keys().next()?;
    let max = *g.wait_minutes.keys().next_back()?;
    let mut seen = 0;
    let mut median = max;
    for (&m, &n) in &g.wait_minutes {
        seen += n;
        if seen * 2 >= total {
            median = m;
            break;
        }
    }
    Some(WaitAges { min, median, max })
}

/// The function name of a stack's innermost frame, for creation sites.
pub fn innermost_function(session: &Session, stack: StackId) -> Option<&str> {
    session
        .stacks
        .leaf(stack)
        .map(|f| session.stacks.function(f))
}
