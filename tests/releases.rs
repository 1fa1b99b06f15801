//! Captures of every Go release 1.21 to 1.27 (`tests/fixtures/releases/`,
//! made by its `make.sh` from the program in `src/`; the ground truth is
//! `GROUND_TRUTH.md` there): goroutine profile series in protobuf,
//! `debug=1` and `debug=2`, `runtime.Stack`, panics, the goroutineleak
//! profile, and the dump dialect of Go 1.25 to 1.27 (labels in headers,
//! `(leaked)`, `(scan)`, `(durable)`, `synctest bubble N`,
//! `[recovered, repanicked]`), plus the parser bugs of issue 15 item 7.
//!
//! Belongs here: what one Go release prints and how it loads. The traces
//! of the same program are tested in `tests/trace.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;

use common::*;
use leakscope::analysis::{self, AnalysisOptions, frames};
use leakscope::formats::Loaded;
use leakscope::model::{
    Format, Goroutine, LabelValue, ProfileType, Session, StackTable, StateKind, StrId,
};

const RELEASES: [u32; 7] = [21, 22, 23, 24, 25, 26, 27];

/// The two label sets of `main.waitLabelled`, as the model spells them.
const SEARCH: &str = "handler=search";
const EXPORT: &str = "handler=GET /export, tenant=acme \"eu\" ü";

/// Every group of the program: innermost function of package `main`, label
/// set, wait reason as `debug=2` prints it from Go 1.24, and whether the
/// goroutineleak profile proves it leaked.
const GROUPS: &[(&str, &str, &str, bool)] = &[
    ("main.sendResult", "", "chan send", true),
    ("main.awaitReply", "", "chan receive", false),
    ("main.poolWorker", "", "select", false),
    ("main.waitLabelled", SEARCH, "chan receive", false),
    ("main.waitLabelled", EXPORT, "chan receive", false),
    ("main.blockForever", "", "select (no cases)", true),
    ("main.recvNil", "", "chan receive (nil chan)", true),
    ("main.holdShared", "", "chan receive", false),
    ("main.lockShared", "", "sync.Mutex.Lock", false),
    ("main.lockOrphan", "", "sync.Mutex.Lock", true),
    ("main.waitAll", "", "sync.WaitGroup.Wait", true),
    ("main.napper", "", "sleep", false),
    ("main.acceptLoop", "", "IO wait", false),
    ("main.readConn", "", "IO wait", false),
    ("main.pollUpstream", "", "runnable", false),
    ("main.parkReply", "", "chan send", false),
    ("main.waitCond", "", "sync.Cond.Wait", false),
    ("main.main", "", "running", false),
];

/// Goroutines per group at t0, t1 and t2 (GROUND_TRUTH.md).
const SERIES: &[(&str, &str, [u64; 3])] = &[
    ("main.sendResult", "", [2, 5, 8]),
    ("main.awaitReply", "", [1, 3, 5]),
    ("main.poolWorker", "", [4, 4, 4]),
    ("main.waitLabelled", SEARCH, [2, 2, 2]),
    ("main.waitLabelled", EXPORT, [1, 2, 3]),
    ("main.blockForever", "", [1, 1, 1]),
    ("main.recvNil", "", [1, 1, 1]),
    ("main.holdShared", "", [1, 1, 1]),
    ("main.lockShared", "", [2, 2, 2]),
    ("main.lockOrphan", "", [1, 1, 1]),
    ("main.waitAll", "", [1, 2, 3]),
    ("main.napper", "", [1, 1, 1]),
    ("main.acceptLoop", "", [1, 1, 1]),
    ("main.readConn", "", [1, 1, 1]),
    ("main.main", "", [1, 1, 1]),
];
const TOTALS: [u64; 3] = [21, 28, 35];

/// Goroutines the goroutineleak profile proves leaked at t2.
const PROVEN_AT_T2: u64 = 8 + 1 + 1 + 1 + 3;

/// Pollers and the goroutines they parked, at z0..z5 (Go 1.27).
const POLLERS: [u64; 6] = [0, 0, 12, 3, 13, 4];
const PARKED: [u64; 6] = [0, 0, 0, 9, 9, 18];

fn rel(nn: u32, file: &str) -> String {
    format!("releases/go1.{nn}/{file}")
}

/// Releases whose runtime has the goroutineleak profile (1.26 behind
/// GOEXPERIMENT=goroutineleakprofile).
fn has_leak_profile(nn: u32) -> bool {
    nn >= 26
}

/// The state a group's goroutines print in `debug=2` of release `nn`.
fn reason(nn: u32, function: &str) -> &'static str {
    if function == "main.waitAll" && nn < 24 {
        return "semacquire";
    }
    GROUPS
        .iter()
        .find(|g| g.0 == function)
        .map(|g| g.2)
        .unwrap_or_else(|| panic!("no group {function}"))
}

fn proven(function: &str) -> bool {
    GROUPS.iter().any(|g| g.0 == function && g.3)
}

/// The group of a goroutine record: the innermost frame that names one,
/// `(runtime)` for the runtime's own goroutines.
fn group_of(l: &Loaded, g: &Goroutine) -> &'static str {
    l.table
        .frames(g.stack)
        .find_map(|f| {
            let name = l.table.function(f);
            GROUPS.iter().find(|k| k.0 == name).map(|k| k.0)
        })
        .unwrap_or("(runtime)")
}

type Counts = BTreeMap<(String, String), u64>;

/// A label set as `k=v, k=v`, keys in order (the model orders them by id).
fn labels_text(table: &StackTable, pairs: &[(StrId, LabelValue)]) -> String {
    let mut v: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match v {
            LabelValue::Str(v) => format!("{}={}", table.str(*k), table.str(*v)),
            LabelValue::Num { value, unit } => {
                format!("{}={value}{}", table.str(*k), table.str(*unit))
            }
        })
        .collect();
    v.sort();
    v.join(", ")
}

/// Goroutines per (group, label set); without `labels`, per group only.
fn counts(l: &Loaded, labels: bool) -> Counts {
    let mut m = Counts::new();
    for g in snapshot(l).goroutines() {
        let group = group_of(l, g);
        if group == "(runtime)" {
            continue;
        }
        let set = if labels {
            labels_text(&l.table, l.table.labels(g.labels))
        } else {
            String::new()
        };
        *m.entry((group.to_owned(), set)).or_default() += g.count;
    }
    m
}

fn expected(moment: usize, labels: bool) -> Counts {
    let mut m = Counts::new();
    for (f, set, n) in SERIES {
        let set = if labels { *set } else { "" };
        *m.entry((f.to_string(), set.to_owned())).or_default() += n[moment];
    }
    m
}

fn loaded_clean(name: &str) -> Loaded {
    let l = load(name);
    let s = snapshot(&l);
    assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
    l
}

/// Dumps of Go 1.27, built from a module that says `go 1.27`, print label
/// sets in goroutine headers; older ones do not.
fn dump_has_labels(nn: u32) -> bool {
    nn >= 27
}

#[test]
fn every_dialect_of_one_moment_holds_the_same_goroutines() {
    for nn in RELEASES {
        for (t, total) in TOTALS.iter().enumerate() {
            let base = format!("goroutine-t{t}");
            let proto = loaded_clean(&rel(nn, &format!("{base}.pb.gz")));
            let debug1 = loaded_clean(&rel(nn, &format!("{base}.debug1.txt")));
            let debug2 = loaded_clean(&rel(nn, &format!("{base}.debug2.txt")));
            let what = format!("go1.{nn} t{t}");
            assert_eq!(
                snapshot(&proto).source.profile_type,
                Some(ProfileType::Goroutine)
            );
            assert_eq!(snapshot(&debug1).source.format, Format::GoroutineDebug1);
            assert_eq!(snapshot(&debug2).source.format, Format::GoroutineDump);
            for l in [&proto, &debug1, &debug2] {
                assert_eq!(snapshot(l).goroutine_count(), Some(*total), "{what}");
            }
            assert_eq!(snapshot(&debug1).stated_total, Some(*total), "{what}");
            assert_eq!(counts(&proto, true), expected(t, true), "{what} proto");
            assert_eq!(counts(&debug1, true), expected(t, true), "{what} debug=1");
            let labels = dump_has_labels(nn);
            assert_eq!(
                counts(&debug2, labels),
                expected(t, labels),
                "{what} debug=2"
            );
            // Every goroutine of a full dump has an id and a creator, but main.
            let gs = snapshot(&debug2).goroutines();
            assert!(gs.iter().all(|g| g.id.is_some() && !g.stack.is_empty()));
            let uncreated: Vec<_> = gs.iter().filter(|g| g.created_by.is_none()).collect();
            assert_eq!(uncreated.len(), 1, "{what}");
            assert_eq!(uncreated[0].id, Some(1), "{what}");
        }
        // runtime.Stack at t2 holds what debug=2 at t2 holds.
        let stack = loaded_clean(&rel(nn, "stack.txt"));
        let labels = dump_has_labels(nn);
        assert_eq!(counts(&stack, labels), expected(2, labels), "go1.{nn}");
    }
}

#[test]
fn wait_reasons_as_each_release_prints_them() {
    for nn in RELEASES {
        for file in ["goroutine-t2.debug2.txt", "stack.txt", "panic.txt"] {
            let l = load(&rel(nn, file));
            for g in snapshot(&l).goroutines() {
                let group = group_of(&l, g);
                let state = l.table.str(g.state);
                assert_eq!(state, reason(nn, group), "go1.{nn} {file} {group}");
                let kind = if group == "main.main" {
                    StateKind::Running
                } else {
                    StateKind::Waiting
                };
                assert_eq!(g.kind, kind, "go1.{nn} {file} {group}");
                assert!(!g.leaked && !g.durable && !g.gc_scan, "go1.{nn} {file}");
                assert_eq!(g.synctest_bubble, None);
            }
        }
    }
}

/// What the analysis of some snapshots says about one leak site and label set.
#[derive(Debug, PartialEq)]
struct SiteGrowth {
    counts: Vec<u64>,
    /// Groups of the site that grow, of `groups`.
    growing: usize,
    groups: usize,
}

/// The groups of the analysis for `files`, by (leak site, label set).
fn site_growth(files: &[String]) -> BTreeMap<(String, String), SiteGrowth> {
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    let (session, a) = analyze(&names);
    let mut out: BTreeMap<(String, String), SiteGrowth> = BTreeMap::new();
    for s in &a.suspects {
        let g = a.group(s);
        let site = s
            .leak_site
            .map(|f| session.stacks.function(f).to_owned())
            .unwrap_or_default();
        let labels = labels_text(&session.stacks, &g.labels);
        let e = out.entry((site, labels)).or_insert(SiteGrowth {
            counts: vec![0; g.counts.len()],
            growing: 0,
            groups: 0,
        });
        for (c, n) in e.counts.iter_mut().zip(&g.counts) {
            *c += n;
        }
        e.growing += usize::from(s.growth.growing);
        e.groups += 1;
    }
    out
}

/// Like [`site_growth`] where every site is one group: (counts, growing).
fn growth(files: &[String]) -> BTreeMap<(String, String), (Vec<u64>, bool)> {
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    let (session, a) = analyze(&names);
    let mut out = BTreeMap::new();
    for s in &a.suspects {
        let g = a.group(s);
        let site = s
            .leak_site
            .map(|f| session.stacks.function(f).to_owned())
            .unwrap_or_default();
        let labels = labels_text(&session.stacks, &g.labels);
        let prev = out.insert((site.clone(), labels), (g.counts.clone(), s.growth.growing));
        assert!(prev.is_none(), "{site} is split in {files:?}");
    }
    out
}

#[test]
fn leaks_grow_and_steady_groups_do_not_in_every_dialect() {
    for nn in RELEASES {
        for ext in ["pb.gz", "debug1.txt", "debug2.txt"] {
            let files: Vec<String> = (0..3)
                .map(|t| rel(nn, &format!("goroutine-t{t}.{ext}")))
                .collect();
            // Labels split groups where every snapshot records them.
            let labels = ext != "debug2.txt" || dump_has_labels(nn);
            let got = growth(&files);
            let mut want = BTreeMap::new();
            for (f, set, n) in SERIES {
                let set = if labels { *set } else { "" };
                // The capturing goroutine's leak site is the innermost
                // frame of the program: the function writing the profile.
                let f = if *f == "main.main" {
                    "main.writeProfile"
                } else {
                    f
                };
                let e = want
                    .entry((f.to_string(), set.to_owned()))
                    .or_insert((vec![0; 3], false));
                for (c, add) in e.0.iter_mut().zip(n) {
                    *c += add;
                }
                e.1 = e.0[2] > e.0[0];
            }
            assert_eq!(got, want, "go1.{nn} {ext}");
        }
        // A series of mixed dialects lines up too (labels merged: the
        // dumps of releases before 1.27 do not print them).
        let mixed = [
            rel(nn, "goroutine-t0.pb.gz"),
            rel(nn, "goroutine-t1.debug1.txt"),
            rel(nn, "goroutine-t2.debug2.txt"),
        ];
        // The capturing goroutine's stack differs by dialect, so it may
        // split; every leak is one group.
        let got = site_growth(&mixed);
        let growing: Vec<&str> = got
            .iter()
            .filter(|(_, g)| g.growing > 0)
            .map(|((f, _), _)| f.as_str())
            .collect();
        assert_eq!(
            growing,
            [
                "main.awaitReply",
                "main.sendResult",
                "main.waitAll",
                "main.waitLabelled"
            ],
            "go1.{nn} mixed"
        );
        let send = &got[&("main.sendResult".to_owned(), String::new())];
        assert_eq!(
            (send.counts.as_slice(), send.groups),
            ([2, 5, 8].as_slice(), 1)
        );
    }
}

#[test]
fn labels_in_the_protobuf_and_debug1_profiles_of_every_release() {
    for nn in RELEASES {
        for file in ["goroutine-t2.pb.gz", "goroutine-t2.debug1.txt"] {
            let l = load(&rel(nn, file));
            let mut sets: BTreeMap<String, u64> = BTreeMap::new();
            for g in snapshot(&l).goroutines() {
                if !l.table.labels(g.labels).is_empty() {
                    let set = labels_text(&l.table, l.table.labels(g.labels));
                    *sets.entry(set).or_default() += g.count;
                }
            }
            let want: BTreeMap<String, u64> =
                [(SEARCH.to_owned(), 2), (EXPORT.to_owned(), 3)].into();
            assert_eq!(sets, want, "go1.{nn} {file}");
        }
    }
}

#[test]
fn panics_and_re_raised_panics_of_every_release() {
    let message = "panic: leakrel: upstream inventory gave up after 3 retries";
    for nn in RELEASES {
        let l = loaded_clean(&rel(nn, "panic.txt"));
        let p = snapshot(&l).panic.as_ref().expect("a panic");
        assert_eq!(p.message, message, "go1.{nn}");
        assert_eq!(p.goroutine_id, Some(1));
        let labels = dump_has_labels(nn);
        assert_eq!(counts(&l, labels), expected(0, labels), "go1.{nn}");

        let l = loaded_clean(&rel(nn, "repanic.txt"));
        let p = snapshot(&l).panic.as_ref().expect("a panic");
        // Go 1.25 prints a panic recovered and raised again with the same
        // value once, as `[recovered, repanicked]`; before, twice.
        let want = if nn >= 25 {
            format!("{message} [recovered, repanicked]")
        } else {
            format!("{message} [recovered]\n\t{message}")
        };
        assert_eq!(p.message, want, "go1.{nn}");
        assert_eq!(p.goroutine_id, Some(1));
        assert_eq!(counts(&l, labels), expected(0, labels), "go1.{nn}");
        let main = &snapshot(&l).goroutines()[0];
        let fns: Vec<&str> = l
            .table
            .frames(main.stack)
            .map(|f| l.table.function(f))
            .collect();
        assert_eq!(
            fns,
            [
                "main.crash.func1",
                "runtime.gopanic",
                "main.crash",
                "main.main"
            ],
            "go1.{nn}"
        );
    }
}

#[test]
fn goroutineleak_profiles_count_only_and_every_proven_leak() {
    for nn in RELEASES.into_iter().filter(|&nn| has_leak_profile(nn)) {
        for file in ["goroutineleak.pb.gz", "goroutineleak.debug1.txt"] {
            let l = loaded_clean(&rel(nn, file));
            let s = snapshot(&l);
            assert_eq!(s.source.profile_type, Some(ProfileType::GoroutineLeak));
            assert_eq!(s.goroutine_count(), Some(PROVEN_AT_T2), "go1.{nn} {file}");
            assert!(s.goroutines().iter().all(|g| g.leaked), "go1.{nn} {file}");
            let mut want = expected(2, true);
            want.retain(|(f, _), _| proven(f));
            assert_eq!(counts(&l, true), want, "go1.{nn} {file}");
        }
        // Before anything leaked: empty, in both forms.
        for file in [
            "goroutineleak-empty.pb.gz",
            "goroutineleak-empty.debug1.txt",
        ] {
            let l = loaded_clean(&rel(nn, file));
            let s = snapshot(&l);
            assert_eq!(s.source.profile_type, Some(ProfileType::GoroutineLeak));
            assert_eq!(s.goroutine_count(), Some(0), "go1.{nn} {file}");
        }
    }
}

#[test]
fn dumps_taken_after_the_leak_profile_mark_exactly_the_proven() {
    for nn in RELEASES.into_iter().filter(|&nn| has_leak_profile(nn)) {
        // debug=2 of the goroutineleak profile is a dump of every goroutine.
        for file in [
            "goroutineleak.debug2.txt",
            "goroutine-after-leak.debug2.txt",
        ] {
            let l = loaded_clean(&rel(nn, file));
            let s = snapshot(&l);
            assert_eq!(s.goroutine_count(), Some(TOTALS[2]), "go1.{nn} {file}");
            let mut leaked = 0;
            for g in s.goroutines() {
                let group = group_of(&l, g);
                assert_eq!(g.leaked, proven(group), "go1.{nn} {file} {group}");
                // The mark is not part of the wait reason.
                assert_eq!(l.table.str(g.state), reason(nn, group));
                leaked += u64::from(g.leaked);
            }
            assert_eq!(leaked, PROVEN_AT_T2, "go1.{nn} {file}");
        }
        let l = load(&rel(nn, "goroutine-t2.debug2.txt"));
        assert!(snapshot(&l).goroutines().iter().all(|g| !g.leaked));
    }
}

#[test]
fn zig_zag_pollers_in_three_dialects() {
    let nn = 27;
    let mut files = BTreeMap::<&str, Vec<String>>::new();
    for (z, (&pollers, &parked)) in POLLERS.iter().zip(&PARKED).enumerate() {
        let mut want = expected(0, true);
        if pollers > 0 {
            want.insert(("main.pollUpstream".to_owned(), String::new()), pollers);
        }
        if parked > 0 {
            want.insert(("main.parkReply".to_owned(), String::new()), parked);
        }
        for ext in ["pb.gz", "debug1.txt", "debug2.txt"] {
            let name = rel(nn, &format!("zigzag-z{z}.{ext}"));
            let l = loaded_clean(&name);
            assert_eq!(counts(&l, true), want, "{name}");
            files.entry(ext).or_default().push(name);
            if ext == "debug2.txt" {
                // Pollers are never parked: the dump shows them runnable.
                for g in snapshot(&l).goroutines() {
                    if group_of(&l, g) == "main.pollUpstream" {
                        assert_eq!(g.kind, StateKind::Runnable, "{}", l.table.str(g.state));
                    }
                }
            }
        }
    }
    for (ext, names) in files {
        let got = site_growth(&names);
        let parked = &got[&("main.parkReply".to_owned(), String::new())];
        assert_eq!(parked.counts, PARKED, "{ext}");
        assert_eq!((parked.growing, parked.groups), (1, 1), "{ext}");
        let pollers = &got[&("main.pollUpstream".to_owned(), String::new())];
        assert_eq!(pollers.counts, POLLERS, "{ext}");
        // Goroutines passing through zig-zag: not growth, in any dialect.
        assert_eq!(pollers.growing, 0, "{ext}");
    }
}

// ---- The dump dialect of Go 1.25 to 1.27 (issue 15, item 3) ----

#[test]
fn go127_header_labels_with_the_runtimes_quoting() {
    let name = rel(27, "goroutine-t2.debug2.txt");
    let text = String::from_utf8(read(&name)).unwrap();
    // As printed: bare where the runtime allows it, quoted and escaped else.
    assert!(text.contains("[chan receive] {handler: search}:\n"));
    assert!(
        text.contains(r#"[chan receive] {handler: "GET /export", tenant: "acme \"eu\" \u00fc"}:"#)
    );
    let l = loaded_clean(&name);
    let mut sets: BTreeMap<String, u64> = BTreeMap::new();
    for g in snapshot(&l).goroutines() {
        if group_of(&l, g) == "main.waitLabelled" {
            *sets
                .entry(labels_text(&l.table, l.table.labels(g.labels)))
                .or_default() += 1;
        } else {
            assert!(l.table.labels(g.labels).is_empty());
        }
    }
    assert_eq!(
        sets,
        [(SEARCH.to_owned(), 2), (EXPORT.to_owned(), 3)].into()
    );
    // With labels in every dump, the analysis splits by them as it does
    // for the protobuf profile of the same moment.
    let (_, dump) = analyze(&[&name]);
    let (_, proto) = analyze(&[&rel(27, "goroutine-t2.pb.gz")]);
    assert!(dump.split_by_labels && proto.split_by_labels);
    assert_eq!(dump.groups.len(), proto.groups.len());
}

#[test]
fn go126_labels_inside_the_brackets() {
    let name = rel(26, "goroutine-labels.debug2.txt");
    let text = String::from_utf8(read(&name)).unwrap();
    assert!(text.contains(r#"[chan receive labels:{"handler": "search"}]:"#));
    let l = loaded_clean(&name);
    assert_eq!(counts(&l, true), expected(0, true));
    for g in snapshot(&l).goroutines() {
        assert_eq!(l.table.str(g.state), reason(26, group_of(&l, g)));
    }
}

#[test]
fn scan_flag_is_read_apart_from_the_state() {
    let name = rel(27, "scan.txt");
    let text = String::from_utf8(read(&name)).unwrap();
    let marked = text
        .lines()
        .filter(|l| l.starts_with("goroutine ") && l.contains(" (scan)"))
        .count();
    assert!(marked >= 1);
    let l = loaded_clean(&name);
    let scanned: Vec<&Goroutine> = snapshot(&l)
        .goroutines()
        .iter()
        .filter(|g| g.gc_scan)
        .collect();
    assert_eq!(scanned.len(), marked);
    for g in scanned {
        let state = l.table.str(g.state);
        assert!(!state.contains('('), "{state}");
        assert_eq!(g.kind, StateKind::Waiting);
    }
}

#[test]
fn synctest_bubbles_and_durable_waits() {
    for nn in [25, 26, 27] {
        let l = loaded_clean(&rel(nn, "synctest.txt"));
        let mut bubbled: BTreeMap<(String, bool), u64> = BTreeMap::new();
        for g in snapshot(&l).goroutines() {
            match g.synctest_bubble {
                Some(id) => {
                    assert_eq!(id, 1);
                    let state = l.table.str(g.state).to_owned();
                    *bubbled.entry((state, g.durable)).or_default() += 1;
                }
                None => assert!(!g.durable),
            }
        }
        let want: BTreeMap<(String, bool), u64> = [
            (("chan receive".to_owned(), true), 2),
            (("chan receive".to_owned(), false), 1),
            (("running".to_owned(), false), 1),
            (("select".to_owned(), true), 1),
            (("sleep".to_owned(), true), 1),
            (("sync.Cond.Wait".to_owned(), true), 1),
            (("sync.WaitGroup.Wait".to_owned(), true), 1),
            (("synctest.Run".to_owned(), true), 1),
        ]
        .into();
        assert_eq!(bubbled, want, "go1.{nn}");
    }
}

/// A `debug=2` dump as big as the runtime's 64 MiB limit, made of the
/// goroutines of a real one repeated under new ids, cut where the runtime
/// cuts: at exactly 64 MiB, mid-line.
fn dump_cut_at_the_runtime_limit() -> (Vec<u8>, u64) {
    const LIMIT: usize = 64 << 20;
    let text = String::from_utf8(read(&rel(27, "goroutine-t2.debug2.txt"))).unwrap();
    let blocks: Vec<&str> = text.trim_end().split("\n\n").collect();
    let mut out = String::with_capacity(LIMIT + (1 << 16));
    let mut id = 0u64;
    'fill: loop {
        for b in &blocks {
            let (_, rest) = b.split_once(" [").unwrap();
            id += 1;
            out.push_str(&format!("goroutine {id} [{rest}\n\n"));
            if out.len() > LIMIT + 100 {
                break 'fill;
            }
        }
    }
    out.truncate(LIMIT);
    assert!(!out.ends_with('\n'));
    let complete = out.matches("\n\ngoroutine ").count() as u64 + 1;
    (out.into_bytes(), complete)
}

#[test]
fn debug2_dump_cut_at_the_runtime_limit_is_reported_truncated() {
    let (data, headers) = dump_cut_at_the_runtime_limit();
    assert_eq!(data.len(), leakscope::formats::dump::RUNTIME_DUMP_LIMIT);
    let l = load_bytes("cut.debug2.txt", &data).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(headers));
    assert_eq!(s.warnings.count("truncated"), 1, "{:?}", s.warnings);
    let last = s.goroutines().last().unwrap();
    assert!(last.frames_elided);
    assert_eq!(last.id, Some(headers));
    // The piece of a line at the end is not taken for a frame: every
    // function is one the real dump has.
    let real = load(&rel(27, "goroutine-t2.debug2.txt"));
    let known: std::collections::BTreeSet<&str> = real
        .table
        .frame_ids()
        .map(|f| real.table.function(f))
        .collect();
    for g in s.goroutines() {
        for f in l.table.frames(g.stack) {
            assert!(
                known.contains(l.table.function(f)),
                "{}",
                l.table.function(f)
            );
        }
    }
    // The same bytes one line shorter are a complete dump: no warning.
    let end = data.iter().rposition(|&b| b == b'\n').unwrap();
    let l = load_bytes("whole.debug2.txt", &data[..=end]).unwrap();
    assert_eq!(snapshot(&l).warnings.count("truncated"), 0);
}

// ---- Parser bugs of issue 15, item 7 ----

#[test]
fn issue15_one_stack_in_two_states_keeps_both() {
    // SIGQUIT while two of four goroutines on one sync.Cond were just
    // signalled: same stack, `[runnable]` twice and `[sync.Cond.Wait]` twice.
    let name = rel(27, "sigquit.txt");
    let l = loaded_clean(&name);
    let mut states: BTreeMap<String, u64> = BTreeMap::new();
    for g in snapshot(&l).goroutines() {
        if group_of(&l, g) == "main.waitCond" {
            *states.entry(l.table.str(g.state).to_owned()).or_default() += 1;
        }
    }
    let want: BTreeMap<String, u64> =
        [("runnable".to_owned(), 2), ("sync.Cond.Wait".to_owned(), 2)].into();
    assert_eq!(states, want);
    let (session, a) = analyze(&[&name]);
    let cond: Vec<_> = a
        .suspects
        .iter()
        .filter(|s| s.leak_site.map(|f| session.stacks.function(f)) == Some("main.waitCond"))
        .collect();
    assert_eq!(cond.len(), 1, "one stack, one group");
    let g = a.group(cond[0]);
    assert_eq!(g.counts, [4]);
    let reasons: BTreeMap<String, u64> = g
        .wait_reasons
        .iter()
        .map(|(r, n)| (r.text(&session.stacks).to_owned(), *n))
        .collect();
    assert_eq!(reasons, want);
}

#[test]
fn issue15_threadcreate_text_profile_keeps_distinct_stacks() {
    // As Go 1.27 writes it: one record of threads created with no stack
    // (`#\t0x0`), one from runtime.main.
    let name = rel(27, "threadcreate.debug1.txt");
    let text = String::from_utf8(read(&name)).unwrap();
    let l = loaded_clean(&name);
    let p = snapshot(&l).samples().expect("samples");
    assert_eq!(
        snapshot(&l).source.profile_type,
        Some(ProfileType::Threadcreate)
    );
    let stated: i64 = text
        .lines()
        .next()
        .and_then(|h| h.strip_prefix("threadcreate profile: total "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(p.total(0), stated);
    let records = text.lines().filter(|l| l.contains(" @")).count();
    assert_eq!(p.samples.len(), records);
    // The same profile with its symbol lines gone (as tools that cannot
    // symbolize write it): stacks named by address, still distinct.
    let bare: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let l = load_bytes("threadcreate-bare.txt", bare.as_bytes()).unwrap();
    let p = snapshot(&l).samples().expect("samples");
    assert_eq!(p.total(0), stated);
    let stacks: std::collections::BTreeSet<_> = p.samples.iter().map(|s| s.stack).collect();
    // Distinct lists of non-null addresses, as the records print them.
    let lists: std::collections::BTreeSet<Vec<&str>> = bare
        .lines()
        .filter_map(|l| l.split_once(" @"))
        .map(|(_, pcs)| pcs.split_whitespace().filter(|&pc| pc != "0x0").collect())
        .collect();
    assert!(lists.iter().any(|l| !l.is_empty()));
    assert_eq!(stacks.len(), lists.len());
    for s in &p.samples {
        for f in l.table.frames(s.stack) {
            assert!(
                l.table.function(f).starts_with("0x"),
                "{}",
                l.table.function(f)
            );
        }
    }
}

#[test]
fn issue15_empty_goroutineleak_debug1_profile_is_an_empty_snapshot() {
    for nn in [26, 27] {
        let name = rel(nn, "goroutineleak-empty.debug1.txt");
        assert_eq!(read(&name), b"goroutineleak profile: total 0\n");
        let l = loaded_clean(&name);
        let s = snapshot(&l);
        assert_eq!(s.source.profile_type, Some(ProfileType::GoroutineLeak));
        assert_eq!(s.stated_total, Some(0));
        assert_eq!(s.goroutine_count(), Some(0));
    }
    // A header promising goroutines but no record stays an error.
    assert!(load_bytes("x", b"goroutineleak profile: total 3\n").is_err());
}

#[test]
fn issue15_goroutineleak_profiles_mark_every_goroutine_leaked_in_the_analysis() {
    for nn in [26, 27] {
        for file in ["goroutineleak.pb.gz", "goroutineleak.debug1.txt"] {
            let (_, a) = analyze(&[&rel(nn, file)]);
            let leaked: u64 = a.groups.iter().map(|g| g.proven()).sum();
            assert_eq!(leaked, PROVEN_AT_T2, "go1.{nn} {file}");
            // Evidence about a moment, not a step of the series.
            assert!(a.series.is_empty(), "go1.{nn} {file}");
            assert_eq!(a.evidence.len(), 1);
        }
    }
}

/// The frame classification keeps naming the program's own frames as its
/// leak sites in every release (paths are `-trimpath` ones).
#[test]
fn leak_sites_are_the_programs_functions() {
    let mut s = Session::default();
    for nn in RELEASES {
        let l = load(&rel(nn, "goroutine-t0.pb.gz"));
        s.add(&l.table, l.input);
    }
    let a = analysis::analyze(&s, &AnalysisOptions::default());
    for sus in &a.suspects {
        let site = sus.leak_site.expect("a leak site");
        assert_eq!(
            frames::classify(&s.stacks, site),
            frames::FrameClass::App,
            "{}",
            s.stacks.function(site)
        );
    }
}

// ---- The runtime's verdict as evidence (issue 15, item 4) ----

/// The groups the runtime proves leaked come first, all of them, before any
/// group it does not prove: in a one-snapshot ranking of a dump with
/// `(leaked)` marks, and in a series opened with the goroutineleak profile,
/// whose every dialect proves the same goroutines.
#[test]
fn proven_leaks_rank_first_with_their_evidence() {
    use leakscope::analysis::Evidence;
    let nn = 27;
    let one = [rel(nn, "goroutine-after-leak.debug2.txt")];
    let mut series: Vec<String> = (0..3)
        .map(|t| rel(nn, &format!("goroutine-t{t}.pb.gz")))
        .collect();
    for leak in ["goroutineleak.pb.gz", "goroutineleak.debug1.txt"] {
        series.push(rel(nn, leak));
        for files in [&one[..], &series[..]] {
            let names: Vec<&str> = files.iter().map(String::as_str).collect();
            let (session, a) = analyze(&names);
            let proven: Vec<bool> = a
                .suspects
                .iter()
                .map(|s| s.evidence == Evidence::Proven)
                .collect();
            let n = proven.iter().filter(|&&p| p).count();
            assert!(n > 0, "{files:?}");
            assert!(proven[..n].iter().all(|&p| p), "proven first: {proven:?}");
            let total: u64 = a.groups.iter().map(|g| g.proven()).sum();
            assert_eq!(total, PROVEN_AT_T2, "{files:?}");
            for s in &a.suspects {
                let site = s.leak_site.map_or("", |f| session.stacks.function(f));
                assert_eq!(
                    s.evidence == Evidence::Proven,
                    proven_site(site),
                    "{site} in {files:?}"
                );
            }
            if files.len() > 1 {
                // The profile is no snapshot of the series: t0..t2 only,
                // and no group grows from nothing because of it.
                assert_eq!(a.series.len(), 3);
                assert_eq!(a.series[2].total, TOTALS[2]);
            } else {
                assert!(
                    a.suspects[n..]
                        .iter()
                        .all(|s| s.evidence == Evidence::OneSnapshot)
                );
            }
        }
        series.pop();
    }
}

/// Whether the ground truth says the runtime proves a leak site's goroutines.
fn proven_site(site: &str) -> bool {
    proven(site)
}
