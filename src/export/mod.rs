//! Evidence for tickets and postmortems: flame graph SVGs, differential
//! SVGs, folded stacks and a one-file incident report.
//!
//! Everything here starts from the same [`FlameTree`] the app draws, so
//! the boxes, their order and their colours in an exported SVG are the ones
//! people saw on screen. Rendering goes through the inferno crate, whose
//! SVGs are the ones every flame graph user knows (hover titles, click to
//! zoom, Ctrl+F search).
//!
//! The pieces, for the app and the CLI alike:
//!
//! 1. What to draw: [`FlameSpec`] picks an input, a value column, optionally
//!    one suspect's stack group and a focus regex; [`flame_tree`] and
//!    [`diff_tree`] turn it into a [`FlameTree`], [`titles`] and
//!    [`diff_titles`] describe it.
//! 2. How to draw it: [`svg::write_svg`] (any tree, including the app's
//!    current one, zoomed or searched), [`folded::write_folded`].
//! 3. The incident report: [`report::render`].
//! 4. Where it goes: [`atomic_write::write_atomic`], which never leaves a
//!    half-written file behind and never replaces one unless asked.

pub mod atomic_write;
pub mod chart;
pub mod folded;
pub mod report;
pub mod svg;

use std::io;
use std::path::PathBuf;

use regex::Regex;
use rustc_hash::FxHashMap;

use crate::analysis::Analysis;
use crate::analysis::flame::FlameTree;
use crate::model::time::format_rfc3339;
use crate::model::{Session, Snapshot, SnapshotData, StackId, StackTable, StrId};

/// Why an export failed. Every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The target exists and replacing it was not asked for.
    #[error("{}: already exists; not replacing it", path.display())]
    Exists { path: PathBuf },
    /// The target (or a temporary file beside it) could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// The selection holds no stacks with a positive weight.
    #[error("nothing to draw: {0}")]
    Empty(String),
    /// An input index outside the session, or an input that is not a
    /// snapshot where one is needed.
    #[error("no snapshot #{0} among the inputs")]
    NoInput(usize),
    /// A sample type the profile does not have.
    #[error("{path}: no sample type {name:?} (it has {available})")]
    NoSampleType {
        path: String,
        name: String,
        available: String,
    },
    /// A stack group index outside the analysis.
    #[error("no stack group #{0} in the analysis")]
    NoGroup(usize),
    /// Stack groups exist only for the snapshots of the goroutine series.
    #[error("{path}: not one of the goroutine snapshots, so it has no stack groups")]
    NotInSeries { path: String },
    /// The weights add up past what a flame graph SVG can count.
    #[error("nothing to draw: {0}")]
    Overflow(String),
    /// inferno refused the input (it should not: the lines come from a tree).
    #[error("rendering the flame graph: {0}")]
    Render(io::Error),
}

/// What a flame graph shows.
#[derive(Clone, Debug, Default)]
pub struct FlameSpec {
    /// Index into [`Session::inputs`].
    pub input: usize,
    /// Value column of a sampled profile; `None` for its default (the one
    /// `go tool pprof` shows first). Ignored for goroutine snapshots.
    pub value_index: Option<usize>,
    /// Only the goroutines of this stack group (index into
    /// [`Analysis::groups`], as [`crate::analysis::Suspect::group`] gives).
    pub group: Option<usize>,
    /// Only the stacks that pass through a frame whose function matches,
    /// as `go tool pprof -focus` does; the stacks stay whole so callers and
    /// callees of the matching frames remain visible.
    pub focus: Option<Regex>,
}

impl FlameSpec {
    /// The whole of one input.
    pub fn input(input: usize) -> FlameSpec {
        FlameSpec {
            input,
            ..FlameSpec::default()
        }
    }
}

/// Computes everything the app and the commands can show of `findings`:
/// the timeline lanes of the snapshots and of every trace, every input's
/// flame graph with its folded stacks and SVG, the incident report, and the
/// JSON document, which it returns. The sweep, the robustness tests and the
/// fuzz targets run it on whatever a parser returns, so ids pointing
/// nowhere or arithmetic that overflows anywhere downstream show up there.
pub fn render_all(findings: &crate::pipeline::Findings) -> String {
    let (session, analysis) = (&findings.session, &findings.analysis);
    let _ = findings.snapshot_lanes();
    for i in 0..findings.traces.len() {
        let _ = findings.trace_lanes(i);
    }
    for i in 0..session.inputs.len() {
        let spec = FlameSpec::input(i);
        if let Ok(tree) = flame_tree(session, analysis, &spec) {
            let _ = folded::folded_lines(&tree, &session.stacks, None, 0.0);
            if let Ok(titles) = titles(session, analysis, &spec, &tree) {
                let _ = svg::svg_string(&tree, &session.stacks, &svg::SvgOptions::new(titles));
            }
        }
    }
    let _ = report::render(findings, &report::ReportOptions::default());
    serde_json::to_string(&findings.report()).unwrap_or_default()
}

/// Title, subtitle and unit of a flame graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Titles {
    pub title: String,
    pub subtitle: Option<String>,
    /// What the weights count, as the SVG's hover titles name it
    /// (`goroutines`, `bytes`, `samples`).
    pub count_name: String,
}

fn snapshot(session: &Session, input: usize) -> Result<&Snapshot, ExportError> {
    session
        .inputs
        .get(input)
        .and_then(|i| i.as_snapshot())
        .ok_or(ExportError::NoInput(input))
}

/// The value column a spec draws: the given one, else the profile's default.
fn value_index(snapshot: &Snapshot, spec: &FlameSpec) -> usize {
    match &snapshot.data {
        SnapshotData::Goroutines(_) => 0,
        SnapshotData::Samples(p) => spec
            .value_index
            .unwrap_or(p.default_type)
            .min(p.sample_types.len().saturating_sub(1)),
    }
}

/// The value column of a sampled profile named like `go tool pprof
/// -sample_index` takes it (`inuse_space`, `delay`); `None` for a goroutine
/// snapshot, which has only one measure.
pub fn sample_type_index(
    session: &Session,
    input: usize,
    name: &str,
) -> Result<Option<usize>, ExportError> {
    let s = snapshot(session, input)?;
    let Some(p) = s.samples() else {
        return Ok(None);
    };
    let t = &session.stacks;
    p.sample_types
        .iter()
        .position(|v| t.str(v.kind) == name)
        .map(Some)
        .ok_or_else(|| ExportError::NoSampleType {
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

/// The weighted stacks a spec selects, before they become a tree.
pub fn weighted_stacks(
    session: &Session,
    analysis: &Analysis,
    spec: &FlameSpec,
) -> Result<Vec<(StackId, u64)>, ExportError> {
    if let Some(t) = session.inputs.get(spec.input).and_then(|i| i.as_trace()) {
        // A trace stands for the goroutines alive when its window closed.
        if spec.group.is_some() {
            return Err(ExportError::NotInSeries {
                path: t.source.path.clone(),
            });
        }
        let stacks = crate::analysis::trace::stacks_at_end(t);
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
                return Err(ExportError::NoGroup(g));
            }
            let si = analysis
                .series
                .iter()
                .position(|p| p.input == spec.input)
                .ok_or_else(|| ExportError::NotInSeries {
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

/// The flame tree of a spec.
pub fn flame_tree(
    session: &Session,
    analysis: &Analysis,
    spec: &FlameSpec,
) -> Result<FlameTree, ExportError> {
    let stacks = weighted_stacks(session, analysis, spec)?;
    Ok(FlameTree::build(&session.stacks, stacks))
}

/// A differential tree: widths from `now`, growth measured from `base`.
/// Both specs are usually the same selection on two snapshots.
pub fn diff_tree(
    session: &Session,
    analysis: &Analysis,
    base: &FlameSpec,
    now: &FlameSpec,
) -> Result<FlameTree, ExportError> {
    let b = weighted_stacks(session, analysis, base)?;
    let n = weighted_stacks(session, analysis, now)?;
    Ok(FlameTree::build_diff(&session.stacks, b, n))
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

/// What one unit of a snapshot's weight is, for hover titles.
fn count_name(session: &Session, snap: &Snapshot, value_index: usize) -> String {
    match &snap.data {
        SnapshotData::Goroutines(_) => "goroutines".to_owned(),
        SnapshotData::Samples(p) => {
            let t = &session.stacks;
            match p.sample_types.get(value_index) {
                Some(v) if t.str(v.unit) == "count" || t.str(v.unit).is_empty() => {
                    t.str(v.kind).to_owned()
                }
                Some(v) => t.str(v.unit).to_owned(),
                None => "samples".to_owned(),
            }
        }
    }
}

/// `goroutine-t3.pb.gz` for `tests/fixtures/goroutine-t3.pb.gz`.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// What kind of data a snapshot is: `goroutine dump`, `pprof heap`.
fn kind_of(snap: &Snapshot) -> String {
    match &snap.source.profile_type {
        Some(p) => format!("{} {}", snap.source.format.name(), p.name()),
        None => snap.source.format.name().to_owned(),
    }
}

/// The name of what a spec measures: `goroutines`, `heap inuse_space`.
fn measure_name(session: &Session, snap: &Snapshot, value_index: usize) -> String {
    match &snap.data {
        SnapshotData::Goroutines(_) => "Goroutines".to_owned(),
        SnapshotData::Samples(p) => {
            let kind = p
                .sample_types
                .get(value_index)
                .map_or("", |v| session.stacks.str(v.kind));
            match &snap.source.profile_type {
                Some(t) => format!("{} {kind}", t.name()),
                None => kind.to_owned(),
            }
        }
    }
}

/// What narrows a spec, for titles: ` of suspect main.f`, ` through /re/`.
fn narrowing(session: &Session, analysis: &Analysis, spec: &FlameSpec) -> String {
    let mut out = String::new();
    if let Some(g) = spec.group {
        let site = analysis
            .suspects
            .iter()
            .find(|s| s.group == g)
            .and_then(|s| s.leak_site)
            .map(|f| session.stacks.function(f));
        match site {
            Some(f) => out.push_str(&format!(" in stack group {f}")),
            None => out.push_str(&format!(" in stack group #{g}")),
        }
    }
    if let Some(re) = &spec.focus {
        out.push_str(&format!(" through /{}/", re.as_str()));
    }
    out
}

/// Title and subtitle of a flame graph: what it measures, from which file,
/// captured when, and the total drawn.
pub fn titles(
    session: &Session,
    analysis: &Analysis,
    spec: &FlameSpec,
    tree: &FlameTree,
) -> Result<Titles, ExportError> {
    if let Some(t) = session.inputs.get(spec.input).and_then(|i| i.as_trace()) {
        return Ok(Titles {
            title: format!(
                "Goroutines at the end of the trace{}: {}",
                narrowing(session, analysis, spec),
                file_name(&t.source.path)
            ),
            subtitle: Some(
                [
                    t.source.path.clone(),
                    format!("execution trace ({})", t.go_version),
                    format!(
                        "{} goroutines alive when the window closed",
                        thousands(tree.root_total())
                    ),
                ]
                .join(" · "),
            ),
            count_name: "goroutines".to_owned(),
        });
    }
    let snap = snapshot(session, spec.input)?;
    let vi = value_index(snap, spec);
    let count_name = count_name(session, snap, vi);
    let title = format!(
        "{}{}: {}",
        measure_name(session, snap, vi),
        narrowing(session, analysis, spec),
        file_name(&snap.source.path)
    );
    let mut sub = vec![snap.source.path.clone(), kind_of(snap)];
    if let Some(t) = snap.captured_at_ns {
        sub.push(format!("captured {}", format_rfc3339(t)));
    }
    sub.push(format!("{} {count_name}", thousands(tree.root_total())));
    Ok(Titles {
        title,
        subtitle: Some(sub.join(" · ")),
        count_name,
    })
}

/// Title and subtitle of a differential flame graph.
pub fn diff_titles(
    session: &Session,
    analysis: &Analysis,
    base: &FlameSpec,
    now: &FlameSpec,
    tree: &FlameTree,
) -> Result<Titles, ExportError> {
    let b = snapshot(session, base.input)?;
    let n = snapshot(session, now.input)?;
    let vi = value_index(n, now);
    let count_name = count_name(session, n, vi);
    let title = format!(
        "{}{}: {} → {}",
        measure_name(session, n, vi),
        narrowing(session, analysis, now),
        file_name(&b.source.path),
        file_name(&n.source.path)
    );
    let base_total = tree.nodes.first().map_or(0, |r| r.base_total);
    let mut sub = vec![format!(
        "widths: {}; red grew, blue shrank since {}",
        file_name(&n.source.path),
        file_name(&b.source.path)
    )];
    if let (Some(tb), Some(tn)) = (b.captured_at_ns, n.captured_at_ns) {
        sub.push(format!(
            "captured {} → {}",
            format_rfc3339(tb),
            format_rfc3339(tn)
        ));
    }
    sub.push(format!(
        "{} → {} {count_name}",
        thousands(base_total),
        thousands(tree.root_total())
    ));
    Ok(Titles {
        title,
        subtitle: Some(sub.join(" · ")),
        count_name,
    })
}

/// `17,616,843`: counts as inferno writes them in hover titles.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Escapes text for XML and HTML, in content and in quoted attributes.
pub(crate) fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}
