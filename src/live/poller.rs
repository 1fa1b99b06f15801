//! The poller: two threads, one channel of events out.
//!
//! The *poll thread* reads the pprof index once, then fetches the goroutine
//! profile every interval; while the service is unreachable or failing it
//! retries with exponential backoff instead. The *capture thread* runs
//! on-demand captures one after another, so a 30-second trace never delays
//! the snapshots. Both write into one [`SessionWriter`] and send
//! [`LiveEvent`]s; after each send they call `wake`, which a UI wires to
//! `ctx.request_repaint()`.
//!
//! Stopping is a flag ([`Poller::stop`], also on drop) that every wait and
//! every fetch checks at least every 100 ms.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::client::{Client, FetchLimits, Header, Timeouts, TlsFiles, Watch};
use super::error::LiveError;
use super::index::ServerInfo;
use super::save;
use super::session::SessionWriter;
use super::target::Target;
use super::{CaptureKind, now_ns};
use crate::analysis::growth::looks_like_restart;
use crate::formats::Loaded;
use crate::formats::session_dir::{Manifest, ManifestCapture};

/// How often waiting threads look at the stop and pause flags.
const TICK: Duration = Duration::from_millis(100);

/// Retry delays after consecutive failures: `initial`, doubling, at most `max`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The ceiling, so a service that comes back is seen within this long.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row (counting from 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Everything a session needs to start.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// The service polled; every request stays on its origin.
    pub target: Target,
    /// Sent with every request; see [`Header`].
    pub headers: Vec<Header>,
    /// Time between goroutine snapshots.
    pub interval: Duration,
    /// Stop polling after this many snapshots (on-demand captures go on).
    pub snapshots: Option<u32>,
    /// Where bodies are saved; created if missing, continued if it holds a
    /// session of the same URL.
    pub session_dir: PathBuf,
    /// Connect and receive timeouts of every request.
    pub timeouts: Timeouts,
    /// Size caps on bodies, so a huge answer cannot exhaust memory or disk.
    pub limits: FetchLimits,
    /// Waits between retries after failed polls.
    pub backoff: Backoff,
    /// Stop after this many failed polls in a row (`None`: never give up).
    pub give_up_after: Option<u32>,
    /// Start with polling paused (on-demand captures still run).
    pub start_paused: bool,
    /// Certificates for https targets (a private CA, mutual TLS).
    pub tls: TlsFiles,
}

impl LiveConfig {
    /// Defaults for a URL as people paste it: a snapshot every 5 s, forever.
    pub fn new(url: &str, session_dir: &Path) -> Result<LiveConfig, LiveError> {
        Ok(LiveConfig {
            target: Target::parse(url)?,
            headers: Vec::new(),
            interval: Duration::from_secs(5),
            snapshots: None,
            session_dir: session_dir.to_owned(),
            timeouts: Timeouts::default(),
            limits: FetchLimits::default(),
            backoff: Backoff::default(),
            give_up_after: None,
            start_paused: false,
            tls: TlsFiles::default(),
        })
    }
}

/// Names an on-demand capture, to cancel it and to match its events.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaptureId(pub u64);

/// The connection as a status bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// Before the first answer.
    Connecting,
    /// The last poll succeeded.
    Connected,
    /// The last `failures` polls failed; the next try is in `retry_in`.
    Retrying {
        /// Failed polls in a row.
        failures: u32,
        /// The backoff delay before the next poll.
        retry_in: Duration,
        /// `true` when the service could not be reached at all (down,
        /// restarting, wrong port), `false` when it answered badly.
        unreachable: bool,
        /// The message of the latest failure, for the status bar.
        last_error: String,
    },
    /// Both threads have ended; sent just before [`LiveEvent::Stopped`].
    Stopped,
}

/// Why the poller stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// [`Poller::stop`] or drop.
    Requested,
    /// [`LiveConfig::give_up_after`] failures in a row.
    GaveUp {
        /// Failed polls in a row when it gave up.
        failures: u32,
        /// The message of the last of them.
        last_error: String,
    },
    /// The session folder cannot be written.
    SessionFolder(String),
}

/// A body saved into the session folder.
#[derive(Debug)]
pub struct Captured {
    /// The on-demand request, or `None` for a periodic goroutine snapshot.
    pub id: Option<CaptureId>,
    /// What was fetched, which tells how to load the file.
    pub kind: CaptureKind,
    /// The saved file.
    pub path: PathBuf,
    /// Its manifest entry (times, size, `partial` for a trace cut short).
    pub record: ManifestCapture,
    /// The parsed profile, ready for [`crate::model::Session::add`]. `None`
    /// for traces, which are large: load them as a job from `path`.
    pub loaded: Option<Box<Loaded>>,
}

/// A fetch that did not give a capture. The poller carries on.
#[derive(Debug)]
pub struct Failure {
    /// The on-demand request, or `None` for polling.
    pub id: Option<CaptureId>,
    /// What was fetched; `None` for the index.
    pub kind: Option<CaptureKind>,
    /// What went wrong; its predicates tell whether retrying helps.
    pub error: LiveError,
    /// Where a body cut off or unreadable was kept as evidence
    /// (`partial/`, `rejected/`), outside the session's captures.
    pub kept: Option<PathBuf>,
    /// When it failed, as Unix nanoseconds, to place it on the timeline.
    pub at_ns: i64,
}

/// What the poller reports, in order per thread.
#[derive(Debug)]
pub enum LiveEvent {
    /// The connection changed state (sent on changes only, not every poll).
    State(ConnectionState),
    /// The server's index was read: what it offers.
    ServerInfo(ServerInfo),
    /// A body was saved (and parsed unless it is a trace).
    Captured(Box<Captured>),
    /// A fetch failed; polling carries on unless it gave up.
    Failed(Box<Failure>),
    /// An on-demand capture in progress; `fraction` for ones with a
    /// duration (trace, CPU), by elapsed time.
    Progress {
        /// The capture, as [`Poller::request`] returned it.
        id: CaptureId,
        /// What is being fetched.
        kind: CaptureKind,
        /// Bytes received so far.
        bytes: u64,
        /// Time since the request started.
        elapsed: Duration,
        /// Elapsed over the capture's duration, 0..=1; `None` when it has none.
        fraction: Option<f32>,
    },
    /// Polling was paused (on-demand captures still run).
    Paused,
    /// Polling resumed; a snapshot is taken right away.
    Resumed,
    /// Polling took its [`LiveConfig::snapshots`]; on-demand captures still run.
    PollingDone {
        /// How many were taken.
        snapshots: u32,
    },
    /// The last event: both threads have ended.
    Stopped {
        /// Asked for, gave up, or the folder failed.
        reason: StopReason,
    },
}

/// State both threads and the handle share.
struct Shared {
    client: Client,
    session: SessionWriter,
    events: mpsc::Sender<LiveEvent>,
    wake: Box<dyn Fn() + Send + Sync>,
    stop: AtomicBool,
    paused: AtomicBool,
    cancelled: Mutex<HashSet<CaptureId>>,
    server: Mutex<Option<ServerInfo>>,
    stop_reason: Mutex<Option<StopReason>>,
    threads_alive: AtomicUsize,
    /// The index page was read (or could not be): what the server offers is
    /// known as far as it will be.
    probed: AtomicBool,
}

impl Shared {
    fn emit(&self, event: LiveEvent) {
        // A dropped receiver means nobody listens any more; keep working
        // until told to stop, the files are what matters.
        if self.events.send(event).is_ok() {
            (self.wake)();
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn lock<'a, T>(m: &'a Mutex<T>) -> MutexGuard<'a, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_cancelled(&self, id: CaptureId) -> bool {
        self.stopping() || Self::lock(&self.cancelled).contains(&id)
    }

    /// Stops both threads, keeping the first reason given.
    fn stop_with(&self, reason: StopReason) {
        Self::lock(&self.stop_reason).get_or_insert(reason);
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Called by each thread as it ends; the last one reports.
    fn thread_done(&self) {
        if self.threads_alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            let reason = Self::lock(&self.stop_reason)
                .clone()
                .unwrap_or(StopReason::Requested);
            self.emit(LiveEvent::State(ConnectionState::Stopped));
            self.emit(LiveEvent::Stopped { reason });
        }
    }
}

/// A running live session. Dropping it stops it (without waiting).
pub struct Poller {
    shared: Arc<Shared>,
    requests: Option<mpsc::Sender<(CaptureId, CaptureKind)>>,
    next_id: AtomicU64,
    poll_thread: Option<JoinHandle<()>>,
    capture_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("target", self.shared.client.target())
            .field("session_dir", &self.shared.session.dir())
            .finish()
    }
}

impl Poller {
    /// Opens the session folder and starts polling. Events arrive on the
    /// returned receiver; `wake` runs after each one.
    pub fn start(
        config: LiveConfig,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<(Poller, mpsc::Receiver<LiveEvent>), LiveError> {
        let header_names = config.headers.iter().map(|h| h.name().to_owned()).collect();
        let client = Client::new(
            config.target.clone(),
            config.headers.clone(),
            config.timeouts,
            config.limits,
        )
        .with_tls(&config.tls)?;
        let session = SessionWriter::open(&config.session_dir, &config.target, header_names)?;
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            client,
            session,
            events: tx,
            wake: Box::new(wake),
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(config.start_paused),
            cancelled: Mutex::new(HashSet::new()),
            server: Mutex::new(None),
            stop_reason: Mutex::new(None),
            threads_alive: AtomicUsize::new(2),
            probed: AtomicBool::new(false),
        });
        let (req_tx, req_rx) = mpsc::channel();
        let s = Arc::clone(&shared);
        let capture_thread = std::thread::Builder::new()
            .name("leakscope-capture".into())
            .spawn(move || {
                capture_loop(&s, &req_rx);
                s.thread_done();
            })
            .map_err(LiveError::Spawn)?;
        let s = Arc::clone(&shared);
        let poll_thread = std::thread::Builder::new()
            .name("leakscope-poll".into())
            .spawn(move || {
                poll_loop(&s, &config);
                s.thread_done();
            });
        let poll_thread = match poll_thread {
            Ok(t) => t,
            Err(e) => {
                shared.stop_with(StopReason::Requested);
                return Err(LiveError::Spawn(e));
            }
        };
        Ok((
            Poller {
                shared,
                requests: Some(req_tx),
                next_id: AtomicU64::new(1),
                poll_thread: Some(poll_thread),
                capture_thread: Some(capture_thread),
            },
            rx,
        ))
    }

    /// Queues an on-demand capture; its outcome is a [`LiveEvent::Captured`]
    /// or [`LiveEvent::Failed`] with the returned id.
    pub fn request(&self, kind: CaptureKind) -> CaptureId {
        let id = CaptureId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let sent = self.requests.as_ref().map(|r| r.send((id, kind.clone())));
        if !matches!(sent, Some(Ok(()))) {
            // The capture thread has ended (stopped): say so the usual way.
            self.shared.emit(LiveEvent::Failed(Box::new(Failure {
                id: Some(id),
                error: LiveError::Cancelled {
                    url: self.shared.client.target().url(&kind.endpoint()),
                },
                kind: Some(kind),
                kept: None,
                at_ns: now_ns(),
            })));
        }
        id
    }

    /// Cancels an on-demand capture, queued or running. A trace cancelled
    /// midway keeps what arrived, marked partial.
    pub fn cancel(&self, id: CaptureId) {
        Shared::lock(&self.shared.cancelled).insert(id);
    }

    /// Pauses periodic polling; on-demand captures still run.
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::Relaxed);
        self.unpark();
    }

    /// Resumes polling with a snapshot right away.
    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::Relaxed);
        self.unpark();
    }

    /// Whether polling is paused, for a pause/resume toggle.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::Relaxed)
    }

    /// Asks both threads to end; [`LiveEvent::Stopped`] follows. Fetches in
    /// flight are cancelled (a trace keeps what arrived).
    pub fn stop(&self) {
        self.shared.stop_with(StopReason::Requested);
        self.unpark();
    }

    /// Stops and waits for both threads (at most about 100 ms plus the
    /// parse of a profile in flight).
    pub fn stop_and_join(mut self) {
        self.stop();
        for t in [self.poll_thread.take(), self.capture_thread.take()]
            .into_iter()
            .flatten()
        {
            // A panicked thread has nothing left to report.
            t.join().ok();
        }
    }

    /// The service polled, for titles and messages.
    pub fn target(&self) -> &Target {
        self.shared.client.target()
    }

    /// The folder the captures are saved in, to open or reload them.
    pub fn session_dir(&self) -> &Path {
        self.shared.session.dir()
    }

    /// The session's manifest as written so far.
    pub fn manifest(&self) -> Manifest {
        self.shared.session.manifest()
    }

    /// What the server's index lists, once read.
    pub fn server_info(&self) -> Option<ServerInfo> {
        Shared::lock(&self.shared.server).clone()
    }

    fn unpark(&self) {
        if let Some(t) = &self.poll_thread {
            t.thread().unpark();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop();
    }
}

fn poll_loop(shared: &Shared, config: &LiveConfig) {
    shared.emit(LiveEvent::State(ConnectionState::Connecting));
    let mut probed = false;
    let mut connected = false;
    let mut ever_connected = false;
    let mut failures = 0u32;
    let mut taken = 0u32;
    // Goroutines of the last snapshot, to see the service restart.
    let mut last_total: Option<u64> = None;
    let mut was_paused = false;
    let mut next = Instant::now();
    while !shared.stopping() {
        let paused = shared.paused.load(Ordering::Relaxed);
        if paused != was_paused {
            shared.emit(if paused {
                LiveEvent::Paused
            } else {
                LiveEvent::Resumed
            });
            was_paused = paused;
            if !paused {
                next = Instant::now();
            }
        }
        let now = Instant::now();
        if paused || now < next {
            let wait = if paused { TICK } else { (next - now).min(TICK) };
            std::thread::park_timeout(wait);
            continue;
        }
        let attempt = Instant::now();
        let mut result = Ok(None);
        if !probed {
            match probe(shared) {
                Ok(()) => {
                    probed = true;
                    shared.probed.store(true, Ordering::SeqCst);
                }
                Err(f) if f.error.is_unreachable() => result = Err(f),
                Err(f) => {
                    // Answered, but no usable index: poll anyway, do not ask again.
                    probed = true;
                    shared.probed.store(true, Ordering::SeqCst);
                    shared.emit(LiveEvent::Failed(f));
                }
            }
        }
        if result.is_ok() {
            result =
                capture(shared, &CaptureKind::Goroutine, None, &|| shared.stopping()).map(Some);
        }
        if shared.stopping() {
            break;
        }
        match result {
            Ok(captured) => {
                if !connected {
                    connected = true;
                    ever_connected = true;
                    shared.emit(LiveEvent::State(ConnectionState::Connected));
                }
                let after_outage = failures > 0;
                failures = 0;
                taken += 1;
                if let Some(c) = captured {
                    if let Some(n) = c.record.goroutines {
                        if last_total.is_some_and(|p| looks_like_restart(p, n, after_outage)) {
                            // Best effort: the capture itself is saved either way.
                            shared.session.add_restart(c.record.started_at_ns).ok();
                        }
                        last_total = Some(n);
                    }
                    shared.emit(LiveEvent::Captured(Box::new(c)));
                }
                if config.snapshots.is_some_and(|n| taken >= n) {
                    shared.emit(LiveEvent::PollingDone { snapshots: taken });
                    return;
                }
                next = (attempt + config.interval).max(Instant::now());
            }
            Err(f) => {
                connected = false;
                failures += 1;
                let retry_in = config.backoff.delay(failures);
                let last_error = f.error.to_string();
                let unreachable = f.error.is_unreachable();
                let local = f.error.is_local();
                let misconfigured = !ever_connected && f.error.is_misconfiguration();
                shared.emit(LiveEvent::Failed(f));
                if local {
                    shared.stop_with(StopReason::SessionFolder(last_error));
                    break;
                }
                if misconfigured {
                    shared.stop_with(StopReason::GaveUp {
                        failures,
                        last_error,
                    });
                    break;
                }
                if config.give_up_after.is_some_and(|n| failures >= n) {
                    shared.stop_with(StopReason::GaveUp {
                        failures,
                        last_error,
                    });
                    break;
                }
                shared.emit(LiveEvent::State(ConnectionState::Retrying {
                    failures,
                    retry_in,
                    unreachable,
                    last_error,
                }));
                next = Instant::now() + retry_in;
            }
        }
    }
}

/// Runs on-demand captures as they are asked for. A trace and a CPU
/// profile take the seconds they cover, so each runs on a thread of its own
/// (scoped: they end before the loop does): the CPU profile starts with the
/// first snapshot as documented instead of waiting for a trace, and a
/// `debug=2` dump asked meanwhile is not held back either.
fn capture_loop(shared: &Shared, requests: &mpsc::Receiver<(CaptureId, CaptureKind)>) {
    std::thread::scope(|scope| {
        while !shared.stopping() {
            let (id, kind) = match requests.recv_timeout(TICK) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if kind.seconds().is_some() {
                let spawned = std::thread::Builder::new()
                    .name(format!("leakscope-{}", kind.name()))
                    .spawn_scoped(scope, {
                        let kind = kind.clone();
                        move || on_demand(shared, id, &kind)
                    });
                if spawned.is_ok() {
                    continue;
                }
            }
            on_demand(shared, id, &kind);
        }
    });
}

/// How long a capture that depends on the server's index waits for it.
const PROBE_WAIT: Duration = Duration::from_secs(10);

/// Timed captures retried after a failure that may pass (the service
/// restarting, a profile already running), with the pause before each.
const TIMED_RETRIES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// One on-demand capture, its outcome sent as an event.
fn on_demand(shared: &Shared, id: CaptureId, kind: &CaptureKind) {
    let url = shared.client.target().url(&kind.endpoint());
    let fail = |error| {
        LiveEvent::Failed(Box::new(Failure {
            id: Some(id),
            kind: Some(kind.clone()),
            error,
            kept: None,
            at_ns: now_ns(),
        }))
    };
    if *kind == CaptureKind::GoroutineLeak {
        // Whether the server offers it is in its index: wait for the first
        // poll to have read it, as captures asked at start would not.
        let known = || shared.probed.load(Ordering::SeqCst) || shared.stopping();
        sleep_unless(PROBE_WAIT, &known);
    }
    if shared.is_cancelled(id) {
        shared.emit(fail(LiveError::Cancelled { url }));
    } else if *kind == CaptureKind::GoroutineLeak
        && Shared::lock(&shared.server)
            .as_ref()
            .is_some_and(|s| !s.offers("goroutineleak"))
    {
        let error = LiveError::NotOffered {
            url: url.clone(),
            profile: "goroutineleak".to_owned(),
            hint: "it needs a Go version with the goroutine leak profile",
        };
        // Best effort: the event carries the message either way.
        shared
            .session
            .record_failure(kind.name(), &url, &error.to_string())
            .ok();
        shared.emit(fail(error));
    } else {
        let cancelled = || shared.is_cancelled(id) || shared.stopping();
        let mut result = capture(shared, kind, Some(id), &cancelled);
        if kind.seconds().is_some() {
            for pause in TIMED_RETRIES {
                match &result {
                    Err(f) if may_pass(&f.error) && f.kept.is_none() && !cancelled() => {
                        sleep_unless(pause, &cancelled);
                        result = capture(shared, kind, Some(id), &cancelled);
                    }
                    _ => break,
                }
            }
        }
        shared.emit(match result {
            Ok(c) => LiveEvent::Captured(Box::new(c)),
            Err(f) => LiveEvent::Failed(f),
        });
    }
    Shared::lock(&shared.cancelled).remove(&id);
}

/// Whether a failed capture is worth trying again: the service was out of
/// reach for a moment or answered with a server error, not with something
/// that retrying cannot change.
fn may_pass(error: &LiveError) -> bool {
    (error.is_unreachable() && !matches!(error, LiveError::Tls { .. }))
        || matches!(error, LiveError::HttpStatus { status, .. } if *status >= 500)
}

/// Sleeps `d` in short steps, waking early when `stop` says so.
fn sleep_unless(d: Duration, stop: &dyn Fn() -> bool) {
    let until = Instant::now() + d;
    while !stop() {
        let now = Instant::now();
        if now >= until {
            break;
        }
        std::thread::sleep((until - now).min(TICK));
    }
}

/// Reads the index page into [`Shared::server`].
fn probe(shared: &Shared) -> Result<(), Box<Failure>> {
    let info = save::read_index(&shared.client, Some(&shared.session), &|| shared.stopping())
        .map_err(|error| {
            Box::new(Failure {
                id: None,
                kind: None,
                error,
                kept: None,
                at_ns: now_ns(),
            })
        })?;
    *Shared::lock(&shared.server) = Some(info.clone());
    shared.emit(LiveEvent::ServerInfo(info));
    Ok(())
}

/// Fetches one capture into the session folder; see [`Captured`] and [`Failure`].
fn capture(
    shared: &Shared,
    kind: &CaptureKind,
    id: Option<CaptureId>,
    cancelled: &dyn Fn() -> bool,
) -> Result<Captured, Box<Failure>> {
    let seconds = kind.seconds();
    let progress = |bytes: u64, elapsed: Duration| {
        if let Some(id) = id {
            shared.emit(LiveEvent::Progress {
                id,
                kind: kind.clone(),
                bytes,
                elapsed,
                fraction: seconds
                    .filter(|s| !s.is_zero())
                    .map(|s| (elapsed.as_secs_f32() / s.as_secs_f32()).min(1.0)),
            });
        }
    };
    let watch = Watch {
        cancelled,
        progress: &progress,
    };
    match save::save(&shared.client, &shared.session, kind, &watch) {
        Ok(s) => Ok(Captured {
            id,
            kind: kind.clone(),
            path: s.path,
            record: s.record,
            loaded: s.loaded,
        }),
        Err(n) => Err(Box::new(Failure {
            id,
            kind: Some(kind.clone()),
            error: n.error,
            kept: n.kept,
            at_ns: now_ns(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(700),
        };
        let ms: Vec<u128> = (1..=6).map(|f| b.delay(f).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 700, 700, 700]);
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(700));
    }
}
