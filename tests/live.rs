//! Live capture against real HTTP servers on 127.0.0.1 that each test
//! starts: one that serves the fixture captures the way `net/http/pprof`
//! does, and ones that misbehave the ways services under incident do.
//! Every server binds a random port, answers a bounded number of requests,
//! and stops by itself after a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::*;
use common::*;
use leakscope::analysis::{self, AnalysisOptions};
use leakscope::formats::session_dir::{self, Manifest};
use leakscope::live::{
    Backoff, CaptureKind, Client, ConnectionState, Expect, FetchLimits, Header, LiveConfig,
    LiveError, LiveEvent, Poller, StopReason, Target, Timeouts, Watch,
};
use leakscope::model::Session;

// ---------------------------------------------------------------------------
// The fixture service: what net/http/pprof serves.

/// The trace fixture when the trace branch's file is present, else a body
/// with a Go 1.23 trace header (live capture only checks the header).
fn trace_bytes() -> Vec<u8> {
    let path = fixture("trace-go123.out");
    if path.exists() {
        return std::fs::read(path).unwrap();
    }
    let mut data = b"go 1.23 trace\0\0\0".to_vec();
    let mut rng = Rng(7);
    data.extend((0..200_000).map(|_| rng.next() as u8));
    data
}

/// Serves `/debug/pprof/` like Go: goroutine t0..t3 in turn, the index,
/// debug=2, a trace over its `seconds`, and the other profiles.
fn pprof_handler() -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    let polls = AtomicUsize::new(0);
    let trace = trace_bytes();
    move |req: &Request| {
        let query = req.target.split_once('?').map_or("", |(_, q)| q);
        match req.path() {
            "/debug/pprof/" => html(INDEX),
            "/debug/pprof/goroutine" if query == "debug=2" => ok(read("goroutine-t3.debug2.txt")),
            "/debug/pprof/goroutine" => {
                let i = polls.fetch_add(1, Ordering::Relaxed).min(3);
                ok(read(&format!("goroutine-t{i}.pb.gz")))
            }
            "/debug/pprof/trace" => {
                let secs: f64 = query
                    .strip_prefix("seconds=")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1.0);
                Reply::Chunked {
                    chunks: chunks(&trace, 10),
                    pause: Duration::from_secs_f64(secs / 10.0),
                    cut: false,
                }
            }
            "/debug/pprof/profile" => ok(read("cpu.pb.gz")),
            "/debug/pprof/heap" => ok(read("heap.pb.gz")),
            "/debug/pprof/block" => ok(read("block.pb.gz")),
            "/debug/pprof/mutex" => ok(read("mutex.pb.gz")),
            p if p.starts_with("/debug/pprof/") => status(404, "Unknown profile"),
            _ => status(404, "404 page not found"),
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers.

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("leakscope-live-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    d
}

fn quick_config(url: &str, dir: &Path) -> LiveConfig {
    let mut c = LiveConfig::new(url, dir).unwrap();
    c.interval = Duration::from_millis(50);
    c.timeouts = Timeouts {
        resolve: Duration::from_secs(3),
        connect: Duration::from_secs(2),
        read: Duration::from_millis(800),
        body: Duration::from_secs(5),
    };
    c.backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
    };
    c
}

/// Events until `done` says so, failing the test after `limit`.
fn collect(
    rx: &Receiver<LiveEvent>,
    limit: Duration,
    mut done: impl FnMut(&LiveEvent) -> bool,
) -> Vec<LiveEvent> {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out; events so far: {out:#?}"));
        let stop = done(&event);
        out.push(event);
        if stop {
            return out;
        }
    }
}

fn failures(events: &[LiveEvent]) -> Vec<&LiveError> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Failed(f) => Some(&f.error),
            _ => None,
        })
        .collect()
}

/// A session of the goroutine snapshots among the events, in arrival order.
fn polled_session(events: Vec<LiveEvent>) -> Session {
    let mut session = Session::default();
    for e in events {
        if let LiveEvent::Captured(c) = e
            && c.id.is_none()
        {
            let l = c.loaded.expect("goroutine snapshots come parsed");
            session.add(&l.table, l.input);
        }
    }
    session
}

fn counts_of(session: &Session, function: &str) -> Vec<u64> {
    let a = analysis::analyze(session, &AnalysisOptions::default());
    let s = a
        .suspects
        .iter()
        .find(|s| {
            s.leak_site
                .is_some_and(|f| session.stacks.function(f) == function)
        })
        .unwrap_or_else(|| panic!("no suspect {function}"));
    assert!(s.growth.growing, "{function} should be growing");
    a.group(s).counts.clone()
}

fn manifest(dir: &Path) -> Manifest {
    session_dir::read_manifest(dir)
        .unwrap()
        .expect("a manifest")
}

fn client(url: &str, timeouts: Timeouts, limits: FetchLimits) -> Client {
    Client::new(Target::parse(url).unwrap(), Vec::new(), timeouts, limits)
}

fn fetch_error(c: &Client, endpoint: &str, expect: Expect) -> LiveError {
    let mut sink = |_: &[u8]| Ok(());
    c.fetch(endpoint, None, expect, &mut sink, &Watch::none())
        .expect_err("the fetch should fail")
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn polls_a_pprof_server_saves_everything_and_ranks_the_growing_groups() {
    let server = TestServer::start(40, pprof_handler());
    let dir = temp_dir("pprof");
    let mut config = quick_config(&server.url("/debug/pprof/goroutine?debug=1"), &dir);
    config.snapshots = Some(4);
    config.headers = vec![Header::parse("Authorization: Bearer s3cret-token").unwrap()];
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    assert_eq!(
        poller.target().base_url(),
        format!("http://{}/debug/pprof/", server.addr)
    );
    let trace = poller.request(CaptureKind::Trace(Duration::from_millis(500)));
    let leak = poller.request(CaptureKind::GoroutineLeak);
    let mut on_demand = vec![trace, leak];
    let mut done = 0;
    let mut polling_done = false;
    let events = collect(&rx, Duration::from_secs(30), |e| {
        match e {
            LiveEvent::PollingDone { snapshots } => {
                assert_eq!(*snapshots, 4);
                polling_done = true;
                for k in [
                    CaptureKind::GoroutineDebug2,
                    CaptureKind::Heap,
                    CaptureKind::Cpu(Duration::from_secs(1)),
                ] {
                    on_demand.push(poller.request(k));
                }
            }
            LiveEvent::Captured(c) if c.id.is_some() => done += 1,
            LiveEvent::Failed(f) if f.id.is_some() => done += 1,
            _ => {}
        }
        polling_done && done == on_demand.len()
    });
    poller.stop_and_join();

    // The connection went Connecting -> Connected and the index was read.
    assert!(matches!(
        events.first(),
        Some(LiveEvent::State(ConnectionState::Connecting))
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, LiveEvent::State(ConnectionState::Connected)))
    );
    let info = events
        .iter()
        .find_map(|e| match e {
            LiveEvent::ServerInfo(i) => Some(i.clone()),
            _ => None,
        })
        .expect("the index was read");
    assert!(info.offers("trace") && !info.offers("goroutineleak"));

    // goroutineleak is not in the index: refused without a request.
    let errors = failures(&events);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let msg = errors[0].to_string();
    assert!(
        msg.contains("goroutineleak") && msg.contains("index"),
        "{msg}"
    );
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.path().ends_with("goroutineleak"))
    );

    // The trace reported progress by elapsed time, then was saved whole.
    let fractions: Vec<f32> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Progress { id, fraction, .. } if *id == trace => *fraction,
            _ => None,
        })
        .collect();
    assert!(
        fractions.len() >= 2 && fractions.iter().all(|f| (0.0..=1.0).contains(f)),
        "{fractions:?}"
    );
    let captured: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Captured(c) => Some(c),
            _ => None,
        })
        .collect();
    let trace_capture = captured.iter().find(|c| c.id == Some(trace)).unwrap();
    assert_eq!(std::fs::read(&trace_capture.path).unwrap(), trace_bytes());
    assert!(!trace_capture.record.partial);
    assert!(trace_capture.loaded.is_none());

    // Snapshots arrived parsed, in order, with the fixture totals.
    let totals: Vec<Option<u64>> = captured
        .iter()
        .filter(|c| c.id.is_none())
        .map(|c| c.record.goroutines)
        .collect();
    assert_eq!(totals, [Some(45), Some(76), Some(107), Some(138)]);

    // Every body is a file, named in capture order, listed in the manifest.
    let m = manifest(&dir);
    assert_eq!(m.url, format!("http://{}/debug/pprof/", server.addr));
    assert_eq!(m.header_names, ["Authorization"]);
    assert_eq!(m.server_profiles.as_ref().map(Vec::len), Some(9));
    let kinds: Vec<&str> = m.captures.iter().map(|c| c.kind.as_str()).collect();
    for kind in ["goroutine", "trace", "goroutine-debug2", "heap", "cpu"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "goroutine").count(), 4);
    assert_eq!(m.failures.len(), 1);
    let mut files: Vec<String> = m.captures.iter().map(|c| c.file.clone()).collect();
    let listed = files.clone();
    files.sort();
    let seqs: Vec<&str> = files.iter().map(|f| &f[..6]).collect();
    let mut sorted_seqs = seqs.clone();
    sorted_seqs.dedup();
    assert_eq!(seqs, sorted_seqs, "sequence numbers are unique");
    for c in &m.captures {
        let on_disk = std::fs::metadata(dir.join(&c.file)).unwrap().len();
        assert_eq!(on_disk, c.bytes, "{}", c.file);
        assert!(!c.partial && c.status == 200, "{c:?}");
        assert!(c.started_at_ns <= c.finished_at_ns);
    }
    assert_eq!(
        std::fs::read(dir.join(&listed[kinds.iter().position(|k| *k == "heap").unwrap()])).unwrap(),
        read("heap.pb.gz")
    );
    let goroutine_files: Vec<&String> = m
        .captures
        .iter()
        .filter(|c| c.kind == "goroutine")
        .map(|c| &c.file)
        .collect();
    for (i, f) in goroutine_files.iter().enumerate() {
        assert!(f.ends_with("-goroutine.pb.gz"), "{f}");
        assert_eq!(
            std::fs::read(dir.join(f)).unwrap(),
            read(&format!("goroutine-t{i}.pb.gz"))
        );
    }
    // No temporary files are left, and the token was sent but never written.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            !name.ends_with(".part") && !name.ends_with(".tmp"),
            "{name}"
        );
    }
    let manifest_text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(!manifest_text.contains("s3cret"));
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.headers.get("authorization").map(String::as_str)
                == Some("Bearer s3cret-token"))
    );
    assert!(
        requests
            .iter()
            .any(|r| r.target == "/debug/pprof/trace?seconds=0.5")
    );
    assert!(
        requests
            .iter()
            .any(|r| r.target == "/debug/pprof/profile?seconds=1")
    );

    // The growth ranking from the polled snapshots is the MANIFEST's.
    let session = polled_session(events);
    assert_eq!(
        counts_of(&session, "main.querySearchBackend"),
        [10, 20, 30, 40]
    );
    let a = analysis::analyze(&session, &AnalysisOptions::default());
    let growing: Vec<&str> = a
        .suspects
        .iter()
        .filter(|s| s.growth.growing)
        .filter_map(|s| s.leak_site.map(|f| session.stacks.function(f)))
        .collect();
    assert_eq!(growing.len(), LEAKS.len(), "{growing:?}");
    for (function, _, per_phase) in LEAKS {
        assert!(growing.contains(function), "{function} in {growing:?}");
        let expected: Vec<u64> = (1..=4).map(|i| i * per_phase).collect();
        assert_eq!(counts_of(&session, function), expected, "{function}");
    }

    // The folder lists its captures in capture order, with the manifest's times.
    let listed = session_dir::list_captures(&dir).unwrap();
    let names: Vec<String> = listed
        .iter()
        .map(|c| c.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, files);
    let times: Vec<i64> = listed.iter().map(|c| c.captured_at_ns.unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

/// Runs `leakscope capture TARGET ARGS… --out DIR` to its end.
fn capture(target: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .arg("capture")
        .arg(target)
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn capture_cli_prints_each_file_and_the_growing_groups_and_inspect_reads_the_folder() {
    let server = TestServer::start(30, pprof_handler());
    let dir = temp_dir("cli");
    let header_file = temp_dir("cli-headers");
    std::fs::write(&header_file, "# gateway key\nX-Api-Key: k1\n\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_leakscope");
    let out = capture(
        &server.addr.to_string(),
        &dir,
        &[
            "--snapshots",
            "4",
            "--interval",
            "100ms",
            "--debug2",
            "--profiles",
            "heap, block",
            "-H",
            "Cookie: session=abc",
            "--headers-from",
            header_file.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let saved: Vec<&str> = stdout.lines().filter(|l| l.starts_with("saved ")).collect();
    assert_eq!(saved.len(), 7, "{stdout}");
    assert_eq!(
        saved.iter().filter(|l| l.contains("(goroutine,")).count(),
        4,
        "{stdout}"
    );
    assert!(
        saved[0].contains("45 goroutines") && saved[3].contains("138 goroutines"),
        "{stdout}"
    );
    assert!(
        stdout.contains("goroutines per snapshot: 45 → 76 → 107 → 138"),
        "{stdout}"
    );
    assert!(stdout.contains("9 growing stack groups"), "{stdout}");
    assert!(
        stdout.contains("main.querySearchBackend  [10 → 20 → 30 → 40]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("details: leakscope inspect {}", dir.display())),
        "{stdout}"
    );
    assert!(stderr.contains("connected to"), "{stderr}");
    assert!(
        server
            .requests()
            .iter()
            .all(
                |r| r.headers.get("cookie").map(String::as_str) == Some("session=abc")
                    && r.headers.get("x-api-key").map(String::as_str) == Some("k1")
            )
    );
    std::fs::remove_file(&header_file).ok();

    let out = Command::new(bin)
        .args(["inspect", "--json", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"].as_array().unwrap().len(), 7);
    assert_eq!(v["series"]["order"], "capture-time");
    let first = &v["suspects"][0];
    assert_eq!(first["function"], "main.querySearchBackend");
    // The debug=2 dump taken after the last snapshot is that moment again,
    // in detail: not a fifth step (issue 14), but it gives the wait ages.
    assert_eq!(first["counts"], serde_json::json!([10, 20, 30, 40]));
    assert_eq!(v["series"]["snapshots"].as_array().unwrap().len(), 4);
    assert_eq!(first["wait_reason"], "chan send");
    assert_eq!(first["wait_minutes"]["max"], 1);
    assert_eq!(
        first["created_by"], "main.(*app).handleSearch.func1",
        "the dump names the creator the protobuf profiles lack"
    );
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

/// One server, each goroutine poll misbehaving differently, then healthy:
/// every failure is one clear message and the poller carries on to four
/// good snapshots.
#[test]
fn a_misbehaving_server_gives_one_clear_error_each_and_polling_carries_on() {
    // A real profile followed by 32 MiB of zeros: its head passes the
    // sniff, its inflated size does not pass the cap.
    let bomb = {
        let mut profile = Vec::new();
        flate2::read::GzDecoder::new(&read("goroutine-t0.pb.gz")[..])
            .read_to_end(&mut profile)
            .unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&profile).unwrap();
        e.write_all(&vec![0u8; 32 << 20]).unwrap();
        e.finish().unwrap()
    };
    let t0 = read("goroutine-t0.pb.gz");
    let polls = AtomicUsize::new(0);
    let (served_bomb, served_t0) = (bomb.clone(), t0.clone());
    let server = TestServer::start(40, move |req| {
        if req.path() == "/debug/pprof/" {
            return html(INDEX);
        }
        if req.path().ends_with("/trace") {
            // A trace cut off mid-body: header and some data, then closed.
            let data = trace_bytes();
            return Reply::Chunked {
                chunks: chunks(&data[..data.len() / 2], 4),
                pause: Duration::from_millis(20),
                cut: true,
            };
        }
        // One good snapshot first: before any, an answer that retrying
        // cannot change stops the poller (see below).
        let i = polls.fetch_add(1, Ordering::Relaxed);
        if i == 0 {
            return ok(served_t0.clone());
        }
        match i - 1 {
            0 => status(401, "Unauthorized"),
            1 => status(403, "Forbidden"),
            2 => html(
                "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><form>…</form></html>",
            ),
            3 => status(404, "404 page not found"),
            4 => Reply::Full {
                status: 302,
                headers: vec![(
                    "Location",
                    "https://sso.example.com/login?next=/debug/pprof/".into(),
                )],
                body: Vec::new(),
            },
            5 => Reply::Silence(Duration::from_millis(1500)),
            6 => Reply::Full {
                status: 200,
                headers: vec![("Content-Type", "application/octet-stream".into())],
                body: vec![0x1f; 300 * 1024],
            },
            7 => Reply::Chunked {
                chunks: chunks(&served_t0.repeat(200), 40),
                pause: Duration::ZERO,
                cut: false,
            },
            8 => ok(served_bomb.clone()),
            9 => Reply::ShortBody {
                claimed: served_t0.len() * 2,
                body: served_t0.clone(),
            },
            10 => status(
                500,
                "Could not enable CPU profiling: cpu profiling already in use",
            ),
            n => ok(read(&format!("goroutine-t{}.pb.gz", (n - 11).min(3)))),
        }
    });
    let dir = temp_dir("misbehave");
    let mut config = quick_config(&server.url("/"), &dir);
    config.snapshots = Some(5);
    config.limits = FetchLimits {
        max_body_bytes: 256 * 1024,
        max_inflated_bytes: 4 << 20,
        max_redirects: 3,
    };
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    let trace = poller.request(CaptureKind::Trace(Duration::from_millis(200)));
    let mut polling_done = false;
    let mut trace_done = false;
    let events = collect(&rx, Duration::from_secs(30), |e| {
        match e {
            LiveEvent::PollingDone { .. } => polling_done = true,
            LiveEvent::Captured(c) if c.id == Some(trace) => trace_done = true,
            LiveEvent::Failed(f) if f.id == Some(trace) => panic!("trace: {}", f.error),
            _ => {}
        }
        polling_done && trace_done
    });
    poller.stop_and_join();

    let url = server.url("/debug/pprof/goroutine");
    let expected: &[(&str, &[&str])] = &[
        (
            "401",
            &[
                "HTTP 401 Unauthorized",
                "credentials",
                "Authorization: Bearer",
            ],
        ),
        ("403", &["HTTP 403 Forbidden", "credentials"]),
        (
            "login page",
            &["not a profile", "HTML page", "login page", "Sign in"],
        ),
        (
            "404",
            &["404 Not Found", "pprof is not served at", "net/http/pprof"],
        ),
        (
            "redirect",
            &[
                "redirected to https://sso.example.com/login",
                "not followed",
            ],
        ),
        ("read timeout", &["read timeout", "0.80 s"]),
        ("size cap", &["larger than the cap of 262144 bytes"]),
        (
            "size cap, streamed",
            &["larger than the cap of 262144 bytes"],
        ),
        (
            "gzip bomb",
            &[
                "decompressed size exceeds the limit of 4194304 bytes",
                "gzip bomb",
            ],
        ),
        (
            "cut off",
            &["the body ended after", "before the end of the body"],
        ),
        ("500", &["HTTP 500", "cpu profiling already in use"]),
    ];
    let errors = failures(&events);
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (err, (case, needles)) in errors.iter().zip(expected) {
        let msg = err.to_string();
        assert!(msg.starts_with(&url), "{case}: {msg}");
        for n in *needles {
            assert!(msg.contains(n), "{case}: {n:?} not in {msg:?}");
        }
    }
    assert!(
        errors
            .iter()
            .all(|e| !e.is_unreachable() || matches!(e, LiveError::ReadTimeout { .. }))
    );
    // After each failure the poller said when it retries, and came back.
    let retrying = events
        .iter()
        .filter(|e| matches!(e, LiveEvent::State(ConnectionState::Retrying { .. })))
        .count();
    assert_eq!(retrying, expected.len());
    assert!(matches!(
        events
            .iter()
            .rev()
            .find(|e| matches!(e, LiveEvent::State(_))),
        Some(LiveEvent::State(ConnectionState::Connected))
    ));

    // The gzip bomb and the cut-off profile are kept aside as evidence.
    let kept: Vec<PathBuf> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Failed(f) => f.kept.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept[0].starts_with(dir.join("rejected")), "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), bomb);
    assert!(kept[1].starts_with(dir.join("partial")), "{kept:?}");
    assert_eq!(std::fs::read(&kept[1]).unwrap(), t0);

    // The cut trace is kept as a capture, flagged partial in the manifest.
    let m = manifest(&dir);
    let t = m.captures.iter().find(|c| c.kind == "trace").unwrap();
    assert!(t.partial, "{t:?}");
    assert!(
        t.partial_reason
            .as_deref()
            .unwrap()
            .contains("before the end"),
        "{t:?}"
    );
    assert!(
        !t.file.contains('/'),
        "a partial trace stays a capture: {t:?}"
    );
    assert!(t.file.ends_with("-trace-0.2s-partial.out"), "{t:?}");
    let partial_profile = m
        .captures
        .iter()
        .find(|c| c.file.starts_with("partial/"))
        .unwrap();
    assert!(partial_profile.partial);
    let rejected = m
        .captures
        .iter()
        .find(|c| c.file.starts_with("rejected/"))
        .unwrap();
    assert!(
        rejected
            .rejected_reason
            .as_deref()
            .unwrap()
            .contains("gzip bomb")
    );
    assert_eq!(m.failures.len(), expected.len() - 2, "{:#?}", m.failures);
    // Only real captures are listed when the folder is reopened.
    let listed = session_dir::list_captures(&dir).unwrap();
    assert_eq!(listed.len(), 6, "{listed:#?}");
    assert!(listed.iter().any(|c| c.partial), "the cut trace");

    // And the snapshots after the failures rank as the MANIFEST says.
    let session = polled_session(events);
    assert_eq!(
        counts_of(&session, "main.querySearchBackend"),
        [10, 10, 20, 30, 40]
    );
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

/// A URL that leads nowhere useful is said at once, not after half a
/// minute of retries: a 404, a login page, HTTPS to a plain port, refused
/// credentials, before the first good snapshot.
#[test]
fn a_wrong_target_is_named_at_the_first_answer() {
    for (reply, needle) in [
        (status(404, "404 page not found"), "pprof is not served at"),
        (
            html("<!DOCTYPE html><html><title>Sign in</title></html>"),
            "login page",
        ),
        (status(401, "Unauthorized"), "credentials"),
    ] {
        let server = TestServer::start(10, move |req: &Request| {
            if req.path() == "/debug/pprof/" {
                return html(INDEX);
            }
            reply.clone()
        });
        let dir = temp_dir("wrong-target");
        let started = Instant::now();
        let out = capture(
            &server.addr.to_string(),
            &dir,
            &["--snapshots", "3", "--interval", "100ms"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("stopped at the first answer"), "{stderr}");
        assert!(stderr.contains(needle), "{needle}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(10));
        std::fs::remove_dir_all(&dir).ok();
        server.shut_down();
    }
}

/// The service goes away after two snapshots and comes back on the same
/// port: the poller reports the refused connections, backs off, reconnects
/// and completes the series.
#[test]
fn a_server_restart_mid_session_is_reconnected_with_backoff() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let handler = |polls: Arc<AtomicUsize>| -> Arc<Handler> {
        Arc::new(move |req: &Request| {
            if req.path() == "/debug/pprof/" {
                return html(INDEX);
            }
            let i = polls.fetch_add(1, Ordering::Relaxed).min(3);
            ok(read(&format!("goroutine-t{i}.pb.gz")))
        })
    };
    // First life: the index and two snapshots.
    let first = TestServer::on(listener, 3, handler(Arc::clone(&polls)));
    let dir = temp_dir("restart");
    let mut config = quick_config(&first.url("/debug/pprof/"), &dir);
    config.snapshots = Some(4);
    config.interval = Duration::from_millis(100);
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    let mut second = None;
    let mut refused = 0;
    let mut first = Some(first);
    let events = collect(&rx, Duration::from_secs(30), |e| {
        if let LiveEvent::Failed(f) = e {
            assert!(
                matches!(
                    f.error,
                    LiveError::ConnectionRefused { .. } | LiveError::ConnectionLost { .. }
                ),
                "{}",
                f.error
            );
            refused += 1;
            // Down for three attempts, then back on the same port.
            if refused == 3 && second.is_none() {
                let l = TcpListener::bind(addr).expect("rebind the same port");
                second = Some(TestServer::on(l, 10, handler(Arc::clone(&polls))));
            }
        }
        if let LiveEvent::Captured(_) = e
            && polls.load(Ordering::Relaxed) == 2
            && let Some(s) = first.take()
        {
            s.shut_down();
        }
        matches!(e, LiveEvent::PollingDone { .. })
    });
    poller.stop_and_join();
    assert!(refused >= 3, "{events:#?}");
    let msg = failures(&events)[0].to_string();
    assert!(
        msg.contains("connection refused") || msg.contains("connection broke"),
        "{msg}"
    );
    let states: Vec<&ConnectionState> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::State(s) => Some(s),
            _ => None,
        })
        .collect();
    // Connected, then retrying with growing delays, then connected again.
    let delays: Vec<Duration> = states
        .iter()
        .filter_map(|s| match s {
            ConnectionState::Retrying {
                retry_in,
                unreachable,
                ..
            } => {
                assert!(*unreachable);
                Some(*retry_in)
            }
            _ => None,
        })
        .collect();
    assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
    assert_eq!(delays[0], Duration::from_millis(20));
    assert!(
        matches!(states.last(), Some(ConnectionState::Connected)),
        "{states:?}"
    );
    let connected = states
        .iter()
        .filter(|s| matches!(s, ConnectionState::Connected))
        .count();
    assert_eq!(connected, 2, "{states:?}");
    let session = polled_session(events);
    assert_eq!(
        counts_of(&session, "main.querySearchBackend"),
        [10, 20, 30, 40]
    );
    std::fs::remove_dir_all(&dir).ok();
    if let Some(s) = second {
        s.shut_down();
    }
}

#[test]
fn an_unreachable_service_is_named_and_the_poller_gives_up_when_told() {
    // A port nobody listens on: bound, then closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = temp_dir("refused");
    let mut config = quick_config(&format!("127.0.0.1:{port}"), &dir);
    config.give_up_after = Some(3);
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    let events = collect(&rx, Duration::from_secs(20), |e| {
        matches!(e, LiveEvent::Stopped { .. })
    });
    drop(poller);
    let errors = failures(&events);
    assert_eq!(errors.len(), 3);
    for e in &errors {
        assert!(e.is_unreachable());
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("http://127.0.0.1:{port}/debug/pprof/")),
            "{msg}"
        );
        assert!(
            msg.contains("connection refused; is the service running"),
            "{msg}"
        );
    }
    match events.last() {
        Some(LiveEvent::Stopped {
            reason:
                StopReason::GaveUp {
                    failures,
                    last_error,
                },
        }) => {
            assert_eq!(*failures, 3);
            assert!(last_error.contains("connection refused"));
        }
        other => panic!("{other:?}"),
    }
    let m = manifest(&dir);
    assert!(m.captures.is_empty());
    assert_eq!(m.failures.len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dns_failure_names_the_host() {
    let c = client(
        "http://leakscope-test.invalid:6060/",
        quick_config("x:1", Path::new("x")).timeouts,
        FetchLimits::default(),
    );
    let err = fetch_error(&c, "goroutine", Expect::Profile);
    assert!(matches!(err, LiveError::Dns { .. }), "{err:?}");
    assert!(err.is_unreachable());
    let msg = err.to_string();
    assert!(
        msg.contains("DNS lookup of \"leakscope-test.invalid\" failed"),
        "{msg}"
    );
    assert!(msg.contains("check the host name"), "{msg}");
}

/// A listener whose accept queue is full drops new connection attempts, as
/// a firewall does: the connect timeout fires.
#[test]
fn connect_timeout_is_reported_as_such() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..4096 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the accept queue never filled");
    let timeouts = Timeouts {
        connect: Duration::from_millis(300),
        ..quick_config("x:1", Path::new("x")).timeouts
    };
    let c = client(&format!("http://{addr}/"), timeouts, FetchLimits::default());
    let started = Instant::now();
    let err = fetch_error(&c, "goroutine", Expect::Profile);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(matches!(err, LiveError::ConnectTimeout { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("no connection within 0.30 s (connect timeout)"),
        "{err}"
    );
    drop(held);
    drop(listener);
}

#[test]
fn same_origin_redirects_are_followed_and_loops_are_bounded() {
    let server = TestServer::start(10, |req| match req.path() {
        "/old/debug/pprof/goroutine" => Reply::Full {
            status: 301,
            headers: vec![("Location", "/new/debug/pprof/goroutine".into())],
            body: Vec::new(),
        },
        "/new/debug/pprof/goroutine" => ok(read("goroutine-t0.pb.gz")),
        _ => Reply::Full {
            status: 302,
            headers: vec![("Location", "goroutine".into())],
            body: Vec::new(),
        },
    });
    let limits = FetchLimits {
        max_redirects: 2,
        ..FetchLimits::default()
    };
    let timeouts = quick_config("x:1", Path::new("x")).timeouts;
    let c = client(&server.url("/old/debug/pprof/"), timeouts, limits);
    let mut body = Vec::new();
    let f = c
        .fetch(
            "goroutine",
            None,
            Expect::Profile,
            &mut |d| {
                body.extend_from_slice(d);
                Ok(())
            },
            &Watch::none(),
        )
        .unwrap();
    assert_eq!(f.url, server.url("/new/debug/pprof/goroutine"));
    assert_eq!(body, read("goroutine-t0.pb.gz"));
    let c = client(&server.url("/loop/debug/pprof/"), timeouts, limits);
    let err = fetch_error(&c, "goroutine", Expect::Profile);
    assert!(err.to_string().contains("more than 2 redirects"), "{err}");
    server.shut_down();
}

/// Cancelling a trace midway stops it within a fraction of a second and
/// keeps what arrived, flagged partial.
#[test]
fn a_trace_can_be_cancelled_and_keeps_what_arrived() {
    let data = trace_bytes();
    let served = data.clone();
    let server = TestServer::start(10, move |req| match req.path() {
        "/debug/pprof/trace" => Reply::Chunked {
            chunks: chunks(&served, 50),
            pause: Duration::from_millis(100),
            cut: false,
        },
        "/debug/pprof/" => html(INDEX),
        _ => ok(read("goroutine-t0.pb.gz")),
    });
    let dir = temp_dir("cancel");
    let mut config = quick_config(&server.url("/"), &dir);
    config.start_paused = true;
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    let id = poller.request(CaptureKind::Trace(Duration::from_secs(5)));
    let mut cancelled_at = None;
    let events = collect(&rx, Duration::from_secs(20), |e| match e {
        LiveEvent::Progress { bytes, .. } if *bytes > 0 && cancelled_at.is_none() => {
            poller.cancel(id);
            cancelled_at = Some(Instant::now());
            false
        }
        LiveEvent::Captured(c) => c.id == Some(id),
        LiveEvent::Failed(f) => panic!("{}", f.error),
        _ => false,
    });
    let stopped_in = cancelled_at.unwrap().elapsed();
    assert!(stopped_in < Duration::from_millis(600), "{stopped_in:?}");
    let Some(LiveEvent::Captured(c)) = events.last() else {
        unreachable!()
    };
    assert!(c.record.partial);
    assert_eq!(c.record.partial_reason.as_deref(), Some("cancelled"));
    let kept = std::fs::read(&c.path).unwrap();
    assert!(!kept.is_empty() && kept.len() < data.len());
    assert_eq!(kept[..], data[..kept.len()]);
    // Paused: no goroutine snapshot was taken meanwhile.
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.path().ends_with("/goroutine"))
    );
    poller.stop_and_join();
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

#[test]
fn pause_and_resume_are_reported_and_respected() {
    let server = TestServer::start(20, pprof_handler());
    let dir = temp_dir("pause");
    let config = quick_config(&server.url(""), &dir);
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    collect(&rx, Duration::from_secs(10), |e| {
        matches!(e, LiveEvent::Captured(_))
    });
    poller.pause();
    collect(&rx, Duration::from_secs(10), |e| {
        matches!(e, LiveEvent::Paused)
    });
    let before = server.requests().len();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.requests().len(), before, "no polls while paused");
    poller.resume();
    let events = collect(&rx, Duration::from_secs(10), |e| {
        matches!(e, LiveEvent::Captured(_))
    });
    assert!(matches!(events[0], LiveEvent::Resumed), "{events:#?}");
    poller.stop_and_join();
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

#[test]
fn wake_runs_after_every_event() {
    let server = TestServer::start(10, pprof_handler());
    let dir = temp_dir("wake");
    let mut config = quick_config(&server.url(""), &dir);
    config.snapshots = Some(2);
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = Arc::clone(&wakes);
    let (poller, rx) = Poller::start(config, move || {
        w.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    let mut events = collect(&rx, Duration::from_secs(10), |e| {
        matches!(e, LiveEvent::PollingDone { .. })
    });
    poller.stop_and_join();
    events.extend(rx.try_iter());
    assert!(matches!(
        events.last(),
        Some(LiveEvent::Stopped {
            reason: StopReason::Requested
        })
    ));
    assert_eq!(wakes.load(Ordering::Relaxed), events.len());
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

/// `https://` to a port that speaks plain HTTP, as a Go server answers a
/// TLS hello there: a TLS error, not a hang.
#[test]
fn https_to_a_plain_http_port_is_a_tls_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    conn.set_nonblocking(false).ok();
                    conn.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
                        .ok();
                    return;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let timeouts = quick_config("x:1", Path::new("x")).timeouts;
    let c = client(
        &format!("https://{addr}/"),
        timeouts,
        FetchLimits::default(),
    );
    let err = fetch_error(&c, "goroutine", Expect::Profile);
    assert!(matches!(err, LiveError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("try http://"), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("https://{addr}/debug/pprof/goroutine: TLS: ")),
        "{err}"
    );
    server.join().unwrap();
}

/// A Go 1.27 service offering the runtime's leak profile: `capture` takes it
/// without being asked, before the `debug=2` dump, so the dump carries the
/// runtime's `(leaked)` marks; the session ranks the proven groups first.
#[test]
fn capture_takes_the_leak_profile_before_the_dump_where_offered() {
    let index = INDEX.replace(
        "<tr><td>9</td><td><a href='threadcreate?debug=1'>",
        "<tr><td>14</td><td><a href='goroutineleak?debug=1'>goroutineleak</a></td></tr>\n\
         <tr><td>9</td><td><a href='threadcreate?debug=1'>",
    );
    let polls = AtomicUsize::new(0);
    let leak_taken = Arc::new(AtomicBool::new(false));
    let taken = Arc::clone(&leak_taken);
    let server = TestServer::start(20, move |req: &Request| {
        let query = req.target.split_once('?').map_or("", |(_, q)| q);
        let rel = |f: &str| read(&format!("releases/go1.27/{f}"));
        match req.path() {
            "/debug/pprof/" => html(&index),
            "/debug/pprof/goroutineleak" if query.is_empty() => {
                taken.store(true, Ordering::SeqCst);
                ok(rel("goroutineleak.pb.gz"))
            }
            "/debug/pprof/goroutine" if query == "debug=2" => {
                if taken.load(Ordering::SeqCst) {
                    ok(rel("goroutine-after-leak.debug2.txt"))
                } else {
                    ok(rel("goroutine-t2.debug2.txt"))
                }
            }
            "/debug/pprof/goroutine" => {
                let i = polls.fetch_add(1, Ordering::Relaxed).min(2);
                ok(rel(&format!("goroutine-t{i}.pb.gz")))
            }
            _ => status(404, "404 page not found"),
        }
    });
    let dir = temp_dir("leakprofile");
    let bin = env!("CARGO_BIN_EXE_leakscope");
    let out = capture(
        &server.addr.to_string(),
        &dir,
        &["--snapshots", "3", "--interval", "100ms", "--debug2"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let kinds: Vec<String> = manifest(&dir)
        .captures
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "goroutine",
            "goroutine",
            "goroutine",
            "goroutineleak",
            "goroutine-debug2"
        ],
        "{stdout}"
    );
    assert!(leak_taken.load(Ordering::SeqCst));
    let out = Command::new(bin)
        .args(["inspect", "--json", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &v["suspects"][0];
    assert_eq!(first["function"], "main.sendResult");
    assert_eq!(first["evidence"], "proven");
    assert_eq!(first["proven_leaked"], 8);
    // The leak profile is evidence, not a snapshot of the series.
    let series = v["series"]["snapshots"].as_array().unwrap();
    assert!(
        series
            .iter()
            .all(|s| !s["path"].as_str().unwrap().contains("goroutineleak"))
    );

    // Asked not to, it leaves the profile alone.
    let dir2 = temp_dir("leakprofile-off");
    let out = capture(
        &server.addr.to_string(),
        &dir2,
        &["--snapshots", "1", "--no-goroutineleak"],
    );
    assert!(out.status.success());
    assert!(
        manifest(&dir2)
            .captures
            .iter()
            .all(|c| c.kind != "goroutineleak")
    );
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&dir2).ok();
    server.shut_down();
}

/// The CPU profile starts with the first snapshot, beside the trace, as the
/// README says (it used to wait for the trace); a trace that fails on a
/// server error is tried again.
#[test]
fn cpu_profile_runs_beside_the_trace_and_a_failed_trace_is_retried() {
    let started = Instant::now();
    let times: Arc<Mutex<Vec<(String, Duration)>>> = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&times);
    let traces = AtomicUsize::new(0);
    let trace = trace_bytes();
    let server = TestServer::start(30, move |req: &Request| {
        log.lock()
            .unwrap()
            .push((req.path().to_owned(), started.elapsed()));
        match req.path() {
            "/debug/pprof/" => html(INDEX),
            "/debug/pprof/trace" if traces.fetch_add(1, Ordering::SeqCst) == 0 => {
                status(503, "busy")
            }
            "/debug/pprof/trace" => Reply::Chunked {
                chunks: chunks(&trace, 10),
                pause: Duration::from_millis(150),
                cut: false,
            },
            "/debug/pprof/profile" => ok(read("cpu.pb.gz")),
            "/debug/pprof/goroutine" => ok(read("goroutine-t0.pb.gz")),
            _ => status(404, "404 page not found"),
        }
    });
    let dir = temp_dir("cpu-beside-trace");
    let out = capture(
        &server.addr.to_string(),
        &dir,
        &[
            "--snapshots",
            "2",
            "--interval",
            "200ms",
            "--trace",
            "1s",
            "--profiles",
            "cpu",
            "--cpu-seconds",
            "1s",
            "--no-goroutineleak",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let times = times.lock().unwrap().clone();
    let first = |p: &str| times.iter().find(|(q, _)| q == p).map(|(_, t)| *t).unwrap();
    let traces: Vec<Duration> = times
        .iter()
        .filter(|(p, _)| p == "/debug/pprof/trace")
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(traces.len(), 2, "the 503 was tried again: {times:?}");
    // The CPU profile was asked for before the (retried) trace had ended.
    assert!(
        first("/debug/pprof/profile") < traces[1] + Duration::from_millis(1000),
        "{times:?}"
    );
    let kinds: Vec<String> = manifest(&dir)
        .captures
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert!(
        kinds.contains(&"trace".to_owned()) && kinds.contains(&"cpu".to_owned()),
        "{kinds:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down();
}

/// A capture that stalls is dated when the profile arrived, not when it
/// was asked for; a restart between snapshots is marked in the manifest.
#[test]
fn snapshots_are_dated_on_arrival_and_a_restart_is_marked() {
    let polls = AtomicUsize::new(0);
    // t3, down twice, then the service again from t0 (45 goroutines),
    // its first answer stalled for 1.2 s.
    let server = TestServer::start(40, move |req: &Request| {
        if req.path() == "/debug/pprof/" {
            return html(INDEX);
        }
        match polls.fetch_add(1, Ordering::Relaxed) {
            0 => ok(read("goroutine-t3.pb.gz")),
            1 | 2 => status(503, "restarting"),
            3 => Reply::After(
                Duration::from_millis(1200),
                Box::new(ok(read("goroutine-t0.pb.gz"))),
            ),
            _ => ok(read("goroutine-t1.pb.gz")),
        }
    });
    let dir = temp_dir("dated");
    let mut config = quick_config(&server.url("/debug/pprof/"), &dir);
    config.snapshots = Some(3);
    config.timeouts.read = Duration::from_secs(3);
    let (poller, rx) = Poller::start(config, || {}).unwrap();
    collect(&rx, Duration::from_secs(30), |e| {
        matches!(e, LiveEvent::PollingDone { .. })
    });
    poller.stop_and_join();
    let m = manifest(&dir);
    let snaps: Vec<&session_dir::ManifestCapture> = m
        .captures
        .iter()
        .filter(|c| c.kind == "goroutine")
        .collect();
    assert_eq!(snaps.len(), 3);
    let stalled = snaps[1];
    assert_eq!(stalled.goroutines, Some(45));
    // The request went out when the service came back; the profile came 1.2 s later.
    let waited = stalled.finished_at_ns - stalled.started_at_ns;
    assert!(
        waited < 300_000_000,
        "dated when its first byte came: {waited} ns"
    );
    assert!(stalled.started_at_ns - snaps[0].finished_at_ns > 1_200_000_000);
    assert_eq!(m.restarts_ns, [stalled.started_at_ns], "{m:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .arg("inspect")
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("t1 "))
        .unwrap();
    assert!(
        line.contains("45 goroutines") && line.ends_with("(service restarted)"),
        "{text}"
    );
    server.shut_down();
    std::fs::remove_dir_all(&dir).ok();
}

/// Ctrl-C during a trace keeps the trace as far as it came, listed and
/// marked partial, and leaves no hidden temporary file.
#[cfg(unix)]
#[test]
fn ctrl_c_keeps_the_trace_that_was_arriving() {
    let trace = trace_bytes();
    let server = TestServer::start(40, move |req: &Request| match req.path() {
        "/debug/pprof/" => html(INDEX),
        "/debug/pprof/goroutine" => ok(read("goroutine-t0.pb.gz")),
        "/debug/pprof/trace" => Reply::Chunked {
            chunks: chunks(&trace, 20),
            pause: Duration::from_millis(300),
            cut: false,
        },
        _ => status(404, "404 page not found"),
    });
    let dir = temp_dir("ctrl-c");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["capture", &server.url("/debug/pprof/"), "--snapshots", "20"])
        .args(["--interval", "200ms", "--trace", "6s", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "capture did not end after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let m = manifest(&dir);
    let t = m
        .captures
        .iter()
        .find(|c| c.kind == "trace")
        .expect("the trace is listed");
    assert!(t.partial, "{t:?}");
    assert_eq!(t.partial_reason.as_deref(), Some("cancelled"));
    assert!(t.bytes > 0 && t.bytes < trace_bytes().len() as u64, "{t:?}");
    assert!(dir.join(&t.file).is_file());
    let hidden: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    server.shut_down();
    std::fs::remove_dir_all(&dir).ok();
}
