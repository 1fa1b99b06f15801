//! The exporter: asking where to save (the save dialog runs as a job, since
//! it blocks while open), writing off the UI thread, and the confirmation
//! before replacing a file. What is written is [`crate::ui::export`].
//!
//! The save dialog is the desktop's (an xdg-desktop-portal on the session
//! bus, else zenity). Where neither exists, asking used to do nothing at
//! all; now the app says why and asks for a path in a field of its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::Ui;

use crate::export::report::ReportFormat;
use crate::jobs::{Job, Wake};
use crate::ui::export::{self as ui_export, ExportKind, PendingReplace};
use crate::ui::state::{Action, ExportRequest, Notice};
use crate::ui::workspace::Workspace;

/// A dialog that gives up sooner than this did not open: nobody answers a
/// save dialog in a quarter of a second.
const DIALOG_FAILED_WITHIN: Duration = Duration::from_millis(250);

/// Asking for a path in the app, where no file dialog can open.
pub struct PathForm {
    /// What the typed path is for.
    pub kind: ExportKind,
    /// The path being typed (used where no file dialog can open).
    pub path: String,
    /// Why the desktop's dialog is not used.
    pub why: String,
}

/// The exporter between frames.
#[derive(Default)]
pub struct Exporter {
    /// The save dialog while it is up, what it saves, and when it opened.
    save_dialog: Option<(Job<Option<PathBuf>>, ExportKind, Instant)>,
    /// The path field, where no dialog could open.
    pub path_form: Option<PathForm>,
    /// Why no file dialog can open, when known before trying (tests set it).
    pub no_dialog: Option<String>,
    job: Option<Job<(PathBuf, Result<(), String>)>>,
    /// An export whose target exists, waiting for the user to confirm.
    pub replace: Option<PendingReplace>,
}

impl Exporter {
    /// Asks where to save an export, off the UI thread.
    pub fn ask(&mut self, kind: ExportKind, wake: Wake) {
        if let Some(why) = self.no_dialog.clone().or_else(no_file_dialog) {
            self.ask_for_path(kind, why);
            return;
        }
        let (name, label, ext) = kind.suggestion();
        let job = Job::spawn("save-dialog", wake, move |_| {
            rfd::FileDialog::new()
                .set_title("Export")
                .set_file_name(name)
                .add_filter(label, &[ext])
                .save_file()
        });
        self.save_dialog = Some((job, kind, Instant::now()));
    }

    /// Opens the path field for `kind`, saying why.
    fn ask_for_path(&mut self, kind: ExportKind, why: String) {
        let (name, _, _) = kind.suggestion();
        let path = std::env::current_dir()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| PathBuf::from(name));
        self.path_form = Some(PathForm {
            kind,
            path: path.display().to_string(),
            why,
        });
    }

    /// The path field's answer: export there, or (`None`) drop the export.
    pub fn save_at(&mut self, path: Option<PathBuf>, ws: &Arc<Workspace>, wake: Wake) {
        if let (Some(form), Some(path)) = (self.path_form.take(), path) {
            self.export_to(form.kind, path, ws, wake);
        }
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
            Some((job, _, _)) => match job.try_take() {
                Some(path) => Some(path),
                // No answer and done: the dialog could not open.
                None => job.is_done().then_some(None),
            },
            None => None,
        };
        if let Some(path) = closed
            && let Some((_, kind, opened)) = self.save_dialog.take()
        {
            match (path, ws) {
                (Some(path), Some(ws)) => self.export_to(kind, path, ws, Arc::clone(wake)),
                (None, _) if opened.elapsed() < DIALOG_FAILED_WITHIN => self.ask_for_path(
                    kind,
                    "the file dialog closed as it opened: no xdg-desktop-portal answered \
                     on the session bus, and zenity is not installed"
                        .to_owned(),
                ),
                _ => {}
            }
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

    /// The path field, where no file dialog can open: why, the path, Save.
    pub fn path_form_ui(&mut self, ctx: &egui::Context) -> Option<Action> {
        let form = self.path_form.as_mut()?;
        let mut answer = None;
        egui::Window::new("Export to a file")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
            .show(ctx, |ui| {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("No file dialog can open: {}.", form.why),
                );
                ui.label(format!("Save the {} to:", form.kind.describe()));
                let field = ui.add(
                    egui::TextEdit::singleline(&mut form.path)
                        .desired_width(460.0)
                        .hint_text("path of the file to write"),
                );
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    let path = form.path.trim();
                    let save = ui.add_enabled(!path.is_empty(), egui::Button::new("Save"));
                    if (save.clicked() || entered) && !path.is_empty() {
                        answer = Some(Some(PathBuf::from(path)));
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(None);
                    }
                });
            });
        answer.map(Action::SaveExportAt)
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
    /// Whether a session is loaded (every export needs one).
    pub loaded: bool,
    /// Goroutine snapshots in the series (a growth graph needs two).
    pub snapshots: usize,
    /// The selected group, for its own flame graph.
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

/// Why no file dialog can open here, when that is plain before trying: no
/// session bus for an xdg-desktop-portal and no zenity to fall back on.
pub fn no_file_dialog() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|d| std::path::Path::new(&d).join("bus").exists());
    let zenity = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join("zenity").is_file()));
    (!bus && !zenity).then(|| {
        "no D-Bus session bus for an xdg-desktop-portal, and zenity is not installed".to_owned()
    })
}
