//! Pure functions from a loaded [`Session`] to what users look at: stack
//! groups, their growth across snapshots, and ranked leak suspects.

pub mod correlate;
pub mod creation_tree;
pub mod flame;
pub mod flame_spec;
pub mod fleet;
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
pub mod wait_hist;
pub mod wording;

use std::sync::Arc;

use serde::Serialize;

pub use group::{Group, LabelMode};
pub use growth::Growth;

use group::Grouper;

use crate::model::{
    Format, FrameId, ProfileType, Session, Snapshot, SnapshotData, StackId, StackTable,
};

/// Knobs of the analysis.
#[derive(Clone, Debug, Default)]
pub struct AnalysisOptions {
    /// Whether and how pprof labels split stack groups: one leak site can serve
    /// several request kinds, and only one of them may leak.
    pub labels: LabelMode,
    /// Rank the stacks of this count profile (a `pprof.NewProfile` name:
    /// open connections, files, sessions) instead of goroutines: its
    /// snapshots make the series, counted by their first value.
    pub count_profile: Option<String>,
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
    /// Its capture time, where it has one: what orders the series and spaces
    /// growth in time.
    pub captured_at_ns: Option<i64>,
    /// Goroutines (or samples) in it.
    pub total: u64,
}

/// Wait ages of a group's goroutines, in minutes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitAges {
    /// The shortest wait: how recently the group's newest goroutine got stuck.
    pub min: u32,
    /// The median wait, less swayed by one old straggler than the mean.
    pub median: u32,
    /// The longest wait: how long the leak has been going on at least.
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
    /// How the group's count changes across the series, the main signal of a
    /// leak.
    pub growth: Growth,
    /// Ranking score: the growth score across snapshots, or with a single
    /// snapshot the goroutine count weighted by wait age.
    pub score: f64,
    /// How long the group's goroutines have waited, where the dump prints it:
    /// old waits are a leak's signature in one snapshot.
    pub wait_ages: Option<WaitAges>,
    /// The strongest evidence that the group leaks.
    pub evidence: Evidence,
}

/// What says a group leaks, strongest first. The runtime proves only
/// goroutines blocked on something no live goroutine can reach: a leak
/// whose channel hangs off a global is not proven, so growth stays a
/// signal of its own, and "not proven" never means "not leaking".
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// The runtime proved goroutines of the group leaked (its
    /// `goroutineleak` profile, or `(leaked)` marks in a dump).
    Proven,
    /// The group grows across the snapshots.
    Growing,
    /// Several snapshots, and the group does not grow.
    NotGrowing,
    /// One snapshot: ranked by size and how long its goroutines waited.
    OneSnapshot,
}

impl Evidence {
    /// How the evidence reads in a list.
    pub fn label(self) -> &'static str {
        match self {
            Evidence::Proven => "proven leaked by the runtime",
            Evidence::Growing => "growing across snapshots",
            Evidence::NotGrowing => "not growing",
            Evidence::OneSnapshot => "one snapshot only",
        }
    }
}

/// Everything computed from a session.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The snapshots growth is measured over, in series order.
    pub series: Vec<SeriesPoint>,
    /// Whether the series is ordered by capture time or by input order, which
    /// reports say because it changes what "growth" means.
    pub order: SeriesOrder,
    /// Goroutines grouped by stack identity across snapshots and dialects.
    pub groups: Vec<Group>,
    /// Best first: growing groups, then the rest by size.
    pub suspects: Vec<Suspect>,
    /// Groups were split by labels.
    pub split_by_labels: bool,
    /// The `goroutineleak` profiles among the inputs: evidence, not steps
    /// of the series (indices into [`Session::inputs`]).
    pub evidence: Vec<usize>,
    /// Goroutine dumps of another dialect than the series', taken as detail
    /// of it (see `series_inputs`).
    pub details: Vec<usize>,
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
    /// The group a suspect ranks, so callers need not index `groups`
    /// themselves.
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

    /// The options it was computed with, so an incremental update keeps them.
    pub fn options(&self) -> &AnalysisOptions {
        &self.options
    }

    /// Takes in input `input`, just added to `session`, without going over
    /// the earlier inputs again where that gives the same result as
    /// [`analyze`]: a goroutine snapshot captured after the series' last
    /// one (or, without capture times, given after it) that does not change
    /// how labels split groups, or a `goroutineleak` profile. Inputs that
    /// are not part of the series (traces, sampled profiles) change
    /// nothing; anything else is analysed from scratch.
    pub fn append(&mut self, session: &Session, input: usize) {
        let Some(added) = session.inputs.get(input) else {
            return;
        };
        match role(added, &self.options) {
            Role::Evidence => {
                if let Some(snapshot) = added.as_snapshot() {
                    let n = self.series.len();
                    self.grouper
                        .add_evidence(&session.stacks, snapshot, n, &mut self.groups);
                    self.evidence.push(input);
                    self.rank(&session.stacks);
                }
            }
            Role::Series(goroutines) if goroutines == self.series_is_goroutines(session) => {
                match added.as_snapshot() {
                    Some(s) if self.extends_series(session, s) => {
                        self.push_snapshot(session, input, s)
                    }
                    _ => *self = analyze(session, &self.options),
                }
            }
            Role::Series(_) => *self = analyze(session, &self.options),
            Role::Other => {}
        }
    }

    fn push_snapshot(&mut self, session: &Session, input: usize, snapshot: &Snapshot) {
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

    /// Whether a snapshot of the series' kind can join its end as it is: of
    /// the series' dialect (another may make it a detail), and after it.
    fn extends_series(&self, session: &Session, snapshot: &Snapshot) -> bool {
        let same_dialect = self.series.first().is_none_or(|p| {
            session
                .inputs
                .get(p.input)
                .is_some_and(|i| i.format() == snapshot.source.format)
        });
        if !same_dialect || !self.details.is_empty() {
            return false;
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
                .is_some_and(|i| role(i, &self.options) == Role::Series(true))
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
                let evidence = if g.proven() > 0 {
                    Evidence::Proven
                } else if growth.growing {
                    Evidence::Growing
                } else if snapshots >= 2 {
                    Evidence::NotGrowing
                } else {
                    Evidence::OneSnapshot
                };
                Suspect {
                    group: i,
                    leak_site: frames::leak_site(table, g.stack),
                    entry: frames::entry_function(table, g.stack),
                    growth,
                    score,
                    wait_ages,
                    evidence,
                }
            })
            .collect();
        let name = |s: &Suspect| s.leak_site.map_or("", |f| table.function(f));
        // Proven leaks first wherever they are, most proven first; then
        // growth; then size and wait age.
        suspects.sort_by(|a, b| {
            let (ga, gb) = (&groups[a.group], &groups[b.group]);
            let proven = |s: &Suspect, g: &Group| (s.evidence == Evidence::Proven, g.proven());
            proven(b, gb)
                .cmp(&proven(a, ga))
                .then(b.growth.growing.cmp(&a.growth.growing))
                .then(b.score.total_cmp(&a.score))
                .then(gb.last_count().cmp(&ga.last_count()))
                .then(b.wait_ages.map(|w| w.max).cmp(&a.wait_ages.map(|w| w.max)))
                .then_with(|| name(a).cmp(name(b)))
                .then(a.group.cmp(&b.group))
        });
        self.suspects = suspects;
    }
}

/// What an input is to the analysis.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Role {
    /// A step of the growth series: a goroutine snapshot (`true`), or
    /// folded stacks (`false`, a series only where there are no goroutine
    /// snapshots).
    Series(bool),
    /// The runtime's `goroutineleak` profile: proof about one moment, never
    /// a step of the series (opened beside dumps it would make every group
    /// it lacks look like it grew from nothing).
    Evidence,
    /// Traces and sampled profiles: views of their own.
    Other,
}

fn role(input: &crate::model::Input, options: &AnalysisOptions) -> Role {
    let Some(s) = input.as_snapshot() else {
        return Role::Other;
    };
    if let Some(name) = &options.count_profile {
        let ours = matches!(&s.source.profile_type, Some(ProfileType::Other(n)) if n == name);
        return if ours {
            Role::Series(false)
        } else {
            Role::Other
        };
    }
    if s.source.profile_type == Some(crate::model::ProfileType::GoroutineLeak) {
        Role::Evidence
    } else if matches!(s.data, SnapshotData::Goroutines(_)) {
        Role::Series(true)
    } else if s.source.format == Format::Folded {
        Role::Series(false)
    } else {
        Role::Other
    }
}

/// The inputs of one role, in input order.
fn inputs_of(session: &Session, want: Role, options: &AnalysisOptions) -> Vec<usize> {
    session
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, input)| role(input, options) == want)
        .map(|(i, _)| i)
        .collect()
}

/// The snapshots that form the growth series: goroutine snapshots, or where
/// there are none, folded stacks (whose counts are then taken as the
/// measure).
///
/// Where goroutine snapshots of several dialects are mixed and one dialect
/// has more snapshots than any other (the protobuf profiles a capture polls,
/// and the one `debug=2` dump it takes after them), that dialect makes the
/// series and the others are details of it: the extra dump is the newest
/// moment again, not one more interval (it would bend every rate) and not
/// new goroutines (every one of them would be drawn twice).
fn series_inputs(session: &Session, options: &AnalysisOptions) -> (Vec<usize>, Vec<usize>) {
    let pick = |goroutines: bool| inputs_of(session, Role::Series(goroutines), options);
    let goroutines = pick(true);
    if goroutines.is_empty() {
        return (pick(false), Vec::new());
    }
    let format = |i: usize| session.inputs[i].format();
    let mut by_format: Vec<(Format, usize)> = Vec::new();
    for &i in &goroutines {
        match by_format.iter_mut().find(|(f, _)| *f == format(i)) {
            Some((_, n)) => *n += 1,
            None => by_format.push((format(i), 1)),
        }
    }
    by_format.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    match by_format.as_slice() {
        [(main, n), (_, m), ..] if n > m => {
            goroutines.into_iter().partition(|&i| format(i) == *main)
        }
        _ => (goroutines, Vec::new()),
    }
}

/// Groups, measures and ranks.
pub fn analyze(session: &Session, options: &AnalysisOptions) -> Analysis {
    let (mut inputs, details) = series_inputs(session, options);
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
    let (mut groups, record_groups, mut grouper) = group::group(table, &snapshots, &options.labels);
    for (d, &i) in details.iter().enumerate() {
        if let Some(s) = session.inputs[i].as_snapshot() {
            grouper.add_detail(table, s, d as u32, &mut groups);
        }
    }
    let evidence = inputs_of(session, Role::Evidence, options);
    for &i in &evidence {
        if let Some(s) = session.inputs[i].as_snapshot() {
            grouper.add_evidence(table, s, inputs.len(), &mut groups);
        }
    }
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
        evidence,
        details,
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
