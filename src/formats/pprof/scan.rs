//! The first walk: the protobuf wire of a `Profile` into tables.
//!
//! A sample means nothing until the strings, locations and functions it
//! refers to are known, and Go writes the string table last. So this walk
//! collects every table (the strings as slices of the input, so nothing is
//! copied), the scalars, and only counts the samples, so the second walk
//! ([`super::samples`]) can allocate for them once and decode each one
//! against complete tables.
//!
//! An element below the top level that does not decode costs only itself
//! and a warning; the walk itself failing (a cut-off profile, a bad key) is
//! an error, because the string table is then lost.

use std::borrow::Cow;

use prost::Message as _;

use super::wire::{self, Field, Fields, Value, WireError, WireErrorKind};
use super::{FORMAT, PROGRESS_EVERY, check_cancel, proto};
use crate::formats::error::FormatError;
use crate::formats::limits::Limits;
use crate::model::Warnings;
use crate::progress::Progress;

/// Field numbers of `Profile`.
pub(super) mod tag {
    pub(crate) const SAMPLE_TYPE: u32 = 1;
    pub(crate) const SAMPLE: u32 = 2;
    pub(crate) const MAPPING: u32 = 3;
    pub(crate) const LOCATION: u32 = 4;
    pub(crate) const FUNCTION: u32 = 5;
    pub(crate) const STRING_TABLE: u32 = 6;
    pub(crate) const DROP_FRAMES: u32 = 7;
    pub(crate) const KEEP_FRAMES: u32 = 8;
    pub(crate) const TIME_NANOS: u32 = 9;
    pub(crate) const DURATION_NANOS: u32 = 10;
    pub(crate) const PERIOD_TYPE: u32 = 11;
    pub(crate) const PERIOD: u32 = 12;
    pub(crate) const COMMENT: u32 = 13;
    pub(crate) const DEFAULT_SAMPLE_TYPE: u32 = 14;
}

/// The schema's name of a top-level field, for messages.
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

/// What the first walk found: everything but the samples.
#[derive(Default)]
pub(super) struct Scan<'a> {
    pub(super) strings: Vec<Cow<'a, str>>,
    pub(super) sample_types: Vec<proto::ValueType>,
    pub(super) period_type: Option<proto::ValueType>,
    pub(super) mappings: Vec<proto::Mapping>,
    pub(super) functions: Vec<proto::Function>,
    pub(super) locations: Vec<RawLocation>,
    /// Lines of every location, in location order.
    pub(super) lines: Vec<proto::Line>,
    pub(super) sample_count: usize,
    pub(super) comments: Vec<i64>,
    pub(super) time_nanos: i64,
    pub(super) duration_nanos: i64,
    pub(super) period: i64,
    pub(super) default_sample_type: i64,
    pub(super) warnings: Warnings,
}

/// A location whose lines are a range of [`Scan::lines`]: one vector for
/// every line instead of one per location.
pub(super) struct RawLocation {
    pub(super) id: u64,
    pub(super) address: u64,
    pub(super) lines_start: usize,
    pub(super) lines_end: usize,
}

/// Element counts share the goroutine cap: a broken or hostile profile must
/// not make the loader allocate without bound.
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

/// A failed walk as the user sees it: which field, at which byte, and why
/// a cut-off profile cannot be loaded in part. Both walks report this way.
pub(super) fn wire_error(e: &WireError, len: usize) -> FormatError {
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
pub(super) fn scan<'a>(
    data: &'a [u8],
    limits: &Limits,
    progress: &Progress,
) -> Result<Scan<'a>, FormatError> {
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

/// One top-level field into the tables. A damaged element is skipped with a
/// warning; only a count over the limits stops the walk.
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
