//! One test per bug found by fuzzing (`fuzz/`) or by the hostile-input
//! review, named after what it found. Each builds the smallest input that
//! showed the bug and runs it through everything the app and `inspect` do
//! with a file ([`common::downstream`]), because several of the bugs were
//! panics after loading, in the analysis of what a parser let through.
//!
//! Belongs here: a reproduction of one past bug. General robustness sweeps
//! (truncations, byte flips, huge inputs) live in `tests/bad_input.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::tracegen::{V2, ev, uv};
use common::{downstream, fixture, load_bytes, read, snapshot};
use leakscope::formats::pprof::proto;
use leakscope::formats::{self, Limits, LoadOptions, session_dir};
use leakscope::progress::Progress;
use prost::Message as _;

/// A goroutine profile with one stack (`main.main`) per entry of `counts`.
fn goroutine_profile(counts: &[i64], time_nanos: i64) -> Vec<u8> {
    let s = |t: &str| -> String { t.to_owned() };
    let p = proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        sample: counts
            .iter()
            .map(|&c| proto::Sample {
                location_id: vec![1],
                value: vec![c],
                label: vec![],
            })
            .collect(),
        location: vec![proto::Location {
            id: 1,
            mapping_id: 0,
            address: 0x1000,
            line: vec![proto::Line {
                function_id: 1,
                line: 3,
            }],
            is_folded: false,
        }],
        function: vec![proto::Function {
            id: 1,
            name: 3,
            system_name: 0,
            filename: 4,
            start_line: 1,
        }],
        string_table: vec![
            s(""),
            s("goroutine"),
            s("count"),
            s("main.main"),
            s("main.go"),
        ],
        time_nanos,
        ..proto::Profile::default()
    };
    p.encode_to_vec()
}

/// Found by `fuzz/pprof` (timeout): a sample claiming 2^62 goroutines was
/// clamped per sample to the goroutine limit, then the timeline laid out one
/// lane per goroutine, twenty million of them, for a 300-byte file. The sum
/// of the counts of one input is now capped.
#[test]
fn pprof_samples_claiming_billions_of_goroutines_are_capped_in_sum() {
    let limits = Limits {
        max_goroutines: 1000,
        ..Limits::default()
    };
    let options = LoadOptions { limits };
    let data = goroutine_profile(&[1 << 62, 600, 600, 5], 0);
    let l = formats::load_bytes("forged", &data, &options, &Progress::none()).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(1000));
    assert_eq!(s.warnings.count("count-clamped"), 1, "{:?}", s.warnings);
    let t = Instant::now();
    downstream(l);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // The same for debug=1 records.
    let text = "goroutine profile: total 7\n\
                4611686018427387904 @ 0x1\n#\t0x1\tmain.main+0x1\t/a/main.go:3\n\n\
                600 @ 0x2\n#\t0x2\tmain.f+0x1\t/a/main.go:4\n\n\
                600 @ 0x3\n#\t0x3\tmain.g+0x1\t/a/main.go:5\n";
    let l = formats::load_bytes("forged", text.as_bytes(), &options, &Progress::none()).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(1000));
    assert_eq!(
        s.goroutines().len(),
        1,
        "the records past the cap are left out"
    );
    assert_eq!(s.warnings.count("count-clamped"), 1);
    downstream(l);
}

/// Found by `fuzz/trace_v2` and `fuzz/load_bytes` (overflow panic in
/// `analysis::correlate`): one event stamped near the end of time stretches
/// the window so that `(end - born) * 10` overflows `i64`.
#[test]
fn v2_trace_with_one_event_at_the_end_of_time() {
    let mut b = V2::new(23);
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]); // ProcStatus P0 running
    ev(&mut p, 48, &[1, 1, 1, 2, 1]); // GoStatusStack g1 running
    ev(&mut p, 14, &[10, 5, 2, 1]); // GoCreate g5
    ev(&mut p, 20, &[1 << 62, 1, 3]); // GoBlock g1, 2^62 ticks later
    b.batch(1, 1, 1000, &p);
    b.tables(1, 23);
    let l = load_bytes("late", &b.out).unwrap();
    let t = l.input.as_trace().unwrap();
    assert!(t.window.end_ns - t.window.start_ns > 1 << 61);
    downstream(l);
}

/// Found by `fuzz/trace_legacy` (overflow panic in
/// `analysis::trace_lanes::alive_series`): the same stretched window in a
/// Go 1.21 trace, from a batch whose base time is near the end of time.
#[test]
fn legacy_trace_with_a_batch_at_the_end_of_time() {
    let mut data = read("trace-go121-legacy.out");
    // A Batch record (type 1) for P 0 at tick 2^62, then GoSched (type 17,
    // one argument: the time delta).
    data.push(1 | 1 << 6);
    uv(&mut data, 0);
    uv(&mut data, 1 << 62);
    data.push(17);
    uv(&mut data, 5);
    let l = load_bytes("late", &data).unwrap();
    let t = l.input.as_trace().unwrap();
    assert!(t.window.end_ns - t.window.start_ns > 1 << 60);
    downstream(l);
}

/// Found in review: `[select, 4294967295 minutes]` became a wait of
/// 2.6e20 ns on the timeline, overflowing `i64`. Waits over a century are
/// now no waits.
#[test]
fn dump_waiting_four_billion_minutes() {
    let text = "goroutine 1 [select, 4294967295 minutes]:\nmain.main()\n\t/a/main.go:3 +0x1\n\n\
                goroutine 2 [select, 120000000 minutes]:\nmain.main()\n\t/a/main.go:3 +0x1\n";
    let l = load_bytes("old", text.as_bytes()).unwrap();
    let g = snapshot(&l).goroutines();
    assert_eq!(g[0].wait_minutes, None);
    assert_eq!(g[1].wait_minutes, None);
    downstream(l);
}

/// Found in review: a profile's `time_nanos` is any `i64`; two profiles
/// stamped `i64::MIN` and `i64::MAX` overflowed the snapshot spacing of the
/// timeline. Times outside 1970..2116 are ignored with a warning.
#[test]
fn profiles_stamped_at_the_ends_of_time() {
    let mut session = leakscope::model::Session::default();
    for t in [i64::MIN, i64::MAX, -1] {
        let l = load_bytes("t", &goroutine_profile(&[3], t)).unwrap();
        let s = snapshot(&l);
        assert_eq!(s.captured_at_ns, None);
        assert_eq!(s.warnings.count("implausible-time"), 1);
        session.add(&l.table, l.input);
    }
    let mut l = load_bytes("t", &goroutine_profile(&[3], 1_700_000_000_000_000_000)).unwrap();
    assert!(snapshot(&l).captured_at_ns.is_some());
    // A manifest's time goes through the same check.
    l.set_captured_at(i64::MIN);
    assert_eq!(snapshot(&l).captured_at_ns, Some(1_700_000_000_000_000_000));
    downstream(l);
}

/// Found in review: a session manifest that lists a capture without
/// `started_at_ns` (or with a forged one) gave it the time 0 or `i64::MIN`.
#[test]
fn manifest_with_missing_and_forged_capture_times() {
    let dir = std::env::temp_dir().join(format!("leakscope-reg-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = ["000001-a-goroutine.pb.gz", "000002-b-goroutine.pb.gz"];
    for n in names {
        std::fs::copy(fixture("goroutine-t0.pb.gz"), dir.join(n)).unwrap();
    }
    let manifest = format!(
        r#"{{"leakscope_session":1,"captures":[{{"file":"{}"}},{{"file":"{}","started_at_ns":{}}}]}}"#,
        names[0],
        names[1],
        i64::MIN
    );
    std::fs::write(dir.join(session_dir::MANIFEST_FILE), manifest).unwrap();
    let caps = session_dir::list_captures(&dir).unwrap();
    assert_eq!(caps.len(), 2);
    assert!(caps.iter().all(|c| c.captured_at_ns.is_none()), "{caps:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Found in review: every v2 generation kept about 3.6 KB of state however
/// small it was, so a 13 MB file of a million one-event generations took
/// 3.6 GB. Generations are now capped (a day of tracing) and cost less.
#[test]
fn v2_trace_of_a_million_tiny_generations() {
    let mut b = V2::new(23);
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]);
    ev(&mut p, 14, &[1, 100, 0, 0]); // GoCreate g100
    b.batch(1, 1, 1000, &p);
    b.tables(1, 23);
    let generations = Limits::default().max_trace_generations + 1000;
    for n in 2..=generations {
        let mut p = Vec::new();
        ev(&mut p, 16, &[1, 100, 1]); // GoStart g100
        b.batch(n, 1, 1000 + n, &p);
    }
    let l = load_bytes("tiny", &b.out).unwrap();
    let t = l.input.as_trace().unwrap();
    assert_eq!(t.warnings.count("trace-limit"), 1, "{:?}", t.warnings);
    assert!(t.events <= Limits::default().max_trace_generations + 2);
}

/// Found in review: the second replay gave every generation a cursor array
/// over all goroutines of the trace, so many short generations over many
/// goroutines took time quadratic in the file size (a 7 MB file of a
/// million goroutines and 90,000 generations: 360 GB of writes).
#[test]
fn v2_trace_of_many_generations_over_many_goroutines() {
    let goroutines = 1_000_000u64;
    let mut b = V2::new(23);
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]);
    for g in 0..goroutines {
        if p.len() > 60_000 {
            b.batch(1, 1, 1000, &p);
            p.clear();
        }
        ev(&mut p, 14, &[1, 100 + g, 0, 0]);
    }
    b.batch(1, 1, 1000, &p);
    b.tables(1, 23);
    for n in 2..90_000u64 {
        let mut p = Vec::new();
        ev(&mut p, 16, &[1, 100 + n, 1]);
        b.batch(n, 1, 1000 + n, &p);
    }
    let t0 = Instant::now();
    let l = load_bytes("wide", &b.out).unwrap();
    assert_eq!(
        l.input.as_trace().unwrap().goroutine_ids().len(),
        goroutines as usize
    );
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

/// Found by `fuzz/folded` (overflow panic in `analysis::analyze`): folded
/// counts are any `i64`, and four of 5·10^18 add up past `u64::MAX` in a
/// group's count, the series total and the flame graph's weights. Sums of
/// counts saturate now.
#[test]
fn folded_counts_that_add_up_past_u64() {
    use leakscope::analysis::flame::FlameTree;
    use leakscope::export::svg::{SvgOptions, svg_string};
    let text = "main.main;main.a 5000000000000000000\n\
                main.main;main.a 5000000000000000000\n\
                main.main;main.b 5000000000000000000\n\
                main.main;main.b 5000000000000000000\n";
    let l = load_bytes("huge.folded", text.as_bytes()).unwrap();
    let mut session = leakscope::model::Session::default();
    session.add(&l.table, l.input);
    let a = leakscope::analysis::analyze(&session, &Default::default());
    assert_eq!(a.series.last().map(|p| p.total), Some(u64::MAX));
    let snap = session.inputs[0].as_snapshot().unwrap();
    let tree = FlameTree::build(&session.stacks, FlameTree::snapshot_weights(snap, 0));
    assert_eq!(tree.root_total(), u64::MAX);
    let titles = leakscope::export::Titles {
        title: "t".into(),
        subtitle: None,
        count_name: "samples".into(),
    };
    // inferno counts in 64 bits too: the export says why it cannot draw it.
    let err = svg_string(&tree, &session.stacks, &SvgOptions::new(titles)).unwrap_err();
    assert!(err.to_string().contains("past 2^63"), "{err}");
    // The report is still written, without the graph it cannot draw.
    let l = load_bytes("huge.folded", text.as_bytes()).unwrap();
    let findings = leakscope::pipeline::Findings::of_loaded(vec![l], &Default::default());
    let html = leakscope::export::report::render(&findings, &Default::default()).unwrap();
    assert!(html.contains("main.a") || html.contains("huge.folded"));
    let l = load_bytes("huge.folded", text.as_bytes()).unwrap();
    downstream(l);
}

/// Found by `fuzz/folded` (overflow panic in inferno's differential
/// colours): a folded line `main.plolUpstream 3 9999999999999912` is one
/// frame named `main.plolUpstream 3` with a count; written back out for
/// inferno it read as a differential line with two counts, and the huge
/// "growth" overflowed. Such names now keep their number apart with a
/// no-break space, and the SVG stays a plain flame graph.
#[test]
fn a_frame_name_ending_in_a_number_is_not_a_second_count() {
    // The second time it read the number past a trailing form feed, which
    // readers trim.
    let text = "main.main;main.worker 3 9999999999999912\nmain.main;main.idle 2\n\
                main.main;mac 9306789888000\x0c 5000000000000000\n";
    let l = load_bytes("numbered.folded", text.as_bytes()).unwrap();
    let mut session = leakscope::model::Session::default();
    session.add(&l.table, l.input);
    let a = leakscope::analysis::analyze(&session, &Default::default());
    let spec = leakscope::export::FlameSpec::input(0);
    let tree = leakscope::export::flame_tree(&session, &a, &spec).unwrap();
    assert!(!tree.differential);
    let titles = leakscope::export::titles(&session, &a, &spec, &tree).unwrap();
    let opts = leakscope::export::svg::SvgOptions::new(titles);
    let svg = leakscope::export::svg::svg_string(&tree, &session.stacks, &opts).unwrap();
    assert!(
        svg.contains("main.worker\u{a0}3 (9,999,999,999,999,912 samples,"),
        "{svg}"
    );
    assert!(svg.contains("mac\u{a0}9306789888000"), "{svg}");
    let l = load_bytes("numbered.folded", text.as_bytes()).unwrap();
    downstream(l);
}
