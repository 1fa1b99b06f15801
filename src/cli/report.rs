//! `leakscope report`: the one-file incident report (HTML or Markdown).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};

use super::fleet;
use crate::analysis::{AnalysisOptions, LabelMode};
use crate::export::atomic_write;
use crate::export::report::{self, ReportFormat, ReportOptions};
use crate::formats::LoadOptions;
use crate::live::prometheus;
use crate::pipeline::Findings;

#[derive(Copy, Clone, Debug, ValueEnum)]
enum FormatArg {
    Html,
    Md,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the report here: HTML, or Markdown for `.md`.
    #[arg(short, long, value_name = "OUT.html|OUT.md")]
    output: PathBuf,
    /// The format, whatever the file name says.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Suspects shown in detail with their full stacks.
    #[arg(long, value_name = "N", default_value_t = 5)]
    top: usize,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
    /// How pprof labels split stack groups: auto, merge, split, or label keys.
    #[arg(long, default_value = "auto", value_parser = super::parse_label_mode)]
    labels: LabelMode,
    /// Draw the service's goroutine history from this Prometheus server
    /// behind the snapshots (`http://prometheus:9090`).
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
    /// How far back the history goes: 6h, 24h, 168h (a week).
    #[arg(long, default_value = "24h", value_parser = super::capture::parse_duration)]
    history: std::time::Duration,
    /// The PromQL of the history (default: `go_goroutines` of the instance
    /// the session folder polled, `{instance="host:port"}`).
    #[arg(long, value_name = "PROMQL")]
    history_query: Option<String>,
    /// Captures: pprof profiles, goroutine dumps, folded stacks, session
    /// folders; folders of several instances are ranked across the fleet.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: &ReportArgs) -> ExitCode {
    // Refuse before loading anything if the report cannot be written.
    if let Err(e) = atomic_write::check_target(&args.output, args.force) {
        return super::fail(&super::with_hint(&e.into()));
    }
    let options = AnalysisOptions {
        labels: args.labels.clone(),
        ..AnalysisOptions::default()
    };
    let mut leading = Vec::new();
    let findings = if let Some(instances) = fleet::instances(&args.files) {
        // The worst instance's report, led by the ranking across all.
        let mut loaded = fleet::load(&instances, &LoadOptions::default(), &options);
        if loaded.is_empty() {
            return super::fail(&"none of the instances' folders could be loaded");
        }
        let ranking = fleet::rank(&loaded);
        leading.push(fleet::section(&ranking));
        let worst = ranking
            .groups
            .first()
            .and_then(|g| g.instances.first())
            .and_then(|w| loaded.iter().position(|(n, _)| *n == w.instance))
            .unwrap_or(0);
        loaded.swap_remove(worst).1
    } else {
        match super::load_findings(&args.files, &LoadOptions::default(), &options) {
            Ok(f) => f,
            Err(code) => return code,
        }
    };
    match write(args, &findings, leading) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&super::with_hint(&e)),
    }
}

/// The goroutine history asked of Prometheus, or why there is none (the
/// report is written either way).
fn history(args: &ReportArgs, findings: &Findings) -> Option<report::History> {
    let url = args.prometheus.as_deref()?;
    let dirs: Vec<PathBuf> = findings
        .inputs
        .iter()
        .filter_map(|spec| match spec {
            crate::pipeline::InputSpec::Path(p) => Some(p.clone()),
            crate::pipeline::InputSpec::Bytes { .. } => None,
        })
        .collect();
    let Some(query) = args
        .history_query
        .clone()
        .or_else(|| prometheus::instance_query(&dirs))
    else {
        eprintln!("leakscope: no history: the inputs name no instance; give --history-query");
        return None;
    };
    match prometheus::history(url, &query, args.history, &|| false) {
        Ok((title, points)) => Some(report::History { title, points }),
        Err(e) => {
            eprintln!("leakscope: no history: {e}");
            None
        }
    }
}

fn write(
    args: &ReportArgs,
    findings: &Findings,
    leading: Vec<report::Section>,
) -> anyhow::Result<()> {
    let format = match args.format {
        Some(FormatArg::Html) => ReportFormat::Html,
        Some(FormatArg::Md) => ReportFormat::Markdown,
        None => ReportFormat::from_path(&args.output),
    };
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok());
    let opts = ReportOptions {
        format,
        top_suspects: args.top,
        generated_at_ns: now_ns,
        history: history(args, findings),
        leading,
        ..ReportOptions::default()
    };
    let text = report::render(findings, &opts)?;
    atomic_write::write_atomic(&args.output, args.force, text.as_bytes())?;
    println!("wrote {}", args.output.display());
    Ok(())
}
