//! Parsing execution traces into the timeline model, both wire formats.
//!
//! The small fixtures always run. The large captures (36.5 MB Go 1.23,
//! 28.6 MB Go 1.21) are not in git: `benches/large-traces.sh` unpacks them
//! into `$CARGO_TARGET_DIR/large` (or `target/large`); without them those
//! benchmarks are skipped with a note. Throughput is in input bytes, to
//! compare with `go tool trace` on the same files (see the closing note of
//! issue 3 and `tests/fixtures/large/README.md`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope::formats::{LoadOptions, load_bytes};
use leakscope::progress::Progress;

fn large_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LEAKSCOPE_LARGE_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("large")
}

fn bench_file(c: &mut Criterion, name: &str, data: &[u8], large: bool) {
    let mut group = c.benchmark_group("trace");
    group.throughput(Throughput::Bytes(data.len() as u64));
    if large {
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(20));
    }
    group.bench_function(name, |b| {
        b.iter(|| {
            let loaded = load_bytes(
                name,
                black_box(data),
                &LoadOptions::default(),
                &Progress::none(),
            )
            .expect("trace loads");
            black_box(loaded)
        })
    });
    group.finish();
}

fn traces(c: &mut Criterion) {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in ["trace-go123.out", "trace-go121-legacy.out"] {
        let data = std::fs::read(fixtures.join(name)).expect("fixture");
        bench_file(c, name, &data, false);
    }
    let dir = large_dir();
    for name in ["trace-large-go123.out", "trace-large-go121-legacy.out"] {
        match std::fs::read(dir.join(name)) {
            Ok(data) => bench_file(c, name, &data, true),
            Err(_) => eprintln!(
                "skipping {name}: not in {} (run benches/large-traces.sh)",
                dir.display()
            ),
        }
    }
}

criterion_group!(benches, traces);
criterion_main!(benches);
