//! What the pointer is over on the timeline: a tooltip for the lane (the
//! event or state under the pointer and the stack), and the click that
//! selects the lane's group.

use egui::{Response, Ui};

use super::{Layout, TimelineData};
use crate::analysis::lanes::{EventKind, LaneEvent, LaneInfo, LaneSpan, span_description};
use crate::model::StackTable;
use crate::model::time::format_duration_ns;
use crate::ui::names::Names;
use crate::ui::state::{Action, Selection};
use crate::ui::theme;

/// The tooltip of the lane under the pointer; a click selects its group.
pub(super) fn hover_ui(
    response: &Response,
    layout: &Layout,
    order: &[u32],
    d: &TimelineData<'_>,
) -> Option<Action> {
    let p = response.hover_pos()?;
    if p.y <= layout.plot.top() {
        return None;
    }
    let row = ((p.y - layout.plot.top()) / layout.lane_h).floor() as usize + layout.first;
    let lane = *order.get(row)? as usize;
    let t = layout.time.ns_from_px(p.x);
    let info = d.lanes.lane(lane);
    let slop = (4.0 * layout.time.ns_per_px()) as i64;
    let event = d
        .lanes
        .events(lane, t.saturating_sub(slop), t.saturating_add(slop))
        .into_iter()
        .min_by_key(|e| e.time_ns.abs_diff(t));
    let mut span = None;
    d.lanes.spans(lane, t, t.saturating_add(1), &mut |s| {
        if span.is_none() {
            span = Some(s);
        }
    });
    response.clone().on_hover_ui_at_pointer(|ui| {
        lane_tooltip_ui(ui, d, lane, &info, event.as_ref(), span.as_ref());
    });
    if !response.clicked() {
        return None;
    }
    if let Some(g) = info.trace_group {
        Some(Action::Select(Selection::TraceGroup(g as usize)))
    } else {
        info.group
            .map(|g| Action::Select(Selection::Group(g as usize)))
    }
}

fn lane_tooltip_ui(
    ui: &mut Ui,
    d: &TimelineData<'_>,
    lane: usize,
    info: &LaneInfo,
    event: Option<&LaneEvent>,
    span: Option<&LaneSpan>,
) {
    match info.goroutine {
        Some(g) => ui.strong(format!("goroutine {g}")),
        None => ui.strong("goroutine"),
    };
    if let Some(e) = event {
        event_text(ui, d.table, e);
    } else if let Some(s) = span {
        ui.label(span_description(d.lanes, d.table, lane, s));
    }
    for (i, f) in d.table.frames(info.stack).take(8).enumerate() {
        let text = frame_text(d.table, f);
        if i == 0 {
            ui.monospace(text);
        } else {
            ui.weak(text);
        }
    }
    ui.weak("click to select its stack group");
}

/// `function  path/file.go:line`, whole: a tooltip is where full names go.
fn frame_text(table: &StackTable, f: crate::model::FrameId) -> String {
    let fr = table.frame(f);
    format!(
        "{}  {}:{}",
        table.str(fr.function),
        table.str(fr.file),
        fr.line
    )
}

/// Describes a lane event in a tooltip.
pub fn event_text(ui: &mut Ui, table: &StackTable, e: &LaneEvent) {
    let top = |s: Option<crate::model::StackId>| {
        let frame = match e.kind {
            EventKind::Blocked => s.and_then(|s| crate::analysis::frames::leak_site(table, s)),
            _ => s.and_then(|s| table.leaf(s)),
        };
        frame.map(|f| Names::FULL.frame(table, f))
    };
    match e.kind {
        EventKind::Created => {
            let by = e
                .other_goroutine
                .map(|g| format!(" in goroutine {g}"))
                .unwrap_or_default();
            ui.colored_label(
                theme::CREATION,
                format!("created by {}{by}", top(e.stack).unwrap_or_default()),
            );
        }
        EventKind::Blocked => {
            let how_long = e
                .duration_ns
                .map(|d| format!(" for {}", format_duration_ns(d)))
                .unwrap_or_default();
            ui.colored_label(
                theme::BLOCKING,
                format!("blocked: {}{how_long}", table.str(e.reason)),
            );
            if let Some(t) = top(e.stack) {
                ui.monospace(t);
            }
        }
        EventKind::Unblocked => {
            let by = e
                .other_goroutine
                .map(|g| format!(" by goroutine {g}"))
                .unwrap_or_default();
            ui.label(format!("unblocked{by}"));
        }
        EventKind::Ended => {
            ui.label("ended");
        }
    }
}
