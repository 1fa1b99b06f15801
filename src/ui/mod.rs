//! The desktop app (feature `gui`): the only code that uses egui.

pub mod app;
pub mod creation_tree;
pub mod details;
pub mod export;
pub mod exporter;
pub mod flame;
pub mod history;
pub mod live;
pub mod loader;
pub mod names;
pub mod panels;
pub mod plot;
pub mod state;
pub mod theme;
pub mod timeline;
pub mod workspace;

use std::path::PathBuf;
use std::sync::Arc;

use crate::pipeline::InputSpec;

pub use app::LeakscopeApp;
pub use workspace::HistorySource;

/// The demo session compiled into the binary: goroutine dumps of a real
/// leaking service (`leakyd`, see `assets/demo/README.md`) taken 20 to 40
/// seconds apart and an execution trace of the same service, so a newcomer
/// sees growing suspects, their goroutines' lanes, creation events and
/// blocking points at once.
pub fn demo_inputs() -> Vec<InputSpec> {
    const FILES: [(&str, &[u8]); 5] = [
        (
            "demo/goroutine-t0.debug2.txt",
            include_bytes!("../../assets/demo/goroutine-t0.debug2.txt"),
        ),
        (
            "demo/goroutine-t1.debug2.txt",
            include_bytes!("../../assets/demo/goroutine-t1.debug2.txt"),
        ),
        (
            "demo/goroutine-t2.debug2.txt",
            include_bytes!("../../assets/demo/goroutine-t2.debug2.txt"),
        ),
        (
            "demo/goroutine-t3.debug2.txt",
            include_bytes!("../../assets/demo/goroutine-t3.debug2.txt"),
        ),
        (
            "demo/trace-go123.out",
            include_bytes!("../../assets/demo/trace-go123.out"),
        ),
    ];
    FILES
        .iter()
        .map(|(name, data)| InputSpec::Bytes {
            name: (*name).to_owned(),
            data: Arc::from(*data),
        })
        .collect()
}

/// How the app starts.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Files to open; none opens the demo session.
    pub files: Vec<PathBuf>,
    /// Where `--screenshot` writes the first settled frame as PNG (then the app exits).
    pub screenshot: Option<PathBuf>,
    /// The window size in logical points (`--size`); wins over a saved size.
    pub size: Option<[f32; 2]>,
    /// A suspect to select at start by function name (`--select`), so a screenshot shows a story.
    pub select: Option<String>,
    /// The flame pane's view at start (Graph by default).
    pub flame_view: Option<flame::FlameMode>,
    /// Where to read goroutine histories (Prometheus), if anywhere.
    pub history: Option<HistorySource>,
}

/// The window's options for a run.
///
/// A `--screenshot` run is kept apart from the user's saved state: eframe
/// gets a storage file of its own in a fresh temporary folder, so it reads
/// nothing saved (window size, panel sizes, recent files) and writes
/// nothing over it. `--size` wins over a saved window size: the window's
/// geometry is neither restored nor saved when it is given.
pub fn native_options(options: &RunOptions) -> eframe::NativeOptions {
    let size = options.size.unwrap_or([1440.0, 900.0]);
    eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("leakscope")
            .with_inner_size(size)
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        persist_window: options.screenshot.is_none() && options.size.is_none(),
        persistence_path: options.screenshot.is_some().then(screenshot_storage),
        ..Default::default()
    }
}

/// Where a screenshot run's eframe keeps its state: a file in a folder of
/// its own, removed when the run ends.
fn screenshot_storage() -> PathBuf {
    std::env::temp_dir()
        .join(format!("leakscope-screenshot-{}", std::process::id()))
        .join("app.ron")
}

/// Opens the window and runs until it closes.
pub fn run(options: RunOptions) -> anyhow::Result<()> {
    let native = native_options(&options);
    let scratch = native.persistence_path.clone();
    let screenshot = options.screenshot.clone();
    let result = eframe::run_native(
        "leakscope",
        native,
        Box::new(move |cc| {
            let state = if screenshot.is_some() {
                state::ViewState::default()
            } else {
                cc.storage
                    .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                    .unwrap_or_default()
            };
            let mut app = LeakscopeApp::new(state);
            // Nothing of a screenshot run is saved (recent files included).
            app.set_persistent(screenshot.is_none());
            if let Some(path) = screenshot {
                app.screenshot_to(path);
            }
            if let Some(sel) = options.select {
                app.select_on_load(sel);
            }
            if let Some(v) = options.flame_view {
                app.set_flame_mode(v);
            }
            if let Some(h) = options.history {
                app.read_history_from(h);
            }
            if options.files.is_empty() {
                app.open(demo_inputs());
            } else {
                app.open(options.files.into_iter().map(InputSpec::Path).collect());
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"));
    if let Some(dir) = scratch.as_ref().and_then(|p| p.parent()) {
        std::fs::remove_dir_all(dir).ok();
    }
    result
}
