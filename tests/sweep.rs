//! Every fixture, damaged two thousand ways: cut at 1,000 offsets and with
//! 1,000 sets of random byte flips. Each damaged copy goes through loading
//! and everything the app and `inspect` do with what loaded
//! ([`common::downstream`]); the only acceptable outcomes are a clear error
//! or a partial load, never a panic, and a cut copy never shows more than
//! the whole file.
//!
//! Gzipped profiles are damaged twice over: as the gzip file users have,
//! and inflated, so that the protobuf decoder meets the damage rather than
//! the gzip checksum.
//!
//! The variants run in parallel; a panic is caught, recorded with the
//! fixture, the kind of damage and its offset, and every one is reported at
//! the end.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::io::Read as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{Rng, downstream, fixture, load_bytes};
use leakscope::formats::Loaded;
use leakscope::model::Input;
use rayon::prelude::*;

const CUTS: usize = 1_000;
const FLIPS: usize = 1_000;

/// Every capture under `tests/fixtures` and `tests/fixtures/variants` (not
/// the expected-output files), and some of `tests/fixtures/releases`.
fn fixtures() -> Vec<String> {
    let mut names = Vec::new();
    for dir in ["", "variants/"] {
        let rd = std::fs::read_dir(fixture(dir)).expect("fixtures dir");
        for e in rd {
            let e = e.expect("dir entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let capture =
                name.ends_with(".txt") || name.ends_with(".pb.gz") || name.ends_with(".out");
            if path.is_file() && capture {
                names.push(format!("{dir}{name}"));
            }
        }
    }
    // Of the Go release captures, those in dialects the others lack.
    for name in [
        "releases/go1.26/goroutine-labels.debug2.txt",
        "releases/go1.26/goroutineleak.debug1.txt",
        "releases/go1.27/goroutine-after-leak.debug2.txt",
        "releases/go1.27/goroutineleak.pb.gz",
        "releases/go1.27/goroutineleak-empty.debug1.txt",
        "releases/go1.27/repanic.txt",
        "releases/go1.27/scan.txt",
        "releases/go1.27/synctest.txt",
        "releases/go1.27/threadcreate.debug1.txt",
    ] {
        names.push(name.to_owned());
    }
    names.sort();
    names
}

/// What a loaded input amounts to, to compare a cut copy with the whole.
fn size(l: &Loaded) -> u64 {
    match &l.input {
        Input::Snapshot(s) => s
            .goroutine_count()
            .unwrap_or_else(|| s.samples().map_or(0, |p| p.samples.len() as u64)),
        Input::Trace(t) => t.goroutine_count() as u64,
    }
}

/// What loading a damaged copy gave: its size and whether it said that
/// something was left out.
#[derive(Debug)]
struct Partial {
    size: u64,
    warned: bool,
}

/// Loads `data` and runs it downstream; `Err` holds the panic message.
fn survive(data: &[u8]) -> Result<Option<Partial>, String> {
    catch_unwind(AssertUnwindSafe(|| match load_bytes("sweep", data) {
        Ok(l) => {
            let p = Partial {
                size: size(&l),
                warned: !l.input.warnings().is_empty(),
            };
            let _ = downstream(l);
            Some(p)
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "an error with no message");
            None
        }
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "panic".to_owned())
    })
}

/// 1,000 cut offsets: spread evenly over the file, and random ones.
fn cut_offsets(len: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng(seed);
    let mut cuts: Vec<usize> = (0..CUTS / 2).map(|i| i * len / (CUTS / 2)).collect();
    cuts.extend((0..CUTS - cuts.len()).map(|_| rng.below(len)));
    cuts
}

/// 1,000 damaged copies, each with 1 to 8 random bytes set to random values.
fn flipped(data: &[u8], seed: u64) -> Vec<(usize, Vec<u8>)> {
    let mut rng = Rng(seed);
    (0..FLIPS)
        .map(|_| {
            let mut d = data.to_vec();
            let mut first = usize::MAX;
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(d.len());
                first = first.min(i);
                d[i] = rng.next() as u8;
            }
            (first, d)
        })
        .collect()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("fixture inflates");
    out
}

/// Cuts and flips of one capture; returns the failures.
///
/// Formats whose end is marked (gzip's trailer, a trace's last batch) must
/// also say when a cut copy loaded only in part; a text dump cut between
/// two goroutines is indistinguishable from a smaller dump.
fn sweep(label: &str, data: &[u8], end_is_marked: bool) -> Vec<String> {
    let full = match survive(data) {
        Ok(Some(p)) => p.size,
        other => {
            return vec![format!(
                "{label}: the undamaged file does not load: {other:?}"
            )];
        }
    };
    let seed = data.len() as u64 ^ 0x5eed_cafe;
    let mut failures: Vec<String> = cut_offsets(data.len(), seed)
        .into_par_iter()
        .filter_map(|cut| match survive(&data[..cut]) {
            Err(p) => Some(format!("{label} cut at {cut}: panicked: {p}")),
            Ok(Some(p)) if p.size > full => Some(format!(
                "{label} cut at {cut}: loaded {}, more than the whole file's {full}",
                p.size
            )),
            Ok(Some(p)) if end_is_marked && !p.warned => Some(format!(
                "{label} cut at {cut}: loaded {} of {full} without a warning",
                p.size
            )),
            Ok(_) => None,
        })
        .collect();
    let flips: Vec<String> = flipped(data, seed.rotate_left(17))
        .into_par_iter()
        .filter_map(|(at, d)| {
            survive(&d)
                .err()
                .map(|p| format!("{label} with bytes flipped from {at}: panicked: {p}"))
        })
        .collect();
    failures.extend(flips);
    failures
}

#[test]
fn every_fixture_cut_and_flipped_loads_partially_or_fails_cleanly() {
    let names = fixtures();
    // The captures of every kind are here: if one is renamed away, the
    // sweep would silently shrink.
    assert!(names.len() >= 28, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let data = std::fs::read(fixture(name)).expect("fixture");
        let marked = name.ends_with(".gz") || name.ends_with(".out");
        failures.extend(sweep(name, &data, marked));
        if name.ends_with(".gz") {
            failures.extend(sweep(&format!("{name} (inflated)"), &gunzip(&data), false));
        }
    }
    // The panic hook printed each one already; list them together.
    assert!(
        failures.is_empty(),
        "{} damaged inputs panicked or grew:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
