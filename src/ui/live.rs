//! A live pprof connection in the app: the Connect dialog, the poller's
//! events, and the controls in the status bar. The polling itself is
//! [`crate::live`]; every capture lands in a session folder and, already
//! parsed, joins the app's findings ([`crate::pipeline::Findings::append`]),
//! so the growth ranking and the plot update while the service runs and a
//! session of hundreds of captures never reads the earlier ones again.
//!
//! [`Connection`] is the app's part for it: the dialog's form and the
//! running session, drawn and driven here; captures leave through
//! [`Connection::drain`] for the loader.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use egui::{Color32, Ui};

use crate::formats::Loaded;
use crate::jobs::Wake;
use crate::live::{
    CaptureId, CaptureKind, ConnectionState, Header, LiveConfig, LiveEvent, Poller, StopReason,
};

/// The Connect dialog's fields.
#[derive(Clone, Debug)]
pub struct ConnectForm {
    /// The pprof base URL as typed (`host:port`, `:port` or a URL).
    pub url: String,
    /// Seconds between snapshots, as typed (checked on Connect).
    pub interval_secs: String,
    /// One `Name: value` per line (Authorization, Cookie, ...).
    pub headers: String,
    /// The folder the captures go to (a session folder `inspect` reads).
    pub folder: String,
    /// Why Connect was refused, shown under the fields.
    pub error: Option<String>,
}

impl Default for ConnectForm {
    fn default() -> Self {
        ConnectForm {
            url: "localhost:6060".to_owned(),
            interval_secs: "10".to_owned(),
            headers: String::new(),
            folder: String::new(),
            error: None,
        }
    }
}

/// A running live session.
pub struct LiveView {
    poller: Poller,
    rx: Receiver<LiveEvent>,
    /// The URL polled, as the poller resolved it.
    pub url: String,
    /// Connected, retrying or stopped: what the status line says.
    pub state: ConnectionState,
    /// Goroutine snapshots received so far.
    pub snapshots: u64,
    /// Captures of every kind written so far (snapshots, dumps, traces).
    pub captures: u64,
    /// Recent failures, newest last (the poller carries on after each).
    pub failures: Vec<String>,
    /// An on-demand trace in flight and how far it is.
    pub trace: Option<(CaptureId, f32)>,
    /// Why the connection stopped, once it has.
    pub stopped: Option<String>,
    /// Captures that arrived and have not joined the findings yet.
    pub arrived: Vec<Arrival>,
}

/// A capture on its way into the findings.
pub enum Arrival {
    /// A profile the poller parsed, dated by the capture's request.
    Parsed(Box<Loaded>, PathBuf),
    /// Not read yet: a trace, too large to parse on the poller's thread, or
    /// files dropped on the window. Read in the job.
    Input(crate::pipeline::InputSpec),
}

/// Keeps the failure list short.
const MAX_FAILURES: usize = 50;

impl LiveView {
    /// The folder the captures are written to.
    pub fn session_dir(&self) -> &Path {
        self.poller.session_dir()
    }

    /// Whether polling is paused by the user.
    pub fn is_paused(&self) -> bool {
        self.poller.is_paused()
    }

    /// Stops polling until [`LiveView::resume`]; the connection stays.
    pub fn pause(&self) {
        self.poller.pause();
    }

    /// Polls again after [`LiveView::pause`].
    pub fn resume(&self) {
        self.poller.resume();
    }

    /// Ends the connection; captures already written stay in the folder.
    pub fn stop(&self) {
        self.poller.stop();
    }

    /// Starts a trace of `seconds` over the service.
    pub fn capture_trace(&mut self, seconds: u64) {
        let id = self
            .poller
            .request(CaptureKind::Trace(Duration::from_secs(seconds)));
        self.trace = Some((id, 0.0));
    }

    /// Abandons the on-demand trace in flight (what arrived is not kept).
    pub fn cancel_trace(&mut self) {
        if let Some((id, _)) = self.trace.take() {
            self.poller.cancel(id);
        }
    }

    /// Takes the poller's events for at most a few milliseconds.
    pub fn drain(&mut self) {
        let until = Instant::now() + Duration::from_millis(8);
        loop {
            match self.rx.try_recv() {
                Ok(e) => self.apply(e),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if self.stopped.is_none() {
                        self.stopped = Some("the poller ended".to_owned());
                    }
                    break;
                }
            }
            if Instant::now() > until {
                break;
            }
        }
    }

    fn apply(&mut self, e: LiveEvent) {
        match e {
            LiveEvent::State(s) => self.state = s,
            LiveEvent::ServerInfo(_) | LiveEvent::Paused | LiveEvent::Resumed => {}
            LiveEvent::Captured(c) => {
                self.captures += 1;
                if c.id.is_none() {
                    self.snapshots += 1;
                }
                if let (Some(id), Some((t, _))) = (c.id, self.trace)
                    && id == t
                {
                    self.trace = None;
                }
                self.arrived.push(match c.loaded {
                    Some(mut l) => {
                        // One clock orders a session: the capturing machine's.
                        l.set_captured_at(c.record.started_at_ns);
                        Arrival::Parsed(l, c.path)
                    }
                    None => Arrival::Input(crate::pipeline::InputSpec::Path(c.path)),
                });
            }
            LiveEvent::Failed(f) => {
                if let (Some(id), Some((t, _))) = (f.id, self.trace)
                    && id == t
                {
                    self.trace = None;
                }
                self.failures.push(f.error.to_string());
                if self.failures.len() > MAX_FAILURES {
                    self.failures.remove(0);
                }
            }
            LiveEvent::Progress { id, fraction, .. } => {
                if let Some((t, f)) = &mut self.trace
                    && *t == id
                {
                    *f = fraction.unwrap_or(*f);
                }
            }
            LiveEvent::PollingDone { .. } => {}
            LiveEvent::Stopped { reason } => {
                self.state = ConnectionState::Stopped;
                self.stopped = Some(match reason {
                    StopReason::Requested => "disconnected".to_owned(),
                    StopReason::GaveUp {
                        failures,
                        last_error,
                    } => {
                        format!("gave up after {failures} failures: {last_error}")
                    }
                    StopReason::SessionFolder(e) => format!("session folder: {e}"),
                });
            }
        }
    }

    /// One line for the status bar.
    pub fn status(&self) -> String {
        let state = match &self.state {
            ConnectionState::Connecting => "connecting…".to_owned(),
            ConnectionState::Connected => "connected".to_owned(),
            ConnectionState::Retrying {
                failures,
                retry_in,
                unreachable,
                ..
            } => format!(
                "{} ({failures} failures), retrying in {:.0} s",
                if *unreachable {
                    "unreachable"
                } else {
                    "failing"
                },
                retry_in.as_secs_f32()
            ),
            ConnectionState::Stopped => "stopped".to_owned(),
        };
        let paused = if self.is_paused() { ", paused" } else { "" };
        format!(
            "live {}: {state}{paused} · {} snapshots",
            self.url, self.snapshots
        )
    }
}

/// A folder for a new session beside the working directory, named by host and time.
pub fn default_folder(url: &str) -> PathBuf {
    let host: String = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .chars()
        .take_while(|c| *c != '/')
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(0));
    let stamp: String = crate::model::time::format_rfc3339(now)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    std::env::current_dir()
        .unwrap_or_default()
        .join(format!("leakscope-{host}-{stamp}"))
}

/// Starts polling as the form says.
pub fn connect(form: &ConnectForm, wake: Wake) -> Result<LiveView, String> {
    let url = form.url.trim();
    let folder = if form.folder.trim().is_empty() {
        default_folder(url)
    } else {
        PathBuf::from(form.folder.trim())
    };
    let mut config = LiveConfig::new(url, &folder).map_err(|e| e.to_string())?;
    let secs: f64 = form.interval_secs.trim().parse().map_err(|_| {
        format!(
            "interval {:?} is not a number of seconds",
            form.interval_secs
        )
    })?;
    if !(0.1..=86_400.0).contains(&secs) {
        return Err("the interval must be between 0.1 s and a day".to_owned());
    }
    config.interval = Duration::from_secs_f64(secs);
    config.headers = form
        .headers
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Header::parse(l).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let (poller, rx) = Poller::start(config, move || wake()).map_err(|e| e.to_string())?;
    Ok(LiveView {
        poller,
        rx,
        url: url.to_owned(),
        state: ConnectionState::Connecting,
        snapshots: 0,
        captures: 0,
        failures: Vec::new(),
        trace: None,
        stopped: None,
        arrived: Vec::new(),
    })
}

/// The live connection between frames: the Connect dialog while open and
/// the session while connected.
#[derive(Default)]
pub struct Connection {
    /// The Connect dialog, while open.
    pub form: Option<ConnectForm>,
    /// The live session, while connected (and after it stopped, until closed).
    pub live: Option<LiveView>,
}

/// Amber: retrying, and the last error.
const RETRYING: Color32 = Color32::from_rgb(230, 160, 0);

impl Connection {
    /// Connects as the form says, ending any previous session.
    pub fn connect(&mut self, form: ConnectForm, wake: Wake) -> Result<(), String> {
        if let Some(old) = self.live.take() {
            old.stop();
        }
        self.live = Some(connect(&form, wake)?);
        self.form = None;
        Ok(())
    }

    /// Takes the poller's events; returns the captures that arrived.
    pub fn drain(&mut self, ctx: &egui::Context) -> Vec<Arrival> {
        let Some(live) = &mut self.live else {
            return Vec::new();
        };
        live.drain();
        if live.stopped.is_none() {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        std::mem::take(&mut live.arrived)
    }

    /// The Connect dialog; its button connects at once (only this part
    /// changes).
    pub fn connect_window(&mut self, ctx: &egui::Context, wake: Wake) {
        let Some(form) = &mut self.form else {
            return;
        };
        let mut open = true;
        let mut go = false;
        egui::Window::new("Connect to a live service")
            .open(&mut open)
            .collapsible(false)
            .default_width(460.0)
            .show(ctx, |ui| go = connect_form_ui(ui, form));
        if go && let Some(form) = self.form.clone() {
            if let Err(e) = self.connect(form, wake)
                && let Some(f) = &mut self.form
            {
                f.error = Some(e);
            }
        } else if !open {
            self.form = None;
        }
    }

    /// Buttons first, then the state: text that changes width never moves
    /// the buttons.
    pub fn controls_ui(&mut self, ui: &mut Ui) {
        let Some(live) = &mut self.live else {
            return;
        };
        if let Some(reason) = &live.stopped {
            if ui.small_button("Close").clicked() {
                self.live = None;
                return;
            }
            ui.weak(format!("({reason})"));
        } else {
            live_buttons_ui(ui, live);
        }
        let color = match &live.state {
            ConnectionState::Connected => crate::ui::theme::OK,
            ConnectionState::Retrying { .. } => RETRYING,
            _ => ui.visuals().weak_text_color(),
        };
        ui.colored_label(color, live.status());
        if let Some(last) = live.failures.last() {
            ui.colored_label(RETRYING, format!("last error: {last}"))
                .on_hover_text(live.failures.join("\n"));
        }
    }
}

/// The form's fields; true when Connect was clicked.
fn connect_form_ui(ui: &mut Ui, form: &mut ConnectForm) -> bool {
    egui::Grid::new("connect-grid")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("pprof URL");
            ui.add(
                egui::TextEdit::singleline(&mut form.url)
                    .hint_text("host:6060 or http://host:6060/debug/pprof/"),
            );
            ui.end_row();
            ui.label("poll every (s)");
            ui.add(egui::TextEdit::singleline(&mut form.interval_secs).desired_width(60.0));
            ui.end_row();
            ui.label("session folder");
            ui.add(
                egui::TextEdit::singleline(&mut form.folder)
                    .hint_text("a new folder here, named by host and time"),
            );
            ui.end_row();
            ui.label("headers");
            ui.add(
                egui::TextEdit::multiline(&mut form.headers)
                    .desired_rows(2)
                    .hint_text("Authorization: Bearer …"),
            );
            ui.end_row();
        });
    ui.weak(
        "Every goroutine profile is saved in the session folder as it arrives; \
         the folder reopens as a session.",
    );
    if let Some(e) = &form.error {
        ui.colored_label(Color32::RED, e);
    }
    ui.button("Connect").clicked()
}

/// Disconnect, pause or resume, and an on-demand trace.
fn live_buttons_ui(ui: &mut Ui, live: &mut LiveView) {
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
