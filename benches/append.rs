//! Adding one capture to a live session: the cost must not grow with the
//! captures already in it, or a session polled for hours slows down with
//! every poll (before the pipeline, the app parsed the whole folder again
//! for each new capture).
//!
//! The session is built from the real goroutine profiles of the fixture
//! service (four captures, cycled, 20 s apart on the capture clock); the
//! bench measures adding the N-th capture, parsed or from its bytes, for N
//! from 1 to 300. Flat figures across N are the goal.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use leakscope::analysis::AnalysisOptions;
use leakscope::formats::{self, LoadOptions, Loaded};
use leakscope::pipeline::{Findings, InputSpec};
use leakscope::progress::Progress;

const FILES: [&str; 4] = [
    "goroutine-t0.pb.gz",
    "goroutine-t1.pb.gz",
    "goroutine-t2.pb.gz",
    "goroutine-t3.pb.gz",
];

fn bytes() -> Vec<Vec<u8>> {
    FILES
        .iter()
        .map(|n| {
            let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(n);
            std::fs::read(&p).expect("fixture")
        })
        .collect()
}

/// Capture `k` of the session: the fixtures in turn, 20 s apart.
fn capture(data: &[Vec<u8>], k: usize) -> Loaded {
    let mut l = formats::load_bytes(
        &format!("capture-{k}.pb.gz"),
        &data[k % data.len()],
        &LoadOptions::default(),
        &Progress::none(),
    )
    .expect("fixture loads");
    l.set_captured_at(1_764_000_000_000_000_000 + k as i64 * 20_000_000_000);
    l
}

fn session_of(data: &[Vec<u8>], n: usize) -> Findings {
    let mut f = Findings::empty(&AnalysisOptions::default());
    for k in 0..n {
        f.append(
            capture(data, k),
            InputSpec::Path(format!("capture-{k}").into()),
        );
    }
    f
}

fn bench(c: &mut Criterion) {
    let data = bytes();
    let mut g = c.benchmark_group("append");
    for n in [1usize, 30, 100, 300] {
        let before = session_of(&data, n - 1);
        let at = 1_764_000_000_000_000_000 + (n as i64 - 1) * 20_000_000_000;
        let next = capture(&data, n - 1);
        g.bench_with_input(BenchmarkId::new("parsed", n), &n, |b, _| {
            b.iter_batched(
                || (before.clone(), next.clone()),
                |(mut f, l)| {
                    f.append(l, InputSpec::Path("next".into()));
                    black_box(f)
                },
                BatchSize::LargeInput,
            )
        });
        let raw = &data[(n - 1) % data.len()];
        g.bench_with_input(BenchmarkId::new("from_bytes", n), &n, |b, _| {
            b.iter_batched(
                || before.clone(),
                |mut f| {
                    let mut l = formats::load_bytes(
                        "next",
                        raw,
                        &LoadOptions::default(),
                        &Progress::none(),
                    )
                    .expect("loads");
                    l.set_captured_at(at);
                    f.append(l, InputSpec::Path("next".into()));
                    black_box(f)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
