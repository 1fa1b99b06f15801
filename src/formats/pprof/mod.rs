//! pprof protobuf profiles (`/debug/pprof/<name>` without `debug=`).
//!
//! A profile is a `perftools.profiles.Profile` message ([`proto`]): sample
//! types, samples (location ids leaf first, one value per sample type,
//! labels), locations (an address and its source lines, innermost inlined
//! function first), functions, mappings and a string table that everything
//! else indexes into.
//!
//! Loading walks the top-level fields twice (`wire.rs`). The first walk
//! (`scan.rs`) takes the string table as slices of the input and decodes
//! locations, functions and mappings; `resolve.rs` turns locations into
//! frames once each; the second walk (`samples.rs`) decodes samples one at
//! a time into reused buffers, now that every id they refer to is known,
//! and `classify.rs` tells which profile it was. Go writes the string table last,
//! so a profile cut short has lost exactly the part that names things: such
//! input is an error, not a partial load.
//!
//! Damage below the top level (a sample that does not decode, an id that
//! points nowhere, a string index out of range) costs only the element it is
//! in and is counted in the snapshot's warnings.
//!
//! # Telling profiles apart
//!
//! The file does not name its profile, so the type comes from the sample
//! types (see `classify.rs`). Two pairs need more:
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

mod classify;
pub mod proto;
mod resolve;
mod samples;
mod scan;
pub(crate) mod wire;

use self::classify::classify_profile;
pub(crate) use self::resolve::address_name;
use self::resolve::{LocationFrames, Strings};
use self::samples::{SampleDecoder, to_goroutines, to_sample_profile};
use self::scan::tag;
use self::wire::{Fields, Value, WireErrorKind};
use super::Loaded;
use super::error::FormatError;
use super::limits::Limits;
use crate::model::{
    Input, ProfileType, Snapshot, SnapshotData, Source, StackTable, ValueType, Warnings,
};
use crate::progress::Progress;

const FORMAT: &str = "pprof";

/// How many elements pass between progress updates and cancel checks.
const PROGRESS_EVERY: usize = 4096;

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
/// Goroutine and goroutineleak profiles become one
/// [`crate::model::Goroutine`] record per sample (`count` = the sample's
/// value, no state: the protobuf form does not carry wait reasons; every
/// goroutine of a goroutineleak profile is `leaked`, the runtime proved
/// it); every other profile becomes a [`crate::model::SampleProfile`].
pub fn parse(
    data: &[u8],
    mut source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let mut scan = scan::scan(data, limits, progress)?;
    let mut table = StackTable::default();
    let mut warnings = std::mem::take(&mut scan.warnings);
    let mut strings = Strings::new(&scan.strings);

    let classified = classify_profile(&scan, &strings);
    let sample_types: Vec<ValueType> = scan
        .sample_types
        .iter()
        .map(|t| strings.value_type(&mut table, &mut warnings, *t))
        .collect();
    let frames = LocationFrames::build(&scan, &mut strings, &mut table, &mut warnings);
    let samples = SampleDecoder::new(&scan, &frames, limits).decode_all(
        data,
        &mut strings,
        &mut table,
        &mut warnings,
        progress,
    )?;

    let profile_type = classified.class.profile_type(&table, &samples.samples);
    let data = if profile_type.is_goroutines() {
        SnapshotData::Goroutines(to_goroutines(
            samples.samples,
            classified.goroutine_value,
            profile_type == ProfileType::GoroutineLeak,
            limits,
            &mut warnings,
        ))
    } else {
        SnapshotData::Samples(to_sample_profile(
            &scan,
            &mut strings,
            &mut table,
            &mut warnings,
            sample_types,
            classified.default_type,
            samples,
        ))
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

/// Both walks check for cancellation every [`PROGRESS_EVERY`] elements, so
/// a huge profile stops soon after the user asks.
fn check_cancel(progress: &Progress) -> Result<(), FormatError> {
    if progress.is_cancelled() {
        Err(FormatError::Cancelled)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
