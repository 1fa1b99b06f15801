//! `leakscope watch TARGET… --out DIR`: the watcher as a long-running
//! process (a sidecar, or a terminal during an incident). Logs one line
//! per event on stderr, serves `/metrics` and `/healthz`, writes incident
//! folders under `DIR/incidents/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use super::capture::parse_duration;
use super::connection::{ConnectionArgs, DiscoveryArgs};
use crate::live::{Backoff, Target};
use crate::watch::{self, ListenConfig, Metrics, Server, TriggerConfig, WatchConfig};

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Services to watch, as `capture` takes them: host:6060, :6060,
    /// http://host:6060/debug/pprof/, https://…. Or none, with --targets-from
    /// or --targets-file.
    #[arg(required_unless_present_any = ["targets_from", "targets_file"])]
    targets: Vec<String>,
    #[command(flatten)]
    discover: DiscoveryArgs,
    /// How often discovered targets are listed again.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    refresh: Duration,
    /// Threads that poll; targets share them.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    workers: u64,
    /// Folder for incident folders (`DIR/incidents/…`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Time between polls of each target's goroutine profile (debug=0).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    interval: Duration,
    /// Snapshots kept per target and profile: the growth ranking looks at
    /// them, and an incident saves them.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=10_000))]
    window: u64,
    /// Count profiles of the service's own (`pprof.NewProfile` names) to
    /// poll and rank beside goroutines; repeat or separate with commas.
    #[arg(long = "profile", value_delimiter = ',', value_name = "NAME")]
    profiles: Vec<String>,
    /// A TOML file whose `[triggers]` table sets the triggers; flags win over it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    triggers: TriggerArgs,
    /// How often the runtime's goroutineleak profile is read where offered
    /// (each read costs the service a garbage collection).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    leak_every: Duration,
    /// No debug=2 dump in an incident above this many goroutines: the
    /// service stops for the whole dump.
    #[arg(long, default_value_t = 20_000)]
    dump_limit: u64,
    /// Length of the trace an incident takes (0: none).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    trace: Duration,
    /// No heap profile in incidents.
    #[arg(long)]
    no_heap: bool,
    /// Disk the incident folders may use together, in MiB; the oldest go first.
    #[arg(long, default_value_t = 1024)]
    disk_cap_mib: u64,
    /// Growing groups per target and profile in the metrics.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
    top_k: u64,
    /// Address of /metrics and /healthz. Other than loopback needs --token-file.
    #[arg(long, default_value = "127.0.0.1:9750")]
    listen: SocketAddr,
    /// File holding the bearer token that /metrics requires.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Stop after this many polls of each target (default: run until killed).
    #[arg(long, value_name = "N")]
    polls: Option<u64>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Trigger flags; each overrides the config file.
#[derive(Debug, Args)]
struct TriggerArgs {
    /// Fire when the total is at least this many goroutines…
    #[arg(long, value_name = "N")]
    total_floor: Option<u64>,
    /// …and this multiple of the window's mean (1.25: 25% above).
    #[arg(long, value_name = "RATIO")]
    total_ratio: Option<f64>,
    /// Do not fire when the total doubles within the window.
    #[arg(long)]
    no_doubling: bool,
    /// Fire when one stack group grows this many goroutines per minute…
    #[arg(long, value_name = "PER_MIN")]
    growth_rate: Option<f64>,
    /// …for this long without a break.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    growth_for: Option<Duration>,
    /// Do not fire on the runtime's proof of leaked goroutines.
    #[arg(long)]
    no_proven: bool,
    /// Fire when goroutines have a frame whose function matches this regex…
    #[arg(long = "match", value_name = "REGEX")]
    match_function: Option<String>,
    /// …or a stack this deep or deeper…
    #[arg(long, value_name = "FRAMES")]
    match_depth: Option<u32>,
    /// …and there are at least this many of them.
    #[arg(long, value_name = "N")]
    match_count: Option<u64>,
    /// How long a trigger stays quiet after it fired.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    cooldown: Option<Duration>,
}

/// What the config file may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigFile {
    triggers: TriggerConfig,
}

fn read_config(path: &Path) -> anyhow::Result<TriggerConfig> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file: ConfigFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(file.triggers)
}

impl TriggerArgs {
    fn apply(&self, t: &mut TriggerConfig) {
        if let Some(v) = self.total_floor {
            t.total_floor = v;
        }
        if let Some(v) = self.total_ratio {
            t.total_ratio = v;
        }
        if self.no_doubling {
            t.doubling = false;
        }
        if let Some(v) = self.growth_rate {
            t.growth_per_minute = v;
        }
        if let Some(v) = self.growth_for {
            t.growth_for_secs = v.as_secs_f64();
        }
        if self.no_proven {
            t.proven = false;
        }
        if self.match_function.is_some() {
            t.match_function.clone_from(&self.match_function);
        }
        if self.match_depth.is_some() {
            t.match_depth = self.match_depth;
        }
        if let Some(v) = self.match_count {
            t.match_count = v;
        }
        if let Some(v) = self.cooldown {
            t.cooldown_secs = v.as_secs_f64();
        }
    }
}

fn config(args: &WatchArgs) -> anyhow::Result<WatchConfig> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &args.profiles {
        if !crate::live::is_profile_name(p) {
            anyhow::bail!("--profile {p:?} is not a profile name (letters, digits, . _ - /)");
        }
    }
    let mut config = WatchConfig::new(targets, args.out.clone());
    config.discovery = args.discover.discovered(args.refresh)?;
    config.workers = usize::try_from(args.workers).unwrap_or(8);
    let conn = args.connection.resolve()?;
    config.headers = conn.headers;
    config.tls = conn.tls;
    config.timeouts = conn.timeouts;
    config.limits = conn.limits;
    config.interval = args.interval;
    config.window = usize::try_from(args.window).unwrap_or(60);
    config.profiles.clone_from(&args.profiles);
    let mut triggers = match &args.config {
        Some(path) => read_config(path)?,
        None => TriggerConfig::default(),
    };
    args.triggers.apply(&mut triggers);
    triggers.compile().map_err(anyhow::Error::msg)?;
    config.triggers = triggers;
    config.leak_every = args.leak_every;
    config.evidence.dump_limit = args.dump_limit;
    config.evidence.trace = args.trace;
    config.evidence.heap = !args.no_heap;
    config.disk_cap = args.disk_cap_mib.saturating_mul(1 << 20);
    config.top_k = usize::try_from(args.top_k).unwrap_or(10);
    config.polls = args.polls;
    config.backoff = Backoff {
        initial: Duration::from_secs(1),
        max: args.interval.max(Duration::from_secs(1)) * 4,
    };
    Ok(config)
}

/// With two targets or more, the groups of their windows ranked together.
fn fleet_text(summaries: &[watch::TargetSummary]) {
    let loaded: Vec<(String, crate::pipeline::Findings)> = summaries
        .iter()
        .filter_map(|s| {
            let label = Target::parse(&s.target).map_or_else(|_| s.target.clone(), |t| t.label());
            s.window.clone().map(|w| (label, w))
        })
        .filter(|(_, w)| w.analysis.series.len() >= 2)
        .collect();
    if loaded.len() >= 2 {
        println!(
            "{}",
            super::fleet::render_text(&super::fleet::rank(&loaded), false)
        );
    }
}

pub fn run(args: &WatchArgs) -> ExitCode {
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => return super::fail(&e),
    };
    let token = match &args.token_file {
        Some(p) => match watch::server::read_token(p) {
            Ok(t) => Some(t),
            Err(e) => return super::fail(&e),
        },
        None => None,
    };
    let listen = match ListenConfig::new(args.listen, token) {
        Ok(l) => l,
        Err(e) => return super::fail(&e),
    };
    let metrics = Arc::new(Metrics::new());
    let server = match Server::start(listen, Arc::clone(&metrics)) {
        Ok(s) => s,
        Err(e) => return super::fail(&format!("cannot listen on {}: {e}", args.listen)),
    };
    eprintln!(
        "leakscope watch: {} target(s){} every {}; metrics on http://{}/metrics; incidents in {}",
        config.targets.len(),
        if config.discovery.is_some() {
            " and those discovered"
        } else {
            ""
        },
        crate::model::time::format_duration_ns(
            i64::try_from(config.interval.as_nanos()).unwrap_or(i64::MAX)
        ),
        server.addr(),
        config.incidents_dir().display()
    );
    let stop = super::interrupted();
    let log = |line: &str| eprintln!("leakscope watch: {line}");
    let summaries = match watch::run(&config, &metrics, stop, &log) {
        Ok(s) => s,
        Err(e) => return super::fail(&e),
    };
    drop(server);
    fleet_text(&summaries);
    for s in &summaries {
        println!(
            "{}: {} polls, {} failed, {} restart(s), {} incident(s)",
            s.target,
            s.polls,
            s.failures,
            s.restarts,
            s.incidents.len()
        );
        for dir in &s.incidents {
            println!("  {}", dir.display());
        }
    }
    ExitCode::SUCCESS
}
