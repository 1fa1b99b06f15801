//! Shared by the fuzz targets: the source record, fuzzing limits, and the
//! downstream check every target runs on what loaded.
#![allow(dead_code)]

use leakscope::analysis::correlate;
use leakscope::analysis::lanes::SnapshotLanes;
use leakscope::analysis::trace_lanes::TraceLanes;
use leakscope::analysis::{self, AnalysisOptions};
use leakscope::formats::{Limits, Loaded};
use leakscope::model::{Format, Session, Source};

pub fn source(format: Format, len: usize) -> Source {
    Source {
        path: "fuzz".to_owned(),
        format,
        profile_type: None,
        bytes: len as u64,
    }
}

/// The default limits, scaled down where the default lets a small input
/// legitimately cost seconds or gigabytes (a gzip stream inflating to 2 GiB,
/// a sample claiming 20 million goroutines that become 20 million timeline
/// lanes): the fuzzer would report those as out-of-memory or timeouts. What
/// is checked is that the limits hold, not their size.
pub fn limits() -> Limits {
    Limits {
        max_inflated_bytes: 64 << 20,
        max_goroutines: 50_000,
        ..Limits::default()
    }
}

/// What the app and `inspect --json` do with a loaded input: a session, the
/// analysis, the timeline lanes, the trace correlation, the flame graphs,
/// the incident report and the JSON report.
/// A parser that returns ids pointing nowhere shows up here as a panic.
pub fn check(loaded: Loaded) {
    let mut session = Session::default();
    session.add_owned(loaded.table, loaded.input);
    let analysis = analysis::analyze(&session, &AnalysisOptions::default());
    let _lanes = SnapshotLanes::build(&session, &analysis);
    let traces = correlate::analyze_traces(&session, &analysis);
    for ta in &traces {
        if let Some(t) = session.inputs.get(ta.input).and_then(|i| i.trace_arc()) {
            let _ = TraceLanes::build(t.clone(), ta, &analysis, &session.stacks);
        }
    }
    // The flame graph of every input, as the app draws it and exports it.
    for i in 0..session.inputs.len() {
        let spec = leakscope::export::FlameSpec::input(i);
        if let Ok(tree) = leakscope::export::flame_tree(&session, &analysis, &spec) {
            let _ = leakscope::export::folded::folded_lines(&tree, &session.stacks, None, 0.0);
            if let Ok(titles) = leakscope::export::titles(&session, &analysis, &spec, &tree) {
                let opts = leakscope::export::svg::SvgOptions::new(titles);
                let _ = leakscope::export::svg::svg_string(&tree, &session.stacks, &opts);
            }
        }
    }
    // The incident report, charts and graphs included.
    let _ = leakscope::export::report::render(&session, &analysis, &Default::default());
    let report = analysis::summary::build_with(&session, &analysis, &traces);
    let _ = serde_json::to_string(&report);
}
