//! The `?debug=1` dialect of count profiles (`goroutine`, `threadcreate`,
//! custom `pprof.NewProfile` profiles): stacks aggregated with counts.
//!
//! ```text
//! goroutine profile: total 45
//! 10 @ 0x4704ce 0x405dad 0x405a17 0x6e09fd 0x478321
//! # labels: {"endpoint":"search"}
//! #    0x6e09fc    main.querySearchBackend+0x17c    example.com/leakyd/main.go:215
//!
//! ```
//!
//! The runtime leaves out the runtime frames at the top of each stack
//! (`runtime.gopark`, `runtime.chansend`) and `runtime.goexit`, so frames
//! here are a subset of what `debug=2` and the protobuf profile show; the
//! analysis compares on what all dialects have. Columns are aligned by a
//! tabwriter, so fields are separated by one or more tabs. A record whose
//! PCs all belong to hidden frames prints no frame at all: it is kept with
//! an empty stack.
//!
//! Records of other count profiles (`threadcreate`) may come with no frame
//! line at all where nothing symbolized them: their stacks are then named
//! by the addresses after `@`, as unsymbolized protobuf locations are, so
//! distinct stacks stay distinct.
//!
//! A profile with no records is an empty snapshot when its header says
//! `total 0`: an empty `goroutineleak` profile, nothing leaked.
//! Every goroutine of a `goroutineleak` profile is marked leaked: the
//! runtime proved it.

use super::error::FormatError;
use super::limits::{GoroutineBudget, Limits};
use super::text::{self, Lines};
use super::{Loaded, detect};
use crate::model::{
    FrameId, Goroutine, Input, ProfileType, Sample, SampleProfile, Snapshot, SnapshotData, Source,
    StackTable, ValueType, Warnings,
};
use crate::progress::Progress;

struct Record<'a> {
    count: u64,
    /// The addresses after `@`, for records no frame line symbolizes.
    pcs: &'a str,
    frames: Vec<FrameId>,
    labels: crate::model::LabelSetId,
    /// Frames past the depth limit were dropped.
    capped: bool,
    /// The count did not fit the goroutine budget at all: left out.
    over_budget: bool,
}

impl Record<'_> {
    /// Adds the next outer frame, up to `max_depth` frames.
    fn push_frame(&mut self, frame: FrameId, max_depth: usize, warnings: &mut Warnings) {
        if self.frames.len() < max_depth {
            self.frames.push(frame);
        } else if !self.capped {
            self.capped = true;
            warnings.add("deep-stack", || {
                format!("kept the innermost {max_depth} frames of stacks deeper than that")
            });
        }
    }
}

/// Parses a `debug=1` count profile; `data` is already inflated.
pub fn parse(
    data: &[u8],
    mut source: Source,
    limits: &Limits,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let (text, lossy) = text::to_text(data);
    let text: &str = &text;
    let mut table = StackTable::default();
    let mut warnings = Warnings::default();
    if lossy {
        warnings.add("invalid-utf8", || {
            "the profile is not valid UTF-8; invalid bytes were replaced".to_owned()
        });
    }
    let mut profile_name: Option<String> = None;
    let mut stated_total = None;
    let mut records: Vec<Record> = Vec::new();
    let mut current: Option<Record> = None;
    let mut total: u64 = 0;
    let mut budget = GoroutineBudget::new(limits);
    let warn = |w: &mut Warnings, kind: &'static str, offset: usize, what: &str| {
        w.add(kind, || {
            format!("{what} (first at line {})", text::line_number(text, offset))
        });
    };

    for (n, (offset, line)) in Lines::new(text).enumerate() {
        if n % 65_536 == 0 {
            progress.set_pos(offset, text.len());
            if progress.is_cancelled() {
                return Err(FormatError::Cancelled);
            }
        }
        if line.len() > limits.max_line_bytes {
            warn(
                &mut warnings,
                "long-line",
                offset,
                "skipped over-long lines",
            );
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            records.extend(current.take());
            continue;
        }
        if detect::is_count_profile_header(trimmed) && profile_name.is_none() {
            if let Some((name, n)) = trimmed.split_once(" profile: total ") {
                profile_name = Some(name.to_owned());
                stated_total = n.trim().parse().ok();
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("# labels:") {
            match (text::intern_labels(&mut table, rest), &mut current) {
                (Some(set), Some(rec)) => rec.labels = set,
                _ => warn(
                    &mut warnings,
                    "bad-labels",
                    offset,
                    "unreadable label lines",
                ),
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('#') {
            let Some(rec) = &mut current else {
                warn(
                    &mut warnings,
                    "stray-line",
                    offset,
                    "frame lines outside a record",
                );
                continue;
            };
            let frame = frame_of_line(&mut table, rest);
            rec.push_frame(frame, limits.max_stack_depth, &mut warnings);
            continue;
        }
        if let Some((count, pcs)) = trimmed.split_once(" @")
            && let Ok(count) = count.trim().parse::<u64>()
        {
            records.extend(current.take());
            if records.len() as u64 >= limits.max_goroutines {
                let max = limits.max_goroutines;
                warnings.add("record-limit", || {
                    format!("stopped after {max} records, the limit")
                });
                break;
            }
            total = total.saturating_add(count);
            let kept = budget.take(count);
            current = Some(Record {
                count: kept,
                pcs,
                over_budget: kept == 0 && count > 0,
                frames: Vec::new(),
                labels: crate::model::LabelSetId::NONE,
                capped: false,
            });
            continue;
        }
        warn(
            &mut warnings,
            "ignored-line",
            offset,
            "ignored unreadable lines",
        );
    }
    records.extend(current.take());
    records.retain(|r| !r.over_budget);
    budget.warn(&mut warnings);
    if records.is_empty() && !(profile_name.is_some() && stated_total == Some(0)) {
        return Err(FormatError::NothingFound {
            format: "debug=1 profile",
            what: "stack record",
            detail: String::new(),
        });
    }
    if let Some(stated) = stated_total
        && stated != total
    {
        warnings.add("total-mismatch", || {
            format!("the header says total {stated} but the records add up to {total}; the file may be cut short")
        });
    }
    let name = profile_name.unwrap_or_else(|| "goroutine".to_owned());
    let profile_type = profile_type_of(&name);
    let data = snapshot_data(records, &profile_type, &name, &mut table, limits);
    source.profile_type = Some(profile_type);
    progress.set(1.0);
    Ok(Loaded {
        table,
        input: Input::Snapshot(Snapshot {
            source,
            captured_at_ns: None,
            duration_ns: None,
            data,
            stated_total,
            panic: None,
            warnings,
        }),
    })
}

/// The profile a header names (`threadcreate profile: total 6`).
fn profile_type_of(name: &str) -> ProfileType {
    match name {
        "goroutine" => ProfileType::Goroutine,
        "goroutineleak" => ProfileType::GoroutineLeak,
        "threadcreate" => ProfileType::Threadcreate,
        other => ProfileType::Other(other.to_owned()),
    }
}

/// Frames named by address for a record no frame line symbolizes, innermost
/// first as the addresses come; null addresses stand for no frame.
fn address_frames(table: &mut StackTable, pcs: &str, max_depth: usize) -> Vec<FrameId> {
    pcs.split_ascii_whitespace()
        .filter_map(|pc| u64::from_str_radix(pc.strip_prefix("0x")?, 16).ok())
        .filter(|&pc| pc != 0)
        .take(max_depth)
        .map(|pc| table.intern_frame(&super::pprof::address_name(pc), "", 0))
        .collect()
}

/// One `#` line: a frame (`#\t0x4a5b\tmain.f+0x1c\tmain.go:12`), or an
/// address the runtime could not symbolize (`#\t0x0`).
fn frame_of_line(table: &mut StackTable, rest: &str) -> FrameId {
    let mut fields = rest.split('\t').map(str::trim).filter(|f| !f.is_empty());
    let pc = fields.next().unwrap_or("");
    let func = fields.next();
    let loc = fields.next();
    match func {
        Some(func) => {
            let func = match func.rfind("+0x") {
                Some(i) => &func[..i],
                None => func,
            };
            match loc.and_then(text::parse_location) {
                Some((file, line)) => table.intern_frame(func, file, line),
                None => table.intern_frame(func, "", 0),
            }
        }
        None => table.intern_frame(pc, "", 0),
    }
}

/// Goroutine records for goroutine profiles (all leaked for goroutineleak:
/// the runtime proved it), weighted stacks for the others.
fn snapshot_data(
    mut records: Vec<Record<'_>>,
    profile_type: &ProfileType,
    name: &str,
    table: &mut StackTable,
    limits: &Limits,
) -> SnapshotData {
    if profile_type.is_goroutines() {
        let leaked = *profile_type == ProfileType::GoroutineLeak;
        SnapshotData::Goroutines(
            records
                .iter()
                .map(|r| {
                    let mut g = Goroutine::new(table.intern_inner_first(&r.frames));
                    g.count = r.count;
                    g.labels = r.labels;
                    g.frames_elided = r.capped;
                    g.leaked = leaked;
                    g
                })
                .collect(),
        )
    } else {
        for r in &mut records {
            if r.frames.is_empty() {
                r.frames = address_frames(table, r.pcs, limits.max_stack_depth);
            }
        }
        let kind = table.intern_str(name);
        let unit = table.intern_str("count");
        SnapshotData::Samples(SampleProfile {
            sample_types: vec![ValueType { kind, unit }],
            samples: records
                .iter()
                .map(|r| Sample {
                    stack: table.intern_inner_first(&r.frames),
                    values: vec![i64::try_from(r.count).unwrap_or(i64::MAX)],
                    labels: r.labels,
                })
                .collect(),
            ..SampleProfile::default()
        })
    }
}
