//! `leakscope export`: a flame graph SVG (plain or differential) and/or
//! folded stacks of one capture, one suspect or one focus, for a ticket;
//! or the same graph's Top table (self and total per function, as the
//! app's Top view and `go tool pprof -top` show it) on standard output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Args};
use regex::Regex;

use crate::analysis::{self, Analysis, AnalysisOptions, LabelMode};
use crate::export::svg::{self, Orientation, SvgOptions};
use crate::export::{self, ExportError, FlameSpec, atomic_write, folded};
use crate::formats::LoadOptions;
use crate::model::{Session, SnapshotData};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("out").required(true).multiple(true).args(["svg", "folded", "top", "sandwich"])))]
#[command(group(ArgGroup::new("tables").args(["top", "sandwich"])))]
pub struct ExportArgs {
    /// Write a flame graph SVG here.
    #[arg(long, value_name = "OUT.svg")]
    svg: Option<PathBuf>,
    /// Write folded stacks (`a;b;c N`, two counts with --diff) here.
    #[arg(long, value_name = "OUT.txt")]
    folded: Option<PathBuf>,
    /// Print the graph's N heaviest functions (self and total, heaviest
    /// self first) on standard output.
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Print the callers and callees of the heaviest function matching
    /// this regex (as the app's Sandwich shows them) on standard output;
    /// boxes under --min-width percent of its total are left out.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    sandwich: Option<Regex>,
    /// Print the --top table or the --sandwich as one JSON object (what
    /// the files written are named on standard error then).
    #[arg(long, requires = "tables")]
    json: bool,
    /// Differential: what grew from the first to the last snapshot.
    #[arg(long)]
    diff: bool,
    /// Only stacks through a frame whose function matches this regex.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    focus: Option<Regex>,
    /// Highlight frames whose function matches this regex.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    search: Option<Regex>,
    /// Which inputs to draw: goroutine, heap, allocs, cpu, block, mutex,
    /// threadcreate, or trace (its goroutines when the window closed).
    /// Default: the goroutine snapshots, else the profiles, else the traces.
    #[arg(long, value_name = "T")]
    profile_type: Option<String>,
    /// Value of a sampled profile to draw (inuse_space, alloc_objects,
    /// delay, ...). Default: the profile's own default.
    #[arg(long, value_name = "NAME")]
    sample_type: Option<String>,
    /// Only the goroutines of the suspect ranked N (1 is the top one, as
    /// `inspect` lists them).
    #[arg(long, value_name = "N")]
    suspect: Option<usize>,
    /// Icicle graph: outermost frames at the top.
    #[arg(long)]
    icicle: bool,
    /// Leave out frames narrower than this percentage of the width.
    #[arg(long, value_name = "PCT", default_value_t = svg::DEFAULT_MIN_WIDTH_PCT)]
    min_width: f64,
    /// Title of the SVG (default: what it shows and from which file).
    #[arg(long)]
    title: Option<String>,
    /// Replace output files that exist.
    #[arg(long)]
    force: bool,
    /// How pprof labels split stack groups (for --suspect): auto, merge, split, or label keys.
    #[arg(long, default_value = "auto", value_parser = super::parse_label_mode)]
    labels: LabelMode,
    /// Captures: pprof profiles, goroutine dumps, folded stacks.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

fn parse_regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| e.to_string())
}

pub fn run(args: &ExportArgs) -> ExitCode {
    if let Err(e) = check_outputs(args) {
        return super::fail(&super::with_hint(&e));
    }
    let session = match super::load_inputs(&args.files, &LoadOptions::default()) {
        Ok((loaded, _)) => loaded.session,
        Err(code) => return code,
    };
    match export(args, session) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&super::with_hint(&e)),
    }
}

/// Refuses before loading anything if an output cannot be written.
fn check_outputs(args: &ExportArgs) -> anyhow::Result<()> {
    for p in [&args.svg, &args.folded].into_iter().flatten() {
        atomic_write::check_target(p, args.force)?;
    }
    if args.svg.is_some() && args.svg == args.folded {
        bail!("--svg and --folded name the same file");
    }
    Ok(())
}

/// Inputs the command may draw, oldest first: those of the asked profile
/// type, else the goroutine snapshots, else every snapshot, else the
/// traces (each standing for its goroutines when its window closed).
pub(crate) fn candidates(
    session: &Session,
    profile_type: Option<&str>,
) -> anyhow::Result<Vec<usize>> {
    let goroutines = |i: &usize| {
        session.inputs[*i]
            .as_snapshot()
            .is_some_and(|s| matches!(s.data, SnapshotData::Goroutines(_)))
    };
    let all = 0..session.inputs.len();
    let mut picked: Vec<usize> = match profile_type {
        None if all.clone().any(|i| goroutines(&i)) => all.filter(goroutines).collect(),
        None => all.collect(),
        Some("goroutine" | "goroutines") => all.filter(goroutines).collect(),
        Some(t) => all
            .filter(|&i| {
                session.inputs[i]
                    .source()
                    .profile_type
                    .as_ref()
                    .is_some_and(|p| p.name() == t)
            })
            .collect(),
    };
    let is_trace = |i: usize| session.inputs[i].as_trace().is_some();
    if profile_type == Some("trace") {
        picked = (0..session.inputs.len()).filter(|&i| is_trace(i)).collect();
    } else if picked
        .iter()
        .any(|&i| session.inputs[i].as_snapshot().is_some())
    {
        picked.retain(|&i| session.inputs[i].as_snapshot().is_some());
    } else {
        // Only traces: each stands for its goroutines at the window's end.
        picked.retain(|&i| is_trace(i));
    }
    if picked.is_empty() {
        let have: Vec<String> = session
            .inputs
            .iter()
            .map(|i| {
                let s = i.source();
                let kind = s
                    .profile_type
                    .as_ref()
                    .map_or(s.format.name(), |p| p.name());
                format!("{} ({kind})", export::file_name(&s.path))
            })
            .collect();
        bail!(
            "no input is a {:?} profile (inputs: {})",
            profile_type.unwrap_or(""),
            have.join(", ")
        );
    }
    // Capture time orders them where every one records it.
    let times: Option<Vec<i64>> = picked
        .iter()
        .map(|&i| {
            session.inputs[i]
                .as_snapshot()
                .and_then(|s| s.captured_at_ns)
        })
        .collect();
    if let Some(times) = times {
        let mut paired: Vec<(i64, usize)> = times.into_iter().zip(picked).collect();
        paired.sort_by_key(|&(t, _)| t);
        picked = paired.into_iter().map(|(_, i)| i).collect();
    }
    Ok(picked)
}

fn spec(
    session: &Session,
    analysis: &Analysis,
    args: &ExportArgs,
    input: usize,
) -> anyhow::Result<FlameSpec> {
    let value_index = match &args.sample_type {
        Some(name) => export::sample_type_index(session, input, name)?,
        None => None,
    };
    let group = match args.suspect {
        None => None,
        Some(n) => {
            let s = n
                .checked_sub(1)
                .and_then(|i| analysis.suspects.get(i))
                .with_context(|| {
                    format!(
                        "--suspect {n}: there are {} suspects (1 is the top one)",
                        analysis.suspects.len()
                    )
                })?;
            Some(s.group)
        }
    };
    Ok(FlameSpec {
        input,
        value_index,
        group,
        focus: args.focus.clone(),
        compare: None,
    })
}

fn export(args: &ExportArgs, session: Session) -> anyhow::Result<()> {
    // Grouping 100,000 stacks costs as much as drawing them, and only
    // --suspect needs the groups: otherwise the analysis is of nothing.
    let grouped = if args.suspect.is_some() {
        &session
    } else {
        &Session::default()
    };
    let analysis = analysis::analyze(
        grouped,
        &AnalysisOptions {
            labels: args.labels.clone(),
            ..AnalysisOptions::default()
        },
    );
    let inputs = candidates(&session, args.profile_type.as_deref())?;
    let (tree, titles, shown) = if args.diff {
        let (Some(&first), Some(&last)) = (inputs.first(), inputs.last()) else {
            bail!("--diff needs two snapshots");
        };
        if first == last {
            bail!("--diff needs two snapshots of the same kind; got one");
        }
        if session.inputs[first].as_trace().is_some() {
            bail!("--diff compares two snapshots; a trace is not one (draw it without --diff)");
        }
        let base = spec(&session, &analysis, args, first)?;
        let now = spec(&session, &analysis, args, last)?;
        let tree = export::diff_tree(&session, &analysis, &base, &now)?;
        let titles = export::diff_titles(&session, &analysis, &base, &now, &tree)?;
        (tree, titles, now)
    } else {
        let Some(&input) = inputs.last() else {
            bail!("no snapshot to draw");
        };
        let spec = spec(&session, &analysis, args, input)?;
        let tree = export::flame_tree(&session, &analysis, &spec)?;
        let titles = export::titles(&session, &analysis, &spec, &tree)?;
        (tree, titles, spec)
    };
    if tree.root_total() == 0 {
        return Err(ExportError::Empty(match &args.focus {
            Some(re) => format!("no stack passes through a function matching /{re}/"),
            None => "the selected snapshot has no stacks with a positive weight".to_owned(),
        })
        .into());
    }
    let table = &session.stacks;
    if let Some(path) = &args.svg {
        let mut opts = SvgOptions::new(titles);
        if let Some(t) = &args.title {
            opts.title.clone_from(t);
        }
        opts.orientation = if args.icicle {
            Orientation::Icicle
        } else {
            Orientation::Flame
        };
        opts.min_width_pct = args.min_width;
        opts.search.clone_from(&args.search);
        atomic_write::write_atomic_with(path, args.force, |w| {
            svg::write_svg(&tree, table, &opts, w)
        })?;
        wrote(path, args.json);
    }
    if let Some(path) = &args.folded {
        atomic_write::write_atomic_with(path, args.force, |w| {
            folded::write_folded(&tree, table, None, w).map_err(|source| ExportError::Write {
                path: path.clone(),
                source,
            })
        })?;
        wrote(path, args.json);
    }
    if let Some(re) = &args.sandwich {
        print_sandwich(args, &session, &shown, &tree, re)?;
    }
    if let Some(n) = args.top {
        let top = crate::analysis::summary::top_json(&session, &shown, &tree, n);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&top)?);
        } else {
            let file = export::file_name(&session.inputs[shown.input].source().path);
            print!("{}", top_text(&top, file));
        }
    }
    // The process ends once this returns; freeing a table of 100,000 deep
    // stacks and its tree page by page would cost a tenth of the export.
    std::mem::forget((session, tree));
    Ok(())
}

/// The Sandwich of the heaviest function (by total) matching `re`, as text
/// or JSON.
fn print_sandwich(
    args: &ExportArgs,
    session: &Session,
    spec: &FlameSpec,
    tree: &crate::analysis::flame::FlameTree,
    re: &Regex,
) -> anyhow::Result<()> {
    let t = &session.stacks;
    let Some(row) = crate::analysis::top::functions(t, tree)
        .into_iter()
        .filter(|r| re.is_match(t.str(r.function)))
        .max_by_key(|r| r.total)
    else {
        bail!("--sandwich: no function of the graph matches /{re}/");
    };
    let min_share = args.min_width / 100.0;
    let sw = crate::analysis::summary::sandwich_json(session, spec, tree, row.function, min_share);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sw)?);
        return Ok(());
    }
    let share = |v: u64| v as f64 / sw.graph_total.max(1) as f64 * 100.0;
    println!(
        "{}: total {} {} ({:.1}%), self {}",
        sw.function,
        sw.total,
        sw.unit,
        share(sw.total),
        sw.self_weight
    );
    for (title, rows) in [
        ("callers (outwards)", &sw.callers),
        ("callees (inwards)", &sw.callees),
    ] {
        println!("{title}:");
        for r in rows {
            let indent = "  ".repeat(r.depth as usize);
            println!(
                "{:>12} {:>5.1}% {indent}{}",
                r.total,
                share(r.total),
                r.function
            );
        }
    }
    Ok(())
}

/// Names a file written; on standard error when standard output is JSON.
fn wrote(path: &Path, json: bool) {
    if json {
        eprintln!("wrote {}", path.display());
    } else {
        println!("wrote {}", path.display());
    }
}

/// The Top table for people: the functions with their self and total, in
/// the unit of the graph and as shares of it.
fn top_text(top: &crate::analysis::summary::TopJson, file: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = write!(out, "{file}: {} {} in all", top.total, top.unit);
    if top.sample_type != top.unit {
        let _ = write!(out, " ({})", top.sample_type);
    }
    out.push('\n');
    let share = |v: i64| v as f64 / top.total.max(1) as f64 * 100.0;
    let _ = writeln!(
        out,
        "{:>12} {:>6}  {:>12} {:>6}  function",
        "self", "", "total", ""
    );
    for e in &top.functions {
        let _ = writeln!(
            out,
            "{:>12} {:>5.1}%  {:>12} {:>5.1}%  {}",
            e.flat,
            share(e.flat),
            e.cum,
            share(e.cum),
            e.function
        );
    }
    out
}
