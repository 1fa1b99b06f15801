//! The app: menus, panels and the two main views around one selection.
//!
//! The app composes parts that keep their own state: the [`Loader`]
//! (loading jobs, inputs waiting, the Open dialog), the [`FlamePane`]
//! (spec, tree cache, zoom), the [`TimelinePane`] (time range, scroll, the
//! lanes its filter keeps), the [`Exporter`] (save dialog, export job,
//! replace confirmation) and the live [`Connection`]. The app itself holds
//! what they share: the findings shown, the selection, the search text,
//! the notices and the navigation history.
//!
//! A frame runs in three steps so that every panel of it shows the same
//! state: [`LeakscopeApp::logic`] takes what other threads finished (jobs,
//! dialogs, live captures; eframe calls it before drawing), the user's keys
//! and dropped files are applied, then the views draw and return
//! [`Action`]s, which are applied only once everything is drawn.
//!
//! The menu and status bars are in `chrome`, the panels in `panes`, and
//! what actions do (with the history) in `apply`.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Key, KeyboardShortcut, Modifiers, Ui};

use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::lanes::LaneSource;
use crate::jobs::Wake;
use crate::ui::exporter::Exporter;
use crate::ui::flame::{FlameMode, FlamePane};
use crate::ui::history::History;
use crate::ui::live::{Arrival, ConnectForm, Connection, LiveView};
use crate::ui::loader::{Loader, LoaderEvent};
use crate::ui::names::Names;
use crate::ui::state::{Action, Selection, ViewState};
use crate::ui::timeline::TimelinePane;
use crate::ui::workspace::{HistorySource, InputSpec, Workspace};

mod apply;
mod chrome;
mod panes;

pub use crate::ui::export::PendingReplace;
pub use crate::ui::state::{Level, Notice};

use apply::Location;

/// What the timeline's header says of a lone dump's lanes: they start when
/// each goroutine began to wait, the only clock one dump has.
pub const LONE_DUMP_LANES: &str = "(one dump: each goroutine from when it began to wait)";

/// A screenshot to save once everything is loaded and laid out.
struct Screenshot {
    path: PathBuf,
    frames_ready: u32,
    requested: bool,
}

/// The desktop app: the session on screen, the selection every view shares, and the
/// rooms (loader, flame pane, timeline, exporter, live view) that draw it.
pub struct LeakscopeApp {
    /// Settings and layout, saved between runs.
    pub state: ViewState,
    /// What is selected; every view highlights it.
    pub selection: Selection,
    /// The loaded session and its findings, shared with background jobs.
    pub workspace: Option<Arc<Workspace>>,
    /// Messages for the user (errors, warnings, confirmations), newest last.
    pub notices: Vec<Notice>,
    show_notices: bool,
    /// Bumped on every new workspace, so views refit and caches refresh.
    generation: usize,
    /// Asks for a frame; set at the first frame, handed to every job.
    wake: Option<Wake>,
    /// Frame search (flame graph) and lane filter (timeline) in one.
    search: String,
    focus_search: bool,
    history: History<Location>,
    /// A suspect to select once loaded (regex on the leak site), from the command line.
    select_on_load: Option<String>,
    loader: Loader,
    flame: FlamePane,
    timeline: TimelinePane,
    exporter: Exporter,
    connection: Connection,
    screenshot: Option<Screenshot>,
    /// Whether eframe may save the settings and egui's memory (layout):
    /// not for a screenshot run.
    persistent: bool,
}

impl LeakscopeApp {
    /// An app with no session yet, in the given saved state.
    pub fn new(state: ViewState) -> LeakscopeApp {
        LeakscopeApp {
            state,
            selection: Selection::None,
            workspace: None,
            notices: Vec::new(),
            show_notices: false,
            generation: 0,
            wake: None,
            search: String::new(),
            focus_search: false,
            history: History::default(),
            select_on_load: None,
            loader: Loader::default(),
            flame: FlamePane::default(),
            timeline: TimelinePane::default(),
            exporter: Exporter::default(),
            connection: Connection::default(),
            screenshot: None,
            persistent: true,
        }
    }

    /// Whether the app's settings and layout are saved when it closes.
    pub fn set_persistent(&mut self, persistent: bool) {
        self.persistent = persistent;
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

    /// Reads each session's goroutine history from Prometheus as it loads.
    pub fn read_history_from(&mut self, source: HistorySource) {
        self.loader.history = Some(source);
    }

    /// Loads the session's inputs again (another grouping or measure).
    fn reload(&mut self) {
        if let Some(ws) = &self.workspace {
            let inputs = ws.inputs.clone();
            self.open(inputs);
        }
    }

    /// Loads inputs in the background, replacing the session.
    pub fn open(&mut self, inputs: Vec<InputSpec>) {
        self.state.remember(&paths_of(&inputs));
        self.loader.open(inputs);
    }

    /// Adds inputs to the current session (drag and drop, "Add to
    /// session"): only the new inputs are read.
    pub fn add(&mut self, inputs: Vec<InputSpec>) {
        if self.workspace.is_none() {
            return self.open(inputs);
        }
        self.state.remember(&paths_of(&inputs));
        self.loader.add(inputs.into_iter().map(Arrival::Input));
    }

    /// Loads and analyses on the calling thread (tests, benches).
    pub fn open_blocking(&mut self, inputs: Vec<InputSpec>) {
        if let Some(ws) = self.loader.load_blocking(inputs) {
            self.install(ws, false);
        }
    }

    /// Connects to a live service as the Connect dialog would.
    pub fn connect(&mut self, form: ConnectForm) -> Result<(), String> {
        let wake = self.wake();
        self.connection.connect(form, wake)
    }

    /// The live session, while there is one.
    pub fn live(&self) -> Option<&LiveView> {
        self.connection.live.as_ref()
    }

    /// An export waiting for the user to confirm replacing a file.
    pub fn pending_replace(&self) -> Option<&PendingReplace> {
        self.exporter.replace.as_ref()
    }

    /// Shows an input in the flame graph (its first value column).
    pub fn show_in_flame(&mut self, input: usize) {
        self.flame.show_input(input);
    }

    /// Whether a load is running in the background (the tests wait for it).
    pub fn is_loading(&self) -> bool {
        self.loader.is_busy()
    }

    /// How names read on screen, by the View menu's setting.
    pub fn names(&self) -> Names {
        Names {
            full: self.state.full_names,
        }
    }

    /// The wake handed to jobs; one that does nothing before the first frame.
    fn wake(&self) -> Wake {
        self.wake.clone().unwrap_or_else(|| Arc::new(|| {}))
    }

    /// Makes a loaded workspace current. After an addition, the suspect
    /// selected before is selected again (groups are numbered anew).
    fn install(&mut self, ws: Workspace, appended: bool) {
        let keep = if appended {
            self.selected_leak_site()
        } else {
            None
        };
        self.notices.clear();
        for e in &ws.errors {
            self.notices
                .push(Notice::error(format!("could not load {e}")));
        }
        for input in &ws.session.inputs {
            for w in input.warnings().iter() {
                self.notices
                    .push(Notice::warning(format!("{}: {w}", input.source().path)));
            }
        }
        // Errors show in a line above the timeline; the window with all of
        // them opens from the status bar, never over the suspects by itself.
        self.show_notices = false;
        self.generation += 1;
        self.history.clear();
        self.flame.reset(&ws);
        let pattern = self.select_on_load.take();
        let selection = pattern
            .and_then(|p| select_pattern(&ws, &p))
            .or_else(|| keep.and_then(|site| select_site(&ws, &site)))
            .unwrap_or_default();
        self.workspace = Some(Arc::new(ws));
        self.set_selection(selection);
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

    /// Whether the timeline shows the trace's goroutines.
    pub fn showing_trace(&self) -> bool {
        self.state.timeline_trace && self.workspace.as_ref().is_some_and(|w| w.trace.is_some())
    }

    /// Changes whenever the timeline's lanes do (new findings, trace or
    /// snapshots).
    fn lanes_key(&self) -> usize {
        self.generation * 2 + usize::from(self.showing_trace())
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

    /// Refreshes the flame pane for the current state (tests, exports).
    fn refresh_flame(&mut self) {
        if let Some(ws) = &self.workspace {
            self.flame.refresh(ws, self.generation, self.selection);
        }
    }

    /// Flame graph boxes highlighted for the selection (for tests).
    pub fn highlighted_flame_nodes(&mut self) -> Vec<NodeId> {
        self.refresh_flame();
        self.flame.highlighted()
    }

    /// The flame tree shown (for tests and exports).
    pub fn flame_tree(&mut self) -> Option<Arc<FlameTree>> {
        self.refresh_flame();
        self.flame.tree().cloned()
    }

    /// The flame pane's view: the graph, Top or Sandwich.
    pub fn flame_mode(&self) -> FlameMode {
        self.flame.mode()
    }

    /// Shows a view of the flame pane (`--flame-view`, tests).
    pub fn set_flame_mode(&mut self, mode: FlameMode) {
        self.flame.set_mode(mode);
    }

    /// The Top table as shown: function, self, total (for tests).
    pub fn flame_top(&mut self) -> Vec<(String, u64, u64)> {
        self.refresh_flame();
        let Some(ws) = &self.workspace else {
            return Vec::new();
        };
        let t = &ws.session.stacks;
        let rows = self.flame.top_rows(t).unwrap_or_default();
        rows.iter()
            .map(|r| (t.str(r.function).to_owned(), r.self_weight, r.total))
            .collect()
    }

    /// The function the Sandwich shows (for tests).
    pub fn sandwich_function(&mut self) -> Option<String> {
        self.refresh_flame();
        let ws = self.workspace.clone()?;
        let f = self.flame.sandwich_function(&ws, self.selection)?;
        Some(ws.session.stacks.str(f).to_owned())
    }

    /// The part of the flame graph's width shown, `(left, width)` in
    /// shares of the whole (for tests).
    pub fn flame_visible_range(&mut self) -> (f64, f64) {
        self.refresh_flame();
        self.flame.visible_range()
    }

    /// The search / lane filter text.
    pub fn search(&self) -> &str {
        &self.search
    }

    /// The total weight of the flame graph shown (for tests).
    pub fn flame_root_total(&mut self) -> u64 {
        self.flame_tree().map_or(0, |t| t.root_total())
    }

    /// The function names of the highlighted flame boxes (for tests).
    pub fn highlighted_flame_functions(&mut self) -> Vec<String> {
        let nodes = self.highlighted_flame_nodes();
        match (self.flame.tree(), &self.workspace) {
            (Some(tree), Some(ws)) => nodes
                .into_iter()
                .filter(|&n| n != 0)
                .map(|n| ws.session.stacks.str(tree.nodes[n].function).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// One whole frame: [`LeakscopeApp::logic`], then the views. eframe
    /// calls the two steps itself; the UI tests and the bench call this.
    pub fn ui(&mut self, ui: &mut Ui) {
        self.logic(ui.ctx());
        self.views_ui(ui);
    }

    /// Takes what other threads finished: loads, dialogs, exports and live
    /// captures. Paints nothing.
    pub fn logic(&mut self, ctx: &egui::Context) {
        let wake = match &self.wake {
            Some(w) => Arc::clone(w),
            None => {
                let c = ctx.clone();
                let w: Wake = Arc::new(move || c.request_repaint());
                self.wake = Some(Arc::clone(&w));
                w
            }
        };
        let arrived = self.connection.drain(ctx);
        self.loader.add(arrived);
        for event in self.loader.logic(&wake, self.workspace.as_ref()) {
            match event {
                LoaderEvent::Ready { ws, appended } => self.install(*ws, appended),
                LoaderEvent::Picked { paths, add } => {
                    let inputs = paths.into_iter().map(InputSpec::Path).collect();
                    if add {
                        self.add(inputs)
                    } else {
                        self.open(inputs)
                    }
                }
                LoaderEvent::Notice(n) => self.notices.push(n),
            }
        }
        if self.loader.progress().is_some() {
            // Progress moves without events: look again soon.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if let Some(n) = self.exporter.logic(self.workspace.as_ref(), &wake) {
            self.notices.push(n);
        }
    }

    /// Draws every panel from the state as the frame began, then applies
    /// what the views asked for.
    fn views_ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        // Keys and dropped files act before anything is drawn.
        for action in self.input_actions(&ctx) {
            self.apply(action);
        }
        let selected = self.highlighted_lanes();
        let mut actions = Vec::new();
        self.top_bar_ui(ui, &mut actions);
        self.status_bar_ui(ui, selected.len(), &mut actions);
        if let Some(ws) = self.workspace.clone() {
            actions.extend(self.lower_panel_ui(ui, &ws, &selected));
            actions.extend(self.suspects_panel_ui(ui, &ws));
        }
        egui::CentralPanel::default().show(ui, |ui| match self.workspace.clone() {
            Some(ws) => self.central_ui(ui, &ws, &selected, &mut actions),
            None => self.empty_state_ui(ui, &mut actions),
        });
        self.notices_window(&ctx);
        let wake = self.wake();
        self.connection.connect_window(&ctx, wake);
        actions.extend(self.exporter.replace_dialog_ui(&ctx));
        actions.extend(self.exporter.path_form_ui(&ctx));
        // What the actions changed shows in the next frame, and inputs
        // picked or dropped in this one start loading there.
        let repaint = !actions.is_empty();
        for action in actions {
            self.apply(action);
        }
        if repaint || self.loader.is_waiting() {
            ctx.request_repaint();
        }
        self.screenshot_step(&ctx);
    }

    /// Shortcuts and files dropped on the window.
    fn input_actions(&mut self, ctx: &egui::Context) -> Vec<Action> {
        let mut actions = Vec::new();
        let shortcut = |m: Modifiers, k: Key| {
            ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(m, k)))
        };
        if shortcut(Modifiers::COMMAND, Key::O) {
            actions.push(Action::OpenDialog { add: false });
        }
        if shortcut(Modifiers::COMMAND, Key::F) {
            self.focus_search = true;
        }
        // Before the timeline sees the arrows (it pans with them).
        if shortcut(Modifiers::ALT, Key::ArrowLeft) {
            actions.push(Action::Back);
        }
        if shortcut(Modifiers::ALT, Key::ArrowRight) {
            actions.push(Action::Forward);
        }
        if self.selection != Selection::None
            && !ctx.egui_wants_keyboard_input()
            && ctx.input(|i| i.key_pressed(Key::Z))
        {
            actions.push(Action::ZoomToSelection);
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            self.search.clear();
            if self.selection != Selection::None {
                actions.push(Action::Select(Selection::None));
            }
        }
        let dropped: Vec<InputSpec> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .map(InputSpec::Path)
                .collect()
        });
        if !dropped.is_empty() {
            self.add(dropped);
        }
        actions
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

/// The files among inputs, to remember as recent.
fn paths_of(inputs: &[InputSpec]) -> Vec<PathBuf> {
    inputs
        .iter()
        .filter_map(|i| match i {
            InputSpec::Path(p) => Some(p.clone()),
            InputSpec::Bytes { .. } => None,
        })
        .collect()
}

/// The first suspect whose leak site matches `pattern`, else a trace's
/// leak by its entry function.
fn select_pattern(ws: &Workspace, pattern: &str) -> Option<Selection> {
    let re = regex::Regex::new(pattern).ok()?;
    let t = &ws.session.stacks;
    if let Some(s) = ws
        .analysis
        .suspects
        .iter()
        .find(|s| s.leak_site.is_some_and(|f| re.is_match(t.function(f))))
    {
        return Some(Selection::Group(s.group));
    }
    let tr = ws.trace.as_ref()?;
    let i = tr
        .analysis
        .leaks
        .iter()
        .position(|l| re.is_match(&l.entry_function))?;
    Some(Selection::TraceGroup(i))
}

/// The suspect whose leak site is `site`.
fn select_site(ws: &Workspace, site: &str) -> Option<Selection> {
    let t = &ws.session.stacks;
    ws.analysis
        .suspects
        .iter()
        .find(|s| s.leak_site.is_some_and(|f| t.function(f) == site))
        .map(|s| Selection::Group(s.group))
}

impl eframe::App for LeakscopeApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        LeakscopeApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.views_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persistent {
            eframe::set_value(storage, eframe::APP_KEY, &self.state);
        }
    }

    fn persist_egui_memory(&self) -> bool {
        self.persistent
    }
}
