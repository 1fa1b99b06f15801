//! The exporter: asking where to save (the save dialog runs as a job, since
//! it blocks while open), writing off the UI thread, and the confirmation
//! before replacing a file. What is written is [`crate::ui::export`].

use std::path::PathBuf;
use std::sync::Arc;

use egui::Ui;

use crate::export::report::ReportFormat;
use crate::jobs::{Job, Wake};
use crate::ui::export::{self as ui_export, ExportKind, PendingReplace};
use crate::ui::state::{Action, ExportRequest, Notice};
use crate::ui::workspace::Workspace;

/// The exporter between frames.
#[derive(Default)]
pub struct Exporter {
    /// The save dialog while it is up, and what it saves.
    save_dialog: Option<(Job<Option<PathBuf>>, ExportKind)>,
    job: Option<Job<(PathBuf, Result<(), String>)>>,
    /// An export whose target exists, waiting for the user to confirm.
    pub replace: Option<PendingReplace>,
}

impl Exporter {
    /// Asks where to save an export, off the UI thread.
    pub fn ask(&mut self, kind: ExportKind, wake: Wake) {
        let (name, label, ext) = kind.suggestion();
        let job = Job::spawn("save-dialog", wake, move |_| {
            rfd::FileDialog::new()
                .set_title("Export")
                .set_file_name(name)
                .add_filter(label, &[ext])
                .save_file()
        });
        self.save_dialog = Some((job, kind));
    }

    /// Exports to `path`; an existing file waits for confirmation.
    pub fn export_to(&mut self, kind: ExportKind, path: PathBuf, ws: &Arc<Workspace>, wake: Wake) {
        if path.exists() {
            self.replace = Some(PendingReplace { kind, path });
        } else {
            self.run(kind, path, false, ws, wake);
        }
    }

    /// Replaces the file in the way (`true`) or keeps it and drops the export.
    pub fn confirm(&mut self, replace: bool, ws: &Arc<Workspace>, wake: Wake) {
        if let Some(p) = self.replace.take()
            && replace
        {
            self.run(p.kind, p.path, true, ws, wake);
        }
    }

    fn run(
        &mut self,
        kind: ExportKind,
        path: PathBuf,
        force: bool,
        ws: &Arc<Workspace>,
        wake: Wake,
    ) {
        let ws = Arc::clone(ws);
        self.job = Some(Job::spawn("export", wake, move |_| {
            let r = ui_export::run(&ws, &kind, &path, force).map_err(|e| e.to_string());
            (path, r)
        }));
    }

    /// An export is being written.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Takes the save dialog's choice (and exports there) and a finished
    /// export's result.
    pub fn logic(&mut self, ws: Option<&Arc<Workspace>>, wake: &Wake) -> Option<Notice> {
        let closed = match &mut self.save_dialog {
            Some((job, _)) => match job.try_take() {
                Some(path) => Some(path),
                // No answer and done: the dialog could not open.
                None => job.is_done().then_some(None),
            },
            None => None,
        };
        if let Some(path) = closed
            && let Some((_, kind)) = self.save_dialog.take()
            && let (Some(path), Some(ws)) = (path, ws)
        {
            self.export_to(kind, path, ws, Arc::clone(wake));
        }
        self.take_result()
    }

    /// A finished export as a notice.
    pub fn take_result(&mut self) -> Option<Notice> {
        let job = self.job.as_mut()?;
        let notice = match job.try_take() {
            Some((path, Ok(()))) => Some(Notice::info(format!("saved {}", path.display()))),
            Some((_, Err(e))) => Some(Notice::error(format!("export failed: {e}"))),
            None if job.is_done() => None,
            None => return None,
        };
        self.job = None;
        notice
    }

    /// Asks before an export replaces a file.
    pub fn replace_dialog_ui(&self, ctx: &egui::Context) -> Option<Action> {
        let pending = self.replace.as_ref()?;
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
        decision.map(Action::ConfirmReplace)
    }
}

/// What File ▸ Export offers.
pub struct ExportMenu {
    pub loaded: bool,
    /// Goroutine snapshots in the series (a growth graph needs two).
    pub snapshots: usize,
    pub group: Option<usize>,
}

/// File ▸ Export.
pub fn export_menu_ui(ui: &mut Ui, menu: &ExportMenu) -> Option<Action> {
    let mut chosen = None;
    ui.add_enabled_ui(menu.loaded, |ui| {
        let mut item = |ui: &mut Ui, enabled: bool, text: &str, what: ExportRequest| {
            if ui.add_enabled(enabled, egui::Button::new(text)).clicked() {
                chosen = Some(what);
                ui.close();
            }
        };
        item(
            ui,
            true,
            "Flame graph as shown (SVG)…",
            ExportRequest::FlameView,
        );
        item(
            ui,
            menu.group.is_some(),
            "Selected suspect's flame graph (SVG)…",
            ExportRequest::Group(menu.group.unwrap_or_default()),
        );
        item(
            ui,
            menu.snapshots >= 2,
            "Growth, first to last snapshot (differential SVG)…",
            ExportRequest::Growth,
        );
        item(
            ui,
            true,
            "Folded stacks of the flame graph…",
            ExportRequest::Folded,
        );
        ui.separator();
        item(
            ui,
            true,
            "Incident report (HTML)…",
            ExportRequest::Report(ReportFormat::Html),
        );
        item(
            ui,
            true,
            "Incident report (Markdown)…",
            ExportRequest::Report(ReportFormat::Markdown),
        );
    });
    chosen.map(Action::Export)
}
