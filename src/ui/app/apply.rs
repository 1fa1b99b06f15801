//! What actions do, applied after a frame is drawn, and the navigation
//! history they leave behind.

use super::*;
use crate::analysis::flame_spec::FlameSpec;
use crate::model::StrId;
use crate::ui::export::ExportKind;
use crate::ui::state::ExportRequest;

/// A place to go back to: what was selected and what the views showed.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Location {
    selection: Selection,
    /// The timeline showed the trace's lanes (rather than the snapshots').
    trace_lanes: bool,
    /// The timeline's time range and scroll position.
    range: (i64, i64),
    scroll: f32,
    /// The flame graph's spec, zoomed box and wheel range, and the
    /// function the Sandwich shows.
    flame: Option<FlamePlace>,
}

/// Where the flame pane was: its spec, zoomed box, the wheel's range in
/// it, and the function picked for the Sandwich.
type FlamePlace = (FlameSpec, NodeId, Option<(f64, f64)>, Option<StrId>);

impl LeakscopeApp {
    /// Selects as a click would (tests, command line).
    pub fn select(&mut self, selection: Selection) {
        self.apply(Action::Select(selection));
    }

    /// Fits the timeline to the selected goroutines: from the first
    /// creation to the last end (or the window's end for those alive).
    pub fn zoom_to_selection(&mut self) {
        self.apply(Action::ZoomToSelection);
    }

    pub(super) fn apply(&mut self, action: Action) {
        match action {
            Action::Select(sel) => {
                self.leave();
                self.set_selection(sel);
            }
            Action::JumpTo { lane, time_ns } => {
                self.leave();
                self.timeline.jump_to(lane, Some(time_ns));
            }
            Action::FitTimeline => {
                self.leave();
                if let Some(lanes) = self.active_lanes() {
                    self.timeline.fit(lanes.as_ref());
                }
            }
            Action::ZoomToSelection => {
                if let Some((a, b)) = self.selection_range() {
                    self.leave();
                    self.timeline.zoom_to(a, b);
                }
            }
            Action::ShowTrace(trace) => {
                self.leave();
                self.state.timeline_trace = trace;
            }
            Action::FlameZoom(node) => {
                self.leave();
                self.flame.set_zoom(node);
            }
            Action::FlameClicked(node) => {
                self.leave();
                self.flame.set_zoom(node);
                // The box's function is what the Sandwich shows next.
                let function = self.flame.function_of(node);
                self.flame.pick(function);
                let group = self
                    .workspace
                    .as_ref()
                    .and_then(|ws| self.flame.group_of_node(ws, node));
                if let Some(g) = group {
                    self.set_selection(Selection::Group(g));
                }
            }
            Action::PickFunction(function) => {
                self.leave();
                self.pick_function(function);
            }
            Action::Back => self.go(true),
            Action::Forward => self.go(false),
            other => self.apply_command(other),
        }
    }

    /// Actions that do not move the view: loading, exports, dialogs.
    fn apply_command(&mut self, action: Action) {
        let wake = self.wake();
        match action {
            Action::Export(what) => {
                if let Some(kind) = self.export_kind(what) {
                    self.exporter.ask(kind, wake);
                }
            }
            Action::OpenDialog { add } => match crate::ui::exporter::no_file_dialog() {
                Some(why) => self.notices.push(Notice::warning(format!(
                    "No file dialog can open: {why}. Drop files on the window, \
                     or name them on the command line (leakscope FILE…)."
                ))),
                None => self.loader.open_dialog(add, wake),
            },
            Action::Open(inputs) => self.open(inputs),
            Action::SetLabelMode(mode) => {
                self.loader.label_mode = mode;
                self.reload();
            }
            Action::SetCountProfile(profile) => {
                self.loader.count_profile = profile;
                self.reload();
            }
            Action::SetInstance(name) => {
                self.loader.instance = Some(name);
                self.reload();
            }
            Action::SaveExportAt(path) => {
                if let Some(ws) = &self.workspace {
                    self.exporter.save_at(path, ws, wake);
                } else {
                    self.exporter.path_form = None;
                }
            }
            Action::ConfirmReplace(replace) => {
                if let Some(ws) = &self.workspace {
                    self.exporter.confirm(replace, ws, wake);
                }
            }
            Action::ShowConnect => self.connection.form = Some(ConnectForm::default()),
            Action::ShowNotices => self.show_notices = true,
            _ => {}
        }
    }

    /// Searches a function by its whole name (its boxes turn pink, the
    /// timeline keeps its lanes) and shows it in the Sandwich.
    fn pick_function(&mut self, function: StrId) {
        if let Some(ws) = &self.workspace {
            let name = ws.session.stacks.str(function);
            self.search = format!("^{}$", regex::escape(name));
        }
        self.flame.pick(Some(function));
    }

    /// Selects, and scrolls the timeline to the selection's first lane.
    pub(super) fn set_selection(&mut self, selection: Selection) {
        self.selection = selection;
        if let Some(&lane) = self.highlighted_lanes().first() {
            self.timeline.jump_to(lane, None);
        }
    }

    /// From the first creation to the last end of the selected goroutines
    /// (the window's ends for those created before it or alive after it).
    fn selection_range(&self) -> Option<(i64, i64)> {
        let lanes = self.active_lanes()?;
        let (w0, w1) = lanes.window();
        let mut range: Option<(i64, i64)> = None;
        for l in self.highlighted_lanes() {
            let info = lanes.lane(l as usize);
            let a = info.created_ns.unwrap_or(w0).max(w0);
            let b = info.ended_ns.unwrap_or(w1).min(w1);
            range = Some(range.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        range
    }

    fn location(&self) -> Location {
        Location {
            selection: self.selection,
            trace_lanes: self.showing_trace(),
            range: self.timeline.range(),
            scroll: self.timeline.scroll(),
            flame: self.flame.spec().cloned().map(|s| {
                let f = &self.flame;
                (s, f.zoom(), f.wheel_range(), f.picked())
            }),
        }
    }

    /// Records where the user is before a navigation moves them.
    fn leave(&mut self) {
        let here = self.location();
        self.history.leave(here);
    }

    /// Goes back (or forward) to a recorded place.
    fn go(&mut self, back: bool) {
        let here = self.location();
        let to = if back {
            self.history.back(here)
        } else {
            self.history.forward(here)
        };
        let Some(to) = to else {
            return;
        };
        self.selection = to.selection;
        if self.workspace.as_ref().is_some_and(|w| w.trace.is_some()) {
            self.state.timeline_trace = to.trace_lanes;
        }
        self.timeline.restore(self.lanes_key(), to.range, to.scroll);
        if let Some((spec, zoom, range, picked)) = to.flame
            && self.flame.spec() == Some(&spec)
        {
            self.flame.set_view(zoom, range);
            self.flame.pick(picked);
        }
    }

    /// Whether Back has somewhere to go (greys the button out otherwise).
    pub fn can_go_back(&self) -> bool {
        self.history.can_go_back()
    }

    /// Whether Forward has somewhere to go (greys the button out otherwise).
    pub fn can_go_forward(&self) -> bool {
        self.history.can_go_forward()
    }

    /// The export asked for, with what it needs from the views now.
    fn export_kind(&mut self, what: ExportRequest) -> Option<ExportKind> {
        self.workspace.as_ref()?;
        match what {
            ExportRequest::FlameView => self.flame_view_export(),
            ExportRequest::Folded => {
                self.refresh_flame();
                self.flame
                    .export_kind(&self.search, self.state.flame_upward, true)
            }
            ExportRequest::Group(group) => Some(ExportKind::GroupFlame {
                group,
                spec: crate::export::FlameSpec {
                    // The newest snapshot.
                    input: self.workspace.as_ref()?.analysis.series.last()?.input,
                    ..crate::export::FlameSpec::default()
                },
            }),
            ExportRequest::Growth => Some(ExportKind::DiffFlame),
            ExportRequest::Report(format) => Some(ExportKind::Report(format)),
        }
    }

    /// The flame graph as on screen, for export.
    pub fn flame_view_export(&mut self) -> Option<ExportKind> {
        self.refresh_flame();
        self.flame
            .export_kind(&self.search, self.state.flame_upward, false)
    }

    /// Asks for an export as the File menu does (tests).
    pub fn request_export(&mut self, what: ExportRequest) {
        self.apply(Action::Export(what));
    }

    /// Says no file dialog can open here, and why (tests; the app finds
    /// out by itself).
    pub fn set_no_file_dialog(&mut self, why: &str) {
        self.exporter.no_dialog = Some(why.to_owned());
    }

    /// Exports to `path` (tests; the app asks with a dialog first); an
    /// existing file waits for confirmation.
    pub fn export_to(&mut self, kind: ExportKind, path: PathBuf) {
        let wake = self.wake();
        if let Some(ws) = &self.workspace {
            self.exporter.export_to(kind, path, ws, wake);
        }
    }

    /// Waits for a running export (tests), at most a minute.
    pub fn wait_for_export(&mut self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.exporter.is_running() && std::time::Instant::now() < deadline {
            match self.exporter.take_result() {
                Some(n) => self.notices.push(n),
                None => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    }

    /// Leak site of the selected group, to select it again in new findings.
    pub(super) fn selected_leak_site(&self) -> Option<String> {
        let ws = self.workspace.as_ref()?;
        let g = self.selection.group()?;
        let s = ws.analysis.suspects.iter().find(|s| s.group == g)?;
        Some(ws.session.stacks.function(s.leak_site?).to_owned())
    }
}
