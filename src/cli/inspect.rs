//! `leakscope inspect`: what a person reads during an incident, or one JSON
//! object for scripts.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::analysis::{self, Analysis, AnalysisOptions, LabelMode, SeriesOrder, Suspect};
use crate::formats::LoadOptions;
use crate::model::time::format_rfc3339;
use crate::model::{Input, LabelValue, Session, Snapshot, StackId, Warning};

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
    /// Largest decompressed size of a gzip input, in MiB.
    #[arg(long, value_name = "MIB")]
    max_inflated_mib: Option<u64>,
    /// Captures: pprof profiles, goroutine dumps (debug=1, debug=2, panics), traces, folded
    /// stacks, or session folders saved by `leakscope capture`.
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
    let session = match super::load_session(&args.files, &options) {
        Ok(s) => s,
        Err(e) => return super::fail(&e),
    };
    let analysis = analysis::analyze(
        &session,
        &AnalysisOptions {
            labels: args.labels.clone(),
        },
    );
    let report = build(&session, &analysis);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => return super::fail(&e),
        }
    } else {
        print!("{}", render_text(&report, args.all));
    }
    ExitCode::SUCCESS
}

/// The `--json` document. Field names are a contract with scripts: add, never rename.
#[derive(Debug, Serialize)]
pub struct Report {
    pub inputs: Vec<InputJson>,
    pub series: SeriesJson,
    pub suspects: Vec<SuspectJson>,
}

#[derive(Debug, Serialize)]
pub struct InputJson {
    pub path: String,
    pub format: &'static str,
    pub profile_type: Option<String>,
    /// Goroutines in a goroutine snapshot; null for other inputs.
    pub goroutines: Option<u64>,
    pub captured_at: Option<String>,
    pub warnings: Vec<Warning>,
    /// The crash message of a panic or fatal-error dump, and the goroutine that crashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panic: Option<PanicJson>,
    /// Top functions of a sampled profile, by its default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<TopJson>,
}

#[derive(Debug, Serialize)]
pub struct PanicJson {
    pub message: String,
    pub goroutine: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct TopJson {
    pub sample_type: String,
    pub unit: String,
    pub total: i64,
    pub functions: Vec<analysis::top::TopEntry>,
}

#[derive(Debug, Serialize)]
pub struct SeriesJson {
    pub order: SeriesOrder,
    /// The snapshots the counts of each suspect refer to, in that order.
    pub snapshots: Vec<SeriesSnapshotJson>,
    pub split_by_labels: bool,
}

#[derive(Debug, Serialize)]
pub struct SeriesSnapshotJson {
    pub path: String,
    pub captured_at: Option<String>,
    pub goroutines: u64,
}

#[derive(Debug, Serialize)]
pub struct FrameJson {
    pub function: String,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Serialize)]
pub struct SuspectJson {
    /// The leak site: innermost frame of the application's own code.
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub wait_reason: Option<String>,
    /// Function of the creation site (`created by`), where a dialect records it.
    pub created_by: Option<String>,
    pub created_at: Option<FrameJson>,
    /// Goroutines in each snapshot of the series.
    pub counts: Vec<u64>,
    pub growing: bool,
    pub score: f64,
    /// Theil–Sen slope, goroutines per snapshot interval.
    pub slope: f64,
    /// Kendall's tau of the counts.
    pub tau: f64,
    /// The slope in goroutines per minute, where capture times are known.
    pub per_minute: Option<f64>,
    pub entry_function: Option<String>,
    pub wait_minutes: Option<analysis::WaitAges>,
    /// Label sets of the group's goroutines with counts.
    pub labels: Vec<LabelsJson>,
    pub locked_to_thread: u64,
    pub runtime_marked_leaked: u64,
    /// The group's stack, innermost frame first.
    pub stack: Vec<FrameJson>,
}

#[derive(Debug, Serialize)]
pub struct LabelsJson {
    pub labels: std::collections::BTreeMap<String, String>,
    pub goroutines: u64,
}

fn frame_json(session: &Session, frame: crate::model::FrameId) -> FrameJson {
    let t = &session.stacks;
    let f = t.frame(frame);
    FrameJson {
        function: t.str(f.function).to_owned(),
        file: t.str(f.file).to_owned(),
        line: f.line,
    }
}

fn stack_json(session: &Session, stack: StackId) -> Vec<FrameJson> {
    session
        .stacks
        .frames(stack)
        .map(|f| frame_json(session, f))
        .collect()
}

fn input_json(session: &Session, input: &Input) -> InputJson {
    let source = input.source();
    let snapshot: Option<&Snapshot> = input.as_snapshot();
    InputJson {
        path: source.path.clone(),
        format: source.format.name(),
        profile_type: source.profile_type.as_ref().map(|p| p.name().to_owned()),
        goroutines: snapshot.and_then(Snapshot::goroutine_count),
        captured_at: snapshot.and_then(|s| s.captured_at_ns).map(format_rfc3339),
        warnings: input.warnings().iter().cloned().collect(),
        panic: snapshot.and_then(|s| s.panic.as_ref()).map(|p| PanicJson {
            message: p.message.clone(),
            goroutine: p.goroutine_id,
        }),
        top: snapshot.and_then(Snapshot::samples).map(|p| {
            let t = &session.stacks;
            let idx = p.default_type.min(p.sample_types.len().saturating_sub(1));
            let vt = p.sample_types.get(idx);
            TopJson {
                sample_type: vt.map_or("", |v| t.str(v.kind)).to_owned(),
                unit: vt.map_or("", |v| t.str(v.unit)).to_owned(),
                total: p.total(idx),
                functions: analysis::top::top_functions(t, p, idx, 10),
            }
        }),
    }
}

fn suspect_json(session: &Session, analysis: &Analysis, s: &Suspect) -> SuspectJson {
    let t = &session.stacks;
    let g = analysis.group(s);
    let site = s.leak_site.map(|f| t.frame(f));
    let created = g.created_by().and_then(|c| t.leaf(c));
    let mut labels: Vec<LabelsJson> = g
        .label_sets
        .iter()
        .filter(|(l, _)| !t.labels(**l).is_empty())
        .map(|(&l, &n)| LabelsJson {
            labels: t
                .labels(l)
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        LabelValue::Str(s) => t.str(*s).to_owned(),
                        LabelValue::Num { value, unit } => format!("{value}{}", t.str(*unit)),
                    };
                    (t.str(*k).to_owned(), v)
                })
                .collect(),
            goroutines: n,
        })
        .collect();
    labels.sort_by(|a, b| {
        b.goroutines
            .cmp(&a.goroutines)
            .then(a.labels.cmp(&b.labels))
    });
    SuspectJson {
        function: site.map(|f| t.str(f.function).to_owned()),
        file: site.map(|f| t.str(f.file).to_owned()),
        line: site.map(|f| f.line),
        wait_reason: g.wait_reason().map(str::to_owned),
        created_by: created.map(|f| t.function(f).to_owned()),
        created_at: created.map(|f| frame_json(session, f)),
        counts: g.counts.clone(),
        growing: s.growth.growing,
        score: round3(s.score),
        slope: round3(s.growth.slope),
        tau: round3(s.growth.tau),
        per_minute: s.growth.per_minute.map(round3),
        entry_function: s.entry.map(|f| t.function(f).to_owned()),
        wait_minutes: s.wait_ages,
        labels,
        locked_to_thread: g.locked_to_thread,
        runtime_marked_leaked: g.runtime_leaked,
        stack: stack_json(session, g.stack),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Builds the report both outputs are rendered from.
pub fn build(session: &Session, analysis: &Analysis) -> Report {
    Report {
        inputs: session
            .inputs
            .iter()
            .map(|i| input_json(session, i))
            .collect(),
        series: SeriesJson {
            order: analysis.order,
            snapshots: analysis
                .series
                .iter()
                .map(|p| SeriesSnapshotJson {
                    path: session.inputs[p.input].source().path.clone(),
                    captured_at: p.captured_at_ns.map(format_rfc3339),
                    goroutines: p.total,
                })
                .collect(),
            split_by_labels: analysis.split_by_labels,
        },
        suspects: analysis
            .suspects
            .iter()
            .map(|s| suspect_json(session, analysis, s))
            .collect(),
    }
}

fn short_path(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The text for people: inputs, totals, then suspects.
pub fn render_text(r: &Report, all: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "INPUTS");
    for i in &r.inputs {
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
    let snaps = &r.series.snapshots;
    if snaps.is_empty() {
        if r.suspects.is_empty() {
            let _ = writeln!(out, "\nNo goroutine snapshots among the inputs.");
        }
        return out;
    }
    let order = match r.series.order {
        SeriesOrder::CaptureTime => "by capture time",
        SeriesOrder::InputOrder => "in the order given",
    };
    let _ = writeln!(out, "\nSNAPSHOTS ({order})");
    for (i, s) in snaps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  t{i}  {:>8} goroutines  {}{}",
            s.goroutines,
            short_path(&s.path),
            s.captured_at
                .as_deref()
                .map(|t| format!("  {t}"))
                .unwrap_or_default()
        );
    }
    let growing = r.suspects.iter().filter(|s| s.growing).count();
    if snaps.len() >= 2 {
        let leaked: i64 = r
            .suspects
            .iter()
            .filter(|s| s.growing)
            .map(|s| {
                s.counts.last().copied().unwrap_or(0) as i64
                    - s.counts.first().copied().unwrap_or(0) as i64
            })
            .sum();
        let _ = writeln!(
            out,
            "\nLEAK SUSPECTS: {growing} growing stack groups (+{leaked} goroutines from t0 to t{}) among {} groups",
            snaps.len() - 1,
            r.suspects.len()
        );
    } else {
        let _ = writeln!(
            out,
            "\nLARGEST STACK GROUPS ({} groups; one snapshot, ranked by size and wait age)",
            r.suspects.len()
        );
    }
    let mut others = 0;
    for (rank, s) in r.suspects.iter().enumerate() {
        if !s.growing && !all {
            if others >= OTHERS_SHOWN {
                continue;
            }
            others += 1;
        }
        if !s.growing && others == 1 && growing > 0 && snaps.len() >= 2 {
            let _ = writeln!(out, "\n  not growing:");
        }
        let counts: Vec<String> = s.counts.iter().map(u64::to_string).collect();
        let trend = if snaps.len() >= 2 {
            if s.growing {
                match s.per_minute {
                    Some(m) => format!("GROWING {m:+.1}/min"),
                    None => format!("GROWING {:+.1}/interval", s.slope),
                }
            } else {
                "steady".to_owned()
            }
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n  #{:<3} {}  [{}]  {}",
            rank + 1,
            s.function.as_deref().unwrap_or("<no frames>"),
            counts.join(" → "),
            trend
        );
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
                "        labels {} ({} goroutines)",
                kv.join(", "),
                l.goroutines
            );
        }
    }
    let hidden = r.suspects.iter().filter(|s| !s.growing).count() - others;
    if hidden > 0 {
        let _ = writeln!(out, "\n  … {hidden} more groups (--all shows them)");
    }
    out
}
