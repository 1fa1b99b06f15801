//! Painting one frame of the timeline: the axis, the lanes' spans in one
//! mesh, lane labels, creator links, event markers and the scroll bar.

use egui::{Color32, Mesh, Painter, Pos2, Rect, Sense, Stroke, Ui, Vec2, Visuals};

use super::{AXIS_HEIGHT, Layout, TimeTransform, TimelineData};
use crate::analysis::lanes::{EventKind, LaneInfo, LaneSource, TimeAxis};
use crate::model::time::{format_duration_ns, format_rfc3339};
use crate::ui::state::Selection;
use crate::ui::theme;

/// Snapshots without capture times are drawn this far apart (one minute).
const SNAPSHOT_STEP_NS: i64 = 60_000_000_000;

/// An event marker to draw over the lanes.
struct Marker {
    at: Pos2,
    kind: EventKind,
    /// On a selected lane: drawn larger, outlined.
    strong: bool,
}

/// What the lane pass leaves for the passes drawn over it.
#[derive(Default)]
struct Drawn {
    /// Lanes drawn and the top of each.
    rows: Vec<(usize, f32)>,
    markers: Vec<Marker>,
}

pub(super) fn paint(ui: &Ui, layout: &Layout, order: &[u32], d: &TimelineData<'_>) {
    let painter = ui.painter_at(layout.rect);
    let visuals = ui.visuals();
    let axis_band = Rect::from_min_max(
        layout.rect.min,
        Pos2::new(layout.rect.right(), layout.plot.top()),
    );
    painter.rect_filled(axis_band, 0.0, visuals.faint_bg_color);
    draw_axis(
        &painter,
        layout.plot,
        &layout.time,
        &d.lanes.axis(),
        d.lanes.window().0,
        visuals,
    );
    let drawn = lanes(&painter, layout, order, d, visuals);
    creator_links(&painter, layout, &drawn.rows, d);
    for m in &drawn.markers {
        let r = if m.strong {
            (layout.lane_h / 2.5).clamp(3.0, 6.0)
        } else {
            (layout.lane_h / 4.0).clamp(2.0, 4.0)
        };
        marker(&painter, m.at, m.kind, r, m.strong, visuals);
    }
    scroll_bar(&painter, layout, order.len(), visuals);
    painter.text(
        Pos2::new(
            layout.rect.left() + 4.0,
            layout.rect.top() + AXIS_HEIGHT / 2.0,
        ),
        egui::Align2::LEFT_CENTER,
        if order.len() == d.lanes.lane_count() {
            format!("{} goroutines", order.len())
        } else {
            format!(
                "{} of {} goroutines match",
                order.len(),
                d.lanes.lane_count()
            )
        },
        egui::FontId::proportional(11.0),
        visuals.weak_text_color(),
    );
}

/// The visible lanes: backgrounds and spans into one mesh, labels, and the
/// markers to draw on top.
fn lanes(
    painter: &Painter,
    layout: &Layout,
    order: &[u32],
    d: &TimelineData<'_>,
    visuals: &Visuals,
) -> Drawn {
    let selecting = d.selection != Selection::None;
    let mut mesh = Mesh::default();
    let mut drawn = Drawn::default();
    let rows = order
        .iter()
        .enumerate()
        .skip(layout.first)
        .take(layout.visible + 1);
    for (row, &lane) in rows {
        let lane = lane as usize;
        let y = layout.row_y(row);
        drawn.rows.push((lane, y));
        let in_selection = selecting && d.selected_lanes.binary_search(&(lane as u32)).is_ok();
        background(&mut mesh, layout, row, y, in_selection, visuals);
        spans(&mut mesh, layout, d.lanes, lane, y);
        if layout.lane_h >= 6.0 {
            markers(&mut drawn.markers, layout, d.lanes, lane, y, in_selection);
        }
        if layout.lane_h >= 10.0 {
            let info = d.lanes.lane(lane);
            label(painter, layout, d, &info, y, in_selection, visuals);
        }
    }
    painter.add(egui::Shape::mesh(mesh));
    drawn
}

/// The selection's band across the whole row, or every other row shaded.
fn background(
    mesh: &mut Mesh,
    layout: &Layout,
    row: usize,
    y: f32,
    in_selection: bool,
    visuals: &Visuals,
) {
    let (rect, plot, h) = (layout.rect, layout.plot, layout.lane_h);
    if in_selection {
        mesh.add_colored_rect(
            Rect::from_min_max(Pos2::new(rect.left(), y), Pos2::new(rect.right(), y + h)),
            theme::HIGHLIGHT.gamma_multiply(0.18),
        );
    } else if row % 2 == 1 {
        mesh.add_colored_rect(
            Rect::from_min_max(Pos2::new(plot.left(), y), Pos2::new(rect.right(), y + h)),
            visuals.faint_bg_color.gamma_multiply(0.6),
        );
    }
}

/// A lane's spans coloured by state, merging runs narrower than a pixel.
fn spans(mesh: &mut Mesh, layout: &Layout, lanes: &dyn LaneSource, lane: usize, y: f32) {
    let (plot, time) = (layout.plot, &layout.time);
    let bar = Rect::from_min_max(
        Pos2::new(plot.left(), y + 1.0),
        Pos2::new(plot.right(), y + layout.lane_h - 1.0),
    );
    let (t0, t1) = time.range();
    let mut pending: Option<(f32, f32, Color32)> = None;
    lanes.spans(lane, t0, t1, &mut |s| {
        let x0 = time.px_from_ns(s.start_ns).max(plot.left());
        let x1 = time.px_from_ns(s.end_ns).min(plot.right());
        let color = theme::span_color(s.kind, s.reason);
        match &mut pending {
            Some((_, px1, pc)) if x0 - *px1 < 1.0 && (x1 - x0 < 1.0 || *pc == color) => {
                *px1 = x1.max(*px1);
                if x1 - x0 >= 1.0 {
                    *pc = color;
                }
            }
            _ => {
                if let Some((a, b, c)) = pending.take() {
                    push_bar(mesh, bar, a, b, c);
                }
                pending = Some((x0, x1, color));
            }
        }
    });
    if let Some((a, b, c)) = pending {
        push_bar(mesh, bar, a, b, c);
    }
}

fn push_bar(mesh: &mut Mesh, bar: Rect, x0: f32, x1: f32, color: Color32) {
    let x1 = x1.max(x0 + 1.0);
    mesh.add_colored_rect(
        Rect::from_min_max(Pos2::new(x0, bar.top()), Pos2::new(x1, bar.bottom())),
        color,
    );
}

/// A lane's events, one marker of a kind per pixel column: busy goroutines
/// block thousands of times.
fn markers(
    out: &mut Vec<Marker>,
    layout: &Layout,
    lanes: &dyn LaneSource,
    lane: usize,
    y: f32,
    strong: bool,
) {
    let (t0, t1) = layout.time.range();
    let mut last: Option<(i32, EventKind)> = None;
    for e in lanes.events(lane, t0, t1) {
        let at = Pos2::new(layout.time.px_from_ns(e.time_ns), y + layout.lane_h / 2.0);
        let key = (at.x as i32, e.kind);
        if last == Some(key) {
            continue;
        }
        last = Some(key);
        out.push(Marker {
            at,
            kind: e.kind,
            strong,
        });
    }
}

/// The goroutine and its function in the gutter left of the lane.
fn label(
    painter: &Painter,
    layout: &Layout,
    d: &TimelineData<'_>,
    info: &LaneInfo,
    y: f32,
    strong: bool,
    visuals: &Visuals,
) {
    let text = match (info.goroutine, info.function) {
        (Some(g), Some(f)) => format!("{g}  {}", d.names.frame_function(d.table, f)),
        (None, Some(f)) => d.names.frame_function(d.table, f),
        (Some(g), None) => format!("goroutine {g}"),
        (None, None) => String::from("?"),
    };
    let (rect, h) = (layout.rect, layout.lane_h);
    let color = if strong {
        visuals.strong_text_color()
    } else {
        visuals.text_color()
    };
    // Cut with "…" at the column's edge (drag the edge to see more).
    let mut job = egui::text::LayoutJob::simple_singleline(
        text,
        egui::FontId::proportional((h - 3.0).clamp(8.0, 12.0)),
        color,
    );
    job.wrap = egui::text::TextWrapping::truncate_at_width(
        (layout.plot.left() - rect.left() - 8.0).max(10.0),
    );
    let galley = painter.layout_job(job);
    let at = Pos2::new(rect.left() + 4.0, y + (h - galley.size().y) / 2.0);
    painter.galley(at, galley, color);
}

/// For selected lanes: a line from the creator's lane, if it is on screen,
/// to the created one, at the creation.
fn creator_links(painter: &Painter, layout: &Layout, rows: &[(usize, f32)], d: &TimelineData<'_>) {
    if d.selection == Selection::None {
        return;
    }
    let lane_y = |lane: usize| rows.iter().find(|(l, _)| *l == lane).map(|(_, y)| *y);
    let (t0, t1) = layout.time.range();
    let mid = layout.lane_h / 2.0;
    for &(lane, y) in rows {
        if d.selected_lanes.binary_search(&(lane as u32)).is_err() {
            continue;
        }
        for e in d.lanes.events(lane, t0, t1) {
            if e.kind != EventKind::Created {
                continue;
            }
            if let Some(oy) = e.other_lane.and_then(|o| lane_y(o as usize)) {
                let x = layout.time.px_from_ns(e.time_ns);
                painter.line_segment(
                    [Pos2::new(x, oy + mid), Pos2::new(x, y + mid)],
                    Stroke::new(1.0, theme::CREATION),
                );
            }
        }
    }
}

/// One event marker of radius `r`: a triangle for a creation, a diamond
/// for a blocking point, a ring for an unblock, a cross for an end.
fn marker(painter: &Painter, p: Pos2, kind: EventKind, r: f32, strong: bool, visuals: &Visuals) {
    let outline = Stroke::new(if strong { 1.0 } else { 0.0 }, Color32::WHITE);
    match kind {
        EventKind::Created => {
            let points = vec![
                p + Vec2::new(0.0, -r),
                p + Vec2::new(r, r),
                p + Vec2::new(-r, r),
            ];
            painter.add(egui::Shape::convex_polygon(
                points,
                theme::CREATION,
                outline,
            ));
        }
        EventKind::Blocked => {
            let points = vec![
                p + Vec2::new(0.0, -r),
                p + Vec2::new(r, 0.0),
                p + Vec2::new(0.0, r),
                p + Vec2::new(-r, 0.0),
            ];
            painter.add(egui::Shape::convex_polygon(
                points,
                theme::BLOCKING,
                outline,
            ));
        }
        EventKind::Unblocked => {
            painter.circle_stroke(p, r * 0.8, Stroke::new(1.0, theme::BLOCKING));
        }
        EventKind::Ended => {
            let stroke = Stroke::new(1.5, visuals.text_color());
            painter.line_segment([p + Vec2::new(-r, -r), p + Vec2::new(r, r)], stroke);
            painter.line_segment([p + Vec2::new(-r, r), p + Vec2::new(r, -r)], stroke);
        }
    }
}

/// Where the rows on screen are among all rows.
fn scroll_bar(painter: &Painter, layout: &Layout, total: usize, visuals: &Visuals) {
    if total <= layout.visible {
        return;
    }
    let track = Rect::from_min_max(
        Pos2::new(layout.rect.right() - 5.0, layout.plot.top()),
        layout.rect.max,
    );
    let h = (layout.visible as f32 / total as f32 * track.height()).max(12.0);
    let top = track.top() + layout.scroll / total as f32 * track.height();
    painter.rect_filled(
        Rect::from_min_size(Pos2::new(track.left(), top), Vec2::new(5.0, h)),
        2.0,
        visuals.widgets.inactive.bg_fill,
    );
}

/// The time axis above the lanes: snapshot names, or ticks in wall-clock
/// or trace-relative time.
fn draw_axis(
    painter: &Painter,
    plot: Rect,
    time: &TimeTransform,
    axis: &TimeAxis,
    origin: i64,
    visuals: &Visuals,
) {
    let color = visuals.weak_text_color();
    let font = egui::FontId::proportional(10.5);
    // Right of its tick, or left of it where it would run past the lanes
    // (a lone dump's last tick, "dump", is at the right edge).
    // A label that would run into the one before it is left out (the
    // last one, turned left of its tick, can meet its neighbour).
    let drawn_to = std::cell::Cell::new(f32::NEG_INFINITY);
    let label_at = |x: f32, text: String| {
        let galley = painter.layout_no_wrap(text, font.clone(), color);
        let left = if x + 2.0 + galley.size().x > plot.right() {
            x - 2.0 - galley.size().x
        } else {
            x + 2.0
        };
        if left < drawn_to.get() + 4.0 {
            return;
        }
        drawn_to.set(left + galley.size().x);
        painter.galley(
            Pos2::new(left, plot.top() - 10.0 - galley.size().y / 2.0),
            galley,
            color,
        );
    };
    if let TimeAxis::Snapshots(names) = axis {
        // Names only where they fit between snapshots.
        let room = time.px_from_ns(SNAPSHOT_STEP_NS) - time.px_from_ns(0);
        let (t0, t1) = time.range();
        for (i, name) in names.iter().enumerate() {
            let t = i as i64 * SNAPSHOT_STEP_NS;
            if t < t0 || t > t1 {
                continue;
            }
            let x = time.px_from_ns(t);
            painter.line_segment(
                [Pos2::new(x, plot.top() - 4.0), Pos2::new(x, plot.bottom())],
                Stroke::new(1.0, color.gamma_multiply(0.4)),
            );
            label_at(
                x,
                if room > 190.0 {
                    format!("t{i} {name}")
                } else {
                    format!("t{i}")
                },
            );
        }
        return;
    }
    let ticks = if *axis == TimeAxis::BeforeDump {
        minute_ticks(time, plot.width()).unwrap_or_else(|| ticks(time, plot.width()))
    } else {
        ticks(time, plot.width())
    };
    // Nothing is known after a lone dump: its axis stops at "dump" even
    // where the view runs past it (a margin, or panned).
    let after_dump = |t: i64| *axis == TimeAxis::BeforeDump && t > 0;
    for t in ticks.into_iter().filter(|&t| !after_dump(t)) {
        let x = time.px_from_ns(t);
        painter.line_segment(
            [Pos2::new(x, plot.top() - 4.0), Pos2::new(x, plot.top())],
            Stroke::new(1.0, color),
        );
        label_at(
            x,
            match axis {
                TimeAxis::Wall => {
                    let s = format_rfc3339(t);
                    s.get(11..23).unwrap_or(&s).to_owned()
                }
                TimeAxis::TraceRelative => format!("+{}", format_duration_ns(t - origin)),
                TimeAxis::Snapshots(_) => format_duration_ns(t),
                TimeAxis::BeforeDump => crate::analysis::lanes::before_dump_label(t),
            },
        );
    }
}

/// Tick instants inside the range, a step of 1, 2 or 5 × 10^k ns apart
/// giving about 100 px between ticks.
fn ticks(time: &TimeTransform, width_px: f32) -> Vec<i64> {
    let target = time.span_ns() / (width_px as f64 / 100.0).max(1.0);
    let mag = 10f64.powf(target.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= target)
        .unwrap_or(10.0 * mag)
        .max(1.0) as i64;
    ticks_every(time, step)
}

/// Ticks on whole minutes and hours (a dump's wait ages are minutes, and
/// "−100 s" reads worse than "−2 min"), about 70 px apart (the labels are
/// short); `None` when the view is zoomed in below a minute a tick.
fn minute_ticks(time: &TimeTransform, width_px: f32) -> Option<Vec<i64>> {
    const MIN: f64 = 60e9;
    let target = time.span_ns() / (width_px as f64 / 70.0).max(1.0);
    let minutes = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 360.0, 720.0, 1440.0,
    ];
    let step = minutes
        .iter()
        .map(|m| m * MIN)
        .find(|s| *s >= target && target >= MIN / 2.0)?;
    Some(ticks_every(time, step as i64))
}

/// Multiples of `step` inside the visible range (at most 1,000).
fn ticks_every(time: &TimeTransform, step: i64) -> Vec<i64> {
    let step = step.max(1);
    let (t0, t1) = time.range();
    let mut out = Vec::new();
    let mut t = t0.div_euclid(step).saturating_mul(step);
    while t <= t1 && out.len() < 1_000 {
        if t >= t0 {
            out.push(t);
        }
        t = t.saturating_add(step);
        if t == i64::MAX {
            break;
        }
    }
    out
}

/// The timeline legend: every state colour and marker the lanes use.
pub fn legend_ui(ui: &mut Ui) {
    ui.horizontal_wrapped(|ui| {
        for (label, color) in theme::legend() {
            legend_entry(ui, label, |p, r| {
                p.rect_filled(r, 2.0, color);
            });
        }
        for (kind, text) in [
            (EventKind::Created, "created"),
            (EventKind::Blocked, "blocking point"),
        ] {
            let visuals = ui.visuals().clone();
            legend_entry(ui, text, |p, r| {
                marker(p, r.center(), kind, 4.0, false, &visuals);
            });
        }
    });
}

/// One legend entry, a swatch and its words as one widget, so that a
/// wrapping legend moves it to the next row whole.
fn legend_entry(ui: &mut Ui, text: &str, swatch: impl FnOnce(&Painter, Rect)) {
    let font = egui::TextStyle::Small.resolve(ui.style());
    let color = ui.visuals().text_color();
    let galley = ui.painter().layout_no_wrap(text.to_owned(), font, color);
    let size = Vec2::new(14.0 + galley.size().x + 8.0, galley.size().y.max(12.0));
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, text));
    if !ui.is_rect_visible(rect) {
        return;
    }
    let mid = rect.center().y;
    swatch(
        ui.painter(),
        Rect::from_center_size(Pos2::new(rect.left() + 5.0, mid), Vec2::splat(10.0)),
    );
    ui.painter().galley(
        Pos2::new(rect.left() + 14.0, mid - galley.size().y / 2.0),
        galley,
        color,
    );
}
