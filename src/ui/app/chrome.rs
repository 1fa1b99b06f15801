//! The menu bar, the status bar and the notices window around the views.

use super::*;

impl LeakscopeApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut Ui) {
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| {
                    if ui.button("Open…  (Ctrl+O)").clicked() {
                        self.open_dialog(false);
                        ui.close();
                    }
                    if ui.button("Connect to a live service…").clicked() {
                        self.connect_form = Some(ConnectForm::default());
                        ui.close();
                    }
                    if ui.button("Add to session…").clicked() {
                        self.open_dialog(true);
                        ui.close();
                    }
                    if ui.button("Open the demo session").clicked() {
                        self.open(crate::ui::demo_inputs());
                        ui.close();
                    }
                    ui.menu_button("Open recent", |ui| {
                        if self.state.recent.is_empty() {
                            ui.weak("nothing yet");
                        }
                        let mut chosen = None;
                        for p in &self.state.recent {
                            if ui.button(p.display().to_string()).clicked() {
                                chosen = Some(p.clone());
                            }
                        }
                        if let Some(p) = chosen {
                            self.open(vec![InputSpec::Path(p)]);
                            ui.close();
                        }
                    });
                    ui.menu_button("Export", |ui| self.export_menu_ui(ui));
                    ui.separator();
                    if ui.button("Quit").clicked() {
                        ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                });
                ui.menu_button("View", |ui| {
                    if ui.button("Fit timeline  (F)").clicked()
                        && let Some(lanes) = self.active_lanes()
                    {
                        self.timeline.fit(lanes.as_ref());
                    }
                    if ui
                        .add_enabled(
                            self.selection != Selection::None,
                            egui::Button::new("Zoom to selection  (Z)"),
                        )
                        .clicked()
                    {
                        self.zoom_to_selection();
                    }
                    ui.checkbox(
                        &mut self.state.lanes_by_creation,
                        "Order lanes by creation time",
                    );
                    ui.checkbox(&mut self.state.flame_upward, "Flame graph grows upward");
                    ui.checkbox(&mut self.state.show_legend, "Show the state legend");
                    ui.add(
                        egui::Slider::new(&mut self.state.lane_height, 4.0..=30.0)
                            .text("lane height"),
                    );
                    ui.separator();
                    ui.label("Group by pprof labels:");
                    let before = self.label_mode.clone();
                    ui.radio_value(
                        &mut self.label_mode,
                        LabelMode::Auto,
                        "when every input has labels",
                    );
                    ui.radio_value(&mut self.label_mode, LabelMode::Split, "always split");
                    ui.radio_value(&mut self.label_mode, LabelMode::Merge, "merge");
                    if before != self.label_mode
                        && let Some(ws) = &self.workspace
                    {
                        let inputs = ws.inputs.clone();
                        self.open(inputs);
                    }
                });
                ui.menu_button("Help", |ui| {
                    ui.label("Ctrl+O open · Ctrl+F search · Esc clear selection");
                    ui.label("Timeline: drag to pan, Ctrl+wheel or pinch to zoom,");
                    ui.label("wheel to scroll lanes, arrows/WASD to pan and zoom, F to fit,");
                    ui.label("Z to zoom to the selection");
                    ui.label("Flame graph: click to zoom, breadcrumb to go back");
                });
                ui.separator();
                if ui
                    .button("Connect…")
                    .on_hover_text("poll a running service's /debug/pprof/")
                    .clicked()
                {
                    self.connect_form = Some(ConnectForm::default());
                }
                let search = ui.add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("search frames (regex) · lanes: g:ID state:… label:k=v")
                        .desired_width(280.0),
                );
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
            });
        });
    }

    pub(super) fn status_bar_ui(&mut self, ui: &mut Ui) {
        egui::Panel::bottom("status").show(ui, |ui| {
            if self.live.is_some() {
                ui.horizontal(|ui| self.live_controls_ui(ui));
            }
            ui.horizontal(|ui| {
                if let Some(job) = &self.job {
                    ui.spinner();
                    let p = job.progress();
                    ui.label(format!("{} {} input(s)…", p.stage(), self.loading.len()));
                    ui.add(egui::ProgressBar::new(p.fraction()).desired_width(120.0));
                    if ui.button("Cancel").clicked() {
                        job.cancel();
                    }
                    ui.separator();
                }
                if let Some(ws) = &self.workspace {
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
                    ui.label(text);
                    if self.selection != Selection::None {
                        ui.separator();
                        ui.label(format!(
                            "selected group: {} lanes",
                            self.highlighted_lanes().len()
                        ));
                    }
                }
                if self.export_job.is_some() {
                    ui.spinner();
                    ui.label("exporting…");
                } else if let Some(n) = self.notices.iter().rev().find(|n| n.level == Level::Info) {
                    ui.label(&n.text);
                }
                let errors = self
                    .notices
                    .iter()
                    .filter(|n| n.level == Level::Error)
                    .count();
                let warnings = self
                    .notices
                    .iter()
                    .filter(|n| n.level == Level::Warning)
                    .count();
                if errors > 0
                    && ui
                        .add(egui::Button::new(
                            egui::RichText::new(format!("{errors} error(s)")).color(Color32::RED),
                        ))
                        .clicked()
                {
                    self.show_notices = true;
                }
                if warnings > 0 && ui.button(format!("{warnings} warning(s)")).clicked() {
                    self.show_notices = true;
                }
            });
        });
    }

    pub(super) fn notices_window(&mut self, ctx: &egui::Context) {
        if !self.show_notices || self.notices.is_empty() {
            return;
        }
        let mut open = true;
        egui::Window::new("Problems while loading")
            .open(&mut open)
            .default_width(520.0)
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
}
