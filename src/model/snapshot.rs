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
    Goroutine,
    #[serde(rename = "goroutineleak")]
    GoroutineLeak,
    Heap,
    Allocs,
    Cpu,
    Block,
    Mutex,
    Threadcreate,
    /// A custom profile (`pprof.NewProfile`) or one from another tool.
    #[serde(untagged)]
    Other(String),
}

impl ProfileType {
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
    pub path: String,
    pub format: Format,
    pub profile_type: Option<ProfileType>,
    /// Size as read, before decompression.
    pub bytes: u64,
}

/// Type and unit of one sample value (`alloc_space`/`bytes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueType {
    pub kind: StrId,
    pub unit: StrId,
}

/// One stack with its values, one per sample type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub stack: StackId,
    pub values: Vec<i64>,
    pub labels: LabelSetId,
}

/// A binary the profile's addresses belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub limit: u64,
    pub offset: u64,
    pub file: StrId,
    pub build_id: StrId,
}

/// A sampled profile (heap, CPU, block, ...): weighted stacks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SampleProfile {
    pub sample_types: Vec<ValueType>,
    /// Index into `sample_types` that tools show first.
    pub default_type: usize,
    pub samples: Vec<Sample>,
    pub period_type: Option<ValueType>,
    pub period: i64,
    pub mappings: Vec<Mapping>,
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
    Goroutines(Vec<Goroutine>),
    Samples(SampleProfile),
}

/// One loaded profile or dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub source: Source,
    /// Unix time in ns where the file records it (pprof `time_nanos`).
    pub captured_at_ns: Option<i64>,
    pub duration_ns: Option<i64>,
    pub data: SnapshotData,
    /// A total the file states itself (`goroutine profile: total N`), to cross-check.
    pub stated_total: Option<u64>,
    pub panic: Option<PanicInfo>,
    pub warnings: Warnings,
}

impl Snapshot {
    pub fn goroutines(&self) -> &[Goroutine] {
        match &self.data {
            SnapshotData::Goroutines(g) => g,
            SnapshotData::Samples(_) => &[],
        }
    }

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
