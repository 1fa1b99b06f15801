//! The command line: `inspect`, `capture`, `watch`, `export`, `report`, and the
//! arguments of the desktop app.
//!
//! Every command runs the same [`crate::analysis`] functions the desktop
//! app uses, so scripts and CI see exactly what people see. The CLI knows
//! nothing of the app: without a subcommand [`main`] hands the app's
//! arguments back and `main.rs` starts the app (feature `gui`), so the
//! command line builds and runs without a GUI toolkit.

mod capture;
mod connection;
mod export;
mod fleet;
mod inspect;
mod report;
mod watch;

pub use inspect::render_text as render_inspect_text;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::analysis::{AnalysisOptions, LabelMode};
use crate::formats::LoadOptions;
use crate::pipeline::{self, Findings, InputError, InputSpec, LoadOutcome};
use crate::progress::Progress;

/// Find goroutine leaks in Go services: pprof profiles, goroutine dumps and
/// execution traces, side by side.
#[derive(Debug, Parser)]
#[command(name = "leakscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Files to open in the app (none: the embedded demo session).
    files: Vec<PathBuf>,
    /// Save a PNG of the window once everything is loaded, then exit.
    #[arg(long, value_name = "OUT.png")]
    screenshot: Option<PathBuf>,
    /// Window size for the app or the screenshot, `WIDTHxHEIGHT`.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<[f32; 2]>,
    /// Select the first leak suspect whose function matches this regex once loaded.
    #[arg(long, value_name = "REGEX")]
    select: Option<String>,
    /// What the flame graph pane shows at start: the graph, its functions'
    /// self and total (top), or one function's callers and callees (sandwich).
    #[arg(long, value_enum, value_name = "VIEW")]
    flame_view: Option<FlameView>,
    /// Draw the goroutine history of the instance a session folder polled,
    /// read from this Prometheus server, behind the snapshots.
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
    /// How far back that history goes: 6h, 24h, 168h.
    #[arg(long, default_value = "24h", value_parser = capture::parse_duration)]
    history: std::time::Duration,
}

fn parse_size(s: &str) -> Result<[f32; 2], String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| "expected WIDTHxHEIGHT, e.g. 1440x900".to_owned())?;
    let w: f32 = w.trim().parse().map_err(|_| format!("bad width {w:?}"))?;
    let h: f32 = h.trim().parse().map_err(|_| format!("bad height {h:?}"))?;
    if !(200.0..=10_000.0).contains(&w) || !(200.0..=10_000.0).contains(&h) {
        return Err("size must be between 200 and 10000 pixels".into());
    }
    Ok([w, h])
}

/// The flame graph pane's views, as the app's `--flame-view` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FlameView {
    /// The flame graph.
    Graph,
    /// Self and total per function.
    Top,
    /// One function's callers and callees.
    Sandwich,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load captures and print the inputs, totals and leak suspects.
    Inspect(inspect::InspectArgs),
    /// Poll a running service's /debug/pprof/ and save every capture into a session folder.
    Capture(capture::CaptureArgs),
    /// Write a flame graph SVG (plain or differential) and/or folded stacks.
    Export(export::ExportArgs),
    /// Write a one-file incident report (HTML, or Markdown for `.md`).
    Report(report::ReportArgs),
    /// Watch services: poll cheaply, serve Prometheus metrics, and save an
    /// incident folder when a trigger fires.
    Watch(Box<watch::WatchArgs>),
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

/// Loads a command's inputs through the pipeline. Every input that could
/// not be loaded is named on stderr with its reason and the rest go on; only
/// when nothing loaded is that the command's failure (exit code 2).
pub(crate) fn load_inputs(
    paths: &[PathBuf],
    options: &LoadOptions,
) -> Result<(LoadOutcome, Vec<InputSpec>), ExitCode> {
    let specs: Vec<InputSpec> = paths.iter().cloned().map(InputSpec::Path).collect();
    let outcome = pipeline::load(&specs, options, &Progress::none()).unwrap_or_default();
    report_unreadable(&outcome.errors, &outcome.skipped);
    if outcome.session.inputs.is_empty() {
        return Err(fail(&"none of the inputs could be loaded"));
    }
    Ok((outcome, specs))
}

/// [`load_inputs`], then the analysis every view reads.
pub(crate) fn load_findings(
    paths: &[PathBuf],
    options: &LoadOptions,
    analysis: &AnalysisOptions,
) -> Result<Findings, ExitCode> {
    let (outcome, specs) = load_inputs(paths, options)?;
    Ok(Findings::analyse(outcome, specs, analysis))
}

fn report_unreadable(errors: &[InputError], skipped: &[InputError]) {
    for e in errors {
        eprintln!("leakscope: cannot load {e}");
    }
    for e in skipped {
        eprintln!("leakscope: skipped {e} (a file the session manifest does not list)");
    }
}

/// What the binary does after the command line was read.
#[derive(Debug)]
pub enum Dispatch {
    /// A subcommand ran; exit with its code.
    Exit(ExitCode),
    /// No subcommand: open the desktop app.
    App(AppArgs),
}

/// The desktop app's arguments, as given on the command line.
#[derive(Debug, Default)]
pub struct AppArgs {
    /// Files to open; none opens the demo session.
    pub files: Vec<PathBuf>,
    /// Save a PNG of the window once loaded, then exit.
    pub screenshot: Option<PathBuf>,
    /// Window size, `[width, height]` in points.
    pub size: Option<[f32; 2]>,
    /// Regex on the leak site of the suspect to select once loaded.
    pub select: Option<String>,
    /// The flame pane's view at start.
    pub flame_view: Option<FlameView>,
    /// A Prometheus server to read goroutine histories from, and how far back.
    pub history: Option<(String, std::time::Duration)>,
}

/// Reads the command line and runs a subcommand, or says to open the app.
pub fn main() -> Dispatch {
    let cli = Cli::parse();
    Dispatch::Exit(match cli.command {
        Some(Command::Inspect(args)) => inspect::run(&args),
        Some(Command::Capture(args)) => capture::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        Some(Command::Watch(args)) => watch::run(&args),
        None => {
            return Dispatch::App(AppArgs {
                files: cli.files,
                screenshot: cli.screenshot,
                size: cli.size,
                select: cli.select,
                flame_view: cli.flame_view,
                history: cli.prometheus.map(|url| (url, cli.history)),
            });
        }
    })
}

/// Set once Ctrl-C (or SIGTERM) arrives: long-running commands end cleanly
/// instead of dying mid-write. The handler is installed on first use.
pub(crate) fn interrupted() -> &'static std::sync::atomic::AtomicBool {
    static FLAG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // Without a handler Ctrl-C still ends the process, as it always did.
        ctrlc::set_handler(|| FLAG.store(true, std::sync::atomic::Ordering::SeqCst)).ok();
    });
    &FLAG
}

/// Prints one line naming the input and the reason, and gives exit code 2.
pub fn fail(err: &dyn std::fmt::Display) -> ExitCode {
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
