//! The pprof protobuf loader, end to end through `load_bytes` (gunzip and
//! format detection included).
//!
//! What belongs here: assertions on the real profiles in `tests/fixtures/`
//! against `tests/fixtures/MANIFEST.md` (goroutine counts and labels,
//! profile types, the top of the heap, CPU, mutex and threadcreate profiles),
//! small synthetic profiles built with the prost messages for what the
//! fixtures do not show (inlining, bad ids, deep stacks, sparse ids), and
//! damaged input: every fixture cut short and bit-flipped must give `Ok` or
//! `Err`, never a panic or a hang.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::io::Read as _;
use std::path::PathBuf;

use leakscope::formats::pprof::proto;
use leakscope::formats::{FormatError, LoadOptions, Loaded, load_bytes};
use leakscope::model::{
    Goroutine, LabelSetId, LabelValue, ProfileType, Snapshot, StackId, StackTable, StateKind,
};
use leakscope::progress::Progress;
use prost::Message as _;

const PPROF_FIXTURES: [&str; 10] = [
    "goroutine-t0.pb.gz",
    "goroutine-t1.pb.gz",
    "goroutine-t2.pb.gz",
    "goroutine-t3.pb.gz",
    "heap.pb.gz",
    "allocs.pb.gz",
    "cpu.pb.gz",
    "block.pb.gz",
    "mutex.pb.gz",
    "threadcreate.pb.gz",
];

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The protobuf inside a fixture's gzip.
fn fixture_raw(name: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&fixture_bytes(name)[..])
        .read_to_end(&mut raw)
        .unwrap();
    raw
}

fn load_with(name: &str, bytes: &[u8], options: &LoadOptions) -> Result<Loaded, FormatError> {
    load_bytes(name, bytes, options, &Progress::none())
}

fn load(name: &str) -> Loaded {
    load_with(name, &fixture_bytes(name), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn snapshot(loaded: &Loaded) -> &Snapshot {
    loaded.input.as_snapshot().expect("a snapshot")
}

fn functions(table: &StackTable, stack: StackId) -> Vec<&str> {
    table.frames(stack).map(|f| table.function(f)).collect()
}

fn has_label(table: &StackTable, labels: LabelSetId, key: &str, value: &str) -> bool {
    table.labels(labels).iter().any(|(k, v)| {
        table.str(*k) == key && matches!(v, LabelValue::Str(s) if table.str(*s) == value)
    })
}

/// Goroutines whose stack passes through `function`.
fn goroutines_in<'a>(
    loaded: &'a Loaded,
    function: &'a str,
) -> impl Iterator<Item = &'a Goroutine> + 'a {
    snapshot(loaded)
        .goroutines()
        .iter()
        .filter(move |g| functions(&loaded.table, g.stack).contains(&function))
}

fn count_in(loaded: &Loaded, function: &str) -> u64 {
    goroutines_in(loaded, function).map(|g| g.count).sum()
}

fn total(loaded: &Loaded) -> u64 {
    snapshot(loaded).goroutines().iter().map(|g| g.count).sum()
}

fn profile_type(loaded: &Loaded) -> ProfileType {
    snapshot(loaded).source.profile_type.clone().unwrap()
}

// ---------------------------------------------------------------- fixtures

#[test]
fn goroutine_profiles_total_45_76_107_138() {
    let totals: Vec<u64> = (0..4)
        .map(|t| total(&load(&format!("goroutine-t{t}.pb.gz"))))
        .collect();
    assert_eq!(totals, [45, 76, 107, 138]);
}

#[test]
fn goroutine_profiles_are_goroutine_snapshots_without_state() {
    let loaded = load("goroutine-t0.pb.gz");
    let snap = snapshot(&loaded);
    assert_eq!(snap.source.format.name(), "pprof");
    assert_eq!(profile_type(&loaded), ProfileType::Goroutine);
    assert!(snap.samples().is_none());
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    for g in snap.goroutines() {
        assert_eq!(loaded.table.str(g.state), "");
        assert_eq!(g.kind, StateKind::Unknown);
        assert!(g.id.is_none());
    }
}

#[test]
fn leaking_stacks_have_manifest_counts() {
    // (function on the stack, counts at t0..t3) from the MANIFEST's leak table.
    let leaks: [(&str, [u64; 4]); 9] = [
        ("main.querySearchBackend", [10, 20, 30, 40]),
        ("main.consumeEvents", [5, 10, 15, 20]),
        ("main.pollUpstream", [3, 6, 9, 12]),
        ("main.(*inventoryStore).reserve", [4, 8, 12, 16]),
        ("main.flushBatch", [2, 4, 6, 8]),
        ("main.heartbeatLoop", [1, 2, 3, 4]),
        ("net/http.(*persistConn).readLoop", [2, 4, 6, 8]),
        ("net/http.(*persistConn).writeLoop", [2, 4, 6, 8]),
        ("main.jobWorker", [4, 4, 4, 4]),
    ];
    for t in 0..4 {
        let loaded = load(&format!("goroutine-t{t}.pb.gz"));
        for (function, counts) in &leaks {
            assert_eq!(count_in(&loaded, function), counts[t], "{function} at t{t}");
        }
    }
}

#[test]
fn search_leak_is_one_sample_with_its_label() {
    for (t, want) in [(0, 10), (3, 40)] {
        let loaded = load(&format!("goroutine-t{t}.pb.gz"));
        let records: Vec<&Goroutine> = goroutines_in(&loaded, "main.querySearchBackend").collect();
        assert_eq!(records.len(), 1, "t{t}");
        let g = records[0];
        assert_eq!(g.count, want);
        assert!(has_label(&loaded.table, g.labels, "endpoint", "search"));
        assert_eq!(
            loaded.table.labels_to_string(g.labels),
            "endpoint=search",
            "t{t}"
        );
        // Leaf first, runtime frames included in the protobuf form.
        let fns = functions(&loaded.table, g.stack);
        assert_eq!(fns.first(), Some(&"runtime.gopark"));
        assert_eq!(fns.last(), Some(&"main.querySearchBackend"));
        let leaf = loaded.table.frame(loaded.table.leaf(g.stack).unwrap());
        assert_eq!(loaded.table.str(leaf.file), "runtime/proc.go");
        assert!(leaf.line > 0);
    }
    let t0 = load("goroutine-t0.pb.gz");
    let watch = goroutines_in(&t0, "main.pollUpstream").next().unwrap();
    assert!(has_label(&t0.table, watch.labels, "endpoint", "watch"));
    let workers = goroutines_in(&t0, "main.jobWorker").next().unwrap();
    assert!(has_label(&t0.table, workers.labels, "component", "jobs"));
}

#[test]
fn snapshots_are_timestamped_in_order() {
    let times: Vec<i64> = (0..4)
        .map(|t| {
            snapshot(&load(&format!("goroutine-t{t}.pb.gz")))
                .captured_at_ns
                .unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    // 2026 or later, in ns: time_nanos, not seconds.
    assert!(times[0] > 1_700_000_000_000_000_000);
    // t1 is about 19 s after t0 (MANIFEST timeline: +2 s, +21 s).
    let gap_s = (times[1] - times[0]) / 1_000_000_000;
    assert!((17..=21).contains(&gap_s), "{gap_s}");
}

#[test]
fn profile_type_comes_from_content() {
    let expected = [
        ("goroutine-t0.pb.gz", ProfileType::Goroutine),
        ("heap.pb.gz", ProfileType::Heap),
        ("allocs.pb.gz", ProfileType::Allocs),
        ("cpu.pb.gz", ProfileType::Cpu),
        ("block.pb.gz", ProfileType::Block),
        ("mutex.pb.gz", ProfileType::Mutex),
        ("threadcreate.pb.gz", ProfileType::Threadcreate),
    ];
    for (name, want) in expected {
        // A neutral name, so that only the content can tell.
        let loaded = load_with("profile", &fixture_bytes(name), &LoadOptions::default()).unwrap();
        assert_eq!(profile_type(&loaded), want, "{name}");
    }
}

#[test]
fn every_fixture_decodes_without_warnings_and_matches_prost() {
    for name in PPROF_FIXTURES {
        let loaded = load(name);
        let snap = snapshot(&loaded);
        assert!(snap.warnings.is_empty(), "{name}: {:?}", snap.warnings);
        let full = proto::Profile::decode(&fixture_raw(name)[..]).unwrap();
        let records = match snap.samples() {
            Some(p) => p.samples.len(),
            None => snap.goroutines().len(),
        };
        assert_eq!(records, full.sample.len(), "{name}");
        assert_eq!(snap.captured_at_ns, Some(full.time_nanos), "{name}");
    }
}

#[test]
fn heap_top_function_by_inuse_space_is_load_catalog() {
    let loaded = load("heap.pb.gz");
    let profile = snapshot(&loaded).samples().unwrap();
    let t = &loaded.table;
    let types: Vec<String> = profile
        .sample_types
        .iter()
        .map(|v| format!("{}/{}", t.str(v.kind), t.str(v.unit)))
        .collect();
    assert_eq!(
        types,
        [
            "alloc_objects/count",
            "alloc_space/bytes",
            "inuse_objects/count",
            "inuse_space/bytes"
        ]
    );
    assert_eq!(profile.default_type, 3, "heap defaults to inuse_space");
    let inuse = 3;
    let mut by_leaf: std::collections::HashMap<&str, i64> = Default::default();
    for s in &profile.samples {
        if let Some(leaf) = t.leaf(s.stack) {
            *by_leaf.entry(t.function(leaf)).or_default() += s.values[inuse];
        }
    }
    let (top, bytes) = by_leaf.iter().max_by_key(|(_, v)| **v).unwrap();
    assert_eq!(*top, "main.loadCatalog");
    assert!((1_700_000..2_100_000).contains(bytes), "{bytes}");
    let all = profile.total(inuse);
    assert!((3_800_000..4_600_000).contains(&all), "{all}");
    assert_eq!(profile.period, 4096);
    assert_eq!(profile.mappings.len(), 3);
}

#[test]
fn allocs_defaults_to_alloc_space() {
    let loaded = load("allocs.pb.gz");
    let profile = snapshot(&loaded).samples().unwrap();
    let default = &profile.sample_types[profile.default_type];
    assert_eq!(loaded.table.str(default.kind), "alloc_space");
    let allocated = profile.total(profile.default_type);
    assert!((15_000_000..19_000_000).contains(&allocated), "{allocated}");
}

#[test]
fn cpu_samples_are_labelled_and_hit_the_hash_loop() {
    let loaded = load("cpu.pb.gz");
    let snap = snapshot(&loaded);
    let t = &loaded.table;
    let profile = snap.samples().unwrap();
    assert!(!profile.samples.is_empty());
    // The MANIFEST says every sample carries the label; in the file, the 7
    // samples of scheduler and GC work outside any request do not.
    let labelled = profile
        .samples
        .iter()
        .filter(|s| has_label(t, s.labels, "endpoint", "report"))
        .count();
    assert_eq!(labelled, profile.samples.len() - 7);
    for s in &profile.samples {
        if functions(t, s.stack).contains(&"main.renderReport.func1") {
            assert!(has_label(t, s.labels, "endpoint", "report"));
        }
    }
    let all: Vec<Vec<&str>> = profile
        .samples
        .iter()
        .map(|s| functions(t, s.stack))
        .collect();
    assert!(all.iter().any(|f| f.contains(&"main.mergeDigest")));
    assert!(all.iter().any(|f| f.contains(&"crypto/sha256.block")));
    assert!(all.iter().any(|f| f.contains(&"main.renderReport.func1")));
    // 3.14 s profile, 1.37 s of samples.
    let duration = snap.duration_ns.unwrap();
    assert!(
        (3_000_000_000..3_300_000_000).contains(&duration),
        "{duration}"
    );
    let cpu_ns = profile.total(1);
    assert!((1_300_000_000..1_450_000_000).contains(&cpu_ns), "{cpu_ns}");
    let period = profile.period_type.as_ref().unwrap();
    assert_eq!(t.str(period.kind), "cpu");
    assert_eq!(t.str(period.unit), "nanoseconds");
}

#[test]
fn mutex_contention_is_on_unlock_in_render_report() {
    let loaded = load("mutex.pb.gz");
    let t = &loaded.table;
    let profile = snapshot(&loaded).samples().unwrap();
    let sample = profile
        .samples
        .iter()
        .find(|s| functions(t, s.stack).first() == Some(&"sync.(*Mutex).Unlock"))
        .unwrap();
    assert_eq!(functions(t, sample.stack)[1], "main.renderReport.func1");
    let delay_s = profile.total(1) as f64 / 1e9;
    assert!((6.0..6.6).contains(&delay_s), "{delay_s}");
}

#[test]
fn block_profile_waits_in_select_chan_and_lock() {
    let loaded = load("block.pb.gz");
    let t = &loaded.table;
    let profile = snapshot(&loaded).samples().unwrap();
    let leaves: Vec<&str> = profile
        .samples
        .iter()
        .filter_map(|s| t.leaf(s.stack).map(|f| t.function(f)))
        .collect();
    for want in [
        "runtime.selectgo",
        "runtime.chanrecv1",
        "sync.(*Mutex).Lock",
    ] {
        assert!(leaves.contains(&want), "{want} not in {leaves:?}");
    }
    let poll = profile.samples.iter().any(|s| {
        let f = functions(t, s.stack);
        f.first() == Some(&"runtime.selectgo") && f.contains(&"main.pollUpstream")
    });
    assert!(poll);
}

#[test]
fn threadcreate_counts_nine_threads() {
    let loaded = load("threadcreate.pb.gz");
    let t = &loaded.table;
    let profile = snapshot(&loaded).samples().unwrap();
    assert_eq!(profile.total(0), 9);
    let clock: i64 = profile
        .samples
        .iter()
        .filter(|s| functions(t, s.stack).contains(&"main.clockSampler"))
        .map(|s| s.values[0])
        .sum();
    assert_eq!(clock, 1);
}

#[test]
fn inlined_lines_expand_into_frames() {
    // In the goroutine profile `sync.(*Mutex).Lock` is inlined into
    // `reserve`: one location, two lines, two frames.
    let raw = proto::Profile::decode(&fixture_raw("goroutine-t0.pb.gz")[..]).unwrap();
    let name = |fid: u64| {
        let f = raw.function.iter().find(|f| f.id == fid).unwrap();
        raw.string_table[f.name as usize].as_str()
    };
    let inlined = raw
        .location
        .iter()
        .find(|l| {
            l.line.len() == 2 && name(l.line[1].function_id) == "main.(*inventoryStore).reserve"
        })
        .expect("reserve location with an inlined Lock");
    assert_eq!(name(inlined.line[0].function_id), "sync.(*Mutex).Lock");

    let loaded = load("goroutine-t0.pb.gz");
    let g = goroutines_in(&loaded, "main.(*inventoryStore).reserve")
        .next()
        .unwrap();
    let fns = functions(&loaded.table, g.stack);
    let at = fns.iter().position(|f| *f == "sync.(*Mutex).Lock").unwrap();
    assert_eq!(fns[at + 1], "main.(*inventoryStore).reserve");
    assert_eq!(loaded.table.depth(g.stack) as usize, fns.len());
}

#[test]
fn large_goroutine_profile_has_100096_goroutines() {
    // The profile is small (6 KB): the 100,096 goroutines share a few stacks.
    let bytes = fixture_bytes("large/goroutine-100k.pb.gz");
    let loaded = load_with("goroutine-100k.pb.gz", &bytes, &LoadOptions::default()).unwrap();
    assert_eq!(total(&loaded), 100_096);
    assert_eq!(profile_type(&loaded), ProfileType::Goroutine);
}

// ------------------------------------------------------ synthetic profiles

/// Builds small profiles by hand; strings are interned as they are named.
#[derive(Default)]
struct Builder {
    p: proto::Profile,
}

impl Builder {
    fn new(sample_types: &[(&str, &str)]) -> Builder {
        let mut b = Builder::default();
        b.p.string_table.push(String::new());
        for (kind, unit) in sample_types {
            let t = proto::ValueType {
                r#type: b.s(kind),
                unit: b.s(unit),
            };
            b.p.sample_type.push(t);
        }
        b.p.time_nanos = 1_700_000_000_000_000_000;
        b
    }

    fn s(&mut self, text: &str) -> i64 {
        if let Some(i) = self.p.string_table.iter().position(|s| s == text) {
            return i as i64;
        }
        self.p.string_table.push(text.to_owned());
        (self.p.string_table.len() - 1) as i64
    }

    fn function(&mut self, id: u64, name: &str) -> u64 {
        let f = proto::Function {
            id,
            name: self.s(name),
            system_name: 0,
            filename: self.s("main.go"),
            start_line: 1,
        };
        self.p.function.push(f);
        id
    }

    /// A location whose lines are `(function id, line)`, innermost first.
    fn location(&mut self, id: u64, address: u64, lines: &[(u64, i64)]) -> u64 {
        self.p.location.push(proto::Location {
            id,
            mapping_id: 0,
            address,
            line: lines
                .iter()
                .map(|&(function_id, line)| proto::Line { function_id, line })
                .collect(),
            is_folded: false,
        });
        id
    }

    fn sample(&mut self, location_id: &[u64], value: &[i64], labels: Vec<proto::Label>) {
        self.p.sample.push(proto::Sample {
            location_id: location_id.to_vec(),
            value: value.to_vec(),
            label: labels,
        });
    }

    fn label(&mut self, key: &str, value: &str) -> proto::Label {
        proto::Label {
            key: self.s(key),
            str: self.s(value),
            num: 0,
            num_unit: 0,
        }
    }

    fn encode(&self) -> Vec<u8> {
        self.p.encode_to_vec()
    }
}

fn load_raw(bytes: &[u8]) -> Result<Loaded, FormatError> {
    load_with("synthetic", bytes, &LoadOptions::default())
}

#[test]
fn synthetic_inlining_and_unsymbolized_locations() {
    let mut b = Builder::new(&[("goroutine", "count")]);
    let lock = b.function(1, "sync.(*Mutex).Lock");
    let caller = b.function(2, "main.worker");
    let main = b.function(3, "main.main");
    let inl = b.location(10, 0x1000, &[(lock, 92), (caller, 40)]);
    let bare = b.location(11, 0x4704ce, &[]);
    let top = b.location(12, 0x2000, &[(main, 7)]);
    let label = b.label("endpoint", "search");
    let num = proto::Label {
        key: b.s("bytes"),
        str: 0,
        num: 4096,
        num_unit: b.s("bytes"),
    };
    b.sample(&[bare, inl, top], &[3], vec![label, num]);
    let loaded = load_raw(&b.encode()).unwrap();
    let g = &snapshot(&loaded).goroutines()[0];
    let t = &loaded.table;
    assert_eq!(g.count, 3);
    assert_eq!(
        functions(t, g.stack),
        ["0x4704ce", "sync.(*Mutex).Lock", "main.worker", "main.main"]
    );
    let leaf = t.frame(t.leaf(g.stack).unwrap());
    assert_eq!((t.str(leaf.file), leaf.line), ("", 0));
    let lock_frame = t.frame(t.frames(g.stack).nth(1).unwrap());
    assert_eq!((t.str(lock_frame.file), lock_frame.line), ("main.go", 92));
    let labels = t.labels_to_string(g.labels);
    assert!(labels.contains("endpoint=search"), "{labels}");
    assert!(labels.contains("bytes=4096bytes"), "{labels}");
    assert_eq!(t.labels(g.labels).len(), 2);
}

#[test]
fn goroutineleak_profiles_are_goroutine_snapshots() {
    let mut b = Builder::new(&[("goroutineleak", "count")]);
    let f = b.function(1, "main.leaky");
    let l = b.location(1, 0x10, &[(f, 3)]);
    b.sample(&[l], &[7], vec![]);
    let loaded = load_raw(&b.encode()).unwrap();
    assert_eq!(profile_type(&loaded), ProfileType::GoroutineLeak);
    assert_eq!(total(&loaded), 7);
}

#[test]
fn unknown_profiles_are_named_by_their_first_sample_type() {
    let mut b = Builder::new(&[("widgets", "count"), ("size", "bytes")]);
    let f = b.function(1, "main.make");
    let l = b.location(1, 0x10, &[(f, 3)]);
    b.sample(&[l], &[1, 100], vec![]);
    b.p.comment = vec![b.s("made by hand")];
    let loaded = load_raw(&b.encode()).unwrap();
    assert_eq!(profile_type(&loaded), ProfileType::Other("widgets".into()));
    let p = snapshot(&loaded).samples().unwrap();
    assert_eq!(p.default_type, 1, "unset default means the last type");
    assert_eq!(loaded.table.str(p.comments[0]), "made by hand");
}

#[test]
fn contention_profiles_split_by_unlock_leaves() {
    let build = |leaf: &str| {
        let mut b = Builder::new(&[("contentions", "count"), ("delay", "nanoseconds")]);
        let f = b.function(1, leaf);
        let g = b.function(2, "main.work");
        let l = b.location(1, 0x10, &[(f, 3)]);
        let m = b.location(2, 0x20, &[(g, 9)]);
        b.sample(&[l, m], &[2, 5000], vec![]);
        profile_type(&load_raw(&b.encode()).unwrap())
    };
    assert_eq!(build("sync.(*RWMutex).RUnlock"), ProfileType::Mutex);
    assert_eq!(
        build("runtime._LostContendedRuntimeLock"),
        ProfileType::Mutex
    );
    assert_eq!(build("sync.(*WaitGroup).Wait"), ProfileType::Block);
    assert_eq!(build("runtime.chansend1"), ProfileType::Block);
}

#[test]
fn bad_ids_and_indexes_are_counted_warnings() {
    let mut b = Builder::new(&[("goroutine", "count")]);
    let f = b.function(1, "main.ok");
    b.p.function.push(proto::Function {
        id: 2,
        name: 9999,
        system_name: 0,
        filename: -3,
        start_line: 0,
    });
    let ok = b.location(1, 0x10, &[(f, 3)]);
    let missing_fn = b.location(2, 0x20, &[(42, 1), (f, 4)]);
    let bad_names = b.location(3, 0x30, &[(2, -5)]);
    b.sample(&[99, ok], &[1], vec![]);
    b.sample(&[missing_fn, bad_names, 100], &[2], vec![]);
    b.sample(
        &[ok],
        &[1, 2, 3],
        vec![proto::Label {
            key: 777,
            str: 1,
            num: 0,
            num_unit: 0,
        }],
    );
    b.sample(&[ok], &[-4], vec![]);
    b.sample(&[ok], &[i64::MAX], vec![]);
    let loaded = load_raw(&b.encode()).unwrap();
    let snap = snapshot(&loaded);
    let w = &snap.warnings;
    assert_eq!(w.count("unknown-location"), 2, "{w:?}");
    assert_eq!(w.count("unknown-function"), 1, "{w:?}");
    assert_eq!(w.count("bad-string-index"), 3, "{w:?}");
    assert_eq!(w.count("bad-line-number"), 1, "{w:?}");
    assert_eq!(w.count("value-count"), 1, "{w:?}");
    assert_eq!(w.count("negative-count"), 1, "{w:?}");
    assert_eq!(w.count("count-clamped"), 1, "{w:?}");
    for warning in w.iter() {
        assert!(!warning.message.is_empty());
    }
    let t = &loaded.table;
    let gs = snap.goroutines();
    assert_eq!(gs.len(), 4, "the negative count is skipped");
    assert_eq!(functions(t, gs[0].stack), ["main.ok"]);
    // The missing function's line is dropped; the nameless function is
    // named by its address.
    assert_eq!(functions(t, gs[1].stack), ["main.ok", "0x30"]);
    assert_eq!(gs[2].labels, LabelSetId::NONE);
    // The counts of one profile add up to at most the goroutine limit.
    let cap = LoadOptions::default().limits.max_goroutines;
    assert_eq!(gs[3].count, cap - 4);
    assert_eq!(snap.goroutine_count(), Some(cap));
}

#[test]
fn sparse_ids_and_unpacked_fields_decode() {
    // Ids that are addresses, as some non-Go producers write them.
    let mut b = Builder::new(&[("samples", "count"), ("cpu", "nanoseconds")]);
    let f = b.function(0x7f00_0000_1234, "native_fn");
    let l = b.location(0x7f00_0000_5678, 0x5678, &[(f, 12)]);
    b.sample(&[l], &[1, 10_000_000], vec![]);
    let loaded = load_raw(&b.encode()).unwrap();
    let p = snapshot(&loaded).samples().unwrap();
    assert_eq!(functions(&loaded.table, p.samples[0].stack), ["native_fn"]);
    assert!(snapshot(&loaded).warnings.is_empty());
}

#[test]
fn stacks_deeper_than_the_limit_keep_their_innermost_frames() {
    let mut b = Builder::new(&[("goroutine", "count")]);
    let mut ids = Vec::new();
    for i in 1..=50u64 {
        let f = b.function(i, &format!("main.f{i}"));
        ids.push(b.location(i, i * 16, &[(f, i as i64)]));
    }
    b.sample(&ids, &[1], vec![]);
    let mut options = LoadOptions::default();
    options.limits.max_stack_depth = 10;
    let loaded = load_with("deep", &b.encode(), &options).unwrap();
    let snap = snapshot(&loaded);
    let g = &snap.goroutines()[0];
    let fns = functions(&loaded.table, g.stack);
    assert_eq!(fns.len(), 10);
    assert_eq!(fns[0], "main.f1");
    assert_eq!(fns[9], "main.f10");
    assert_eq!(snap.warnings.count("stack-too-deep"), 1);
}

#[test]
fn too_many_samples_is_a_limit_error() {
    let mut b = Builder::new(&[("goroutine", "count")]);
    for _ in 0..20 {
        b.sample(&[], &[1], vec![]);
    }
    let mut options = LoadOptions::default();
    options.limits.max_goroutines = 10;
    let err = load_with("many", &b.encode(), &options).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Limit {
                what: "samples",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn cancelled_loads_stop() {
    let progress = Progress::none();
    progress.cancel();
    let err = load_bytes(
        "cancelled",
        &fixture_bytes("heap.pb.gz"),
        &LoadOptions::default(),
        &progress,
    )
    .unwrap_err();
    assert!(matches!(err, FormatError::Cancelled), "{err}");
}

#[test]
fn progress_reaches_the_end() {
    let progress = Progress::none();
    load_bytes(
        "heap",
        &fixture_bytes("heap.pb.gz"),
        &LoadOptions::default(),
        &progress,
    )
    .unwrap();
    assert_eq!(progress.fraction(), 1.0);
}

// ------------------------------------------------------------- bad input

/// xorshift64*: deterministic, no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn a_profile_cut_short_says_so() {
    let raw = fixture_raw("goroutine-t0.pb.gz");
    let err = load_raw(&raw[..raw.len() - 3]).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            FormatError::Malformed {
                format: "pprof",
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("looks like a pprof profile but could not be decoded"),
        "{msg}"
    );
    assert!(msg.contains("cut short"), "{msg}");
    assert!(msg.contains("string table last"), "{msg}");
    // Cut at the field boundary where the string table starts: the rest
    // decodes, but nothing names anything.
    let mut pos = 0;
    let cut = loop {
        let key = raw[pos];
        if key >> 3 == 6 {
            break pos;
        }
        pos += 1;
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let b = raw[pos];
            pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                break;
            }
        }
        if key & 7 == 2 {
            pos += value as usize;
        }
    };
    let err = load_raw(&raw[..cut]).unwrap_err();
    assert!(err.to_string().contains("no string table"), "{err}");
}

#[test]
fn every_fixture_cut_at_many_offsets_never_panics() {
    for name in PPROF_FIXTURES {
        let gz = fixture_bytes(name);
        let raw = fixture_raw(name);
        let mut errors = 0;
        let step = (raw.len() / 97).max(1);
        for cut in (0..raw.len())
            .step_by(step)
            .chain(raw.len().saturating_sub(40)..raw.len())
        {
            if load_raw(&raw[..cut]).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 0, "{name}: no cut was an error");
        for cut in (0..gz.len()).step_by((gz.len() / 50).max(1)) {
            let _ = load_with(name, &gz[..cut], &LoadOptions::default());
        }
    }
}

#[test]
fn every_fixture_with_random_byte_flips_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 2];
    for name in PPROF_FIXTURES {
        let raw = fixture_raw(name);
        for _ in 0..150 {
            let mut damaged = raw.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(damaged.len());
                damaged[at] ^= 1 << rng.below(8);
            }
            let ok = load_raw(&damaged).is_ok();
            outcomes[usize::from(ok)] += 1;
        }
        // Whole random bytes in place of a field, not just flipped bits.
        for _ in 0..50 {
            let mut damaged = raw.clone();
            let at = rng.below(damaged.len());
            let len = (1 + rng.below(16)).min(damaged.len() - at);
            for b in &mut damaged[at..at + len] {
                *b = rng.next() as u8;
            }
            let ok = load_raw(&damaged).is_ok();
            outcomes[usize::from(ok)] += 1;
        }
    }
    // Both outcomes happen: damage inside elements is a partial load.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

#[test]
fn binary_that_only_starts_like_protobuf_is_rejected_clearly() {
    // Field 2 (sample), length 0x7f, then far too little data.
    let err = load_raw(&[0x12, 0x7f, 0x01, 0x02]).unwrap_err();
    assert!(
        err.to_string()
            .contains("looks like a pprof profile but could not be decoded"),
        "{err}"
    );
    // An unknown field number first: not a profile at all.
    let err = load_raw(&[0xf8, 0x07, 0x01, 0x02, 0x03]).unwrap_err();
    assert!(matches!(err, FormatError::Unrecognised { .. }), "{err}");
}
