//! The second walk: samples into stacks, values and label sets, and then
//! into goroutine records or a weighted sample profile.
//!
//! Samples are most of a profile, so each one is decoded into buffers that
//! the next one reuses, its stack comes from frames resolved once per
//! location ([`LocationFrames`]) and its labels from a cache of the label
//! sets seen so far. A sample that does not decode is dropped and counted,
//! the rest of the profile still loads.

use prost::Message as _;
use rustc_hash::FxHashMap;

use super::resolve::{self, LocationFrames, Strings};
use super::scan::{Scan, tag, wire_error};
use super::wire::{Fields, Value};
use super::{PROGRESS_EVERY, check_cancel, proto};
use crate::formats::error::FormatError;
use crate::formats::limits::{GoroutineBudget, Limits};
use crate::model::{
    FrameId, Goroutine, LabelSetId, LabelValue, Sample, SampleProfile, StackTable, StrId,
    ValueType, Warnings,
};
use crate::progress::Progress;

/// Every sample that decoded, and how many did not.
pub(super) struct DecodedSamples {
    pub(super) samples: Vec<Sample>,
    pub(super) dropped: u64,
}

/// What decoding one sample reuses from the one before: the message, the
/// frame and label buffers, and the label sets already interned.
pub(super) struct SampleDecoder<'l> {
    locations: &'l LocationFrames,
    /// How many sample types there are: every sample gets that many values.
    value_count: usize,
    max_depth: usize,
    sample_count: usize,
    sample: proto::Sample,
    frames: Vec<FrameId>,
    labels: Vec<(StrId, LabelValue)>,
    /// Label sets repeat (a request's labels, heap samples' `bytes`);
    /// looking them up as given saves sorting and allocating a set per
    /// sample.
    label_sets: FxHashMap<Vec<(StrId, LabelValue)>, LabelSetId>,
}

impl<'l> SampleDecoder<'l> {
    pub(super) fn new(
        scan: &Scan<'_>,
        locations: &'l LocationFrames,
        limits: &Limits,
    ) -> SampleDecoder<'l> {
        SampleDecoder {
            locations,
            value_count: scan.sample_types.len(),
            max_depth: limits.max_stack_depth,
            sample_count: scan.sample_count,
            sample: proto::Sample::default(),
            frames: Vec::new(),
            labels: Vec::new(),
            label_sets: FxHashMap::default(),
        }
    }

    /// Walks `data` again and decodes every sample field, reporting the
    /// second half of the progress.
    pub(super) fn decode_all(
        mut self,
        data: &[u8],
        strings: &mut Strings<'_, '_>,
        table: &mut StackTable,
        warnings: &mut Warnings,
        progress: &Progress,
    ) -> Result<DecodedSamples, FormatError> {
        let mut out = DecodedSamples {
            samples: Vec::with_capacity(self.sample_count),
            dropped: 0,
        };
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
            match self.decode(bytes, field.offset, strings, table, warnings) {
                Some(sample) => out.samples.push(sample),
                None => out.dropped += 1,
            }
        }
        Ok(out)
    }

    /// One sample, `None` (and a warning) when its bytes do not decode.
    fn decode(
        &mut self,
        bytes: &[u8],
        offset: usize,
        strings: &mut Strings<'_, '_>,
        table: &mut StackTable,
        warnings: &mut Warnings,
    ) -> Option<Sample> {
        self.sample.clear();
        if let Err(e) = self.sample.merge(bytes) {
            warnings.add("bad-sample", || {
                format!("skipped a sample that does not decode at byte {offset}: {e}")
            });
            return None;
        }
        let stack = self.locations.stack(
            &self.sample.location_id,
            self.max_depth,
            &mut self.frames,
            table,
            warnings,
        );
        let labels = self.label_set(strings, table, warnings);
        let values = self.values(warnings);
        Some(Sample {
            stack,
            values,
            labels,
        })
    }

    /// The sample's labels as one interned set. A label whose key is out of
    /// range is dropped: without a key it says nothing.
    fn label_set(
        &mut self,
        strings: &mut Strings<'_, '_>,
        table: &mut StackTable,
        warnings: &mut Warnings,
    ) -> LabelSetId {
        self.labels.clear();
        for label in &self.sample.label {
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
            self.labels.push((key, value));
        }
        match self.label_sets.get(&self.labels[..]) {
            Some(&id) => id,
            None => {
                let id = table.intern_labels(self.labels.clone());
                self.label_sets.insert(self.labels.clone(), id);
                id
            }
        }
    }

    /// The sample's values, one per sample type: analysis indexes them by
    /// sample type, so a sample with too few or too many is padded or cut.
    fn values(&mut self, warnings: &mut Warnings) -> Vec<i64> {
        let mut values = std::mem::take(&mut self.sample.value);
        let value_count = self.value_count;
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
        values
    }
}

/// One goroutine record per sample, the count taken from `value_index`;
/// `leaked` for a goroutineleak profile, whose every goroutine the runtime
/// proved leaked.
pub(super) fn to_goroutines(
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

/// Every profile but the goroutine kinds: the samples with their value
/// types, and what a viewer needs to weigh them (period, mappings, comments).
pub(super) fn to_sample_profile(
    scan: &Scan<'_>,
    strings: &mut Strings<'_, '_>,
    table: &mut StackTable,
    warnings: &mut Warnings,
    sample_types: Vec<ValueType>,
    default_type: usize,
    decoded: DecodedSamples,
) -> SampleProfile {
    let mappings = resolve::mappings(scan, strings, table, warnings);
    let period_type = scan
        .period_type
        .map(|t| strings.value_type(table, warnings, t));
    let comments = scan
        .comments
        .iter()
        .map(|&c| strings.intern(table, warnings, c))
        .collect();
    SampleProfile {
        sample_types,
        default_type,
        samples: decoded.samples,
        period_type,
        period: scan.period,
        mappings,
        comments,
        dropped_samples: decoded.dropped,
    }
}
