//! Full-stack dump parsing throughput on a generated 100,000-goroutine dump.
//!
//! The dump is built from the real goroutine blocks of
//! `tests/fixtures/goroutine-t3.debug2.txt` (138 goroutines of a leaking
//! service), repeated with fresh goroutine ids and argument values until it
//! holds 100,000 goroutines, so its shape (stack depths, states, `created
//! by` lines, inlined frames) is that of a real capture. Also measures the
//! analysis (grouping and ranking) of the result.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope::analysis::{self, AnalysisOptions};
use leakscope::formats::{LoadOptions, load_bytes};
use leakscope::model::Session;
use leakscope::progress::Progress;

const GOROUTINES: usize = 100_000;

fn generated_dump() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/goroutine-t3.debug2.txt"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let blocks: Vec<&str> = text
        .split("\n\n")
        .filter(|b| b.starts_with("goroutine "))
        .collect();
    let mut out = String::with_capacity(60 << 20);
    let mut id = 1u64;
    'outer: loop {
        for b in &blocks {
            // `goroutine N [state]:` gets a fresh id; an argument varies so
            // no two blocks are byte-identical.
            let rest = b.strip_prefix("goroutine ").unwrap_or(b);
            let rest = rest.split_once(' ').map_or("", |(_, r)| r);
            let varied = rest.replacen("0xc000", &format!("0x{:x}", 0xc000 + (id % 4096)), 1);
            let _ = write!(out, "goroutine {id} {varied}\n\n");
            id += 1;
            if id as usize > GOROUTINES {
                break 'outer;
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let dump = generated_dump();
    let bytes = dump.as_bytes();
    let options = LoadOptions::default();
    let mut g = c.benchmark_group("dump");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function(
        format!("parse {GOROUTINES} goroutines ({} MB)", bytes.len() >> 20),
        |b| {
            b.iter(|| {
                let l = load_bytes("bench", black_box(bytes), &options, &Progress::none()).unwrap();
                black_box(l)
            })
        },
    );
    let loaded = load_bytes("bench", bytes, &options, &Progress::none()).unwrap();
    let mut session = Session::default();
    session.add(&loaded.table, loaded.input);
    g.throughput(Throughput::Elements(GOROUTINES as u64));
    g.bench_function("analyze (group + rank)", |b| {
        b.iter(|| black_box(analysis::analyze(&session, &AnalysisOptions::default())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
