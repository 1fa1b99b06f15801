//! `leakscope watch`: the always-on side.
//!
//! A watcher polls each target's goroutine profile (and any count profile
//! the service registers of its own) cheaply and often — `debug=0` stops
//! the world for a short, fixed time — keeps a bounded window of snapshots
//! per target and the growth ranking of that window current, and exports
//! both as Prometheus metrics. When a trigger fires ([`trigger`]) it takes
//! the expensive evidence once and writes it with the window as an incident
//! folder ([`incident`]) that `inspect`, `report` and the app open as a
//! session.
//!
//! Targets share a bounded pool of threads (`pool`), so one slow or dead
//! target never delays another and a fleet of a hundred costs a handful of
//! threads; they come from the command line or from discovery
//! ([`discover`]: a Prometheus scrape job, a file). Every wait checks the
//! stop flag at least every 100 ms.

pub mod discover;
pub mod incident;
pub mod metrics;
mod pool;
pub mod server;
pub mod trigger;
pub mod window;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::analysis::AnalysisOptions;
use crate::live::{
    Backoff, CaptureKind, Client, FetchLimits, Header, LiveError, ServerInfo, SessionWriter,
    Target, Timeouts, TlsFiles, Watch, fetch_profile, read_index,
};
use crate::model::incident::Incident;
use crate::model::time::format_rfc3339;

pub use incident::EvidencePlan;
pub use metrics::Metrics;
pub use server::{ListenConfig, Server};
pub use trigger::{Proven, TriggerConfig, Triggers};
pub use window::{GroupView, Snap, Window};

const TICK: Duration = Duration::from_millis(100);
/// Polls between attempts to read a server's index when it could not be read.
const INDEX_RETRY_POLLS: u64 = 10;

/// Everything a watcher is told.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// The services watched from the start (discovery may add more).
    pub targets: Vec<Target>,
    /// Sent to every target; one set of credentials for the whole fleet.
    pub headers: Vec<Header>,
    /// Certificates for https targets, shared by all of them.
    pub tls: TlsFiles,
    /// Incident folders go under `out/incidents/`.
    pub out: PathBuf,
    /// Time between polls of each target; also bounds the retry backoff (4 times it).
    pub interval: Duration,
    /// Snapshots kept per target and profile.
    pub window: usize,
    /// Count profiles of the service's own, polled and ranked beside goroutines.
    pub profiles: Vec<String>,
    /// When a target's numbers make an incident.
    pub triggers: TriggerConfig,
    /// How often the goroutineleak profile is read (each read forces a GC).
    pub leak_every: Duration,
    /// What is captured into an incident folder when a trigger fires.
    pub evidence: EvidencePlan,
    /// Disk the incident folders may use together.
    pub disk_cap: u64,
    /// Growing groups per target and profile in the metrics.
    pub top_k: usize,
    /// Connect and receive timeouts of every request.
    pub timeouts: Timeouts,
    /// Size caps on bodies, so one huge answer cannot exhaust the watcher.
    pub limits: FetchLimits,
    /// Waits after failed polls of a target, capped at 4 intervals.
    pub backoff: Backoff,
    /// Stop after this many polls per target (tests, measurements).
    pub polls: Option<u64>,
    /// Targets found (again every refresh) in Prometheus or a file.
    pub discovery: Option<discover::Discovered>,
    /// Threads polling: targets share them (see `pool`).
    pub workers: usize,
    /// How windows are analysed; the count profile is set per profile watched.
    pub analysis: AnalysisOptions,
}

impl WatchConfig {
    /// Defaults for a fleet: a poll every 15 s, a window of 60, 1 GiB of incidents.
    pub fn new(targets: Vec<Target>, out: PathBuf) -> WatchConfig {
        WatchConfig {
            targets,
            headers: Vec::new(),
            tls: TlsFiles::default(),
            out,
            interval: Duration::from_secs(15),
            window: 60,
            profiles: Vec::new(),
            triggers: TriggerConfig::default(),
            leak_every: Duration::from_secs(600),
            evidence: EvidencePlan::default(),
            disk_cap: 1 << 30,
            top_k: 10,
            timeouts: Timeouts::default(),
            limits: FetchLimits::default(),
            backoff: Backoff::default(),
            polls: None,
            discovery: None,
            workers: 8,
            analysis: AnalysisOptions::default(),
        }
    }

    /// Where incident folders go.
    pub fn incidents_dir(&self) -> PathBuf {
        self.out.join("incidents")
    }
}

/// What a target's watch came to, when it ends.
#[derive(Clone, Debug, Default)]
pub struct TargetSummary {
    /// The target's base URL, as in the metrics' `target` label.
    pub target: String,
    /// Poll attempts, failed ones included.
    pub polls: u64,
    /// Poll attempts that failed.
    pub failures: u64,
    /// Restarts of the service seen in its goroutine counts.
    pub restarts: u64,
    /// Incident folders written.
    pub incidents: Vec<PathBuf>,
    /// The ranking of its goroutine window when the watch ended (to rank
    /// the fleet's groups together: [`crate::analysis::fleet`]).
    pub window: Option<crate::pipeline::Findings>,
}

/// The lines a watcher logs (stderr for the CLI).
pub type Log<'a> = dyn Fn(&str) + Sync + 'a;

/// Watches every target until `stop` is set (or each has made
/// `config.polls` polls). Returns one summary per target.
pub fn run(
    config: &WatchConfig,
    metrics: &Metrics,
    stop: &AtomicBool,
    log: &Log<'_>,
) -> Result<Vec<TargetSummary>, LiveError> {
    pool::run(config, metrics, stop, log)
}

/// A client for one target, as the configuration says to reach it.
pub fn client_for(config: &WatchConfig, target: &Target) -> Result<Client, LiveError> {
    Client::new(
        target.clone(),
        config.headers.clone(),
        config.timeouts,
        config.limits,
    )
    .with_tls(&config.tls)
}

/// A profile watched on one target.
struct Watched {
    kind: CaptureKind,
    window: Window,
    triggers: Triggers,
}

/// One target's state between polls.
struct TargetState<'a> {
    config: &'a WatchConfig,
    client: Client,
    metrics: &'a Metrics,
    log: &'a Log<'a>,
    label: String,
    watched: Vec<Watched>,
    server: Option<ServerInfo>,
    last_leak_poll: Option<Instant>,
    /// The newest incident folder and its record: triggers that fire within
    /// the cooldown join it instead of costing the service another round of
    /// captures.
    last_incident: Option<(PathBuf, Incident)>,
    summary: TargetSummary,
    /// Failed polls in a row.
    failures: u32,
    /// When the next poll is due.
    next: Instant,
}

impl<'a> TargetState<'a> {
    fn new(
        config: &'a WatchConfig,
        client: Client,
        metrics: &'a Metrics,
        log: &'a Log<'a>,
    ) -> Option<TargetState<'a>> {
        let mut kinds = vec![CaptureKind::Goroutine];
        kinds.extend(
            config
                .profiles
                .iter()
                .map(|p| CaptureKind::Named(p.clone())),
        );
        let mut watched = Vec::new();
        for kind in kinds {
            let triggers = match config.triggers.compile() {
                Ok(t) => t,
                Err(e) => {
                    log(&format!("triggers: {e}"));
                    return None;
                }
            };
            let options = AnalysisOptions {
                count_profile: match &kind {
                    CaptureKind::Named(name) => Some(name.clone()),
                    _ => None,
                },
                ..config.analysis.clone()
            };
            watched.push(Watched {
                kind,
                window: Window::new(config.window, options),
                triggers,
            });
        }
        let label = client.target().base_url();
        Some(TargetState {
            config,
            client,
            metrics,
            log,
            summary: TargetSummary {
                target: label.clone(),
                ..TargetSummary::default()
            },
            label,
            watched,
            server: None,
            last_leak_poll: None,
            last_incident: None,
            failures: 0,
            next: Instant::now(),
        })
    }

    /// The summary with the goroutine window's ranking as it is now.
    fn finish(&self) -> TargetSummary {
        TargetSummary {
            window: self.watched.first().map(|w| w.window.findings().clone()),
            ..self.summary.clone()
        }
    }

    /// Whether it has made every poll it was asked for.
    fn done(&self) -> bool {
        self.config.polls.is_some_and(|n| self.summary.polls >= n)
    }

    /// One poll, then when the next is due: the interval after a good one,
    /// a growing backoff (at most four intervals) after failures.
    fn step(&mut self, stopping: &dyn Fn() -> bool) {
        let attempt = Instant::now();
        match self.poll(self.failures > 0, stopping) {
            Ok(()) => {
                self.failures = 0;
                self.next = attempt + self.config.interval;
            }
            Err(e) => {
                self.failures += 1;
                self.summary.failures += 1;
                if self.failures == 1 || self.failures.is_multiple_of(10) {
                    (self.log)(&format!(
                        "{}: poll failed ({} in a row): {e}",
                        self.label, self.failures
                    ));
                }
                let cap = self.config.interval.max(TICK) * 4;
                self.next = Instant::now() + self.config.backoff.delay(self.failures).min(cap);
            }
        }
        self.summary.polls += 1;
    }

    /// One poll of every watched profile, then the triggers.
    fn poll(&mut self, after_outage: bool, stopping: &dyn Fn() -> bool) -> Result<(), LiveError> {
        if self.server.is_none() && self.summary.polls.is_multiple_of(INDEX_RETRY_POLLS) {
            self.server = read_index(&self.client, None, stopping).ok();
        }
        let watch = Watch {
            cancelled: stopping,
            progress: &|_, _| {},
        };
        for w in &mut self.watched {
            let started = Instant::now();
            let fetched = fetch_profile(&self.client, &w.kind.endpoint(), &watch);
            let (body, mut loaded) = match fetched {
                Ok(f) => f,
                Err(e) => {
                    self.metrics.poll_failed(&self.label, error_kind(&e));
                    return Err(e);
                }
            };
            self.metrics
                .captured(&self.label, w.kind.name(), started.elapsed().as_secs_f64());
            let at_ns = crate::live::now_ns();
            loaded.set_captured_at(at_ns);
            let total = window::total_of(&loaded);
            let snap = Snap {
                at_ns,
                body: body.into(),
                loaded,
                total,
                restart: false,
            };
            if w.window.push(snap, after_outage) && w.kind == CaptureKind::Goroutine {
                self.summary.restarts += 1;
                self.metrics.restarted(&self.label);
                (self.log)(&format!(
                    "{}: restarted (goroutines fell to {total}); counts must pass where they were before a trigger fires",
                    self.label
                ));
            }
            self.metrics.set_profile(
                &self.label,
                w.kind.name(),
                total,
                w.window.groups(),
                self.config.top_k,
            );
        }
        self.metrics.set_up(&self.label, true);
        let proven = self.poll_leak_profile(stopping);
        self.evaluate(proven.as_ref(), stopping);
        Ok(())
    }

    /// Reads the goroutineleak profile when it is due and offered.
    fn poll_leak_profile(&mut self, stopping: &dyn Fn() -> bool) -> Option<Proven> {
        let offered = self
            .server
            .as_ref()
            .is_some_and(|s| s.offers("goroutineleak"));
        let due = self
            .last_leak_poll
            .is_none_or(|t| t.elapsed() >= self.config.leak_every);
        if !self.config.triggers.proven || !offered || !due {
            return None;
        }
        self.last_leak_poll = Some(Instant::now());
        let watch = Watch {
            cancelled: stopping,
            progress: &|_, _| {},
        };
        let started = Instant::now();
        match fetch_profile(&self.client, &CaptureKind::GoroutineLeak.endpoint(), &watch) {
            Ok((body, loaded)) => {
                self.metrics.captured(
                    &self.label,
                    CaptureKind::GoroutineLeak.name(),
                    started.elapsed().as_secs_f64(),
                );
                let proven = proven_of(body, loaded, &self.config.analysis);
                self.metrics.set_proven(&self.label, proven.total);
                Some(proven)
            }
            Err(e) => {
                self.metrics.poll_failed(&self.label, error_kind(&e));
                (self.log)(&format!("{}: goroutineleak: {e}", self.label));
                None
            }
        }
    }

    /// Asks every trigger; writes one incident for all that fired.
    fn evaluate(&mut self, proven: Option<&Proven>, stopping: &dyn Fn() -> bool) {
        let now = crate::live::now_ns();
        let mut fired = Vec::new();
        for (i, w) in self.watched.iter_mut().enumerate() {
            // The runtime's proof is about goroutines: asked once.
            let proven = if i == 0 { proven } else { None };
            fired.extend(w.triggers.evaluate(w.kind.name(), &w.window, now, proven));
        }
        if fired.is_empty() {
            return;
        }
        for f in &fired {
            self.metrics.fired(&self.label, &f.profile, &f.trigger);
            (self.log)(&format!("{}: trigger {}", self.label, f.summary()));
        }
        let cooldown = Duration::from_secs_f64(self.config.triggers.cooldown_secs.max(0.0));
        let cooldown_ns = i64::try_from(cooldown.as_nanos()).unwrap_or(i64::MAX);
        if let Some((dir, record)) = &mut self.last_incident
            && now.saturating_sub(record.fired_at_ns) < cooldown_ns
        {
            record.triggers.extend(fired);
            let joined = SessionWriter::open(dir, self.client.target(), Vec::new())
                .and_then(|w| w.set_incident(record.clone()));
            match joined {
                Ok(()) => (self.log)(&format!(
                    "{}: joined incident {} (it is within the cooldown)",
                    self.label,
                    dir.display()
                )),
                Err(e) => (self.log)(&format!("{}: incident record not updated: {e}", self.label)),
            }
            return;
        }
        let incident = Incident {
            fired_at: format_rfc3339(now),
            fired_at_ns: now,
            triggers: fired,
        };
        self.write_incident(incident, stopping);
    }

    fn write_incident(&mut self, incident: Incident, stopping: &dyn Fn() -> bool) {
        let windows: Vec<incident::WindowSnaps<'_>> = self
            .watched
            .iter()
            .map(|w| incident::WindowSnaps {
                kind: w.kind.clone(),
                snaps: w.window.snaps().collect(),
            })
            .collect();
        let server = self.server.clone();
        let offers = |name: &str| server.as_ref().is_some_and(|s| s.offers(name));
        let parent = self.config.incidents_dir();
        let started = Instant::now();
        let written = incident::write(
            &parent,
            &self.client,
            &windows,
            incident.clone(),
            &self.config.evidence,
            &offers,
            stopping,
        );
        match written {
            Ok(w) => {
                self.metrics
                    .captured(&self.label, "incident", started.elapsed().as_secs_f64());
                (self.log)(&format!(
                    "{}: incident {} ({} captures)",
                    self.label,
                    w.dir.display(),
                    w.captures.len()
                ));
                for m in &w.missed {
                    (self.log)(&format!("{}:   not captured: {m}", self.label));
                }
                for (path, size) in incident::enforce_cap(&parent, self.config.disk_cap, &w.dir) {
                    self.metrics.incident_removed();
                    (self.log)(&format!(
                        "removed incident {} ({} bytes) to stay under the disk cap of {} bytes",
                        path.display(),
                        size,
                        self.config.disk_cap
                    ));
                }
                self.summary.incidents.push(w.dir.clone());
                self.last_incident = Some((w.dir, incident));
            }
            Err(e) => (self.log)(&format!("{}: incident not written: {e}", self.label)),
        }
    }
}

/// What a goroutineleak profile proved: its total and its largest group.
fn proven_of(
    body: Vec<u8>,
    mut loaded: crate::formats::Loaded,
    options: &AnalysisOptions,
) -> Proven {
    let at_ns = crate::live::now_ns();
    loaded.set_captured_at(at_ns);
    let total = window::total_of(&loaded);
    let mut w = Window::new(2, options.clone());
    w.push(
        Snap {
            at_ns,
            body: body.into(),
            loaded,
            total,
            restart: false,
        },
        false,
    );
    let top = w.groups().iter().max_by_key(|g| g.proven).cloned();
    Proven { total, top }
}

/// A short, stable name for the kind of a failed poll (a metric label).
pub fn error_kind(e: &LiveError) -> &'static str {
    match e {
        LiveError::ConnectionRefused { .. }
        | LiveError::Dns { .. }
        | LiveError::ConnectionLost { .. } => "unreachable",
        LiveError::ConnectTimeout { .. } | LiveError::ReadTimeout { .. } => "timeout",
        LiveError::Tls { .. } | LiveError::BadCertificate { .. } => "tls",
        LiveError::Unauthorized { .. } => "unauthorized",
        LiveError::NotFound { .. } | LiveError::NotOffered { .. } => "not_found",
        LiveError::HttpStatus { .. } | LiveError::Http { .. } => "http",
        LiveError::NotAProfile { .. } | LiveError::Unreadable { .. } => "unreadable",
        LiveError::Truncated { .. } | LiveError::BodyTooLarge { .. } => "truncated",
        LiveError::OffOriginRedirect { .. } | LiveError::TooManyRedirects { .. } => "redirect",
        _ => "other",
    }
}
