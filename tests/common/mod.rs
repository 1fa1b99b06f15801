//! Helpers shared by the integration tests: fixture paths and loading.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod app;
pub mod http;
pub mod tracegen;

use leakscope::analysis::{self, Analysis, AnalysisOptions};
use leakscope::formats::{self, LoadOptions, Loaded};
use leakscope::model::{Session, Snapshot};
use leakscope::pipeline::Findings;
use leakscope::progress::Progress;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn load(name: &str) -> Loaded {
    formats::load_file(&fixture(name), &LoadOptions::default(), &Progress::none())
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn load_bytes(name: &str, data: &[u8]) -> Result<Loaded, formats::FormatError> {
    formats::load_bytes(name, data, &LoadOptions::default(), &Progress::none())
}

pub fn session(names: &[&str]) -> Session {
    let mut s = Session::default();
    for n in names {
        let l = load(n);
        s.add(&l.table, l.input);
    }
    s
}

pub fn analyze(names: &[&str]) -> (Session, Analysis) {
    let s = session(names);
    let a = analysis::analyze(&s, &AnalysisOptions::default());
    (s, a)
}

/// What the app and `inspect --json` do with a loaded input, as the fuzz
/// targets do: the pipeline's findings, then everything shown of them
/// ([`leakscope::export::render_all`]). Returns the JSON report, so a test
/// can look at what survived.
pub fn downstream(l: Loaded) -> String {
    let findings = Findings::of_loaded(vec![l], &AnalysisOptions::default());
    leakscope::export::render_all(&findings)
}

/// The pipeline's findings of inputs on disk (files or session folders),
/// with the options a user gets by default: what `inspect` and the app show.
pub fn findings_of(paths: &[PathBuf]) -> Findings {
    let specs = paths
        .iter()
        .cloned()
        .map(leakscope::pipeline::InputSpec::Path)
        .collect();
    leakscope::pipeline::run(
        specs,
        &LoadOptions::default(),
        &AnalysisOptions::default(),
        &Progress::none(),
    )
    .expect("nothing cancels it")
}

/// One capture of a test session folder: the fixture to copy, the name
/// it gets in the folder, its kind and when it was taken (Unix ns).
pub struct Capture<'a> {
    pub fixture: &'a str,
    pub file: String,
    pub kind: &'a str,
    pub at_ns: i64,
}

/// Writes a session folder as `capture` does: the captures copied in and a
/// `manifest.json` naming `url` and dating each capture.
pub fn write_session(dir: &std::path::Path, url: &str, captures: &[Capture<'_>]) {
    use leakscope::formats::session_dir::{Manifest, ManifestCapture};
    std::fs::create_dir_all(dir).unwrap();
    let mut m = Manifest {
        leakscope_session: 1,
        url: url.to_owned(),
        ..Manifest::default()
    };
    for c in captures {
        std::fs::write(dir.join(&c.file), read(c.fixture)).unwrap();
        m.captures.push(ManifestCapture {
            file: c.file.clone(),
            kind: c.kind.to_owned(),
            started_at_ns: c.at_ns,
            finished_at_ns: c.at_ns,
            status: 200,
            ..ManifestCapture::default()
        });
    }
    let json = serde_json::to_string(&m).unwrap();
    std::fs::write(dir.join("manifest.json"), json).unwrap();
}

pub fn snapshot(l: &Loaded) -> &Snapshot {
    l.input.as_snapshot().expect("a snapshot")
}

/// The leaking stacks of MANIFEST.md: (leak site as leakscope names it,
/// wait reason in leakscope's vocabulary, goroutines added per leak phase).
/// Reasons are as debug=2 prints them, except that Go 1.23's bare
/// `semacquire` under `sync.(*WaitGroup).Wait` reads `sync.WaitGroup.Wait`,
/// as Go 1.25 and later print it.
/// The server side of the proxy connections runs only standard-library
/// code, so its leak site is its entry function.
pub const LEAKS: &[(&str, &str, u64)] = &[
    ("main.querySearchBackend", "chan send", 10),
    ("main.consumeEvents", "chan receive", 5),
    ("main.pollUpstream", "select", 3),
    ("main.(*inventoryStore).reserve", "sync.Mutex.Lock", 4),
    ("main.flushBatch", "sync.WaitGroup.Wait", 2),
    ("main.heartbeatLoop", "sleep", 1),
    ("net/http.(*persistConn).readLoop", "select", 2),
    ("net/http.(*persistConn).writeLoop", "select", 2),
    ("net/http.(*conn).serve", "IO wait", 2),
];

/// A flame graph box each leak's goroutines pass through and no other
/// goroutine does, with its count per leak phase: the leak site, except for
/// the idle server connections, whose entry `net/http.(*conn).serve` the
/// capturing request also runs in (one more goroutine in that box).
pub fn leak_box(site: &str) -> &str {
    match site {
        "net/http.(*conn).serve" => "internal/poll.(*pollDesc).wait",
        other => other,
    }
}

/// Steady stacks of MANIFEST.md by leak site, with their count.
pub const STEADY: &[(&str, u64)] = &[
    ("main.jobWorker", 4),
    ("main.jobProducer", 1),
    ("main.metricsReporter", 1),
    ("main.cacheJanitor", 1),
    ("main.clockSampler", 1),
    ("main.main", 1),
    ("main.serve", 1),
    ("os/signal.loop", 1),
    ("main.(*inventoryStore).rebuildIndex", 1),
];

pub const DEBUG1: [&str; 4] = [
    "goroutine-t0.debug1.txt",
    "goroutine-t1.debug1.txt",
    "goroutine-t2.debug1.txt",
    "goroutine-t3.debug1.txt",
];
pub const PROTO: [&str; 4] = [
    "goroutine-t0.pb.gz",
    "goroutine-t1.pb.gz",
    "goroutine-t2.pb.gz",
    "goroutine-t3.pb.gz",
];
pub const DEBUG2: [&str; 4] = [
    "goroutine-t0.debug2.txt",
    "goroutine-t1.debug2.txt",
    "goroutine-t2.debug2.txt",
    "goroutine-t3.debug2.txt",
];

/// A small deterministic generator for corrupting inputs (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
