//! `leakscope watch` against a service on 127.0.0.1 that replays the real
//! captures of `tests/fixtures/watch/` (a Go 1.27 relay leaking six
//! goroutines per step; ground truth in `s.json` and `r.json` beside them):
//! each trigger and its cooldown, restarts and outages, incident folders
//! that open as sessions, the metrics endpoint's rules, the disk cap, and
//! a real Prometheus firing the alerts of `deploy/prometheus/`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::*;
use common::*;
use leakscope::analysis::AnalysisOptions;
use leakscope::formats::session_dir::{self, Manifest};
use leakscope::live::Target;
use leakscope::pipeline::InputSpec;
use leakscope::progress::Progress;
use leakscope::watch::{
    self, ListenConfig, Metrics, Server, TargetSummary, TriggerConfig, WatchConfig,
};

/// What the replayed service answers to the goroutine profile at a poll.
#[derive(Clone)]
enum Step {
    /// A capture of `tests/fixtures/watch/`, e.g. `s05` or `r02`.
    Capture(&'static str),
    /// Restarting: the port answers 503.
    Down,
}

fn watch_fixture(name: &str) -> Vec<u8> {
    read(&format!("watch/{name}"))
}

/// The service: goroutine polls walk through `steps` (the last repeats);
/// the conns profile follows the same steps; the other profiles are the
/// service's own captures.
fn service(steps: Vec<Step>, offers_leak: bool) -> TestServer {
    let polls = AtomicUsize::new(0);
    let conns = AtomicUsize::new(0);
    let trace = read("trace-go123.out");
    let index = if offers_leak {
        INDEX.replace(
            "<tr><td>12</td><td><a href='heap?debug=1'>heap</a></td></tr>",
            "<tr><td>12</td><td><a href='heap?debug=1'>heap</a></td></tr>\n<tr><td>1</td><td><a href='goroutineleak?debug=1'>goroutineleak</a></td></tr>\n<tr><td>1</td><td><a href='example.com/watchd/conns?debug=1'>example.com/watchd/conns</a></td></tr>",
        )
    } else {
        INDEX.to_owned()
    };
    let at = move |n: &AtomicUsize| {
        let i = n.fetch_add(1, Ordering::Relaxed).min(steps.len() - 1);
        steps[i].clone()
    };
    // What the service's own /metrics says, as a Go service's would: the
    // goroutines of the step served last (s.json: 9 + 6 per step).
    let goroutines = Arc::new(AtomicUsize::new(0));
    TestServer::start_for(100_000, Duration::from_secs(300), move |req: &Request| {
        let query = req.target.split_once('?').map_or("", |(_, q)| q);
        match req.path() {
            "/debug/pprof/" => html(&index),
            "/debug/pprof/goroutine" if query == "debug=2" => {
                ok(watch_fixture("goroutine.debug2.txt"))
            }
            "/debug/pprof/goroutine" => match at(&polls) {
                Step::Capture(name) => {
                    let step: usize = name[1..].parse().unwrap();
                    goroutines.store(9 + 6 * step, Ordering::Relaxed);
                    ok(watch_fixture(&format!("goroutine-{name}.pb.gz")))
                }
                Step::Down => status(503, "restarting"),
            },
            "/metrics" => Reply::Full {
                status: 200,
                headers: vec![("Content-Type", "text/plain; version=0.0.4".into())],
                body: format!(
                    "# TYPE go_goroutines gauge\ngo_goroutines {}\n",
                    goroutines.load(Ordering::Relaxed)
                )
                .into_bytes(),
            },
            "/debug/pprof/example.com/watchd/conns" => match at(&conns) {
                Step::Capture(name) => ok(watch_fixture(&format!("conns-{name}.pb.gz"))),
                Step::Down => status(503, "restarting"),
            },
            "/debug/pprof/goroutineleak" if offers_leak => ok(watch_fixture("goroutineleak.pb.gz")),
            "/debug/pprof/heap" => ok(watch_fixture("heap.pb.gz")),
            "/debug/pprof/trace" => ok(trace.clone()),
            _ => status(404, "404 page not found"),
        }
    })
}

/// `s00` … `s19`: the service's first life, six more leaked per step.
fn first_life() -> Vec<Step> {
    const S: [&str; 20] = [
        "s00", "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", "s12",
        "s13", "s14", "s15", "s16", "s17", "s18", "s19",
    ];
    S.iter().map(|s| Step::Capture(s)).collect()
}

/// `r00` … `r09`: after a restart, regrowing to half of where it was.
fn second_life() -> Vec<Step> {
    const R: [&str; 10] = [
        "r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09",
    ];
    R.iter().map(|s| Step::Capture(s)).collect()
}

/// Triggers that never fire unless a test turns one on.
fn quiet() -> TriggerConfig {
    TriggerConfig {
        total_floor: u64::MAX,
        doubling: false,
        growth_per_minute: f64::MAX,
        proven: false,
        cooldown_secs: 3600.0,
        ..TriggerConfig::default()
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("leakscope-watch-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    d
}

fn config(server: &TestServer, out: &Path, polls: u64, triggers: TriggerConfig) -> WatchConfig {
    let mut c = WatchConfig::new(
        vec![Target::parse(&server.url("")).unwrap()],
        out.to_owned(),
    );
    c.interval = Duration::from_millis(30);
    c.polls = Some(polls);
    c.triggers = triggers;
    c.leak_every = Duration::ZERO;
    c.evidence.trace = Duration::from_secs(1);
    c.backoff.initial = Duration::from_millis(20);
    c.backoff.max = Duration::from_millis(40);
    c
}

/// Runs a watch to its end; the summary of its one target and its log.
fn run(config: &WatchConfig, metrics: &Metrics) -> (TargetSummary, Vec<String>) {
    let log = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let summaries = watch::run(config, metrics, &stop, &|l: &str| {
        log.lock().unwrap().push(l.to_owned());
    })
    .unwrap();
    let log = log.into_inner().unwrap();
    (summaries.into_iter().next().unwrap(), log)
}

fn manifest(dir: &Path) -> Manifest {
    session_dir::read_manifest(dir).unwrap().unwrap()
}

fn kinds(m: &Manifest) -> Vec<&str> {
    m.captures.iter().map(|c| c.kind.as_str()).collect()
}

#[test]
fn growth_trigger_saves_the_window_and_the_evidence_as_a_session() {
    let server = service(first_life(), false);
    let out = temp_dir("growth");
    let triggers = TriggerConfig {
        growth_per_minute: 1.0,
        growth_for_secs: 0.15,
        ..quiet()
    };
    let (summary, log) = run(&config(&server, &out, 24, triggers), &Metrics::new());
    assert_eq!(summary.failures, 0, "{log:?}");
    assert_eq!(
        summary.incidents.len(),
        1,
        "one incident per cooldown: {log:?}"
    );
    let dir = &summary.incidents[0];
    assert!(dir.starts_with(out.join("incidents")));
    let m = manifest(dir);
    let incident = m.incident.clone().expect("the trigger is recorded");
    assert_eq!(incident.triggers.len(), 1);
    let fired = &incident.triggers[0];
    assert_eq!(
        (fired.trigger.as_str(), fired.profile.as_str()),
        ("growth", "goroutine")
    );
    let group = fired.group.as_ref().unwrap();
    assert_eq!(group.site, "main.(*relay).forward");
    assert_eq!(group.wait_reason, "chan send");
    // Six leak per step; the growth needs a few polls to show and hold.
    assert_eq!(group.count % 6, 0, "{group:?}");
    assert!(group.count >= 12, "{group:?}");
    assert!(fired.value >= 1.0 && fired.threshold == 1.0);

    // The window as polled, dated when polled, then the evidence.
    let k = kinds(&m);
    let window = k.iter().take_while(|k| **k == "goroutine").count();
    assert!(window >= 3, "{k:?}");
    assert_eq!(&k[window..], ["goroutine-debug2", "trace", "heap"], "{k:?}");
    let times: Vec<i64> = m.captures[..window]
        .iter()
        .map(|c| c.started_at_ns)
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let first = std::fs::read(dir.join(&m.captures[0].file)).unwrap();
    assert_eq!(
        first,
        watch_fixture("goroutine-s00.pb.gz"),
        "saved as received"
    );

    // The folder opens as a session, with the trigger, ranked the same.
    let findings = findings_of(std::slice::from_ref(dir));
    assert!(findings.errors.is_empty(), "{:?}", findings.errors);
    assert_eq!(findings.incident.as_ref(), Some(&incident));
    let report = findings.report();
    let top = &report.suspects[0];
    assert_eq!(top.function.as_deref(), Some("main.(*relay).forward"));
    assert!(top.growing);
    assert_eq!(*top.counts.last().unwrap(), group.count);
    let text = leakscope::cli::render_inspect_text(&report, false);
    assert!(text.starts_with("INCIDENT"), "{text}");
    assert!(
        text.contains("growth [goroutine]: main.(*relay).forward (chan send) grows"),
        "{text}"
    );
    server.shut_down();
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn proven_trigger_fires_on_the_runtimes_verdict_once_per_cooldown() {
    let steps = vec![Step::Capture("s19")];
    let server = service(steps.clone(), true);
    let out = temp_dir("proven");
    let triggers = TriggerConfig {
        proven: true,
        ..quiet()
    };
    let metrics = Metrics::new();
    let mut c = config(&server, &out, 5, triggers.clone());
    c.evidence.trace = Duration::ZERO;
    let (summary, log) = run(&c, &metrics);
    assert_eq!(summary.incidents.len(), 1, "{log:?}");
    let m = manifest(&summary.incidents[0]);
    let fired = &m.incident.as_ref().unwrap().triggers[0];
    assert_eq!(fired.trigger, "proven");
    // s.json: 19 steps × 6 forwards whose channel nobody else holds.
    assert_eq!(fired.value, 114.0);
    let group = fired.group.as_ref().unwrap();
    assert_eq!(
        (group.site.as_str(), group.count),
        ("main.(*relay).forward", 114)
    );
    assert_eq!(
        kinds(&m),
        ["goroutine", "goroutineleak", "goroutine-debug2", "heap"]
    );
    let text = metrics.encode();
    assert!(text.contains("leakscope_proven_leaked{target=\""), "{text}");
    assert!(
        metric_value(&text, "leakscope_proven_leaked{") == Some(114.0),
        "{text}"
    );
    assert_eq!(
        metric_value(&text, "leakscope_triggers_fired_total{"),
        Some(1.0),
        "the verdict stands every poll; the cooldown keeps it to one: {text}"
    );
    server.shut_down();

    // Without a cooldown every poll is an incident, each in a folder of its own.
    let server = service(steps, true);
    let mut c = config(
        &server,
        &out,
        3,
        TriggerConfig {
            cooldown_secs: 0.0,
            ..triggers
        },
    );
    c.evidence = watch::EvidencePlan {
        leak_profile: false,
        dump_limit: 0,
        trace: Duration::ZERO,
        heap: false,
    };
    let (summary, log) = run(&c, &Metrics::new());
    assert_eq!(summary.incidents.len(), 3, "{log:?}");
    let mut dirs = summary.incidents.clone();
    dirs.sort();
    dirs.dedup();
    assert_eq!(dirs.len(), 3, "never written over: {dirs:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("goroutine-debug2: 123 goroutines, above the dump limit of 0")),
        "{log:?}"
    );
    server.shut_down();
    std::fs::remove_dir_all(&out).ok();
}

/// The value of the first series whose line starts with `prefix`.
fn metric_value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn count_triggers_fire_at_their_thresholds() {
    // total: from 50 goroutines and 125% of the window's mean. Totals are
    // 9 + 6·step (s.json: a pool of 8 and main): 51 at s07.
    let server = service(first_life(), false);
    let out = temp_dir("counts");
    let total = TriggerConfig {
        total_floor: 50,
        ..quiet()
    };
    let (summary, log) = run(&config(&server, &out, 12, total), &Metrics::new());
    let m = manifest(&summary.incidents[0]);
    let fired = &m.incident.as_ref().unwrap().triggers[0];
    assert_eq!(
        (fired.trigger.as_str(), fired.value),
        ("total", 51.0),
        "{log:?}"
    );
    server.shut_down();

    // doubling: twice the first total (9), from 20: 21 at s02.
    let server = service(first_life(), false);
    let doubling = TriggerConfig {
        doubling: true,
        doubling_floor: 20,
        ..quiet()
    };
    let (summary, _) = run(&config(&server, &out, 6, doubling), &Metrics::new());
    let m = manifest(summary.incidents.last().unwrap());
    let fired = &m.incident.as_ref().unwrap().triggers[0];
    assert_eq!((fired.trigger.as_str(), fired.value), ("doubling", 21.0));
    server.shut_down();

    // match: 30 goroutines in the relay's forward, at s05; the window
    // saved ends with that poll.
    let server = service(first_life(), false);
    let matching = TriggerConfig {
        match_function: Some(r"relay\)\.forward$".to_owned()),
        match_count: 30,
        ..quiet()
    };
    let (summary, _) = run(&config(&server, &out, 8, matching), &Metrics::new());
    let m = manifest(summary.incidents.last().unwrap());
    let fired = &m.incident.as_ref().unwrap().triggers[0];
    assert_eq!((fired.trigger.as_str(), fired.value), ("match", 30.0));
    assert_eq!(fired.group.as_ref().unwrap().site, "main.(*relay).forward");
    let last_polled = m
        .captures
        .iter()
        .rev()
        .find(|c| c.kind == "goroutine")
        .unwrap();
    assert_eq!(last_polled.goroutines, Some(39));
    server.shut_down();
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_restart_is_marked_and_regrowth_alone_fires_nothing() {
    let eager = TriggerConfig {
        total_floor: 10,
        doubling: true,
        doubling_floor: 10,
        growth_per_minute: 0.5,
        growth_for_secs: 0.0,
        cooldown_secs: 0.0,
        ..quiet()
    };
    // An outage between the two lives, and a restart between two polls.
    for outage in [true, false] {
        let mut steps = vec![Step::Capture("s19"); 6];
        if outage {
            steps.extend([Step::Down, Step::Down, Step::Down]);
        }
        steps.extend(second_life());
        let polls = steps.len() as u64;
        let server = service(steps, false);
        let out = temp_dir(&format!("restart-{outage}"));
        let metrics = Metrics::new();
        let (summary, log) = run(&config(&server, &out, polls, eager.clone()), &metrics);
        assert_eq!(summary.restarts, 1, "outage {outage}: {log:?}");
        assert_eq!(summary.failures, if outage { 3 } else { 0 });
        assert!(
            summary.incidents.is_empty(),
            "outage {outage}: 9 → 63 goroutines is regrowth below the 123 before: {log:?}"
        );
        assert!(
            log.iter()
                .any(|l| l.contains("restarted (goroutines fell to 9)")),
            "{log:?}"
        );
        let text = metrics.encode();
        assert_eq!(
            metric_value(&text, "leakscope_restarts_total{"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            metric_value(&text, "leakscope_target_up{"),
            Some(1.0),
            "{text}"
        );
        if outage {
            let errors = text
                .lines()
                .find(|l| {
                    l.starts_with("leakscope_scrape_errors_total{") && l.contains("kind=\"http\"")
                })
                .unwrap_or_else(|| panic!("{text}"));
            assert!(
                errors.ends_with(" 3"),
                "three 503s while restarting: {errors}"
            );
        }
        server.shut_down();
        std::fs::remove_dir_all(&out).ok();
    }
}

#[test]
fn count_profiles_of_the_service_are_ranked_like_goroutines() {
    let server = service(first_life(), false);
    let out = temp_dir("conns");
    let triggers = TriggerConfig {
        growth_per_minute: 1.0,
        growth_for_secs: 0.1,
        ..quiet()
    };
    let mut c = config(&server, &out, 10, triggers);
    c.profiles = vec!["example.com/watchd/conns".to_owned()];
    c.evidence.trace = Duration::ZERO;
    let metrics = Metrics::new();
    let (summary, log) = run(&c, &metrics);
    let m = manifest(&summary.incidents[0]);
    let triggers = &m.incident.as_ref().unwrap().triggers;
    let conns = triggers
        .iter()
        .find(|f| f.profile == "example.com/watchd/conns")
        .unwrap_or_else(|| panic!("{log:?}"));
    assert_eq!(conns.group.as_ref().unwrap().site, "main.openConn");
    let text = metrics.encode();
    assert!(
        text.contains("profile=\"example.com/watchd/conns\",site=\"main.openConn\""),
        "{text}"
    );
    // inspect ranks the profile's stacks from the incident folder too.
    let findings = findings_of(&summary.incidents[..1]);
    let report = findings.report();
    let profile = &report.count_profiles[0];
    assert_eq!(profile.profile, "example.com/watchd/conns");
    assert_eq!(
        profile.suspects[0].function.as_deref(),
        Some("main.openConn")
    );
    assert!(profile.suspects[0].growing);
    let counts = &profile.suspects[0].counts;
    assert!(counts.windows(2).all(|w| w[1] == w[0] + 6), "{counts:?}");
    server.shut_down();
    std::fs::remove_dir_all(&out).ok();
}

/// One request to the metrics endpoint: status and body.
fn get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn metrics_listen_on_loopback_and_need_a_token_elsewhere() {
    let err = ListenConfig::new("0.0.0.0:9750".parse().unwrap(), None).unwrap_err();
    assert!(err.contains("--token-file"), "{err}");
    assert!(ListenConfig::new("0.0.0.0:9750".parse().unwrap(), Some("t".into())).is_ok());
    assert!(ListenConfig::new("127.0.0.1:9750".parse().unwrap(), None).is_ok());
    assert!(ListenConfig::new("[::1]:9750".parse().unwrap(), None).is_ok());

    let metrics = Arc::new(Metrics::new());
    metrics.set_up("http://a:6060/debug/pprof/", true);
    let listen = ListenConfig::new("127.0.0.1:0".parse().unwrap(), Some("s3cret".into())).unwrap();
    let server = Server::start(listen, Arc::clone(&metrics)).unwrap();
    let addr = server.addr();
    assert_eq!(get(addr, "/healthz", None), (200, "ok\n".to_owned()));
    assert_eq!(get(addr, "/metrics", None).0, 401);
    assert_eq!(get(addr, "/metrics", Some("s3cre")).0, 401);
    assert_eq!(get(addr, "/metrics", Some("s3cretx")).0, 401);
    let (status, body) = get(addr, "/metrics", Some("s3cret"));
    assert_eq!(status, 200);
    assert!(
        body.contains("leakscope_target_up{target=\"http://a:6060/debug/pprof/\"} 1"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(get(addr, "/other", Some("s3cret")).0, 404);

    let token = std::env::temp_dir().join(format!("leakscope-token-{}", std::process::id()));
    std::fs::write(&token, "  abc123\n").unwrap();
    assert_eq!(watch::server::read_token(&token).unwrap(), "abc123");
    std::fs::write(&token, "two words\n").unwrap();
    assert!(watch::server::read_token(&token).is_err());
    std::fs::remove_file(&token).ok();
}

#[test]
fn incidents_stay_under_the_disk_cap_oldest_first() {
    let parent = temp_dir("cap");
    let mut dirs = Vec::new();
    for i in 0..4 {
        let d = parent.join(format!("incident-{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("manifest.json"), "{}").unwrap();
        std::fs::write(d.join("000001-x-goroutine.pb.gz"), vec![0u8; 10_000]).unwrap();
        let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i);
        std::fs::File::open(&d).unwrap().set_modified(t).ok();
        dirs.push(d);
    }
    std::fs::create_dir_all(parent.join("not-an-incident")).unwrap();
    // Room for two; the newest is the one just written.
    let removed = watch::incident::enforce_cap(&parent, 20_100, &dirs[3]);
    let gone: Vec<&PathBuf> = removed.iter().map(|(p, _)| p).collect();
    assert_eq!(gone, [&dirs[0], &dirs[1]]);
    assert!(dirs[2].exists() && dirs[3].exists());
    assert!(parent.join("not-an-incident").exists());
    // The one just written stays even alone above the cap.
    let removed = watch::incident::enforce_cap(&parent, 0, &dirs[3]);
    assert_eq!(removed.len(), 1);
    assert!(dirs[3].exists());
    std::fs::remove_dir_all(&parent).ok();
}

// ---------------------------------------------------------------------------
// A real Prometheus scraping the watcher.

/// The Prometheus binary, where the Debian package puts it (or on PATH). In
/// CI (`CI` set) it must be there: the test fails rather than skips.
fn prometheus_binary() -> Option<PathBuf> {
    let found = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is missing: .ci/run installs the Debian package `prometheus`"
        );
        eprintln!("skipped: no prometheus binary (apt install prometheus)");
    }
    found
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The names of the alerts Prometheus says are firing.
fn firing(prometheus: u16) -> Vec<String> {
    let addr = format!("127.0.0.1:{prometheus}").parse().unwrap();
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return Vec::new();
    };
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = write!(
        conn,
        "GET /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = conn.read_to_string(&mut text);
    let Some((_, body)) = text.split_once("\r\n\r\n") else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    json["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["state"] == "firing")
        .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn prometheus_fires_the_deploy_alerts_while_the_watcher_saves_the_incident() {
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let mut steps = first_life();
    steps.extend(std::iter::repeat_n(Step::Capture("s19"), 1));
    let server = service(steps, true);
    let out = temp_dir("prometheus");
    std::fs::create_dir_all(&out).unwrap();

    // The watcher, polling every 300 ms, its metrics on a free port.
    let metrics = Arc::new(Metrics::new());
    let listen = ListenConfig::new("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let endpoint = Server::start(listen, Arc::clone(&metrics)).unwrap();
    let mut c = config(
        &server,
        &out,
        u64::MAX,
        TriggerConfig {
            growth_per_minute: 1.0,
            growth_for_secs: 1.0,
            proven: true,
            ..quiet()
        },
    );
    c.interval = Duration::from_millis(300);
    c.leak_every = Duration::from_secs(3600);

    // Prometheus with the rules of deploy/, their waiting periods cut to
    // seconds (the expressions are what is tested).
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/leakscope-rules.yml"),
    )
    .unwrap();
    assert!(rules.contains("for: 10m"));
    std::fs::write(out.join("rules.yml"), rules.replace("for: 10m", "for: 2s")).unwrap();
    std::fs::write(
        out.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\nscrape_configs:\n  - job_name: leakscope\n    static_configs:\n      - targets: [\"{}\"]\n",
            endpoint.addr()
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(out.join("prometheus.log")).unwrap();
    let _prometheus = Child(
        std::process::Command::new(binary)
            .arg(format!(
                "--config.file={}",
                out.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                out.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );

    let stop = AtomicBool::new(false);
    let mut alerts = Vec::new();
    let summaries = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch::run(&c, &metrics, &stop, &|_: &str| {}));
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            alerts = firing(port);
            if alerts.iter().any(|a| a == "GoroutineGroupGrowing")
                && alerts.iter().any(|a| a == "GoroutinesProvenLeaked")
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        stop.store(true, Ordering::Relaxed);
        watcher.join().unwrap().unwrap()
    });
    let prometheus_log = std::fs::read_to_string(out.join("prometheus.log")).unwrap_or_default();
    assert!(
        alerts.iter().any(|a| a == "GoroutineGroupGrowing"),
        "{alerts:?}\n{prometheus_log}"
    );
    assert!(
        alerts.iter().any(|a| a == "GoroutinesProvenLeaked"),
        "{alerts:?}"
    );
    let incidents = &summaries[0].incidents;
    assert!(!incidents.is_empty());
    let m = manifest(&incidents[0]);
    let fired: Vec<&str> = m
        .incident
        .as_ref()
        .unwrap()
        .triggers
        .iter()
        .map(|f| f.trigger.as_str())
        .collect();
    assert!(fired.contains(&"proven"), "{fired:?}");
    assert!(kinds(&m).contains(&"goroutineleak"));
    assert!(kinds(&m).contains(&"trace"));
    drop(endpoint);
    server.shut_down();
    std::fs::remove_dir_all(&out).ok();
}

// ---------------------------------------------------------------------------
// Targets behind mutual TLS (certificates of tests/fixtures/tls/make.sh).

/// An https server that asks every client for a certificate signed by the
/// test CA and answers the goroutine profile; handshakes that fail are
/// counted.
fn mtls_server(
    requests: usize,
) -> (
    std::net::SocketAddr,
    Arc<AtomicUsize>,
    std::thread::JoinHandle<()>,
) {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |name: &str| fixture(&format!("tls/{name}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(tls("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(tls("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(tls("server.key")).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let refused = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&refused);
    let body = watch_fixture("goroutine-s05.pb.gz");
    let thread = std::thread::spawn(move || {
        for conn in listener.incoming().take(requests) {
            let mut tcp = conn.unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut server = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut stream = rustls::Stream::new(&mut server, &mut tcp);
            let mut head = [0u8; 4096];
            match stream.read(&mut head) {
                Ok(n) if n > 0 => {
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(reply.as_bytes()).ok();
                    stream.write_all(&body).ok();
                    stream.flush().ok();
                    server.send_close_notify();
                    server.write_tls(&mut tcp).ok();
                }
                _ => {
                    r.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    (addr, refused, thread)
}

#[test]
fn targets_behind_mutual_tls_are_reached_with_the_ca_and_a_client_certificate() {
    use leakscope::live::{Client, FetchLimits, LiveError, Timeouts, TlsFiles, fetch_profile};
    let (addr, refused, thread) = mtls_server(3);
    let target = Target::parse(&format!("https://{addr}/debug/pprof/")).unwrap();
    let tls = |name: &str| Some(fixture(&format!("tls/{name}")));
    let client = |files: TlsFiles| {
        Client::new(
            target.clone(),
            Vec::new(),
            Timeouts::default(),
            FetchLimits::default(),
        )
        .with_tls(&files)
    };
    let watch = leakscope::live::Watch::none();

    // The CA and the client certificate: the profile, parsed.
    let full = client(TlsFiles {
        ca: tls("ca.pem"),
        cert: tls("client.pem"),
        key: tls("client.key"),
    })
    .unwrap();
    let (body, loaded) = fetch_profile(&full, "goroutine", &watch).unwrap();
    assert_eq!(body, watch_fixture("goroutine-s05.pb.gz"));
    // s.json: step 5 holds 30 leaked, a pool of 8 and main.
    assert_eq!(watch::window::total_of(&loaded), 39);

    // Without the client certificate the server refuses the handshake.
    let no_cert = client(TlsFiles {
        ca: tls("ca.pem"),
        ..TlsFiles::default()
    })
    .unwrap();
    let err = fetch_profile(&no_cert, "goroutine", &watch).unwrap_err();
    assert!(
        matches!(
            err,
            LiveError::Tls { .. } | LiveError::ConnectionLost { .. }
        ),
        "{err}"
    );
    // Without the CA the server's certificate is not trusted.
    let no_ca = client(TlsFiles::default()).unwrap();
    let err = fetch_profile(&no_ca, "goroutine", &watch).unwrap_err();
    assert!(matches!(err, LiveError::Tls { .. }), "{err}");
    assert!(err.to_string().to_lowercase().contains("issuer"), "{err}");
    thread.join().unwrap();
    assert_eq!(refused.load(Ordering::Relaxed), 2);

    // Bad certificate files are named before anything is fetched.
    let err = client(TlsFiles {
        ca: tls("make.sh"),
        ..TlsFiles::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("make.sh: no PEM certificate in it"),
        "{err}"
    );
    let err = client(TlsFiles {
        cert: tls("client.pem"),
        ..TlsFiles::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("needs its key"), "{err}");
    let err = client(TlsFiles {
        cert: tls("client.pem"),
        key: tls("client.pem"),
        ..TlsFiles::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("no private key"), "{err}");
}

// ---------------------------------------------------------------------------
// The command.

#[test]
fn the_watch_command_reads_its_trigger_file_and_says_what_it_saved() {
    let server = service(first_life(), false);
    let out = temp_dir("cli");
    std::fs::create_dir_all(&out).unwrap();
    let config = out.join("watch.toml");
    std::fs::write(
        &config,
        "[triggers]\ngrowth_per_minute = 1\ngrowth_for_secs = 0.1\ntotal_floor = 1000000\ndoubling = false\nproven = false\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
            .arg("watch")
            .args(args)
            .output()
            .unwrap()
    };
    let url = server.url("/debug/pprof/");
    let dir = out.to_str().unwrap();
    let o = run(&[
        &url,
        "--out",
        dir,
        "--config",
        config.to_str().unwrap(),
        "--interval",
        "30ms",
        "--polls",
        "14",
        "--trace",
        "0",
        "--listen",
        "127.0.0.1:0",
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("metrics on http://127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("trigger growth [goroutine]: main.(*relay).forward (chan send) grows"),
        "{stderr}"
    );
    assert!(
        stdout.contains(": 14 polls, 0 failed, 0 restart(s), 1 incident(s)"),
        "{stdout}"
    );
    let incident = stdout.lines().last().unwrap().trim();
    assert!(
        Path::new(incident).starts_with(out.join("incidents")),
        "{stdout}"
    );

    // A flag wins over the file: the replay grows some 10,000/min (six
    // every 30 ms), never a million.
    let o = run(&[
        &url,
        "--out",
        dir,
        "--config",
        config.to_str().unwrap(),
        "--growth-rate",
        "1000000",
        "--interval",
        "30ms",
        "--polls",
        "6",
        "--listen",
        "127.0.0.1:0",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(": 6 polls, 0 failed, 0 restart(s), 0 incident(s)"),
        "{stdout}"
    );

    // Mistakes are named, and nothing is watched.
    std::fs::write(&config, "[triggers]\ngrowth_per_min = 1\n").unwrap();
    let o = run(&[&url, "--out", dir, "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("watch.toml") && stderr.contains("growth_per_min"),
        "{stderr}"
    );
    let o = run(&[&url, "--out", dir, "--listen", "0.0.0.0:0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--token-file"));
    let o = run(&[&url, "--out", dir, "--match", "(unclosed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("match_function"));
    server.shut_down();
    std::fs::remove_dir_all(&out).ok();
}

// ---------------------------------------------------------------------------
// Many instances.

/// `leakscope capture` of one instance into its own folder.
fn capture_instance(server: &TestServer, dir: &Path, snapshots: u32) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["capture", &server.url("/debug/pprof/"), "--snapshots"])
        .arg(snapshots.to_string())
        .args(["--interval", "60ms", "--no-goroutineleak", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn inspect_ranks_groups_across_instances() {
    let out = temp_dir("fleet");
    // Three instances leak, one stays at step 10 (60 leaked, steady).
    let servers: Vec<TestServer> = (0..4)
        .map(|i| {
            if i < 3 {
                service(first_life(), false)
            } else {
                service(vec![Step::Capture("s10")], false)
            }
        })
        .collect();
    let dirs: Vec<PathBuf> = (0..4).map(|i| out.join(format!("instance-{i}"))).collect();
    std::thread::scope(|scope| {
        for (s, d) in servers.iter().zip(&dirs) {
            scope.spawn(move || capture_instance(s, d, 6));
        }
    });
    let inspect = |dirs: &[PathBuf], json: bool| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
            .arg("inspect")
            .args(if json { &["--json"][..] } else { &[][..] })
            .args(dirs)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let text = inspect(&dirs, false);
    assert!(text.starts_with("FLEET: 4 instances (127.0.0.1-"), "{text}");
    let first = text.split("\n  #2").next().unwrap();
    assert!(
        first.contains("#1   main.(*relay).forward (chan send)"),
        "{text}"
    );
    assert!(first.contains("grows on 3 of 4 instances"), "{text}");
    assert!(first.contains("on 4 of 4 instances"), "{text}");
    let pool = text.split("main.worker (select)").nth(1).expect(&text);
    assert!(
        pool.contains("grows on none of 4 instances; on 4 of 4 instances, 8 goroutines each"),
        "{text}"
    );

    let json: serde_json::Value = serde_json::from_str(&inspect(&dirs, true)).unwrap();
    let top = &json["groups"][0];
    assert_eq!(top["function"], "main.(*relay).forward");
    assert_eq!(top["growing_on"], 3);
    let per: Vec<(bool, u64)> = top["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["growing"].as_bool().unwrap(),
                i["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // Growing first; each grew six per snapshot over six snapshots; the
    // steady one holds the 60 of step 10.
    assert_eq!(per.len(), 4);
    assert!(per[..3].iter().all(|&(g, c)| g && c == 30), "{per:?}");
    assert_eq!(per[3], (false, 60));

    // Only one instance of two leaking: said so, by name.
    let text = inspect(&[dirs[0].clone(), dirs[3].clone()], false);
    let name = format!("127.0.0.1-{}", servers[0].addr.port());
    assert!(
        text.contains(&format!("grows only on {name} (+")),
        "{name}\n{text}"
    );
    assert!(
        text.contains("on 2 of 2 instances, 30–60 goroutines"),
        "{text}"
    );

    // The report leads with the same ranking, then the worst instance.
    let md = out.join("fleet.md");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["report", "-o"])
        .arg(&md)
        .args(&dirs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(&md).unwrap();
    let fleet_at = md.find("## Across 4 instances").expect(&md);
    assert!(fleet_at < md.find("## Inputs").unwrap());
    assert!(md.contains("grows on 3 of 4 instances"), "{md}");
    for s in servers {
        s.shut_down();
    }
    std::fs::remove_dir_all(&out).ok();
}

/// Prometheus's config: a job `svc` of `targets`, and a job `other` that
/// must not be watched.
fn prometheus_config(targets: &[std::net::SocketAddr], other: std::net::SocketAddr) -> String {
    let list: Vec<String> = targets.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: svc\n    static_configs:\n      - targets: [{}]\n  - job_name: other\n    static_configs:\n      - targets: [\"{other}\"]\n",
        list.join(", ")
    )
}

/// Waits (bounded) until `done` says so.
fn wait_for(what: &str, limit: Duration, done: &dyn Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_fleet_is_found_through_prometheus_and_ranked_together() {
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let out = temp_dir("discovery");
    std::fs::create_dir_all(&out).unwrap();
    // Two instances leak, one is steady, one leaks and then leaves the job.
    let servers = [
        service(first_life(), false),
        service(first_life(), false),
        service(vec![Step::Capture("s10")], false),
        service(first_life(), false),
    ];
    let other = service(first_life(), false);
    let addrs: Vec<std::net::SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let config_path = out.join("prometheus.yml");
    std::fs::write(&config_path, prometheus_config(&addrs, other.addr)).unwrap();
    let port = free_port();
    let log_file = std::fs::File::create(out.join("prometheus.log")).unwrap();
    let prometheus = Child(
        std::process::Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                out.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );
    let prom_url = format!("http://127.0.0.1:{port}");

    let mut c = WatchConfig::new(Vec::new(), out.clone());
    c.interval = Duration::from_millis(150);
    c.triggers = quiet();
    c.workers = 3;
    c.discovery = Some(watch::discover::Discovered {
        refresh: Duration::from_millis(500),
        ..watch::discover::Discovered::new(watch::discover::Source::Prometheus {
            url: prom_url.clone(),
            job: "svc".to_owned(),
            matchers: Vec::new(),
        })
    });
    let metrics = Metrics::new();
    let log = Mutex::new(Vec::<String>::new());
    let stop = AtomicBool::new(false);
    let key = |a: &std::net::SocketAddr| format!("http://{a}/debug/pprof/");
    let logged = |needle: &str| log.lock().unwrap().iter().any(|l| l.contains(needle));
    let summaries = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            watch::run(&c, &metrics, &stop, &|l: &str| {
                log.lock().unwrap().push(l.to_owned())
            })
        });
        for a in &addrs {
            wait_for("discovery", Duration::from_secs(60), &|| {
                logged(&format!("{}: discovered", key(a)))
            });
        }
        // Let every window see some growth, then take the fourth out of the job.
        std::thread::sleep(Duration::from_secs(3));
        std::fs::write(&config_path, prometheus_config(&addrs[..3], other.addr)).unwrap();
        let hup = std::process::Command::new("kill")
            .args(["-HUP", &prometheus.0.id().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        wait_for("the fourth to leave", Duration::from_secs(60), &|| {
            logged(&format!("{}: left", key(&addrs[3])))
        });
        stop.store(true, Ordering::Relaxed);
        watcher.join().unwrap().unwrap()
    });
    let log = log.into_inner().unwrap();
    assert!(
        !log.iter().any(|l| l.contains(&other.addr.to_string())),
        "job `other` is not watched: {log:?}"
    );
    assert_eq!(summaries.len(), 4, "{log:?}");
    let text = metrics.encode();
    assert!(
        !text.contains(&format!("target_up{{target=\"{}\"}}", key(&addrs[3]))),
        "{text}"
    );
    assert!(
        text.contains(&format!("target_up{{target=\"{}\"}} 1", key(&addrs[0]))),
        "{text}"
    );

    // One ranking across the four windows.
    let loaded: Vec<(String, leakscope::pipeline::Findings)> = summaries
        .iter()
        .map(|s| (s.target.clone(), s.window.clone().unwrap()))
        .collect();
    let instances: Vec<leakscope::analysis::fleet::Instance<'_>> = loaded
        .iter()
        .map(|(n, f)| leakscope::analysis::fleet::Instance {
            name: n.clone(),
            session: &f.session,
            analysis: &f.analysis,
        })
        .collect();
    let fleet = leakscope::analysis::fleet::rank(&instances);
    let top = &fleet.groups[0];
    assert_eq!(top.function.as_deref(), Some("main.(*relay).forward"));
    assert_eq!((top.growing_on, top.present_on), (3, 4), "{top:?}");
    assert_eq!(
        top.spread_text(4).split(',').next(),
        Some("grows on 3 of 4 instances")
    );
    let steady = top
        .instances
        .iter()
        .find(|i| i.instance == key(&addrs[2]))
        .unwrap();
    assert_eq!((steady.growing, steady.count), (false, 60));

    // The goroutine history Prometheus recorded, per instance.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let series = leakscope::live::prometheus::query_range(
        &prom_url,
        "go_goroutines{job=\"svc\"}",
        now - 120.0,
        now,
        1.0,
        &|| false,
    )
    .unwrap();
    let of = |a: &std::net::SocketAddr| {
        series
            .iter()
            .find(|s| s.labels.get("instance") == Some(&a.to_string()))
            .unwrap_or_else(|| panic!("{a}: {series:?}"))
    };
    let leaking = &of(&addrs[0]).points;
    assert!(leaking.len() >= 3, "{leaking:?}");
    assert!(leaking.last().unwrap().1 > leaking[0].1, "{leaking:?}");
    // 0 until the watcher's first poll, then 9 + 6 per step.
    let a_step = |v: f64| {
        v == 0.0
            || (v as u64)
                .checked_sub(9)
                .is_some_and(|n| n.is_multiple_of(6))
    };
    assert!(leaking.iter().all(|&(_, v)| a_step(v)), "{leaking:?}");
    assert!(
        of(&addrs[2])
            .points
            .iter()
            .all(|(_, v)| *v == 69.0 || *v == 0.0)
    );
    // A report of one instance draws that history behind its snapshots;
    // the app reads the same.
    let folder = out.join("instance-0");
    capture_instance(&servers[0], &folder, 2);
    let md = out.join("report.md");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args([
            "report",
            "--history",
            "10m",
            "--prometheus",
            &prom_url,
            "-o",
        ])
        .arg(&md)
        .arg(&folder)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(&md).unwrap();
    let title = format!(
        "go_goroutines{{instance=\"{}\"}} over the last 10 min",
        addrs[0]
    );
    assert!(md.contains("## Goroutine history"), "{md}");
    assert!(md.contains(&format!("{title} from Prometheus")), "{md}");
    #[cfg(feature = "gui")]
    {
        let ws = leakscope::ui::workspace::build(
            vec![InputSpec::Path(folder.clone())],
            &AnalysisOptions::default(),
            None,
            Some(&leakscope::ui::HistorySource {
                url: prom_url.clone(),
                range: Duration::from_secs(600),
            }),
            &Progress::none(),
        )
        .unwrap();
        let (shown, points) = ws.history.clone().unwrap().unwrap();
        assert_eq!(shown, title);
        assert!(
            points.len() >= 3 && points.iter().any(|p| p.1 > 9.0),
            "{points:?}"
        );
    }
    let err =
        leakscope::live::prometheus::query_range(&prom_url, "rate(", now - 60.0, now, 1.0, &|| {
            false
        })
        .unwrap_err();
    assert!(err.contains("parse error"), "{err}");
    for s in servers {
        s.shut_down();
    }
    drop(prometheus);
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn capture_takes_every_instance_of_a_targets_file_into_a_folder_each() {
    let out = temp_dir("capture-fleet");
    std::fs::create_dir_all(&out).unwrap();
    let servers = [
        service(first_life(), false),
        service(first_life(), false),
        service(vec![Step::Capture("s10")], false),
    ];
    let list: String = servers
        .iter()
        .map(|s| format!("{}  # instance\n", s.url("/debug/pprof/")))
        .collect();
    std::fs::write(out.join("targets.txt"), format!("# the fleet\n{list}")).unwrap();
    let root = out.join("fleet");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["capture", "--targets-file"])
        .arg(out.join("targets.txt"))
        .args([
            "--snapshots",
            "4",
            "--interval",
            "60ms",
            "--no-goroutineleak",
            "--out",
        ])
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("capturing 3 instances into"), "{stdout}");
    for s in &servers {
        let dir = root.join(format!("127.0.0.1-{}", s.addr.port()));
        assert_eq!(manifest(&dir).captures.len(), 4, "{}", dir.display());
    }
    let fleet = stdout.split("FLEET: 3 instances").nth(1).expect(&stdout);
    assert!(
        fleet.contains("main.(*relay).forward (chan send)"),
        "{stdout}"
    );
    assert!(fleet.contains("grows on 2 of 3 instances"), "{stdout}");
    for s in servers {
        s.shut_down();
    }
    std::fs::remove_dir_all(&out).ok();
}
