//! The flame graph pane's views in the app (egui_kittest): the Top table,
//! the Sandwich, the wheel zoom and how they fit at 1280×800, on the last
//! leakyd goroutine profile (MANIFEST.md: 138 goroutines, 40 of them
//! blocked in `main.querySearchBackend`).
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use common::app::*;
use common::*;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use leakscope::ui::LeakscopeApp;
use leakscope::ui::flame::FlameMode;

const T3: &str = "goroutine-t3.pb.gz";

fn screen() -> egui::Rect {
    egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0))
}

/// The flame pane's left edge: where its "Flame graph" heading starts.
fn pane_left(h: &Harness<'static, LeakscopeApp>) -> f32 {
    h.get_by_label("Flame graph").rect().left()
}

/// Switches the pane's view with its header, as a click does.
fn show(h: &mut Harness<'static, LeakscopeApp>, view: &str) {
    h.get_by_label(view).click();
    h.run();
}

/// A row (or box) of the flame pane named `name`, not the suspects' list.
fn in_pane<'h>(h: &'h Harness<'static, LeakscopeApp>, name: &'h str) -> egui_kittest::Node<'h> {
    let left = pane_left(h);
    h.get_all_by_label(name)
        .find(|n| n.rect().left() >= left - 1.0)
        .unwrap_or_else(|| panic!("no {name:?} in the flame pane"))
}

/// The Top view lists every function with its self and total goroutines,
/// heaviest self first, in the graph's unit; sorting by total and by name
/// reorders it.
#[test]
fn the_top_view_lists_functions_with_their_values() {
    let mut h = harness_at(app_with(&[T3]), [1280.0, 800.0]);
    h.run();
    show(&mut h, "Top");
    assert_eq!(h.state().flame_mode(), FlameMode::Top);
    let rows = h.state_mut().flame_top();
    assert_eq!(rows[0], ("runtime.gopark".to_owned(), 135, 135));
    let row = |f: &str| rows.iter().find(|r| r.0 == f).cloned().unwrap();
    assert_eq!(
        row("main.querySearchBackend"),
        ("main.querySearchBackend".into(), 0, 40)
    );
    assert_eq!(row("runtime.selectgo").2, 36);
    // On screen: the unit, and the row's values beside its name.
    let texts = painted_texts(h.output());
    assert!(
        texts
            .iter()
            .any(|t| t.contains("functions · 138 goroutines in all")),
        "{texts:?}"
    );
    for cell in [
        "135",
        "97.8%",
        "40",
        "29.0%",
        "runtime.gopark",
        "main.querySearchBackend",
    ] {
        assert!(texts.iter().any(|t| t == cell), "{cell} in {texts:?}");
    }
    // Each row is inside the pane and the window.
    let r = in_pane(&h, "main.querySearchBackend").rect();
    assert!(screen().contains_rect(r), "{r:?}");

    h.get_by_label("total").click();
    h.run();
    let by_total = h.state_mut().flame_top();
    assert!(by_total.windows(2).all(|w| w[0].2 >= w[1].2));
    assert_eq!(by_total[0].0, "runtime.gopark");
    h.get_by_label("name").click();
    h.run();
    let by_name = h.state_mut().flame_top();
    assert!(by_name.windows(2).all(|w| w[0].0 <= w[1].0), "{by_name:?}");
}

/// A click on a Top row searches the function (its boxes turn pink) and
/// picks it for the Sandwich, which shows what it calls with the values;
/// Back returns to the function picked before.
#[test]
fn clicking_a_top_row_shows_it_in_the_sandwich() {
    let mut h = harness_at(app_with(&[T3]), [1280.0, 800.0]);
    h.run();
    show(&mut h, "Top");
    in_pane(&h, "main.querySearchBackend").click();
    h.run();
    assert_eq!(h.state().search(), r"^main\.querySearchBackend$");
    assert_eq!(
        h.state_mut().sandwich_function().as_deref(),
        Some("main.querySearchBackend")
    );
    show(&mut h, "Sandwich");
    h.run();
    let texts = painted_texts(h.output());
    // Its callees, one under the other, all 40 goroutines wide.
    for f in ["runtime.chansend1", "runtime.chansend", "runtime.gopark"] {
        assert!(texts.iter().any(|t| t == f), "{f} in {texts:?}");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("total 40 goroutines (29.0%)")),
        "{texts:?}"
    );
    // Another row picked, then Back: the pick before.
    show(&mut h, "Top");
    in_pane(&h, "runtime.selectgo").click();
    h.run();
    assert_eq!(
        h.state_mut().sandwich_function().as_deref(),
        Some("runtime.selectgo")
    );
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    h.run();
    assert_eq!(
        h.state_mut().sandwich_function().as_deref(),
        Some("main.querySearchBackend")
    );
}

/// Without a pick, the Sandwich shows the selected suspect's leak site.
#[test]
fn the_sandwich_follows_the_selected_suspect() {
    let mut h = harness_at(app_with(&DEBUG2), [1280.0, 800.0]);
    h.run();
    show(&mut h, "Sandwich");
    h.get_all_by_label("main.consumeEvents")
        .next()
        .unwrap()
        .click();
    h.run();
    assert_eq!(
        h.state_mut().sandwich_function().as_deref(),
        Some("main.consumeEvents")
    );
    let texts = painted_texts(h.output());
    assert!(
        texts.iter().any(|t| t.starts_with("total 20 goroutines")),
        "{texts:?}"
    );
}

/// Ctrl+wheel (a zoom event) over the graph narrows the visible range
/// around the pointer, the plain wheel does not zoom, the breadcrumb's
/// "all" returns, and Back restores a wheel zoom left by a navigation.
#[test]
fn the_wheel_zooms_the_graph_around_the_pointer() {
    let mut h = harness_at(app_with(&[T3]), [1280.0, 800.0]);
    h.run_steps(8);
    assert_eq!(h.state_mut().flame_visible_range(), (0.0, 1.0));
    let heading = h.get_by_label("Flame graph").rect();
    let pane = egui::Rect::from_min_max(
        egui::pos2(heading.left(), heading.bottom()),
        egui::pos2(1280.0, 700.0),
    );
    // A quarter of the way across the graph, well below the header.
    let at = egui::pos2(pane.left() + pane.width() * 0.25, pane.top() + 150.0);
    h.hover_at(at);
    h.run_steps(8);
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, -60.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(8);
    assert_eq!(
        h.state_mut().flame_visible_range(),
        (0.0, 1.0),
        "the plain wheel scrolls"
    );
    h.event(egui::Event::Zoom(4.0));
    h.run_steps(8);
    let (left, width) = h.state_mut().flame_visible_range();
    assert!((width - 0.25).abs() < 0.01, "{left} {width}");
    // The share under the pointer stays under it.
    assert!(left > 0.1 && left < 0.25, "{left} {width}");
    // A navigation, then Back: the wheel zoom is where it was.
    h.get_by_label("main.consumeEvents").click();
    h.run_steps(8);
    h.hover_at(at);
    h.event(egui::Event::Zoom(0.5));
    h.run_steps(8);
    assert!(h.state_mut().flame_visible_range().1 > 0.4);
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    h.run_steps(8);
    let back = h.state_mut().flame_visible_range();
    assert!(
        (back.1 - 0.25).abs() < 0.01 && (back.0 - left).abs() < 1e-9,
        "{back:?}"
    );
    in_pane(&h, "all").click();
    h.run_steps(8);
    assert_eq!(h.state_mut().flame_visible_range(), (0.0, 1.0));
}

/// At 1280×800 the view switch and each view's widgets are inside the
/// window, the graph reaches the pane's bottom (no empty band), and no
/// box is labelled with fewer than four letters and an ellipsis.
#[test]
fn every_flame_view_fits_at_1280x800() {
    let mut h = harness_at(app_with(&DEBUG2), [1280.0, 800.0]);
    h.run();
    for view in ["Graph", "Top", "Sandwich"] {
        show(&mut h, view);
        for n in h.query_all_by(|n| n.bounding_box().is_some()) {
            let role = n.accesskit_node().role();
            let r = n.rect();
            if matches!(
                role,
                Role::Button | Role::ComboBox | Role::Label | Role::TextInput
            ) && r.left() >= pane_left(&h) - 1.0
            {
                assert!(
                    screen().contains_rect(r),
                    "{view}: {:?} {role:?} at {r:?}",
                    node_text(&n)
                );
            }
        }
        let texts = painted_texts(h.output());
        let stubs: Vec<&String> = texts
            .iter()
            .filter(|t| t.ends_with('…') && t.chars().count() < 5)
            .collect();
        assert!(stubs.is_empty(), "{view}: {stubs:?}");
    }
    show(&mut h, "Graph");
    // The graph's canvas spans the pane down to the lower panel.
    let canvas = h
        .query_all_by(|n| n.bounding_box().is_some())
        .filter(|n| n.accesskit_node().role() == Role::Unknown)
        .map(|n| n.rect())
        .filter(|r| r.left() >= pane_left(&h) - 1.0)
        .max_by(|a, b| a.height().total_cmp(&b.height()))
        .unwrap();
    assert!(
        canvas.height() > 250.0 && canvas.right() <= 1280.0,
        "{canvas:?}"
    );
}

/// Where a frame painted `text` (its top-left corner).
fn painted_at(out: &egui::FullOutput, text: &str) -> Option<egui::Pos2> {
    fn walk(s: &egui::Shape, text: &str, at: &mut Option<egui::Pos2>) {
        match s {
            egui::Shape::Vec(v) => v.iter().for_each(|x| walk(x, text, at)),
            egui::Shape::Text(t) if t.galley.job.text == text => *at = Some(t.pos),
            _ => {}
        }
    }
    let mut at = None;
    for c in &out.shapes {
        walk(&c.shape, text, &mut at);
    }
    at
}

/// A click on a box of the Sandwich picks that function: `runtime.gopark`
/// under the 40 search
/// goroutines becomes the function in the middle, with all 135 parked
/// goroutines' entry functions as its callers.
#[test]
fn the_sandwich_walks_from_box_to_box() {
    let mut h = harness_at(app_with(&[T3]), [1280.0, 800.0]);
    h.run();
    show(&mut h, "Top");
    in_pane(&h, "main.querySearchBackend").click();
    h.run();
    show(&mut h, "Sandwich");
    assert_eq!(
        h.state_mut().sandwich_function().as_deref(),
        Some("main.querySearchBackend")
    );
    let at = painted_at(h.output(), "runtime.gopark").expect("gopark's box in the callees");
    let pos = at + egui::vec2(4.0, 4.0);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.run_steps(4);
    assert_eq!(
        h.state_mut().sandwich_function().as_deref(),
        Some("runtime.gopark")
    );
    assert_eq!(h.state().search(), r"^runtime\.gopark$");
    let texts = painted_texts(h.output());
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("total 135 goroutines (97.8%)")),
        "{texts:?}"
    );
}
