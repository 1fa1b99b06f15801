//! The app's exports: asking where to save, running the export off the UI
//! thread, the replace confirmation and the File ▸ Export menu.

use super::*;

impl LeakscopeApp {
    /// Asks where to save an export, off the UI thread.
    pub fn start_export(&mut self, kind: ExportKind) {
        let (tx, rx) = std::sync::mpsc::channel();
        let wake = self.wake.clone();
        let (name, label, ext) = kind.suggestion();
        let spawned = std::thread::Builder::new()
            .name("leakscope-save-dialog".into())
            .spawn(move || {
                let path = rfd::FileDialog::new()
                    .set_title("Export")
                    .set_file_name(name)
                    .add_filter(label, &[ext])
                    .save_file();
                tx.send(path).ok();
                if let Some(w) = wake {
                    w();
                }
            });
        if spawned.is_ok() {
            self.save_dialog = Some((rx, kind));
        }
    }

    /// Exports to `path`; an existing file waits for confirmation.
    pub fn export_to(&mut self, kind: ExportKind, path: PathBuf) {
        if path.exists() {
            self.replace = Some(PendingReplace { kind, path });
        } else {
            self.run_export(kind, path, false);
        }
    }

    fn run_export(&mut self, kind: ExportKind, path: PathBuf, force: bool) {
        let Some(ws) = self.workspace.clone() else {
            return;
        };
        let wake = self.wake.clone().unwrap_or_else(|| Arc::new(|| {}));
        self.export_job = Some(Job::spawn("export", wake, move |_| {
            let r = ui_export::run(&ws, &kind, &path, force).map_err(|e| e.to_string());
            (path, r)
        }));
    }

    /// Takes a finished export's result into the notices; true while one runs.
    pub(super) fn poll_export(&mut self) -> bool {
        let Some(job) = &mut self.export_job else {
            return false;
        };
        if let Some((path, result)) = job.try_take() {
            self.export_job = None;
            self.notices.push(match result {
                Ok(()) => Notice {
                    level: Level::Info,
                    text: format!("saved {}", path.display()),
                },
                Err(e) => Notice {
                    level: Level::Error,
                    text: format!("export failed: {e}"),
                },
            });
            return false;
        }
        if job.is_done() {
            self.export_job = None;
            return false;
        }
        true
    }

    /// Waits for a running export (tests).
    pub fn wait_for_export(&mut self) {
        while self.poll_export() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// The flame graph as on screen, for export.
    pub fn flame_view_export(&mut self) -> Option<ExportKind> {
        self.refresh_flame();
        let cache = self.flame_cache.as_ref()?;
        let spec = self.flame.clone()?;
        Some(ExportKind::FlameView {
            tree: Arc::clone(&cache.tree),
            spec,
            zoom: self.flame_view.zoom,
            search: (!self.search.trim().is_empty())
                .then(|| regex::Regex::new(&format!("(?i){}", self.search.trim())).ok())
                .flatten(),
            upward: self.state.flame_upward,
        })
    }

    pub(super) fn group_export(&self, group: usize) -> Option<ExportKind> {
        let ws = self.workspace.as_ref()?;
        let input = ws.analysis.series.last()?.input;
        Some(ExportKind::GroupFlame {
            group,
            spec: crate::export::FlameSpec {
                input,
                ..crate::export::FlameSpec::default()
            },
        })
    }

    pub(super) fn export_menu_ui(&mut self, ui: &mut Ui) {
        let loaded = self.workspace.is_some();
        let series = self
            .workspace
            .as_ref()
            .map_or(0, |w| w.analysis.series.len());
        ui.add_enabled_ui(loaded, |ui| {
            if ui.button("Flame graph as shown (SVG)…").clicked()
                && let Some(k) = self.flame_view_export()
            {
                self.start_export(k);
                ui.close();
            }
            if ui
                .add_enabled(
                    self.selection.group().is_some(),
                    egui::Button::new("Selected suspect's flame graph (SVG)…"),
                )
                .clicked()
                && let Some(k) = self.selection.group().and_then(|g| self.group_export(g))
            {
                self.start_export(k);
                ui.close();
            }
            if ui
                .add_enabled(
                    series >= 2,
                    egui::Button::new("Growth, first → last snapshot (differential SVG)…"),
                )
                .clicked()
            {
                self.start_export(ExportKind::DiffFlame);
                ui.close();
            }
            if ui.button("Folded stacks of the flame graph…").clicked()
                && let Some(ExportKind::FlameView { tree, zoom, .. }) = self.flame_view_export()
            {
                self.start_export(ExportKind::Folded { tree, zoom });
                ui.close();
            }
            ui.separator();
            if ui.button("Incident report (HTML)…").clicked() {
                self.start_export(ExportKind::Report(
                    crate::export::report::ReportFormat::Html,
                ));
                ui.close();
            }
            if ui.button("Incident report (Markdown)…").clicked() {
                self.start_export(ExportKind::Report(
                    crate::export::report::ReportFormat::Markdown,
                ));
                ui.close();
            }
        });
    }

    pub(super) fn replace_dialog(&mut self, ctx: &egui::Context) {
        let Some(pending) = &self.replace else {
            return;
        };
        let mut decision = None;
        egui::Window::new("Replace the file?")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
            .show(ctx, |ui| {
                ui.label(format!("{} already exists.", pending.path.display()));
                ui.label(format!("Replace it with the {}?", pending.kind.describe()));
                ui.horizontal(|ui| {
                    if ui.button("Replace").clicked() {
                        decision = Some(true);
                    }
                    if ui.button("Keep the existing file").clicked() {
                        decision = Some(false);
                    }
                });
            });
        match decision {
            Some(true) => {
                if let Some(p) = self.replace.take() {
                    self.run_export(p.kind, p.path, true);
                }
            }
            Some(false) => self.replace = None,
            None => {}
        }
    }

    pub(super) fn selected_leak_site(&self) -> Option<String> {
        let ws = self.workspace.as_ref()?;
        let g = self.selection.group()?;
        let s = ws.analysis.suspects.iter().find(|s| s.group == g)?;
        Some(ws.session.stacks.function(s.leak_site?).to_owned())
    }
}
