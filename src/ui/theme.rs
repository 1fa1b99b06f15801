//! Colours of goroutine states and of frames on screen.

use egui::Color32;

use crate::analysis::frames;
use crate::model::{StackTable, StateKind, StrId};
use crate::palette;

/// Legend entries: what a colour means on the timeline.
pub const LEGEND: [(&str, Color32); 9] = [
    ("running", RUNNING),
    ("runnable", RUNNABLE),
    ("syscall", SYSCALL),
    ("chan send / receive", CHAN),
    ("select", SELECT),
    ("mutex / sync", SYNC),
    ("IO / network", IO),
    ("sleep", SLEEP),
    ("other wait", WAIT_OTHER),
];

const RUNNING: Color32 = Color32::from_rgb(67, 160, 71);
const RUNNABLE: Color32 = Color32::from_rgb(192, 202, 51);
const SYSCALL: Color32 = Color32::from_rgb(0, 151, 167);
const CHAN: Color32 = Color32::from_rgb(239, 108, 0);
const SELECT: Color32 = Color32::from_rgb(255, 179, 0);
const SYNC: Color32 = Color32::from_rgb(211, 47, 47);
const IO: Color32 = Color32::from_rgb(30, 136, 229);
const SLEEP: Color32 = Color32::from_rgb(142, 36, 170);
const WAIT_OTHER: Color32 = Color32::from_rgb(141, 110, 99);
const UNKNOWN: Color32 = Color32::from_rgb(120, 120, 120);

/// Colour of a state, refined by the wait reason for waiting goroutines.
pub fn state_color(kind: StateKind, reason: &str) -> Color32 {
    match kind {
        StateKind::Running => RUNNING,
        StateKind::Runnable => RUNNABLE,
        StateKind::Syscall => SYSCALL,
        StateKind::Other | StateKind::Unknown => UNKNOWN,
        StateKind::Waiting => waiting_color(reason),
    }
}

fn waiting_color(reason: &str) -> Color32 {
    let r = reason.to_ascii_lowercase();
    if r.starts_with("chan") {
        CHAN
    } else if r.starts_with("select") {
        SELECT
    } else if r.contains("mutex")
        || r.starts_with("sync")
        || r.starts_with("semacquire")
        || r.contains("cond")
    {
        SYNC
    } else if r.contains("io wait") || r.contains("network") {
        IO
    } else if r.contains("sleep") {
        SLEEP
    } else {
        WAIT_OTHER
    }
}

pub fn frame_color(
    table: &StackTable,
    function: StrId,
    frame: Option<crate::model::FrameId>,
) -> Color32 {
    let name = table.str(function);
    let class = match frame {
        Some(f) => frames::classify(table, f),
        None => frames::FrameClass::Runtime,
    };
    let [r, g, b] = palette::frame_color(name, class);
    Color32::from_rgb(r, g, b)
}

pub fn diff_color(change: f32) -> Color32 {
    let [r, g, b] = palette::diff_color(change);
    Color32::from_rgb(r, g, b)
}

pub const SEARCH_MATCH: Color32 = Color32::from_rgb(230, 0, 230);
pub const HIGHLIGHT: Color32 = Color32::from_rgb(255, 215, 0);
pub const CREATION: Color32 = Color32::from_rgb(46, 125, 50);
pub const BLOCKING: Color32 = Color32::from_rgb(198, 40, 40);
