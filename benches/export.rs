//! Flame graph SVG export of 100,000 folded stacks, beside inferno on the
//! same input.
//!
//! The input is generated: 100,000 distinct stacks, 8 to 40 frames deep,
//! drawn from a call tree of Go-looking functions with a few children per
//! caller, so prefixes are shared the way real profiles share them, with
//! skewed counts. It is also written to
//! `$CARGO_TARGET_TMPDIR/export-bench/stacks-100k.folded`, so
//! `benches/export-vs-inferno.sh` can time `leakscope export` against
//! `inferno-flamegraph` on exactly these lines.
//!
//! Measured:
//! - `leakscope: folded text → SVG`: what `leakscope export FILE --svg`
//!   does after reading the file (parse, tree, SVG), at inferno's default
//!   pruning (0.01 %) and at ours (0.1 %).
//! - `leakscope: tree → SVG`: the export step alone, as the app runs it.
//! - `inferno: folded text → SVG`: inferno's own path (sort, merge, SVG)
//!   with its default options.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope::analysis::flame::FlameTree;
use leakscope::export::Titles;
use leakscope::export::svg::{SvgOptions, write_svg};
use leakscope::formats::{LoadOptions, load_bytes};
use leakscope::model::Session;
use leakscope::progress::Progress;

const STACKS: usize = 100_000;

/// xorshift64*: the same input on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A Go-looking function name for a function id.
fn function(id: u64) -> String {
    let pkg = id % 97;
    match id % 5 {
        0 => format!(
            "example.com/svc/internal/pkg{pkg}.(*Server{}).Handle{id}",
            id % 13
        ),
        1 => format!("example.com/svc/pkg{pkg}.process{id}.func{}", id % 4 + 1),
        2 => format!("net/http.(*conn{}).serve{id}", id % 7),
        3 => format!("github.com/lib/dep{pkg}.(*Client).Do{id}"),
        _ => format!("main.worker{id}"),
    }
}

/// 100,000 distinct folded stacks, sorted as collapsers write them.
///
/// Every function has four callees; walks prefer the first ones (80 %, 12
/// %, 5 %, 3 %), so hot paths are shared by many stacks and rare ones fan
/// out, as in real profiles.
fn generated_folded() -> String {
    const FUNCTIONS: u64 = 5_000;
    let callee = |f: u64, k: u64| {
        (f.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (k + 1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
            % FUNCTIONS
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let pick = |rng: &mut Rng| match rng.below(100) {
        0..80 => 0,
        80..92 => 1,
        92..97 => 2,
        _ => 3,
    };
    let mut seen: HashSet<Vec<u64>> = HashSet::with_capacity(STACKS);
    let mut lines: Vec<String> = Vec::with_capacity(STACKS);
    while seen.len() < STACKS {
        let depth = 8 + rng.below(33) as usize;
        let mut frames: Vec<u64> = Vec::with_capacity(depth);
        let mut f = callee(0, pick(&mut rng) + 4 * pick(&mut rng));
        for _ in 0..depth {
            frames.push(f);
            f = callee(f, pick(&mut rng));
        }
        if !seen.insert(frames.clone()) {
            continue;
        }
        let mut line = String::with_capacity(depth * 48);
        for (i, f) in frames.iter().enumerate() {
            if i > 0 {
                line.push(';');
            }
            line.push_str(&function(*f));
        }
        // Skewed counts: most stacks are rare, a few are hot.
        let count = 1 + rng.below(10) * rng.below(10) * rng.below(50);
        let _ = write!(line, " {count}");
        lines.push(line);
    }
    lines.sort_unstable();
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn titles() -> Titles {
    Titles {
        title: "Flame Graph".to_owned(),
        subtitle: None,
        count_name: "samples".to_owned(),
    }
}

fn bench(c: &mut Criterion) {
    let folded = generated_folded();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("export-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let input = dir.join("stacks-100k.folded");
    std::fs::write(&input, &folded).expect("write bench input");
    eprintln!(
        "input for benches/export-vs-inferno.sh: {}",
        input.display()
    );

    let bytes = folded.as_bytes();
    let options = LoadOptions::default();
    let mut g = c.benchmark_group("export");
    g.sample_size(10);
    g.throughput(Throughput::Elements(STACKS as u64));

    for min_width in [0.01, 0.1] {
        g.bench_function(
            format!("leakscope: folded text → SVG, 100k stacks, min width {min_width} %"),
            |b| {
                b.iter(|| {
                    let l = load_bytes(
                        "bench.folded",
                        black_box(bytes),
                        &options,
                        &Progress::none(),
                    )
                    .expect("folded");
                    let mut s = Session::default();
                    s.add(&l.table, l.input);
                    let snap = s.inputs[0].as_snapshot().expect("snapshot");
                    let tree = FlameTree::build(&s.stacks, FlameTree::snapshot_weights(snap, 0));
                    let opts = SvgOptions {
                        min_width_pct: min_width,
                        ..SvgOptions::new(titles())
                    };
                    let mut out = Vec::with_capacity(8 << 20);
                    write_svg(&tree, &s.stacks, &opts, &mut out).expect("svg");
                    black_box(out.len())
                })
            },
        );
    }

    let l = load_bytes("bench.folded", bytes, &options, &Progress::none()).expect("folded");
    let mut s = Session::default();
    s.add(&l.table, l.input);
    let snap = s.inputs[0].as_snapshot().expect("snapshot");
    let tree = FlameTree::build(&s.stacks, FlameTree::snapshot_weights(snap, 0));
    g.bench_function("leakscope: tree → SVG, min width 0.01 %", |b| {
        let opts = SvgOptions {
            min_width_pct: 0.01,
            ..SvgOptions::new(titles())
        };
        b.iter(|| {
            let mut out = Vec::with_capacity(8 << 20);
            write_svg(black_box(&tree), &s.stacks, &opts, &mut out).expect("svg");
            black_box(out.len())
        })
    });

    g.bench_function("inferno: folded text → SVG (library, defaults)", |b| {
        b.iter(|| {
            let mut opts = inferno::flamegraph::Options::default();
            let mut out = Vec::with_capacity(8 << 20);
            inferno::flamegraph::from_lines(&mut opts, black_box(&folded).lines(), &mut out)
                .expect("inferno");
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
