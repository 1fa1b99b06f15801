//! What the app remembers between runs, the one selection every view
//! reads, and what views ask of the app (actions) and tell the user (notices).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::analysis::LabelMode;
use crate::analysis::flame::NodeId;
use crate::export::report::ReportFormat;
use crate::pipeline::InputSpec;

/// Settings and layout, saved in eframe's storage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// Share of the centre given to the timeline (the flame graph gets the rest).
    pub split: f32,
    /// Recently opened inputs, newest first (File ▸ Recent).
    pub recent: Vec<PathBuf>,
    /// Height of a timeline lane in points (View ▸ lane height).
    pub lane_height: f32,
    /// Flame graph root at the bottom (flame) instead of the top (icicle).
    pub flame_upward: bool,
    /// Order timeline lanes by creation time instead of by suspect rank.
    pub lanes_by_creation: bool,
    /// Whether the timeline's colour legend is shown.
    pub show_legend: bool,
    /// Show the trace's goroutines on the timeline (when a trace is loaded)
    /// rather than the snapshots'.
    pub timeline_trace: bool,
    /// Show function names with their import paths, and whole file paths
    /// (tooltips, the stack panel and exports always do).
    pub full_names: bool,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            split: 0.55,
            recent: Vec::new(),
            lane_height: 14.0,
            flame_upward: false,
            lanes_by_creation: false,
            show_legend: true,
            timeline_trace: true,
            full_names: false,
        }
    }
}

impl ViewState {
    /// Remembers opened files, most recent first, at most ten.
    pub fn remember(&mut self, paths: &[PathBuf]) {
        for p in paths.iter().rev() {
            self.recent.retain(|r| r != p);
            self.recent.insert(0, p.clone());
        }
        self.recent.truncate(10);
    }
}

/// The selection shared by every view: selecting in one highlights in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    #[default]
    /// Nothing selected: every view shows everything.
    None,
    /// A stack group (index into `Analysis::groups`).
    Group(usize),
    /// Goroutines a trace saw created and never end, at one site (index
    /// into `TraceAnalysis::leaks`).
    TraceGroup(usize),
}

impl Selection {
    /// The stack group selected, if a group is.
    pub fn group(self) -> Option<usize> {
        match self {
            Selection::Group(g) => Some(g),
            Selection::None | Selection::TraceGroup(_) => None,
        }
    }
}

/// What a view asks the app to do. Views draw from the state as the frame
/// began and return actions; the app applies them once the whole frame is
/// drawn, so every panel of a frame shows the same selection.
#[derive(Clone, Debug)]
pub enum Action {
    /// Select a group (or nothing); the timeline scrolls to its first lane.
    Select(Selection),
    /// Scroll the timeline to a lane and centre it on a time.
    JumpTo {
        /// The lane (index into the lanes on screen).
        lane: u32,
        /// The time to centre, in the lanes' clock.
        time_ns: i64,
    },
    /// Show the timeline's whole window.
    FitTimeline,
    /// Fit the timeline to the selected goroutines.
    ZoomToSelection,
    /// Show the trace's goroutines on the timeline (`true`) or the snapshots'.
    ShowTrace(bool),
    /// Show a flame box full width (0: the root).
    FlameZoom(NodeId),
    /// A flame box was clicked: zoom into it and select the group through it.
    FlameClicked(NodeId),
    /// A function picked in the Top table or the Sandwich: search it and
    /// show it in the Sandwich.
    PickFunction(crate::model::StrId),
    /// Back through selections and zooms.
    Back,
    /// Forward again after [`Action::Back`].
    Forward,
    /// Ask where to save, then export.
    Export(ExportRequest),
    /// Ask which files to open; `add` adds them to the session.
    OpenDialog {
        /// Add the picked files to the session instead of replacing it.
        add: bool,
    },
    /// Open inputs in place of the session.
    Open(Vec<InputSpec>),
    /// Group by labels another way (the inputs load again).
    SetLabelMode(LabelMode),
    /// Export to the path typed where no file dialog could open (`None`:
    /// drop the export).
    SaveExportAt(Option<PathBuf>),
    /// Rank a count profile of the service's own, or goroutines (`None`).
    SetCountProfile(Option<String>),
    /// Show another instance of a fleet.
    SetInstance(String),
    /// Replace the file an export found in its way (`true`) or keep it.
    ConfirmReplace(bool),
    /// Open the Connect dialog.
    ShowConnect,
    /// Open the window listing errors and warnings.
    ShowNotices,
}

/// What to export; the app fills in the details at the time it applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportRequest {
    /// The flame graph as on screen, as SVG.
    FlameView,
    /// The flame graph as on screen, as folded stacks.
    Folded,
    /// A stack group's goroutines in the newest snapshot.
    Group(usize),
    /// Growth from the first snapshot to the last (differential SVG).
    Growth,
    /// The incident report, in HTML or Markdown.
    Report(ReportFormat),
}

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something failed; stays until dismissed.
    Error,
    /// Something was partly done (a file skipped, a trace cut short).
    Warning,
    /// A finished action (an export written).
    Info,
}

/// A message shown in the app (never only in a terminal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// How serious it is (its colour, and whether it fades).
    pub level: Level,
    /// What to tell the user, with the file or URL concerned.
    pub text: String,
}

impl Notice {
    /// A failure, shown until dismissed.
    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Error,
            text: text.into(),
        }
    }

    /// A partial result, shown until dismissed.
    pub fn warning(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Warning,
            text: text.into(),
        }
    }

    /// A confirmation that fades.
    pub fn info(text: impl Into<String>) -> Notice {
        Notice {
            level: Level::Info,
            text: text.into(),
        }
    }
}
