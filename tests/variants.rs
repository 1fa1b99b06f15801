//! Dialect variants real services print, on real captures made by
//! `tests/fixtures/variants/make.sh` (Go 1.23, a build without -trimpath,
//! GODEBUG=tracebackancestors, GOTRACEBACK=all|crash, SIGQUIT, deadlock).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;

use common::*;
use leakscope::analysis::frames::{self, FrameClass};
use leakscope::formats::Loaded;
use leakscope::model::Goroutine;

fn v(name: &str) -> String {
    format!("variants/{name}")
}

fn headers(name: &str) -> u64 {
    String::from_utf8(read(&v(name)))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("goroutine ") && l.ends_with("]:"))
        .count() as u64
}

fn states(l: &Loaded) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for g in snapshot(l).goroutines() {
        let mut s = l.table.str(g.state).to_owned();
        if g.locked_to_thread {
            s.push_str(", locked to thread");
        }
        *m.entry(s).or_default() += 1;
    }
    m
}

fn functions(l: &Loaded, g: &Goroutine) -> Vec<String> {
    l.table
        .frames(g.stack)
        .map(|f| l.table.function(f).to_owned())
        .collect()
}

fn by_id(l: &Loaded, id: u64) -> &Goroutine {
    snapshot(l)
        .goroutines()
        .iter()
        .find(|g| g.id == Some(id))
        .unwrap()
}

#[test]
fn every_variant_loads_completely_without_warnings() {
    for name in [
        "debug2.txt",
        "stack.txt",
        "repanic.txt",
        "crash.txt",
        "deadlock.txt",
        "sigquit.txt",
    ] {
        let l = load(&v(name));
        let s = snapshot(&l);
        assert_eq!(s.goroutine_count(), Some(headers(name)), "{name}");
        assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
    }
    let l = load(&v("debug1.txt"));
    assert_eq!(snapshot(&l).goroutine_count(), Some(18));
    assert!(snapshot(&l).warnings.is_empty());
}

#[test]
fn wait_states_with_qualifiers() {
    let l = load(&v("debug2.txt"));
    let st = states(&l);
    for (state, n) in [
        ("chan receive (nil chan)", 1),
        ("chan send (nil chan)", 1),
        ("select (no cases)", 1),
        ("sync.RWMutex.RLock", 2),
        ("sync.Mutex.Lock", 1),
        ("sync.Cond.Wait", 3),
        ("chan receive, locked to thread", 1),
        ("running", 1),
    ] {
        assert_eq!(st.get(state), Some(&n), "{state} in {st:?}");
    }
}

#[test]
fn generics_dotted_import_paths_and_absolute_paths() {
    let l = load(&v("debug2.txt"));
    let g = by_id(&l, 25);
    let fns = functions(&l, g);
    assert_eq!(
        fns[..3],
        [
            "sync.runtime_notifyListWait",
            "sync.(*Cond).Wait",
            "example.org/acme/svc%2ev2.(*Pool[...]).Get"
        ]
    );
    let get = l.table.frames(g.stack).nth(2).unwrap();
    let file = l.table.str(l.table.frame(get).file);
    assert!(
        file.starts_with('/') && file.ends_with("/variants/src/pool.go"),
        "{file}"
    );
    assert_eq!(l.table.frame(get).line, 26);
    assert_eq!(frames::package_path(&fns[2]), "example.org/acme/svc%2ev2");
    assert_eq!(frames::classify(&l.table, get), FrameClass::App);
    // Standard-library frames under /usr/lib/go-…/src stay standard library.
    let wait = l.table.frames(g.stack).nth(1).unwrap();
    assert_eq!(frames::classify(&l.table, wait), FrameClass::Stdlib);
    // The leak site of a goroutine waiting in Pool.Get is Pool.Get.
    assert_eq!(frames::leak_site(&l.table, g.stack), Some(get));
}

#[test]
fn traceback_ancestors_are_kept_apart_from_the_stack() {
    let l = load(&v("debug2.txt"));
    let g = by_id(&l, 18);
    assert_eq!(functions(&l, g), ["main.nilRecv"]);
    assert_eq!(g.creator_id, Some(1));
    assert_eq!(g.ancestors.len(), 1);
    assert_eq!(g.ancestors[0].id, 1);
    let anc: Vec<&str> = l
        .table
        .frames(g.ancestors[0].stack)
        .map(|f| l.table.function(f))
        .collect();
    assert_eq!(anc, ["main.setup", "main.main"]);
    // Ancestors never split groups: runtime.Stack (no ancestors) of the
    // same program gives the same groups.
    let (_, a) = analyze(&[&v("debug2.txt"), &v("stack.txt")]);
    for g in &a.groups {
        let running = g
            .wait_reasons
            .contains_key(&leakscope::model::WaitReason::Running);
        if !running {
            assert_eq!(g.counts[0], g.counts[1], "{:?}", g.counts);
        }
    }
}

#[test]
fn re_raised_panic() {
    let l = load(&v("repanic.txt"));
    let s = snapshot(&l);
    let p = s.panic.as_ref().unwrap();
    assert_eq!(
        p.message,
        "panic: assignment to entry in nil map [recovered]\n\tpanic: while handling assignment to entry in nil map: cleanup failed"
    );
    assert_eq!(p.goroutine_id, Some(1));
    let fns = functions(&l, by_id(&l, 1));
    assert_eq!(
        fns,
        [
            "main.repanic.func1",
            "runtime.gopanic",
            "main.repanic",
            "main.main"
        ]
    );
}

#[test]
fn elided_deep_stacks_group_with_truncated_ones() {
    // repanic.txt prints the 123-frame recursion as 50 + "...21 frames
    // elided..." + 50; debug2.txt prints its first 100 frames only.
    let l = load(&v("repanic.txt"));
    let deep = snapshot(&l)
        .goroutines()
        .iter()
        .find(|g| g.frames_elided)
        .expect("an elided stack");
    assert_eq!(l.table.depth(deep.stack), 100);
    let (session, a) = analyze(&[&v("debug2.txt"), &v("repanic.txt")]);
    let recursion = a
        .groups
        .iter()
        .find(|g| {
            g.key
                .iter()
                .all(|f| session.stacks.function(*f) == "main.recurse")
        })
        .unwrap();
    assert_eq!(recursion.counts, vec![1, 1]);
}

#[test]
fn gotraceback_crash_fields_and_runtime_frames() {
    let crash = load(&v("crash.txt"));
    let g = by_id(&crash, 18);
    // gp=/m= fields are accepted, runtime frames kept as printed.
    let fns = functions(&crash, g);
    assert_eq!(fns[0], "runtime.gopark");
    assert!(fns.contains(&"main.nilRecv".to_owned()), "{fns:?}");
    assert_eq!(crash.table.str(g.state), "chan receive (nil chan)");
    // System goroutines appear only with GOTRACEBACK=system or crash.
    assert!(
        snapshot(&crash)
            .goroutines()
            .iter()
            .any(|g| crash.table.str(g.state) == "force gc (idle)")
    );
    // Its application goroutines group exactly as in the GOTRACEBACK=all dump.
    let (session, a) = analyze(&[&v("repanic.txt"), &v("crash.txt")]);
    for g in &a.groups {
        let all_runtime = g
            .key
            .iter()
            .all(|f| frames::is_runtime(session.stacks.function(*f)));
        let main_goroutine = g
            .key
            .iter()
            .any(|f| session.stacks.function(*f) == "main.repanic");
        if !all_runtime && !main_goroutine {
            assert_eq!(g.counts[0], g.counts[1], "{:?}", g.key);
        }
    }
}

#[test]
fn deadlock_and_sigquit_preambles() {
    let l = load(&v("deadlock.txt"));
    let s = snapshot(&l);
    assert_eq!(
        s.panic.as_ref().unwrap().message,
        "fatal error: all goroutines are asleep - deadlock!"
    );
    assert_eq!(s.goroutine_count(), Some(2));
    assert_eq!(l.table.str(by_id(&l, 1).state), "select (no cases)");

    let l = load(&v("sigquit.txt"));
    let s = snapshot(&l);
    let p = s.panic.as_ref().unwrap();
    assert!(
        p.message.starts_with("SIGQUIT: quit\nPC=0x"),
        "{}",
        p.message
    );
    assert_eq!(p.goroutine_id, Some(0));
    assert_eq!(l.table.str(by_id(&l, 0).state), "idle");
}

#[test]
fn debug1_labels_split_records_and_goroutines_without_frames() {
    let l = load(&v("debug1.txt"));
    let labelled: Vec<(String, u64)> = snapshot(&l)
        .goroutines()
        .iter()
        .filter(|g| !l.table.labels(g.labels).is_empty())
        .map(|g| (l.table.labels_to_string(g.labels), g.count))
        .collect();
    assert_eq!(labelled.len(), 2, "{labelled:?}");
    assert!(labelled.contains(&("tenant=a".to_owned(), 2)));
    assert!(labelled.contains(&("tenant=b".to_owned(), 1)));
    // Split by labels (the default where every input has them), merged on request.
    let (_, a) = analyze(&[&v("debug1.txt")]);
    assert!(a.split_by_labels);
    let merged = leakscope::analysis::analyze(
        &session(&[&v("debug1.txt")]),
        &leakscope::analysis::AnalysisOptions {
            labels: leakscope::analysis::LabelMode::Merge,
            ..Default::default()
        },
    );
    assert_eq!(merged.groups.len() + 1, a.groups.len());
}

#[test]
fn debug1_goroutine_with_no_frames_is_kept() {
    // A record whose PCs are all hidden runtime frames prints no frame line.
    let text = "goroutine profile: total 3\n2 @ 0x4704ce 0x478321\n\n1 @ 0x478321\n\n";
    let l = load_bytes("noframes", text.as_bytes()).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(3));
    assert!(s.goroutines().iter().all(|g| g.stack.is_empty()));
    assert!(s.warnings.is_empty());
}
