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
    Frame, FrameId, Input, LabelSetId, Sample, SampleProfile, Snapshot, SnapshotData, Source,
    StackId, StackTable, StrId, ValueType, Warnings,
};
use crate::progress::Progress;

/// Length of the common prefix of two byte strings, compared 16 bytes at a
/// time (lines of deep stacks share hundreds of bytes).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 16 <= n && a[i..i + 16] == b[i..i + 16] {
        i += 16;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

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
    // Distinct prefixes and frames grow with the input; a generous guess
    // (a node per ~64 bytes, a frame per ~512) saves rehashing big maps.
    table.reserve(data.len() / 64, data.len() / 512);
    let mut warnings = Warnings::default();
    if lossy {
        warnings.add("invalid-utf8", || {
            "the file is not valid UTF-8; invalid bytes were replaced".to_owned()
        });
    }
    let mut samples: Vec<Sample> = Vec::new();
    // The previous line's stack text, and for each of its frames where the
    // frame ends in that text and the stack through that frame.
    let mut prev_stack: &str = "";
    let mut path: Vec<(usize, StackId)> = Vec::new();
    // Frame of each function name, by string id.
    let mut frame_of: Vec<Option<FrameId>> = Vec::new();
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
        // Collapsers write sorted lines, so a line mostly repeats the
        // previous one's outer frames: those come from `path` instead of
        // being interned again.
        let common = common_prefix(stack.as_bytes(), prev_stack.as_bytes());
        let ends_frame = |end: usize| {
            end < common || (end == common && stack.as_bytes().get(end).is_none_or(|&b| b == b';'))
        };
        let kept = path.iter().take_while(|&&(end, _)| ends_frame(end)).count();
        path.truncate(kept);
        let rest_from = path.last().map_or(0, |&(end, _)| end + 1);
        let mut at = path.last().map_or(StackId::EMPTY, |&(_, id)| id);
        let mut end = rest_from;
        for f in stack.get(rest_from..).unwrap_or("").split(';') {
            let frame_end = end + f.len();
            end = frame_end + 1;
            if f.is_empty() {
                continue;
            }
            if path.len() >= limits.max_stack_depth {
                let max = limits.max_stack_depth;
                warnings.add("deep-stack", || {
                    format!("kept the outermost {max} frames of stacks deeper than that")
                });
                break;
            }
            // Folded frames have no file or line: one frame per name.
            let function = table.intern_str(f);
            let frame = match frame_of.get(function.index()).copied().flatten() {
                Some(frame) => frame,
                None => {
                    let frame = table.intern_frame_ids(Frame {
                        function,
                        file: StrId::EMPTY,
                        line: 0,
                    });
                    if frame_of.len() <= function.index() {
                        frame_of.resize(function.index() + 1, None);
                    }
                    frame_of[function.index()] = Some(frame);
                    frame
                }
            };
            at = table.child(at, frame);
            path.push((frame_end, at));
        }
        prev_stack = stack;
        let stack = at;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Format;

    fn stacks(text: &str, limits: &Limits) -> (Vec<String>, Warnings) {
        let source = Source {
            path: "t.folded".into(),
            format: Format::Folded,
            profile_type: None,
            bytes: text.len() as u64,
        };
        let l = parse(text.as_bytes(), source, limits, &Progress::none()).unwrap();
        let s = l.input.as_snapshot().expect("a snapshot");
        let SnapshotData::Samples(p) = &s.data else {
            panic!("samples")
        };
        let out = p
            .samples
            .iter()
            .map(|smp| {
                let names: Vec<&str> = l
                    .table
                    .frames_outer_first(smp.stack)
                    .into_iter()
                    .map(|f| l.table.function(f))
                    .collect();
                format!("{} {}", names.join(";"), smp.values[0])
            })
            .collect();
        (out, s.warnings.clone())
    }

    #[test]
    fn shared_prefixes_split_only_at_frame_boundaries() {
        let text = "a;b 1\na;b 2\na;bc;d 3\na;b;c 4\na;;b;c 5\nab;c 6\na 7\n;a;b 8\n";
        let (got, w) = stacks(text, &Limits::default());
        assert_eq!(
            got,
            [
                "a;b 1", "a;b 2", "a;bc;d 3", "a;b;c 4", "a;b;c 5", "ab;c 6", "a 7", "a;b 8"
            ]
        );
        assert!(w.is_empty());
        assert_eq!(
            common_prefix(b"0123456789abcdefXY", b"0123456789abcdefXZ"),
            17
        );
        assert_eq!(common_prefix(b"", b"x"), 0);
    }

    #[test]
    fn deep_stacks_keep_their_outer_frames_with_prefix_reuse() {
        let limits = Limits {
            max_stack_depth: 2,
            ..Limits::default()
        };
        let (got, w) = stacks("a;b;c 1\na;b;d 2\na;e 3\n", &limits);
        assert_eq!(got, ["a;b 1", "a;b 2", "a;e 3"]);
        assert_eq!(w.count("deep-stack"), 2);
    }
}
