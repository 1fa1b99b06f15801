//! `leakscope report`: the one-file incident report (HTML or Markdown).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};

use crate::analysis::{AnalysisOptions, LabelMode};
use crate::export::atomic_write;
use crate::export::report::{self, ReportFormat, ReportOptions};
use crate::formats::LoadOptions;
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
    /// Captures: pprof profiles, goroutine dumps, folded stacks.
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
    };
    let findings = match super::load_findings(&args.files, &LoadOptions::default(), &options) {
        Ok(f) => f,
        Err(code) => return code,
    };
    match write(args, &findings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&super::with_hint(&e)),
    }
}

fn write(args: &ReportArgs, findings: &Findings) -> anyhow::Result<()> {
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
        ..ReportOptions::default()
    };
    let text = report::render(findings, &opts)?;
    atomic_write::write_atomic(&args.output, args.force, text.as_bytes())?;
    println!("wrote {}", args.output.display());
    Ok(())
}
