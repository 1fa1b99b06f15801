//! Folded stacks: `root;caller;callee 12`, one stack per line, outermost
//! frame first, a count after the last space. The interchange format of
//! inferno, Brendan Gregg's FlameGraph scripts and speedscope.
//!
//! Frames carry only a function name; a trailing `_[k]`-style annotation
//! that some collapsers add is kept as part of the name.

use super::Loaded;
use super::error::FormatError;
use super::limits::Limits;
use super::text::{self, Lines};
use crate::model::{
    Input, LabelSetId, Sample, SampleProfile, Snapshot, SnapshotData, Source, StackTable,
    ValueType, Warnings,
};
use crate::progress::Progress;

/// Parses folded stacks into a one-column sampled profile.
pub fn parse(
    data: &[u8],
    source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let (text, lossy) = text::to_text(data);
    let text: &str = &text;
    let mut table = StackTable::default();
    let mut warnings = Warnings::default();
    if lossy {
        warnings.add("invalid-utf8", || {
            "the file is not valid UTF-8; invalid bytes were replaced".to_owned()
        });
    }
    let mut samples: Vec<Sample> = Vec::new();
    let mut frames = Vec::new();
    for (n, (offset, line)) in Lines::new(text).enumerate() {
        if n % 65_536 == 0 {
            progress.set_pos(offset, text.len());
            if progress.is_cancelled() {
                return Err(FormatError::Cancelled);
            }
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line
            .rsplit_once(' ')
            .and_then(|(stack, count)| Some((stack.trim(), count.parse::<i64>().ok()?)));
        let Some((stack, count)) = parsed.filter(|(s, _)| !s.is_empty()) else {
            warnings.add("ignored-line", || {
                format!(
                    "ignored lines that are not `frames count` (first at line {})",
                    text::line_number(text, offset)
                )
            });
            continue;
        };
        if samples.len() as u64 >= limits.max_goroutines {
            let max = limits.max_goroutines;
            warnings.add("record-limit", || {
                format!("stopped after {max} stacks, the limit")
            });
            break;
        }
        frames.clear();
        for f in stack.split(';').filter(|f| !f.is_empty()) {
            if frames.len() >= limits.max_stack_depth {
                let max = limits.max_stack_depth;
                warnings.add("deep-stack", || {
                    format!("kept the outermost {max} frames of stacks deeper than that")
                });
                break;
            }
            frames.push(table.intern_frame(f, "", 0));
        }
        let stack = table.intern_outer_first(frames.iter().copied());
        samples.push(Sample {
            stack,
            values: vec![count],
            labels: LabelSetId::NONE,
        });
    }
    if samples.is_empty() {
        return Err(FormatError::NothingFound {
            format: "folded stacks",
            what: "stack line",
            detail: String::new(),
        });
    }
    let kind = table.intern_str("samples");
    let unit = table.intern_str("count");
    progress.set(1.0);
    Ok(Loaded {
        table,
        input: Input::Snapshot(Snapshot {
            source,
            captured_at_ns: None,
            duration_ns: None,
            data: SnapshotData::Samples(SampleProfile {
                sample_types: vec![ValueType { kind, unit }],
                samples,
                ..SampleProfile::default()
            }),
            stated_total: None,
            panic: None,
            warnings,
        }),
    })
}
