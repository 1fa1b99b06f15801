//! pprof protobuf profiles (`/debug/pprof/<name>` without `debug=`).
//!
//! A profile is a `perftools.profiles.Profile` message ([`proto`]): sample
//! types, samples (location ids leaf first, one value per sample type,
//! labels), locations (an address and its source lines, innermost inlined
//! function first), functions, mappings and a string table that everything
//! else indexes into.
//!
//! Loading walks the top-level fields twice ([`wire`]). The first walk takes
//! the string table as slices of the input and decodes locations, functions
//! and mappings; the second decodes samples one at a time into a reused
//! buffer, now that every id they refer to is known. Go writes the string
//! table last, so a profile cut short has lost exactly the part that names
//! things: such input is an error, not a partial load.
//!
//! Damage below the top level (a sample that does not decode, an id that
//! points nowhere, a string index out of range) costs only the element it is
//! in and is counted in the snapshot's warnings.
//!
//! # Telling profiles apart
//!
//! The file does not name its profile, so the type comes from the sample
//! types (see [`classify`]). Two pairs need more:
//!
//! * heap and allocs carry the same four sample types; Go marks allocs with
//!   `default_sample_type = alloc_space`, heap has `inuse_space` or nothing.
//! * block and mutex both carry `contentions`/`count` and `delay`/`nanoseconds`.
//!   Go records mutex contention when the lock is released, so a mutex
//!   profile's innermost frames are unlock calls (`sync.(*Mutex).Unlock`,
//!   `sync.(*RWMutex).RUnlock`, `runtime.unlock`, and
//!   `runtime._LostContendedRuntimeLock` for runtime-internal locks), while
//!   block profiles stop where a goroutine waited (`runtime.selectgo`,
//!   `runtime.chanrecv1`, `sync.(*Mutex).Lock`, `sync.(*WaitGroup).Wait`).
//!   The profile is mutex when most samples with a stack end in an unlock,
//!   else block; an empty contention profile is reported as block.

pub mod proto;
pub(crate) mod wire;

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use prost::Message as _;
use rustc_hash::FxHashMap;

use self::wire::{Field, Fields, Value, WireError, WireErrorKind};
use super::Loaded;
use super::error::FormatError;
use super::limits::{GoroutineBudget, Limits};
use crate::model::{
    FrameId, Goroutine, Input, LabelSetId, LabelValue, Mapping, ProfileType, Sample, SampleProfile,
    Snapshot, SnapshotData, Source, StackTable, StrId, ValueType, Warnings,
};
use crate::progress::Progress;

const FORMAT: &str = "pprof";

/// How many elements pass between progress updates and cancel checks.
const PROGRESS_EVERY: usize = 4096;

/// Field numbers of `Profile`.
mod tag {
    pub(super) const SAMPLE_TYPE: u32 = 1;
    pub(super) const SAMPLE: u32 = 2;
    pub(super) const MAPPING: u32 = 3;
    pub(super) const LOCATION: u32 = 4;
    pub(super) const FUNCTION: u32 = 5;
    pub(super) const STRING_TABLE: u32 = 6;
    pub(super) const DROP_FRAMES: u32 = 7;
    pub(super) const KEEP_FRAMES: u32 = 8;
    pub(super) const TIME_NANOS: u32 = 9;
    pub(super) const DURATION_NANOS: u32 = 10;
    pub(super) const PERIOD_TYPE: u32 = 11;
    pub(super) const PERIOD: u32 = 12;
    pub(super) const COMMENT: u32 = 13;
    pub(super) const DEFAULT_SAMPLE_TYPE: u32 = 14;
}

fn field_name(number: u32) -> &'static str {
    match number {
        tag::SAMPLE_TYPE => "sample_type",
        tag::SAMPLE => "sample",
        tag::MAPPING => "mapping",
        tag::LOCATION => "location",
        tag::FUNCTION => "function",
        tag::STRING_TABLE => "string_table",
        tag::DROP_FRAMES => "drop_frames",
        tag::KEEP_FRAMES => "keep_frames",
        tag::TIME_NANOS => "time_nanos",
        tag::DURATION_NANOS => "duration_nanos",
        tag::PERIOD_TYPE => "period_type",
        tag::PERIOD => "period",
        tag::COMMENT => "comment",
        tag::DEFAULT_SAMPLE_TYPE => "default_sample_type",
        _ => "unknown field",
    }
}

/// Whether the first top-level fields of `data` are well-formed `Profile`
/// fields with the wire types the schema gives them.
///
/// The format sniffer uses it so that binary data which merely starts with
/// a plausible byte is not taken for a profile. Running out of data counts
/// as a yes: a profile cut short is still a profile, and [`parse`] says what
/// is wrong with it.
pub fn looks_like_profile(data: &[u8]) -> bool {
    let mut seen = 0;
    for field in Fields::new(data).take(8) {
        let field = match field {
            Ok(f) => f,
            Err(e) => return seen > 0 || e.kind == WireErrorKind::Truncated,
        };
        let varint = matches!(field.value, Value::Varint(_));
        let bytes = matches!(field.value, Value::Bytes(_));
        let fits = match field.number {
            tag::SAMPLE_TYPE..=tag::STRING_TABLE | tag::PERIOD_TYPE | 16 => bytes,
            tag::COMMENT => bytes || varint,
            tag::DROP_FRAMES..=tag::DURATION_NANOS
            | tag::PERIOD
            | tag::DEFAULT_SAMPLE_TYPE
            | 15 => varint,
            _ => false,
        };
        if !fits {
            return false;
        }
        seen += 1;
    }
    seen > 0
}

/// Decodes a (gunzipped) pprof profile.
///
/// Goroutine and goroutineleak profiles become one [`Goroutine`] record per
/// sample (`count` = the sample's value, no state: the protobuf form does
/// not carry wait reasons; every goroutine of a goroutineleak profile is
/// `leaked`, the runtime proved it); every other profile becomes a
/// [`SampleProfile`].
pub fn parse(
    data: &[u8],
    mut source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let mut scan = scan(data, limits, progress)?;
    let mut table = StackTable::default();
    let mut warnings = std::mem::take(&mut scan.warnings);
    let mut strings = Strings::new(&scan.strings);

    let type_names: Vec<(&str, &str)> = scan
        .sample_types
        .iter()
        .map(|t| (strings.text(t.r#type), strings.text(t.unit)))
        .collect();
    let default_name = strings.text(scan.default_sample_type);
    let class = classify(&type_names, default_name);
    let sample_types: Vec<ValueType> = scan
        .sample_types
        .iter()
        .map(|t| strings.value_type(&mut table, &mut warnings, *t))
        .collect();
    let default_type = match scan.default_sample_type {
        0 => None,
        _ => type_names
            .iter()
            .position(|(kind, _)| *kind == default_name),
    }
    .unwrap_or(sample_types.len().saturating_sub(1));

    let frames = LocationFrames::build(&scan, &mut strings, &mut table, &mut warnings);
    let goroutine_value = type_names
        .iter()
        .position(|(kind, _)| is_goroutine_type(kind) || is_goroutine_leak_type(kind))
        .unwrap_or(0);
    let samples = decode_samples(
        data,
        &scan,
        &frames,
        &mut strings,
        &mut table,
        &mut warnings,
        limits,
        progress,
    )?;

    let profile_type = match class {
        Class::Known(t) => t,
        Class::Contention => contention_type(&table, &samples.samples),
    };
    let data = if profile_type.is_goroutines() {
        SnapshotData::Goroutines(to_goroutines(
            samples.samples,
            goroutine_value,
            profile_type == ProfileType::GoroutineLeak,
            limits,
            &mut warnings,
        ))
    } else {
        let mappings = scan
            .mappings
            .iter()
            .map(|m| Mapping {
                start: m.memory_start,
                limit: m.memory_limit,
                offset: m.file_offset,
                file: strings.intern(&mut table, &mut warnings, m.filename),
                build_id: strings.intern(&mut table, &mut warnings, m.build_id),
            })
            .collect();
        let period_type = scan
            .period_type
            .map(|t| strings.value_type(&mut table, &mut warnings, t));
        let comments = scan
            .comments
            .iter()
            .map(|&c| strings.intern(&mut table, &mut warnings, c))
            .collect();
        SnapshotData::Samples(SampleProfile {
            sample_types,
            default_type,
            samples: samples.samples,
            period_type,
            period: scan.period,
            mappings,
            comments,
            dropped_samples: samples.dropped,
        })
    };
    progress.set(1.0);
    source.profile_type = Some(profile_type);
    let snapshot = Snapshot {
        source,
        captured_at_ns: plausible_time(scan.time_nanos, "time_nanos", &mut warnings),
        duration_ns: plausible_time(scan.duration_nanos, "duration_nanos", &mut warnings),
        data,
        stated_total: None,
        panic: None,
        warnings,
    };
    Ok(Loaded {
        table,
        input: Input::Snapshot(snapshot),
    })
}

/// A time field if it is set and plausible (0 means unset in the schema).
fn plausible_time(ns: i64, field: &'static str, warnings: &mut Warnings) -> Option<i64> {
    let t = super::limits::plausible_unix_ns(ns);
    if t.is_none() && ns != 0 {
        warnings.add("implausible-time", || {
            format!("ignored {field} = {ns}, which is not a time a profile can have")
        });
    }
    t
}

/// What the first walk found: everything but the samples.
#[derive(Default)]
struct Scan<'a> {
    strings: Vec<Cow<'a, str>>,
    sample_types: Vec<proto::ValueType>,
    period_type: Option<proto::ValueType>,
    mappings: Vec<proto::Mapping>,
    functions: Vec<proto::Function>,
    locations: Vec<RawLocation>,
    /// Lines of every location, in location order.
    lines: Vec<proto::Line>,
    sample_count: usize,
    comments: Vec<i64>,
    time_nanos: i64,
    duration_nanos: i64,
    period: i64,
    default_sample_type: i64,
    warnings: Warnings,
}

struct RawLocation {
    id: u64,
    address: u64,
    lines_start: usize,
    lines_end: usize,
}

fn check_cancel(progress: &Progress) -> Result<(), FormatError> {
    if progress.is_cancelled() {
        Err(FormatError::Cancelled)
    } else {
        Ok(())
    }
}

fn limit_check(count: usize, limits: &Limits, what: &'static str) -> Result<(), FormatError> {
    if count as u64 > limits.max_goroutines {
        return Err(FormatError::Limit {
            format: FORMAT,
            what,
            limit: limits.max_goroutines,
        });
    }
    Ok(())
}

fn wire_error(e: &WireError, len: usize) -> FormatError {
    let field = match e.field {
        Some(n) => format!("field {n} ({})", field_name(n)),
        None => "a field key".to_owned(),
    };
    let what = match e.kind {
        WireErrorKind::Truncated => format!(
            "the data ends inside {field} that starts at byte {} of {len}, so the profile is cut \
             short; Go writes the string table last, so a cut-off profile cannot be recovered",
            e.offset
        ),
        WireErrorKind::BadVarint => format!("{field} holds a varint longer than 10 bytes"),
        WireErrorKind::BadWireType(w) => format!("{field} has the invalid wire type {w}"),
        WireErrorKind::BadFieldNumber => "a field key has the invalid field number 0".to_owned(),
    };
    FormatError::Malformed {
        format: FORMAT,
        offset: e.offset as u64,
        message: format!("looks like a pprof profile but could not be decoded: {what}"),
    }
}

/// The first walk: strings, locations, functions, mappings, scalars, and
/// how many samples there are.
fn scan<'a>(data: &'a [u8], limits: &Limits, progress: &Progress) -> Result<Scan<'a>, FormatError> {
    let mut s = Scan::default();
    let mut location = proto::Location::default();
    let mut fields = Fields::new(data);
    let mut n = 0usize;
    while let Some(field) = fields.next() {
        let field = field.map_err(|e| wire_error(&e, data.len()))?;
        n += 1;
        if n.is_multiple_of(PROGRESS_EVERY) {
            check_cancel(progress)?;
            progress.set(0.5 * fields.pos() as f32 / data.len() as f32);
        }
        scan_field(&mut s, &mut location, field, limits)?;
    }
    check_cancel(progress)?;
    if s.strings.is_empty() && (s.sample_count > 0 || !s.sample_types.is_empty()) {
        return Err(FormatError::Malformed {
            format: FORMAT,
            offset: data.len() as u64,
            message: "looks like a pprof profile but could not be decoded: it has no string \
                      table, so it is probably cut short; Go writes the string table last, so \
                      a cut-off profile cannot be recovered"
                .to_owned(),
        });
    }
    Ok(s)
}

fn scan_field<'a>(
    s: &mut Scan<'a>,
    location: &mut proto::Location,
    field: Field<'a>,
    limits: &Limits,
) -> Result<(), FormatError> {
    let offset = field.offset;
    let bad = |warnings: &mut Warnings, kind: &'static str, e: prost::DecodeError| {
        warnings.add(kind, || {
            format!(
                "skipped a {} that does not decode at byte {offset}: {e}",
                field_name(field.number)
            )
        });
    };
    let int = |v: u64| v as i64;
    match (field.number, field.value) {
        (tag::SAMPLE_TYPE, Value::Bytes(b)) => match proto::ValueType::decode(b) {
            Ok(t) => s.sample_types.push(t),
            Err(e) => bad(&mut s.warnings, "bad-sample-type", e),
        },
        (tag::SAMPLE, Value::Bytes(_)) => {
            s.sample_count += 1;
            limit_check(s.sample_count, limits, "samples")?;
        }
        (tag::MAPPING, Value::Bytes(b)) => match proto::Mapping::decode(b) {
            Ok(m) => s.mappings.push(m),
            Err(e) => bad(&mut s.warnings, "bad-mapping", e),
        },
        (tag::LOCATION, Value::Bytes(b)) => {
            location.clear();
            match location.merge(b) {
                Ok(()) => {
                    limit_check(s.locations.len() + 1, limits, "locations")?;
                    let lines_start = s.lines.len();
                    s.lines.extend_from_slice(&location.line);
                    s.locations.push(RawLocation {
                        id: location.id,
                        address: location.address,
                        lines_start,
                        lines_end: s.lines.len(),
                    });
                }
                Err(e) => bad(&mut s.warnings, "bad-location", e),
            }
        }
        (tag::FUNCTION, Value::Bytes(b)) => match proto::Function::decode(b) {
            Ok(f) => {
                limit_check(s.functions.len() + 1, limits, "functions")?;
                s.functions.push(f);
            }
            Err(e) => bad(&mut s.warnings, "bad-function", e),
        },
        (tag::STRING_TABLE, Value::Bytes(b)) => {
            limit_check(s.strings.len() + 1, limits, "strings")?;
            let text = match std::str::from_utf8(b) {
                Ok(t) => Cow::Borrowed(t),
                Err(_) => {
                    s.warnings.add("invalid-utf8", || {
                        format!("string at byte {offset} is not UTF-8; replaced the bad bytes")
                    });
                    String::from_utf8_lossy(b)
                }
            };
            s.strings.push(text);
        }
        (tag::DROP_FRAMES | tag::KEEP_FRAMES, Value::Varint(_)) => {}
        (tag::TIME_NANOS, Value::Varint(v)) => s.time_nanos = int(v),
        (tag::DURATION_NANOS, Value::Varint(v)) => s.duration_nanos = int(v),
        (tag::PERIOD_TYPE, Value::Bytes(b)) => match proto::ValueType::decode(b) {
            Ok(t) => s.period_type = Some(t),
            Err(e) => bad(&mut s.warnings, "bad-period-type", e),
        },
        (tag::PERIOD, Value::Varint(v)) => s.period = int(v),
        (tag::COMMENT, Value::Varint(v)) => s.comments.push(int(v)),
        (tag::COMMENT, Value::Bytes(b)) => match wire::packed_varints(b) {
            Ok(v) => s.comments.extend(v.into_iter().map(int)),
            Err(_) => s.warnings.add("bad-comment", || {
                format!("skipped comments that do not decode at byte {offset}")
            }),
        },
        (tag::DEFAULT_SAMPLE_TYPE, Value::Varint(v)) => s.default_sample_type = int(v),
        (tag::SAMPLE_TYPE..=tag::DEFAULT_SAMPLE_TYPE, _) => {
            s.warnings.add("wrong-wire-type", || {
                format!(
                    "skipped field {} ({}) at byte {offset}: unexpected wire type",
                    field.number,
                    field_name(field.number)
                )
            });
        }
        // Fields from newer schemas (tick_unit, label_set) or other tools.
        _ => {}
    }
    Ok(())
}

/// The string table, interned into the stack table on first use.
struct Strings<'s, 'a> {
    strings: &'s [Cow<'a, str>],
    ids: Vec<Option<StrId>>,
}

impl<'s, 'a> Strings<'s, 'a> {
    fn new(strings: &'s [Cow<'a, str>]) -> Self {
        Strings {
            strings,
            ids: vec![None; strings.len()],
        }
    }

    fn get(&self, index: i64) -> Option<&'s str> {
        let index = usize::try_from(index).ok()?;
        self.strings.get(index).map(|s| &**s)
    }

    /// The string at `index`, empty when out of range (for classification,
    /// which must not count warnings twice).
    fn text(&self, index: i64) -> &'s str {
        self.get(index).unwrap_or("")
    }

    fn intern(&mut self, table: &mut StackTable, warnings: &mut Warnings, index: i64) -> StrId {
        self.try_intern(table, index).unwrap_or_else(|| {
            let len = self.strings.len();
            warnings.add("bad-string-index", || {
                format!(
                    "string index {index} is out of range (the table has {len} strings); used an \
                     empty string"
                )
            });
            StrId::EMPTY
        })
    }

    fn try_intern(&mut self, table: &mut StackTable, index: i64) -> Option<StrId> {
        if index == 0 {
            return Some(StrId::EMPTY);
        }
        let i = usize::try_from(index).ok()?;
        let slot = self.ids.get_mut(i)?;
        if let Some(id) = *slot {
            return Some(id);
        }
        let id = table.intern_str(self.strings.get(i)?);
        *slot = Some(id);
        Some(id)
    }

    fn value_type(
        &mut self,
        table: &mut StackTable,
        warnings: &mut Warnings,
        t: proto::ValueType,
    ) -> ValueType {
        ValueType {
            kind: self.intern(table, warnings, t.r#type),
            unit: self.intern(table, warnings, t.unit),
        }
    }
}

/// Element position by pprof id. Go numbers locations and functions 1..N,
/// so a vector indexed by id is the usual case; other producers may use
/// addresses as ids, which need a map.
enum IdIndex {
    Dense(Vec<u32>),
    Sparse(FxHashMap<u64, u32>),
}

impl IdIndex {
    const NONE: u32 = u32::MAX;

    /// Positions past `u32` (only with limits raised far beyond real
    /// profiles) become unreachable instead of aliasing another element.
    fn position(pos: usize) -> u32 {
        u32::try_from(pos).unwrap_or(Self::NONE)
    }

    fn build(
        ids: impl ExactSizeIterator<Item = u64> + Clone,
        warnings: &mut Warnings,
        what: &'static str,
    ) -> IdIndex {
        let count = ids.len();
        let max = ids.clone().max().unwrap_or(0);
        let dense_cap = (count as u64).saturating_mul(2).saturating_add(1024);
        let mut duplicate = |id: u64| {
            warnings.add("duplicate-id", || {
                format!("{what} id {id} appears more than once; kept the first")
            });
        };
        if max < dense_cap {
            let mut v = vec![Self::NONE; max as usize + 1];
            for (pos, id) in ids.enumerate() {
                match v.get_mut(id as usize) {
                    Some(slot) if *slot == Self::NONE => *slot = Self::position(pos),
                    _ => duplicate(id),
                }
            }
            IdIndex::Dense(v)
        } else {
            let mut m = FxHashMap::default();
            m.reserve(count);
            for (pos, id) in ids.enumerate() {
                match m.entry(id) {
                    Entry::Vacant(e) => {
                        e.insert(Self::position(pos));
                    }
                    Entry::Occupied(_) => duplicate(id),
                }
            }
            IdIndex::Sparse(m)
        }
    }

    fn get(&self, id: u64) -> Option<usize> {
        let pos = match self {
            IdIndex::Dense(v) => *v.get(usize::try_from(id).ok()?)?,
            IdIndex::Sparse(m) => *m.get(&id)?,
        };
        (pos != Self::NONE).then_some(pos as usize)
    }
}

/// The frames of every location, innermost first, computed once: Go
/// profiles share each location between many samples.
struct LocationFrames {
    index: IdIndex,
    /// `(start, end)` into `frames`, per location in file order.
    ranges: Vec<(usize, usize)>,
    frames: Vec<FrameId>,
}

impl LocationFrames {
    fn build(
        scan: &Scan<'_>,
        strings: &mut Strings<'_, '_>,
        table: &mut StackTable,
        warnings: &mut Warnings,
    ) -> LocationFrames {
        let function_index =
            IdIndex::build(scan.functions.iter().map(|f| f.id), warnings, "function");
        // Function name and file, interned once per function.
        let functions: Vec<(StrId, StrId)> = scan
            .functions
            .iter()
            .map(|f| {
                let mut name = strings.intern(table, warnings, f.name);
                if name == StrId::EMPTY && f.system_name != 0 {
                    name = strings.intern(table, warnings, f.system_name);
                }
                (name, strings.intern(table, warnings, f.filename))
            })
            .collect();
        let index = IdIndex::build(scan.locations.iter().map(|l| l.id), warnings, "location");
        let mut ranges = Vec::with_capacity(scan.locations.len());
        let mut frames = Vec::with_capacity(scan.lines.len());
        for loc in &scan.locations {
            let start = frames.len();
            let lines = scan
                .lines
                .get(loc.lines_start..loc.lines_end)
                .unwrap_or(&[]);
            for line in lines {
                let Some(&(mut name, file)) = function_index
                    .get(line.function_id)
                    .and_then(|i| functions.get(i))
                else {
                    warnings.add("unknown-function", || {
                        format!(
                            "location {} refers to function {}, which the profile does not \
                             define; dropped that frame",
                            loc.id, line.function_id
                        )
                    });
                    continue;
                };
                if name == StrId::EMPTY {
                    name = table.intern_str(&address_name(loc.address));
                }
                let line_no = u32::try_from(line.line).unwrap_or_else(|_| {
                    warnings.add("bad-line-number", || {
                        format!("location {} has line number {}; used 0", loc.id, line.line)
                    });
                    0
                });
                frames.push(table.intern_frame_ids(crate::model::Frame {
                    function: name,
                    file,
                    line: line_no,
                }));
            }
            if frames.len() == start {
                // Not symbolized (or every line was unusable): name it by address.
                frames.push(table.intern_frame(&address_name(loc.address), "", 0));
            }
            ranges.push((start, frames.len()));
        }
        LocationFrames {
            index,
            ranges,
            frames,
        }
    }

    fn get(&self, id: u64) -> Option<&[FrameId]> {
        let &(start, end) = self.ranges.get(self.index.get(id)?)?;
        self.frames.get(start..end)
    }
}

/// How a frame the profile does not symbolize is named: its address.
pub(crate) fn address_name(address: u64) -> String {
    format!("{address:#x}")
}

struct DecodedSamples {
    samples: Vec<Sample>,
    dropped: u64,
}

/// The second walk: every sample, into stacks, values and label sets.
#[allow(clippy::too_many_arguments)]
fn decode_samples(
    data: &[u8],
    scan: &Scan<'_>,
    locations: &LocationFrames,
    strings: &mut Strings<'_, '_>,
    table: &mut StackTable,
    warnings: &mut Warnings,
    limits: &Limits,
    progress: &Progress,
) -> Result<DecodedSamples, FormatError> {
    let value_count = scan.sample_types.len();
    let max_depth = limits.max_stack_depth;
    let mut out = DecodedSamples {
        samples: Vec::with_capacity(scan.sample_count),
        dropped: 0,
    };
    let mut sample = proto::Sample::default();
    let mut frames: Vec<FrameId> = Vec::new();
    let mut labels = Vec::new();
    // Label sets repeat (a request's labels, heap samples' `bytes`); looking
    // them up as given saves sorting and allocating a set per sample.
    let mut label_sets: FxHashMap<Vec<(StrId, LabelValue)>, LabelSetId> = FxHashMap::default();
    let mut fields = Fields::new(data);
    let mut n = 0usize;
    // The first walk read the same bytes without error, so this loop ends
    // only at the end of the data; a failure here is still handled.
    while let Some(field) = fields.next() {
        let field = field.map_err(|e| wire_error(&e, data.len()))?;
        let (tag::SAMPLE, Value::Bytes(bytes)) = (field.number, field.value) else {
            continue;
        };
        n += 1;
        if n.is_multiple_of(PROGRESS_EVERY) {
            check_cancel(progress)?;
            progress.set(0.5 + 0.5 * fields.pos() as f32 / data.len() as f32);
        }
        sample.clear();
        if let Err(e) = sample.merge(bytes) {
            out.dropped += 1;
            warnings.add("bad-sample", || {
                format!(
                    "skipped a sample that does not decode at byte {}: {e}",
                    field.offset
                )
            });
            continue;
        }

        frames.clear();
        let mut too_deep = false;
        for &id in &sample.location_id {
            let Some(loc) = locations.get(id) else {
                warnings.add("unknown-location", || {
                    format!(
                        "a sample refers to location {id}, which the profile does not define; \
                         dropped that frame"
                    )
                });
                continue;
            };
            let room = max_depth.saturating_sub(frames.len());
            if loc.len() > room {
                frames.extend_from_slice(loc.get(..room).unwrap_or(&[]));
                too_deep = true;
                break;
            }
            frames.extend_from_slice(loc);
        }
        if too_deep {
            warnings.add("stack-too-deep", || {
                format!("a stack is deeper than {max_depth} frames; kept the innermost {max_depth}")
            });
        }
        let stack = table.intern_inner_first(&frames);

        labels.clear();
        for label in &sample.label {
            let Some(key) = strings.try_intern(table, label.key) else {
                warnings.add("bad-string-index", || {
                    format!(
                        "label key index {} is out of range; dropped the label",
                        label.key
                    )
                });
                continue;
            };
            let value = if label.str != 0 {
                LabelValue::Str(strings.intern(table, warnings, label.str))
            } else if label.num != 0 || label.num_unit != 0 {
                LabelValue::Num {
                    value: label.num,
                    unit: strings.intern(table, warnings, label.num_unit),
                }
            } else {
                LabelValue::Str(StrId::EMPTY)
            };
            labels.push((key, value));
        }
        let labels = match label_sets.get(&labels[..]) {
            Some(&id) => id,
            None => {
                let id = table.intern_labels(labels.clone());
                label_sets.insert(labels.clone(), id);
                id
            }
        };

        let mut values = std::mem::take(&mut sample.value);
        if values.len() != value_count {
            let got = values.len();
            warnings.add("value-count", || {
                format!(
                    "a sample has {got} values for {value_count} sample types; padded or cut to \
                     match"
                )
            });
            values.resize(value_count, 0);
        }
        out.samples.push(Sample {
            stack,
            values,
            labels,
        });
    }
    Ok(out)
}

/// One goroutine record per sample, the count taken from `value_index`;
/// `leaked` for a goroutineleak profile, whose every goroutine the runtime
/// proved leaked.
fn to_goroutines(
    samples: Vec<Sample>,
    value_index: usize,
    leaked: bool,
    limits: &Limits,
    warnings: &mut Warnings,
) -> Vec<Goroutine> {
    let mut budget = GoroutineBudget::new(limits);
    let out = samples
        .into_iter()
        .filter_map(|s| {
            let value = s.values.get(value_index).copied().unwrap_or(0);
            let Ok(claimed) = u64::try_from(value) else {
                warnings.add("negative-count", || {
                    format!("a goroutine sample has the negative count {value}; skipped it")
                });
                return None;
            };
            let count = budget.take(claimed);
            if count == 0 && claimed > 0 {
                return None;
            }
            let mut g = Goroutine::new(s.stack);
            g.count = count;
            g.labels = s.labels;
            g.leaked = leaked;
            Some(g)
        })
        .collect();
    budget.warn(warnings);
    out
}

/// What the sample types say about the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Class {
    Known(ProfileType),
    /// `contentions` and `delay`: block or mutex, told by the stacks.
    Contention,
}

fn is_goroutine_type(kind: &str) -> bool {
    kind == "goroutine"
}

/// Go 1.26 names the leak profile's sample type after the profile,
/// `goroutineleak`; spellings other tools might use are accepted too.
fn is_goroutine_leak_type(kind: &str) -> bool {
    let normal: String = kind
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        normal.as_str(),
        "goroutineleak" | "goroutineleaks" | "leakedgoroutine" | "leakedgoroutines"
    )
}

/// The profile type from `(type, unit)` of every sample type and the name
/// of the default sample type.
fn classify(types: &[(&str, &str)], default_type: &str) -> Class {
    let has = |kind: &str| types.iter().any(|(k, _)| *k == kind);
    let first = types.first().map_or("", |(k, _)| *k);
    if types.iter().any(|(k, _)| is_goroutine_leak_type(k)) {
        return Class::Known(ProfileType::GoroutineLeak);
    }
    if has("goroutine") {
        return Class::Known(ProfileType::Goroutine);
    }
    let heap_types = [
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ];
    if heap_types.iter().any(|k| has(k)) {
        let allocs_default = default_type.starts_with("alloc_");
        let only_allocs = !has("inuse_space") && !has("inuse_objects");
        return Class::Known(if allocs_default || only_allocs {
            ProfileType::Allocs
        } else {
            ProfileType::Heap
        });
    }
    if has("contentions") && has("delay") {
        return Class::Contention;
    }
    if has("threadcreate") {
        return Class::Known(ProfileType::Threadcreate);
    }
    if types
        .iter()
        .any(|(k, u)| *k == "cpu" && *u == "nanoseconds")
        || (has("samples") && has("cpu"))
    {
        return Class::Known(ProfileType::Cpu);
    }
    let name = if first.is_empty() { "unknown" } else { first };
    Class::Known(ProfileType::Other(name.to_owned()))
}

/// Whether a function releases a lock: the innermost frame of every mutex
/// profile sample.
fn is_unlock(function: &str) -> bool {
    let method = function.rsplit('.').next().unwrap_or(function);
    matches!(
        method,
        "Unlock"
            | "RUnlock"
            | "unlock"
            | "unlockSlow"
            | "rUnlockSlow"
            | "unlock2"
            | "unlockWithRank"
    ) || function == "runtime._LostContendedRuntimeLock"
}

/// Mutex when most samples with a stack end in an unlock call, else block.
fn contention_type(table: &StackTable, samples: &[Sample]) -> ProfileType {
    let mut with_stack = 0usize;
    let mut unlock = 0usize;
    for s in samples {
        if let Some(leaf) = table.leaf(s.stack) {
            with_stack += 1;
            if is_unlock(table.function(leaf)) {
                unlock += 1;
            }
        }
    }
    if with_stack > 0 && unlock * 2 > with_stack {
        ProfileType::Mutex
    } else {
        ProfileType::Block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(types: &[(&str, &str)], default: &str) -> Class {
        classify(types, default)
    }

    #[test]
    fn classifies_go_profiles_by_sample_types() {
        let heap = [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ];
        let known = Class::Known;
        assert_eq!(
            class(&[("goroutine", "count")], ""),
            known(ProfileType::Goroutine)
        );
        assert_eq!(
            class(&[("goroutineleak", "count")], ""),
            known(ProfileType::GoroutineLeak)
        );
        assert_eq!(
            class(&[("goroutine_leak", "count")], ""),
            known(ProfileType::GoroutineLeak)
        );
        assert_eq!(class(&heap, ""), known(ProfileType::Heap));
        assert_eq!(class(&heap, "inuse_space"), known(ProfileType::Heap));
        assert_eq!(class(&heap, "alloc_space"), known(ProfileType::Allocs));
        assert_eq!(
            class(&[("samples", "count"), ("cpu", "nanoseconds")], ""),
            known(ProfileType::Cpu)
        );
        assert_eq!(
            class(&[("contentions", "count"), ("delay", "nanoseconds")], ""),
            Class::Contention
        );
        assert_eq!(
            class(&[("threadcreate", "count")], ""),
            known(ProfileType::Threadcreate)
        );
        assert_eq!(
            class(&[("widgets", "count")], ""),
            known(ProfileType::Other("widgets".into()))
        );
    }

    #[test]
    fn unlock_calls_mark_mutex_profiles() {
        for f in [
            "sync.(*Mutex).Unlock",
            "sync.(*RWMutex).RUnlock",
            "internal/sync.(*Mutex).unlockSlow",
            "runtime.unlock",
            "runtime._LostContendedRuntimeLock",
        ] {
            assert!(is_unlock(f), "{f}");
        }
        for f in [
            "sync.(*Mutex).Lock",
            "runtime.selectgo",
            "runtime.chanrecv1",
            "main.unlockAll",
        ] {
            assert!(!is_unlock(f), "{f}");
        }
    }

    #[test]
    fn sniffs_profiles_by_their_first_fields() {
        // period_type, then period: how Go starts most profiles.
        assert!(looks_like_profile(&[
            0x5a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x60, 0x01
        ]));
        // time_nanos first (CPU profiles).
        assert!(looks_like_profile(&[0x48, 0x89, 0xd6, 0x0a, 0x00]));
        // Cut short inside the first field: still a profile, parse says why not.
        assert!(looks_like_profile(&[0x0a, 0x04, 0x08]));
        // sample_type as a varint, an unknown field, a group: not a profile.
        assert!(!looks_like_profile(&[0x08, 0x01]));
        assert!(!looks_like_profile(&[0xf8, 0x07, 0x01]));
        assert!(!looks_like_profile(&[0x0b, 0x0c]));
        assert!(!looks_like_profile(&[]));
    }

    #[test]
    fn sparse_ids_use_a_map() {
        let mut w = Warnings::default();
        let ids = [0x4000_0000_u64, 7, 7];
        let index = IdIndex::build(ids.iter().copied(), &mut w, "location");
        assert!(matches!(index, IdIndex::Sparse(_)));
        assert_eq!(index.get(7), Some(1));
        assert_eq!(index.get(8), None);
        assert_eq!(w.count("duplicate-id"), 1);
        let dense = IdIndex::build([1u64, 2, 3].into_iter(), &mut w, "location");
        assert!(matches!(dense, IdIndex::Dense(_)));
        assert_eq!(dense.get(3), Some(2));
        assert_eq!(dense.get(u64::MAX), None);
    }
}
