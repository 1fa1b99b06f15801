//! The menu bar, the status bar, the notices window and the empty state
//! around the views. Menu items ask for actions; the View menu's settings
//! change [`ViewState`] directly, as nothing is drawn before the menu bar.

use egui::Color32;

use super::*;
use crate::analysis::LabelMode;
use crate::ui::exporter::{ExportMenu, export_menu_ui};

impl LeakscopeApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| self.file_menu_ui(ui, actions));
                ui.menu_button("View", |ui| self.view_menu_ui(ui, actions));
                ui.menu_button("Help", help_menu_ui);
                ui.separator();
                self.history_buttons_ui(ui, actions);
                if ui
                    .button("Connect…")
                    .on_hover_text("poll a running service's /debug/pprof/")
                    .clicked()
                {
                    actions.push(Action::ShowConnect);
                }
                self.search_ui(ui);
            });
        });
    }

    fn file_menu_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        let mut item = |ui: &mut Ui, text: &str, action: Action| {
            if ui.button(text).clicked() {
                actions.push(action);
                ui.close();
            }
        };
        item(ui, "Open…  (Ctrl+O)", Action::OpenDialog { add: false });
        item(ui, "Connect to a live service…", Action::ShowConnect);
        item(ui, "Add to session…", Action::OpenDialog { add: true });
        item(
            ui,
            "Open the demo session",
            Action::Open(crate::ui::demo_inputs()),
        );
        ui.menu_button("Open recent", |ui| {
            if self.state.recent.is_empty() {
                ui.weak("nothing yet");
            }
            for p in &self.state.recent {
                item(
                    ui,
                    &p.display().to_string(),
                    Action::Open(vec![InputSpec::Path(p.clone())]),
                );
            }
        });
        let menu = ExportMenu {
            loaded: self.workspace.is_some(),
            snapshots: self
                .workspace
                .as_ref()
                .map_or(0, |w| w.analysis.series.len()),
            group: self.selection.group(),
        };
        ui.menu_button("Export", |ui| actions.extend(export_menu_ui(ui, &menu)));
        ui.separator();
        if ui.button("Quit").clicked() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn view_menu_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        if ui.button("Fit timeline  (F)").clicked() {
            actions.push(Action::FitTimeline);
        }
        let zoom = egui::Button::new("Zoom to selection  (Z)");
        if ui
            .add_enabled(self.selection != Selection::None, zoom)
            .clicked()
        {
            actions.push(Action::ZoomToSelection);
        }
        let s = &mut self.state;
        ui.checkbox(&mut s.lanes_by_creation, "Order lanes by creation time");
        ui.checkbox(&mut s.flame_upward, "Flame graph grows upward");
        ui.checkbox(&mut s.show_legend, "Show the state legend");
        ui.checkbox(&mut s.full_names, "Full function names and paths")
            .on_hover_text("import paths and whole file paths; tooltips always show them");
        ui.add(egui::Slider::new(&mut s.lane_height, 4.0..=30.0).text("lane height"));
        ui.separator();
        ui.label("Group by pprof labels:");
        let mut mode = self.loader.label_mode.clone();
        ui.radio_value(&mut mode, LabelMode::Auto, "when every input has labels");
        ui.radio_value(&mut mode, LabelMode::Split, "always split");
        ui.radio_value(&mut mode, LabelMode::Merge, "merge");
        if mode != self.loader.label_mode {
            actions.push(Action::SetLabelMode(mode));
        }
    }

    /// Back and forward through selections and zooms.
    fn history_buttons_ui(&self, ui: &mut Ui, actions: &mut Vec<Action>) {
        let back = egui::Button::new("‹ Back");
        if ui
            .add_enabled(self.can_go_back(), back)
            .on_hover_text("the previous selection or zoom  (Alt+Left)")
            .clicked()
        {
            actions.push(Action::Back);
        }
        let forward = egui::Button::new("Forward ›");
        if ui
            .add_enabled(self.can_go_forward(), forward)
            .on_hover_text("again what Back left  (Alt+Right)")
            .clicked()
        {
            actions.push(Action::Forward);
        }
    }

    /// Frame search (flame graph) and lane filter (timeline) in one field.
    fn search_ui(&mut self, ui: &mut Ui) {
        // Short enough to read whole; the syntax is behind the "?" beside it.
        let width = (ui.available_width() - 90.0).clamp(140.0, 300.0);
        let search = ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("search (Ctrl+F)")
                .desired_width(width),
        );
        ui.menu_button("?", search_help_ui)
            .response
            .on_hover_text("how to search and filter lanes");
        if self.focus_search {
            search.request_focus();
            self.focus_search = false;
        }
        if !self.search.is_empty()
            && ui
                .small_button("clear")
                .on_hover_text("clear search")
                .clicked()
        {
            self.search.clear();
        }
    }

    pub(super) fn status_bar_ui(
        &mut self,
        ui: &mut Ui,
        selected: usize,
        actions: &mut Vec<Action>,
    ) {
        egui::Panel::bottom("status").show(ui, |ui| {
            if self.connection.live.is_some() {
                ui.horizontal(|ui| self.connection.controls_ui(ui));
            }
            ui.horizontal(|ui| {
                self.progress_ui(ui, true);
                if let Some(ws) = &self.workspace {
                    ui.label(session_summary(ws));
                    if self.selection != Selection::None {
                        ui.separator();
                        ui.label(format!("selected group: {selected} lanes"));
                    }
                }
                if self.exporter.is_running() {
                    ui.spinner();
                    ui.label("exporting…");
                } else if let Some(n) = self.notices.iter().rev().find(|n| n.level == Level::Info) {
                    ui.label(&n.text);
                }
                self.notice_counts_ui(ui, actions);
            });
        });
    }

    /// The running load: stage, progress and Cancel (compact in the status bar).
    fn progress_ui(&self, ui: &mut Ui, compact: bool) {
        let Some((p, inputs)) = self.loader.progress() else {
            return;
        };
        ui.spinner();
        if compact {
            ui.label(format!("{} {inputs} input(s)…", p.stage()));
            ui.add(egui::ProgressBar::new(p.fraction()).desired_width(120.0));
        } else {
            ui.label(format!("{}…", p.stage()));
            let bar = egui::ProgressBar::new(p.fraction()).desired_width(300.0);
            ui.add(bar.show_percentage());
        }
        // Only the job's flag changes: nothing else drawn depends on it.
        if ui.button("Cancel").clicked() {
            self.loader.cancel();
        }
        if compact {
            ui.separator();
        }
    }

    fn notice_counts_ui(&self, ui: &mut Ui, actions: &mut Vec<Action>) {
        let count = |level| self.notices.iter().filter(|n| n.level == level).count();
        let (errors, warnings) = (count(Level::Error), count(Level::Warning));
        let text = egui::RichText::new(format!("{errors} error(s)")).color(Color32::RED);
        if errors > 0 && ui.add(egui::Button::new(text)).clicked() {
            actions.push(Action::ShowNotices);
        }
        if warnings > 0 && ui.button(format!("{warnings} warning(s)")).clicked() {
            actions.push(Action::ShowNotices);
        }
    }

    pub(super) fn notices_window(&mut self, ctx: &egui::Context) {
        if !self.show_notices || self.notices.is_empty() {
            return;
        }
        let mut open = true;
        // Bottom right, over the events list: never over suspect #1 or the
        // toolbars.
        egui::Window::new("Problems while loading")
            .open(&mut open)
            .default_width(520.0)
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -36.0))
            .collapsible(false)
            .show(ctx, |ui| {
                egui::ScrollArea::vertical()
                    .max_height(300.0)
                    .show(ui, |ui| {
                        for n in &self.notices {
                            let color = match n.level {
                                Level::Error => Color32::RED,
                                Level::Warning => ui.visuals().warn_fg_color,
                                Level::Info => ui.visuals().text_color(),
                            };
                            ui.colored_label(color, &n.text);
                        }
                    });
            });
        self.show_notices = open;
    }

    /// Before anything is loaded: progress, or how to start.
    pub(super) fn empty_state_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            if self.loader.progress().is_some() {
                self.progress_ui(ui, false);
                return;
            }
            ui.heading("leakscope");
            ui.label("Open pprof profiles, goroutine dumps or execution traces of a Go service.");
            ui.label("Drop files here, or:");
            if ui.button("Open…").clicked() {
                actions.push(Action::OpenDialog { add: false });
            }
            if ui.button("Open the demo session").clicked() {
                actions.push(Action::Open(crate::ui::demo_inputs()));
            }
            for n in &self.notices {
                ui.colored_label(Color32::RED, &n.text);
            }
        });
    }
}

/// What the search field understands, shown under its "?".
pub fn search_help_ui(ui: &mut Ui) {
    ui.strong("Search");
    ui.label("text or a regex: flame graph boxes whose function matches turn pink,");
    ui.label("and the timeline keeps lanes with a matching function in their stack.");
    ui.separator();
    ui.strong("Lane filters (timeline)");
    egui::Grid::new("search-help")
        .num_columns(2)
        .show(ui, |ui| {
            for (syntax, what) in [
                ("g:42", "goroutine 42"),
                (
                    "state:chan send",
                    "lanes that were ever in that state (part of it)",
                ),
                (
                    "label:tenant=acme",
                    "lanes with that pprof label (part of it)",
                ),
            ] {
                ui.monospace(syntax);
                ui.label(what);
                ui.end_row();
            }
        });
    ui.weak("Esc clears the search and the selection.");
}

fn help_menu_ui(ui: &mut Ui) {
    ui.label("Ctrl+O open · Ctrl+F search · Esc clear selection");
    ui.label("Alt+Left / Alt+Right: back and forward through selections and zooms");
    ui.label("Timeline: drag to pan, Ctrl+wheel or pinch to zoom,");
    ui.label("wheel to scroll lanes, arrows/WASD to pan and zoom, F to fit,");
    ui.label("Z to zoom to the selection");
    ui.label("Flame graph: click to zoom, breadcrumb or double-click to go back,");
    ui.label("Ctrl+wheel or pinch to zoom at the pointer, Shift+wheel to pan;");
    ui.label("Top lists self and total per function, Sandwich one function's callers and callees");
}

/// Inputs, snapshots and the trace, in one line.
fn session_summary(ws: &Workspace) -> String {
    let snaps = ws.analysis.series.len();
    let mut text = format!("{} input(s)", ws.session.inputs.len());
    if let Some(last) = ws.analysis.series.last() {
        text.push_str(&format!(
            " · {snaps} snapshot(s) · {} goroutines in the last",
            last.total
        ));
    }
    if let Some(t) = &ws.trace {
        text.push_str(&format!(
            " · trace: {} goroutines alive at its end",
            t.analysis.summary.alive_at_end
        ));
    }
    text
}
