//! `leakscope capture URL`: the live poller without the app. Takes
//! goroutine snapshots of a running service, plus a trace, a `debug=2` dump
//! and other profiles on request, saves each into a session folder, prints
//! one line per saved file and ends with the groups that grew.
//!
//! The trace and a CPU profile start with the first snapshot, so they see
//! the leak happen; the `debug=2` dump and the other profiles come after
//! the last snapshot, when the leak is largest.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::connection::{ConnectionArgs, DiscoveryArgs};

use crate::analysis::{AnalysisOptions, wording};
use crate::live::{
    self, Backoff, CaptureId, CaptureKind, ConnectionState, LiveConfig, LiveEvent, Poller,
    StopReason, Target,
};
use crate::model::time::format_duration_ns;
use crate::pipeline::{Findings, InputSpec};

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The service's pprof URL as you would paste it: host:6060,
    /// http://host:6060/debug/pprof/, …/debug/pprof/goroutine, https://….
    /// Or none, with --targets-from or --targets-file: every instance into
    /// a folder of its own.
    #[arg(required_unless_present_any = ["targets_from", "targets_file"])]
    url: Option<String>,
    #[command(flatten)]
    discover: DiscoveryArgs,
    /// Goroutine snapshots to take.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    snapshots: u32,
    /// Time between snapshots: 500ms, 5s, 1m, 1m30s.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    interval: Duration,
    /// Also capture an execution trace this long, starting with the first snapshot.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    trace: Option<Duration>,
    /// Also save a goroutine dump with wait times (`?debug=2`) after the last snapshot.
    #[arg(long)]
    debug2: bool,
    /// Other profiles to save: cpu (starts with the first snapshot), heap,
    /// allocs, block, mutex, threadcreate, goroutineleak (after the last).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    profiles: Vec<String>,
    /// Do not take the runtime's goroutineleak profile, which is taken by
    /// default after the last snapshot when the server offers it (each one
    /// costs the service a garbage collection).
    #[arg(long)]
    no_goroutineleak: bool,
    /// Length of the CPU profile.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    cpu_seconds: Duration,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Folder to save into (default ./leakscope-HOST-PORT-TIME); a session of
    /// the same URL in it is continued, never overwritten.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Stop after this many failed snapshots in a row (retries back off from
    /// 1 s to 30 s, so a restarting service is waited for).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    give_up_after: u32,
}

/// `5s`, `500ms`, `1m30s`, `2.5s`, `1h`; a bare number is seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let err = || format!("{s:?} is not a duration; write it like 500ms, 5s, 1m30s");
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| err());
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let (num, tail) = rest.split_at(num_len);
        let value: f64 = num.parse().map_err(|_| err())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += value * scale;
        rest = tail;
    }
    Duration::try_from_secs_f64(total).map_err(|_| err())
}

pub fn run(args: &CaptureArgs) -> ExitCode {
    let discovered = match args.discover.discovered(Duration::from_secs(60)) {
        Ok(d) => d,
        Err(e) => return super::fail(&e),
    };
    match (discovered, &args.url) {
        (Some(d), _) => capture_fleet(args, &d),
        (None, Some(url)) => capture_one(args, url, args.out.clone()),
        (None, None) => super::fail(&"give the service's URL, --targets-from or --targets-file"),
    }
}

/// Every instance the discovery lists, at once, each into `OUT/<instance>/`;
/// then the groups of all of them ranked together.
fn capture_fleet(args: &CaptureArgs, discovered: &crate::watch::discover::Discovered) -> ExitCode {
    let targets = match discovered.list(&|| false) {
        Ok(t) if t.is_empty() => return super::fail(&"the discovery lists no targets"),
        Ok(t) => t,
        Err(e) => return super::fail(&e),
    };
    let root = args.out.clone().unwrap_or_else(|| {
        let stamp: String = crate::model::time::format_rfc3339(live::now_ns())
            .chars()
            .take(19)
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        PathBuf::from(format!("leakscope-fleet-{stamp}Z"))
    });
    println!(
        "capturing {} instances into {}",
        targets.len(),
        root.display()
    );
    let codes: Vec<(std::path::PathBuf, ExitCode)> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| {
                let dir = root.join(t.label());
                let url = t.base_url();
                scope.spawn(move || {
                    let code = capture_one(args, &url, Some(dir.clone()));
                    (dir, code)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let dirs: Vec<PathBuf> = codes
        .iter()
        .filter(|(_, c)| *c == ExitCode::SUCCESS)
        .map(|(d, _)| d.clone())
        .collect();
    if let Some(instances) = super::fleet::instances(&dirs) {
        let loaded = super::fleet::load(
            &instances,
            &crate::formats::LoadOptions::default(),
            &AnalysisOptions::default(),
        );
        print!(
            "\n{}",
            super::fleet::render_text(&super::fleet::rank(&loaded), false)
        );
    }
    if dirs.len() == codes.len() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "leakscope: {} of {} instances could not be captured in full",
            codes.len() - dirs.len(),
            codes.len()
        );
        ExitCode::from(1)
    }
}

/// One line per saved file: what it is and how big.
fn print_saved(c: &live::Captured) {
    let mut facts = vec![
        c.kind.name().to_owned(),
        format!("{} bytes", c.record.bytes),
    ];
    if let Some(n) = c.record.goroutines {
        facts.push(format!("{n} goroutines"));
    }
    if let Some(r) = &c.record.partial_reason {
        facts.push(format!("PARTIAL: {r}"));
    }
    println!("saved {}  ({})", c.path.display(), facts.join(", "));
}

/// One service into one session folder.
fn capture_one(args: &CaptureArgs, url: &str, out: Option<PathBuf>) -> ExitCode {
    let config = match config(args, url, out) {
        Ok(c) => c,
        Err(e) => return super::fail(&e),
    };
    let mut start_kinds = Vec::new();
    let mut end_kinds = Vec::new();
    if let Some(d) = args.trace {
        start_kinds.push(CaptureKind::Trace(d));
    }
    for name in &args.profiles {
        match CaptureKind::from_name(name, args.cpu_seconds) {
            Some(k @ CaptureKind::Cpu(_)) => start_kinds.push(k),
            Some(CaptureKind::Goroutine) | None => {
                return super::fail(&format!(
                    "--profiles: unknown profile {name:?}; expected cpu, heap, allocs, block, mutex, threadcreate, goroutineleak"
                ));
            }
            Some(k) => end_kinds.push(k),
        }
    }
    if args.debug2 {
        end_kinds.insert(0, CaptureKind::GoroutineDebug2);
    }
    leak_profile_first(&mut end_kinds);

    let dir = config.session_dir.clone();
    let (poller, events) = match Poller::start(config, || {}) {
        Ok(p) => p,
        Err(e) => return super::fail(&e),
    };
    println!("saving into {}", dir.display());
    let mut outstanding: HashSet<CaptureId> =
        start_kinds.into_iter().map(|k| poller.request(k)).collect();
    let mut end_kinds = Some(end_kinds);
    let mut findings = Findings::empty(&AnalysisOptions::default());
    let mut stopped_early = None;
    let mut saved = 0usize;
    let interrupted = super::interrupted();
    let mut stopping = false;
    loop {
        if !stopping && interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            // Captures in flight end as they are (a trace is kept, marked
            // partial) and nothing new is asked.
            eprintln!("interrupted: keeping what arrived");
            stopping = true;
            end_kinds = None;
            poller.stop();
        }
        let event = match events.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(e) => e,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            LiveEvent::Captured(c) => {
                saved += 1;
                print_saved(&c);
                if let Some(id) = c.id {
                    outstanding.remove(&id);
                }
                if c.id.is_none()
                    && let Some(l) = c.loaded
                {
                    findings.append(*l, InputSpec::Path(c.path.clone()));
                }
            }
            LiveEvent::Failed(f) => {
                match &f.kept {
                    Some(p) => eprintln!("failed: {} (kept as {})", f.error, p.display()),
                    None => eprintln!("failed: {}", f.error),
                }
                if let Some(id) = f.id {
                    outstanding.remove(&id);
                }
            }
            LiveEvent::State(ConnectionState::Connected) => {
                eprintln!("connected to {}", poller.target().base_url());
            }
            LiveEvent::State(ConnectionState::Retrying { retry_in, .. }) => {
                eprintln!(
                    "retrying in {}",
                    format_duration_ns(retry_in.as_nanos() as i64)
                );
            }
            LiveEvent::ServerInfo(info) => {
                eprintln!("the server offers: {}", info.names().join(", "));
                if let Some(kinds) = &mut end_kinds
                    && !args.no_goroutineleak
                    && info.offers("goroutineleak")
                    && !kinds.contains(&CaptureKind::GoroutineLeak)
                {
                    kinds.push(CaptureKind::GoroutineLeak);
                    leak_profile_first(kinds);
                }
            }
            LiveEvent::PollingDone { .. } => {
                for k in end_kinds.take().unwrap_or_default() {
                    outstanding.insert(poller.request(k));
                }
            }
            LiveEvent::Stopped { reason } => {
                if reason != StopReason::Requested {
                    stopped_early = Some(reason);
                }
                break;
            }
            LiveEvent::State(_)
            | LiveEvent::Progress { .. }
            | LiveEvent::Paused
            | LiveEvent::Resumed => {}
        }
        if !stopping && end_kinds.is_none() && outstanding.is_empty() {
            break;
        }
    }
    poller.stop_and_join();
    print!("{}", summary(&findings, &dir, saved));
    if stopping {
        eprintln!("leakscope: interrupted; the folder holds what arrived");
        return ExitCode::from(130);
    }
    match stopped_early {
        None => ExitCode::SUCCESS,
        Some(reason) => {
            let why = match reason {
                StopReason::GaveUp {
                    failures: 1,
                    last_error,
                } => format!(
                    "stopped at the first answer, which retrying would not change: {last_error}"
                ),
                StopReason::GaveUp {
                    failures,
                    last_error,
                } => format!("gave up after {failures} failures in a row: {last_error}"),
                StopReason::SessionFolder(e) => e,
                StopReason::Requested => String::new(),
            };
            eprintln!("leakscope: stopped early: {why}");
            ExitCode::from(1)
        }
    }
}

/// The runtime's leak profile goes first among the captures taken after the
/// last snapshot: the garbage collection it runs marks the leaked goroutines,
/// so the `debug=2` dump taken after it shows `(leaked)` on each.
fn leak_profile_first(kinds: &mut Vec<CaptureKind>) {
    if let Some(i) = kinds.iter().position(|k| *k == CaptureKind::GoroutineLeak) {
        let k = kinds.remove(i);
        kinds.insert(0, k);
    }
}

fn config(args: &CaptureArgs, url: &str, out: Option<PathBuf>) -> anyhow::Result<LiveConfig> {
    let target = Target::parse(url)?;
    let dir = match out {
        Some(d) => d,
        None => live::default_session_dir(std::path::Path::new("."), &target),
    };
    let mut config = LiveConfig::new(url, &dir)?;
    let conn = args.connection.resolve()?;
    config.headers = conn.headers;
    config.tls = conn.tls;
    config.interval = args.interval;
    config.snapshots = Some(args.snapshots);
    config.give_up_after = Some(args.give_up_after);
    config.timeouts = conn.timeouts;
    config.limits = conn.limits;
    config.backoff = Backoff::default();
    Ok(config)
}

/// Suspects shown in the closing summary.
const SUMMARY_SUSPECTS: usize = 10;

/// The groups that grew across the polled snapshots, and how to look further.
fn summary(findings: &Findings, dir: &std::path::Path, saved: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let snapshots = findings.session.inputs.len();
    let _ = writeln!(out, "\n{saved} files saved in {}", dir.display());
    if snapshots < 2 {
        let _ = writeln!(
            out,
            "{snapshots} goroutine snapshot(s): growth needs at least two."
        );
    } else {
        let report = findings.report();
        let growing: Vec<_> = report.suspects.iter().filter(|s| s.growing).collect();
        let totals: Vec<String> = report
            .series
            .snapshots
            .iter()
            .map(|s| s.goroutines.to_string())
            .collect();
        let _ = writeln!(
            out,
            "goroutines per snapshot: {}\n{} growing stack groups among {}",
            totals.join(" → "),
            growing.len(),
            report.suspects.len()
        );
        for s in growing.iter().take(SUMMARY_SUSPECTS) {
            let counts: Vec<String> = s.counts.iter().map(u64::to_string).collect();
            let rate = wording::rate(s.per_minute, s.slope);
            let _ = writeln!(
                out,
                "  {}  [{}]  {rate}{}",
                s.function.as_deref().unwrap_or("<no frames>"),
                counts.join(" → "),
                s.wait_reason
                    .as_deref()
                    .map(|w| format!("  waiting: {w}"))
                    .unwrap_or_default()
            );
        }
        if growing.len() > SUMMARY_SUSPECTS {
            let _ = writeln!(out, "  … {} more", growing.len() - SUMMARY_SUSPECTS);
        }
    }
    let _ = writeln!(out, "details: leakscope inspect {}", dir.display());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go() {
        let ms = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(ms("5s"), Ok(5000));
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert_eq!(ms("2.5s"), Ok(2500));
        assert_eq!(ms("3"), Ok(3000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        for bad in ["", "s", "5x", "-1s", "1.2.3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
