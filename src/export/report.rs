//! The incident report: one self-contained file to attach to a ticket or a
//! postmortem, in HTML (inline SVG, no scripts, no external resources) or
//! Markdown (for tools that take Markdown; its pictures are data URIs).
//!
//! It says what `leakscope inspect` says, from the same
//! [`summary`](crate::analysis::summary) data: the inputs and when they were
//! captured, the goroutine count over time, the suspects table, the flame
//! graph of the newest snapshot and the differential one since the first,
//! and for the top suspects their full stacks and creation sites.
//!
//! Data from other sources joins through [`SuspectExtras`]: extra columns
//! of the suspects table, extra sections per suspect and extra sections at
//! the end. [`trace_extras`] is how the session's execution trace joins,
//! from the trace analysis the pipeline already made.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::svg::{self, SvgOptions};
use super::{ExportError, FlameSpec, chart, escape};
use crate::analysis::summary::{self, FrameJson, Report, SuspectJson};
use crate::analysis::{Analysis, Evidence, SeriesOrder, wording};
use crate::model::Session;
use crate::model::time::format_rfc3339;
use crate::pipeline::Findings;

/// The name of a stack group without frames (goroutines caught before
/// their first frame, or a profile that records no stack).
const NO_FRAMES: &str = "(no frames)";

/// The file format of a report.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    #[default]
    Html,
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
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// A titled part of the report contributed by another source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
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
                    "In the trace: {} goroutines on this call path",
                    members.len()
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
            "The runtime proved {n} goroutines leaked, in {} stack group{}. ",
            proven.len(),
            if proven.len() == 1 { "" } else { "s" }
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
                let added: i128 = growing
                    .iter()
                    .map(|s| {
                        i128::from(s.counts.last().copied().unwrap_or(0))
                            - i128::from(s.counts.first().copied().unwrap_or(0))
                    })
                    .sum();
                format!(
                    "{} growing stack group{} (+{added} goroutines from t0 to t{n}); \
                     {} → {} goroutines in all.",
                    growing.len(),
                    if growing.len() == 1 { "" } else { "s" },
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
    Ok(match opts.format {
        ReportFormat::Html => html(&c, opts, &extras),
        ReportFormat::Markdown => markdown(&c, opts, &extras),
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

/// The mark a listed suspect carries beside its name.
fn evidence_mark(s: &SuspectJson) -> &'static str {
    match s.evidence {
        Evidence::Proven => "proven leaked",
        _ if s.growing => "growing",
        _ => "",
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

const CSS: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 1280px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
p.headline { font-size: 1.1em; font-weight: 600; }
p.meta, p.note { color: #666; }
table.data { border-collapse: collapse; margin: 0.5em 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.data th { background: #f4f4f4; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.growing td:first-child { border-left: 4px solid #e15759; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 0.6em 0.8em; overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.facts dt { color: #666; }
dl.facts dd { margin: 0; }
div.graph svg { width: 100%; height: auto; border: 1px solid #eee; }
.chart text { font: 11px system-ui, sans-serif; fill: #333; }
";

fn html_block(out: &mut String, b: &Block) {
    match b {
        Block::Text(t) => {
            let _ = writeln!(out, "<p>{}</p>", escape(t));
        }
        Block::Code(t) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape(t));
        }
        Block::Table { header, rows } => {
            out.push_str("<table class=\"data\"><tr>");
            for h in header {
                let _ = write!(out, "<th>{}</th>", escape(h));
            }
            out.push_str("</tr>\n");
            for r in rows {
                out.push_str("<tr>");
                for cell in r {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
    }
}

fn html_section(out: &mut String, s: &Section, level: u8) {
    let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(&s.heading));
    for b in &s.blocks {
        html_block(out, b);
    }
}

/// An inferno SVG made fit to sit inside HTML: no XML prolog, no script and
/// no `onload` calling it (the report has no scripts; hover titles still work).
fn inline_svg(svg: &str) -> String {
    let body = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let mut out = body.replacen(" onload=\"init(evt)\"", "", 1);
    if let (Some(a), Some(b)) = (out.find("<script"), out.find("</script>"))
        && a < b
    {
        out.replace_range(a..b + "</script>".len(), "");
    }
    out
}

fn html(c: &Content<'_>, opts: &ReportOptions, extras: &SuspectExtras) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let r = c.summary;
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    o.push_str("<title>Goroutine leak report</title>\n");
    let _ = writeln!(o, "<style>{CSS}</style>\n</head>\n<body>");
    o.push_str("<h1>Goroutine leak report</h1>\n");
    let _ = writeln!(o, "<p class=\"headline\">{}</p>", escape(&c.headline));
    let generated = opts
        .generated_at_ns
        .map(|t| format!(" on {}", format_rfc3339(t)))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "<p class=\"meta\">Made by leakscope {}{generated}.</p>",
        env!("CARGO_PKG_VERSION")
    );

    o.push_str("<h2 id=\"inputs\">Inputs</h2>\n<table class=\"data\">\n");
    o.push_str(
        "<tr><th>File</th><th>Kind</th><th>Goroutines</th><th>Captured</th><th>Notes</th></tr>\n",
    );
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&i.path),
            escape(&kind_text(i)),
            i.goroutines.map(|g| g.to_string()).unwrap_or_default(),
            escape(i.captured_at.as_deref().unwrap_or("–")),
            escape(&input_notes(i))
        );
    }
    o.push_str("</table>\n");

    let snaps = &r.series.snapshots;
    if !snaps.is_empty() {
        o.push_str("<h2 id=\"growth\">Goroutines over time</h2>\n");
        let _ = writeln!(o, "<p class=\"note\">Snapshots {}:</p>", order_text(c));
        o.push_str("<table class=\"data\"><tr><th>Snapshot</th><th>File</th><th>Captured</th><th>Goroutines</th></tr>\n");
        for (i, s) in snaps.iter().enumerate() {
            let _ = writeln!(
                o,
                "<tr><td>t{i}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape(&s.path),
                escape(s.captured_at.as_deref().unwrap_or("–")),
                s.goroutines
            );
        }
        o.push_str("</table>\n");
        if let Some(chart) = &c.chart {
            let _ = writeln!(o, "<div class=\"chart-box\">{chart}</div>");
        }
    }

    if !c.listed.is_empty() {
        o.push_str("<h2 id=\"suspects\">Leak suspects</h2>\n");
        o.push_str("<p class=\"note\">Groups the runtime proved leaked first, then growing stack groups by growth, then the largest others. Counts are goroutines per snapshot.</p>\n");
        o.push_str("<table class=\"data suspects\">\n<tr><th>#</th><th>Function (leak site)</th><th>Wait reason</th><th>Created by</th>");
        for i in 0..snaps.len() {
            let _ = write!(o, "<th>t{i}</th>");
        }
        o.push_str("<th>Growth</th><th>Waiting</th><th>Labels</th>");
        for col in &extras.columns {
            let _ = write!(o, "<th>{}</th>", escape(col));
        }
        o.push_str("</tr>\n");
        for (rank, (group, s)) in c.listed.iter().enumerate() {
            let class = match evidence_mark(s) {
                "" => String::new(),
                mark => format!(" class=\"{}\"", mark.replace(' ', "-")),
            };
            let _ = write!(
                o,
                "<tr{class}><td class=\"num\">{}</td><td><code>{}</code><br/><small>{}</small></td><td>{}</td><td>{}</td>",
                rank + 1,
                escape(s.function.as_deref().unwrap_or(NO_FRAMES)),
                escape(&site_text(s)),
                escape(s.wait_reason.as_deref().unwrap_or("–")),
                s.created_by
                    .as_deref()
                    .map_or("–".to_owned(), |c| format!("<code>{}</code>", escape(c))),
            );
            for n in &s.counts {
                let _ = write!(o, "<td class=\"num\">{n}</td>");
            }
            let _ = write!(
                o,
                "<td>{}</td><td>{}</td><td>{}</td>",
                escape(&growth_text(s)),
                escape(&wait_text(s)),
                escape(&labels_text(s))
            );
            let extra = extras.by_group.get(group);
            for i in 0..extras.columns.len() {
                let cell = extra
                    .and_then(|e| e.cells.get(i))
                    .map_or("", String::as_str);
                let _ = write!(o, "<td>{}</td>", escape(cell));
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
    }

    for (i, g) in c.graphs.iter().enumerate() {
        let id = if i == 0 { "flame" } else { "diff" };
        let _ = writeln!(o, "<h2 id=\"{id}\">{}</h2>", escape(&g.heading));
        if i == 1 {
            o.push_str("<p class=\"note\">Widths are the newest snapshot. The innermost frame of each stack is red where the stack gained goroutines, blue where it lost some, near-white where its count did not change. Hover a frame for its count.</p>\n");
        } else {
            o.push_str("<p class=\"note\">Hover a frame for its count. Colours tell the kind of code: warm for the application, green for dependencies, blue for the standard library, grey for the runtime.</p>\n");
        }
        let _ = writeln!(o, "<div class=\"graph\">{}</div>", inline_svg(&g.svg));
    }

    if !c.detailed.is_empty() {
        o.push_str("<h2 id=\"details\">Top suspects</h2>\n");
    }
    for &i in &c.detailed {
        let Some((group, s)) = c.listed.get(i) else {
            continue;
        };
        let _ = writeln!(
            o,
            "<h3 id=\"suspect-{}\">#{} <code>{}</code></h3>",
            i + 1,
            i + 1,
            escape(s.function.as_deref().unwrap_or(NO_FRAMES))
        );
        o.push_str("<dl class=\"facts\">\n");
        let counts: Vec<String> = s.counts.iter().map(u64::to_string).collect();
        let facts = [
            ("Leak site", site_text(s)),
            (
                "Wait reason",
                s.wait_reason.clone().unwrap_or_else(|| "–".into()),
            ),
            ("Created by", created_text(s)),
            ("Goroutines per snapshot", counts.join(" → ")),
            ("Growth", growth_text(s)),
            ("Waiting", wait_text(s)),
            ("Labels", labels_text(s)),
        ];
        for (k, v) in facts {
            if !v.is_empty() {
                let _ = writeln!(o, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
            }
        }
        o.push_str("</dl>\n");
        let _ = writeln!(o, "<pre class=\"stack\">{}</pre>", escape(&stack_text(s)));
        if let Some(extra) = extras.by_group.get(group) {
            for sec in &extra.sections {
                html_section(&mut o, sec, 4);
            }
        }
    }
    for sec in &extras.sections {
        html_section(&mut o, sec, 2);
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// Markdown inline code; a backtick inside would end it, and `|` would
/// split a table cell.
fn md_code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

/// Markdown table cell text.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn md_block(out: &mut String, b: &Block) {
    match b {
        Block::Text(t) => {
            let _ = writeln!(out, "{t}\n");
        }
        Block::Code(t) => {
            let _ = writeln!(out, "```\n{}\n```\n", t.trim_end());
        }
        Block::Table { header, rows } => {
            let cells: Vec<String> = header.iter().map(|h| md_cell(h)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
    }
}

fn md_section(out: &mut String, s: &Section, level: usize) {
    let _ = writeln!(out, "{} {}\n", "#".repeat(level), s.heading);
    for b in &s.blocks {
        md_block(out, b);
    }
}

fn md_image(out: &mut String, alt: &str, svg: &str) {
    let _ = writeln!(
        out,
        "![{}](data:image/svg+xml;base64,{})\n",
        alt.replace(['[', ']'], ""),
        crate::text::base64(svg.as_bytes())
    );
}

fn markdown(c: &Content<'_>, opts: &ReportOptions, extras: &SuspectExtras) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let r = c.summary;
    o.push_str("# Goroutine leak report\n\n");
    let _ = writeln!(o, "**{}**\n", c.headline);
    let generated = opts
        .generated_at_ns
        .map(|t| format!(" on {}", format_rfc3339(t)))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "Made by leakscope {}{generated}.\n",
        env!("CARGO_PKG_VERSION")
    );

    o.push_str(
        "## Inputs\n\n| File | Kind | Goroutines | Captured | Notes |\n|---|---|---:|---|---|\n",
    );
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md_code(&i.path),
            md_cell(&kind_text(i)),
            i.goroutines.map(|g| g.to_string()).unwrap_or_default(),
            md_cell(i.captured_at.as_deref().unwrap_or("–")),
            md_cell(&input_notes(i))
        );
    }
    o.push('\n');

    let snaps = &r.series.snapshots;
    if !snaps.is_empty() {
        let _ = writeln!(
            o,
            "## Goroutines over time\n\nSnapshots {}:\n",
            order_text(c)
        );
        o.push_str("| Snapshot | File | Captured | Goroutines |\n|---|---|---|---:|\n");
        for (i, s) in snaps.iter().enumerate() {
            let _ = writeln!(
                o,
                "| t{i} | {} | {} | {} |",
                md_code(&s.path),
                md_cell(s.captured_at.as_deref().unwrap_or("–")),
                s.goroutines
            );
        }
        o.push('\n');
        if let Some(chart) = &c.chart {
            md_image(&mut o, "Goroutines per snapshot", chart);
        }
    }

    if !c.listed.is_empty() {
        o.push_str("## Leak suspects\n\nGrowing stack groups first, by growth; then the largest others. Counts are goroutines per snapshot.\n\n");
        let mut header = vec![
            "#".to_owned(),
            "Function (leak site)".to_owned(),
            "Wait reason".to_owned(),
            "Created by".to_owned(),
        ];
        header.extend((0..snaps.len()).map(|i| format!("t{i}")));
        header.extend(["Growth", "Waiting", "Labels"].map(String::from));
        header.extend(extras.columns.iter().map(|c| md_cell(c)));
        let _ = writeln!(o, "| {} |", header.join(" | "));
        let align: Vec<&str> = header
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i == 0 || (4..4 + snaps.len()).contains(&i) {
                    "---:"
                } else {
                    "---"
                }
            })
            .collect();
        let _ = writeln!(o, "|{}|", align.join("|"));
        for (rank, (group, s)) in c.listed.iter().enumerate() {
            let mut row = vec![
                (rank + 1).to_string(),
                format!(
                    "{}{}",
                    md_code(s.function.as_deref().unwrap_or(NO_FRAMES)),
                    match evidence_mark(s) {
                        "" => String::new(),
                        mark => format!(" **{mark}**"),
                    }
                ),
                md_cell(s.wait_reason.as_deref().unwrap_or("–")),
                s.created_by.as_deref().map_or("–".to_owned(), md_code),
            ];
            row.extend(s.counts.iter().map(u64::to_string));
            row.push(md_cell(&growth_text(s)));
            row.push(md_cell(&wait_text(s)));
            row.push(md_cell(&labels_text(s)));
            let extra = extras.by_group.get(group);
            for i in 0..extras.columns.len() {
                let cell = extra
                    .and_then(|e| e.cells.get(i))
                    .map_or("", String::as_str);
                row.push(md_cell(cell));
            }
            let _ = writeln!(o, "| {} |", row.join(" | "));
        }
        o.push('\n');
    }

    for (i, g) in c.graphs.iter().enumerate() {
        let _ = writeln!(o, "## {}\n", g.heading);
        if i == 1 {
            o.push_str("Widths are the newest snapshot; the innermost frame of each stack is red where it gained goroutines, blue where it lost some.\n\n");
        }
        md_image(&mut o, &g.heading, &g.svg);
    }

    if !c.detailed.is_empty() {
        o.push_str("## Top suspects\n\n");
    }
    for &i in &c.detailed {
        let Some((group, s)) = c.listed.get(i) else {
            continue;
        };
        let _ = writeln!(
            o,
            "### #{} {}\n",
            i + 1,
            md_code(s.function.as_deref().unwrap_or(NO_FRAMES))
        );
        let counts: Vec<String> = s.counts.iter().map(u64::to_string).collect();
        let facts = [
            ("Leak site", site_text(s)),
            (
                "Wait reason",
                s.wait_reason.clone().unwrap_or_else(|| "–".into()),
            ),
            ("Created by", created_text(s)),
            ("Goroutines per snapshot", counts.join(" → ")),
            ("Growth", growth_text(s)),
            ("Waiting", wait_text(s)),
            ("Labels", labels_text(s)),
        ];
        for (k, v) in facts {
            if !v.is_empty() {
                let _ = writeln!(o, "- **{k}:** {v}");
            }
        }
        let _ = writeln!(o, "\n```\n{}```\n", stack_text(s));
        if let Some(extra) = extras.by_group.get(group) {
            for sec in &extra.sections {
                md_section(&mut o, sec, 4);
            }
        }
    }
    for sec in &extras.sections {
        md_section(&mut o, sec, 2);
    }
    o
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

    #[test]
    fn inline_svg_drops_prolog_and_script() {
        let s = "<?xml version=\"1.0\"?><!DOCTYPE svg><svg onload=\"init(evt)\" a=\"1\"><script type=\"x\"><![CDATA[var a;]]></script><g/></svg>";
        assert_eq!(inline_svg(s), "<svg a=\"1\"><g/></svg>");
    }
}
