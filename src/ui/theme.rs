//! Colours of goroutine states and of frames on screen.

use egui::Color32;

use crate::analysis::palette;
use crate::model::{StateKind, WaitCategory, WaitReason};

/// The colour of each family of waits, the same for dumps and traces;
/// legends list them all, so no colour on screen goes unexplained.
pub fn state_color(category: WaitCategory) -> Color32 {
    match category {
        WaitCategory::Running => Color32::from_rgb(67, 160, 71),
        WaitCategory::Runnable => Color32::from_rgb(192, 202, 51),
        WaitCategory::Syscall => Color32::from_rgb(0, 151, 167),
        WaitCategory::Channel => Color32::from_rgb(239, 108, 0),
        WaitCategory::Select => Color32::from_rgb(255, 179, 0),
        WaitCategory::Sync => Color32::from_rgb(211, 47, 47),
        WaitCategory::Io => Color32::from_rgb(30, 136, 229),
        WaitCategory::Sleep => Color32::from_rgb(142, 36, 170),
        WaitCategory::Forever => Color32::from_rgb(94, 53, 177),
        WaitCategory::Runtime => Color32::from_rgb(141, 110, 99),
        WaitCategory::Unknown => Color32::from_rgb(120, 120, 120),
    }
}

/// A goroutine known to wait, on something no input recorded (a trace's
/// goroutines already waiting when it began, in the legacy format).
pub const WAITING_UNKNOWN: Color32 = Color32::from_rgb(84, 110, 122);

/// What "waiting, reason not recorded" reads as in the legend.
pub const WAITING_UNKNOWN_LABEL: &str = "waiting, reason not recorded";

/// The colour of a lane's span: its reason's family, or for a wait of
/// unknown reason its own colour (not the grey of a state not recorded:
/// the state is known).
pub fn span_color(kind: StateKind, reason: WaitReason) -> Color32 {
    if reason == WaitReason::Unknown && kind == StateKind::Waiting {
        WAITING_UNKNOWN
    } else {
        state_color(reason.category())
    }
}

/// Every colour the lanes can use with what it means, in legend order:
/// the legend draws exactly this, so no colour goes unexplained.
pub fn legend() -> Vec<(&'static str, Color32)> {
    let mut out: Vec<(&'static str, Color32)> = WaitCategory::ALL
        .iter()
        .map(|&c| (c.label(), state_color(c)))
        .collect();
    // Beside the grey of "state not recorded", the last entry.
    let at = out.len().saturating_sub(1);
    out.insert(at, (WAITING_UNKNOWN_LABEL, WAITING_UNKNOWN));
    out
}

/// Colour of a box in a differential flame graph: red for growth, blue for shrinkage, saturated with the size of `change` (−1 ..= 1).
pub fn diff_color(change: f32) -> Color32 {
    let [r, g, b] = palette::diff_color(change);
    Color32::from_rgb(r, g, b)
}

/// Healthy: a live connection that works.
pub const OK: Color32 = Color32::from_rgb(67, 160, 71);
/// Boxes and lanes that match the search.
pub const SEARCH_MATCH: Color32 = Color32::from_rgb(230, 0, 230);
/// The selection, in every view.
pub const HIGHLIGHT: Color32 = Color32::from_rgb(255, 215, 0);
/// Creation events (where a goroutine was started).
pub const CREATION: Color32 = Color32::from_rgb(46, 125, 50);
/// Blocking points (where a goroutine started to wait).
pub const BLOCKING: Color32 = Color32::from_rgb(198, 40, 40);
/// A goroutine history from Prometheus, behind the snapshots.
pub const HISTORY: Color32 = Color32::from_rgba_premultiplied(47, 73, 100, 150);
