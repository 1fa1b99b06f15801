//! One loaded input: a goroutine snapshot or a sampled profile.

use serde::Serialize;

use super::goroutine::Goroutine;
use super::intern::StrId;
use super::stack::{LabelSetId, Remap, StackId};
use super::warning::Warnings;

/// Input dialect, as `inspect --json` names it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Protobuf profile (`/debug/pprof/<name>` without `debug=`).
    Pprof,
    /// `/debug/pprof/goroutine?debug=1`: stacks aggregated with counts.
    #[serde(rename = "goroutine-debug1")]
    GoroutineDebug1,
    /// One block per goroutine: `?debug=2`, `runtime.Stack(buf, true)`,
    /// SIGQUIT and panic tracebacks.
    GoroutineDump,
    /// Go execution trace (`runtime/trace`).
    Trace,
    /// Folded stacks, one `a;b;c N` per line.
    Folded,
}

impl Format {
    /// The name `inspect --json` and the reports print, so scripts can match on
    /// it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pprof => "pprof",
            Format::GoroutineDebug1 => "goroutine-debug1",
            Format::GoroutineDump => "goroutine-dump",
            Format::Trace => "trace",
            Format::Folded => "folded",
        }
    }
}

/// Which profile a pprof file holds, told from its sample types.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileType {
    /// `/debug/pprof/goroutine`: every live goroutine, the input leak ranking
    /// is built on.
    Goroutine,
    /// Go 1.26's `/debug/pprof/goroutineleak`: goroutines the garbage collector
    /// proved can never run again.
    #[serde(rename = "goroutineleak")]
    GoroutineLeak,
    /// Live heap objects by allocation site (`inuse_*` by default).
    Heap,
    /// Every allocation since the program started (`alloc_*` by default): same
    /// sample types as heap, other default.
    Allocs,
    /// On-CPU time from `/debug/pprof/profile`.
    Cpu,
    /// Time goroutines spent blocked on channels, selects and locks (needs
    /// `runtime.SetBlockProfileRate`).
    Block,
    /// Time a lock was held while others waited for it, charged to the
    /// unlocker.
    Mutex,
    /// Where OS threads were created; a growing count points at goroutines
    /// stuck in syscalls or cgo.
    Threadcreate,
    /// A custom profile (`pprof.NewProfile`) or one from another tool.
    #[serde(untagged)]
    Other(String),
}

impl ProfileType {
    /// The name the `/debug/pprof/` endpoint uses, so reports and file names
    /// match Go's own (for other profiles, the first sample type's name).
    pub fn name(&self) -> &str {
        match self {
            ProfileType::Goroutine => "goroutine",
            ProfileType::GoroutineLeak => "goroutineleak",
            ProfileType::Heap => "heap",
            ProfileType::Allocs => "allocs",
            ProfileType::Cpu => "cpu",
            ProfileType::Block => "block",
            ProfileType::Mutex => "mutex",
            ProfileType::Threadcreate => "threadcreate",
            ProfileType::Other(s) => s,
        }
    }

    /// Profiles whose samples are live goroutines, so they take part in leak ranking.
    pub fn is_goroutines(&self) -> bool {
        matches!(self, ProfileType::Goroutine | ProfileType::GoroutineLeak)
    }
}

/// Where an input came from and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file it was read from (or the URL path of a live capture): how the
    /// user recognises an input.
    pub path: String,
    /// The dialect it was parsed as, told from its content, not its name.
    pub format: Format,
    /// For pprof files, which profile it holds; `None` for dumps, traces and
    /// folded stacks, which are not profiles.
    pub profile_type: Option<ProfileType>,
    /// Size as read, before decompression.
    pub bytes: u64,
}

/// Type and unit of one sample value (`alloc_space`/`bytes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueType {
    /// What a value measures (`alloc_space`, `contentions`).
    pub kind: StrId,
    /// Its unit (`bytes`, `count`, `nanoseconds`), so values are shown and
    /// summed correctly.
    pub unit: StrId,
}

/// One stack with its values, one per sample type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The sampled call stack.
    pub stack: StackId,
    /// One value per sample type of the profile, in the same order.
    pub values: Vec<i64>,
    /// pprof labels of the sample (`pprof.Do`), so samples can be split by
    /// request kind.
    pub labels: LabelSetId,
}

/// A binary the profile's addresses belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First address of the mapping in the process.
    pub start: u64,
    /// The address just past the mapping.
    pub limit: u64,
    /// Offset in the file that the start address corresponds to, for
    /// symbolizing addresses.
    pub offset: u64,
    /// Path of the binary or shared library.
    pub file: StrId,
    /// Build id of the binary, to match it with its symbols later.
    pub build_id: StrId,
}

/// A sampled profile (heap, CPU, block, ...): weighted stacks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SampleProfile {
    /// What each sample value measures, in value order.
    pub sample_types: Vec<ValueType>,
    /// Index into `sample_types` that tools show first.
    pub default_type: usize,
    /// The weighted stacks themselves.
    pub samples: Vec<Sample>,
    /// What `period` counts (`cpu`/`nanoseconds`).
    pub period_type: Option<ValueType>,
    /// The sampling period: one sample stands for about this much of
    /// `period_type`.
    pub period: i64,
    /// The binaries the addresses belong to, kept so an unsymbolized profile
    /// can still be traced to its binary.
    pub mappings: Vec<Mapping>,
    /// Free-form comments the producer attached (`pprof -add_comment`).
    pub comments: Vec<StrId>,
    /// Samples dropped by the loader because they were unreadable.
    pub dropped_samples: u64,
}

impl SampleProfile {
    /// Sum of one value column.
    pub fn total(&self, value_index: usize) -> i64 {
        self.samples
            .iter()
            .map(|s| s.values.get(value_index).copied().unwrap_or(0))
            .fold(0i64, i64::saturating_add)
    }
}

/// `panic: ...` / `fatal error: ...` preamble of a crash dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicInfo {
    /// The message, `panic: ` included, continuation lines joined by newlines.
    pub message: String,
    /// The goroutine whose traceback comes first, the one that panicked.
    pub goroutine_id: Option<u64>,
}

/// Goroutines or samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotData {
    /// A goroutine profile or dump: one record per goroutine or per group of
    /// identical goroutines.
    Goroutines(Vec<Goroutine>),
    /// Any other profile: weighted stacks, no goroutine state.
    Samples(SampleProfile),
}

/// One loaded profile or dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Where the snapshot was read from, to name it in every view and report.
    pub source: Source,
    /// Unix time in ns where the file records it (pprof `time_nanos`).
    pub captured_at_ns: Option<i64>,
    /// How long the profile sampled for (CPU, and block or mutex deltas), where
    /// the file says.
    pub duration_ns: Option<i64>,
    /// What was loaded: goroutines, or samples.
    pub data: SnapshotData,
    /// A total the file states itself (`goroutine profile: total N`), to cross-check.
    pub stated_total: Option<u64>,
    /// The panic or fatal error a crash dump starts with: the likeliest cause
    /// of a crash, shown first.
    pub panic: Option<PanicInfo>,
    /// What the loader skipped or repaired, so partial loads are never silent.
    pub warnings: Warnings,
}

impl Snapshot {
    /// The goroutine records; empty for a sampled profile, so callers that only
    /// count goroutines need no match.
    pub fn goroutines(&self) -> &[Goroutine] {
        match &self.data {
            SnapshotData::Goroutines(g) => g,
            SnapshotData::Samples(_) => &[],
        }
    }

    /// The sample profile, or `None` for goroutines, for views that only show
    /// weighted stacks.
    pub fn samples(&self) -> Option<&SampleProfile> {
        match &self.data {
            SnapshotData::Samples(s) => Some(s),
            SnapshotData::Goroutines(_) => None,
        }
    }

    /// Number of goroutines, or `None` for a sampled profile.
    pub fn goroutine_count(&self) -> Option<u64> {
        match &self.data {
            SnapshotData::Goroutines(g) => Some(g.iter().map(|g| g.count).sum()),
            SnapshotData::Samples(_) => None,
        }
    }

    /// Rewrites every id after the snapshot's table was absorbed into another.
    pub fn remap(&mut self, map: &Remap) {
        match &mut self.data {
            SnapshotData::Goroutines(gs) => gs.iter_mut().for_each(|g| g.remap(map)),
            SnapshotData::Samples(p) => {
                for t in p.sample_types.iter_mut().chain(p.period_type.iter_mut()) {
                    t.kind = map.str(t.kind);
                    t.unit = map.str(t.unit);
                }
                for s in &mut p.samples {
                    s.stack = map.stack(s.stack);
                    s.labels = map.labels(s.labels);
                }
                for m in &mut p.mappings {
                    m.file = map.str(m.file);
                    m.build_id = map.str(m.build_id);
                }
                for c in &mut p.comments {
                    *c = map.str(*c);
                }
            }
        }
    }
}
