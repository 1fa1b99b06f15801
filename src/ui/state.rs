//! What the app remembers between runs, and the one selection every view reads.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Settings and layout, saved in eframe's storage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// Share of the centre given to the timeline (the flame graph gets the rest).
    pub split: f32,
    pub recent: Vec<PathBuf>,
    pub lane_height: f32,
    /// Flame graph root at the bottom (flame) instead of the top (icicle).
    pub flame_upward: bool,
    /// Order timeline lanes by creation time instead of by suspect rank.
    pub lanes_by_creation: bool,
    pub show_legend: bool,
    /// Show the trace's goroutines on the timeline (when a trace is loaded)
    /// rather than the snapshots'.
    pub timeline_trace: bool,
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
    None,
    /// A stack group (index into `Analysis::groups`).
    Group(usize),
    /// Goroutines a trace saw created and never end, at one site (index
    /// into `TraceAnalysis::leaks`).
    TraceGroup(usize),
}

impl Selection {
    pub fn group(self) -> Option<usize> {
        match self {
            Selection::Group(g) => Some(g),
            Selection::None | Selection::TraceGroup(_) => None,
        }
    }
}

/// What a view asks the app to do after drawing.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Select(Selection),
    /// Scroll the timeline to a lane and centre it on a time.
    JumpTo {
        lane: u32,
        time_ns: i64,
    },
    /// Export a stack group's flame graph.
    ExportGroup(usize),
    /// Show the timeline's whole window.
    FitTimeline,
    /// Show a flame box full width (0: the root).
    FlameZoom(crate::analysis::flame::NodeId),
    /// A flame box was clicked: zoom into it and select the group through it.
    FlameClicked(crate::analysis::flame::NodeId),
}
