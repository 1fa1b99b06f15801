//! Shared by the fuzz targets: the source record, fuzzing limits, and the
//! downstream check every target runs on what loaded.
#![allow(dead_code)]

use leakscope::analysis::AnalysisOptions;
use leakscope::formats::{Limits, Loaded};
use leakscope::model::{Format, Source};
use leakscope::pipeline::Findings;

pub fn source(format: Format, len: usize) -> Source {
    Source {
        path: "fuzz".to_owned(),
        format,
        profile_type: None,
        bytes: len as u64,
    }
}

/// The default limits, scaled down where the default lets a small input
/// legitimately cost seconds or gigabytes (a gzip stream inflating to 2 GiB,
/// a sample claiming 20 million goroutines that become 20 million timeline
/// lanes): the fuzzer would report those as out-of-memory or timeouts. What
/// is checked is that the limits hold, not their size.
pub fn limits() -> Limits {
    Limits {
        max_inflated_bytes: 64 << 20,
        max_goroutines: 50_000,
        ..Limits::default()
    }
}

/// What the app and `inspect --json` do with a loaded input: the
/// pipeline's findings, then everything shown of them (lanes, flame graphs,
/// the incident report, the JSON report; `leakscope::export::render_all`).
/// A parser that returns ids pointing nowhere shows up here as a panic.
pub fn check(loaded: Loaded) {
    let findings = Findings::of_loaded(vec![loaded], &AnalysisOptions::default());
    let _ = leakscope::export::render_all(&findings);
}

/// The trace parser on one of `count` minors from `first`: the fuzz input's
/// first byte picks the minor and the rest follows the 16-byte
/// `go 1.NN trace` header, so the fuzzer spends no time on the header.
pub fn trace_of_minor(data: &[u8], first: u32, count: u32) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let minor = first + u32::from(pick) % count;
    let mut input = format!("go 1.{minor} trace").into_bytes();
    input.resize(16, 0);
    input.extend_from_slice(body);
    let source = source(Format::Trace, input.len());
    let progress = leakscope::progress::Progress::none();
    if let Ok(loaded) = leakscope::formats::trace::parse(&input, source, &limits(), &progress) {
        check(loaded);
    }
}
