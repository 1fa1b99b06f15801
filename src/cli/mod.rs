//! The command line: `inspect`, `export`, `report` (and, with the `gui`
//! feature, the app).
//!
//! Every command runs the same [`crate::analysis`] functions the desktop
//! app uses, so scripts and CI see exactly what people see.

mod export;
mod inspect;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rayon::prelude::*;

use crate::analysis::LabelMode;
use crate::formats::{self, LoadError, LoadOptions};
use crate::model::Session;
use crate::progress::Progress;

/// Find goroutine leaks in Go services: pprof profiles, goroutine dumps and
/// execution traces, side by side.
#[derive(Debug, Parser)]
#[command(name = "leakscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Files to open in the app.
    files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load captures and print the inputs, totals and leak suspects.
    Inspect(inspect::InspectArgs),
    /// Write a flame graph SVG (plain or differential) and/or folded stacks.
    Export(export::ExportArgs),
    /// Write a one-file incident report (HTML, or Markdown for `.md`).
    Report(report::ReportArgs),
}

/// How labels split groups, as given on the command line.
pub(crate) fn parse_label_mode(s: &str) -> Result<LabelMode, String> {
    Ok(match s {
        "auto" => LabelMode::Auto,
        "merge" => LabelMode::Merge,
        "split" => LabelMode::Split,
        keys if !keys.trim().is_empty() => LabelMode::SplitBy(
            keys.split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect(),
        ),
        _ => {
            return Err(
                "expected auto, merge, split or a comma-separated list of label keys".into(),
            );
        }
    })
}

/// Loads every file in parallel and puts them in one session, in the given order.
pub fn load_session(paths: &[PathBuf], options: &LoadOptions) -> Result<Session, LoadError> {
    let loaded: Vec<_> = paths
        .par_iter()
        .map(|p| formats::load_file(p, options, &Progress::none()))
        .collect();
    let mut session = Session::default();
    for l in loaded {
        let l = l?;
        session.add_owned(l.table, l.input);
    }
    Ok(session)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Inspect(args)) => inspect::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        None => {
            use clap::CommandFactory as _;
            let mut cmd = Cli::command();
            cmd.print_help().ok();
            println!();
            ExitCode::SUCCESS
        }
    }
}

/// Prints one line naming the input and the reason, and gives exit code 2.
pub(crate) fn fail(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("leakscope: {err}");
    ExitCode::from(2)
}

/// An export error as one line, telling how to get past a file that exists.
pub(crate) fn with_hint(err: &anyhow::Error) -> String {
    match err.downcast_ref::<crate::export::ExportError>() {
        Some(crate::export::ExportError::Exists { .. }) => format!("{err} (--force replaces it)"),
        _ => err.to_string(),
    }
}
