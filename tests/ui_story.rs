//! The app telling a leak's story from what one capture holds: a lone
//! dump's lanes start at their wait ages and a histogram of the ages takes
//! the one-point plot's place; the creation tree selects what it names; a
//! trace whose capture time a session folder records is a band among the
//! snapshots.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use egui_kittest::kittest::Queryable as _;
use leakscope::analysis::lanes::TimeAxis;
use leakscope::pipeline::InputSpec;
use leakscope::ui::LeakscopeApp;
use leakscope::ui::names::Names;
use leakscope::ui::plot::{SnapshotSeries, TRACE_BAND, WAIT_AGE_HEADING, WaitAgePlot};
use leakscope::ui::state::{Selection, ViewState};

use common::app::*;
use common::*;

const AGED: &str = "waitage/goroutine-aged.debug2.txt";
const MINUTE: i64 = 60_000_000_000;

/// Goroutines that all waited under a minute (the dump prints no age) are
/// drawn from a little before the dump, and the axis says "dump" once:
/// nothing is known after it, though the view runs a margin past it.
#[test]
fn a_dump_without_ages_has_one_dump_tick() {
    let mut h = harness_at(
        app_with(&["releases/go1.27/goroutineleak.debug2.txt"]),
        [1920.0, 1080.0],
    );
    h.run();
    let lanes = h.state().active_lanes().unwrap();
    assert_eq!(lanes.axis(), TimeAxis::BeforeDump);
    let texts = painted_texts(h.output());
    let dumps = texts.iter().filter(|t| *t == "dump").count();
    assert_eq!(dumps, 1, "{texts:?}");
    assert!(texts.iter().any(|t| t == "−10 s"), "{texts:?}");
}

#[test]
fn a_lone_dump_draws_lanes_from_wait_ages() {
    let mut h = harness_at(app_with(&[AGED]), [1280.0, 800.0]);
    h.run();
    let lanes = h.state().active_lanes().unwrap();
    assert_eq!(lanes.axis(), TimeAxis::BeforeDump);
    h.get_by_label(leakscope::ui::app::LONE_DUMP_LANES);
    // The view shows the oldest wait to the dump.
    let (t0, t1) = h.state().timeline_range();
    assert!(t0 <= -6 * MINUTE && t1 >= 0, "{t0}..{t1}");
    // The axis counts minutes before the dump.
    let texts = painted_texts(h.output());
    for tick in ["dump", "−2 min", "−4 min", "−6 min"] {
        assert!(texts.iter().any(|t| t == tick), "{tick}: {texts:?}");
    }
    // Lanes differ in length: 5.5 minutes before the dump only the
    // 6-minute waits are drawn (9 + 5 + 2 of the ground truth), a minute
    // later the 5-minute ones too (9 more); under a minute, all 74 waits.
    let drawn_at = |t: i64| {
        (0..lanes.lane_count())
            .filter(|&l| {
                let mut any = false;
                lanes.spans(l, t, t + 1, &mut |_| any = true);
                any
            })
            .count()
    };
    assert_eq!(drawn_at(-MINUTE * 11 / 2), 16);
    assert_eq!(drawn_at(-MINUTE * 9 / 2), 25);
    assert_eq!(drawn_at(-MINUTE / 2), 74);
    assert_eq!(drawn_at(-MINUTE / 10), 75);
}

#[test]
fn one_snapshot_shows_how_long_its_goroutines_waited() {
    let mut h = harness_at(app_with(&[AGED]), [1280.0, 800.0]);
    h.run();
    let texts = painted_texts(h.output());
    assert!(texts.iter().any(|t| t == WAIT_AGE_HEADING), "{texts:?}");
    assert!(!texts.iter().any(|t| t == "Goroutines over time"));
    for bar in ["<1 min", "2 min", "6 min"] {
        assert!(texts.iter().any(|t| t == bar), "{bar}: {texts:?}");
    }
    let ws = h.state().workspace.clone().unwrap();
    let g = group_of(&ws, "main.submitOrder");
    h.state_mut().select(Selection::Group(g));
    h.run();
    let plot = WaitAgePlot::of(&ws.analysis, Selection::Group(g), Names::default(), &ws).unwrap();
    let counts = |b: &[leakscope::analysis::wait_hist::WaitAgeBucket]| -> Vec<u64> {
        b.iter().map(|b| b.goroutines).collect()
    };
    assert_eq!(counts(&plot.all), [0, 0, 20, 15, 14, 9, 16]);
    let (name, bars) = plot.selected.unwrap();
    assert_eq!(name, "main.submitOrder");
    assert_eq!(counts(&bars), [0, 0, 18, 15, 12, 9, 9]);
    let texts = painted_texts(h.output());
    assert!(texts.iter().any(|t| t == "main.submitOrder"), "{texts:?}");
    // Each bar says its count: the group's of all goroutines'.
    for bar in ["18 of 20", "15 of 15", "12 of 14", "9 of 9", "9 of 16"] {
        assert!(texts.iter().any(|t| t == bar), "{bar}: {texts:?}");
    }
    // Several snapshots keep the series.
    let h = harness_at(app_with(&DEBUG2), [1280.0, 800.0]);
    let ws = h.state().workspace.clone().unwrap();
    assert!(WaitAgePlot::of(&ws.analysis, Selection::None, Names::default(), &ws).is_none());
}

#[test]
fn a_click_in_the_creation_tree_selects_the_group() {
    let mut h = harness_at(app_with(&["goroutine-t3.debug2.txt"]), [1280.0, 800.0]);
    h.run();
    h.get_by_label(leakscope::ui::creation_tree::AS_TREE)
        .click();
    h.run();
    h.get_by_label("main.(*app).handleSearch.func1 created 40");
    h.get_by_label("40 × main.querySearchBackend").click();
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let g = group_of(&ws, "main.querySearchBackend");
    assert_eq!(h.state().selection, Selection::Group(g));
    // Nested: the accept loop's connections, under what main.main started.
    h.get_by_label("1 × main.serve");
    h.get_by_label("http.(*Server).Serve created 9");
    // A trace's tree: its leak groups are selectable the same way.
    let mut h = harness_at(app_with(&["trace-go123.out"]), [1280.0, 800.0]);
    h.run();
    assert!(h.state().showing_trace());
    h.get_by_label(leakscope::ui::creation_tree::AS_TREE)
        .click();
    h.run();
    h.get_by_label("http.(*Server).Serve created 53");
    h.get_by_label("10 × main.querySearchBackend").click();
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let leaks = &ws.trace.as_ref().unwrap().analysis.leaks;
    let Selection::TraceGroup(i) = h.state().selection else {
        panic!("{:?}", h.state().selection);
    };
    assert_eq!(leaks[i].entry_function, "main.querySearchBackend");
    assert_eq!(leaks[i].goroutines.len(), 10);
}

/// A session folder as `capture` writes it: leakyd's four debug=2 dumps
/// and its trace, with the times of MANIFEST.md (t0 +2 s, t1 +21 s, t2 +42
/// s, the trace +45 s, t3 +80 s).
fn session_folder(root: &std::path::Path) -> std::path::PathBuf {
    let dir = root.join("leakyd-session");
    let start = 1_764_000_000_000_000_000i64;
    let captures = [
        ("goroutine-t0.debug2.txt", "goroutine-debug2", 2),
        ("goroutine-t1.debug2.txt", "goroutine-debug2", 21),
        ("goroutine-t2.debug2.txt", "goroutine-debug2", 42),
        ("trace-go123.out", "trace", 45),
        ("goroutine-t3.debug2.txt", "goroutine-debug2", 80),
    ];
    let captures: Vec<Capture> = captures
        .iter()
        .enumerate()
        .map(|(i, &(fixture, kind, secs))| Capture {
            fixture,
            file: format!("{:06}-{fixture}", i + 1),
            kind,
            at_ns: start + secs * 1_000_000_000,
        })
        .collect();
    write_session(&dir, "http://127.0.0.1:6060/debug/pprof/", &captures);
    dir
}

#[test]
fn a_placed_trace_is_a_band_among_the_snapshots() {
    let root = std::env::temp_dir().join(format!("leakscope-ui-band-{}", std::process::id()));
    let dir = session_folder(&root);
    let mut app = LeakscopeApp::new(ViewState::default());
    app.open_blocking(vec![InputSpec::Path(dir)]);
    let mut h = harness_at(app, [1280.0, 800.0]);
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let series = SnapshotSeries::of(&ws.analysis, &ws, Selection::None, Names::default());
    assert!(series.wall);
    // Minutes since t0 (+2 s): the trace from +45 s, 3 seconds long.
    let band = series.trace.clone().unwrap();
    assert!((band.x.0 - 43.0 / 60.0).abs() < 1e-6, "{band:?}");
    let len_s = (band.x.1 - band.x.0) * 60.0;
    assert!((len_s - 3.0).abs() < 0.05, "{len_s}");
    assert!(
        band.alive
            .iter()
            .all(|p| p[0] >= band.x.0 && p[0] <= band.x.1)
    );
    let max_alive = band.alive.iter().map(|p| p[1]).fold(0.0, f64::max);
    assert!(max_alive > 76.0 && max_alive < 200.0, "{max_alive}");
    // Within the series' range, and on screen: the band's label, and the
    // trace's own plot says when it was captured.
    let (x, _) = series.bounds();
    assert!(*x.start() <= band.x.0 && *x.end() >= band.x.1);
    let texts = painted_texts(h.output());
    assert!(texts.iter().any(|t| t == TRACE_BAND), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("seconds into the trace (3.00 s window, captured 2025-")),
        "{texts:?}"
    );
    // The same files without the folder: no known place, no band.
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let mut h = harness_at(app_with(&names), [1280.0, 800.0]);
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let series = SnapshotSeries::of(&ws.analysis, &ws, Selection::None, Names::default());
    assert_eq!(series.trace, None);
    assert!(!painted_texts(h.output()).iter().any(|t| t == TRACE_BAND));
    let _ = std::fs::remove_dir_all(&root);
}
