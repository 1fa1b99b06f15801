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

use crate::analysis::Analysis;
use crate::analysis::flame::FlameTree;
pub use crate::analysis::flame_spec::{
    self, FlameSpec, SelectError, default_diff_inputs, default_input, focus, value_index,
    weighted_stacks,
};
use crate::model::time::format_rfc3339;
use crate::model::{Session, Snapshot, SnapshotData};

/// Why an export failed. Every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The target exists and replacing it was not asked for.
    #[error("{}: already exists; not replacing it", path.display())]
    Exists {
        /// The file that is already there.
        path: PathBuf,
    },
    /// The target (or a temporary file beside it) could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The selection holds no stacks with a positive weight.
    #[error("nothing to draw: {0}")]
    Empty(String),
    /// The selection does not fit the session (an input, a sample type or a
    /// group that is not there).
    #[error(transparent)]
    Select(#[from] SelectError),
    /// The weights add up past what a flame graph SVG can count.
    #[error("nothing to draw: {0}")]
    Overflow(String),
    /// inferno refused the input (it should not: the lines come from a tree).
    #[error("rendering the flame graph: {0}")]
    Render(io::Error),
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
    /// The graph's heading: which input and which value it draws.
    pub title: String,
    /// A second line with what the title leaves out (capture time, group,
    /// focus), where there is any.
    pub subtitle: Option<String>,
    /// What the weights count, as the SVG's hover titles name it
    /// (`goroutines`, `bytes`, `samples`).
    pub count_name: String,
}

fn snapshot(session: &Session, input: usize) -> Result<&Snapshot, ExportError> {
    Ok(flame_spec::snapshot(session, input)?)
}

/// The flame tree of a spec (see [`flame_spec::build`]).
pub fn flame_tree(
    session: &Session,
    analysis: &Analysis,
    spec: &FlameSpec,
) -> Result<FlameTree, ExportError> {
    Ok(flame_spec::build(session, analysis, spec)?)
}

/// A differential tree: widths from `now`, growth measured from `base`.
/// Both specs are usually the same selection on two snapshots.
pub fn diff_tree(
    session: &Session,
    analysis: &Analysis,
    base: &FlameSpec,
    now: &FlameSpec,
) -> Result<FlameTree, ExportError> {
    let spec = FlameSpec {
        compare: Some(base.input),
        ..now.clone()
    };
    Ok(flame_spec::build(session, analysis, &spec)?)
}

/// The value column of a sampled profile by name (see
/// [`flame_spec::sample_type_index`]).
pub fn sample_type_index(
    session: &Session,
    input: usize,
    name: &str,
) -> Result<Option<usize>, ExportError> {
    Ok(flame_spec::sample_type_index(session, input, name)?)
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

pub use crate::text::file_name;

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
    if let Some(base) = spec.compare {
        return diff_titles(session, analysis, &spec.on(base), spec, tree);
    }
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
