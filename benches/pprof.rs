//! Decoding speed of the pprof loader on ~10 MB profiles.
//!
//! No real profile that large ships with the repository, so the bench
//! builds one from a fixture's shape: every function, location and sample
//! is copied many times with fresh ids (and function names, so the stack
//! table grows as it would with a big binary), then re-encoded with prost.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::hint::black_box;
use std::io::Read as _;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope::formats::Limits;
use leakscope::formats::pprof::{self, proto};
use leakscope::model::{Format, Source};
use leakscope::progress::Progress;
use prost::Message as _;

const TARGET_BYTES: usize = 10 << 20;

fn fixture(name: &str) -> proto::Profile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let gz = std::fs::read(&path).expect("fixture");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .expect("gzip");
    proto::Profile::decode(&raw[..]).expect("profile")
}

/// `base` repeated until its encoding reaches about `target` bytes.
fn enlarge(base: &proto::Profile, target: usize) -> Vec<u8> {
    let copies = (target / base.encoded_len()).max(1) as u64;
    let max_fn = base.function.iter().map(|f| f.id).max().unwrap_or(0);
    let max_loc = base.location.iter().map(|l| l.id).max().unwrap_or(0);
    let mut out = base.clone();
    for k in 1..copies {
        for f in &base.function {
            let name = format!("{}·{k}", base.string_table[f.name as usize]);
            out.string_table.push(name);
            let index = (out.string_table.len() - 1) as i64;
            out.function.push(proto::Function {
                id: f.id + k * max_fn,
                name: index,
                system_name: index,
                ..*f
            });
        }
        for l in &base.location {
            let mut l = l.clone();
            l.id += k * max_loc;
            for line in &mut l.line {
                line.function_id += k * max_fn;
            }
            out.location.push(l);
        }
        for s in &base.sample {
            let mut s = s.clone();
            for id in &mut s.location_id {
                *id += k * max_loc;
            }
            out.sample.push(s);
        }
    }
    out.encode_to_vec()
}

fn bench_pprof(c: &mut Criterion) {
    let mut group = c.benchmark_group("pprof");
    for name in ["heap.pb.gz", "goroutine-t3.pb.gz"] {
        let data = enlarge(&fixture(name), TARGET_BYTES);
        group.throughput(Throughput::Bytes(data.len() as u64));
        let limits = Limits::default();
        let progress = Progress::none();
        let source = Source {
            path: name.to_owned(),
            format: Format::Pprof,
            profile_type: None,
            bytes: data.len() as u64,
        };
        // The result is dropped outside the timing: loading hands it to the
        // session, which keeps it.
        group.bench_function(format!("parse {name} x{}MB", data.len() >> 20), |b| {
            b.iter_with_large_drop(|| {
                pprof::parse(black_box(&data), source.clone(), &limits, &progress).expect("parse")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_pprof);
criterion_main!(benches);
