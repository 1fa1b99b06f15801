//! The goroutine timeline: one lane per goroutine, coloured by state, with
//! creation events and blocking points as markers.
//!
//! Only the lanes on screen are looked at, and only their spans inside the
//! visible time range (binary search); spans narrower than a pixel merge
//! into one, and all rectangles of a frame go into one mesh, so 100,000
//! lanes scroll as smoothly as ten.

mod transform;

use egui::{Color32, Key, Mesh, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use crate::analysis::lanes::{EventKind, LaneSource, TimeAxis, span_description};
use crate::model::StackTable;
use crate::model::time::{format_duration_ns, format_rfc3339};
use crate::ui::state::{Action, Selection};
use crate::ui::theme;

pub use transform::TimeTransform;

const AXIS_HEIGHT: f32 = 20.0;
const GUTTER_WIDTH: f32 = 190.0;

/// View state of the timeline.
#[derive(Default)]
pub struct TimelineView {
    /// Visible time range and where it is drawn.
    pub time: TimeTransform,
    /// Index into `order` of the top visible lane (fractional while scrolling).
    pub first: f32,
    /// Lanes to show, in display order (filtered and sorted).
    order: Vec<u32>,
    order_key: Option<(usize, String, bool)>,
    fitted: Option<usize>,
    pending_jump: Option<(u32, Option<i64>)>,
}

/// Inputs of one frame of the timeline.
pub struct TimelineData<'a> {
    pub lanes: &'a dyn LaneSource,
    pub table: &'a StackTable,
    /// Changes whenever the lanes change, to refit and rebuild the order.
    pub generation: usize,
    pub selection: Selection,
    /// Lanes of the selection, sorted.
    pub selected_lanes: &'a [u32],
    /// Lane filter: text in the function or stack, `g:ID`, `state:TEXT`
    /// or `label:KEY=VALUE` (any part of it).
    pub filter: &'a str,
    pub by_creation: bool,
    pub lane_height: f32,
}

impl TimelineView {
    /// Scrolls `lane` into view and, given a time, centres the view on it.
    pub fn jump_to(&mut self, lane: u32, time_ns: Option<i64>) {
        self.pending_jump = Some((lane, time_ns));
    }

    /// Shows `[t0, t1]` with a little margin.
    pub fn zoom_to(&mut self, t0: i64, t1: i64) {
        let pad = (t1.saturating_sub(t0) / 20).max(1_000);
        self.time.fit(t0, t1, pad);
    }

    /// Shows the lanes' whole window.
    pub fn fit(&mut self, lanes: &dyn LaneSource) {
        let (a, b) = lanes.window();
        let pad = (b.saturating_sub(a) / 50).max(1);
        self.time.fit(a, b, pad);
    }

    fn rebuild_order(&mut self, d: &TimelineData<'_>) {
        let key = (d.generation, d.filter.to_owned(), d.by_creation);
        if self.order_key.as_ref() == Some(&key) {
            return;
        }
        let filter = d.filter.trim().to_ascii_lowercase();
        let n = d.lanes.lane_count();
        let mut order: Vec<u32> = (0..n as u32)
            .filter(|&i| filter.is_empty() || lane_matches(d, i as usize, &filter))
            .collect();
        if d.by_creation {
            order.sort_by_key(|&i| d.lanes.lane(i as usize).created_ns.unwrap_or(i64::MIN));
        }
        self.order = order;
        self.order_key = Some(key);
        self.first = self
            .first
            .min(self.order.len().saturating_sub(1) as f32)
            .max(0.0);
    }

    /// Lanes shown, in order.
    pub fn order(&self) -> &[u32] {
        &self.order
    }
}

fn lane_matches(d: &TimelineData<'_>, lane: usize, filter: &str) -> bool {
    let info = d.lanes.lane(lane);
    if let Some(label) = filter.strip_prefix("label:") {
        let label = label.trim();
        return d
            .table
            .labels_to_string(info.labels)
            .to_ascii_lowercase()
            .contains(label)
            || d.table
                .str(info.label_text)
                .to_ascii_lowercase()
                .contains(label);
    }
    if let Some(id) = filter.strip_prefix("g:") {
        return info.goroutine.map(|g| g.to_string()) == Some(id.trim().to_owned());
    }
    if let Some(state) = filter.strip_prefix("state:") {
        let state = state.trim();
        let mut hit = false;
        d.lanes.spans(lane, i64::MIN, i64::MAX, &mut |s| {
            hit |= s.reason.text(d.table).to_ascii_lowercase().contains(state);
        });
        return hit;
    }
    d.table
        .frames(info.stack)
        .any(|f| d.table.function(f).to_ascii_lowercase().contains(filter))
}

/// Draws the timeline; returns a selection or jump request.
pub fn timeline_ui(ui: &mut Ui, view: &mut TimelineView, d: &TimelineData<'_>) -> Option<Action> {
    let lanes = d.lanes;
    if view.fitted != Some(d.generation) {
        view.fit(lanes);
        view.fitted = Some(d.generation);
        view.first = 0.0;
    }
    view.rebuild_order(d);
    let mut action = None;

    let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    if rect.width() < GUTTER_WIDTH + 40.0 || rect.height() < AXIS_HEIGHT + 10.0 {
        return None;
    }
    let painter = ui.painter_at(rect);
    let lane_h = d.lane_height.clamp(3.0, 40.0);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + GUTTER_WIDTH, rect.top() + AXIS_HEIGHT),
        rect.max,
    );
    let visible_lanes = (plot.height() / lane_h).floor().max(1.0) as usize;
    let total = view.order.len();

    if let Some((lane, t)) = view.pending_jump.take() {
        if let Some(pos) = view.order.iter().position(|&l| l == lane) {
            view.first = (pos as f32 - visible_lanes as f32 / 2.0).max(0.0);
        }
        if let Some(t) = t {
            view.time.centre_on(t);
        }
    }

    // Interaction: zoom at the pointer, pan by drag, scroll lanes.
    view.time.set_screen(plot.left(), plot.width());
    let span_ns = view.time.span_ns();
    // Keys act on the timeline only while typing goes nowhere else.
    let keys = !ui.ctx().egui_wants_keyboard_input();
    if response.hovered() {
        let (scroll, zoom, modifiers) =
            ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.modifiers));
        let pointer_x = response.hover_pos().map_or(plot.center().x, |p| p.x);
        let mut factor = zoom as f64;
        if modifiers.command && scroll.y != 0.0 {
            factor *= (scroll.y as f64 / 200.0).exp();
        } else if modifiers.shift {
            view.time.pan_px(scroll.x + scroll.y);
        } else if scroll.y != 0.0 {
            view.first -= scroll.y / lane_h;
        }
        ui.input(|i| {
            if !keys {
                return;
            }
            let pan = (span_ns * 0.1) as i64;
            if i.key_pressed(Key::ArrowLeft) || i.key_pressed(Key::A) {
                view.time.pan_ns(-pan);
            }
            if i.key_pressed(Key::ArrowRight) || i.key_pressed(Key::D) {
                view.time.pan_ns(pan);
            }
            if i.key_pressed(Key::ArrowUp) || i.key_pressed(Key::W) {
                factor *= 1.25;
            }
            if i.key_pressed(Key::ArrowDown) || i.key_pressed(Key::S) {
                factor /= 1.25;
            }
        });
        if keys && ui.input(|i| i.key_pressed(Key::F)) {
            view.fit(lanes);
        }
        if factor != 1.0 {
            view.time.zoom_at(pointer_x, factor);
        }
    }
    if response.dragged() {
        let delta = response.drag_delta();
        view.time.pan_px(delta.x);
        view.first -= delta.y / lane_h;
    }
    view.first = view
        .first
        .clamp(0.0, total.saturating_sub(visible_lanes) as f32);

    let time = view.time;
    let (t0, t1) = time.range();

    // Time axis.
    let visuals = ui.visuals().clone();
    painter.rect_filled(
        Rect::from_min_max(rect.min, Pos2::new(rect.right(), plot.top())),
        0.0,
        visuals.faint_bg_color,
    );
    draw_axis(
        &painter,
        plot,
        &time,
        &lanes.axis(),
        lanes.window().0,
        &visuals,
    );

    // Lanes.
    let first = view.first.floor() as usize;
    let selecting = d.selection != Selection::None;
    let mut mesh = Mesh::default();
    let mut markers: Vec<(Pos2, EventKind, bool)> = Vec::new();
    let font = egui::FontId::proportional((lane_h - 3.0).clamp(8.0, 12.0));
    let show_text = lane_h >= 10.0;
    let mut lane_rows: Vec<(usize, f32)> = Vec::new();
    for (row, &lane) in view
        .order
        .iter()
        .enumerate()
        .skip(first)
        .take(visible_lanes + 1)
    {
        let lane = lane as usize;
        let y = plot.top() + (row - first) as f32 * lane_h;
        lane_rows.push((lane, y));
        let info = lanes.lane(lane);
        let in_selection = selecting && d.selected_lanes.binary_search(&(lane as u32)).is_ok();
        if in_selection {
            mesh.add_colored_rect(
                Rect::from_min_max(
                    Pos2::new(rect.left(), y),
                    Pos2::new(rect.right(), y + lane_h),
                ),
                theme::HIGHLIGHT.gamma_multiply(0.18),
            );
        } else if row % 2 == 1 {
            mesh.add_colored_rect(
                Rect::from_min_max(
                    Pos2::new(plot.left(), y),
                    Pos2::new(rect.right(), y + lane_h),
                ),
                visuals.faint_bg_color.gamma_multiply(0.6),
            );
        }
        // Spans, merging runs narrower than a pixel.
        let bar = Rect::from_min_max(
            Pos2::new(plot.left(), y + 1.0),
            Pos2::new(plot.right(), y + lane_h - 1.0),
        );
        let mut pending: Option<(f32, f32, Color32)> = None;
        lanes.spans(lane, t0, t1, &mut |s| {
            let x0 = time.px_from_ns(s.start_ns).max(plot.left());
            let x1 = time.px_from_ns(s.end_ns).min(plot.right());
            let color = theme::state_color(s.reason.category());
            match &mut pending {
                Some((_, px1, pc)) if x0 - *px1 < 1.0 && (x1 - x0 < 1.0 || *pc == color) => {
                    *px1 = x1.max(*px1);
                    if x1 - x0 >= 1.0 {
                        *pc = color;
                    }
                }
                _ => {
                    if let Some((a, b, c)) = pending.take() {
                        push_bar(&mut mesh, bar, a, b, c);
                    }
                    pending = Some((x0, x1, color));
                }
            }
        });
        if let Some((a, b, c)) = pending {
            push_bar(&mut mesh, bar, a, b, c);
        }
        if lane_h >= 6.0 {
            // One marker of a kind per pixel column: busy goroutines block
            // thousands of times.
            let mut last: Option<(i32, EventKind)> = None;
            for e in lanes.events(lane, t0, t1) {
                let p = Pos2::new(time.px_from_ns(e.time_ns), y + lane_h / 2.0);
                let key = (p.x as i32, e.kind);
                if last == Some(key) {
                    continue;
                }
                last = Some(key);
                markers.push((p, e.kind, in_selection));
            }
        }
        if show_text {
            let label = match (info.goroutine, info.function) {
                (Some(g), Some(f)) => format!("{g}  {}", d.table.function(f)),
                (None, Some(f)) => d.table.function(f).to_owned(),
                (Some(g), None) => format!("goroutine {g}"),
                (None, None) => String::from("?"),
            };
            painter
                .with_clip_rect(Rect::from_min_max(
                    Pos2::new(rect.left(), y),
                    Pos2::new(plot.left() - 4.0, y + lane_h),
                ))
                .text(
                    Pos2::new(rect.left() + 4.0, y + lane_h / 2.0),
                    egui::Align2::LEFT_CENTER,
                    label,
                    font.clone(),
                    if in_selection {
                        visuals.strong_text_color()
                    } else {
                        visuals.text_color()
                    },
                );
        }
    }
    painter.add(egui::Shape::mesh(mesh));
    // Creator links: from the creator's lane, if it is on screen, to the created one.
    let lane_y = |lane: usize| lane_rows.iter().find(|(l, _)| *l == lane).map(|(_, y)| *y);
    for e_lane in lane_rows.iter().map(|(l, _)| *l) {
        if !selecting || d.selected_lanes.binary_search(&(e_lane as u32)).is_err() {
            continue;
        }
        for e in lanes.events(e_lane, t0, t1) {
            if e.kind != EventKind::Created {
                continue;
            }
            if let (Some(other), Some(y)) = (e.other_lane, lane_y(e_lane))
                && let Some(oy) = lane_y(other as usize)
            {
                let x = time.px_from_ns(e.time_ns);
                painter.line_segment(
                    [
                        Pos2::new(x, oy + lane_h / 2.0),
                        Pos2::new(x, y + lane_h / 2.0),
                    ],
                    Stroke::new(1.0, theme::CREATION),
                );
            }
        }
    }
    for (p, kind, strong) in markers {
        let r = if strong {
            (lane_h / 2.5).clamp(3.0, 6.0)
        } else {
            (lane_h / 4.0).clamp(2.0, 4.0)
        };
        match kind {
            EventKind::Created => {
                painter.add(egui::Shape::convex_polygon(
                    vec![
                        p + Vec2::new(0.0, -r),
                        p + Vec2::new(r, r),
                        p + Vec2::new(-r, r),
                    ],
                    theme::CREATION,
                    Stroke::new(if strong { 1.0 } else { 0.0 }, Color32::WHITE),
                ));
            }
            EventKind::Blocked => {
                painter.add(egui::Shape::convex_polygon(
                    vec![
                        p + Vec2::new(0.0, -r),
                        p + Vec2::new(r, 0.0),
                        p + Vec2::new(0.0, r),
                        p + Vec2::new(-r, 0.0),
                    ],
                    theme::BLOCKING,
                    Stroke::new(if strong { 1.0 } else { 0.0 }, Color32::WHITE),
                ));
            }
            EventKind::Unblocked => {
                painter.circle_stroke(p, r * 0.8, Stroke::new(1.0, theme::BLOCKING));
            }
            EventKind::Ended => {
                painter.line_segment(
                    [p + Vec2::new(-r, -r), p + Vec2::new(r, r)],
                    Stroke::new(1.5, visuals.text_color()),
                );
                painter.line_segment(
                    [p + Vec2::new(-r, r), p + Vec2::new(r, -r)],
                    Stroke::new(1.5, visuals.text_color()),
                );
            }
        }
    }
    // Scroll position.
    if total > visible_lanes {
        let track = Rect::from_min_max(Pos2::new(rect.right() - 5.0, plot.top()), rect.max);
        let h = (visible_lanes as f32 / total as f32 * track.height()).max(12.0);
        let top = track.top() + view.first / total as f32 * track.height();
        painter.rect_filled(
            Rect::from_min_size(Pos2::new(track.left(), top), Vec2::new(5.0, h)),
            2.0,
            visuals.widgets.inactive.bg_fill,
        );
    }
    painter.text(
        Pos2::new(rect.left() + 4.0, rect.top() + AXIS_HEIGHT / 2.0),
        egui::Align2::LEFT_CENTER,
        format!("{total} goroutines"),
        egui::FontId::proportional(11.0),
        visuals.weak_text_color(),
    );

    // Hover details and clicks.
    if let Some(p) = response.hover_pos()
        && p.y > plot.top()
    {
        let row = ((p.y - plot.top()) / lane_h).floor() as usize + first;
        if let Some(&lane) = view.order.get(row) {
            let lane = lane as usize;
            let t = time.ns_from_px(p.x);
            let info = lanes.lane(lane);
            let slop = (4.0 * time.ns_per_px()) as i64;
            let event = lanes
                .events(lane, t - slop, t + slop)
                .into_iter()
                .min_by_key(|e| (e.time_ns - t).abs());
            let mut span = None;
            lanes.spans(lane, t, t + 1, &mut |s| {
                if span.is_none() {
                    span = Some(s);
                }
            });
            response.clone().on_hover_ui_at_pointer(|ui| {
                match info.goroutine {
                    Some(g) => ui.strong(format!("goroutine {g}")),
                    None => ui.strong("goroutine"),
                };
                if let Some(e) = event {
                    event_text(ui, d.table, &e);
                } else if let Some(s) = span {
                    ui.label(span_description(lanes, d.table, lane, &s));
                }
                for (i, f) in d.table.frames(info.stack).take(8).enumerate() {
                    let fr = d.table.frame(f);
                    let text = format!(
                        "{}  {}:{}",
                        d.table.str(fr.function),
                        short_file(d.table.str(fr.file)),
                        fr.line
                    );
                    if i == 0 {
                        ui.monospace(text);
                    } else {
                        ui.weak(text);
                    }
                }
                ui.weak("click to select its stack group");
            });
            if response.clicked() {
                if let Some(g) = info.trace_group {
                    action = Some(Action::Select(Selection::TraceGroup(g as usize)));
                } else if let Some(g) = info.group {
                    action = Some(Action::Select(Selection::Group(g as usize)));
                }
            }
        }
    }
    if response.double_clicked() {
        view.fit(lanes);
    }
    action
}

fn push_bar(mesh: &mut Mesh, bar: Rect, x0: f32, x1: f32, color: Color32) {
    let x1 = x1.max(x0 + 1.0);
    mesh.add_colored_rect(
        Rect::from_min_max(Pos2::new(x0, bar.top()), Pos2::new(x1, bar.bottom())),
        color,
    );
}

fn short_file(path: &str) -> &str {
    let mut parts = path.rsplitn(3, '/');
    let file = parts.next().unwrap_or(path);
    match parts.next() {
        Some(dir) => &path[path.len() - file.len() - dir.len() - 1..],
        None => file,
    }
}

/// Describes a lane event in a tooltip.
pub fn event_text(ui: &mut Ui, table: &StackTable, e: &crate::analysis::lanes::LaneEvent) {
    let top = |s: Option<crate::model::StackId>| {
        let frame = match e.kind {
            EventKind::Blocked => s.and_then(|s| crate::analysis::frames::leak_site(table, s)),
            _ => s.and_then(|s| table.leaf(s)),
        };
        frame.map(|f| {
            let fr = table.frame(f);
            format!(
                "{} ({}:{})",
                table.str(fr.function),
                short_file(table.str(fr.file)),
                fr.line
            )
        })
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

fn draw_axis(
    painter: &egui::Painter,
    plot: Rect,
    time: &TimeTransform,
    axis: &TimeAxis,
    origin: i64,
    visuals: &egui::Visuals,
) {
    let (t0, t1) = time.range();
    let span = time.span_ns();
    let color = visuals.weak_text_color();
    let font = egui::FontId::proportional(10.5);
    if let TimeAxis::Snapshots(names) = axis {
        // Names only where they fit between snapshots.
        let room = time.px_from_ns(60_000_000_000) - time.px_from_ns(0);
        for (i, name) in names.iter().enumerate() {
            let t = i as i64 * 60_000_000_000;
            if t < t0 || t > t1 {
                continue;
            }
            let x = time.px_from_ns(t);
            let label = if room > 190.0 {
                format!("t{i} {name}")
            } else {
                format!("t{i}")
            };
            painter.line_segment(
                [Pos2::new(x, plot.top() - 4.0), Pos2::new(x, plot.bottom())],
                Stroke::new(1.0, color.gamma_multiply(0.4)),
            );
            painter.text(
                Pos2::new(x + 2.0, plot.top() - 10.0),
                egui::Align2::LEFT_CENTER,
                label,
                font.clone(),
                color,
            );
        }
        return;
    }
    // A tick step of 1, 2 or 5 × 10^k ns giving ~100 px between ticks.
    let target = span / (plot.width() as f64 / 100.0).max(1.0);
    let mag = 10f64.powf(target.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= target)
        .unwrap_or(10.0 * mag)
        .max(1.0) as i64;
    let mut t = t0.div_euclid(step) * step;
    while t <= t1 {
        if t >= t0 {
            let x = time.px_from_ns(t);
            painter.line_segment(
                [Pos2::new(x, plot.top() - 4.0), Pos2::new(x, plot.top())],
                Stroke::new(1.0, color),
            );
            let label = match axis {
                TimeAxis::Wall => {
                    let s = format_rfc3339(t);
                    s.get(11..23).unwrap_or(&s).to_owned()
                }
                TimeAxis::TraceRelative => format!("+{}", format_duration_ns(t - origin)),
                TimeAxis::Snapshots(_) => format_duration_ns(t),
            };
            painter.text(
                Pos2::new(x + 2.0, plot.top() - 10.0),
                egui::Align2::LEFT_CENTER,
                label,
                font.clone(),
                color,
            );
        }
        t += step;
    }
}
