//! The `leakscope` binary: [`leakscope::cli`] reads the arguments and runs a
//! subcommand; without one this starts the desktop app (feature `gui`).
//! Choosing here keeps the CLI free of the app and its toolkit.

use std::process::ExitCode;

use leakscope::cli::{self, AppArgs, Dispatch};

fn main() -> ExitCode {
    match cli::main() {
        Dispatch::Exit(code) => code,
        Dispatch::App(args) => run_app(args),
    }
}

#[cfg(feature = "gui")]
fn run_app(args: AppArgs) -> ExitCode {
    let options = leakscope::ui::RunOptions {
        files: args.files,
        screenshot: args.screenshot,
        size: args.size,
        select: args.select,
        flame_view: args.flame_view.map(|v| match v {
            cli::FlameView::Graph => leakscope::ui::flame::FlameMode::Graph,
            cli::FlameView::Top => leakscope::ui::flame::FlameMode::Top,
            cli::FlameView::Sandwich => leakscope::ui::flame::FlameMode::Sandwich,
        }),
        history: args
            .history
            .map(|(url, range)| leakscope::ui::HistorySource { url, range }),
    };
    match leakscope::ui::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(&e),
    }
}

#[cfg(not(feature = "gui"))]
fn run_app(args: AppArgs) -> ExitCode {
    let _ = args;
    eprintln!(
        "leakscope: built without the desktop app (feature `gui`); use a subcommand such as `inspect`"
    );
    ExitCode::from(2)
}
