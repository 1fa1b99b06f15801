//! The flame graph widget: boxes from a [`FlameTree`], zoom by click with a
//! breadcrumb back, regex search with the matched share, hover details, and
//! the selected stack group's boxes highlighted.
//!
//! The widget never changes the zoom itself: clicks come back as actions
//! the app applies after the frame (and records in its history).

use egui::{Color32, CornerRadius, Mesh, Painter, Pos2, Rect, Response, Sense, Stroke, Ui, Vec2};
use regex::Regex;

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::palette;
use crate::model::StackTable;
use crate::ui::state::Action;
use crate::ui::theme;

const ROW_HEIGHT: f32 = 18.0;
/// Boxes narrower than this are not drawn (their subtree neither).
const MIN_BOX_PX: f32 = 0.35;
/// Boxes narrower than this get no text.
const MIN_TEXT_PX: f32 = 36.0;

/// View state of the flame graph.
#[derive(Default)]
pub struct FlameView {
    /// The box shown full width.
    pub zoom: NodeId,
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

    /// Boxes the search matches, when it is a valid regex.
    fn matched(&self) -> Option<&[bool]> {
        let s = self.search.as_ref()?;
        s.regex.is_ok().then_some(s.matched.as_slice())
    }
}

fn format_weight(v: u64, unit: &str) -> String {
    match unit {
        "bytes" => format_bytes(v),
        "nanoseconds" => crate::model::time::format_duration_ns(v as i64),
        _ => format!("{v} {unit}"),
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
        matched: view.matched(),
        selecting: data.highlight.iter().any(|&h| h),
    };
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .id_salt("flame-scroll")
        .show(ui, |ui| {
            action = graph.ui(ui).or(action.take());
        });
    action
}

/// The zoomed box's ancestry as buttons back up, and the search's share.
fn breadcrumb_ui(ui: &mut Ui, view: &mut FlameView, data: &FlameData<'_>) -> Option<Action> {
    let tree = data.tree;
    let mut action = None;
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
    fn ui(&self, ui: &mut Ui) -> Option<Action> {
        let tree = self.data.tree;
        let zoom_node = &tree.nodes[self.zoom];
        let rows = zoom_node.depth as usize + (tree.max_depth - zoom_node.depth) as usize + 1;
        let height = rows as f32 * ROW_HEIGHT;
        let width = ui.available_width();
        let (rect, response) = ui.allocate_exact_size(
            Vec2::new(width, height.max(ui.available_height())),
            Sense::click(),
        );
        let painter = ui.painter_at(rect);
        let boxes = self.lay_out(ui, rect, height);
        painter.add(egui::Shape::mesh(boxes.mesh));
        self.paint_labels(&painter, &boxes.labelled);
        if self.selecting {
            self.outline_highlight(&painter, &boxes.drawn);
        }
        self.hover_and_click(&response, &boxes.drawn)
    }

    /// The zoomed box's ancestors across the whole width, then its subtree
    /// scaled to the width, skipping boxes narrower than a fraction of a pixel.
    fn lay_out(&self, ui: &Ui, rect: Rect, height: f32) -> Boxes {
        let tree = self.data.tree;
        let root_total = tree.root_total();
        let width = rect.width();
        let zoom_node = &tree.nodes[self.zoom];
        let x0 = zoom_node.x;
        let w0 = zoom_node.width(root_total).max(f64::MIN_POSITIVE);
        let row_y = |depth: u32| -> f32 {
            let row = depth as f32;
            if self.data.upward {
                rect.top() + height - (row + 1.0) * ROW_HEIGHT
            } else {
                rect.top() + row * ROW_HEIGHT
            }
        };
        let mut out = Boxes::default();
        for &a in tree.ancestry(self.zoom).iter().skip(1) {
            let r = Rect::from_min_size(
                Pos2::new(rect.left(), row_y(tree.nodes[a].depth)),
                Vec2::new(width, ROW_HEIGHT - 1.0),
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
            let w_px = (n.width(root_total) / w0) as f32 * width;
            if w_px < MIN_BOX_PX {
                i += n.size as usize;
                continue;
            }
            let x_px = rect.left() + ((n.x - x0) / w0) as f32 * width;
            let r = Rect::from_min_size(
                Pos2::new(x_px, row_y(n.depth)),
                Vec2::new((w_px - 1.0).max(MIN_BOX_PX), ROW_HEIGHT - 1.0),
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

    fn paint_labels(&self, painter: &Painter, labelled: &[(Rect, NodeId)]) {
        let font = egui::FontId::proportional(11.5);
        for &(r, i) in labelled {
            let fits = ((r.width() - 6.0) / 6.3).max(0.0) as usize;
            if fits < 3 {
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
    /// selects its group, a double click elsewhere zooms out.
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
        ui.weak("click to zoom and select its stack group");
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
/// does not fit gives way to its short form first.
fn fit_text(name: &str, chars: usize) -> String {
    let short = if name.chars().count() > chars {
        crate::analysis::frames::short_function(name)
    } else {
        std::borrow::Cow::Borrowed(name)
    };
    if short.chars().count() <= chars {
        return short.into_owned();
    }
    let mut s: String = short.chars().take(chars.saturating_sub(1)).collect();
    s.push('…');
    s
}
