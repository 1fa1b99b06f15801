//! The live connection of the app: the Connect dialog and the controls
//! shown while connected.

use super::*;

impl LeakscopeApp {
    /// Connects to a live service as the Connect dialog would.
    pub fn connect(&mut self, form: ConnectForm) -> Result<(), String> {
        let wake = self.wake.clone().unwrap_or_else(|| Arc::new(|| {}));
        if let Some(old) = self.live.take() {
            old.stop();
        }
        let live = ui_live::connect(&form, wake)?;
        self.live = Some(live);
        self.connect_form = None;
        Ok(())
    }

    pub(super) fn connect_window(&mut self, ctx: &egui::Context) {
        let Some(form) = &mut self.connect_form else {
            return;
        };
        let mut open = true;
        let mut go = false;
        egui::Window::new("Connect to a live service")
            .open(&mut open)
            .collapsible(false)
            .default_width(460.0)
            .show(ctx, |ui| {
                egui::Grid::new("connect-grid").num_columns(2).show(ui, |ui| {
                    ui.label("pprof URL");
                    ui.add(egui::TextEdit::singleline(&mut form.url).hint_text("host:6060 or http://host:6060/debug/pprof/"));
                    ui.end_row();
                    ui.label("poll every (s)");
                    ui.add(egui::TextEdit::singleline(&mut form.interval_secs).desired_width(60.0));
                    ui.end_row();
                    ui.label("session folder");
                    ui.add(egui::TextEdit::singleline(&mut form.folder).hint_text("a new folder here, named by host and time"));
                    ui.end_row();
                    ui.label("headers");
                    ui.add(
                        egui::TextEdit::multiline(&mut form.headers)
                            .desired_rows(2)
                            .hint_text("Authorization: Bearer …"),
                    );
                    ui.end_row();
                });
                ui.weak("Every goroutine profile is saved in the session folder as it arrives; the folder reopens as a session.");
                if let Some(e) = &form.error {
                    ui.colored_label(Color32::RED, e);
                }
                if ui.button("Connect").clicked() {
                    go = true;
                }
            });
        if go && let Some(form) = self.connect_form.clone() {
            if let Err(e) = self.connect(form)
                && let Some(f) = &mut self.connect_form
            {
                f.error = Some(e);
            }
        } else if !open {
            self.connect_form = None;
        }
    }

    pub(super) fn live_controls_ui(&mut self, ui: &mut Ui) {
        let Some(live) = &mut self.live else {
            return;
        };
        // Buttons first: text that changes width never moves them.
        if let Some(reason) = &live.stopped {
            if ui.small_button("Close").clicked() {
                self.live = None;
                return;
            }
            ui.weak(format!("({reason})"));
        } else {
            if ui.small_button("Disconnect").clicked() {
                live.stop();
            }
            if live.is_paused() {
                if ui.small_button("Resume").clicked() {
                    live.resume();
                }
            } else if ui.small_button("Pause").clicked() {
                live.pause();
            }
            match live.trace {
                Some((_, f)) => {
                    if ui.small_button("Cancel trace").clicked() {
                        live.cancel_trace();
                    }
                    ui.add(egui::ProgressBar::new(f).desired_width(90.0).text("trace"));
                }
                None => {
                    if ui.small_button("Capture trace (5 s)").clicked() {
                        live.capture_trace(5);
                    }
                }
            }
        }
        let Some(live) = &self.live else {
            return;
        };
        let color = match &live.state {
            crate::live::ConnectionState::Connected => theme_ok(),
            crate::live::ConnectionState::Retrying { .. } => Color32::from_rgb(230, 160, 0),
            _ => ui.visuals().weak_text_color(),
        };
        ui.colored_label(color, live.status());
        if let Some(last) = live.failures.last() {
            ui.colored_label(
                Color32::from_rgb(230, 160, 0),
                format!("last error: {last}"),
            )
            .on_hover_text(live.failures.join("\n"));
        }
    }
}
