//! What a flame graph shows, chosen once for the app and every export: a
//! [`FlameSpec`] names the input, the value, optionally one stack group, a
//! focus and an input to compare with; [`build`] turns it into the
//! [`FlameTree`] the app draws and the SVG renders, so the two are the same
//! graph by construction.

use regex::Regex;
use rustc_hash::FxHashMap;

use super::Analysis;
use super::flame::FlameTree;
use crate::model::{Session, Snapshot, SnapshotData, StackId, StackTable, StrId};

/// What a flame graph shows.
#[derive(Clone, Debug, Default)]
pub struct FlameSpec {
    /// Index into [`Session::inputs`].
    pub input: usize,
    /// Value column of a sampled profile; `None` for its default (the one
    /// `go tool pprof` shows first). Ignored for goroutine snapshots.
    pub value_index: Option<usize>,
    /// Only the goroutines of this stack group (index into
    /// [`Analysis::groups`], as [`super::Suspect::group`] gives).
    pub group: Option<usize>,
    /// Only the stacks that pass through a frame whose function matches,
    /// as `go tool pprof -focus` does; the stacks stay whole so callers and
    /// callees of the matching frames remain visible.
    pub focus: Option<Regex>,
    /// Draw the growth since this input: a differential tree whose widths
    /// are [`FlameSpec::input`]'s and whose colours say what grew.
    pub compare: Option<usize>,
}

/// Specs are equal when they select the same (a focus by its pattern), so
/// a view can tell whether its tree is still the one asked for.
impl PartialEq for FlameSpec {
    fn eq(&self, other: &FlameSpec) -> bool {
        self.input == other.input
            && self.value_index == other.value_index
            && self.group == other.group
            && self.compare == other.compare
            && self.focus.as_ref().map(Regex::as_str) == other.focus.as_ref().map(Regex::as_str)
    }
}

impl FlameSpec {
    /// The whole of one input.
    pub fn input(input: usize) -> FlameSpec {
        FlameSpec {
            input,
            ..FlameSpec::default()
        }
    }

    /// The same selection on another input (the baseline of a differential).
    pub fn on(&self, input: usize) -> FlameSpec {
        FlameSpec {
            input,
            compare: None,
            ..self.clone()
        }
    }
}

/// A spec that does not fit the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// An input index outside the session, or an input that is not a
    /// snapshot where one is needed.
    #[error("no snapshot #{0} among the inputs")]
    NoInput(usize),
    /// A sample type the profile does not have.
    #[error("{path}: no sample type {name:?} (it has {available})")]
    NoSampleType {
        /// The profile the spec named.
        path: String,
        /// The sample type asked for.
        name: String,
        /// The sample types it has, so the user can correct the request.
        available: String,
    },
    /// A stack group index outside the analysis.
    #[error("no stack group #{0} in the analysis")]
    NoGroup(usize),
    /// Stack groups exist only for the snapshots of the goroutine series.
    #[error("{path}: not one of the goroutine snapshots, so it has no stack groups")]
    NotInSeries {
        /// The snapshot that is not in the series.
        path: String,
    },
}

pub(crate) fn snapshot(session: &Session, input: usize) -> Result<&Snapshot, SelectError> {
    session
        .inputs
        .get(input)
        .and_then(|i| i.as_snapshot())
        .ok_or(SelectError::NoInput(input))
}

/// The value column a spec draws: the given one, else the profile's default.
pub fn value_index(snapshot: &Snapshot, spec: &FlameSpec) -> usize {
    match &snapshot.data {
        SnapshotData::Goroutines(_) => 0,
        SnapshotData::Samples(p) => spec
            .value_index
            .unwrap_or(p.default_type)
            .min(p.sample_types.len().saturating_sub(1)),
    }
}

/// The unit of the weights a spec draws (`goroutines`, `bytes`, `count`,
/// `nanoseconds`), for every table and header that states them; empty for
/// a spec that does not fit the session.
pub fn unit(session: &Session, spec: &FlameSpec) -> String {
    let Some(input) = session.inputs.get(spec.input) else {
        return String::new();
    };
    let Some(s) = input.as_snapshot() else {
        // A trace: its goroutines when the window closed.
        return "goroutines".into();
    };
    match &s.data {
        SnapshotData::Goroutines(_) => "goroutines".into(),
        SnapshotData::Samples(p) => p
            .sample_types
            .get(value_index(s, spec))
            .map_or(String::new(), |v| session.stacks.str(v.unit).to_owned()),
    }
}

/// The value column of a sampled profile named like `go tool pprof
/// -sample_index` takes it (`inuse_space`, `delay`); `None` for a goroutine
/// snapshot, which has only one measure.
pub fn sample_type_index(
    session: &Session,
    input: usize,
    name: &str,
) -> Result<Option<usize>, SelectError> {
    let s = snapshot(session, input)?;
    let Some(p) = s.samples() else {
        return Ok(None);
    };
    let t = &session.stacks;
    p.sample_types
        .iter()
        .position(|v| t.str(v.kind) == name)
        .map(Some)
        .ok_or_else(|| SelectError::NoSampleType {
            path: s.source.path.clone(),
            name: name.to_owned(),
            available: p
                .sample_types
                .iter()
                .map(|v| t.str(v.kind))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The weighted stacks a spec selects (its `compare` aside), before they
/// become a tree.
pub fn weighted_stacks(
    session: &Session,
    analysis: &Analysis,
    spec: &FlameSpec,
) -> Result<Vec<(StackId, u64)>, SelectError> {
    if let Some(t) = session.inputs.get(spec.input).and_then(|i| i.as_trace()) {
        // A trace stands for the goroutines alive when its window closed.
        if spec.group.is_some() {
            return Err(SelectError::NotInSeries {
                path: t.source.path.clone(),
            });
        }
        let stacks = super::trace::stacks_at_end(t);
        return Ok(match &spec.focus {
            Some(re) => focus(&session.stacks, stacks, re),
            None => stacks,
        });
    }
    let snap = snapshot(session, spec.input)?;
    let vi = value_index(snap, spec);
    let mut stacks = match spec.group {
        None => FlameTree::snapshot_weights(snap, vi),
        Some(g) => {
            if analysis.groups.get(g).is_none() {
                return Err(SelectError::NoGroup(g));
            }
            let si = analysis
                .series_index(spec.input)
                .ok_or_else(|| SelectError::NotInSeries {
                    path: snap.source.path.clone(),
                })?;
            analysis
                .records_of(g, si)
                .filter_map(|r| record_weight(snap, r, vi))
                .collect()
        }
    };
    if let Some(re) = &spec.focus {
        stacks = focus(&session.stacks, stacks, re);
    }
    Ok(stacks)
}

/// Stack and weight of one goroutine record or sample.
fn record_weight(snap: &Snapshot, record: usize, value_index: usize) -> Option<(StackId, u64)> {
    match &snap.data {
        SnapshotData::Goroutines(gs) => gs.get(record).map(|g| (g.stack, g.count)),
        SnapshotData::Samples(p) => p.samples.get(record).map(|s| {
            let v = s.values.get(value_index).copied().unwrap_or(0);
            (s.stack, u64::try_from(v).unwrap_or(0))
        }),
    }
}

/// Keeps the stacks with a frame whose function matches `re`. Each distinct
/// function is matched once, so a focus over 100,000 stacks runs the regex
/// a few thousand times, not millions.
pub fn focus(table: &StackTable, stacks: Vec<(StackId, u64)>, re: &Regex) -> Vec<(StackId, u64)> {
    let mut matches: FxHashMap<StrId, bool> = FxHashMap::default();
    stacks
        .into_iter()
        .filter(|&(stack, _)| {
            table.frames(stack).any(|f| {
                let function = table.frame(f).function;
                *matches
                    .entry(function)
                    .or_insert_with(|| re.is_match(table.str(function)))
            })
        })
        .collect()
}

/// The flame tree of a spec: plain, or differential when it compares.
pub fn build(
    session: &Session,
    analysis: &Analysis,
    spec: &FlameSpec,
) -> Result<FlameTree, SelectError> {
    let now = weighted_stacks(session, analysis, spec)?;
    match spec.compare {
        Some(base) => {
            let base = weighted_stacks(session, analysis, &spec.on(base))?;
            Ok(FlameTree::build_diff(&session.stacks, base, now))
        }
        None => Ok(FlameTree::build(&session.stacks, now)),
    }
}

/// The inputs a differential compares by default: the first and the last
/// snapshot of the goroutine series, when it has two or more.
pub fn default_diff_inputs(analysis: &Analysis) -> Option<(usize, usize)> {
    match analysis.series.as_slice() {
        [first, .., last] => Some((first.input, last.input)),
        _ => None,
    }
}

/// The input a flame graph shows by default: the newest of the goroutine
/// series, else the first input that is a snapshot, else the first trace.
pub fn default_input(session: &Session, analysis: &Analysis) -> Option<usize> {
    let inputs = &session.inputs;
    analysis
        .series
        .last()
        .map(|p| p.input)
        .or_else(|| inputs.iter().position(|i| i.as_snapshot().is_some()))
        // A trace alone: its goroutines when the window closed.
        .or_else(|| inputs.iter().position(|i| i.as_trace().is_some()))
}

/// The stacks of a group's goroutines in one input, and the group's own
/// (deepest) stack: what a selected group highlights in a flame graph of
/// that input. An input outside the series gives only the group's stack.
pub fn group_stacks(
    session: &Session,
    analysis: &Analysis,
    group: usize,
    input: usize,
) -> Vec<StackId> {
    let Some(g) = analysis.groups.get(group) else {
        return Vec::new();
    };
    let mut out: Vec<StackId> = match (analysis.series_index(input), snapshot(session, input)) {
        (Some(si), Ok(snap)) => analysis
            .records_of(group, si)
            .filter_map(|r| record_weight(snap, r, 0).map(|(s, _)| s))
            .collect(),
        _ => Vec::new(),
    };
    out.push(g.stack);
    out.sort_unstable();
    out.dedup();
    out
}
