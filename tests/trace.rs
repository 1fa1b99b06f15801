//! Go execution traces: the parser against the reference decoder and the
//! fixture ground truth (`tests/fixtures/MANIFEST.md`, "Ground truth:
//! execution traces"), the trace analyses (leak groups, summary,
//! cross-index), the real captures of every Go release from 1.21 to 1.27
//! (`tests/fixtures/releases`), small synthetic traces for corners no
//! capture shows, and damaged files.
//!
//! Belongs here: behaviour seen through the public API on whole traces.
//! Unit tests of the packing, compaction and varints live beside the code.
//!
//! Every committed trace is also compared, goroutine by goroutine, with Go's
//! own reader: `*.goreader` beside each trace come from
//! `tests/fixtures/trace_goreader.py`, which reduces `go tool trace
//! -d=parsed` of Go 1.27 (it reads every format from Go 1.11 on) to each
//! goroutine's transitions, so the tests need no Go.
//!
//! `tests/fixtures/*.out.expected` come from `tests/fixtures/trace_expected.py`
//! (which runs the project's reference decoder). They hold, for every
//! goroutine, the number of state transitions and a hash of the whole
//! `From->To[reason]` sequence, so the comparison covers every transition of
//! every goroutine while the committed file stays small; the event counts
//! per type; and the created / ended totals. The reference also prints a
//! transition for each status event that merely restates a known state
//! ("Waiting->Waiting"); those carry no information, the model does not keep
//! them, and the expected files leave them out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use leakscope::analysis::frames::leak_site;
use leakscope::analysis::trace::{
    CrossIndex, TraceLeakGroup, same_call_path, stack_is_outer_part, summarize, trace_leaks,
};
use leakscope::formats::trace::{batch_offsets, reference_transitions};
use leakscope::formats::{FormatError, LoadOptions, Loaded, load_bytes};
use leakscope::model::{GoState, Input, Session, SpanCause, StackTable, Trace, WaitReason};
use leakscope::progress::Progress;

mod common;
use common::tracegen::{V2, ev};

const GO123: &str = "trace-go123.out";
const LEGACY: &str = "trace-go121-legacy.out";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(data: &[u8]) -> Result<Loaded, FormatError> {
    load_bytes("test", data, &LoadOptions::default(), &Progress::none())
}

fn load_fixture(name: &str) -> Loaded {
    load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn trace(l: &Loaded) -> &Trace {
    l.input.as_trace().expect("a trace")
}

fn fnv1a64(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Parsed `*.expected` file.
struct Expected {
    events: u64,
    counts: BTreeMap<String, u64>,
    goroutines: usize,
    created: u64,
    ended: u64,
    sequences: BTreeMap<u64, (usize, u64)>,
}

fn expected(name: &str) -> Expected {
    let text = String::from_utf8(fixture(&format!("{name}.expected"))).unwrap();
    let mut e = Expected {
        events: 0,
        counts: BTreeMap::new(),
        goroutines: 0,
        created: 0,
        ended: 0,
        sequences: BTreeMap::new(),
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["events", n] => e.events = n.parse().unwrap(),
            ["count", name, n] => {
                let n: u64 = n.parse().unwrap();
                if n > 0 {
                    e.counts.insert((*name).to_owned(), n);
                }
            }
            ["goroutines", n] => e.goroutines = n.parse().unwrap(),
            ["created", n] => e.created = n.parse().unwrap(),
            ["ended", n] => e.ended = n.parse().unwrap(),
            ["g", id, len, hash] => {
                e.sequences.insert(
                    id.parse().unwrap(),
                    (len.parse().unwrap(), u64::from_str_radix(hash, 16).unwrap()),
                );
            }
            _ => panic!("bad expected line {line:?}"),
        }
    }
    e
}

fn check_against_reference(name: &str) {
    let loaded = load_fixture(name);
    let t = trace(&loaded);
    let e = expected(name);
    assert_eq!(t.events, e.events, "{name}: timed events");
    let counts: BTreeMap<String, u64> = t
        .event_counts
        .iter()
        .map(|&(n, c)| (n.to_owned(), c))
        .collect();
    assert_eq!(counts, e.counts, "{name}: events per type");
    assert_eq!(t.goroutines().len(), e.goroutines, "{name}: goroutines");
    let s = summarize(t, &loaded.table);
    assert_eq!(s.goroutines_created, e.created, "{name}: created");
    assert_eq!(s.goroutines_ended, e.ended, "{name}: ended");
    let mut mismatches = Vec::new();
    for g in t.goroutine_indices() {
        let id = t.goroutine(g).unwrap().id;
        let seq = reference_transitions(t, &loaded.table, g);
        let ours = (seq.len(), fnv1a64(&seq.join("\n")));
        match e.sequences.get(&id) {
            Some(&want) if want == ours => {}
            want => mismatches.push(format!(
                "g{id}: expected {want:?}, got {} transitions: {:?}",
                seq.len(),
                seq.iter().take(12).collect::<Vec<_>>()
            )),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{name}: {} goroutines differ from the reference (print one with \
         `tests/fixtures/trace_expected.py tests/fixtures/{name} --goroutine ID`):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(t.warnings.is_empty(), "{name}: {:?}", t.warnings);
}

#[test]
fn go123_transitions_and_counts_equal_the_reference() {
    check_against_reference(GO123);
}

#[test]
fn legacy_transitions_and_counts_equal_the_reference() {
    check_against_reference(LEGACY);
}

#[test]
fn go123_headline_numbers() {
    let loaded = load_fixture(GO123);
    let t = trace(&loaded);
    let s = summarize(t, &loaded.table);
    assert_eq!(t.go_version, "go1.23");
    assert!(!t.legacy);
    assert_eq!(t.events, 39_078);
    assert_eq!(t.goroutines().len(), 372);
    assert_eq!(s.goroutines_created, 254);
    assert_eq!(s.goroutines_ended, 214);
    assert_eq!(s.alive_at_end, 372 - 214);
    assert_eq!(t.cpu_samples.len(), 137);
    assert!(
        t.cpu_samples
            .windows(2)
            .all(|w| w[0].time_ns <= w[1].time_ns)
    );
    assert!(t.cpu_samples.iter().all(|c| !c.stack.is_empty()));
    // About three seconds of capture.
    let len = t.window.end_ns - t.window.start_ns;
    assert!((2_500_000_000..4_000_000_000).contains(&len), "{len}");
    assert_eq!(t.stw.len(), 1);
    assert!(!loaded.table.str(t.stw[0].kind).is_empty());
    check_procs(t);
    let json = serde_json::to_value(&s).unwrap();
    for key in [
        "go_version",
        "events",
        "goroutines_created",
        "goroutines_ended",
        "alive_at_end",
        "blocked_at_end",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    let blocked: u64 = s.blocked_at_end.values().sum();
    assert!(blocked <= s.alive_at_end);
    assert_eq!(s.blocked_at_end.get("chan send"), Some(&40));
}

#[test]
fn legacy_headline_numbers() {
    let loaded = load_fixture(LEGACY);
    let t = trace(&loaded);
    assert_eq!(t.go_version, "go1.21");
    assert!(t.legacy);
    assert_eq!(t.gc.len(), 1);
    assert_eq!(t.stw.len(), 2);
    check_procs(t);
    // GC workers carry their label.
    assert!(
        t.goroutine_indices()
            .any(|g| { loaded.table.str(t.label(g)).starts_with("GC (") })
    );
}

/// P lanes: spans per P in order, never two at once.
fn check_procs(t: &Trace) {
    assert!(!t.procs.is_empty());
    for w in t.procs.windows(2) {
        assert!(w[0].start_ns <= w[0].end_ns);
        if w[0].p == w[1].p {
            assert!(w[0].end_ns <= w[1].start_ns, "{:?}", w);
        } else {
            assert!(w[0].p < w[1].p);
        }
    }
    assert!(
        t.procs
            .iter()
            .all(|p| p.start_ns >= t.window.start_ns && p.end_ns <= t.window.end_ns)
    );
}

/// The MANIFEST's never-ending goroutines: (entry function, reason, count).
/// Reasons read as the dumps of the same goroutines print them: the trace's
/// `sync` and `network` are made precise by the blocking stack.
const LEAKS: [(&str, &str, usize); 9] = [
    ("main.querySearchBackend", "chan send", 10),
    ("main.consumeEvents", "chan receive", 5),
    ("main.(*inventoryStore).reserve", "sync.Mutex.Lock", 4),
    ("main.pollUpstream", "select", 3),
    ("main.flushBatch", "sync.WaitGroup.Wait", 2),
    ("main.heartbeatLoop", "sleep", 1),
    ("net/http.(*persistConn).readLoop", "select", 2),
    ("net/http.(*persistConn).writeLoop", "select", 2),
    ("net/http.(*conn).serve", "IO wait", 2),
];

fn find_group<'a>(
    groups: &'a [TraceLeakGroup],
    entry: &str,
    reason: &str,
) -> Option<&'a TraceLeakGroup> {
    groups
        .iter()
        .find(|g| g.entry_function == entry && WaitReason::known(reason) == Some(g.reason))
}

fn check_leaks(name: &str) {
    let loaded = load_fixture(name);
    let t = trace(&loaded);
    let table = &loaded.table;
    let groups = trace_leaks(t, table);
    for (entry, reason, count) in LEAKS {
        let g = find_group(&groups, entry, reason)
            .unwrap_or_else(|| panic!("{name}: no group {entry} / {reason}"));
        assert_eq!(g.goroutines.len(), count, "{name}: {entry}");
        assert_eq!(g.state, GoState::Waiting);
        assert_eq!(g.counts.last().map(|c| c.1), Some(count as u64));
        assert_eq!(g.counts.last().map(|c| c.0), Some(t.window.end_ns));
        assert!(
            g.counts
                .windows(2)
                .all(|w| w[0].1 <= w[1].1 && w[0].0 <= w[1].0)
        );
        assert!(
            !g.blocking_stack.is_empty(),
            "{name}: {entry} blocking stack"
        );
        assert!(
            !g.creation_stack.is_empty(),
            "{name}: {entry} creation stack"
        );
        assert!(g.creation_site.is_some(), "{name}: {entry} creation site");
        // The entry function shows in the outermost frame of the blocking stack.
        let outer = table.frames(g.blocking_stack).last().unwrap();
        assert_eq!(table.function(outer), entry, "{name}");
        for &gi in &g.goroutines {
            let c = t.creation(gi).expect("created in the window");
            assert!(c.creator.is_some(), "{name}: {entry} creator");
            assert!(
                c.creator_id.is_some_and(|id| id > 0),
                "{name}: {entry} creator id"
            );
            assert!(!c.creator_stack.is_empty());
            assert_eq!(table.function(table.leaf(c.start_stack).unwrap()), entry);
            assert!(t.end_ns(gi).is_none());
            let last = t.blocking_points(gi).last().expect("a blocking point");
            assert!(!last.unblocked);
            assert_eq!(last.stack, g.blocking_stack);
            assert_eq!(last.time_ns + last.duration_ns, t.window.end_ns);
        }
    }
    let q = find_group(&groups, "main.querySearchBackend", "chan send").unwrap();
    assert_eq!(
        table.function(table.leaf(q.blocking_stack).unwrap()),
        "runtime.chansend1"
    );
    // Leaks come first: every waiting group precedes every running one.
    let first_other = groups.iter().position(|g| g.state != GoState::Waiting);
    if let Some(i) = first_other {
        assert!(groups[i..].iter().all(|g| g.state != GoState::Waiting));
    }
}

#[test]
fn go123_never_ending_goroutines_match_the_manifest() {
    check_leaks(GO123);
}

#[test]
fn legacy_never_ending_goroutines_match_the_manifest() {
    check_leaks(LEGACY);
}

/// Traces of another program (`tests/fixtures/variants/src`, made by
/// `variants/make.sh` with Go 1.23 and Go 1.21): other names, a generic
/// method in a dotted import path, nil-channel and no-case selects, RWMutex,
/// Cond, a 120-deep recursion, a goroutine locked to its thread, labels, and
/// twenty short-lived goroutines contending on a mutex, sleeping and making
/// syscalls before they exit.
const VARIANT_TRACES: [&str; 2] = ["variants/trace-go123.out", "variants/trace-go121.out"];

#[test]
fn another_programs_traces_equal_the_reference() {
    for name in VARIANT_TRACES {
        check_against_reference(name);
    }
}

// ---------------------------------------------------------------------------
// Go's own reader: every committed trace, goroutine by goroutine.

/// A `*.goreader` file of `tests/fixtures/trace_goreader.py`: what
/// `go tool trace -d=parsed` of Go 1.27 reports, restatements left out.
struct GoReader {
    reader: String,
    goroutines: usize,
    transitions: usize,
    created: u64,
    ended: u64,
    kinds: BTreeMap<String, usize>,
    sequences: BTreeMap<u64, (usize, u64)>,
    full: BTreeMap<u64, Vec<String>>,
}

fn go_reader(name: &str) -> GoReader {
    let text = String::from_utf8(fixture(&format!("{name}.goreader"))).unwrap();
    let mut e = GoReader {
        reader: String::new(),
        goroutines: 0,
        transitions: 0,
        created: 0,
        ended: 0,
        kinds: BTreeMap::new(),
        sequences: BTreeMap::new(),
        full: BTreeMap::new(),
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("seq ") {
            let (id, t) = rest.split_once(' ').unwrap();
            e.full
                .entry(id.parse().unwrap())
                .or_default()
                .push(t.to_owned());
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["reader", v] => e.reader = (*v).to_owned(),
            ["goroutines", n] => e.goroutines = n.parse().unwrap(),
            ["transitions", n] => e.transitions = n.parse().unwrap(),
            ["created", n] => e.created = n.parse().unwrap(),
            ["ended", n] => e.ended = n.parse().unwrap(),
            ["kind", k, n] => {
                e.kinds.insert((*k).to_owned(), n.parse().unwrap());
            }
            ["g", id, len, hash] => {
                e.sequences.insert(
                    id.parse().unwrap(),
                    (len.parse().unwrap(), u64::from_str_radix(hash, 16).unwrap()),
                );
            }
            _ => panic!("{name}.goreader: bad line {line:?}"),
        }
    }
    e
}

/// Every trace under `tests/fixtures` with Go's reader output beside it,
/// as paths relative to that directory.
fn traces_with_go_reader_output() -> Vec<String> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs = vec![root.clone()];
    let mut found = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Some(trace) = path.to_str().and_then(|p| p.strip_suffix(".goreader")) {
                let rel = std::path::Path::new(trace).strip_prefix(&root).unwrap();
                found.push(rel.to_str().unwrap().to_owned());
            }
        }
    }
    found.sort();
    found
}

/// What differs between leakscope and Go's reader on one trace.
fn differences_from_go_reader(name: &str) -> Vec<String> {
    let loaded = load_fixture(name);
    let t = trace(&loaded);
    let e = go_reader(name);
    let mut diffs = Vec::new();
    let mut ours_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut transitions = 0;
    let mut seen = 0;
    for g in t.goroutine_indices() {
        let id = t.goroutine(g).unwrap().id;
        let seq = reference_transitions(t, &loaded.table, g);
        transitions += seq.len();
        for s in &seq {
            let kind = s.split('[').next().unwrap().to_owned();
            *ours_kinds.entry(kind).or_default() += 1;
        }
        let ours = (seq.len(), fnv1a64(&seq.join("\n")));
        match e.sequences.get(&id) {
            Some(&want) if want == ours => seen += 1,
            Some(&want) => {
                seen += 1;
                let detail = match e.full.get(&id) {
                    Some(full) => {
                        let at = full.iter().zip(&seq).take_while(|(a, b)| a == b).count();
                        format!(
                            "first difference at transition {at}: Go {:?}, leakscope {:?}",
                            full.get(at),
                            seq.get(at)
                        )
                    }
                    None => format!("starts {:?}", seq.iter().take(8).collect::<Vec<_>>()),
                };
                diffs.push(format!(
                    "g{id}: Go's reader has {} transitions, leakscope {}; {detail}",
                    want.0,
                    seq.len()
                ));
            }
            None => diffs.push(format!("g{id}: not in Go's reader output")),
        }
    }
    if seen != e.sequences.len() {
        diffs.push(format!(
            "{} goroutines of Go's reader are missing",
            e.sequences.len() - seen
        ));
    }
    if ours_kinds != e.kinds {
        diffs.push(format!(
            "transitions per kind: Go {:?}, leakscope {ours_kinds:?}",
            e.kinds
        ));
    }
    let s = summarize(t, &loaded.table);
    let totals = (t.goroutines().len(), transitions, s.goroutines_created);
    let want = (e.goroutines, e.transitions, e.created);
    if totals != want || s.goroutines_ended != e.ended {
        diffs.push(format!(
            "(goroutines, transitions, created, ended): Go {:?}, leakscope {:?}",
            (want.0, want.1, want.2, e.ended),
            (totals.0, totals.1, totals.2, s.goroutines_ended)
        ));
    }
    if !t.warnings.is_empty() {
        diffs.push(format!("warnings on a valid capture: {:?}", t.warnings));
    }
    assert!(e.reader.starts_with("go1."), "{name}: reader {}", e.reader);
    diffs
}

#[test]
fn every_trace_fixture_equals_gos_own_reader() {
    let names = traces_with_go_reader_output();
    let releases = RELEASE_TRACES.map(|(dir, _)| format!("releases/{dir}/trace.out"));
    let named = [GO123, LEGACY].into_iter().chain(VARIANT_TRACES);
    for must in named.chain(releases.iter().map(String::as_str)) {
        assert!(names.iter().any(|n| n == must), "{must}: no .goreader");
    }
    let mut failures = Vec::new();
    for name in &names {
        let diffs = differences_from_go_reader(name);
        if !diffs.is_empty() {
            failures.push(format!(
                "{name}: {} differences from Go's reader (print a goroutine with \
                 `tests/fixtures/trace_goreader.py tests/fixtures/{name} --goroutine ID`):\n  {}",
                diffs.len(),
                diffs
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A file's bytes are handed to the parser, which cuts a Go 1.22+ trace
/// into its generations' own bytes (a legacy one into its Ps') and frees
/// each once replayed (`v2::second_pass`, `legacy::per_p_bytes`); lent
/// bytes (`load_bytes`) stay whole. Both must read the same trace, span
/// for span.
#[test]
fn a_trace_read_from_its_file_equals_its_bytes_lent() {
    let names = traces_with_go_reader_output();
    assert!(names.len() >= 5, "{names:?}");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in names {
        let options = LoadOptions::default();
        let owned = leakscope::formats::load_file(&root.join(&name), &options, &Progress::none())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let lent = load_fixture(&name);
        let (a, b) = (trace(&owned), trace(&lent));
        assert_eq!(a.goroutine_ids(), b.goroutine_ids(), "{name}");
        assert_eq!(a.span_count(), b.span_count(), "{name}");
        assert!(a.span_count() > 0, "{name}");
        for g in a.goroutine_indices() {
            let (sa, sb): (Vec<_>, Vec<_>) = (a.spans(g).collect(), b.spans(g).collect());
            assert_eq!(sa, sb, "{name}: goroutine {}", a.goroutine_ids()[g.index()]);
        }
        assert_eq!(a.event_counts, b.event_counts, "{name}");
        assert_eq!(
            format!("{:?}", a.warnings),
            format!("{:?}", b.warnings),
            "{name}"
        );
    }
}

/// Real captures of every Go release from 1.21 to 1.27
/// (`tests/fixtures/releases`, ground truth in its `GROUND_TRUTH.md`), with
/// the trace header each release writes: Go 1.24 writes "go 1.23", Go 1.27
/// "go 1.26".
const RELEASE_TRACES: [(&str, &str); 7] = [
    ("go1.21", "go1.21"),
    ("go1.22", "go1.22"),
    ("go1.23", "go1.23"),
    ("go1.24", "go1.23"),
    ("go1.25", "go1.25"),
    ("go1.26", "go1.26"),
    ("go1.27", "go1.26"),
];

/// Every release's trace ends at the ground truth's moment t2: the world's
/// goroutines, all created inside the window, blocked where the program
/// left them, under the reason a dump of t2 prints: each format's coarse
/// reason (`sync`, `forever`, `network`, or the legacy block event types)
/// made precise by the blocking stack.
#[test]
fn every_go_release_trace_ends_with_the_world_of_t2() {
    let stuck: [(&str, &str, usize); 13] = [
        ("main.sendResult", "chan send", 8),
        ("main.awaitReply", "chan receive", 5),
        ("main.waitLabelled", "chan receive", 5),
        ("main.poolWorker", "select", 4),
        ("main.waitAll", "sync.WaitGroup.Wait", 3),
        ("main.lockShared", "sync.Mutex.Lock", 2),
        ("main.lockOrphan", "sync.Mutex.Lock", 1),
        ("main.holdShared", "chan receive", 1),
        ("main.blockForever", "select (no cases)", 1),
        ("main.recvNil", "chan receive (nil chan)", 1),
        ("main.napper", "sleep", 1),
        ("main.acceptLoop", "IO wait", 1),
        ("main.readConn", "IO wait", 1),
    ];
    for (release, header) in RELEASE_TRACES {
        let name = format!("releases/{release}/trace.out");
        let loaded = load_fixture(&name);
        let t = trace(&loaded);
        assert_eq!(t.go_version, header, "{name}");
        assert_eq!(t.legacy, release == "go1.21", "{name}");
        assert!(t.warnings.is_empty(), "{name}: {:?}", t.warnings);
        let table = &loaded.table;
        let groups = trace_leaks(t, table);
        for (site, reason, count) in stuck {
            // By leak site: the labelled goroutines' entry is runtime/pprof.Do
            // or their own closure, depending on the release's inlining.
            let at_site: Vec<&TraceLeakGroup> = groups
                .iter()
                .filter(|g| {
                    leak_site(table, g.blocking_stack).map(|f| table.function(f)) == Some(site)
                })
                .collect();
            let n: usize = at_site.iter().map(|g| g.goroutines.len()).sum();
            assert_eq!(n, count, "{name}: {site}");
            assert!(
                at_site
                    .iter()
                    .all(|g| g.state == GoState::Waiting
                        && WaitReason::known(reason) == Some(g.reason)),
                "{name}: {site}"
            );
        }
        // Eight rounds of twelve short-lived goroutines, all ended.
        assert_eq!(summarize(t, &loaded.table).goroutines_ended, 96, "{name}");
    }
}

#[test]
fn go126_truncated_anywhere_loads_partially_or_fails_cleanly() {
    truncations("releases/go1.27/trace.out");
}

#[test]
fn go126_with_flipped_bytes_never_panics() {
    corruptions("releases/go1.27/trace.out");
}

#[test]
fn another_programs_traces_show_where_each_goroutine_is_stuck() {
    // (entry function, reason, goroutines): the trace's coarse `sync` and
    // `forever` made precise by the blocking stack, as a dump names them.
    let stuck: [(&str, &str, usize); 14] = [
        (
            "example.org/acme/svc%2ev2.(*Pool[...]).Get",
            "sync.Cond.Wait",
            3,
        ),
        ("main.labelled", "chan receive", 3),
        ("main.reader", "sync.RWMutex.RLock", 2),
        ("main.writer", "sync.Mutex.Lock", 1), // waits for the RWMutex's writer mutex
        ("main.holdWrite", "chan receive", 1),
        ("main.nilRecv", "chan receive (nil chan)", 1),
        ("main.nilSend", "chan send (nil chan)", 1),
        ("main.noCases", "select (no cases)", 1),
        ("main.pinned", "chan receive", 1),
        ("main.recurse", "chan receive", 1),
        ("main.spawnChild", "chan receive", 1),
        ("main.worker", "chan receive", 1),
        ("main.churn.func1", "", 0),
        ("main.churn.func2", "", 0),
    ];
    for name in VARIANT_TRACES {
        let loaded = load_fixture(name);
        let t = trace(&loaded);
        let table = &loaded.table;
        let groups = trace_leaks(t, table);
        for (entry, reason, count) in stuck {
            let found = find_group(&groups, entry, reason);
            if count == 0 {
                // The churn goroutines all ended: no group of theirs is left.
                assert!(
                    groups.iter().all(|g| g.entry_function != entry),
                    "{name}: {entry} should have ended"
                );
                continue;
            }
            let g = found.unwrap_or_else(|| panic!("{name}: no group {entry} / {reason}"));
            assert_eq!(g.goroutines.len(), count, "{name}: {entry}");
            assert_eq!(g.state, GoState::Waiting, "{name}: {entry}");
            for &gi in &g.goroutines {
                let c = t.creation(gi).expect("created in the window");
                let creator = c.creator.and_then(|cr| t.goroutine(cr)).expect("a creator");
                let created_by = table
                    .frames(c.creator_stack)
                    .next()
                    .map(|f| table.function(f));
                let want = if entry == "main.worker" {
                    "main.spawnChild"
                } else {
                    "main.setup"
                };
                assert_eq!(created_by, Some(want), "{name}: {entry} created by");
                assert!(creator.id > 0);
            }
        }
        // The recursion's blocking stack is all there: 120 frames of
        // main.recurse under its entry.
        let r = find_group(&groups, "main.recurse", "chan receive").unwrap();
        let depth = table
            .frames(r.blocking_stack)
            .filter(|&f| table.function(f) == "main.recurse")
            .count();
        assert_eq!(depth, 121, "{name}");
        // Twenty churn goroutines ran, blocked on the mutex or slept, and ended.
        let s = summarize(t, table);
        assert_eq!(s.goroutines_ended, 20, "{name}");
        let churned: Vec<_> = t
            .goroutine_indices()
            .filter(|&g| {
                t.creation(g).is_some_and(|c| {
                    table
                        .leaf(c.start_stack)
                        // func1 or func2: compilers number closures differently.
                        .is_some_and(|f| table.function(f).starts_with("main.churn.func"))
                })
            })
            .collect();
        assert_eq!(churned.len(), 20, "{name}");
        assert!(churned.iter().all(|&g| t.end_ns(g).is_some()), "{name}");
        // The legacy format marks a syscall that did not block as an
        // instant (GoSysCall, counted against the reference above), so
        // only the new format has a syscall span for each.
        if !t.legacy {
            let syscalls = churned
                .iter()
                .filter(|&&g| t.spans(g).any(|sp| sp.state == GoState::Syscall))
                .count();
            assert_eq!(
                syscalls, 20,
                "{name}: every churn goroutine read /proc/self/stat"
            );
        }
    }
}

#[test]
fn blocking_points_know_their_unblocker() {
    let loaded = load_fixture(GO123);
    let t = trace(&loaded);
    let mut with_unblocker = 0;
    for g in t.goroutine_indices() {
        for b in t.blocking_points(g) {
            assert!(b.duration_ns >= 0);
            if let Some(u) = b.unblocker {
                assert!(b.unblocked);
                assert_ne!(u, g);
                assert!(t.goroutine(u).is_some());
                with_unblocker += 1;
            }
        }
    }
    assert!(with_unblocker > 1000, "{with_unblocker}");
}

#[test]
fn spans_are_sorted_and_binary_searchable() {
    let loaded = load_fixture(GO123);
    let t = trace(&loaded);
    for g in t.goroutine_indices() {
        let spans: Vec<_> = t.spans(g).collect();
        assert!(!spans.is_empty());
        for w in spans.windows(2) {
            assert!(w[0].start_ns <= w[1].start_ns);
            assert_eq!(w[0].end_ns, w[1].start_ns);
        }
        let last = spans.last().unwrap();
        assert_eq!(last.end_ns, t.window.end_ns.max(last.start_ns));
        for (i, s) in spans.iter().enumerate() {
            if s.start_ns < s.end_ns {
                let mid = s.start_ns + (s.end_ns - s.start_ns) / 2;
                assert_eq!(t.span_index_at(g, mid), Some(i));
            }
        }
        let r = t.span_range(g, t.window.start_ns, t.window.end_ns);
        assert_eq!(r.len(), spans.len());
        if spans[0].cause == SpanCause::AtTraceStart {
            assert_eq!(spans[0].start_ns, t.window.start_ns);
        }
    }
    // Running spans know their P, and P lanes come out of them.
    let lanes = t.p_lanes();
    let max_p = t.procs.iter().map(|p| p.p).max().unwrap();
    assert!(lanes.procs().count() > 0);
    for p in lanes.procs() {
        assert!(p <= max_p);
        let runs = lanes.runs(p);
        let spans: Vec<_> = runs
            .iter()
            .map(|&(g, i)| t.span(g, i as usize).unwrap())
            .collect();
        assert!(
            spans
                .iter()
                .all(|s| s.state == GoState::Running && s.p == Some(p))
        );
        assert!(spans.windows(2).all(|w| w[0].start_ns <= w[1].start_ns));
        let mid = t.window.start_ns + (t.window.end_ns - t.window.start_ns) / 2;
        let visible = lanes.runs_in(t, p, mid, mid + 1_000_000);
        for &(g, i) in visible {
            let s = t.span(g, i as usize).unwrap();
            assert!(s.end_ns >= mid && s.start_ns <= mid + 1_000_000);
        }
    }
}

#[test]
fn cross_index_finds_goroutines_by_start_blocking_and_creator_stack() {
    let loaded = load_fixture(GO123);
    let t = trace(&loaded);
    let table = &loaded.table;
    let groups = trace_leaks(t, table);
    let q = find_group(&groups, "main.querySearchBackend", "chan send").unwrap();
    let ix = CrossIndex::build(t);

    let by_block = ix.find_stacks(t, &[q.blocking_stack]);
    assert_eq!(by_block.len(), 10);
    assert!(by_block.iter().all(|m| m.by_blocking && !m.by_start));
    assert!(by_block.iter().all(|m| m.creation.is_some()));
    assert!(by_block.iter().all(|m| {
        !m.blocking_points.is_empty()
            && m.blocking_points
                .iter()
                .all(|b| b.stack == q.blocking_stack)
    }));

    let by_start = ix.find_stacks(t, &[q.start_stack]);
    assert!(by_start.len() >= 10);
    assert!(by_start.iter().all(|m| m.by_start));

    let by_creator = ix.find(t, |s| s == q.creation_stack);
    assert!(!by_creator.is_empty());
    assert!(by_creator.iter().all(|m| m.by_creator));

    // A dump of the same goroutine has runtime frames above the trace's
    // blocking stack; matching by "outer part" finds it.
    let mut table = loaded.table.clone();
    let park = table.intern_frame("runtime.gopark", "runtime/proc.go", 424);
    let send = table.intern_frame("runtime.chansend", "runtime/chan.go", 259);
    let with_send = table.child(q.blocking_stack, send);
    let dump_stack = table.child(with_send, park);
    let by_dump = ix.find(t, |s| stack_is_outer_part(&table, s, dump_stack, 4));
    assert_eq!(
        by_dump.iter().filter(|m| m.by_blocking).count(),
        10,
        "dump-shaped stack"
    );
    // The same goroutines as a pprof goroutine profile shows them (runtime
    // frames inside, runtime.goexit outside) and as debug=2 prints them
    // (no runtime frames at all).
    let exit = table.intern_frame("runtime.goexit", "runtime/asm_amd64.s", 1700);
    let mut frames: Vec<_> = table.frames(dump_stack).collect();
    frames.push(exit);
    let pprof_stack = table.intern_inner_first(&frames);
    let outer_only = table.parent(q.blocking_stack);
    // The debug=2 shape also finds the 30 goroutines blocked there since
    // before the window: their status stacks include runtime.gopark and
    // runtime.chansend (the fixture's 40 goroutines in chan send).
    for (shape, stack, want) in [("pprof", pprof_stack, 10), ("debug=2", outer_only, 40)] {
        let found = ix.find(t, |s| same_call_path(&table, s, stack, 4));
        let blocked: Vec<_> = found.iter().filter(|m| m.by_blocking).collect();
        assert_eq!(blocked.len(), want, "{shape}-shaped stack");
        assert!(
            q.goroutines
                .iter()
                .all(|g| blocked.iter().any(|m| m.goroutine == *g))
        );
    }
}

#[test]
fn a_session_shares_stacks_between_trace_and_other_inputs() {
    let a = load_fixture(LEGACY);
    let b = load_fixture(GO123);
    let mut session = Session::default();
    session.add(&a.table, a.input);
    let groups_before = trace_leaks(trace(&b), &b.table);
    let q_before = find_group(&groups_before, "main.consumeEvents", "chan receive")
        .unwrap()
        .clone();
    session.add(&b.table, b.input);
    let traces: Vec<&Trace> = session.traces().collect();
    assert_eq!(traces.len(), 2);
    let t = traces[1];
    let groups = trace_leaks(t, &session.stacks);
    let q = find_group(&groups, "main.consumeEvents", "chan receive").unwrap();
    assert_eq!(q.goroutines, q_before.goroutines);
    assert_eq!(
        session.stacks.depth(q.blocking_stack),
        b.table.depth(q_before.blocking_stack)
    );
    // Both traces block consumeEvents at the same frames: one stack id.
    let legacy = trace_leaks(traces[0], &session.stacks);
    let l = find_group(&legacy, "main.consumeEvents", "chan receive").unwrap();
    let frames = |s| {
        session
            .stacks
            .frames(s)
            .map(|f| session.stacks.function(f).to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(frames(l.blocking_stack)[1..], frames(q.blocking_stack)[1..]);
    assert!(matches!(*session.inputs[1], Input::Trace(_)));
}

// ---------------------------------------------------------------------------
// Synthetic traces for format versions without a fixture.

/// g1 existed (running), creates g5 and blocks; g5 runs, unblocks g1,
/// enters a syscall that loses its P; g1 runs and exits. g7 waits the whole
/// time. Generation 2 restates and runs g5 once more.
fn synthetic(minor: u32) -> Vec<u8> {
    let status = |p: &mut Vec<u8>, g: u64, m: u64, st: u64, stack: u64| {
        if minor >= 23 {
            ev(p, 48, &[1, g, m, st, stack]);
        } else {
            ev(p, 25, &[1, g, m, st]);
        }
    };
    let mut b = V2::new(minor);
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]); // ProcStatus P0 running
    status(&mut p, 1, 1, 2, 1); // g1 running
    ev(&mut p, 14, &[10, 5, 2, 1]); // GoCreate g5
    ev(&mut p, 20, &[10, 1, 3]); // GoBlock "chan receive"
    ev(&mut p, 16, &[10, 5, 1]); // GoStart g5
    ev(&mut p, 21, &[10, 1, 1, 0]); // GoUnblock g1
    ev(&mut p, 22, &[10, 1, 0]); // GoSyscallBegin
    ev(&mut p, 24, &[10]); // GoSyscallEndBlocked
    ev(&mut p, 10, &[10, 0, 2]); // ProcStart P0
    ev(&mut p, 16, &[10, 1, 2]); // GoStart g1
    ev(&mut p, 17, &[10]); // GoDestroy
    b.batch(1, 1, 1000, &p);
    let mut p = Vec::new();
    status(&mut p, 7, u64::MAX, 4, 3); // g7 waiting
    b.batch(1, u64::MAX, 1200, &p);
    b.tables(1, minor);
    if minor >= 26 {
        b.end_generation();
    }
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]);
    ev(&mut p, 25, &[1, 5, u64::MAX, 1]); // g5 runnable (restated)
    ev(&mut p, 16, &[10, 5, 1]); // GoStart g5
    ev(&mut p, 40, &[1, 7, 0, 4, 0]); // UserTaskBegin 7 "main.worker"
    ev(&mut p, 42, &[1, 7, 3, 0]); // UserRegionBegin "main.go"
    ev(&mut p, 44, &[1, 7, 1, 2, 0]); // UserLog "chan receive" = "main.main"
    ev(&mut p, 43, &[1, 7, 3, 0]); // UserRegionEnd
    ev(&mut p, 41, &[1, 7, 0]); // UserTaskEnd
    ev(&mut p, 29, &[1, 1, 0]); // GCBegin
    ev(&mut p, 26, &[1, 4, 0]); // STWBegin
    ev(&mut p, 27, &[1]); // STWEnd
    ev(&mut p, 30, &[1, 1]); // GCEnd
    b.batch(2, 2, 2000, &p);
    let mut p = Vec::new();
    status(&mut p, 7, u64::MAX, 4, 3);
    b.batch(2, u64::MAX, 2100, &p);
    b.tables(2, minor);
    if minor >= 26 {
        b.end_generation();
    }
    b.out
}

fn check_synthetic(minor: u32) {
    let loaded = load(&synthetic(minor)).unwrap();
    let t = trace(&loaded);
    let table = &loaded.table;
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(t.go_version, format!("go1.{minor}"));
    let seq = |id: u64| reference_transitions(t, table, t.find_goroutine(id).unwrap());
    assert_eq!(
        seq(1),
        [
            "Undetermined->Running[]",
            "Running->Waiting[chan receive]",
            "Waiting->Runnable[]",
            "Runnable->Running[]",
            "Running->NotExist[]"
        ]
    );
    assert_eq!(
        seq(5),
        [
            "NotExist->Runnable[]",
            "Runnable->Running[]",
            "Running->Syscall[]",
            "Syscall->Runnable[]",
            "Runnable->Running[]"
        ]
    );
    assert_eq!(seq(7), ["Undetermined->Waiting[]"]);
    let g1 = t.find_goroutine(1).unwrap();
    let g5 = t.find_goroutine(5).unwrap();
    let c = t.creation(g5).unwrap();
    assert_eq!(c.creator, Some(g1));
    assert_eq!(c.creator_id, Some(1));
    assert_eq!(c.time_ns, 1011);
    assert_eq!(
        table.function(table.leaf(c.creator_stack).unwrap()),
        "main.main"
    );
    assert_eq!(
        table.function(table.leaf(c.start_stack).unwrap()),
        "main.worker"
    );
    let b: Vec<_> = t.blocking_points(g1).collect();
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].time_ns, b[0].duration_ns), (1021, 20));
    assert_eq!(b[0].unblocker, Some(g5));
    assert_eq!(t.end_ns(g1), Some(1091));
    assert_eq!(t.window.start_ns, 1000);
    assert_eq!(t.span(g5, 1).unwrap().p, Some(0));
    assert_eq!(t.window.end_ns, 2101);

    assert_eq!(t.tasks.len(), 1);
    let task = t.tasks[0];
    assert_eq!(
        (task.id, task.start_ns, task.end_ns),
        (7, Some(2012), Some(2016))
    );
    assert_eq!(
        (task.goroutine, table.str(task.name)),
        (Some(g5), "main.worker")
    );
    assert_eq!(t.regions.len(), 1);
    let r = t.regions[0];
    assert_eq!((r.start_ns, r.end_ns, r.task), (Some(2013), Some(2015), 7));
    assert_eq!((r.goroutine, table.str(r.name)), (Some(g5), "main.go"));
    assert_eq!(t.logs.len(), 1);
    let l = t.logs[0];
    assert_eq!(
        (l.time_ns, table.str(l.key), table.str(l.value)),
        (2014, "chan receive", "main.main")
    );
    assert_eq!(t.gc.len(), 1);
    assert_eq!((t.gc[0].start_ns, t.gc[0].end_ns), (2017, 2020));
    assert_eq!(t.stw.len(), 1);
    assert_eq!((t.stw[0].start_ns, t.stw[0].end_ns), (2018, 2019));
    assert_eq!(table.str(t.stw[0].kind), "main.worker");
    // P0 ran on thread 1 until its syscall lost it, again from 1071 to the
    // generation end, then on thread 2.
    let procs: Vec<_> = t
        .procs
        .iter()
        .map(|p| (p.p, p.m, p.start_ns, p.end_ns))
        .collect();
    assert_eq!(
        procs,
        [
            (0, Some(1), 1000, 1061),
            (0, Some(1), 1071, 1201),
            (0, Some(2), 2000, 2101)
        ]
    );

    let s = summarize(t, table);
    let g7_reason = if minor >= 23 {
        "chan receive"
    } else {
        "unknown"
    };
    assert_eq!(s.blocked_at_end.get(g7_reason), Some(&1), "{s:?}");
}

#[test]
fn synthetic_go122_trace() {
    check_synthetic(22);
}

#[test]
fn synthetic_go123_trace() {
    check_synthetic(23);
}

#[test]
fn synthetic_go125_trace_with_sync_batches() {
    check_synthetic(25);
}

/// Go 1.26 and 1.27 write the "go 1.26" format: the Go 1.25 events plus an
/// in-band end-of-generation marker after every generation.
#[test]
fn synthetic_go126_trace_with_end_of_generation_markers() {
    check_synthetic(26);
    let loaded = load(&synthetic(26)).unwrap();
    let counts: BTreeMap<&str, u64> = trace(&loaded).event_counts.iter().copied().collect();
    assert_eq!(counts.get("EndOfGeneration"), Some(&2));
    assert_eq!(counts.get("EventBatch"), Some(&10));
}

/// Where Go 1.26 traces differ from Go 1.25 ones at generation boundaries.
#[test]
fn go126_generations_end_at_their_marker() {
    let full = synthetic(26);
    let pos = full.iter().rposition(|&b| b == 52).unwrap();
    assert_eq!(pos, full.len() - 1, "the file ends with the marker");

    // Without its last marker the last generation was cut off: kept, and said.
    let cut = load(&full[..full.len() - 1]).unwrap();
    let t = trace(&cut);
    assert_eq!(t.warnings.count("trace-truncated"), 1, "{:?}", t.warnings);
    assert_eq!(t.goroutines().len(), 3);
    assert_eq!(t.tasks.len(), 1, "the last generation's events are kept");

    // After a marker the next generation may carry any number (a flight
    // recorder's snapshot starts wherever its ring does); Go's reader only
    // checks that batches of one generation agree.
    let mut b = V2::new(26);
    let mut p = Vec::new();
    ev(&mut p, 16, &[10, 9, 1]); // GoStart g9 (created before: a status in gen 7)
    b.batch(7, 1, 100, &{
        let mut q = Vec::new();
        ev(&mut q, 25, &[1, 9, u64::MAX, 1]); // g9 runnable
        q.extend_from_slice(&p);
        q
    });
    b.tables(7, 26);
    b.end_generation();
    let mut p = Vec::new();
    ev(&mut p, 25, &[1, 9, 2, 2]); // g9 still running
    ev(&mut p, 20, &[10, 1, 3]); // GoBlock "chan receive"
    b.batch(12, 2, 300, &p);
    b.tables(12, 26);
    b.end_generation();
    let loaded = load(&b.out).unwrap();
    let t = trace(&loaded);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    let g9 = t.find_goroutine(9).unwrap();
    assert_eq!(
        reference_transitions(t, &loaded.table, g9),
        [
            "Undetermined->Runnable[]",
            "Runnable->Running[]",
            "Running->Waiting[chan receive]"
        ]
    );

    // A generation whose marker is missing before the next one begins is
    // kept whole, with a warning.
    let mut joined = synthetic(26);
    let first_marker = joined.iter().position(|&b| b == 52).unwrap();
    joined.remove(first_marker);
    let loaded = load(&joined).unwrap();
    let t = trace(&loaded);
    assert_eq!(
        t.warnings.count("trace-missing-end-of-generation"),
        1,
        "{:?}",
        t.warnings
    );
    let whole = load(&synthetic(26)).unwrap();
    assert_eq!(t.events, trace(&whole).events);

    // Go 1.25 knows no marker: the byte is where a batch should begin.
    let mut b = V2::new(25);
    b.tables(1, 25);
    b.end_generation();
    let loaded = load(&b.out);
    let said = match &loaded {
        Ok(l) => format!("{:?}", trace(l).warnings),
        Err(e) => e.to_string(),
    };
    assert!(said.contains("found byte 52"), "{said}");
}

/// Threads' clocks do not order events; sequence numbers and generations
/// do, as in Go's reader. Thread 1 unblocks g5 (step 2) stamped before
/// thread 2 starts it (step 1) and it blocks; the generation's closing
/// status of g7 is stamped after generation 2 unblocked g7.
#[test]
fn sequence_numbers_and_generations_order_transitions_not_clocks() {
    let mut b = V2::new(23);
    let mut p = Vec::new();
    ev(&mut p, 48, &[0, 1, 1, 2, 0]); // g1 running
    ev(&mut p, 21, &[10, 5, 2, 0]); // t=110: GoUnblock g5, step 2
    b.batch(1, 1, 100, &p);
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]); // P0 running
    ev(&mut p, 48, &[0, 5, 2, 1, 0]); // t=90: g5 runnable
    ev(&mut p, 16, &[15, 5, 1]); // t=105 (behind thread 1): GoStart g5, step 1
    ev(&mut p, 20, &[10, 1, 3]); // t=115: GoBlock "chan receive"
    b.batch(1, 2, 90, &p);
    let mut p = Vec::new();
    ev(&mut p, 48, &[0, 7, u64::MAX, 4, 3]); // t=500: g7 waiting, stamped late
    b.batch(1, u64::MAX, 500, &p);
    b.tables(1, 23);
    let mut p = Vec::new();
    ev(&mut p, 48, &[0, 1, 1, 2, 0]); // t=400: g1 running
    ev(&mut p, 48, &[1, 7, u64::MAX, 4, 0]); // g7 waiting
    ev(&mut p, 21, &[1, 7, 1, 0]); // GoUnblock g7
    ev(&mut p, 48, &[1, 5, u64::MAX, 1, 0]); // g5 still runnable
    b.batch(2, 1, 400, &p);
    b.tables(2, 23);
    let loaded = load(&b.out).unwrap();
    let t = trace(&loaded);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    let seq = |id: u64| reference_transitions(t, &loaded.table, t.find_goroutine(id).unwrap());
    assert_eq!(
        seq(5),
        [
            "Undetermined->Runnable[]",
            "Runnable->Running[]",
            "Running->Waiting[chan receive]",
            "Waiting->Runnable[]"
        ]
    );
    assert_eq!(seq(7), ["Undetermined->Waiting[]", "Waiting->Runnable[]"]);
    // Spans keep time order: a step stamped before the one it follows
    // starts where that one did.
    let g5 = t.find_goroutine(5).unwrap();
    let starts: Vec<i64> = t.spans(g5).map(|s| s.start_ns).collect();
    assert_eq!(starts, [90, 105, 115, 115]);
    let g7 = t.find_goroutine(7).unwrap();
    let starts: Vec<i64> = t.spans(g7).map(|s| s.start_ns).collect();
    assert_eq!(starts, [90, 402]);

    // A step whose predecessor never comes (a damaged generation) is
    // placed by time and counted, never waited for.
    let mut b = V2::new(23);
    let mut p = Vec::new();
    ev(&mut p, 48, &[0, 1, 1, 2, 0]); // g1 running
    ev(&mut p, 48, &[1, 5, u64::MAX, 4, 0]); // g5 waiting
    ev(&mut p, 21, &[1, 5, 3, 0]); // GoUnblock g5, step 3 of 1
    ev(&mut p, 20, &[1, 1, 3]); // GoBlock g1
    b.batch(1, 1, 100, &p);
    b.tables(1, 23);
    let loaded = load(&b.out).unwrap();
    let t = trace(&loaded);
    assert_eq!(t.warnings.count("trace-unordered"), 1, "{:?}", t.warnings);
    let seq = |id: u64| reference_transitions(t, &loaded.table, t.find_goroutine(id).unwrap());
    assert_eq!(seq(5), ["Undetermined->Waiting[]", "Waiting->Runnable[]"]);
    assert_eq!(
        seq(1),
        ["Undetermined->Running[]", "Running->Waiting[chan receive]"]
    );
}

/// `tests/fixtures/ordering` (made by its `make.sh`): a real Go 1.23
/// capture, a new generation as often as the tracer could make one, in
/// which the goroutines `.inversions` lists have events stamped earlier
/// than their status closing the generation before (`inversions.py` finds
/// them in Go's wire dump). Sorted by time, their transitions contradicted
/// each other (`trace-inconsistent`); in Go's order they equal Go's reader.
#[test]
fn a_capture_whose_clocks_contradict_its_generations_reads_like_gos_reader() {
    let name = "ordering/trace-go123-generations.out";
    let listed: Vec<u64> = String::from_utf8(fixture(&format!("{name}.inversions")))
        .unwrap()
        .lines()
        .map(|l| {
            let id = l.strip_prefix("g ").and_then(|r| r.split(':').next());
            id.and_then(|i| i.parse().ok())
                .unwrap_or_else(|| panic!("bad line {l:?}"))
        })
        .collect();
    assert!(!listed.is_empty());
    let loaded = load_fixture(name);
    let t = trace(&loaded);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(differences_from_go_reader(name), Vec::<String>::new());
    for id in listed {
        let g = t.find_goroutine(id).unwrap();
        let spans: Vec<_> = t.spans(g).collect();
        assert!(spans.windows(2).all(|w| w[0].start_ns <= w[1].start_ns));
        assert!(spans.iter().all(|s| s.cause != SpanCause::Status), "g{id}");
    }
}

#[test]
fn go122_rejects_go123_event_types_softly() {
    let mut b = V2::new(22);
    let mut p = Vec::new();
    ev(&mut p, 16, &[1, 9, 1]); // GoStart g9
    ev(&mut p, 48, &[1, 9, 1, 2, 0]); // GoStatusStack: not in Go 1.22
    ev(&mut p, 17, &[1]);
    b.batch(1, 1, 100, &p);
    b.tables(1, 22);
    let loaded = load(&b.out).unwrap();
    let t = trace(&loaded);
    assert_eq!(t.warnings.count("trace-unknown-event"), 1);
    assert_eq!(t.goroutines().len(), 1);
}

#[test]
fn unsupported_and_foreign_headers_fail_with_a_clear_error() {
    // Go 1.27 still writes "go 1.26"; a newer header is a format we do not know.
    for minor in [27, 28, 31] {
        let mut newer = format!("go 1.{minor} trace\0\0\0").into_bytes();
        newer.push(1);
        let err = load(&newer).unwrap_err();
        assert!(
            matches!(err, FormatError::UnsupportedVersion { .. }),
            "{err}"
        );
        let said = err.to_string();
        assert!(said.contains(&format!("go 1.{minor}")), "{said}");
        assert!(said.contains("go 1.26"), "names the newest known: {said}");
    }
    let err = load(b"go 1.9 trace\0\0\0\0\x01").unwrap_err();
    assert!(
        matches!(err, FormatError::UnsupportedVersion { .. }),
        "{err}"
    );
    let err = load(b"go 1.23 trace\0\0\0").unwrap_err();
    assert!(matches!(err, FormatError::NothingFound { .. }), "{err}");
}

// ---------------------------------------------------------------------------
// Damaged files: never a panic, never a hang, and say what was dropped.

/// A deterministic PRNG (SplitMix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What a damaged input gave, computed on a worker so a hang is caught.
struct Outcome {
    result: Result<(u64, u64, bool), String>,
}

fn parse_guarded(data: Vec<u8>, what: String) -> Outcome {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = load(&data).map(|l| {
            let t = l.input.as_trace().expect("a trace");
            let sorted = t.goroutine_indices().all(|g| {
                let spans: Vec<_> = t.spans(g).collect();
                spans.windows(2).all(|w| w[0].start_ns <= w[1].start_ns)
            });
            let summary = summarize(t, &l.table);
            let _ = trace_leaks(t, &l.table);
            let _ = CrossIndex::build(t);
            (t.events, summary.goroutines_created, sorted)
        });
        let _ = tx.send(Outcome {
            result: result.map_err(|e| e.to_string()),
        });
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: the parser hangs"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the parser panicked"),
    }
}

fn truncations(name: &str) {
    let data = fixture(name);
    let full = trace(&load_fixture(name)).events;
    let mut cuts: Vec<usize> = batch_offsets(&data);
    assert!(cuts.len() >= 6, "{name}: {} batches", cuts.len());
    let mut rng = Rng(0x5eed ^ data.len() as u64);
    cuts.extend((0..200).map(|_| rng.below(data.len())));
    let mut partial = 0;
    for cut in cuts {
        let what = format!("{name} cut at {cut}");
        let out = parse_guarded(data[..cut].to_vec(), what.clone());
        if let Ok((events, _, sorted)) = out.result {
            assert!(events <= full, "{what}");
            assert!(sorted, "{what}: spans out of order");
            partial += 1;
        }
    }
    assert!(
        partial > 100,
        "{name}: only {partial} cuts loaded partially"
    );
}

#[test]
fn go123_truncated_anywhere_loads_partially_or_fails_cleanly() {
    truncations(GO123);
}

#[test]
fn legacy_truncated_anywhere_loads_partially_or_fails_cleanly() {
    truncations(LEGACY);
}

#[test]
fn truncated_traces_say_what_was_dropped() {
    for name in [GO123, LEGACY] {
        let data = fixture(name);
        let cut = &data[..data.len() * 2 / 3];
        let loaded = load(cut).unwrap();
        let t = trace(&loaded);
        assert!(t.events > 0);
        assert!(
            t.warnings.count("trace-truncated") == 1,
            "{name}: {:?}",
            t.warnings
        );
        let said: Vec<String> = t.warnings.iter().map(|w| w.to_string()).collect();
        assert!(said.iter().any(|w| w.contains("cut off")), "{said:?}");
    }
    // A v2 trace cut inside its last generation keeps what it can of it.
    let data = fixture(GO123);
    let offsets = batch_offsets(&data);
    let cut = offsets[offsets.len() - 3];
    let t_loaded = load(&data[..cut]).unwrap();
    let t = trace(&t_loaded);
    assert_eq!(
        t.warnings.count("trace-incomplete-generation"),
        1,
        "{:?}",
        t.warnings
    );
}

fn corruptions(name: &str) {
    let data = fixture(name);
    let mut rng = Rng(0xbad ^ data.len() as u64);
    // More rounds for a longer local sweep: LEAKSCOPE_FUZZ_ROUNDS=5000.
    let rounds = std::env::var("LEAKSCOPE_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    for round in 0..rounds {
        let mut bad = data.clone();
        let flips = 1 + rng.below(6);
        for _ in 0..flips {
            let at = 16 + rng.below(bad.len() - 16);
            bad[at] ^= 1 + rng.below(255) as u8;
        }
        let out = parse_guarded(bad, format!("{name} corruption round {round}"));
        if let Ok((_, _, sorted)) = out.result {
            assert!(sorted, "{name} round {round}: spans out of order");
        }
    }
    // Damaged headers too.
    for at in 0..16 {
        let mut bad = data.clone();
        bad[at] ^= 0x55;
        let _ = parse_guarded(bad, format!("{name} header byte {at}"));
    }
}

#[test]
fn go123_with_flipped_bytes_never_panics() {
    corruptions(GO123);
}

#[test]
fn legacy_with_flipped_bytes_never_panics() {
    corruptions(LEGACY);
}

#[test]
fn limits_are_enforced() {
    let data = fixture(GO123);
    let mut options = LoadOptions::default();
    options.limits.max_trace_spans = 1000;
    let err = load_bytes("x", &data, &options, &Progress::none()).unwrap_err();
    assert!(matches!(err, FormatError::Limit { .. }), "{err}");
    let mut options = LoadOptions::default();
    options.limits.max_goroutines = 10;
    let err = load_bytes("x", &data, &options, &Progress::none()).unwrap_err();
    assert!(matches!(err, FormatError::Limit { .. }), "{err}");
}

#[test]
fn gzipped_traces_load() {
    use std::io::Write as _;
    let data = fixture(LEGACY);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    let loaded = load(&gz.finish().unwrap()).unwrap();
    assert_eq!(trace(&loaded).events, expected(LEGACY).events);
    let _ = StackTable::default();
}

#[test]
fn stacks_at_the_end_are_the_goroutines_alive_when_the_window_closed() {
    use leakscope::analysis::trace::stacks_at_end;
    for name in [GO123, LEGACY] {
        let loaded = load_fixture(name);
        let t = trace(&loaded);
        let table = &loaded.table;
        let stacks = stacks_at_end(t);
        let total: u64 = stacks.iter().map(|&(_, n)| n).sum();
        assert_eq!(total, summarize(t, table).alive_at_end, "{name}");
        // Every goroutine blocked at the end is in its blocking stack.
        for g in t.goroutine_indices() {
            let last = t.final_span(g).unwrap();
            if last.state == GoState::Waiting && !last.stack.is_empty() {
                assert!(
                    stacks.iter().any(|&(s, _)| s == last.stack),
                    "{name}: g{}",
                    t.goroutine(g).unwrap().id
                );
            }
        }
        // The search leak's goroutines wait in the runtime's channel send
        // under their entry (the stacks of blocks in the window start at
        // runtime.chansend1, those of status events at runtime.gopark).
        let search: u64 = stacks
            .iter()
            .filter(|&&(s, _)| {
                let frames: Vec<&str> = table.frames(s).map(|f| table.function(f)).collect();
                frames.last() == Some(&"main.querySearchBackend")
                    && frames.first().is_some_and(|f| f.starts_with("runtime."))
            })
            .map(|&(_, n)| n)
            .sum();
        let want = if name == GO123 { 40 } else { 10 };
        assert_eq!(search, want, "{name}");
    }
}
