//! One full frame of the app, headless: the egui pass over every panel plus
//! tessellation, with 100,000 goroutine lanes on the timeline and a flame
//! graph of about 50,000 boxes, a suspect selected (highlighted lanes,
//! flame path, events list and plot all active).
//!
//! The lanes come from a generated 100,000-goroutine dump made of the real
//! goroutine blocks of `tests/fixtures/goroutine-t3.debug2.txt`; the flame
//! graph from generated folded stacks with 50,000 distinct paths.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed run

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use leakscope::pipeline::InputSpec;
use leakscope::ui::LeakscopeApp;
use leakscope::ui::state::{Selection, ViewState};

fn dump(goroutines: usize) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/goroutine-t3.debug2.txt"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let blocks: Vec<&str> = text
        .split("\n\n")
        .filter(|b| b.starts_with("goroutine "))
        .collect();
    let mut out = String::new();
    let mut id = 1usize;
    while id <= goroutines {
        for b in &blocks {
            let rest = b.strip_prefix("goroutine ").unwrap_or(b);
            let rest = rest.split_once(' ').map_or("", |(_, r)| r);
            let _ = write!(out, "goroutine {id} {rest}\n\n");
            id += 1;
            if id > goroutines {
                break;
            }
        }
    }
    out
}

/// Folded stacks whose tree has about `nodes` boxes: 10 roots, fan-out 10.
fn folded(nodes: usize) -> String {
    let mut out = String::new();
    let leaves = nodes * 9 / 10;
    for i in 0..leaves {
        let _ = writeln!(
            out,
            "main.main;svc.root{};svc.mid{};svc.handler{};pkg.leaf{} {}",
            i % 10,
            i / 10 % 10,
            i / 100 % 50,
            i,
            1 + i % 7
        );
    }
    out
}

fn frame(ctx: &egui::Context, app: &mut LeakscopeApp) -> usize {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1920.0, 1080.0),
        )),
        ..Default::default()
    };
    let mut out = ctx.run_ui(input, |ui| app.ui(ui));
    out.textures_delta.clear();
    ctx.tessellate(out.shapes, out.pixels_per_point).len()
}

fn bench(c: &mut Criterion) {
    let mut app = LeakscopeApp::new(ViewState::default());
    app.open_blocking(vec![
        InputSpec::Bytes {
            name: "dump-100k.txt".into(),
            data: Arc::from(dump(100_000).into_bytes()),
        },
        InputSpec::Bytes {
            name: "flame-50k.folded".into(),
            data: Arc::from(folded(50_000).into_bytes()),
        },
    ]);
    let ws = app.workspace.clone().expect("loaded");
    assert_eq!(ws.lanes.lane_count(), 100_000);
    app.show_in_flame(1);
    let top = ws.analysis.suspects[0].group;
    app.selection = Selection::Group(top);
    let ctx = egui::Context::default();
    ctx.tessellation_options_mut(|o| o.feathering = true);
    for _ in 0..5 {
        frame(&ctx, &mut app);
    }
    let nodes = app.highlighted_flame_nodes().len();
    eprintln!(
        "lanes {}, flame path boxes highlighted {nodes}",
        ws.lanes.lane_count()
    );
    c.bench_function(
        "ui frame: 100k lanes + 50k-box flame graph (pass + tessellate)",
        |b| b.iter(|| black_box(frame(&ctx, &mut app))),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
