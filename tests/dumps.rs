//! The goroutine text dialects (`debug=1`; `debug=2`, `runtime.Stack` and
//! panic tracebacks) on real captures, asserted against MANIFEST.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;

use common::*;
use leakscope::model::{Format, Goroutine, ProfileType, Session, StateKind};

fn count_headers(name: &str) -> usize {
    String::from_utf8(read(name))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("goroutine ") && l.ends_with("]:"))
        .count()
}

fn states(name: &str) -> BTreeMap<String, u64> {
    let l = load(name);
    let mut m = BTreeMap::new();
    for g in snapshot(&l).goroutines() {
        let mut s = l.table.str(g.state).to_owned();
        if let Some(min) = g.wait_minutes {
            s.push_str(&format!(", {min} minutes"));
        }
        if g.locked_to_thread {
            s.push_str(", locked to thread");
        }
        *m.entry(s).or_default() += g.count;
    }
    m
}

#[test]
fn debug2_snapshots_have_every_goroutine() {
    for (name, total) in DEBUG2.iter().zip([45u64, 76, 107, 138]) {
        let l = load(name);
        let s = snapshot(&l);
        assert_eq!(s.source.format, Format::GoroutineDump);
        assert_eq!(s.goroutine_count(), Some(total), "{name}");
        assert_eq!(count_headers(name) as u64, total, "{name}");
        assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
        // Every goroutine has an id and a stack; all but main were created by someone.
        let gs = s.goroutines();
        assert!(gs.iter().all(|g| g.id.is_some() && !g.stack.is_empty()));
        let uncreated: Vec<_> = gs.iter().filter(|g| g.created_by.is_none()).collect();
        assert_eq!(uncreated.len(), 1, "{name}: only main has no creator");
        assert_eq!(uncreated[0].id, Some(1));
    }
}

#[test]
fn runtime_stack_dump_states_match_the_manifest() {
    let name = "stackdump-runtime-stack.txt";
    assert_eq!(count_headers(name), 138);
    let want: BTreeMap<String, u64> = [
        ("select", 28),
        ("chan send", 20),
        ("chan send, 1 minutes", 20),
        ("chan receive, 1 minutes", 11),
        ("chan receive", 10),
        ("sync.Mutex.Lock", 8),
        ("sync.Mutex.Lock, 1 minutes", 8),
        ("select, 1 minutes", 7),
        ("IO wait", 7),
        ("sleep", 5),
        ("semacquire", 4),
        ("semacquire, 1 minutes", 4),
        ("IO wait, 1 minutes", 3),
        ("syscall, 1 minutes", 1),
        ("select, locked to thread", 1),
        ("running", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(states(name), want);
    // t3's debug=2 has the same distribution.
    assert_eq!(states("goroutine-t3.debug2.txt"), want);
    // The running goroutine is the stack-dump handler.
    let l = load(name);
    let running: Vec<&Goroutine> = snapshot(&l)
        .goroutines()
        .iter()
        .filter(|g| g.kind == StateKind::Running)
        .collect();
    assert_eq!(running.len(), 1);
    let fns: Vec<&str> = l
        .table
        .frames(running[0].stack)
        .map(|f| l.table.function(f))
        .collect();
    assert_eq!(fns[..2], ["main.allStacks", "main.(*app).handleStackDump"]);
}

#[test]
fn panic_traceback_is_parsed_completely() {
    let name = "panic-gotraceback-all.txt";
    let l = load(name);
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(44));
    assert_eq!(count_headers(name), 44);
    let panic = s.panic.as_ref().expect("panic preamble");
    assert_eq!(panic.message, "panic: assignment to entry in nil map");
    assert_eq!(panic.goroutine_id, Some(16));
    // The log line before the preamble is counted, not lost silently.
    assert_eq!(s.warnings.count("ignored-line"), 1);

    let g16 = s.goroutines().iter().find(|g| g.id == Some(16)).unwrap();
    assert_eq!(l.table.str(g16.state), "running");
    let frames: Vec<(String, String, u32)> = l
        .table
        .frames(g16.stack)
        .map(|f| {
            let fr = l.table.frame(f);
            (
                l.table.str(fr.function).to_owned(),
                l.table.str(fr.file).to_owned(),
                fr.line,
            )
        })
        .collect();
    assert_eq!(
        frames,
        vec![
            (
                "main.(*priceCache).store".to_owned(),
                "example.com/leakyd/main.go".to_owned(),
                634
            ),
            (
                "main.refreshPrices".to_owned(),
                "example.com/leakyd/main.go".to_owned(),
                642
            ),
        ]
    );
    let creator = g16.created_by.and_then(|c| l.table.leaf(c)).unwrap();
    assert_eq!(l.table.function(creator), "main.main");
    assert_eq!(g16.creator_id, Some(1));

    // One leak phase plus the steady goroutines; runnable states appear.
    let st = states(name);
    assert!(st.contains_key("runnable"), "{st:?}");
    assert!(st.contains_key("runnable, locked to thread"), "{st:?}");
    let (session, a) = analyze(&[name]);
    for (site, reason, per_phase) in LEAKS {
        let s = a
            .suspects
            .iter()
            .find(|s| {
                s.leak_site.map(|f| session.stacks.function(f)) == Some(*site)
                    && a.group(s).wait_reason().map(|r| r.text(&session.stacks)) == Some(*reason)
            })
            .unwrap_or_else(|| panic!("{site} not found"));
        assert_eq!(a.group(s).counts, vec![*per_phase], "{site}");
    }
}

#[test]
fn debug1_records_counts_and_labels() {
    for (name, total) in DEBUG1.iter().zip([45u64, 76, 107, 138]) {
        let l = load(name);
        let s = snapshot(&l);
        assert_eq!(s.source.format, Format::GoroutineDebug1);
        assert_eq!(s.source.profile_type, Some(ProfileType::Goroutine));
        assert_eq!(s.stated_total, Some(total));
        assert_eq!(s.goroutine_count(), Some(total), "{name}");
        assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
    }
    let l = load("goroutine-t0.debug1.txt");
    let search = snapshot(&l)
        .goroutines()
        .iter()
        .find(|g| {
            l.table
                .leaf(g.stack)
                .is_some_and(|f| l.table.function(f) == "main.querySearchBackend")
        })
        .unwrap();
    assert_eq!(search.count, 10);
    assert_eq!(l.table.labels_to_string(search.labels), "endpoint=search");
    // Inlined frames are printed as their own lines and kept.
    let reserve = snapshot(&l)
        .goroutines()
        .iter()
        .find(|g| {
            l.table
                .frames(g.stack)
                .any(|f| l.table.function(f) == "main.(*inventoryStore).reserve")
        })
        .unwrap();
    let fns: Vec<&str> = l
        .table
        .frames(reserve.stack)
        .map(|f| l.table.function(f))
        .collect();
    assert_eq!(
        fns,
        [
            "sync.runtime_SemacquireMutex",
            "sync.(*Mutex).lockSlow",
            "sync.(*Mutex).Lock",
            "main.(*inventoryStore).reserve"
        ]
    );
}

/// Per leak site: the count in each snapshot of the series.
fn counts_by_site(
    session: &Session,
    a: &leakscope::analysis::Analysis,
) -> BTreeMap<String, Vec<u64>> {
    let mut m: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for s in &a.suspects {
        let g = a.group(s);
        let site = s
            .leak_site
            .map_or("", |f| session.stacks.function(f))
            .to_owned();
        let e = m.entry(site).or_insert_with(|| vec![0; g.counts.len()]);
        for (i, c) in g.counts.iter().enumerate() {
            e[i] += c;
        }
    }
    m
}

#[test]
fn leaks_are_found_growing_with_exact_counts_in_every_dialect() {
    for names in [DEBUG1, DEBUG2, PROTO] {
        let (session, a) = analyze(&names);
        for (site, reason, per_phase) in LEAKS {
            let s = a
                .suspects
                .iter()
                .find(|s| {
                    s.leak_site.map(|f| session.stacks.function(f)) == Some(*site)
                        && a.group(s).last_count() > 1
                })
                .unwrap_or_else(|| panic!("{site} missing from {names:?}"));
            let g = a.group(s);
            let want: Vec<u64> = (1..=4).map(|k| k * per_phase).collect();
            assert_eq!(g.counts, want, "{site} in {names:?}");
            assert!(s.growth.growing, "{site} in {names:?}");
            // debug=2 prints it, the protobuf's runtime frames tell it.
            if names != DEBUG1 {
                assert_eq!(
                    g.wait_reason().map(|r| r.text(&session.stacks)),
                    Some(*reason),
                    "{site} in {names:?}"
                );
            }
        }
        // The growing groups are exactly the leaks, ranked first.
        let growing: Vec<_> = a.suspects.iter().filter(|s| s.growth.growing).collect();
        assert_eq!(growing.len(), LEAKS.len(), "{names:?}");
        assert!(a.suspects[..LEAKS.len()].iter().all(|s| s.growth.growing));
        // Ranked by how fast they grow: the search leak first, the heartbeat last.
        let site = |i: usize| {
            a.suspects[i]
                .leak_site
                .map(|f| session.stacks.function(f))
                .unwrap()
        };
        assert_eq!(site(0), "main.querySearchBackend");
        assert_eq!(site(LEAKS.len() - 1), "main.heartbeatLoop");
        // Steady stacks are present and never flagged.
        let by_site = counts_by_site(&session, &a);
        for (site, n) in STEADY {
            assert_eq!(
                by_site.get(*site),
                Some(&vec![*n; 4]),
                "{site} in {names:?}"
            );
            for s in a
                .suspects
                .iter()
                .filter(|s| s.leak_site.map(|f| session.stacks.function(f)) == Some(*site))
            {
                assert!(!s.growth.growing, "{site} flagged growing");
            }
        }
        // Totals per snapshot.
        let totals: Vec<u64> = a.series.iter().map(|p| p.total).collect();
        assert_eq!(totals, vec![45, 76, 107, 138]);
    }
}

#[test]
fn proto_debug1_and_debug2_of_one_moment_give_the_same_groups() {
    for t in 0..4 {
        let pb = format!("goroutine-t{t}.pb.gz");
        let d1 = format!("goroutine-t{t}.debug1.txt");
        let d2 = format!("goroutine-t{t}.debug2.txt");
        let (session, a) = analyze(&[&pb, &d1, &d2]);
        assert_eq!(a.series.len(), 3);
        // Labels are merged (debug=2 has none), so every group has equal
        // counts in both snapshots.
        for g in &a.groups {
            let site = leakscope::analysis::frames::leak_site(&session.stacks, g.stack)
                .map(|f| session.stacks.function(f));
            // The capturing request's own goroutines differ between the
            // two requests (MANIFEST: its innermost frame varies).
            let entry = leakscope::analysis::frames::entry_function(&session.stacks, g.stack)
                .map(|f| session.stacks.function(f));
            if entry == Some("net/http.(*connReader).backgroundRead")
                || g.key
                    .iter()
                    .any(|f| session.stacks.function(*f).starts_with("runtime/pprof."))
                || g.key.is_empty()
            {
                continue;
            }
            assert_eq!(g.counts[0], g.counts[1], "t{t} {site:?} {:?}", g.counts);
            assert_eq!(g.counts[1], g.counts[2], "t{t} {site:?} {:?}", g.counts);
        }
    }
}

#[test]
fn wait_ages_come_from_the_dump() {
    let (session, a) = analyze(&["goroutine-t3.debug2.txt"]);
    let search = a
        .suspects
        .iter()
        .find(|s| {
            s.leak_site.map(|f| session.stacks.function(f)) == Some("main.querySearchBackend")
        })
        .unwrap();
    let ages = search.wait_ages.unwrap();
    // 20 of 40 have waited a minute (leak phases 0 and 1), 20 less.
    assert_eq!((ages.min, ages.max), (0, 1));
    assert_eq!(a.group(search).wait_minutes.get(&1), Some(&20));
    assert_eq!(a.group(search).wait_minutes.get(&0), Some(&20));
}

/// The timeline's hover text of a goroutine in snapshots: its state, and
/// the wait age the dump printed, never the length of the span drawn to
/// fill the gap between captures.
#[test]
fn snapshot_lanes_describe_waits_by_the_dump_not_by_the_drawing() {
    use leakscope::analysis::lanes::{LaneSource, SnapshotLanes, span_description};
    let describe = |names: &[&str], function: &str| -> Vec<String> {
        let (s, a) = analyze(names);
        let lanes = SnapshotLanes::build(&s, &a);
        assert!(!lanes.span_lengths_measured());
        let (w0, w1) = lanes.window();
        (0..lanes.lane_count())
            .filter(|&l| {
                lanes
                    .lane(l)
                    .function
                    .is_some_and(|f| s.stacks.function(f) == function)
            })
            .map(|l| {
                let mut last = None;
                lanes.spans(l, w0, w1, &mut |sp| last = Some(sp));
                span_description(&lanes, &s.stacks, l, &last.unwrap())
            })
            .collect()
    };
    // runtime.Stack output of the fixture service: of its 40 search
    // goroutines, the 20 of the first leak phase print `, 1 minutes`; the
    // others waited under a minute. One dump: its waits are told by it.
    let texts = describe(&["stackdump-runtime-stack.txt"], "main.querySearchBackend");
    let aged = texts
        .iter()
        .filter(|t| *t == "chan send, waiting for 1 min by the dump")
        .count();
    let unaged = texts
        .iter()
        .filter(|t| {
            *t == "chan send, waiting less than a minute by the dump (dumps print ages from one minute)"
        })
        .count();
    assert_eq!((aged, unaged), (20, 20), "{texts:?}");
}
