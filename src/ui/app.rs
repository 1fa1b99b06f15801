//! The app: menus, panels and the two main views around one selection.
//!
//! Loading and analysis run in a background [`Job`]; this code only draws
//! and applies the actions views return after drawing, so views never reach
//! into each other and one selection highlights everywhere at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use egui::{Color32, Key, KeyboardShortcut, Modifiers, Ui};

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::lanes::LaneSource;
use crate::analysis::{self, AnalysisOptions, LabelMode};
use crate::jobs::{Job, Wake};
use crate::model::{Snapshot, SnapshotData};
use crate::ui::export::{self as ui_export, ExportKind, PendingReplace};
use crate::ui::flame::{FlameData, FlameEvent, FlameView, flame_ui};
use crate::ui::live::{self as ui_live, ConnectForm, LiveView};
use crate::ui::panels;
use crate::ui::state::{Action, Selection, ViewState};
use crate::ui::timeline::{TimelineData, TimelineView, timeline_ui};
use crate::workspace::{self, InputSpec, Workspace};

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    /// A finished action (an export written).
    Info,
}

/// A message shown in the app (never only in a terminal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
}

/// Which input the flame graph shows, which value, and what it is compared with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct FlameChoice {
    input: Option<usize>,
    value: usize,
    compare: Option<usize>,
}

struct FlameCache {
    key: (usize, FlameChoice),
    tree: Arc<FlameTree>,
    highlight_for: Option<Selection>,
    highlight: Vec<bool>,
}

/// A screenshot to save once everything is loaded and laid out.
struct Screenshot {
    path: PathBuf,
    frames_ready: u32,
    requested: bool,
}

pub struct LeakscopeApp {
    pub state: ViewState,
    pub selection: Selection,
    pub workspace: Option<Arc<Workspace>>,
    pub notices: Vec<Notice>,
    /// Bumped on every new workspace, so views refit and caches refresh.
    generation: usize,
    job: Option<Job<Option<Workspace>>>,
    loading: Vec<InputSpec>,
    pending: Option<Vec<InputSpec>>,
    wake: Option<Wake>,
    search: String,
    focus_search: bool,
    show_notices: bool,
    label_mode: LabelMode,
    timeline: TimelineView,
    flame_view: FlameView,
    flame: FlameChoice,
    flame_cache: Option<FlameCache>,
    dialog: Option<(Receiver<Option<Vec<PathBuf>>>, bool)>,
    screenshot: Option<Screenshot>,
    /// A suspect to select once loaded (regex on the leak site), from the command line.
    select_on_load: Option<String>,
    save_dialog: Option<(Receiver<Option<PathBuf>>, ExportKind)>,
    /// An export whose target exists, waiting for the user to confirm.
    pub replace: Option<PendingReplace>,
    export_job: Option<Job<(PathBuf, Result<(), String>)>>,
    /// The Connect dialog, while open.
    pub connect_form: Option<ConnectForm>,
    /// The live session, while connected.
    pub live: Option<LiveView>,
    /// Leak site of the selection, to select it again after a live reload.
    reselect: Option<String>,
}

impl LeakscopeApp {
    pub fn new(state: ViewState) -> LeakscopeApp {
        LeakscopeApp {
            state,
            selection: Selection::None,
            workspace: None,
            notices: Vec::new(),
            generation: 0,
            job: None,
            loading: Vec::new(),
            pending: None,
            wake: None,
            search: String::new(),
            focus_search: false,
            show_notices: false,
            label_mode: LabelMode::Auto,
            timeline: TimelineView::default(),
            flame_view: FlameView::default(),
            flame: FlameChoice::default(),
            flame_cache: None,
            dialog: None,
            screenshot: None,
            select_on_load: None,
            save_dialog: None,
            replace: None,
            export_job: None,
            connect_form: None,
            live: None,
            reselect: None,
        }
    }

    /// Saves a PNG of the window once loaded, then closes (for `--screenshot`).
    pub fn screenshot_to(&mut self, path: PathBuf) {
        self.screenshot = Some(Screenshot {
            path,
            frames_ready: 0,
            requested: false,
        });
    }

    /// Selects the first suspect whose leak site matches `pattern` once loaded.
    pub fn select_on_load(&mut self, pattern: String) {
        self.select_on_load = Some(pattern);
    }

    /// Loads inputs in the background, replacing the session.
    pub fn open(&mut self, inputs: Vec<InputSpec>) {
        if inputs.is_empty() {
            return;
        }
        let paths: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                InputSpec::Path(p) => Some(p.clone()),
                InputSpec::Bytes { .. } => None,
            })
            .collect();
        self.state.remember(&paths);
        match self.wake.clone() {
            Some(wake) => self.start_job(inputs, wake),
            None => self.pending = Some(inputs),
        }
    }

    /// Adds inputs to the current session (drag and drop, "Add to session").
    pub fn add(&mut self, inputs: Vec<InputSpec>) {
        let mut all = self
            .workspace
            .as_ref()
            .map(|w| w.inputs.clone())
            .unwrap_or_default();
        all.extend(inputs);
        self.open(all);
    }

    /// Loads and analyses on the calling thread (tests, benches).
    pub fn open_blocking(&mut self, inputs: Vec<InputSpec>) {
        let options = AnalysisOptions {
            labels: self.label_mode.clone(),
        };
        if let Some(ws) = workspace::build(inputs, &options, &crate::progress::Progress::none()) {
            self.install(ws);
        }
    }

    fn start_job(&mut self, inputs: Vec<InputSpec>, wake: Wake) {
        let options = AnalysisOptions {
            labels: self.label_mode.clone(),
        };
        self.loading = inputs.clone();
        self.job = Some(Job::spawn("load", wake, move |p| {
            workspace::build(inputs, &options, p)
        }));
    }

    /// Makes a loaded workspace current.
    pub fn install(&mut self, ws: Workspace) {
        self.notices.clear();
        for e in &ws.errors {
            self.notices.push(Notice {
                level: Level::Error,
                text: format!("could not load {e}"),
            });
        }
        for input in &ws.session.inputs {
            for w in input.warnings().iter() {
                self.notices.push(Notice {
                    level: Level::Warning,
                    text: format!("{}: {w}", input.source().path),
                });
            }
        }
        self.show_notices = ws.errors.iter().len() > 0;
        self.generation += 1;
        self.selection = Selection::None;
        self.flame = FlameChoice {
            input: default_flame_input(&ws),
            value: 0,
            compare: None,
        };
        self.flame_cache = None;
        self.flame_view = FlameView::default();
        if let Some(pattern) = self.select_on_load.take()
            && let Ok(re) = regex::Regex::new(&pattern)
        {
            let t = &ws.session.stacks;
            if let Some(s) = ws
                .analysis
                .suspects
                .iter()
                .find(|s| s.leak_site.is_some_and(|f| re.is_match(t.function(f))))
            {
                self.selection = Selection::Group(s.group);
            } else if let Some(i) = ws.trace.as_ref().and_then(|tr| {
                // No snapshot group matches: a trace's, by its entry function.
                tr.analysis
                    .leaks
                    .iter()
                    .position(|l| re.is_match(&l.entry_function))
            }) {
                self.selection = Selection::TraceGroup(i);
            }
        }
        if let Some(site) = self.reselect.take() {
            let t = &ws.session.stacks;
            if let Some(s) = ws
                .analysis
                .suspects
                .iter()
                .find(|s| s.leak_site.is_some_and(|f| t.function(f) == site))
            {
                self.selection = Selection::Group(s.group);
            }
        }
        self.workspace = Some(Arc::new(ws));
        self.apply(Action::Select(self.selection));
    }

    /// Shows an input in the flame graph (its first value column).
    pub fn show_in_flame(&mut self, input: usize) {
        self.flame = FlameChoice {
            input: Some(input),
            value: 0,
            compare: None,
        };
        self.flame_view.zoom = 0;
    }

    pub fn is_loading(&self) -> bool {
        self.job.is_some() || self.pending.is_some()
    }

    /// Takes finished work and dropped files; call once per frame.
    fn poll(&mut self, ctx: &egui::Context) {
        if self.wake.is_none() {
            let c = ctx.clone();
            self.wake = Some(Arc::new(move || c.request_repaint()));
        }
        if let (Some(inputs), Some(wake)) = (self.pending.take(), self.wake.clone()) {
            self.start_job(inputs, wake);
        }
        if let Some(job) = &mut self.job {
            if let Some(result) = job.try_take() {
                self.job = None;
                match result {
                    Some(ws) => self.install(ws),
                    None => self.notices.push(Notice {
                        level: Level::Warning,
                        text: "loading was cancelled".into(),
                    }),
                }
            } else if job.is_done() {
                self.job = None;
                self.notices.push(Notice {
                    level: Level::Error,
                    text: "loading failed: the worker stopped without a result".into(),
                });
            } else {
                ctx.request_repaint_after(std::time::Duration::from_millis(100));
            }
        }
        if let Some((rx, add)) = &self.dialog {
            let add = *add;
            match rx.try_recv() {
                Ok(files) => {
                    self.dialog = None;
                    if let Some(files) = files {
                        let inputs = files.into_iter().map(InputSpec::Path).collect();
                        if add {
                            self.add(inputs)
                        } else {
                            self.open(inputs)
                        }
                    }
                }
                Err(TryRecvError::Disconnected) => self.dialog = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        let mut reload = None;
        if let Some(live) = &mut self.live {
            live.drain();
            if live.dirty && self.job.is_none() {
                live.dirty = false;
                reload = Some(live.session_dir().to_path_buf());
            }
            if live.stopped.is_none() {
                ctx.request_repaint_after(std::time::Duration::from_millis(250));
            }
        }
        if let Some(dir) = reload {
            self.reselect = self.selected_leak_site();
            self.open(vec![InputSpec::Path(dir)]);
        }
        if let Some((rx, kind)) = &self.save_dialog {
            match rx.try_recv() {
                Ok(path) => {
                    let kind = kind.clone();
                    self.save_dialog = None;
                    if let Some(path) = path {
                        self.export_to(kind, path);
                    }
                }
                Err(TryRecvError::Disconnected) => self.save_dialog = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        self.poll_export();
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.add(dropped.into_iter().map(InputSpec::Path).collect());
        }
    }

    fn open_dialog(&mut self, add: bool) {
        let (tx, rx) = std::sync::mpsc::channel();
        let wake = self.wake.clone();
        // The dialog blocks while open: keep it off the UI thread.
        let spawned = std::thread::Builder::new()
            .name("leakscope-dialog".into())
            .spawn(move || {
                let files = rfd::FileDialog::new()
                    .set_title("Open Go profiles, dumps or traces")
                    .pick_files();
                tx.send(files).ok();
                if let Some(w) = wake {
                    w();
                }
            });
        if spawned.is_ok() {
            self.dialog = Some((rx, add));
        }
    }

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
    fn poll_export(&mut self) -> bool {
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
        let input = self.flame.input?;
        Some(ExportKind::FlameView {
            tree: Arc::clone(&cache.tree),
            spec: crate::export::FlameSpec {
                input,
                value_index: Some(self.flame.value),
                group: None,
                focus: None,
            },
            zoom: self.flame_view.zoom,
            search: (!self.search.trim().is_empty())
                .then(|| regex::Regex::new(&format!("(?i){}", self.search.trim())).ok())
                .flatten(),
            upward: self.state.flame_upward,
        })
    }

    fn group_export(&self, group: usize) -> Option<ExportKind> {
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

    fn export_menu_ui(&mut self, ui: &mut Ui) {
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

    fn replace_dialog(&mut self, ctx: &egui::Context) {
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

    fn selected_leak_site(&self) -> Option<String> {
        let ws = self.workspace.as_ref()?;
        let g = self.selection.group()?;
        let s = ws.analysis.suspects.iter().find(|s| s.group == g)?;
        Some(ws.session.stacks.function(s.leak_site?).to_owned())
    }

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

    fn connect_window(&mut self, ctx: &egui::Context) {
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

    fn live_controls_ui(&mut self, ui: &mut Ui) {
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

    /// Sets the search / lane filter text, as typing in the top bar does.
    pub fn set_search(&mut self, text: &str) {
        self.search = text.to_owned();
    }

    /// The lanes the timeline lists, in order, after filtering.
    pub fn timeline_lanes(&self) -> &[u32] {
        self.timeline.order()
    }

    /// The time range the timeline shows, ns.
    pub fn timeline_range(&self) -> (i64, i64) {
        (self.timeline.t0, self.timeline.t1)
    }

    /// Fits the timeline to the selected goroutines: from the first
    /// creation to the last end (or the window's end for those alive).
    pub fn zoom_to_selection(&mut self) {
        let Some(lanes) = self.active_lanes() else {
            return;
        };
        let (w0, w1) = lanes.window();
        let mut range: Option<(i64, i64)> = None;
        for l in self.highlighted_lanes() {
            let info = lanes.lane(l as usize);
            let a = info.created_ns.unwrap_or(w0).max(w0);
            let b = info.ended_ns.unwrap_or(w1).min(w1);
            range = Some(range.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        if let Some((a, b)) = range {
            self.timeline.zoom_to(a, b);
        }
    }

    /// Selects as a click would (tests, command line).
    pub fn select(&mut self, selection: Selection) {
        self.apply(Action::Select(selection));
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Select(sel) => {
                self.selection = sel;
                if let Some(&lane) = self.highlighted_lanes().first() {
                    self.timeline.jump_to(lane, None);
                }
            }
            Action::JumpTo { lane, time_ns } => {
                self.timeline.jump_to(lane, Some(time_ns));
            }
            Action::ExportGroup(g) => {
                if let Some(k) = self.group_export(g) {
                    self.start_export(k);
                }
            }
        }
    }

    /// Whether the timeline shows the trace's goroutines.
    pub fn showing_trace(&self) -> bool {
        self.state.timeline_trace && self.workspace.as_ref().is_some_and(|w| w.trace.is_some())
    }

    /// The lanes the timeline shows.
    pub fn active_lanes(&self) -> Option<Arc<dyn LaneSource>> {
        let ws = self.workspace.as_ref()?;
        match &ws.trace {
            Some(t) if self.state.timeline_trace => Some(t.lanes.clone() as Arc<dyn LaneSource>),
            _ => Some(Arc::clone(&ws.lanes)),
        }
    }

    /// Lanes of the selection on the timeline shown, sorted (also for tests).
    pub fn highlighted_lanes(&self) -> Vec<u32> {
        let Some(ws) = &self.workspace else {
            return Vec::new();
        };
        match self.selection {
            Selection::None => Vec::new(),
            Selection::Group(g) => self
                .active_lanes()
                .map(|l| l.lanes_of_group(g as u32).to_vec())
                .unwrap_or_default(),
            Selection::TraceGroup(i) => match &ws.trace {
                Some(t) if self.showing_trace() => t.lanes.lanes_of_leak(i).to_vec(),
                _ => Vec::new(),
            },
        }
    }

    /// Flame graph boxes highlighted for the selection (for tests).
    pub fn highlighted_flame_nodes(&mut self) -> Vec<NodeId> {
        self.refresh_flame();
        self.flame_cache
            .as_ref()
            .map(|c| {
                c.highlight
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| **h)
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The total weight of the flame graph shown (for tests).
    pub fn flame_root_total(&mut self) -> u64 {
        self.refresh_flame();
        self.flame_cache.as_ref().map_or(0, |c| c.tree.root_total())
    }

    /// The function names of the highlighted flame boxes (for tests).
    pub fn highlighted_flame_functions(&mut self) -> Vec<String> {
        let nodes = self.highlighted_flame_nodes();
        match (&self.flame_cache, &self.workspace) {
            (Some(c), Some(ws)) => nodes
                .into_iter()
                .filter(|&n| n != 0)
                .map(|n| ws.session.stacks.str(c.tree.nodes[n].function).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn refresh_flame(&mut self) {
        let Some(ws) = self.workspace.clone() else {
            self.flame_cache = None;
            return;
        };
        let key = (self.generation, self.flame);
        if self.flame_cache.as_ref().map(|c| c.key) != Some(key) {
            let tree = Arc::new(build_flame(&ws, self.flame));
            self.flame_cache = Some(FlameCache {
                key,
                highlight: vec![false; tree.nodes.len()],
                tree,
                highlight_for: None,
            });
        }
        let sel = self.selection;
        if let Some(cache) = &mut self.flame_cache
            && cache.highlight_for != Some(sel)
        {
            cache.highlight = vec![false; cache.tree.nodes.len()];
            let stacks = match sel {
                Selection::None => Vec::new(),
                Selection::Group(g) => group_stacks_in(&ws, g, self.flame.input),
                Selection::TraceGroup(i) => ws
                    .trace
                    .as_ref()
                    .and_then(|t| t.analysis.leaks.get(i))
                    .map(|l| vec![l.blocking_stack, l.start_stack])
                    .unwrap_or_default(),
            };
            for stack in stacks {
                for n in cache.tree.path_of(&ws.session.stacks, stack) {
                    cache.highlight[n] = true;
                }
            }
            if sel != Selection::None
                && let Some(h) = cache.highlight.first_mut()
            {
                *h = true;
            }
            cache.highlight_for = Some(sel);
        }
    }

    /// The group a flame box stands for: the growing, then largest, group
    /// whose stacks pass through it.
    fn group_of_flame_node(&self, node: NodeId) -> Option<usize> {
        let ws = self.workspace.as_ref()?;
        let cache = self.flame_cache.as_ref()?;
        let mut best: Option<(bool, u64, usize)> = None;
        for s in &ws.analysis.suspects {
            let through = group_stacks_in(ws, s.group, self.flame.input)
                .into_iter()
                .any(|st| cache.tree.path_of(&ws.session.stacks, st).contains(&node));
            if through {
                let cand = (
                    s.growth.growing,
                    ws.analysis.groups[s.group].last_count(),
                    s.group,
                );
                if best.is_none_or(|b| (cand.0, cand.1) > (b.0, b.1)) {
                    best = Some(cand);
                }
            }
        }
        best.map(|b| b.2)
    }

    /// Draws the whole app; eframe and the UI tests both call this.
    pub fn ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        self.shortcuts(&ctx);
        self.top_bar_ui(ui);
        self.status_bar_ui(ui);
        if self.workspace.is_some() {
            self.lower_panel_ui(ui);
            self.suspects_panel_ui(ui);
        }
        egui::CentralPanel::default().show(ui, |ui| self.central_ui(ui));
        self.notices_window(&ctx);
        self.connect_window(&ctx);
        self.replace_dialog(&ctx);
        self.screenshot_step(&ctx);
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let find = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.open_dialog(false);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&find)) {
            self.focus_search = true;
        }
        if self.selection != Selection::None
            && !ctx.egui_wants_keyboard_input()
            && ctx.input(|i| i.key_pressed(Key::Z))
        {
            self.zoom_to_selection();
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            self.selection = Selection::None;
            self.search.clear();
        }
    }

    fn top_bar_ui(&mut self, ui: &mut Ui) {
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

    fn status_bar_ui(&mut self, ui: &mut Ui) {
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

    fn notices_window(&mut self, ctx: &egui::Context) {
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

    fn suspects_panel_ui(&mut self, ui: &mut Ui) {
        let Some(ws) = self.workspace.clone() else {
            return;
        };
        let action = egui::Panel::left("suspects")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| panels::suspects_ui(ui, &ws, self.selection))
            .inner;
        if let Some(a) = action {
            self.apply(a);
        }
    }

    fn lower_panel_ui(&mut self, ui: &mut Ui) {
        let Some(ws) = self.workspace.clone() else {
            return;
        };
        let action = egui::Panel::bottom("lower")
            .resizable(true)
            .default_size(210.0)
            .show(ui, |ui| {
                let mut action = None;
                ui.columns(2, |cols| {
                    cols[0].strong("Goroutines over time");
                    let lanes = self.active_lanes();
                    let selected = self.highlighted_lanes();
                    if let (Some(t), true) = (&ws.trace, self.showing_trace()) {
                        panels::trace_plot_ui(&mut cols[0], &ws, t, self.selection, &selected);
                    } else {
                        panels::plot_ui(&mut cols[0], &ws, self.selection);
                    }
                    if let Some(lanes) = lanes {
                        action = panels::events_ui(
                            &mut cols[1],
                            lanes.as_ref(),
                            &ws.session.stacks,
                            self.selection,
                            &selected,
                        );
                    }
                });
                action
            })
            .inner;
        if let Some(a) = action {
            self.apply(a);
        }
    }

    fn central_ui(&mut self, ui: &mut Ui) {
        let Some(ws) = self.workspace.clone() else {
            self.empty_state_ui(ui);
            return;
        };
        let errors: Vec<String> = self
            .notices
            .iter()
            .filter(|n| n.level == Level::Error)
            .map(|n| n.text.clone())
            .collect();
        for e in &errors {
            ui.colored_label(Color32::RED, e);
        }
        let full = ui.available_rect_before_wrap();
        let split = self.state.split.clamp(0.15, 0.85);
        let left_w = (full.width() * split).round();
        let left = egui::Rect::from_min_size(full.min, egui::vec2(left_w - 3.0, full.height()));
        let handle = egui::Rect::from_min_size(
            egui::pos2(full.left() + left_w - 3.0, full.top()),
            egui::vec2(6.0, full.height()),
        );
        let right =
            egui::Rect::from_min_max(egui::pos2(full.left() + left_w + 3.0, full.top()), full.max);
        let h = ui.interact(handle, ui.scope_id().with("split"), egui::Sense::drag());
        if h.dragged() {
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

        let mut action = None;
        let mut left_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(left)
                .id_salt("timeline-pane"),
        );
        left_ui.horizontal(|ui| {
            ui.strong("Goroutine timeline");
            match &ws.trace {
                Some(t) => {
                    let s = &t.analysis.summary;
                    ui.selectable_value(
                        &mut self.state.timeline_trace,
                        true,
                        format!("trace ({})", s.go_version),
                    )
                    .on_hover_text("the execution trace: every state change in its window");
                    ui.selectable_value(&mut self.state.timeline_trace, false, "snapshots")
                        .on_hover_text("the goroutine snapshots over their capture times");
                }
                None => {
                    ui.weak("(snapshots)");
                }
            }
        });
        if self.state.show_legend {
            panels::legend_ui(&mut left_ui);
        }
        let lanes = self.active_lanes().unwrap_or_else(|| Arc::clone(&ws.lanes));
        let selected = self.highlighted_lanes();
        let data = TimelineData {
            lanes: lanes.as_ref(),
            table: &ws.session.stacks,
            generation: self.generation * 2 + usize::from(self.showing_trace()),
            selection: self.selection,
            selected_lanes: &selected,
            filter: &self.search,
            by_creation: self.state.lanes_by_creation,
            lane_height: self.state.lane_height,
        };
        if let Some(a) = timeline_ui(&mut left_ui, &mut self.timeline, &data) {
            action = Some(a);
        }

        let mut right_ui =
            ui.new_child(egui::UiBuilder::new().max_rect(right).id_salt("flame-pane"));
        self.flame_header_ui(&mut right_ui, &ws);
        self.refresh_flame();
        let unit = flame_unit(&ws, self.flame);
        if let Some(cache) = &self.flame_cache {
            let data = FlameData {
                tree: &cache.tree,
                table: &ws.session.stacks,
                unit: &unit,
                highlight: &cache.highlight,
                search: &self.search,
                upward: self.state.flame_upward,
            };
            if let Some(FlameEvent::Clicked(node)) =
                flame_ui(&mut right_ui, &mut self.flame_view, &data)
                && let Some(g) = self.group_of_flame_node(node)
            {
                action = Some(Action::Select(Selection::Group(g)));
            }
        }
        ui.advance_cursor_after_rect(full);
        if let Some(a) = action {
            self.apply(a);
        }
    }

    fn flame_header_ui(&mut self, ui: &mut Ui, ws: &Workspace) {
        ui.horizontal(|ui| {
            ui.strong("Flame graph");
            if ui
                .small_button("Export SVG…")
                .on_hover_text("the flame graph as shown: zoom, search and all")
                .clicked()
                && let Some(k) = self.flame_view_export()
            {
                self.start_export(k);
            }
            let name = |i: usize| {
                let s = ws.session.inputs[i].source();
                let file = s.path.rsplit('/').next().unwrap_or(&s.path).to_owned();
                match &s.profile_type {
                    Some(p) => format!("{file} ({})", p.name()),
                    None if ws.session.inputs[i].as_trace().is_some() => {
                        format!("{file} (goroutines at its end)")
                    }
                    None => file,
                }
            };
            // Snapshots first, then traces (their goroutines at the end).
            let choices: Vec<usize> = (0..ws.session.inputs.len())
                .filter(|&i| ws.session.inputs[i].as_snapshot().is_some())
                .chain(
                    (0..ws.session.inputs.len())
                        .filter(|&i| ws.session.inputs[i].as_trace().is_some()),
                )
                .collect();
            let current = self.flame.input.map_or("—".to_owned(), name);
            egui::ComboBox::new("flame-input", "input")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for &i in &choices {
                        if ui
                            .selectable_label(self.flame.input == Some(i), name(i))
                            .clicked()
                        {
                            self.flame = FlameChoice {
                                input: Some(i),
                                value: 0,
                                compare: None,
                            };
                            self.flame_view.zoom = 0;
                        }
                    }
                });
            if let Some(p) = self
                .flame
                .input
                .and_then(|i| ws.session.inputs[i].as_snapshot())
                .and_then(Snapshot::samples)
                && p.sample_types.len() > 1
            {
                let t = &ws.session.stacks;
                let label = |i: usize| t.str(p.sample_types[i].kind).to_owned();
                egui::ComboBox::new("flame-value", "value")
                    .selected_text(label(self.flame.value.min(p.sample_types.len() - 1)))
                    .show_ui(ui, |ui| {
                        for i in 0..p.sample_types.len() {
                            ui.selectable_value(&mut self.flame.value, i, label(i));
                        }
                    });
            }
            let goroutine_inputs: Vec<usize> = ws.analysis.series.iter().map(|p| p.input).collect();
            if goroutine_inputs.len() >= 2
                && self
                    .flame
                    .input
                    .is_some_and(|i| goroutine_inputs.contains(&i))
            {
                let compare = self
                    .flame
                    .compare
                    .map_or("compare with…".to_owned(), |c| format!("vs {}", name(c)));
                egui::ComboBox::new("flame-compare", "diff")
                    .selected_text(compare)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.flame.compare, None, "no comparison");
                        for &i in &goroutine_inputs {
                            if Some(i) != self.flame.input {
                                ui.selectable_value(
                                    &mut self.flame.compare,
                                    Some(i),
                                    format!("growth since {}", name(i)),
                                );
                            }
                        }
                    });
            }
        });
    }

    fn empty_state_ui(&mut self, ui: &mut Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            if let Some(job) = &self.job {
                ui.spinner();
                let p = job.progress();
                ui.label(format!("{}…", p.stage()));
                ui.add(
                    egui::ProgressBar::new(p.fraction())
                        .desired_width(300.0)
                        .show_percentage(),
                );
                if ui.button("Cancel").clicked() {
                    job.cancel();
                }
                return;
            }
            ui.heading("leakscope");
            ui.label("Open pprof profiles, goroutine dumps or execution traces of a Go service.");
            ui.label("Drop files here, or:");
            if ui.button("Open…").clicked() {
                self.open_dialog(false);
            }
            if ui.button("Open the demo session").clicked() {
                self.open(crate::ui::demo_inputs());
            }
            for n in &self.notices {
                ui.colored_label(Color32::RED, &n.text);
            }
        });
    }

    fn screenshot_step(&mut self, ctx: &egui::Context) {
        let ready = self.workspace.is_some() && !self.is_loading();
        let Some(shot) = &mut self.screenshot else {
            return;
        };
        ctx.request_repaint();
        if !ready {
            return;
        }
        shot.frames_ready += 1;
        if shot.frames_ready < 5 || shot.requested {
            return;
        }
        shot.requested = true;
        let path = shot.path.clone();
        let c = ctx.clone();
        ctx.request_screenshot(move |img: Arc<egui::ColorImage>| {
            let [w, h] = img.size;
            let rgba: Vec<u8> = img.pixels.iter().flat_map(|p| p.to_array()).collect();
            if let Err(e) =
                image::save_buffer(&path, &rgba, w as u32, h as u32, image::ColorType::Rgba8)
            {
                eprintln!("leakscope: {}: {e}", path.display());
            }
            c.send_viewport_cmd(egui::ViewportCommand::Close);
        });
    }
}

fn theme_ok() -> Color32 {
    Color32::from_rgb(67, 160, 71)
}

fn default_flame_input(ws: &Workspace) -> Option<usize> {
    let inputs = &ws.session.inputs;
    ws.analysis
        .series
        .last()
        .map(|p| p.input)
        .or_else(|| (0..inputs.len()).find(|&i| inputs[i].as_snapshot().is_some()))
        .or_else(|| (0..inputs.len()).find(|&i| inputs[i].as_trace().is_some()))
}

fn build_flame(ws: &Workspace, choice: FlameChoice) -> FlameTree {
    let snap = |i: Option<usize>| {
        i.and_then(|i| ws.session.inputs.get(i))
            .and_then(|x| x.as_snapshot())
    };
    if let Some(t) = choice
        .input
        .and_then(|i| ws.session.inputs.get(i))
        .and_then(|x| x.as_trace())
    {
        return FlameTree::build(&ws.session.stacks, analysis::trace::stacks_at_end(t));
    }
    let Some(s) = snap(choice.input) else {
        return FlameTree::default();
    };
    let now = FlameTree::snapshot_weights(s, choice.value);
    match snap(choice.compare) {
        Some(base) => FlameTree::build_diff(
            &ws.session.stacks,
            FlameTree::snapshot_weights(base, choice.value),
            now,
        ),
        None => FlameTree::build(&ws.session.stacks, now),
    }
}

fn flame_unit(ws: &Workspace, choice: FlameChoice) -> String {
    if choice
        .input
        .and_then(|i| ws.session.inputs.get(i))
        .is_some_and(|x| x.as_trace().is_some())
    {
        return "goroutines".into();
    }
    let Some(s) = choice
        .input
        .and_then(|i| ws.session.inputs.get(i))
        .and_then(|x| x.as_snapshot())
    else {
        return String::new();
    };
    match &s.data {
        SnapshotData::Goroutines(_) => "goroutines".into(),
        SnapshotData::Samples(p) => p
            .sample_types
            .get(choice.value)
            .map_or(String::new(), |v| ws.session.stacks.str(v.unit).to_owned()),
    }
}

/// Stacks of a group's goroutines in one input (all of them if the input is
/// not part of the series).
fn group_stacks_in(
    ws: &Workspace,
    group: usize,
    input: Option<usize>,
) -> Vec<crate::model::StackId> {
    let Some(g) = ws.analysis.groups.get(group) else {
        return Vec::new();
    };
    let series = input.and_then(|i| ws.analysis.series.iter().position(|p| p.input == i));
    let snaps = ws.analysis.series_snapshots(&ws.session);
    let mut out: Vec<crate::model::StackId> = match series {
        Some(si) => g
            .members
            .iter()
            .filter(|m| m.snapshot as usize == si)
            .filter_map(|m| record_stack(snaps.get(si)?, m.record as usize))
            .collect(),
        None => Vec::new(),
    };
    out.push(g.stack);
    out.sort_unstable();
    out.dedup();
    out
}

fn record_stack(s: &Snapshot, record: usize) -> Option<crate::model::StackId> {
    match &s.data {
        SnapshotData::Goroutines(gs) => gs.get(record).map(|g| g.stack),
        SnapshotData::Samples(p) => p.samples.get(record).map(|x| x.stack),
    }
}

impl eframe::App for LeakscopeApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        LeakscopeApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
