//! Loads one execution trace and prints what came out, for measuring parse
//! time and peak memory (`/usr/bin/time -v cargo run --release --example
//! trace_load -- FILE`) and for comparing with the reference decoder.
//!
//! `--transitions` also prints one `g ID LEN FNV` line per goroutine, the
//! format of `tests/fixtures/trace_expected.py`, so the two can be diffed;
//! `--analyses` times the leak groups, the cross-index and the P lanes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::time::Instant;

use leakscope::formats::trace::reference_transitions;
use leakscope::formats::{LoadOptions, load_bytes};
use leakscope::progress::Progress;

fn fnv1a64(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: trace_load FILE [--transitions]"))?;
    let rest: Vec<String> = args.collect();
    let transitions = rest.iter().any(|a| a == "--transitions");
    let analyses = rest.iter().any(|a| a == "--analyses");
    let data = std::fs::read(&path)?;
    let started = Instant::now();
    let loaded = load_bytes(&path, &data, &LoadOptions::default(), &Progress::none())?;
    let elapsed = started.elapsed();
    let trace = loaded
        .input
        .as_trace()
        .ok_or_else(|| anyhow::anyhow!("not a trace"))?;
    let summary = leakscope::analysis::trace::summarize(trace, &loaded.table);
    eprintln!(
        "{path}: {} MB in {:.3} s ({:.0} MB/s)",
        data.len() as f64 / 1e6,
        elapsed.as_secs_f64(),
        data.len() as f64 / 1e6 / elapsed.as_secs_f64()
    );
    eprintln!(
        "{} events, {} goroutines, {} spans, {} stacks; summary {}",
        trace.events,
        trace.goroutines().len(),
        trace.span_count(),
        loaded.table.stack_count(),
        serde_json::to_string(&summary)?
    );
    for w in trace.warnings.iter() {
        eprintln!("warning: {w}");
    }
    if analyses {
        use leakscope::analysis::trace::{CrossIndex, trace_leaks};
        let t0 = Instant::now();
        let groups = trace_leaks(trace, &loaded.table);
        let t1 = Instant::now();
        let index = CrossIndex::build(trace);
        let t2 = Instant::now();
        let stacks: Vec<_> = groups.iter().take(20).map(|g| g.blocking_stack).collect();
        let found = index.find_stacks(trace, &stacks);
        let t3 = Instant::now();
        let lanes = trace.p_lanes();
        let t4 = Instant::now();
        eprintln!(
            "leak groups: {} in {:?}; cross-index built in {:?}, {} matches for 20 groups in {:?}; P lanes ({} Ps) in {:?}",
            groups.len(),
            t1 - t0,
            t2 - t1,
            found.len(),
            t3 - t2,
            lanes.procs().count(),
            t4 - t3
        );
        for g in groups.iter().take(12) {
            eprintln!(
                "  {:>6} {:<45} {:<14} created at {}",
                g.goroutines.len(),
                g.entry_function,
                g.reason.text(&loaded.table),
                g.creation_site
                    .map(|f| {
                        let fr = loaded.table.frame(f);
                        format!("{}:{}", loaded.table.str(fr.function), fr.line)
                    })
                    .unwrap_or_default()
            );
        }
    }
    if transitions {
        println!("events {}", trace.events);
        for (name, n) in &trace.event_counts {
            println!("count {name} {n}");
        }
        println!("goroutines {}", trace.goroutines().len());
        println!("created {}", summary.goroutines_created);
        println!("ended {}", summary.goroutines_ended);
        for g in trace.goroutine_indices() {
            let t = reference_transitions(trace, &loaded.table, g);
            let id = trace.goroutine(g).map_or(0, |x| x.id);
            println!("g {id} {} {:016x}", t.len(), fnv1a64(&t.join("\n")));
        }
    }
    Ok(())
}
