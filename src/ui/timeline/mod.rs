//! The goroutine timeline: one lane per goroutine, coloured by state, with
//! creation events and blocking points as markers.
//!
//! Only the lanes on screen are looked at, and only their spans inside the
//! visible time range (binary search); spans narrower than a pixel merge
//! into one, and all rectangles of a frame go into one mesh, so 100,000
//! lanes scroll as smoothly as ten.
//!
//! [`TimelinePane`] is the pane's state between frames (time range, scroll,
//! the lanes the filter keeps); `paint` draws a frame, `hover` explains what
//! is under the pointer, and every instant goes through one
//! [`TimeTransform`].

mod hover;
mod paint;
mod transform;

use egui::{Key, Pos2, Rect, Sense, Ui};

use crate::analysis::lanes::LaneSource;
use crate::model::StackTable;
use crate::ui::state::{Action, Selection};

pub use paint::legend_ui;
pub use transform::TimeTransform;

const AXIS_HEIGHT: f32 = 20.0;
/// The lane labels' column at first; its edge can be dragged.
const GUTTER_WIDTH: f32 = 190.0;
const MIN_GUTTER_WIDTH: f32 = 80.0;

/// The timeline pane between frames: what part of which lanes it shows.
#[derive(Default)]
pub struct TimelinePane {
    /// Visible time range and where it is drawn.
    time: TimeTransform,
    /// Index into `order` of the top visible lane (fractional while scrolling).
    first: f32,
    /// Lanes to show, in display order (filtered and sorted).
    order: Vec<u32>,
    /// What `order` was built for: lanes, filter text, order by creation.
    order_key: Option<(usize, String, bool)>,
    /// The lanes the range was last fitted to (or restored for).
    fitted: Option<usize>,
    pending_jump: Option<(u32, Option<i64>)>,
    /// Width of the lane labels' column, once dragged.
    gutter_px: Option<f32>,
}

/// Inputs of one frame of the timeline.
pub struct TimelineData<'a> {
    /// The lanes to draw: a trace's or the snapshots'.
    pub lanes: &'a dyn LaneSource,
    /// Names of the lanes' frames and wait reasons.
    pub table: &'a StackTable,
    /// Changes whenever the lanes change, to refit and rebuild the order.
    pub lanes_key: usize,
    /// The selection, highlighted in the lanes.
    pub selection: Selection,
    /// Lanes of the selection, sorted.
    pub selected_lanes: &'a [u32],
    /// Lane filter: text in the function or stack, `g:ID`, `state:TEXT`
    /// or `label:KEY=VALUE` (any part of it).
    pub filter: &'a str,
    /// Order lanes by who created them rather than by group.
    pub by_creation: bool,
    /// Height of a lane in points.
    pub lane_height: f32,
    /// How lane labels name functions (short or full).
    pub names: crate::ui::names::Names,
}

/// Which lanes the filter text keeps.
enum LaneFilter {
    All,
    /// Part of a label, `key=value` as the labels print.
    Label(String),
    Goroutine(String),
    /// Part of a state or wait reason in any of the lane's spans.
    State(String),
    /// Part of a function name anywhere in the lane's stack.
    Function(String),
}

impl LaneFilter {
    fn parse(text: &str) -> LaneFilter {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() {
            return LaneFilter::All;
        }
        let rest = |prefix: &str| text.strip_prefix(prefix).map(|r| r.trim().to_owned());
        if let Some(label) = rest("label:") {
            LaneFilter::Label(label)
        } else if let Some(id) = rest("g:") {
            LaneFilter::Goroutine(id)
        } else if let Some(state) = rest("state:") {
            LaneFilter::State(state)
        } else {
            LaneFilter::Function(text)
        }
    }

    fn matches(&self, lanes: &dyn LaneSource, table: &StackTable, lane: usize) -> bool {
        let info = lanes.lane(lane);
        match self {
            LaneFilter::All => true,
            LaneFilter::Label(label) => {
                let has = |s: String| s.to_ascii_lowercase().contains(label.as_str());
                has(table.labels_to_string(info.labels))
                    || has(table.str(info.label_text).to_owned())
            }
            LaneFilter::Goroutine(id) => info.goroutine.map(|g| g.to_string()).as_ref() == Some(id),
            LaneFilter::State(state) => {
                let mut hit = false;
                lanes.spans(lane, i64::MIN, i64::MAX, &mut |s| {
                    hit |= s
                        .reason
                        .text(table)
                        .to_ascii_lowercase()
                        .contains(state.as_str());
                });
                hit
            }
            LaneFilter::Function(text) => table.frames(info.stack).any(|f| {
                table
                    .function(f)
                    .to_ascii_lowercase()
                    .contains(text.as_str())
            }),
        }
    }
}

/// Where the parts of the timeline are this frame.
struct Layout {
    /// The whole widget: axis on top, lane labels on the left.
    rect: Rect,
    /// The lanes' area.
    plot: Rect,
    lane_h: f32,
    /// Rows that fit in the plot.
    visible: usize,
    /// The scroll position (rows, fractional) and the first row drawn.
    scroll: f32,
    first: usize,
    time: TimeTransform,
}

impl Layout {
    fn row_y(&self, row: usize) -> f32 {
        self.plot.top() + row.saturating_sub(self.first) as f32 * self.lane_h
    }
}

impl TimelinePane {
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

    /// The visible time range, ns.
    pub fn range(&self) -> (i64, i64) {
        self.time.range()
    }

    /// The scroll position: rows above the top visible lane.
    pub fn scroll(&self) -> f32 {
        self.first
    }

    /// Shows a range and scroll position of the lanes `lanes_key` (going
    /// back in history), without refitting when those lanes come next.
    pub fn restore(&mut self, lanes_key: usize, range: (i64, i64), scroll: f32) {
        self.time.set_range(range.0, range.1);
        self.first = scroll.max(0.0);
        self.fitted = Some(lanes_key);
        self.pending_jump = None;
    }

    /// Lanes shown, in order.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Refits to new lanes and refilters on a new filter.
    fn prepare(&mut self, d: &TimelineData<'_>) {
        if self.fitted != Some(d.lanes_key) {
            self.fit(d.lanes);
            self.fitted = Some(d.lanes_key);
            self.first = 0.0;
        }
        let key = (d.lanes_key, d.filter.to_owned(), d.by_creation);
        if self.order_key.as_ref() == Some(&key) {
            return;
        }
        let filter = LaneFilter::parse(d.filter);
        let n = d.lanes.lane_count();
        let mut order: Vec<u32> = (0..n as u32)
            .filter(|&i| filter.matches(d.lanes, d.table, i as usize))
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

    /// Draws the lanes; a click on one selects its group, a double click
    /// (or F) asks to fit.
    pub fn ui(&mut self, ui: &mut Ui, d: &TimelineData<'_>, actions: &mut Vec<Action>) {
        self.prepare(d);
        let filter = d.filter.trim();
        if self.order.is_empty() && !filter.is_empty() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("No lane matches \"{filter}\"."),
            );
            ui.weak(
                "Lanes are kept by text in a function of their stack, or by g:ID, \
                 state:TEXT or label:KEY=VALUE (see the ? beside the search field).",
            );
            return;
        }
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        if rect.width() < MIN_GUTTER_WIDTH + 40.0 || rect.height() < AXIS_HEIGHT + 10.0 {
            return;
        }
        let gutter = self.gutter_ui(ui, rect);
        let lane_h = d.lane_height.clamp(3.0, 40.0);
        let plot = Rect::from_min_max(
            Pos2::new(rect.left() + gutter, rect.top() + AXIS_HEIGHT),
            rect.max,
        );
        let visible = (plot.height() / lane_h).floor().max(1.0) as usize;
        self.take_jump(visible);
        self.time.set_screen(plot.left(), plot.width());
        if response.hovered() {
            self.wheel_and_keys(ui, &response, plot, lane_h, actions);
        }
        if response.dragged() {
            let delta = response.drag_delta();
            self.time.pan_px(delta.x);
            self.first -= delta.y / lane_h;
        }
        self.first = self
            .first
            .clamp(0.0, self.order.len().saturating_sub(visible) as f32);
        let layout = Layout {
            rect,
            plot,
            lane_h,
            visible,
            scroll: self.first,
            first: self.first.floor() as usize,
            time: self.time,
        };
        paint::paint(ui, &layout, &self.order, d);
        actions.extend(hover::hover_ui(&response, &layout, &self.order, d));
        if response.double_clicked() {
            actions.push(Action::FitTimeline);
        }
    }

    /// The lane labels' column: its width, and the handle on its edge that
    /// widens it (long names are cut with "…"; dragging shows more).
    fn gutter_ui(&mut self, ui: &Ui, rect: Rect) -> f32 {
        let max = (rect.width() * 0.6).max(MIN_GUTTER_WIDTH);
        let width = self
            .gutter_px
            .unwrap_or(GUTTER_WIDTH)
            .clamp(MIN_GUTTER_WIDTH, max);
        let handle = Rect::from_min_max(
            Pos2::new(rect.left() + width - 3.0, rect.top() + AXIS_HEIGHT),
            Pos2::new(rect.left() + width + 3.0, rect.bottom()),
        );
        let h = ui.interact(
            handle,
            ui.scope_id().with("lane-labels-edge"),
            Sense::drag(),
        );
        if h.dragged() {
            self.gutter_px = Some((width + h.drag_delta().x).clamp(MIN_GUTTER_WIDTH, max));
        }
        if h.hovered() || h.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        width
    }

    /// A jump asked for since the last frame: the lane in the middle of the
    /// rows, the time in the middle of the range.
    fn take_jump(&mut self, visible: usize) {
        let Some((lane, t)) = self.pending_jump.take() else {
            return;
        };
        if let Some(pos) = self.order.iter().position(|&l| l == lane) {
            self.first = (pos as f32 - visible as f32 / 2.0).max(0.0);
        }
        if let Some(t) = t {
            self.time.centre_on(t);
        }
    }

    /// Zoom at the pointer (Ctrl+wheel, pinch, W/S), pan (Shift+wheel,
    /// A/D), scroll lanes (wheel), F to fit.
    fn wheel_and_keys(
        &mut self,
        ui: &Ui,
        response: &egui::Response,
        plot: Rect,
        lane_h: f32,
        actions: &mut Vec<Action>,
    ) {
        let (scroll, zoom, modifiers) =
            ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.modifiers));
        let pointer_x = response.hover_pos().map_or(plot.center().x, |p| p.x);
        let mut factor = zoom as f64;
        if modifiers.command && scroll.y != 0.0 {
            factor *= (scroll.y as f64 / 200.0).exp();
        } else if modifiers.shift {
            self.time.pan_px(scroll.x + scroll.y);
        } else if scroll.y != 0.0 {
            self.first -= scroll.y / lane_h;
        }
        // Keys act on the timeline only while typing goes nowhere else.
        if !ui.ctx().egui_wants_keyboard_input() {
            let pan = (self.time.span_ns() * 0.1) as i64;
            let pressed = |a: Key, b: Key| ui.input(|i| i.key_pressed(a) || i.key_pressed(b));
            if pressed(Key::ArrowLeft, Key::A) {
                self.time.pan_ns(-pan);
            }
            if pressed(Key::ArrowRight, Key::D) {
                self.time.pan_ns(pan);
            }
            if pressed(Key::ArrowUp, Key::W) {
                factor *= 1.25;
            }
            if pressed(Key::ArrowDown, Key::S) {
                factor /= 1.25;
            }
            if ui.input(|i| i.key_pressed(Key::F)) {
                actions.push(Action::FitTimeline);
            }
        }
        if factor != 1.0 {
            self.time.zoom_at(pointer_x, factor);
        }
    }
}
