//! `leakscope inspect`: what a person reads during an incident, or one JSON
//! object for scripts.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::fleet;
use crate::analysis::summary::{CountProfileJson, Report, SuspectJson};
use crate::analysis::wording::count_of;
use crate::analysis::{AnalysisOptions, Evidence, LabelMode, SeriesOrder, wording};
use crate::formats::LoadOptions;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// How pprof labels split stack groups: auto, merge, split, or label keys (`endpoint,tenant`).
    #[arg(long, default_value = "auto", value_parser = super::parse_label_mode)]
    labels: LabelMode,
    /// Show every stack group, not only the growing ones and the largest others.
    #[arg(long)]
    all: bool,
    /// Also show who created whom: creator functions and the goroutines they
    /// started, as a tree (from dumps' `created by` lines and traces).
    #[arg(long)]
    creators: bool,
    /// Largest decompressed size of a gzip input, in MiB.
    #[arg(long, value_name = "MIB")]
    max_inflated_mib: Option<u64>,
    /// Captures: pprof profiles, goroutine dumps (debug=1, debug=2, panics), traces, folded
    /// stacks, or session folders saved by `leakscope capture` or `watch`. Folders of
    /// several instances (different URLs) are ranked across the fleet.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Non-growing groups shown in text output unless `--all`.
const OTHERS_SHOWN: usize = 10;

pub fn run(args: &InspectArgs) -> ExitCode {
    let mut options = LoadOptions::default();
    if let Some(mib) = args.max_inflated_mib {
        options.limits.max_inflated_bytes = mib.saturating_mul(1 << 20);
    }
    let analysis = AnalysisOptions {
        labels: args.labels.clone(),
        ..AnalysisOptions::default()
    };
    if let Some(instances) = fleet::instances(&args.files) {
        return fleet::run(&instances, &options, &analysis, args.json, args.all);
    }
    let findings = match super::load_findings(&args.files, &options, &analysis) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut report = findings.report();
    if args.creators {
        report.creation_trees = findings.creation_trees();
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => return super::fail(&e),
        }
    } else {
        print!("{}", render_text(&report, args.all));
        for t in &report.creation_trees {
            println!("\nCREATED BY ({})", t.source);
            print!("{}", t.tree.to_text(|f| f.to_owned()));
        }
    }
    ExitCode::SUCCESS
}

/// The text for people: inputs, totals, then suspects.
pub fn render_text(r: &Report, all: bool) -> String {
    let mut out = String::new();
    incident_text(&mut out, r);
    let _ = writeln!(out, "INPUTS");
    for i in &r.inputs {
        if let Some(e) = &i.error {
            let _ = writeln!(out, "  {}  (could not be loaded: {e})", i.path);
            continue;
        }
        let what = match (&i.profile_type, i.goroutines) {
            (Some(p), Some(n)) => format!("{} {p}, {n} goroutines", i.format),
            (None, Some(n)) => format!("{}, {n} goroutines", i.format),
            (Some(p), None) => format!("{} {p}", i.format),
            (None, None) => i.format.to_owned(),
        };
        let when = i
            .captured_at
            .as_deref()
            .map(|t| format!("  captured {t}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}  ({what}){when}", i.path);
        if let Some(p) = &i.panic {
            let first = p.message.lines().next().unwrap_or("");
            let who = p
                .goroutine
                .map(|g| format!(" in goroutine {g}"))
                .unwrap_or_default();
            let _ = writeln!(out, "    crashed{who}: {first}");
        }
        for w in &i.warnings {
            let _ = writeln!(out, "    warning: {w}");
        }
        if let Some(top) = &i.top {
            let _ = writeln!(
                out,
                "    top by {} ({} {} in all):",
                top.sample_type, top.total, top.unit
            );
            for e in top.functions.iter().take(5) {
                let _ = writeln!(
                    out,
                    "      {:>12} flat {:>12} cum  {}",
                    e.flat, e.cum, e.function
                );
            }
        }
    }
    let snapshot_suspects: Vec<&SuspectJson> = r
        .suspects
        .iter()
        .filter(|s| s.source == "snapshots")
        .collect();
    let trace_suspects: Vec<&SuspectJson> =
        r.suspects.iter().filter(|s| s.source == "trace").collect();
    snapshots_text(&mut out, r, &snapshot_suspects, all);
    for c in &r.count_profiles {
        count_profile_text(&mut out, c, all);
    }
    if let Some(t) = &r.trace {
        trace_text(&mut out, t, &trace_suspects, all);
    } else if r.series.snapshots.is_empty() {
        let _ = writeln!(out, "\nNo goroutine snapshots or traces among the inputs.");
    }
    out
}

fn snapshots_text(out: &mut String, r: &Report, suspects: &[&SuspectJson], all: bool) {
    let snaps = &r.series.snapshots;
    let proven: Vec<&SuspectJson> = suspects
        .iter()
        .copied()
        .filter(|s| s.evidence == Evidence::Proven)
        .collect();
    if snaps.is_empty() && proven.is_empty() {
        return;
    }
    if !snaps.is_empty() {
        series_text(out, r);
    }
    let growing: Vec<&SuspectJson> = suspects
        .iter()
        .copied()
        .filter(|s| s.evidence == Evidence::Growing)
        .collect();
    let others: Vec<&SuspectJson> = suspects
        .iter()
        .copied()
        .filter(|s| !matches!(s.evidence, Evidence::Proven | Evidence::Growing))
        .collect();
    let _ = writeln!(out, "\n{}", headline(r, suspects));
    let several = snaps.len() >= 2;
    let mut rank = 0;
    let mut section = |out: &mut String, title: &str, list: &[&SuspectJson], limit: usize| {
        if list.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n  {title}:");
        for &s in list.iter().take(limit) {
            rank += 1;
            suspect_text(out, rank, s, several);
        }
        if list.len() > limit {
            let _ = writeln!(
                out,
                "\n  … {} more groups (--all shows them)",
                list.len() - limit
            );
        }
    };
    section(out, "proven leaked by the runtime", &proven, usize::MAX);
    section(out, "growing across snapshots", &growing, usize::MAX);
    let rest = if !several {
        "one snapshot only, by size and wait age"
    } else if proven.is_empty() && growing.is_empty() {
        "none growing; largest first"
    } else {
        "not growing"
    };
    let limit = if all { usize::MAX } else { OTHERS_SHOWN };
    section(out, rest, &others, limit);
}

/// Why a watcher wrote this folder: first, it is why anyone opens it.
fn incident_text(out: &mut String, r: &Report) {
    let Some(i) = &r.incident else {
        return;
    };
    let _ = writeln!(out, "INCIDENT  (leakscope watch, fired {})", i.fired_at);
    for f in &i.triggers {
        let _ = writeln!(out, "  {}", f.summary());
    }
    let _ = writeln!(out);
}

/// A count profile of the service's own, ranked like goroutines.
fn count_profile_text(out: &mut String, c: &CountProfileJson, all: bool) {
    let growing: Vec<&SuspectJson> = c.suspects.iter().filter(|s| s.growing).collect();
    let _ = writeln!(
        out,
        "\nPROFILE {} ({} snapshots): {} growing stack groups among {}",
        c.profile,
        c.snapshots,
        growing.len(),
        c.suspects.len()
    );
    let limit = if all { usize::MAX } else { OTHERS_SHOWN };
    let shown: Vec<&SuspectJson> = if growing.is_empty() {
        c.suspects.iter().take(limit).collect()
    } else {
        growing
    };
    for (i, s) in shown.iter().enumerate() {
        suspect_text(out, i + 1, s, c.snapshots >= 2);
    }
}

/// The snapshots of the series with their totals.
fn series_text(out: &mut String, r: &Report) {
    let order = match r.series.order {
        SeriesOrder::CaptureTime => "by capture time",
        SeriesOrder::InputOrder => "in the order given",
    };
    let _ = writeln!(out, "\nSNAPSHOTS ({order})");
    for (i, s) in r.series.snapshots.iter().enumerate() {
        let restart = s
            .captured_at
            .as_ref()
            .is_some_and(|t| r.restarts.contains(t));
        let _ = writeln!(
            out,
            "  t{i}  {:>8} goroutines  {}{}{}",
            s.goroutines,
            crate::text::file_name(&s.path),
            s.captured_at
                .as_deref()
                .map(|t| format!("  {t}"))
                .unwrap_or_default(),
            if restart { "  (service restarted)" } else { "" }
        );
    }
}

/// One line on what the snapshots' suspects add up to. Growth counts the
/// snapshots' groups only: a trace's goroutines are another measure.
fn headline(r: &Report, suspects: &[&SuspectJson]) -> String {
    let snaps = r.series.snapshots.len();
    let proven: Vec<&&SuspectJson> = suspects.iter().filter(|s| s.proven_leaked > 0).collect();
    let proven_text = if proven.is_empty() {
        String::new()
    } else {
        let n: u64 = proven.iter().map(|s| s.proven_leaked).sum();
        format!(
            "{} with {} proven leaked by the runtime; ",
            count_of(proven.len() as u64, "group"),
            count_of(n, "goroutine")
        )
    };
    if snaps >= 2 {
        let growing: Vec<&&SuspectJson> = suspects.iter().filter(|s| s.growing).collect();
        let added: i128 = growing.iter().map(|s| s.added()).sum();
        format!(
            "LEAK SUSPECTS: {proven_text}{} growing stack groups (+{added} goroutines from t0 to t{}) among {} groups",
            growing.len(),
            snaps - 1,
            suspects.len()
        )
    } else {
        format!(
            "LEAK SUSPECTS: {proven_text}{} stack groups in one snapshot, ranked by size and wait age",
            suspects.len()
        )
    }
}

/// One suspect: rank, leak site, counts, evidence, then its facts.
fn suspect_text(out: &mut String, rank: usize, s: &SuspectJson, several: bool) {
    let mut marks = Vec::new();
    if s.proven_leaked > 0 {
        marks.push(format!("PROVEN LEAKED ×{}", s.proven_leaked));
    }
    if s.growing {
        marks.push(format!("GROWING {}", wording::rate(s.per_minute, s.slope)));
    } else if several && !s.counts.is_empty() {
        marks.push("steady".to_owned());
    }
    let counts = if s.counts.is_empty() {
        String::new()
    } else {
        format!("  [{}]", wording::counts(&s.counts))
    };
    let _ = writeln!(
        out,
        "\n  #{:<3} {}{counts}  {}",
        rank,
        s.function.as_deref().unwrap_or("<no frames>"),
        marks.join("  ")
    );
    suspect_facts(out, s);
    if let Some(n) = s.trace_goroutines {
        let n = wording::count_of(n, "goroutine");
        let _ = writeln!(out, "        {n} on this path in the trace");
    }
}

/// `waited: 5 min ×3 · 4 min ×6 · <1 min ×18`, oldest first (how long the
/// leak has gone on comes first), bars without goroutines left out; none
/// when all waited alike (`for N min` says it already).
fn wait_age_line(h: &[crate::analysis::wait_hist::WaitAgeBucket]) -> Option<String> {
    if h.iter().filter(|b| b.goroutines > 0).count() < 2 {
        return None;
    }
    let bars: Vec<String> = h
        .iter()
        .rev()
        .filter(|b| b.goroutines > 0)
        .map(|b| format!("{} ×{}", b.label, b.goroutines))
        .collect();
    Some(format!("waited: {}", bars.join(" · ")))
}

fn suspect_facts(out: &mut String, s: &SuspectJson) {
    {
        let mut facts = Vec::new();
        if let Some(w) = &s.wait_reason {
            facts.push(format!("waiting: {w}"));
        }
        if let Some(w) = &s.wait_minutes
            && w.max > 0
        {
            if w.min == w.max {
                facts.push(format!("for {} min", w.max));
            } else {
                facts.push(format!("for {}–{} min", w.min, w.max));
            }
        }
        if let (Some(file), Some(line)) = (&s.file, s.line)
            && !file.is_empty()
        {
            facts.push(format!("at {file}:{line}"));
        }
        if !facts.is_empty() {
            let _ = writeln!(out, "        {}", facts.join("  "));
        }
        if let Some(c) = &s.created_by {
            let _ = writeln!(out, "        created by {c}");
        }
        if let Some(line) = wait_age_line(&s.wait_age_histogram) {
            let _ = writeln!(out, "        {line}");
        }
        if s.entry_function.is_some() && s.entry_function != s.function {
            let _ = writeln!(
                out,
                "        goroutine entry {}",
                s.entry_function.as_deref().unwrap_or("")
            );
        }
        for l in s.labels.iter().take(3) {
            let kv: Vec<String> = l.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                out,
                "        labels {} ({})",
                kv.join(", "),
                count_of(l.goroutines, "goroutine")
            );
        }
    }
}

fn trace_text(
    out: &mut String,
    t: &crate::analysis::trace::TraceSummary,
    suspects: &[&SuspectJson],
    all: bool,
) {
    let _ = writeln!(
        out,
        "\nTRACE ({}): {} events, {} goroutines created in the window, {} ended, {} alive at its end",
        t.go_version, t.events, t.goroutines_created, t.goroutines_ended, t.alive_at_end
    );
    let blocked: Vec<String> = t
        .blocked_at_end
        .iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    if !blocked.is_empty() {
        let _ = writeln!(out, "  blocked at the end: {}", blocked.join(", "));
    }
    let growing = suspects.iter().filter(|s| s.growing).count();
    let _ = writeln!(
        out,
        "\nTRACE LEAK SUSPECTS: {growing} sites where goroutines created in the window are still waiting at its end"
    );
    let limit = if all { usize::MAX } else { OTHERS_SHOWN };
    let mut others = 0;
    for (rank, &s) in suspects.iter().enumerate() {
        if !s.growing {
            if others >= limit {
                continue;
            }
            others += 1;
            if others == 1 {
                let _ = writeln!(
                    out,
                    "\n  created in the window, alive at its end, not flagged:"
                );
            }
        }
        let alive = s.counts.last().copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "\n  #{:<3} {}  {alive} goroutine(s){}",
            rank + 1,
            s.function.as_deref().unwrap_or("<no frames>"),
            if s.growing { "  STUCK" } else { "" }
        );
        suspect_facts(out, s);
    }
    let hidden = suspects.iter().filter(|s| !s.growing).count() - others;
    if hidden > 0 {
        let _ = writeln!(out, "\n  … {hidden} more (--all shows them)");
    }
}
