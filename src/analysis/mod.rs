//! Pure functions from a loaded [`Session`] to what users look at: stack
//! groups, their growth across snapshots, and ranked leak suspects.

pub mod correlate;
pub mod flame;
pub mod frames;
pub mod group;
pub mod growth;
pub mod lanes;
pub mod summary;
pub mod top;
pub mod trace;
pub mod trace_lanes;
pub mod wait;

use serde::Serialize;

pub use group::{Group, LabelMode, Member};
pub use growth::Growth;

use crate::model::{Format, FrameId, Session, Snapshot, SnapshotData, StackId};

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
}

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
}

/// The snapshots that form the growth series: goroutine snapshots, or where
/// there are none, folded stacks (whose counts are then taken as the
/// measure).
fn series_inputs(session: &Session) -> Vec<usize> {
    let pick = |want: &dyn Fn(&Snapshot) -> bool| -> Vec<usize> {
        session
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(i, input)| input.as_snapshot().filter(|s| want(s)).map(|_| i))
            .collect()
    };
    let goroutines = pick(&|s| matches!(s.data, SnapshotData::Goroutines(_)));
    if !goroutines.is_empty() {
        return goroutines;
    }
    pick(&|s| s.source.format == Format::Folded)
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
    let split_by_labels = match &options.labels {
        LabelMode::Auto => {
            !snapshots.is_empty() && snapshots.iter().all(|s| group::records_labels(s))
        }
        LabelMode::Merge => false,
        _ => true,
    };
    let groups = group::group(table, &snapshots, &options.labels);
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
    let xs: Option<Vec<f64>> = (order == SeriesOrder::CaptureTime).then(|| {
        series
            .iter()
            .map(|p| p.captured_at_ns.unwrap_or(0) as f64 / 1e9)
            .collect()
    });

    let mut suspects: Vec<Suspect> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let growth = growth::growth(&g.counts, xs.as_deref());
            let wait_ages = wait_ages(g);
            let score = if series.len() >= 2 {
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
    Analysis {
        series,
        order,
        groups,
        suspects,
        split_by_labels,
    }
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
