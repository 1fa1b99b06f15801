//! A leak's story from what one capture holds: how long each goroutine has
//! waited (lanes from their wait age, a histogram of ages) and who created
//! whom (the creation tree), checked against the fixtures' ground truth
//! (tests/fixtures/MANIFEST.md).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use leakscope::analysis::AnalysisOptions;
use leakscope::analysis::creation_tree::{self, CreationTree};
use leakscope::analysis::lanes::{
    LaneSource as _, SnapshotLanes, TimeAxis, before_dump_label, span_description,
};
use leakscope::analysis::wait_hist;
use leakscope::pipeline::Findings;

use common::*;

const AGED: &str = "waitage/goroutine-aged.debug2.txt";
const MINUTE: i64 = 60_000_000_000;

/// The ground truth of `waitage/` (MANIFEST.md): function → (minutes → goroutines).
fn aged_truth() -> BTreeMap<&'static str, BTreeMap<i64, u64>> {
    BTreeMap::from([
        (
            "main.submitOrder",
            BTreeMap::from([(6, 9), (5, 9), (4, 12), (3, 15), (2, 18)]),
        ),
        ("main.awaitReply", BTreeMap::from([(6, 5)])),
        ("main.lockLedger", BTreeMap::from([(6, 2), (4, 2), (2, 2)])),
    ])
}

#[test]
fn a_lone_dump_draws_each_goroutine_from_when_it_began_to_wait() {
    let (session, analysis) = analyze(&[AGED]);
    let lanes = SnapshotLanes::build(&session, &analysis);
    assert_eq!(lanes.axis(), TimeAxis::BeforeDump);
    assert_eq!(lanes.lane_count(), 75);
    // Each goroutine's lane starts its own wait age before the dump (at 0).
    let snap = analysis.series_snapshots(&session)[0];
    let age_of: BTreeMap<u64, Option<u32>> = snap
        .goroutines()
        .iter()
        .map(|g| (g.id.unwrap(), g.wait_minutes))
        .collect();
    let mut starts: BTreeMap<String, BTreeMap<i64, u64>> = BTreeMap::new();
    for lane in 0..lanes.lane_count() {
        let info = lanes.lane(lane);
        let start = info.created_ns.unwrap();
        match age_of[&info.goroutine.unwrap()] {
            Some(m) => assert_eq!(start, -i64::from(m) * MINUTE, "{info:?}"),
            // No age: under a minute, drawn as such.
            None => assert!(start < 0 && start > -MINUTE, "{info:?}"),
        }
        let f = session.stacks.function(info.function.unwrap()).to_owned();
        *starts
            .entry(f)
            .or_default()
            .entry(start.div_euclid(MINUTE))
            .or_default() += 1;
    }
    for (f, ages) in aged_truth() {
        let want: BTreeMap<i64, u64> = ages.iter().map(|(&m, &n)| (-m, n)).collect();
        assert_eq!(starts[f], want, "{f}");
    }
    // So the lanes differ in length: the oldest wave is three times the newest.
    let (w0, w1) = lanes.window();
    assert_eq!(w0, -6 * MINUTE);
    assert!(w1 > 0 && w1 < MINUTE);
    // The axis and the hover speak of the dump.
    assert_eq!(before_dump_label(-6 * MINUTE), "−6 min");
    assert_eq!(before_dump_label(-90 * MINUTE), "−1 h 30 min");
    assert_eq!(before_dump_label(0), "dump");
    let running = (0..lanes.lane_count())
        .find(|&l| age_of[&lanes.lane(l).goroutine.unwrap()].is_none())
        .unwrap();
    let oldest = (0..lanes.lane_count())
        .find(|&l| age_of[&lanes.lane(l).goroutine.unwrap()] == Some(6))
        .unwrap();
    let mut texts = Vec::new();
    for lane in [oldest, running] {
        lanes.spans(lane, i64::MIN, i64::MAX, &mut |s| {
            texts.push(span_description(&lanes, &session.stacks, lane, &s));
        });
    }
    assert!(
        texts
            .iter()
            .any(|t| t.ends_with(", waiting for 6 min by the dump")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t == "running (as the dump shows it)"),
        "{texts:?}"
    );
}

#[test]
fn other_series_keep_their_axis() {
    // The proto of the same moment has its capture time: a wall clock, as before.
    let (session, analysis) = analyze(&["waitage/goroutine-aged.pb.gz"]);
    let lanes = SnapshotLanes::build(&session, &analysis);
    assert_eq!(lanes.axis(), TimeAxis::Wall);
    // A lone debug=1 dump prints no ages: no clock at all, and its
    // goroutines are not said to have waited under a minute.
    let (session, analysis) = analyze(&["goroutine-t3.debug1.txt"]);
    let lanes = SnapshotLanes::build(&session, &analysis);
    assert!(matches!(lanes.axis(), TimeAxis::Snapshots(_)));
    assert!(wait_hist::of_all(&analysis).is_empty());
    // Snapshots without capture times stay steps, not minutes before a dump.
    let (session, analysis) = analyze(&DEBUG2);
    let lanes = SnapshotLanes::build(&session, &analysis);
    assert!(matches!(lanes.axis(), TimeAxis::Snapshots(_)));
}

#[test]
fn the_wait_age_histogram_counts_each_wave() {
    let (session, analysis) = analyze(&[AGED]);
    let bars = |h: &[wait_hist::WaitAgeBucket]| -> Vec<(String, u64)> {
        h.iter().map(|b| (b.label.clone(), b.goroutines)).collect()
    };
    let minutes = |counts: [u64; 7]| -> Vec<(String, u64)> {
        counts
            .iter()
            .enumerate()
            .map(|(m, &n)| {
                let label = if m == 0 {
                    "<1 min".to_owned()
                } else {
                    format!("{m} min")
                };
                (label, n)
            })
            .collect()
    };
    // Every waiting goroutine (the running one has no wait), a bar a minute.
    let all = wait_hist::of_all(&analysis);
    assert_eq!(bars(&all), minutes([0, 0, 20, 15, 14, 9, 16]));
    let truth = aged_truth();
    for s in &analysis.suspects {
        let f = session.stacks.function(s.leak_site.unwrap());
        let Some(ages) = truth.get(f) else {
            continue;
        };
        let mut want = [0u64; 7];
        for (&m, &n) in ages {
            want[m as usize] = n;
        }
        assert_eq!(
            bars(&wait_hist::of_group(&analysis, s.group, &all)),
            minutes(want),
            "{f}"
        );
    }
    // leakyd's t3 (MANIFEST.md, the runtime.Stack section: t3's debug=2
    // has the same states): 54 waits print `, 1 minutes`, 83 print none.
    let (_, t3) = analyze(&["goroutine-t3.debug2.txt"]);
    assert_eq!(
        bars(&wait_hist::of_all(&t3)),
        [("<1 min".to_owned(), 83), ("1 min".to_owned(), 54)]
    );
    // The same in the report `inspect --json` prints.
    let findings = Findings::of_loaded(vec![load(AGED)], &AnalysisOptions::default());
    let report = serde_json::to_value(findings.report()).unwrap();
    let orders = report["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["function"] == "main.submitOrder")
        .unwrap();
    let got: Vec<(String, u64)> = orders["wait_age_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_owned(),
                b["goroutines"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, minutes([0, 0, 18, 15, 12, 9, 9]));
}

/// `(creator, created) → goroutines` of every edge, and the creator's
/// depth, to compare with the ground truth.
fn edges(tree: &CreationTree) -> BTreeMap<(String, String), (u64, usize)> {
    fn walk(
        c: &creation_tree::CreatorNode,
        depth: usize,
        out: &mut BTreeMap<(String, String), (u64, usize)>,
    ) {
        for n in &c.created {
            let e = out
                .entry((c.function.clone(), n.function.clone()))
                .or_insert((0, depth));
            e.0 += n.goroutines;
            for sub in &n.creators {
                walk(sub, depth + 1, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    for r in &tree.roots {
        walk(r, 0, &mut out);
    }
    out
}

#[test]
fn the_creation_tree_of_a_dump_follows_created_by_lines() {
    let findings = Findings::of_loaded(
        vec![load("goroutine-t3.debug2.txt")],
        &AnalysisOptions::default(),
    );
    let trees = findings.creation_trees();
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0].source, "snapshots");
    let e = edges(&trees[0].tree);
    let at = |creator: &str, created: &str| e.get(&(creator.to_owned(), created.to_owned()));
    // t3 of MANIFEST.md: the leaks by their creators (handlers that have
    // returned, so at the top of the tree).
    assert_eq!(
        at("main.(*app).handleSearch.func1", "main.querySearchBackend"),
        Some(&(40, 0))
    );
    assert_eq!(
        at("main.(*app).handleSubscribe", "main.consumeEvents"),
        Some(&(20, 0))
    );
    assert_eq!(
        at(
            "main.(*app).handleReserve",
            "main.(*inventoryStore).reserve"
        ),
        Some(&(16, 0))
    );
    assert_eq!(
        at(
            "net/http.(*Transport).dialConn",
            "net/http.(*persistConn).readLoop"
        ),
        Some(&(8, 0))
    );
    assert_eq!(
        at("main.(*app).handleWatch.func1", "main.pollUpstream"),
        Some(&(12, 0))
    );
    assert_eq!(
        at("main.(*app).handleBatch", "main.flushBatch"),
        Some(&(8, 0))
    );
    assert_eq!(
        at("main.(*app).handleStream", "main.heartbeatLoop"),
        Some(&(4, 0))
    );
    // The accept loop is still there: what it created hangs below it.
    assert_eq!(at("main.main", "main.serve"), Some(&(1, 0)));
    let served = at("net/http.(*Server).Serve", "net/http.(*conn).serve").unwrap();
    assert_eq!(served, &(9, 1));
    // The biggest creator first.
    assert_eq!(
        trees[0].tree.roots[0].function,
        "main.(*app).handleSearch.func1"
    );
}

#[test]
fn the_creation_tree_of_a_trace_follows_its_creation_events() {
    let findings = Findings::of_loaded(vec![load("trace-go123.out")], &AnalysisOptions::default());
    let trees = findings.creation_trees();
    assert_eq!(trees.len(), 1);
    assert!(trees[0].source.ends_with("trace-go123.out"));
    let e = edges(&trees[0].tree);
    let at = |creator: &str, created: &str| {
        e.get(&(creator.to_owned(), created.to_owned()))
            .map(|x| x.0)
    };
    // Created in the window (MANIFEST.md), by request handlers that the
    // accept loop started: nested under net/http.(*conn).serve.
    assert_eq!(
        at("main.(*app).handleSearch.func1", "main.querySearchBackend"),
        Some(10)
    );
    assert_eq!(
        at("main.(*app).handleSubscribe", "main.consumeEvents"),
        Some(5)
    );
    assert_eq!(
        at(
            "main.(*app).handleReserve",
            "main.(*inventoryStore).reserve"
        ),
        Some(4)
    );
    assert_eq!(
        at("main.(*app).handleWatch.func1", "main.pollUpstream"),
        Some(3)
    );
    assert_eq!(at("main.(*app).handleBatch", "main.flushBatch"), Some(2));
    assert_eq!(
        at("main.(*app).handleStream", "main.heartbeatLoop"),
        Some(1)
    );
    assert_eq!(
        at(
            "net/http.(*Transport).dialConn",
            "net/http.(*persistConn).readLoop"
        ),
        Some(2)
    );
    let depth = e[&(
        "main.(*app).handleSearch.func1".to_owned(),
        "main.querySearchBackend".to_owned(),
    )]
        .1;
    assert_eq!(depth, 1, "under the accept loop's connections");
    assert_eq!(trees[0].tree.roots[0].function, "net/http.(*Server).Serve");
}

#[test]
fn inspect_tells_wait_ages_and_creators() {
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["inspect", "--creators"])
        .arg(fixture(AGED))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("waited: 6 min ×9 · 5 min ×9 · 4 min ×12 · 3 min ×15 · 2 min ×18"),
        "{text}"
    );
    assert!(text.contains("CREATED BY (snapshots)"), "{text}");
    assert!(text.contains("main.main created 74"), "{text}");
    assert!(text.contains("  63 × main.submitOrder"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["inspect", "--json", "--creators"])
        .arg(fixture(AGED))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = &v["creation_trees"][0]["roots"][0];
    assert_eq!(root["function"], "main.main");
    assert_eq!(root["goroutines"], 74);
    assert_eq!(root["created"][0]["function"], "main.submitOrder");
    assert_eq!(root["created"][0]["goroutines"], 63);
    assert!(root["created"][0]["created"]["group"].is_u64());
    // Without --creators the document stays as it was.
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["inspect", "--json"])
        .arg(fixture(AGED))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("creation_trees").is_none());
}

/// A debug=2 dump of `n` goroutines, each made by `creator(i)` (function
/// index and goroutine) and running `main.fI`.
fn chain_dump(n: usize, creator: impl Fn(usize) -> Option<(usize, usize)>) -> Vec<u8> {
    let mut text = String::new();
    for i in 1..=n {
        text.push_str(&format!(
            "goroutine {i} [chan receive]:\nmain.f{i}()\n\t/src/main.go:{i} +0x1\n"
        ));
        if let Some((f, g)) = creator(i) {
            text.push_str(&format!(
                "created by main.f{f} in goroutine {g}\n\t/src/main.go:{f} +0x2\n"
            ));
        }
        text.push('\n');
    }
    text.into_bytes()
}

#[test]
fn creation_trees_end_at_rings_and_long_chains() {
    let tree = |bytes: Vec<u8>| {
        let l = load_bytes("chain.txt", &bytes).unwrap();
        let f = Findings::of_loaded(vec![l], &AnalysisOptions::default());
        f.creation_trees().remove(0).tree
    };
    // Goroutines 2 and 3 made each other, 4 made by 3: the ring starts a
    // chain of its own, and the tree ends where a group repeats.
    let t = tree(chain_dump(4, |i| match i {
        2 => Some((3, 3)),
        3 => Some((2, 2)),
        4 => Some((3, 3)),
        _ => None,
    }));
    let text = t.to_text(|f| f.to_owned());
    assert!(!t.truncated);
    assert!(text.contains("(shown above)"), "{text}");
    let e = edges(&t);
    assert_eq!(e[&("main.f3".to_owned(), "main.f4".to_owned())].0, 1);
    // A chain of 300 goroutines, each made by the one before: cut short,
    // without running out of stack.
    let t = tree(chain_dump(300, |i| (i > 1).then(|| (i - 1, i - 1))));
    assert!(t.truncated);
    assert_eq!(t.roots.len(), 1);
    assert_eq!(t.roots[0].function, "main.f1");
}
