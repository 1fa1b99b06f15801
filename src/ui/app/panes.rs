//! The panels: leak suspects on the left, the goroutine plot and the
//! selection's events below, and in the centre the timeline beside the
//! flame graph with a handle between them.

use egui::{Color32, Rect};

use super::*;
use crate::ui::flame::FlameFrame;
use crate::ui::timeline::{TimelineData, legend_ui};
use crate::ui::{details, panels, plot};

impl LeakscopeApp {
    pub(super) fn suspects_panel_ui(&self, ui: &mut Ui, ws: &Workspace) -> Option<Action> {
        egui::Panel::left("suspects")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| {
                panels::suspects_ui(ui, ws, self.selection, self.names())
            })
            .inner
    }

    pub(super) fn lower_panel_ui(
        &self,
        ui: &mut Ui,
        ws: &Workspace,
        selected: &[u32],
    ) -> Option<Action> {
        egui::Panel::bottom("lower")
            .resizable(true)
            .default_size(210.0)
            // Room for the plot and a few events whatever the inputs (it
            // used to shrink to 60 px for some).
            .min_size(150.0)
            .max_size((ui.available_height() * 0.6).max(150.0))
            .show(ui, |ui| {
                let mut action = None;
                let names = self.names();
                ui.columns(2, |cols| {
                    plot::goroutine_plot_ui(&mut cols[0], ws, self.selection, names);
                    details::details_ui(&mut cols[1], ws, self.selection, names);
                    if let Some(lanes) = self.active_lanes() {
                        action = panels::events_ui(
                            &mut cols[1],
                            lanes.as_ref(),
                            &ws.session.stacks,
                            (self.selection, self.lanes_key()),
                            selected,
                            names,
                        );
                    }
                });
                action
            })
            .inner
    }

    pub(super) fn central_ui(
        &mut self,
        ui: &mut Ui,
        ws: &Arc<Workspace>,
        selected: &[u32],
        actions: &mut Vec<Action>,
    ) {
        self.error_line_ui(ui, actions);
        let full = ui.available_rect_before_wrap();
        let (left, right) = self.split_ui(ui, full);
        let mut left_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(left)
                .id_salt("timeline-pane"),
        );
        self.timeline_pane_ui(&mut left_ui, ws, selected, actions);
        let mut right_ui =
            ui.new_child(egui::UiBuilder::new().max_rect(right).id_salt("flame-pane"));
        let frame = FlameFrame {
            ws,
            generation: self.generation,
            selection: self.selection,
            search: &self.search,
            upward: self.state.flame_upward,
            names: self.names(),
        };
        self.flame.ui(&mut right_ui, &frame, actions);
        ui.advance_cursor_after_rect(full);
    }

    /// Inputs that did not load, in one line each above the views (at most
    /// three, cut to the width; the status bar opens the whole list).
    fn error_line_ui(&self, ui: &mut Ui, actions: &mut Vec<Action>) {
        const SHOWN: usize = 3;
        let errors: Vec<&Notice> = self
            .notices
            .iter()
            .filter(|n| n.level == Level::Error)
            .collect();
        for n in errors.iter().take(SHOWN) {
            ui.add(egui::Label::new(egui::RichText::new(&n.text).color(Color32::RED)).truncate());
        }
        if errors.len() > SHOWN
            && ui
                .link(format!("{} more error(s)…", errors.len() - SHOWN))
                .clicked()
        {
            actions.push(Action::ShowNotices);
        }
    }

    /// The handle between the timeline and the flame graph; returns their rects.
    fn split_ui(&mut self, ui: &mut Ui, full: Rect) -> (Rect, Rect) {
        let split = self.state.split.clamp(0.15, 0.85);
        let left_w = (full.width() * split).round();
        let left = Rect::from_min_size(full.min, egui::vec2(left_w - 3.0, full.height()));
        let handle = Rect::from_min_size(
            egui::pos2(full.left() + left_w - 3.0, full.top()),
            egui::vec2(6.0, full.height()),
        );
        let right =
            Rect::from_min_max(egui::pos2(full.left() + left_w + 3.0, full.top()), full.max);
        let h = ui.interact(handle, ui.scope_id().with("split"), egui::Sense::drag());
        if h.dragged() {
            // Only the layout of the next frame changes.
            self.state.split = ((left_w + h.drag_delta().x) / full.width()).clamp(0.15, 0.85);
        }
        if h.hovered() || h.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        ui.painter().rect_filled(
            handle.shrink2(egui::vec2(2.0, 0.0)),
            0.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        );
        (left, right)
    }

    /// The timeline's header (which lanes), legend and lanes.
    fn timeline_pane_ui(
        &mut self,
        ui: &mut Ui,
        ws: &Workspace,
        selected: &[u32],
        actions: &mut Vec<Action>,
    ) {
        let showing_trace = self.showing_trace();
        ui.horizontal(|ui| {
            ui.strong("Goroutine timeline");
            let Some(t) = &ws.trace else {
                if ws.lanes.axis() == crate::analysis::lanes::TimeAxis::BeforeDump {
                    ui.weak(super::LONE_DUMP_LANES);
                } else {
                    ui.weak("(snapshots)");
                }
                return;
            };
            let trace = format!("trace ({})", t.analysis.summary.go_version);
            let choices = [
                (
                    true,
                    trace,
                    "the execution trace: every state change in its window",
                ),
                (
                    false,
                    "snapshots".to_owned(),
                    "the goroutine snapshots over their capture times",
                ),
            ];
            for (value, text, hover) in choices {
                let r = ui.selectable_label(showing_trace == value, text);
                if r.on_hover_text(hover).clicked() && showing_trace != value {
                    actions.push(Action::ShowTrace(value));
                }
            }
        });
        if self.state.show_legend {
            legend_ui(ui);
        }
        let lanes = self.active_lanes().unwrap_or_else(|| Arc::clone(&ws.lanes));
        let data = TimelineData {
            lanes: lanes.as_ref(),
            table: &ws.session.stacks,
            lanes_key: self.lanes_key(),
            selection: self.selection,
            selected_lanes: selected,
            filter: &self.search,
            by_creation: self.state.lanes_by_creation,
            lane_height: self.state.lane_height,
            names: self.names(),
        };
        self.timeline.ui(ui, &data, actions);
    }
}
