//! The `leakscope` binary end to end: arguments, exit codes, the text a
//! person reads and the JSON scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::process::{Command, Output};

use common::*;
use serde_json::Value;

fn leakscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("run leakscope")
}

fn fixture_args(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| fixture(n).display().to_string())
        .collect()
}

fn inspect_json(names: &[&str]) -> Value {
    let files = fixture_args(names);
    let mut args = vec!["inspect", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = leakscope(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn inspect_json_has_the_documented_shape() {
    let v = inspect_json(&DEBUG2);
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 4);
    for (i, total) in inputs.iter().zip([45, 76, 107, 138]) {
        assert_eq!(i["format"], "goroutine-dump");
        assert_eq!(i["goroutines"], total);
        assert!(i["path"].as_str().unwrap().ends_with(".debug2.txt"));
        assert!(i["warnings"].as_array().unwrap().is_empty());
        assert!(i["profile_type"].is_null());
    }
    let suspects = v["suspects"].as_array().unwrap();
    let first = &suspects[0];
    assert_eq!(first["function"], "main.querySearchBackend");
    assert_eq!(first["wait_reason"], "chan send");
    assert_eq!(first["created_by"], "main.(*app).handleSearch.func1");
    assert_eq!(first["counts"], serde_json::json!([10, 20, 30, 40]));
    assert_eq!(first["growing"], true);
    assert!(first["score"].as_f64().unwrap() > 9.0);
    let growing = suspects.iter().filter(|s| s["growing"] == true).count();
    assert_eq!(growing, LEAKS.len());
    // Ranked: growing first, by score.
    let scores: Vec<f64> = suspects
        .iter()
        .take(growing)
        .map(|s| s["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(suspects[growing..].iter().all(|s| s["growing"] == false));
}

#[test]
fn inspect_json_for_debug1_names_labels_and_profile_type() {
    let v = inspect_json(&DEBUG1);
    assert_eq!(v["inputs"][0]["format"], "goroutine-debug1");
    assert_eq!(v["inputs"][0]["profile_type"], "goroutine");
    let search = v["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["function"] == "main.querySearchBackend")
        .unwrap();
    assert_eq!(search["labels"][0]["labels"]["endpoint"], "search");
    assert_eq!(v["series"]["split_by_labels"], true);
}

#[test]
fn inspect_json_reports_the_panic() {
    let v = inspect_json(&["panic-gotraceback-all.txt"]);
    let input = &v["inputs"][0];
    assert_eq!(input["goroutines"], 44);
    assert_eq!(input["panic"]["goroutine"], 16);
    assert_eq!(
        input["panic"]["message"],
        "panic: assignment to entry in nil map"
    );
    assert_eq!(input["warnings"][0]["kind"], "ignored-line");
    assert_eq!(input["warnings"][0]["count"], 1);
    // One snapshot: counts have one element, nothing is "growing".
    assert!(
        v["suspects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["growing"] == false && s["counts"].as_array().unwrap().len() == 1)
    );
}

#[test]
fn inspect_text_is_for_people() {
    let files = fixture_args(&DEBUG2);
    let mut args = vec!["inspect"];
    args.extend(files.iter().map(String::as_str));
    let out = leakscope(&args);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("LEAK SUSPECTS: 9 growing stack groups (+93 goroutines from t0 to t3)"),
        "{text}"
    );
    assert!(
        text.contains("main.querySearchBackend  [10 → 20 → 30 → 40]  GROWING +10.0/snapshot"),
        "{text}"
    );
    assert!(text.contains("waiting: chan send"));
    assert!(text.contains("created by main.(*app).handleSearch.func1"));
}

/// One unreadable input is named on one line and costs nothing else; only
/// when nothing loads does the command fail (exit code 2).
#[test]
fn unreadable_input_is_named_in_one_line_and_costs_only_itself() {
    let dir = std::env::temp_dir().join(format!("leakscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("login.html");
    std::fs::write(&bad, "<!DOCTYPE html><html>Sign in</html>\n").unwrap();
    let good = fixture("goroutine-t0.debug2.txt");
    let out = leakscope(&["inspect", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("login.html") && err.contains("HTML"), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("login.html  (could not be loaded: "),
        "{text}"
    );
    assert!(text.contains("main.querySearchBackend"), "{text}");

    let out = leakscope(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    let missing = dir.join("nope.pb.gz");
    let out = leakscope(&["inspect", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("nope.pb.gz"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn label_mode_can_merge() {
    let files = fixture_args(&DEBUG1);
    let mut args = vec!["inspect", "--json", "--labels", "merge"];
    args.extend(files.iter().map(String::as_str));
    let out = leakscope(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["series"]["split_by_labels"], false);
}

/// MANIFEST: goroutines created in the trace window and alive at its end.
const TRACE_LEAKS: &[(&str, &str, u64)] = &[
    ("main.querySearchBackend", "chan send", 10),
    ("main.consumeEvents", "chan receive", 5),
    ("main.(*inventoryStore).reserve", "sync.Mutex.Lock", 4),
    ("main.pollUpstream", "select", 3),
    ("main.flushBatch", "sync.WaitGroup.Wait", 2),
    ("net/http.(*persistConn).readLoop", "select", 2),
    ("net/http.(*persistConn).writeLoop", "select", 2),
];

#[test]
fn inspect_json_of_a_trace_alone() {
    for (name, version) in [
        ("trace-go123.out", "go1.23"),
        ("trace-go121-legacy.out", "go1.21"),
    ] {
        let v = inspect_json(&[name]);
        assert_eq!(v["inputs"][0]["format"], "trace");
        assert!(v["inputs"][0]["goroutines"].is_null());
        let t = &v["trace"];
        assert_eq!(t["go_version"], version, "{name}");
        assert!(t["events"].as_u64().unwrap() > 30_000);
        assert!(
            t["goroutines_created"].as_u64().unwrap() > t["goroutines_ended"].as_u64().unwrap()
        );
        assert!(t["blocked_at_end"]["chan send"].as_u64().unwrap() >= 10);
        let suspects = v["suspects"].as_array().unwrap();
        assert!(suspects.iter().all(|s| s["source"] == "trace"));
        for (function, reason, n) in TRACE_LEAKS {
            let s = suspects
                .iter()
                .find(|s| s["function"] == *function && s["growing"] == true)
                .unwrap_or_else(|| panic!("{function} not flagged in {name}"));
            assert_eq!(s["wait_reason"], *reason, "{function} in {name}");
            assert_eq!(
                s["counts"].as_array().unwrap().last().unwrap(),
                n,
                "{function} in {name}"
            );
            assert_eq!(s["trace_goroutines"], *n);
            assert!(
                s["created_by"].as_str().unwrap().starts_with("main.")
                    || function.starts_with("net/http")
            );
        }
        // The server side of the proxy connections blocks in the network poller.
        assert!(suspects.iter().any(|s| s["growing"] == true
            && s["wait_reason"] == "IO wait"
            && s["created_by"] == "net/http.(*Server).Serve"
            && s["counts"].as_array().unwrap().last().unwrap() == 2));
        // The tracer's own goroutines are never flagged.
        assert!(!suspects.iter().any(|s| {
            s["growing"] == true
                && s["entry_function"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("runtime")
        }));
        // The growing ones are exactly the leaks, ranked first.
        let growing = suspects.iter().take_while(|s| s["growing"] == true).count();
        assert_eq!(growing, TRACE_LEAKS.len() + 1, "{name}");
    }
}

#[test]
fn inspect_json_ties_snapshots_to_the_trace() {
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let v = inspect_json(&names);
    let suspects = v["suspects"].as_array().unwrap();
    let search = suspects
        .iter()
        .find(|s| s["source"] == "snapshots" && s["function"] == "main.querySearchBackend")
        .unwrap();
    // 30 goroutines from three leak phases before the trace, 10 born in it.
    assert_eq!(search["trace_goroutines"], 40);
    assert_eq!(search["counts"], serde_json::json!([10, 20, 30, 40]));
    let heartbeat = suspects
        .iter()
        .find(|s| s["source"] == "snapshots" && s["function"] == "main.heartbeatLoop")
        .unwrap();
    assert_eq!(heartbeat["trace_goroutines"], 4);
    // Snapshot suspects first, then the trace's.
    let first_trace = suspects
        .iter()
        .position(|s| s["source"] == "trace")
        .unwrap();
    assert!(
        suspects[first_trace..]
            .iter()
            .all(|s| s["source"] == "trace")
    );
    assert!(
        suspects[..first_trace]
            .iter()
            .all(|s| !s["trace_goroutines"].is_null())
    );
}

#[test]
fn the_report_carries_the_trace() {
    let dir = std::env::temp_dir().join(format!("leakscope-cli-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("incident.md");
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let files = fixture_args(&names);
    let mut args = vec!["report", "-o", out.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let run = leakscope(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(
        md.contains("| trace goroutines |"),
        "suspects table has the column"
    );
    assert!(md.contains("#### In the trace: 40 goroutines on this call path"));
    assert!(md.contains(
        "by main.(*app).handleSearch.func1 (example.com/leakyd/main.go:201) in goroutine"
    ));
    assert!(md.contains(": chan send for 2."));
    assert!(md.contains("## Execution trace (go1.23)"));
    assert!(md.contains("| main.consumeEvents (example.com/leakyd/main.go:240) | chan receive | main.(*app).handleSubscribe | 5 |"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The runtime's verdict in the text and the JSON: proven groups first,
/// under their own heading, with how many goroutines it proved; the
/// goroutineleak profile is not a snapshot of the series.
#[test]
fn inspect_names_the_runtimes_verdict_first() {
    let names = [
        "releases/go1.27/goroutine-t0.debug2.txt",
        "releases/go1.27/goroutine-t1.debug2.txt",
        "releases/go1.27/goroutine-t2.debug2.txt",
        "releases/go1.27/goroutineleak.pb.gz",
    ];
    let v = inspect_json(&names);
    assert_eq!(v["series"]["snapshots"].as_array().unwrap().len(), 3);
    let suspects = v["suspects"].as_array().unwrap();
    let first = &suspects[0];
    assert_eq!(first["evidence"], "proven");
    assert_eq!(first["function"], "main.sendResult");
    assert_eq!(first["proven_leaked"], 8);
    let proven: u64 = suspects
        .iter()
        .map(|s| s["proven_leaked"].as_u64().unwrap())
        .sum();
    assert_eq!(proven, 14);
    // A growing leak the runtime cannot prove (its channel is reachable)
    // still reads as growing, never as cleared.
    let reply = suspects
        .iter()
        .find(|s| s["function"] == "main.awaitReply")
        .unwrap();
    assert_eq!(reply["evidence"], "growing");
    assert_eq!(reply["proven_leaked"], 0);

    let files = fixture_args(&names);
    let mut args = vec!["inspect"];
    args.extend(files.iter().map(String::as_str));
    let text = String::from_utf8(leakscope(&args).stdout).unwrap();
    assert!(
        text.contains("5 groups with 14 goroutines proven leaked by the runtime"),
        "{text}"
    );
    let proven_at = text.find("  proven leaked by the runtime:").unwrap();
    let growing_at = text.find("  growing across snapshots:").unwrap();
    assert!(proven_at < growing_at, "{text}");
    assert!(text.contains("main.sendResult  [2 → 5 → 8]  PROVEN LEAKED ×8  GROWING"));
}

/// `--all` lists every group under the same headings, with nothing left
/// to show; the growth headline counts the snapshots' groups only, not a
/// trace's goroutines.
#[test]
fn inspect_all_keeps_its_headings_and_counts_snapshots_only() {
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let files = fixture_args(&names);
    for all in [false, true] {
        let mut args = vec!["inspect"];
        if all {
            args.push("--all");
        }
        args.extend(files.iter().map(String::as_str));
        let text = String::from_utf8(leakscope(&args).stdout).unwrap();
        assert!(
            text.contains("9 growing stack groups (+93 goroutines from t0 to t3)"),
            "{text}"
        );
        assert!(text.contains("  growing across snapshots:"), "{text}");
        assert!(text.contains("  not growing:"), "{text}");
        assert_eq!(text.contains("(--all shows them)"), !all, "{text}");
    }
}

/// `export --top N` prints the flame graph's Top table, the app's Top view
/// headless: self and total per function on the last leakyd profile (the
/// 40 querySearchBackend goroutines of MANIFEST.md), as text and JSON, a
/// sampled profile's chosen value with its unit, and a recursion (121
/// calls deep in `main.recurse`) counted once.
#[test]
fn export_top_prints_self_and_total_per_function() {
    let t3 = fixture_args(&["goroutine-t3.pb.gz"]);
    let out = leakscope(&["export", "--top", "50", &t3[0]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "goroutine-t3.pb.gz: 138 goroutines in all",
        "{text}"
    );
    let row = |f: &str| -> Vec<String> {
        let line = lines
            .iter()
            .find(|l| l.ends_with(&format!("  {f}")))
            .unwrap_or_else(|| panic!("no {f} in {text}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    // self, its share, total, its share, function: heaviest self first.
    assert_eq!(
        row("runtime.gopark"),
        ["135", "97.8%", "135", "97.8%", "runtime.gopark"]
    );
    assert!(lines[2].ends_with("runtime.gopark"), "{text}");
    assert_eq!(
        row("main.querySearchBackend")[..4],
        ["0", "0.0%", "40", "29.0%"]
    );

    let heap = fixture_args(&["heap.pb.gz"]);
    let args = [
        "export",
        "--top",
        "3",
        "--json",
        "--sample-type",
        "inuse_space",
        &heap[0],
    ];
    let out = leakscope(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(
        (&v["sample_type"], &v["unit"]),
        (&"inuse_space".into(), &"bytes".into())
    );
    assert_eq!(v["total"], 4_305_229);
    let first = &v["functions"][0];
    // MANIFEST.md: main.loadCatalog holds about 1.9 MB (its own allocations).
    assert_eq!(first["function"], "main.loadCatalog");
    assert_eq!(
        (&first["flat"], &first["cum"]),
        (&2_002_915.into(), &2_002_915.into())
    );
    assert_eq!(v["functions"].as_array().unwrap().len(), 3);

    let variants = fixture_args(&["variants/debug1.txt"]);
    let out = leakscope(&["export", "--top", "100", "--json", &variants[0]]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let recurse = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["function"] == "main.recurse")
        .unwrap();
    assert_eq!((&recurse["flat"], &recurse["cum"]), (&1.into(), &1.into()));
}

/// `export --sandwich REGEX` prints a function's callers and callees, the
/// app's Sandwich headless: `runtime.selectgo` in the last leakyd profile
/// under its 36 goroutines' entry functions (MANIFEST.md's 12 pollUpstream,
/// 8 + 8 persistConn loops, 4 workers), and a recursion cut once.
#[test]
fn export_sandwich_prints_callers_and_callees() {
    let t3 = fixture_args(&["goroutine-t3.pb.gz"]);
    let out = leakscope(&["export", "--sandwich", r"runtime\.selectgo", &t3[0]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("runtime.selectgo: total 36 goroutines (26.1%), self 0\n"),
        "{text}"
    );
    for line in [
        "          12   8.7%     main.pollUpstream",
        "           8   5.8%     net/http.(*persistConn).readLoop",
        "           4   2.9%     main.jobWorker",
        "           1   0.7%       runtime.main",
        "          36  26.1%     runtime.gopark",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in {text}");
    }
    let callees = text.find("callees (inwards):").unwrap();
    assert!(text.find("runtime.gopark").unwrap() > callees, "{text}");

    let variants = fixture_args(&["variants/debug1.txt"]);
    let out = leakscope(&["export", "--sandwich", "recurse", "--json", &variants[0]]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(
        (&v["function"], &v["total"]),
        (&"main.recurse".into(), &1.into())
    );
    assert_eq!(v["callers"].as_array().unwrap().len(), 1);
    let callees = v["callees"].as_array().unwrap();
    assert_eq!(callees.len(), 121);
    assert!(
        callees
            .iter()
            .all(|c| c["total"] == 1 && c["function"] == "main.recurse")
    );

    let out = leakscope(&["export", "--sandwich", "nothing-like-this", &t3[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no function of the graph matches"));
}

/// Counts read in the singular for one, in the text a person reads: the
/// suspects of four dumps and a trace say how many of each path's
/// goroutines the trace holds, and several hold exactly one.
#[test]
fn inspect_says_one_goroutine_not_one_goroutines() {
    let args = fixture_args(&[
        "goroutine-t0.debug2.txt",
        "goroutine-t1.debug2.txt",
        "goroutine-t2.debug2.txt",
        "goroutine-t3.debug2.txt",
        "trace-go123.out",
    ]);
    let mut argv = vec!["inspect"];
    argv.extend(args.iter().map(String::as_str));
    let out = leakscope(&argv);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\n        1 goroutine on this path in the trace\n"),
        "{text}"
    );
    assert!(
        text.contains("\n        40 goroutines on this path in the trace\n"),
        "{text}"
    );
    assert!(!text.contains(" 1 goroutines"), "{text}");
}
