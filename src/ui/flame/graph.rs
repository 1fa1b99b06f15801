//! The flame graph widget: boxes from a [`FlameTree`], zoom by click with a
//! breadcrumb back, zoom at the pointer with Ctrl+wheel or a pinch (as the
//! timeline does; the plain wheel scrolls a deep graph), regex search with
//! the matched share, hover details, and the selected stack group's boxes
//! highlighted.
//!
//! The widget never changes the zoomed box itself: clicks come back as
//! actions the app applies after the frame (and records in its history).
//! Wheel zooms and pans change only the visible range, which the history
//! records at the next navigation, as it does the timeline's.

use egui::{Color32, CornerRadius, Mesh, Painter, Pos2, Rect, Response, Sense, Stroke, Ui, Vec2};
use regex::Regex;

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::palette;
use crate::model::StackTable;
use crate::ui::state::Action;
use crate::ui::theme;

const ROW_HEIGHT: f32 = 18.0;
/// Rows grow up to this to fill a pane a shallow graph would leave empty.
pub(super) const MAX_ROW_HEIGHT: f32 = 26.0;
/// Boxes narrower than this are not drawn (their subtree neither).
const MIN_BOX_PX: f32 = 0.35;
/// Boxes narrower than this get no text.
const MIN_TEXT_PX: f32 = 36.0;
/// A label shows at least this many characters (the ellipsis included):
/// two letters and "…" name nothing, so narrower boxes stay blank.
const MIN_LABEL_CHARS: usize = 5;
/// The narrowest visible range a wheel zooms to, as a share of the root:
/// a box of one goroutine in millions still spans the pane.
const MIN_RANGE: f64 = 1e-9;

/// View state of the flame graph.
#[derive(Default)]
pub struct FlameView {
    /// The box whose subtree is shown (its ancestors span the width).
    pub zoom: NodeId,
    /// The part of the width shown, as `(left, width)` in shares of the
    /// root, after a wheel zoom or pan; `None`: the zoomed box exactly.
    pub range: Option<(f64, f64)>,
    /// Search cache: pattern, compiled regex (or error), and per-node matches.
    search: Option<SearchCache>,
}

struct SearchCache {
    pattern: String,
    tree_id: usize,
    regex: Result<Regex, String>,
    matched: Vec<bool>,
    /// Weight under matched boxes (without double counting nested matches).
    matched_total: u64,
}

/// What the flame graph shows and how to label it.
pub struct FlameData<'a> {
    /// The tree of stacks to draw.
    pub tree: &'a FlameTree,
    /// Names of the tree's frames.
    pub table: &'a StackTable,
    /// Unit of the weights (`goroutines`, `bytes`, `nanoseconds`).
    pub unit: &'a str,
    /// Boxes of the selected stack group; empty when nothing is selected.
    pub highlight: &'a [bool],
    /// Search text; matching boxes are marked.
    pub search: &'a str,
    /// Draw as an icicle (roots at the top) instead of a flame.
    pub upward: bool,
    /// How box labels and the breadcrumb name functions.
    pub names: crate::ui::names::Names,
    /// Tells the scroll areas of several graphs in one pane apart.
    pub id_salt: &'static str,
    /// What a click on a box does, for its tooltip.
    pub click_hint: &'static str,
    /// Leave out the root's row ("all"): the Sandwich's trees have one
    /// function under it, which says the same.
    pub skip_root: bool,
}

impl FlameView {
    fn search<'c>(&'c mut self, data: &FlameData<'_>) -> Option<&'c SearchCache> {
        let pattern = data.search.trim();
        if pattern.is_empty() {
            self.search = None;
            return None;
        }
        let tree_id = data.tree as *const FlameTree as usize;
        let stale = self
            .search
            .as_ref()
            .is_none_or(|c| c.pattern != pattern || c.tree_id != tree_id);
        if stale {
            let regex = Regex::new(&format!("(?i){pattern}")).map_err(|e| e.to_string());
            let mut matched = vec![false; data.tree.nodes.len()];
            let mut matched_total = 0u64;
            if let Ok(re) = &regex {
                let mut covered_until = 0;
                for (i, n) in data.tree.nodes.iter().enumerate().skip(1) {
                    if re.is_match(data.table.str(n.function)) {
                        matched[i] = true;
                        if i >= covered_until {
                            matched_total = matched_total.saturating_add(n.total);
                            covered_until = i + n.size as usize;
                        }
                    }
                }
            }
            self.search = Some(SearchCache {
                pattern: pattern.to_owned(),
                tree_id,
                regex,
                matched,
                matched_total,
            });
        }
        self.search.as_ref()
    }

    /// The visible range, `(left, width)` in shares of the root: the
    /// wheel's, kept inside the zoomed box, else the zoomed box's.
    pub fn visible(&self, tree: &FlameTree) -> (f64, f64) {
        let Some(n) = tree.nodes.get(self.zoom) else {
            return (0.0, 1.0);
        };
        let (x, w) = (n.x, n.width(tree.root_total()));
        match self.range {
            Some((l, rw)) => {
                let rw = rw.clamp(MIN_RANGE.min(w), w);
                (l.clamp(x, x + w - rw), rw)
            }
            None => (x, w),
        }
    }

    /// Zooms by `factor` (above 1: in) keeping the share under the
    /// pointer (`at`, `0..1` of the width) in place; never out past the
    /// zoomed box.
    pub fn zoom_at(&mut self, tree: &FlameTree, at: f64, factor: f64) {
        let (l, w) = self.visible(tree);
        let full = tree
            .nodes
            .get(self.zoom)
            .map_or(1.0, |n| n.width(tree.root_total()));
        let nw = (w / factor).clamp(MIN_RANGE.min(full), full);
        self.set_range(tree, (l + at.clamp(0.0, 1.0) * (w - nw), nw));
    }

    /// Moves the visible range by a share of its width (positive: right).
    pub fn pan(&mut self, tree: &FlameTree, by: f64) {
        let (l, w) = self.visible(tree);
        self.set_range(tree, (l + by * w, w));
    }

    /// Keeps a range inside the zoomed box; the whole box is no range.
    fn set_range(&mut self, tree: &FlameTree, range: (f64, f64)) {
        self.range = Some(range);
        let visible = self.visible(tree);
        let full = tree
            .nodes
            .get(self.zoom)
            .map(|n| (n.x, n.width(tree.root_total())));
        self.range = (Some(visible) != full).then_some(visible);
    }

    /// Shows a box across the width, the wheel's range gone.
    pub fn set_zoom(&mut self, node: NodeId) {
        self.zoom = node;
        self.range = None;
    }

    /// Boxes the search matches, when it is a valid regex.
    fn matched(&self) -> Option<&[bool]> {
        let s = self.search.as_ref()?;
        s.regex.is_ok().then_some(s.matched.as_slice())
    }
}

/// A weight with its unit, as tooltips state it.
pub(super) fn format_weight(v: u64, unit: &str) -> String {
    match unit {
        "bytes" => format_bytes(v),
        "nanoseconds" => crate::model::time::format_duration_ns(v as i64),
        _ => format!("{v} {unit}"),
    }
}

/// A weight in a table cell: bytes and durations in their own units, other
/// counts bare (the header names their unit).
pub(super) fn format_value(v: u64, unit: &str) -> String {
    match unit {
        "bytes" | "nanoseconds" => format_weight(v, unit),
        _ => v.to_string(),
    }
}

fn format_bytes(v: u64) -> String {
    let v = v as f64;
    if v >= 1e9 {
        format!("{:.2} GB", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2} MB", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} kB", v / 1e3)
    } else {
        format!("{v} B")
    }
}

/// Draws the flame graph; a click on a box or the breadcrumb comes back as
/// an action.
pub fn flame_ui(ui: &mut Ui, view: &mut FlameView, data: &FlameData<'_>) -> Option<Action> {
    let tree = data.tree;
    if tree.nodes.is_empty() || tree.root_total() == 0 {
        ui.weak("Nothing to show: the selected input has no stacks with weight.");
        return None;
    }
    if view.zoom >= tree.nodes.len() {
        view.zoom = 0;
    }
    let mut action = breadcrumb_ui(ui, view, data);
    let graph = Graph {
        data,
        zoom: view.zoom,
        visible: view.visible(tree),
        matched: view.matched(),
        selecting: data.highlight.iter().any(|&h| h),
    };
    let mut wheel = None;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        // A flame deeper than the pane opens on its root, at the bottom.
        .stick_to_bottom(data.upward)
        .id_salt(data.id_salt)
        .show(ui, |ui| {
            let (a, w) = graph.ui(ui);
            action = a.or(action.take());
            wheel = w;
        });
    if let Some((at, factor, pan)) = wheel {
        if factor != 1.0 {
            view.zoom_at(tree, at, factor);
        }
        if pan != 0.0 {
            view.pan(tree, pan);
        }
    }
    action
}

/// Ctrl+wheel or a pinch over the graph: `(pointer's share of the width,
/// zoom factor, pan as a share of the visible width)`; `None` when the
/// pointer is elsewhere. Shift+wheel pans; the plain wheel is left to the
/// scroll area, so a deep graph still scrolls.
fn wheel(ui: &Ui, response: &Response, rect: Rect) -> Option<(f64, f64, f64)> {
    let pos = response.hover_pos()?;
    let (scroll, zoom, modifiers) =
        ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.modifiers));
    let mut factor = zoom as f64;
    let mut pan = 0.0;
    if modifiers.command && scroll.y != 0.0 {
        factor *= (scroll.y as f64 / 200.0).exp();
    } else if modifiers.shift {
        pan = -((scroll.x + scroll.y) / rect.width().max(1.0)) as f64;
    }
    let at = ((pos.x - rect.left()) / rect.width().max(1.0)) as f64;
    (factor != 1.0 || pan != 0.0).then_some((at, factor, pan))
}

/// The zoomed box's ancestry as buttons back up, and the search's share.
fn breadcrumb_ui(ui: &mut Ui, view: &mut FlameView, data: &FlameData<'_>) -> Option<Action> {
    let tree = data.tree;
    let mut action = None;
    if data.skip_root && view.zoom <= 1 && data.search.trim().is_empty() {
        // Nothing to go back to, no search share to state.
        return None;
    }
    ui.horizontal_wrapped(|ui| {
        let mut chain = tree.ancestry(view.zoom);
        chain.reverse();
        for (i, &n) in chain.iter().enumerate() {
            if i > 0 {
                ui.weak("›");
            }
            let label = if n == 0 {
                "all".to_owned()
            } else {
                data.names
                    .function(data.table.str(tree.nodes[n].function))
                    .into_owned()
            };
            let full = if n == 0 {
                "all"
            } else {
                data.table.str(tree.nodes[n].function)
            };
            if ui
                .small_button(label)
                .on_hover_text(format!("{full}\nzoom out to this frame"))
                .clicked()
            {
                action = Some(Action::FlameZoom(n));
            }
        }
        if let Some(s) = view.search(data) {
            ui.separator();
            match &s.regex {
                Ok(_) => {
                    let share = s.matched_total as f64 / tree.root_total() as f64 * 100.0;
                    ui.colored_label(theme::SEARCH_MATCH, format!("matched {share:.1}%"));
                }
                Err(e) => {
                    ui.colored_label(Color32::RED, format!("bad regex: {e}"));
                }
            }
        }
    });
    action
}

/// One frame of the boxes below a zoomed box.
struct Graph<'a> {
    data: &'a FlameData<'a>,
    zoom: NodeId,
    /// `(left, width)` shown, in shares of the root.
    visible: (f64, f64),
    /// Boxes the search matches.
    matched: Option<&'a [bool]>,
    /// Something is selected: boxes off its path are dimmed.
    selecting: bool,
}

/// Boxes laid out for one frame, in drawing order.
#[derive(Default)]
struct Boxes {
    mesh: Mesh,
    /// Every box drawn, for hover and outlines.
    drawn: Vec<(Rect, NodeId)>,
    /// Boxes wide enough for a label.
    labelled: Vec<(Rect, NodeId)>,
}

impl Graph<'_> {
    /// Draws the boxes; returns what a click asks and what the wheel did.
    fn ui(&self, ui: &mut Ui) -> (Option<Action>, Option<(f64, f64, f64)>) {
        let skip = u32::from(self.data.skip_root);
        let rows = (self.data.tree.max_depth + 1 - skip).max(1) as usize;
        // Rows grow to fill the pane (to a limit), and a graph deeper than
        // the pane keeps them readable and scrolls.
        let row_h = (ui.available_height() / rows as f32).clamp(ROW_HEIGHT, MAX_ROW_HEIGHT);
        let width = ui.available_width();
        let (rect, response) = ui.allocate_exact_size(
            Vec2::new(width, (rows as f32 * row_h).max(ui.available_height())),
            Sense::click(),
        );
        let painter = ui.painter_at(rect);
        let boxes = self.lay_out(ui, rect, row_h);
        painter.add(egui::Shape::mesh(boxes.mesh));
        self.paint_labels(&painter, rect, &boxes.labelled);
        if self.selecting {
            self.outline_highlight(&painter, &boxes.drawn);
        }
        let wheel = wheel(ui, &response, rect);
        (self.hover_and_click(&response, &boxes.drawn), wheel)
    }

    /// The zoomed box's ancestors across the whole width, then its subtree
    /// with the visible range scaled to the width, skipping boxes narrower
    /// than a fraction of a pixel and those outside the range.
    fn lay_out(&self, ui: &Ui, rect: Rect, row_h: f32) -> Boxes {
        let tree = self.data.tree;
        let root_total = tree.root_total();
        let width = rect.width();
        let zoom_node = &tree.nodes[self.zoom];
        let (x0, w0) = (self.visible.0, self.visible.1.max(f64::MIN_POSITIVE));
        // An upward graph stands on the pane's bottom edge.
        let row_y = |depth: u32| -> f32 {
            let row = depth.saturating_sub(u32::from(self.data.skip_root)) as f32;
            if self.data.upward {
                rect.bottom() - (row + 1.0) * row_h
            } else {
                rect.top() + row * row_h
            }
        };
        let mut out = Boxes::default();
        let shown = |depth: u32| depth >= u32::from(self.data.skip_root);
        for &a in tree.ancestry(self.zoom).iter().skip(1) {
            if !shown(tree.nodes[a].depth) {
                continue;
            }
            let r = Rect::from_min_size(
                Pos2::new(rect.left(), row_y(tree.nodes[a].depth)),
                Vec2::new(width, row_h - 1.0),
            );
            out.mesh
                .add_colored_rect(r, self.fill(a).gamma_multiply(0.7));
            out.drawn.push((r, a));
            out.labelled.push((r, a));
        }
        let end = self.zoom + zoom_node.size as usize;
        let mut i = self.zoom;
        while i < end {
            let n = &tree.nodes[i];
            if !shown(n.depth) {
                i += 1;
                continue;
            }
            let w_px = (n.width(root_total) / w0) as f32 * width;
            if w_px < MIN_BOX_PX {
                i += n.size as usize;
                continue;
            }
            let x_px = rect.left() + ((n.x - x0) / w0) as f32 * width;
            if x_px > rect.right() || x_px + w_px < rect.left() {
                // Out of the range: so is everything above it.
                i += n.size as usize;
                continue;
            }
            let r = Rect::from_min_size(
                Pos2::new(x_px, row_y(n.depth)),
                Vec2::new((w_px - 1.0).max(MIN_BOX_PX), row_h - 1.0),
            );
            if ui.is_rect_visible(r) {
                out.mesh.add_colored_rect(r, self.fill(i));
                out.drawn.push((r, i));
                if w_px >= MIN_TEXT_PX {
                    out.labelled.push((r, i));
                }
            }
            i += 1;
        }
        out
    }

    /// A box's colour: its function's (or what grew, in a differential),
    /// search matches on top, boxes off the selection's path dimmed.
    fn fill(&self, i: NodeId) -> Color32 {
        let tree = self.data.tree;
        let n = &tree.nodes[i];
        if self.matched.is_some_and(|m| m[i]) {
            return theme::SEARCH_MATCH;
        }
        let base = if tree.differential {
            let (a, b) = (n.base_total as f32, n.total as f32);
            theme::diff_color((b - a) / a.max(b).max(1.0))
        } else {
            let [r, g, b] = tree.styles.get(i).map_or(palette::NO_STACK, |s| s.1);
            Color32::from_rgb(r, g, b)
        };
        if self.selecting && !self.data.highlight.get(i).copied().unwrap_or(false) {
            return base.gamma_multiply(0.35);
        }
        base
    }

    /// Box labels, cut to what fits with "…"; a box cut by the pane's
    /// edge is labelled in its visible part.
    fn paint_labels(&self, painter: &Painter, pane: Rect, labelled: &[(Rect, NodeId)]) {
        let font = egui::FontId::proportional(11.5);
        for &(r, i) in labelled {
            let r = r.intersect(pane);
            let fits = ((r.width() - 6.0) / 6.3).max(0.0) as usize;
            if fits < MIN_LABEL_CHARS {
                continue;
            }
            painter.with_clip_rect(r).text(
                Pos2::new(r.left() + 3.0, r.center().y),
                egui::Align2::LEFT_CENTER,
                fit_text(&self.data.names.function(self.name(i)), fits),
                font.clone(),
                Color32::BLACK,
            );
        }
    }

    /// Outlines the highlighted path so it reads even where colours are close.
    fn outline_highlight(&self, painter: &Painter, drawn: &[(Rect, NodeId)]) {
        for &(r, i) in drawn {
            if self.data.highlight.get(i).copied().unwrap_or(false) {
                painter.rect_stroke(
                    r,
                    CornerRadius::ZERO,
                    Stroke::new(1.5, theme::HIGHLIGHT),
                    egui::StrokeKind::Inside,
                );
            }
        }
    }

    /// The tooltip of the box under the pointer; a click zooms into it and
    /// selects its group, a double click elsewhere zooms out all the way.
    fn hover_and_click(&self, response: &Response, drawn: &[(Rect, NodeId)]) -> Option<Action> {
        let hovered = response.hover_pos().and_then(|p| {
            drawn
                .iter()
                .rev()
                .find(|(r, _)| r.contains(p))
                .map(|(_, i)| *i)
        });
        if let Some(h) = hovered {
            response
                .clone()
                .on_hover_ui_at_pointer(|ui| self.tooltip_ui(ui, h));
        }
        match hovered {
            Some(h) if response.clicked() => Some(Action::FlameClicked(h)),
            None if response.double_clicked() => Some(Action::FlameZoom(0)),
            _ => None,
        }
    }

    fn tooltip_ui(&self, ui: &mut Ui, h: NodeId) {
        let (tree, table, unit) = (self.data.tree, self.data.table, self.data.unit);
        let n = &tree.nodes[h];
        ui.strong(self.name(h));
        if let Some(f) = n.frame {
            let fr = table.frame(f);
            ui.monospace(format!("{}:{}", table.str(fr.file), fr.line));
        }
        let share = n.total as f64 / tree.root_total() as f64 * 100.0;
        ui.label(format!(
            "total {} ({share:.1}%)",
            format_weight(n.total, unit)
        ));
        ui.label(format!("self {}", format_weight(n.self_weight, unit)));
        if tree.differential {
            let d = n.total as i64 - n.base_total as i64;
            ui.label(format!(
                "before {}, now {} ({d:+})",
                format_weight(n.base_total, unit),
                format_weight(n.total, unit)
            ));
        }
        ui.weak(self.data.click_hint);
    }

    fn name(&self, i: NodeId) -> &str {
        if i == 0 {
            "all"
        } else {
            self.data.table.str(self.data.tree.nodes[i].function)
        }
    }
}

/// Cuts a name to `chars` characters with an ellipsis; a full name that
/// does not fit gives way to its short form first, then to the name
/// without its package (`(*Mutex).Lock`, `gopark`): "main.…" or "sync.…"
/// in a narrow box would name nothing.
pub(super) fn fit_text(name: &str, chars: usize) -> String {
    let short = if name.chars().count() > chars {
        crate::analysis::frames::short_function(name)
    } else {
        std::borrow::Cow::Borrowed(name)
    };
    if short.chars().count() <= chars {
        return short.into_owned();
    }
    let short = match short.split_once('.') {
        Some((_, bare)) if !bare.is_empty() => bare,
        _ => &short,
    };
    if short.chars().count() <= chars {
        return short.to_owned();
    }
    let mut s: String = short.chars().take(chars.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::fit_text;

    #[test]
    fn labels_drop_the_package_before_cutting_the_name() {
        assert_eq!(fit_text("runtime.gopark", 20), "runtime.gopark");
        assert_eq!(fit_text("runtime.gopark", 8), "gopark");
        assert_eq!(fit_text("sync.(*Mutex).Lock", 14), "(*Mutex).Lock");
        assert_eq!(fit_text("main.querySearchBackend", 10), "querySear…");
        assert_eq!(
            fit_text("example.org/acme/svc.v2/pool.(*Pool).Get", 13),
            "(*Pool).Get"
        );
    }
}
