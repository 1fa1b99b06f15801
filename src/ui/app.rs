//! The app: menus, panels and the two main views around one selection.
//!
//! Loading and analysis run in a background [`Job`]; this code only draws
//! and applies the actions views return after drawing, so views never reach
//! into each other and one selection highlights everywhere at once.
//!
//! The app's state and its panels are here; the menu and status bars
//! (`chrome`), exports, the live connection and what the flame graph is
//! drawn from (`flame_input`) are methods of the same app in submodules.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use egui::{Color32, Key, KeyboardShortcut, Modifiers, Ui};

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::flame_spec::{self, FlameSpec};
use crate::analysis::lanes::LaneSource;
use crate::analysis::{AnalysisOptions, LabelMode};
use crate::jobs::{Job, Wake};
use crate::model::SnapshotData;
use crate::ui::export::{self as ui_export, ExportKind, PendingReplace};
use crate::ui::flame::{FlameData, FlameView, flame_ui};
use crate::ui::live::{self as ui_live, ConnectForm, LiveView};
use crate::ui::panels;
use crate::ui::state::{Action, Selection, ViewState};
use crate::ui::timeline::{TimelineData, TimelinePane, legend_ui};
use crate::ui::workspace::{self, InputSpec, Workspace};

mod chrome;
mod connection;
mod exports;
mod flame_input;

use flame_input::flame_unit;

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

struct FlameCache {
    /// The workspace generation and the spec the tree was built for.
    key: (usize, FlameSpec),
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
    timeline: TimelinePane,
    flame_view: FlameView,
    /// What the flame graph shows; `None` with nothing to show.
    flame: Option<FlameSpec>,
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
    /// Inputs to add once the running job is done.
    queued: Vec<ui_live::Arrival>,
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
            timeline: TimelinePane::default(),
            flame_view: FlameView::default(),
            flame: None,
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
            queued: Vec::new(),
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

    /// Adds inputs to the current session (drag and drop, "Add to
    /// session"): only the new inputs are read.
    pub fn add(&mut self, inputs: Vec<InputSpec>) {
        if self.workspace.is_none() {
            return self.open(inputs);
        }
        let paths: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                InputSpec::Path(p) => Some(p.clone()),
                InputSpec::Bytes { .. } => None,
            })
            .collect();
        self.state.remember(&paths);
        self.queued
            .extend(inputs.into_iter().map(ui_live::Arrival::Input));
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

    /// Adds live captures to the findings in the background: only the new
    /// captures are read, the rest of the session is shared.
    fn append_job(&mut self, arrived: Vec<ui_live::Arrival>) {
        let wake = self.wake.clone().unwrap_or_else(|| Arc::new(|| {}));
        let options = AnalysisOptions {
            labels: self.label_mode.clone(),
        };
        let current = self.workspace.clone();
        self.job = Some(Job::spawn("append", wake, move |p| {
            p.set_stage("adding the new capture");
            let mut findings = match &current {
                Some(ws) => ws.findings().clone(),
                None => crate::pipeline::Findings::empty(&options),
            };
            let mut specs = Vec::new();
            for a in arrived {
                match a {
                    ui_live::Arrival::Parsed(l, path) => {
                        findings.append(*l, InputSpec::Path(path));
                    }
                    ui_live::Arrival::Input(spec) => specs.push(spec),
                }
            }
            let load = crate::formats::LoadOptions::default();
            let read = crate::pipeline::read(&specs, &load, p)?;
            for (l, spec) in read.loaded {
                findings.append(l, spec);
            }
            findings.errors.extend(read.errors);
            findings.skipped.extend(read.skipped);
            p.set_stage("laying out lanes");
            Some(Workspace::new(findings))
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
        self.flame = flame_spec::default_input(&ws.session, &ws.analysis).map(FlameSpec::input);
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
        self.flame = Some(FlameSpec::input(input));
        self.flame_view.zoom = 0;
    }

    pub fn is_loading(&self) -> bool {
        self.job.is_some() || self.pending.is_some() || !self.queued.is_empty()
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
        if let Some(live) = &mut self.live {
            live.drain();
            self.queued.append(&mut live.arrived);
            if live.stopped.is_none() {
                ctx.request_repaint_after(std::time::Duration::from_millis(250));
            }
        }
        // One job at a time: what arrives meanwhile waits for the next.
        if self.job.is_none() && self.pending.is_none() && !self.queued.is_empty() {
            let arrived = std::mem::take(&mut self.queued);
            self.reselect = self.selected_leak_site();
            self.append_job(arrived);
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
        self.timeline.range()
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
            Action::FitTimeline => {
                if let Some(lanes) = self.active_lanes() {
                    self.timeline.fit(lanes.as_ref());
                }
            }
            Action::FlameZoom(node) => self.flame_view.zoom = node,
            Action::FlameClicked(node) => {
                self.flame_view.zoom = node;
                if let Some(g) = self.group_of_flame_node(node) {
                    self.apply(Action::Select(Selection::Group(g)));
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

        let mut actions = Vec::new();
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
            legend_ui(&mut left_ui);
        }
        let lanes = self.active_lanes().unwrap_or_else(|| Arc::clone(&ws.lanes));
        let selected = self.highlighted_lanes();
        let data = TimelineData {
            lanes: lanes.as_ref(),
            table: &ws.session.stacks,
            lanes_key: self.generation * 2 + usize::from(self.showing_trace()),
            selection: self.selection,
            selected_lanes: &selected,
            filter: &self.search,
            by_creation: self.state.lanes_by_creation,
            lane_height: self.state.lane_height,
        };
        self.timeline.ui(&mut left_ui, &data, &mut actions);

        let mut right_ui =
            ui.new_child(egui::UiBuilder::new().max_rect(right).id_salt("flame-pane"));
        self.flame_header_ui(&mut right_ui, &ws);
        self.refresh_flame();
        let unit = flame_unit(&ws, self.flame.as_ref());
        if let Some(cache) = &self.flame_cache {
            let data = FlameData {
                tree: &cache.tree,
                table: &ws.session.stacks,
                unit: &unit,
                highlight: &cache.highlight,
                search: &self.search,
                upward: self.state.flame_upward,
            };
            actions.extend(flame_ui(&mut right_ui, &mut self.flame_view, &data));
        }
        ui.advance_cursor_after_rect(full);
        for a in actions {
            self.apply(a);
        }
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

impl eframe::App for LeakscopeApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        LeakscopeApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
