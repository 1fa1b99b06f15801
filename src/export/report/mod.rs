//! The incident report: one self-contained file to attach to a ticket or a
//! postmortem, in HTML (inline SVG, no scripts, no external resources) or
//! Markdown (for tools that take Markdown; its pictures are data URIs).
//!
//! It says what `leakscope inspect` says, from the same
//! [`crate::analysis::summary`] data: the inputs and when they were
//! captured, the goroutine count over time, the suspects table, the flame
//! graph of the newest snapshot and the differential one since the first,
//! and for the top suspects their full stacks and creation sites.
//!
//! Data from other sources joins through [`SuspectExtras`]: extra columns
//! of the suspects table, extra sections per suspect and extra sections at
//! the end. [`trace_extras`] is how the session's execution trace joins,
//! from the trace analysis the pipeline already made.

mod doc;
mod html;
mod markdown;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::svg::{self, SvgOptions};
use super::{ExportError, FlameSpec, chart};
use crate::analysis::summary::{self, FrameJson, Report, SuspectJson};
use crate::analysis::{Analysis, Evidence, SeriesOrder, wording};
use crate::model::Session;
use crate::pipeline::Findings;

/// The name of a stack group without frames (goroutines caught before
/// their first frame, or a profile that records no stack).
const NO_FRAMES: &str = "(no frames)";

/// The file format of a report.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// One self-contained HTML file: opens in any browser, attaches to any
    /// ticket.
    #[default]
    Html,
    /// Markdown, for pasting into an issue or a wiki.
    Markdown,
}

impl ReportFormat {
    /// Markdown for `.md` and `.markdown`, HTML for anything else.
    pub fn from_path(path: &Path) -> ReportFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("md" | "markdown") => ReportFormat::Markdown,
            _ => ReportFormat::Html,
        }
    }
}

/// A block of an extra section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A paragraph of plain text.
    Text(String),
    /// Preformatted text, such as a stack.
    Code(String),
    /// A table of plain text cells.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// One row per entry, as many cells as there are columns.
        rows: Vec<Vec<String>>,
    },
}

/// A titled part of the report contributed by another source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section's title.
    pub heading: String,
    /// Its content, in order.
    pub blocks: Vec<Block>,
}

/// What another source adds about one suspect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SuspectExtra {
    /// Cells for [`SuspectExtras::columns`], in that order.
    pub cells: Vec<String>,
    /// Shown in the suspect's details, after its stack.
    pub sections: Vec<Section>,
}

/// Additions to the report from sources the snapshots do not cover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SuspectExtras {
    /// Extra columns of the suspects table.
    pub columns: Vec<String>,
    /// Per suspect, keyed by its stack group ([`crate::analysis::Suspect::group`]).
    pub by_group: BTreeMap<usize, SuspectExtra>,
    /// Sections at the end of the report.
    pub sections: Vec<Section>,
}

/// Creation events and blocking points listed per suspect, at most.
const TRACE_ROWS: usize = 12;

/// What the session's first execution trace adds: a "trace goroutines"
/// column (trace goroutines on each suspect's call path), per suspect the
/// creators of those goroutines with their stacks and the blocking points
/// on the path (where, why, for how long), and a section with the
/// goroutines the trace saw created and still stuck at its end.
pub fn trace_extras(findings: &Findings) -> SuspectExtras {
    let (session, analysis) = (&findings.session, &findings.analysis);
    let Some(ta) = findings.traces.first().map(|t| &*t.analysis) else {
        return SuspectExtras::default();
    };
    let Some(trace) = session.inputs.get(ta.input).and_then(|i| i.as_trace()) else {
        return SuspectExtras::default();
    };
    let t = &session.stacks;
    let frame_text = |f: Option<crate::model::FrameId>| {
        f.map_or(NO_FRAMES.to_owned(), |f| {
            let fr = t.frame(f);
            format!("{} ({}:{})", t.str(fr.function), t.str(fr.file), fr.line)
        })
    };
    let rel = |ns: i64| crate::model::time::format_duration_ns(ns - trace.window.start_ns);
    let mut extras = SuspectExtras {
        columns: vec!["trace goroutines".to_owned()],
        ..SuspectExtras::default()
    };
    for s in &analysis.suspects {
        let members = ta
            .group_goroutines
            .get(s.group)
            .map_or(&[][..], Vec::as_slice);
        let mut extra = SuspectExtra {
            cells: vec![members.len().to_string()],
            sections: Vec::new(),
        };
        if !members.is_empty() {
            let g = &analysis.groups[s.group];
            let mut matches = ta.index.find(trace, |st| {
                crate::analysis::trace::same_call_path(t, st, g.stack, 6)
            });
            // Goroutines born in the window first: their creation is in it.
            matches.sort_by_key(|m| (m.creation.is_none(), m.id));
            let mut rows = Vec::new();
            for m in matches
                .iter()
                .filter(|m| m.by_blocking || m.by_start)
                .take(TRACE_ROWS)
            {
                let created = m
                    .creation
                    .as_ref()
                    .map_or("before the window".to_owned(), |c| {
                        let by = c
                            .creator_id
                            .map_or(String::new(), |id| format!(" in goroutine {id}"));
                        format!(
                            "+{} by {}{by}",
                            rel(c.time_ns),
                            frame_text(t.leaf(c.creator_stack))
                        )
                    });
                let blocked = m.blocking_points.last().map_or(String::new(), |b| {
                    format!(
                        "+{}: {} for {}{}",
                        rel(b.time_ns),
                        crate::analysis::wait::wait_reason(t, b.reason, b.stack).text(t),
                        crate::model::time::format_duration_ns(b.duration_ns),
                        if b.unblocked { "" } else { " (still blocked)" }
                    )
                });
                rows.push(vec![m.id.to_string(), created, blocked]);
            }
            extra.sections.push(Section {
                heading: format!(
                    "In the trace: {} on this call path",
                    wording::count_of(members.len() as u64, "goroutine")
                ),
                blocks: vec![Block::Table {
                    header: vec![
                        "goroutine".to_owned(),
                        "created".to_owned(),
                        "last blocking point".to_owned(),
                    ],
                    rows,
                }],
            });
        }
        extras.by_group.insert(s.group, extra);
    }
    let rows: Vec<Vec<String>> = ta
        .suspects
        .iter()
        .filter(|s| s.growing)
        .map(|s| {
            let l = &ta.leaks[s.leak];
            vec![
                frame_text(s.leak_site),
                l.reason.text(t).to_owned(),
                l.creation_site
                    .map_or(String::new(), |f| t.function(f).to_owned()),
                l.goroutines.len().to_string(),
            ]
        })
        .collect();
    let sum = &ta.summary;
    extras.sections.push(Section {
        heading: format!("Execution trace ({})", sum.go_version),
        blocks: vec![
            Block::Text(format!(
                "{} events; {} goroutines created in the window, {} ended, {} alive at its end.",
                sum.events, sum.goroutines_created, sum.goroutines_ended, sum.alive_at_end
            )),
            Block::Text(
                "Goroutines created in the window that are still waiting at its end, by site:"
                    .to_owned(),
            ),
            Block::Table {
                header: vec![
                    "blocked at".to_owned(),
                    "reason".to_owned(),
                    "created by".to_owned(),
                    "goroutines".to_owned(),
                ],
                rows,
            },
        ],
    });
    extras
}

/// What a report contains and how it looks.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// HTML or Markdown.
    pub format: ReportFormat,
    /// Suspects shown in detail, with full stacks.
    pub top_suspects: usize,
    /// Groups that are not growing, listed after the growing ones.
    pub other_groups: usize,
    /// Suspects drawn in the goroutine-count chart beside the total.
    pub chart_suspects: usize,
    /// Pruning of the embedded flame graphs.
    pub min_width_pct: f64,
    /// When the report was made; `None` leaves it out (golden files).
    pub generated_at_ns: Option<i64>,
    /// What joins the suspects from other sources; `None`: the session's
    /// execution trace ([`trace_extras`]).
    pub extras: Option<SuspectExtras>,
    /// Sections right after the headline: what matters more than the
    /// session's own detail (the ranking across a fleet).
    pub leading: Vec<Section>,
    /// The service's goroutine history from Prometheus, drawn behind the
    /// snapshots' times.
    pub history: Option<History>,
}

/// A goroutine history read from Prometheus, for the report's chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// What was asked (`go_goroutines{instance="…"}`) and over how long.
    pub title: String,
    /// `(unix seconds, value)`.
    pub points: Vec<(f64, f64)>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            format: ReportFormat::Html,
            top_suspects: 5,
            other_groups: 5,
            chart_suspects: 5,
            min_width_pct: svg::DEFAULT_MIN_WIDTH_PCT,
            generated_at_ns: None,
            extras: None,
            leading: Vec::new(),
            history: None,
        }
    }
}

/// One flame graph of the report.
struct Graph {
    heading: String,
    svg: String,
}

/// Everything a report shows, before it is written in one format.
struct Content<'a> {
    summary: &'a Report,
    /// Suspects in the table, with their stack groups, in rank order.
    listed: Vec<(usize, &'a SuspectJson)>,
    /// Suspects shown in detail (indices into `listed`).
    detailed: Vec<usize>,
    chart: Option<String>,
    graphs: Vec<Graph>,
    headline: String,
    /// The snapshots' capture times (Unix seconds), to mark on a history.
    marks: Vec<(f64, String)>,
}

fn content<'a>(
    session: &Session,
    analysis: &Analysis,
    summary: &'a Report,
    opts: &ReportOptions,
) -> Result<Content<'a>, ExportError> {
    let ranked: Vec<(usize, &SuspectJson)> = analysis
        .suspects
        .iter()
        .map(|s| s.group)
        .zip(&summary.suspects)
        .collect();
    // Proven and growing groups come first in the ranking: all of them are
    // listed, then a few others.
    let growing = ranked
        .iter()
        .filter(|(_, s)| matches!(s.evidence, Evidence::Proven | Evidence::Growing))
        .count();
    let listed: Vec<(usize, &SuspectJson)> = ranked
        .iter()
        .copied()
        .take(growing + opts.other_groups)
        .collect();
    let detailed: Vec<usize> = if growing > 0 {
        (0..growing.min(opts.top_suspects)).collect()
    } else {
        (0..listed.len().min(opts.top_suspects.min(3))).collect()
    };
    let mut graphs = Vec::new();
    let graph_opts = |titles| SvgOptions {
        interactive: false,
        // Indented, so a report in version control diffs line by line.
        pretty_xml: true,
        min_width_pct: opts.min_width_pct,
        ..SvgOptions::new(titles)
    };
    if let Some(input) = super::default_input(session, analysis) {
        let spec = FlameSpec::input(input);
        let tree = super::flame_tree(session, analysis, &spec)?;
        if tree.root_total() > 0 {
            let titles = super::titles(session, analysis, &spec, &tree)?;
            let heading = format!("Flame graph: {}", titles.title);
            // Implausible counts cost the report its graph, not the report.
            match svg::svg_string(&tree, &session.stacks, &graph_opts(titles)) {
                Ok(svg) => graphs.push(Graph { heading, svg }),
                Err(ExportError::Overflow(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if let Some((base, now)) = super::default_diff_inputs(analysis) {
        let (b, n) = (FlameSpec::input(base), FlameSpec::input(now));
        let tree = super::diff_tree(session, analysis, &b, &n)?;
        if tree.root_total() > 0 {
            let titles = super::diff_titles(session, analysis, &b, &n, &tree)?;
            let heading = format!("Differential flame graph: {}", titles.title);
            // Implausible counts cost the report its graph, not the report.
            match svg::svg_string(&tree, &session.stacks, &graph_opts(titles)) {
                Ok(svg) => graphs.push(Graph { heading, svg }),
                Err(ExportError::Overflow(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(Content {
        summary,
        listed,
        detailed,
        chart: chart::goroutine_chart(session, analysis, opts.chart_suspects),
        graphs,
        headline: headline(summary),
        marks: analysis
            .series
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let t = p.captured_at_ns? as f64 / 1e9;
                Some((t, format!("t{i}: {} goroutines", p.total)))
            })
            .collect(),
    })
}

/// One sentence on what the report found: the runtime's verdict, then the
/// growth of the snapshots' groups (a trace's stuck goroutines are another
/// measure, told in its own section).
fn headline(summary: &Report) -> String {
    let groups: Vec<&SuspectJson> = summary
        .suspects
        .iter()
        .filter(|s| s.source == "snapshots")
        .collect();
    let proven: Vec<&&SuspectJson> = groups.iter().filter(|s| s.proven_leaked > 0).collect();
    let verdict = match proven.iter().map(|s| s.proven_leaked).sum::<u64>() {
        0 => String::new(),
        n => format!(
            "The runtime proved {} leaked, in {}. ",
            wording::count_of(n, "goroutine"),
            wording::count_of(proven.len() as u64, "stack group")
        ),
    };
    format!("{verdict}{}", growth_headline(summary, &groups))
}

fn growth_headline(summary: &Report, groups: &[&SuspectJson]) -> String {
    let snaps = &summary.series.snapshots;
    let growing: Vec<&&SuspectJson> = groups.iter().filter(|s| s.growing).collect();
    match snaps.as_slice() {
        [] => "No goroutine snapshots among the inputs.".to_owned(),
        [only] => format!(
            "One goroutine snapshot ({} goroutines): suspects are ranked by size and wait time; \
             growth needs two snapshots or more.",
            only.goroutines
        ),
        [first, .., last] => {
            let n = snaps.len() - 1;
            if growing.is_empty() {
                format!(
                    "No stack group grew from t0 to t{n} ({} → {} goroutines).",
                    first.goroutines, last.goroutines
                )
            } else {
                let added: i128 = growing.iter().map(|s| s.added()).sum();
                format!(
                    "{} (+{added} goroutines from t0 to t{n}); {} → {} goroutines in all.",
                    wording::count_of(growing.len() as u64, "growing stack group"),
                    first.goroutines,
                    last.goroutines
                )
            }
        }
    }
}

/// Renders the report of a session in the chosen format.
pub fn render(findings: &Findings, opts: &ReportOptions) -> Result<String, ExportError> {
    let summary = findings.report();
    let extras = match &opts.extras {
        Some(e) => e.clone(),
        None => trace_extras(findings),
    };
    let c = content(&findings.session, &findings.analysis, &summary, opts)?;
    let parts = doc::build(&c, opts, &extras);
    Ok(match opts.format {
        ReportFormat::Html => html::render(&parts),
        ReportFormat::Markdown => markdown::render(&parts),
    })
}

/// The evidence of a suspect: proven by the runtime, its growth rate, or
/// that it holds steady.
fn growth_text(s: &SuspectJson) -> String {
    let rate = if s.growing {
        wording::rate(s.per_minute, s.slope)
    } else if s.counts.len() < 2 {
        "–".to_owned()
    } else {
        "steady".to_owned()
    };
    if s.proven_leaked > 0 {
        format!("proven leaked ×{} · {rate}", s.proven_leaked)
    } else {
        rate
    }
}

fn wait_text(s: &SuspectJson) -> String {
    match s.wait_minutes {
        Some(w) if w.min == w.max => format!("{} min", w.min),
        Some(w) => format!("{}–{} min (median {})", w.min, w.max, w.median),
        None => "–".to_owned(),
    }
}

fn labels_text(s: &SuspectJson) -> String {
    s.labels
        .iter()
        .take(3)
        .map(|l| {
            let kv: Vec<String> = l.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} ({})", kv.join(","), l.goroutines)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn frame_text(out: &mut String, f: &FrameJson) {
    let _ = writeln!(out, "{}", f.function);
    if !f.file.is_empty() {
        let _ = writeln!(out, "    {}:{}", f.file, f.line);
    }
}

/// A goroutine stack as Go prints it: innermost first, file:line indented.
fn stack_text(s: &SuspectJson) -> String {
    let mut out = String::new();
    for f in &s.stack {
        frame_text(&mut out, f);
    }
    if let Some(c) = &s.created_at {
        let _ = writeln!(out, "created by {}", c.function);
        if !c.file.is_empty() {
            let _ = writeln!(out, "    {}:{}", c.file, c.line);
        }
    }
    out
}

fn site_text(s: &SuspectJson) -> String {
    match (&s.file, s.line) {
        (Some(f), Some(l)) if !f.is_empty() => format!("{f}:{l}"),
        _ => String::new(),
    }
}

fn created_text(s: &SuspectJson) -> String {
    match &s.created_at {
        Some(c) if !c.file.is_empty() => format!("{} at {}:{}", c.function, c.file, c.line),
        Some(c) => c.function.clone(),
        None => "–".to_owned(),
    }
}

fn input_notes(i: &summary::InputJson) -> String {
    let mut notes: Vec<String> = Vec::new();
    if let Some(e) = &i.error {
        notes.push(format!("could not be loaded: {e}"));
    }
    if let Some(p) = &i.panic {
        let first = p.message.lines().next().unwrap_or("");
        match p.goroutine {
            Some(g) => notes.push(format!("crashed in goroutine {g}: {first}")),
            None => notes.push(format!("crashed: {first}")),
        }
    }
    for w in &i.warnings {
        notes.push(format!("warning: {w}"));
    }
    if let Some(top) = &i.top {
        let fns: Vec<String> = top
            .functions
            .iter()
            .take(3)
            .map(|e| format!("{} {}", e.function, e.flat))
            .collect();
        notes.push(format!(
            "{} {} {} in all; top: {}",
            top.sample_type,
            top.total,
            top.unit,
            fns.join(", ")
        ));
    }
    notes.join("; ")
}

fn kind_text(i: &summary::InputJson) -> String {
    match &i.profile_type {
        Some(p) => format!("{} {p}", i.format),
        None => i.format.to_owned(),
    }
}

fn order_text(c: &Content<'_>) -> &'static str {
    match c.summary.series.order {
        SeriesOrder::CaptureTime => "ordered by capture time",
        SeriesOrder::InputOrder => "in the order given (not every file records its capture time)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            ReportFormat::from_path(Path::new("a/r.MD")),
            ReportFormat::Markdown
        );
        assert_eq!(
            ReportFormat::from_path(Path::new("r.html")),
            ReportFormat::Html
        );
        assert_eq!(ReportFormat::from_path(Path::new("r")), ReportFormat::Html);
    }
}
