//! The one pipeline: every command keeps what loads when an input does not,
//! a session that grows one capture at a time reads the same as one loaded
//! whole, and snapshots and traces describe the same goroutines in the same
//! words.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use leakscope::analysis::AnalysisOptions;
use leakscope::analysis::lanes::LaneSource;
use leakscope::formats::LoadOptions;
use leakscope::formats::session_dir::{MANIFEST_FILE, Manifest, ManifestCapture};
use leakscope::pipeline::{self, Findings, InputSpec};
use serde_json::Value;

fn leakscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("run leakscope")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakscope-pipe-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A trace header of a Go release no leakscope knows yet.
const FUTURE_TRACE: &[u8] = b"go 1.99 trace\x00\x00\x00\x01\x02\x03";

/// A session folder as `capture` writes it: the four protobuf snapshots,
/// a trace of a future Go, and a person's notes the manifest does not list.
fn session_with_a_future_trace(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let mut manifest = Manifest {
        leakscope_session: 1,
        ..Manifest::default()
    };
    for (i, name) in PROTO.iter().enumerate() {
        let file = format!("00000{}-goroutine.pb.gz", i + 1);
        std::fs::copy(fixture(name), dir.join(&file)).unwrap();
        manifest.captures.push(ManifestCapture {
            file,
            kind: "goroutine".into(),
            // 20 s apart, as the fixtures were taken.
            started_at_ns: 1_764_000_000_000_000_000 + i as i64 * 20_000_000_000,
            ..ManifestCapture::default()
        });
    }
    let trace = "000005-trace-3s.out";
    std::fs::write(dir.join(trace), FUTURE_TRACE).unwrap();
    manifest.captures.push(ManifestCapture {
        file: trace.into(),
        kind: "trace".into(),
        started_at_ns: 1_764_000_070_000_000_000,
        ..ManifestCapture::default()
    });
    std::fs::write(dir.join("NOTES.md"), "# what we did\nrestarted pod-7\n").unwrap();
    std::fs::write(
        dir.join(MANIFEST_FILE),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    dir
}

fn assert_leaks_ranked(v: &Value) {
    let suspects = v["suspects"].as_array().unwrap();
    for (site, _, per_phase) in LEAKS {
        let s = suspects
            .iter()
            .find(|s| s["function"] == *site)
            .unwrap_or_else(|| panic!("{site} missing"));
        let want: Vec<u64> = (1..=4).map(|k| k * per_phase).collect();
        assert_eq!(s["counts"], serde_json::json!(want), "{site}");
        assert_eq!(s["growing"], true, "{site}");
    }
}

#[test]
fn an_unreadable_trace_costs_only_itself_in_every_command() {
    let dir = session_with_a_future_trace("commands");
    let d = dir.to_str().unwrap();

    let out = leakscope(&["inspect", "--json", d]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("000005-trace-3s.out") && err.contains("go 1.99"),
        "the trace is named with its version: {err}"
    );
    assert!(err.contains("skipped") && err.contains("NOTES.md"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 5, "{inputs:?}");
    let bad = inputs.iter().find(|i| i["format"] == "unreadable").unwrap();
    assert!(
        bad["path"]
            .as_str()
            .unwrap()
            .ends_with("000005-trace-3s.out")
    );
    assert!(bad["error"].as_str().unwrap().contains("go 1.99"), "{bad}");
    assert_eq!(v["series"]["snapshots"].as_array().unwrap().len(), 4);
    assert_leaks_ranked(&v);

    let svg = dir.join("out.svg");
    let out = leakscope(&["export", d, "--svg", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("main.querySearchBackend"));

    let html = dir.join("report.html");
    let out = leakscope(&["report", d, "-o", html.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("000005-trace-3s.out"), "the report names it");
    assert!(text.contains("could not be loaded"));
    assert!(text.contains("main.querySearchBackend"));

    // Nothing that loads is a failure, in every command.
    let only = dir.join("000005-trace-3s.out");
    for args in [
        vec!["inspect", only.to_str().unwrap()],
        vec![
            "export",
            only.to_str().unwrap(),
            "--svg",
            dir.join("none.svg").to_str().unwrap(),
        ],
        vec![
            "report",
            only.to_str().unwrap(),
            "-o",
            dir.join("none.html").to_str().unwrap(),
        ],
    ] {
        let out = leakscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!dir.join("none.svg").exists() && !dir.join("none.html").exists());
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every fact the views read, in a form two findings can be compared by.
fn facts(f: &Findings) -> Value {
    let mut v = serde_json::to_value(f.report()).unwrap();
    // Inputs are listed in the order they came in; the rest must match.
    v["inputs"] = Value::Null;
    v
}

#[test]
fn appending_captures_one_by_one_reads_as_loading_them_together() {
    let mut names: Vec<PathBuf> = PROTO.iter().map(|n| fixture(n)).collect();
    names.push(fixture("trace-go123.out"));
    let whole = findings_of(&names);
    let mut grown = Findings::empty(&AnalysisOptions::default());
    for p in &names {
        let spec = InputSpec::Path(p.clone());
        let l = pipeline::load_one(&spec, None, &LoadOptions::default()).unwrap();
        grown.append(l, spec);
    }
    assert_eq!(facts(&grown), facts(&whole));
    assert_eq!(grown.analysis.series.len(), 4);
    // Out of order (the newest first): analysed again from scratch, same result.
    let mut shuffled = Findings::empty(&AnalysisOptions::default());
    for p in names.iter().rev() {
        let spec = InputSpec::Path(p.clone());
        let l = pipeline::load_one(&spec, None, &LoadOptions::default()).unwrap();
        shuffled.append(l, spec);
    }
    assert_eq!(facts(&shuffled)["suspects"], facts(&whole)["suspects"]);
    // Lanes are built on demand from the grown findings too.
    assert_eq!(
        grown.snapshot_lanes().lane_count(),
        whole.snapshot_lanes().lane_count()
    );
}

#[test]
fn snapshots_and_traces_name_a_wait_the_same_way() {
    let mut names: Vec<PathBuf> = DEBUG2.iter().map(|n| fixture(n)).collect();
    names.push(fixture("trace-go123.out"));
    let v = serde_json::to_value(findings_of(&names).report()).unwrap();
    let suspects = v["suspects"].as_array().unwrap();
    let mut compared = 0;
    for t in suspects.iter().filter(|s| s["source"] == "trace") {
        let Some(s) = suspects
            .iter()
            .find(|s| s["source"] == "snapshots" && s["function"] == t["function"])
        else {
            continue;
        };
        assert_eq!(s["wait_reason"], t["wait_reason"], "{}", t["function"]);
        compared += 1;
    }
    // Every MANIFEST leak but the single heartbeat is stuck in the trace.
    assert!(compared >= LEAKS.len() - 1, "compared {compared}");
    for (site, reason, _) in LEAKS {
        let s = suspects
            .iter()
            .find(|s| s["source"] == "snapshots" && s["function"] == *site)
            .unwrap();
        assert_eq!(s["wait_reason"], *reason, "{site}");
    }
}

#[test]
fn session_folder_paths_are_kept_relative_to_what_was_given() {
    let dir = session_with_a_future_trace("paths");
    let f = findings_of(std::slice::from_ref(&dir));
    assert_eq!(f.session.inputs.len(), 4);
    assert_eq!(f.errors.len(), 1);
    assert!(Path::new(&f.errors[0].input).starts_with(&dir));
    assert_eq!(f.skipped.len(), 1);
    assert!(f.skipped[0].input.ends_with("NOTES.md"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A capture session's `debug=2` dump, taken after its protobuf snapshots,
/// is the newest moment again in detail: not one more interval (it bent the
/// rates) and not more goroutines (every one was drawn twice), yet its wait
/// ages and creators join the groups.
#[test]
fn a_dump_after_the_snapshots_is_detail_not_another_step() {
    let protos: Vec<PathBuf> = PROTO.iter().map(|n| fixture(n)).collect();
    let mut with_dump = protos.clone();
    with_dump.push(fixture("goroutine-t3.debug2.txt"));
    let alone = findings_of(&protos);
    let both = findings_of(&with_dump);
    assert_eq!(both.analysis.series.len(), 4);
    assert_eq!(both.analysis.details.len(), 1);
    let group = |f: &Findings| {
        let s = f
            .analysis
            .suspects
            .iter()
            .find(|s| {
                s.leak_site.map(|x| f.session.stacks.function(x)) == Some("main.querySearchBackend")
            })
            .unwrap()
            .clone();
        (s.group, s.growth.per_minute)
    };
    let (ga, rate_alone) = group(&alone);
    let (gb, rate_both) = group(&both);
    assert_eq!(rate_alone, rate_both, "the dump does not bend the rate");
    assert_eq!(both.analysis.groups[gb].counts, vec![10, 20, 30, 40]);
    let lanes = both.snapshot_lanes();
    assert_eq!(
        lanes.lanes_of_group(gb as u32).len(),
        40,
        "each goroutine once"
    );
    assert_eq!(
        alone.snapshot_lanes().lanes_of_group(ga as u32).len(),
        lanes.lanes_of_group(gb as u32).len()
    );
    // What the dump adds: wait ages and the creator.
    let g = &both.analysis.groups[gb];
    assert!(!g.wait_minutes.is_empty());
    assert!(g.created_by().is_some());
}

/// Goroutines running only standard-library code are named by what they
/// are, the same way in every dialect and in the trace: the idle server
/// connections of the proxy leak are `net/http.(*conn).serve` (never
/// `internal/poll.(*pollDesc).wait`, where they wait), and the runtime's own
/// goroutines by their runtime entry (never `runtime.gopark`).
#[test]
fn standard_library_and_runtime_goroutines_are_named_alike_everywhere() {
    let named = |names: &[&str]| -> Findings {
        findings_of(&names.iter().map(|n| fixture(n)).collect::<Vec<_>>())
    };
    for set in [&DEBUG2[..], &DEBUG1[..], &PROTO[..]] {
        let f = named(set);
        let t = &f.session.stacks;
        let sites: Vec<&str> = f
            .analysis
            .suspects
            .iter()
            .filter_map(|s| s.leak_site.map(|x| t.function(x)))
            .collect();
        let serve = f
            .analysis
            .suspects
            .iter()
            .find(|s| {
                s.leak_site
                    .is_some_and(|x| t.function(x) == "net/http.(*conn).serve")
            })
            .unwrap_or_else(|| panic!("{set:?}: {sites:?}"));
        assert_eq!(f.analysis.group(serve).counts, [2, 4, 6, 8], "{set:?}");
        assert!(
            sites
                .iter()
                .all(|s| !s.starts_with("internal/poll.") && *s != "runtime.gopark"),
            "{set:?}: {sites:?}"
        );
    }
    for trace in ["trace-go123.out", "trace-go121-legacy.out"] {
        let f = named(&[trace]);
        let t = &f.session.stacks;
        let ta = &f.traces[0].analysis;
        let serve = ta
            .suspects
            .iter()
            .find(|s| {
                s.leak_site
                    .is_some_and(|x| t.function(x) == "net/http.(*conn).serve")
            })
            .unwrap();
        assert_eq!(ta.leaks[serve.leak].goroutines.len(), 2, "{trace}");
        // Lanes: the runtime's background goroutines by their entries.
        let lanes = f.trace_lanes(0).unwrap();
        let functions: Vec<&str> = (0..lanes.lane_count())
            .filter_map(|l| lanes.lane(l).function.map(|x| t.function(x)))
            .collect();
        for entry in ["runtime.forcegchelper", "runtime.bgsweep"] {
            assert!(functions.contains(&entry), "{trace}: {entry}");
        }
        assert!(
            functions
                .iter()
                .all(|f| *f != "runtime.gopark" && !f.starts_with("internal/poll.")),
            "{trace}: {functions:?}"
        );
    }
}
