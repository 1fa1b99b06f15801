//! The desktop app driven headless with egui_kittest: real fixture sessions,
//! clicks by label, and the cross-highlighting every view must show.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use leakscope::analysis::lanes::{EventKind, LaneSource as _};
use leakscope::pipeline::InputSpec;
use leakscope::ui::LeakscopeApp;
use leakscope::ui::state::{Selection, ViewState};

use common::app::*;
use common::*;

#[test]
fn clicking_a_suspect_highlights_its_stack_everywhere() {
    let mut h = harness(app_with(&DEBUG2));
    h.run();
    assert_eq!(h.state().selection, Selection::None);
    assert!(h.state_mut().highlighted_flame_nodes().is_empty());

    h.get_by_label("main.consumeEvents").click();
    h.run();

    let app = h.state_mut();
    let Selection::Group(g) = app.selection else {
        panic!("no group selected");
    };
    let ws = app.workspace.clone().unwrap();
    let group = &ws.analysis.groups[g];
    assert_eq!(group.counts, vec![5, 10, 15, 20]);
    // Flame graph: the group's frames, and only its path.
    let fns = app.highlighted_flame_functions();
    assert!(fns.contains(&"main.consumeEvents".to_owned()), "{fns:?}");
    assert!(
        !fns.contains(&"main.querySearchBackend".to_owned()),
        "{fns:?}"
    );
    // Timeline: the group's 20 goroutines of the last snapshot are its lanes.
    let lanes = app.highlighted_lanes();
    assert_eq!(lanes.len(), 20);
    for &l in &lanes {
        let info = ws.lanes.lane(l as usize);
        assert_eq!(info.group, Some(g as u32));
        let f = info.function.unwrap();
        assert_eq!(ws.session.stacks.function(f), "main.consumeEvents");
    }
    // Creation events and blocking points of those lanes, listed in the panel.
    let mut created = 0;
    let mut blocked = 0;
    for &l in &lanes {
        for e in ws.lanes.events(l as usize, i64::MIN, i64::MAX) {
            match e.kind {
                EventKind::Created => {
                    created += 1;
                    let by = ws.session.stacks.leaf(e.stack.unwrap()).unwrap();
                    assert_eq!(
                        ws.session.stacks.function(by),
                        "main.(*app).handleSubscribe"
                    );
                    assert!(e.other_goroutine.is_some());
                }
                EventKind::Blocked => {
                    blocked += 1;
                    assert_eq!(e.reason.text(&ws.session.stacks), "chan receive");
                }
                _ => {}
            }
        }
    }
    assert_eq!((created, blocked), (20, 20));
    h.get_by_label("20 created");
    h.get_by_label("20 blocked");
    h.get_by_label("selected group: 20 lanes");

    // Another suspect moves every highlight; Esc clears them.
    h.get_by_label("main.heartbeatLoop").click();
    h.run();
    assert_eq!(h.state().highlighted_lanes().len(), 4);
    let fns = h.state_mut().highlighted_flame_functions();
    assert!(fns.contains(&"main.heartbeatLoop".to_owned()), "{fns:?}");
    assert!(!fns.contains(&"main.consumeEvents".to_owned()), "{fns:?}");
    h.key_press(egui::Key::Escape);
    h.run();
    assert_eq!(h.state().selection, Selection::None);
    assert!(h.state().highlighted_lanes().is_empty());
}

#[test]
fn a_broken_file_shows_an_error_in_the_app() {
    let dir = std::env::temp_dir().join(format!("leakscope-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("broken.pb.gz");
    std::fs::write(&bad, [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad]).unwrap();
    let mut app = LeakscopeApp::new(ViewState::default());
    app.open_blocking(vec![
        InputSpec::Path(fixture("goroutine-t0.debug2.txt")),
        InputSpec::Path(bad.clone()),
    ]);
    let mut h = harness(app);
    h.run();
    // The good input still loads; the bad one is named with its reason.
    assert_eq!(
        h.state().workspace.as_ref().unwrap().session.inputs.len(),
        1
    );
    let text = format!(
        "could not load {}: gzip stream is corrupt at compressed offset 0: ",
        bad.display()
    );
    let errors: Vec<_> = h
        .state()
        .notices
        .iter()
        .filter(|n| n.text.starts_with(&text))
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", h.state().notices);
    // Shown above the views; the window with every problem opens from
    // the status bar, and never over suspect #1.
    let label = errors[0].text.clone();
    assert_eq!(h.get_all_by_label(&label).count(), 1);
    assert!(h.query_by_label("Problems while loading").is_none());
    h.get_by_label("1 error(s)").click();
    h.run();
    h.get_by_label("Problems while loading");
    let in_window = h
        .get_all_by_label(&label)
        .map(|n| n.rect())
        .max_by(|a, b| a.left().total_cmp(&b.left()))
        .unwrap();
    let first = h.get_by_label("main.querySearchBackend").rect();
    assert!(!in_window.intersects(first), "{in_window:?} over {first:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_demo_session_loads_in_the_background() {
    let mut app = LeakscopeApp::new(ViewState::default());
    app.open(leakscope::ui::demo_inputs());
    let mut h = harness(app);
    // A spinner repaints while the job runs: step frames until it is done.
    for _ in 0..1000 {
        h.step();
        if h.state().workspace.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run();
    let ws = h.state().workspace.clone().expect("demo loaded");
    assert_eq!(ws.analysis.series.len(), 4);
    assert_eq!(
        ws.analysis
            .suspects
            .iter()
            .filter(|s| s.growth.growing)
            .count(),
        LEAKS.len()
    );
    // Listed twice: as a growing snapshot group and as stuck in the trace.
    assert_eq!(h.get_all_by_label("main.querySearchBackend").count(), 2);
    assert!(ws.trace.is_some());
}

#[test]
fn a_trace_suspect_highlights_its_lanes_creations_and_blocking_points() {
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let mut h = harness(app_with(&names));
    h.run();
    assert!(h.state().showing_trace());
    // The trace's entry for the subscription leak: 5 goroutines born in the window.
    // One row among the snapshot suspects, one among the trace's (the
    // trace's panel comes first in the widget tree).
    let rows: Vec<_> = h.get_all_by_label("main.consumeEvents").collect();
    assert_eq!(rows.len(), 2);
    rows[0].click();
    h.run();
    let app = h.state_mut();
    let Selection::TraceGroup(leak) = app.selection else {
        panic!("expected a trace group, got {:?}", app.selection);
    };
    let ws = app.workspace.clone().unwrap();
    let t = ws.trace.as_ref().unwrap();
    assert_eq!(t.analysis.leaks[leak].goroutines.len(), 5);
    let lanes = app.highlighted_lanes();
    assert_eq!(lanes.len(), 5);
    let src = app.active_lanes().unwrap();
    for &l in &lanes {
        let events = src.events(l as usize, i64::MIN, i64::MAX);
        // Created in the window, by the subscribe handler, with the creator's stack.
        let created: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::Created)
            .collect();
        assert_eq!(created.len(), 1);
        let site = ws.session.stacks.leaf(created[0].stack.unwrap()).unwrap();
        assert_eq!(
            ws.session.stacks.function(site),
            "main.(*app).handleSubscribe"
        );
        assert!(created[0].other_goroutine.is_some());
        // Blocked on a channel receive until the window closed.
        let blocked: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::Blocked)
            .collect();
        let last = blocked.last().expect("a blocking point");
        assert_eq!(last.reason.text(&ws.session.stacks), "chan receive");
        assert!(
            last.duration_ns.unwrap() > 1_000_000_000,
            "{:?}",
            last.duration_ns
        );
    }
    let fns = app.highlighted_flame_functions();
    assert!(fns.contains(&"main.consumeEvents".to_owned()), "{fns:?}");
    // Zoom to the selection: from the first creation to the window's end.
    let first_created = lanes
        .iter()
        .filter_map(|&l| src.lane(l as usize).created_ns)
        .min()
        .unwrap();
    app.zoom_to_selection();
    let (z0, z1) = app.timeline_range();
    let (w0, w1) = src.window();
    assert!(
        z0 < first_created && first_created - z0 < (w1 - first_created) / 5,
        "{z0} {first_created}"
    );
    assert!(z1 >= w1 && z0 > w0, "{z0}..{z1} in {w0}..{w1}");
    // The snapshot group of the same leak maps to all 20 trace goroutines of it.
    let g = group_of(&ws, "main.consumeEvents");
    h.state_mut().select(Selection::Group(g));
    h.run();
    // 15 from the three leak phases before the trace, 5 born in it.
    assert_eq!(h.state().highlighted_lanes().len(), 20);
}

#[test]
fn exports_write_files_and_ask_before_replacing() {
    let dir = std::env::temp_dir().join(format!("leakscope-ui-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("view.svg");
    let mut h = harness(app_with(&DEBUG2));
    h.run();
    h.get_by_label("main.consumeEvents").click();
    h.run();
    // The flame graph as shown.
    let kind = h.state_mut().flame_view_export().unwrap();
    h.state_mut().export_to(kind.clone(), svg.clone());
    h.state_mut().wait_for_export();
    h.run();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<?xml") && text.contains("main.consumeEvents"),
        "{}",
        &text[..200]
    );
    h.get_by_label(&format!("saved {}", svg.display()));
    // Exporting onto it again asks first; keeping it leaves it untouched.
    std::fs::write(&svg, "keep me").unwrap();
    h.state_mut().export_to(kind.clone(), svg.clone());
    h.run();
    assert!(h.state().pending_replace().is_some());
    h.get_by_label("Keep the existing file").click();
    h.run();
    assert!(h.state().pending_replace().is_none());
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), "keep me");
    // Replacing writes the new export.
    h.state_mut().export_to(kind, svg.clone());
    h.run();
    h.get_by_label("Replace").click();
    h.step();
    h.state_mut().wait_for_export();
    h.run();
    assert!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .contains("main.consumeEvents")
    );
    // The incident report of the session.
    let report = dir.join("report.html");
    h.state_mut().export_to(
        leakscope::ui::export::ExportKind::Report(leakscope::export::report::ReportFormat::Html),
        report.clone(),
    );
    h.state_mut().wait_for_export();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("main.querySearchBackend") && html.contains("<svg"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The flame graph on screen and its SVG are one graph: the same boxes in
/// the same colours, whatever the input (a sampled profile's default value
/// included), because both come from one tree.
#[test]
fn the_flame_graph_on_screen_and_in_the_svg_are_the_same_graph() {
    let dir = std::env::temp_dir().join(format!("leakscope-ui-colors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (names, function) in [
        (&DEBUG2[..], "main.querySearchBackend"),
        (&["heap.pb.gz"][..], "main.loadCatalog"),
    ] {
        let mut h = harness(app_with(names));
        h.run();
        let tree = h.state_mut().flame_tree().unwrap();
        let ws = h.state().workspace.clone().unwrap();
        let id = ws.session.stacks.find_str(function).unwrap();
        let node = tree.nodes.iter().position(|n| n.function == id).unwrap();
        let [r, g, b] = tree.styles[node].1;
        let svg = dir.join("same.svg");
        let _ = std::fs::remove_file(&svg);
        let kind = h.state_mut().flame_view_export().unwrap();
        h.state_mut().export_to(kind, svg.clone());
        h.state_mut().wait_for_export();
        let text = std::fs::read_to_string(&svg).unwrap();
        // The box's hover title states the same weight the app's box has.
        let title = format!(
            "<title>{} ({}",
            function.replace('&', "&amp;"),
            leakscope::export::thousands(tree.nodes[node].total)
        );
        let at = text
            .find(&title)
            .unwrap_or_else(|| panic!("{title} in {names:?}"));
        let rest = &text[at..];
        let fill = rest.find("fill=\"").map(|i| &rest[i + 6..]).unwrap();
        assert!(
            fill.starts_with(&format!("rgb({r},{g},{b})")),
            "{names:?}: {}",
            &fill[..30]
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A pprof server on 127.0.0.1 serving the fixture goroutine profiles t0..t3
/// in turn (then t3 again), for at most `max_requests` requests or 30 s.
fn fixture_pprof_server(
    max_requests: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let profiles: Vec<Vec<u8>> = PROTO.iter().map(|n| read(n)).collect();
    let handle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut served = 0;
        let mut next = 0;
        while served < max_requests
            && std::time::Instant::now() < deadline
            && !stop.load(std::sync::atomic::Ordering::Relaxed)
        {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            };
            s.set_nonblocking(false).ok();
            s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .ok();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&req)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
            let (status, body): (&str, Vec<u8>) = if path.starts_with("/debug/pprof/goroutine") {
                let b = profiles[next.min(profiles.len() - 1)].clone();
                next += 1;
                ("200 OK", b)
            } else if path == "/debug/pprof/" {
                (
                    "200 OK",
                    b"<html><body><a href='goroutine?debug=1'>goroutine</a></body></html>".to_vec(),
                )
            } else {
                ("404 Not Found", b"404 page not found\n".to_vec())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).ok();
            s.write_all(&body).ok();
            served += 1;
        }
    });
    (addr, handle)
}

#[test]
fn a_live_session_ranks_snapshots_as_they_arrive() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (addr, server) = fixture_pprof_server(40, stop.clone());
    let dir = std::env::temp_dir().join(format!("leakscope-ui-live-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let mut h = harness(LeakscopeApp::new(ViewState::default()));
    h.step();
    let form = leakscope::ui::live::ConnectForm {
        url: format!("{addr}"),
        interval_secs: "0.2".into(),
        folder: dir.display().to_string(),
        ..Default::default()
    };
    h.state_mut().connect(form).expect("connects");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(25);
    loop {
        h.step();
        let done = h
            .state()
            .workspace
            .as_ref()
            .is_some_and(|w| w.analysis.series.len() >= 4);
        if done || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ws = h.state().workspace.clone().expect("snapshots arrived");
    assert!(
        ws.analysis.series.len() >= 4,
        "{} snapshots",
        ws.analysis.series.len()
    );
    let t = &ws.session.stacks;
    let search = ws
        .analysis
        .suspects
        .iter()
        .find(|s| {
            s.leak_site
                .is_some_and(|f| t.function(f) == "main.querySearchBackend")
        })
        .unwrap();
    assert!(search.growth.growing);
    assert_eq!(
        ws.analysis.groups[search.group].counts[..4],
        [10, 20, 30, 40]
    );
    // Every capture is on disk, in the session folder.
    let saved = std::fs::read_dir(&dir).unwrap().filter(|e| {
        e.as_ref().is_ok_and(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with("-goroutine.pb.gz")
        })
    });
    assert!(saved.count() >= 4);
    h.get_by_label("Disconnect").click();
    for _ in 0..200 {
        h.step();
        if h.state().live().is_some_and(|l| l.stopped.is_some()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let live = h.state().live().unwrap();
    assert_eq!(
        live.stopped.as_deref(),
        Some("disconnected"),
        "{}",
        live.status()
    );
    drop(h);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    server.join().ok();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn lanes_filter_by_label_state_goroutine_and_function() {
    let mut h = harness(app_with(&PROTO));
    h.run();
    let all = h.state().timeline_lanes().len();
    assert!(all >= 138, "{all}");
    let mut count = |filter: &str| {
        h.state_mut().set_search(filter);
        h.run();
        h.state().timeline_lanes().len()
    };
    // The profiles record labels: 40 search goroutines at t3, 12 watchers.
    assert_eq!(count("label:endpoint=search"), 40);
    assert_eq!(count("label:endpoint=watch"), 12);
    assert_eq!(count("label:component=jobs"), 4);
    assert_eq!(count("main.heartbeatLoop"), 4);
    assert_eq!(count(""), all);
    // Dumps carry goroutine ids and states.
    let mut h = harness(app_with(&DEBUG2));
    h.run();
    h.state_mut().set_search("g:1");
    h.run();
    assert_eq!(h.state().timeline_lanes().len(), 1);
    h.state_mut().set_search("state:sync.mutex.lock");
    h.run();
    assert_eq!(h.state().timeline_lanes().len(), 16);
}

#[test]
fn a_trace_alone_has_a_flame_graph_of_its_goroutines_at_the_end() {
    let mut h = harness(app_with(&["trace-go123.out"]));
    h.run();
    // The flame graph shows the goroutines alive when the window closed,
    // where the trace last saw each.
    assert_eq!(h.state_mut().flame_root_total(), 158);
    h.get_all_by_label("main.querySearchBackend")
        .next()
        .unwrap()
        .click();
    h.run();
    let app = h.state_mut();
    assert!(matches!(app.selection, Selection::TraceGroup(_)));
    let fns = app.highlighted_flame_functions();
    assert!(
        fns.contains(&"main.querySearchBackend".to_owned()),
        "{fns:?}"
    );
    assert!(!fns.contains(&"main.consumeEvents".to_owned()), "{fns:?}");
}

/// Whether a frame's shapes show a selection on the timeline (the band
/// behind selected lanes) and in the flame graph (outlined boxes).
fn highlights_drawn(out: &egui::FullOutput) -> (bool, bool) {
    use leakscope::ui::theme::HIGHLIGHT;
    fn walk(s: &egui::Shape, f: &mut dyn FnMut(&egui::Shape)) {
        match s {
            egui::Shape::Vec(v) => v.iter().for_each(|x| walk(x, f)),
            _ => f(s),
        }
    }
    let band = HIGHLIGHT.gamma_multiply(0.18);
    let (mut lanes, mut boxes) = (false, false);
    for c in &out.shapes {
        walk(&c.shape, &mut |s| match s {
            egui::Shape::Mesh(m) => lanes |= m.vertices.iter().any(|v| v.color == band),
            egui::Shape::Rect(r) => boxes |= r.stroke.color == HIGHLIGHT && r.stroke.width > 0.0,
            _ => {}
        });
    }
    (lanes, boxes)
}

/// A click is applied once the whole frame is drawn, so every frame shows
/// one selection in every panel. It used to be applied where the click was
/// drawn: in that frame the status bar, the events list and the suspect's
/// own row still showed nothing selected while the timeline and the flame
/// graph, drawn after, showed the new selection.
#[test]
fn every_panel_of_a_frame_shows_the_same_selection() {
    use egui_kittest::kittest::NodeT as _;
    let mut h = harness(app_with(&DEBUG2));
    h.run();
    h.get_by_label("main.consumeEvents").click();
    let mut frames = Vec::new();
    for _ in 0..4 {
        h.step();
        // The suspect's row (the plot's legend names the selection too).
        let row = h
            .get_all_by_label("main.consumeEvents")
            .any(|n| n.accesskit_node().toggled() == Some(egui::accesskit::Toggled::True));
        let status = h.query_by_label("selected group: 20 lanes").is_some();
        let events = h.query_by_label("20 created").is_some();
        let (lanes, boxes) = highlights_drawn(h.output());
        frames.push([row, status, events, lanes, boxes]);
    }
    // [suspect row, status bar, events list, timeline, flame graph]
    for f in &frames {
        assert!(f.iter().all(|&shown| shown == f[0]), "{frames:?}");
    }
    assert_eq!(frames.last(), Some(&[true; 5]), "{frames:?}");
}

/// Back and forward (Alt+Left / Alt+Right and the toolbar buttons) retrace
/// selections and timeline zooms, as gotraceui's history does.
#[test]
fn back_and_forward_retrace_selections_and_zooms() {
    use egui::{Key, Modifiers};
    let mut h = harness(app_with(&DEBUG2));
    h.run();
    let fitted = h.state().timeline_range();
    assert!(!h.state().can_go_back());
    h.get_by_label("main.consumeEvents").click();
    h.run();
    let consume = h.state().selection;
    assert!(matches!(consume, Selection::Group(_)));
    // Z fits the timeline to the 20 selected goroutines.
    h.key_press(Key::Z);
    h.run();
    let zoomed = h.state().timeline_range();
    assert_ne!(zoomed, fitted);
    h.get_by_label("main.heartbeatLoop").click();
    h.run();
    let heartbeat = h.state().selection;
    assert_ne!(heartbeat, consume);

    // Back: the first suspect as zoomed, then before the zoom, then nothing.
    let back = |h: &mut Harness<'static, LeakscopeApp>| {
        h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
        h.run();
        (h.state().selection, h.state().timeline_range())
    };
    assert_eq!(back(&mut h), (consume, zoomed));
    assert_eq!(back(&mut h), (consume, fitted));
    assert_eq!(back(&mut h), (Selection::None, fitted));
    assert!(!h.state().can_go_back());
    assert_eq!(back(&mut h), (Selection::None, fitted));

    // Forward with the toolbar button, then with Alt+Right.
    h.get_by_label("Forward ›").click();
    h.run();
    assert_eq!(h.state().selection, consume);
    assert_eq!(h.state().timeline_range(), fitted);
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowRight);
    h.run();
    assert_eq!(
        (h.state().selection, h.state().timeline_range()),
        (consume, zoomed)
    );
    h.get_by_label("Forward ›").click();
    h.run();
    assert_eq!(h.state().selection, heartbeat);
    assert_eq!(h.state().highlighted_lanes().len(), 4);
    assert!(!h.state().can_go_forward());

    // The toolbar's Back, then a new selection: the way forward is gone.
    h.get_by_label("‹ Back").click();
    h.run();
    assert_eq!(h.state().selection, consume);
    assert!(h.state().can_go_forward());
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().selection, Selection::None);
    assert!(!h.state().can_go_forward());
    assert_eq!(back(&mut h).0, consume);
}

#[test]
fn a_count_profile_of_the_service_ranks_like_goroutines() {
    // The watched relay's goroutine profiles and its own conns profile
    // (tests/fixtures/watch: six more of each per step).
    let mut names = Vec::new();
    for s in 0..6 {
        names.push(format!("watch/goroutine-s{s:02}.pb.gz"));
        names.push(format!("watch/conns-s{s:02}.pb.gz"));
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut h = harness(app_with(&names));
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let top = &ws.analysis.suspects[0];
    assert_eq!(
        ws.session.stacks.function(top.leak_site.unwrap()),
        "main.(*relay).forward"
    );
    h.get_by_label("ranked").click();
    h.run();
    h.get_by_label("example.com/watchd/conns").click();
    for _ in 0..1000 {
        h.step();
        let switched = h
            .state()
            .workspace
            .as_ref()
            .is_some_and(|ws| ws.analysis.options().count_profile.is_some());
        if switched {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let top = &ws.analysis.suspects[0];
    let group = ws.analysis.group(top);
    assert_eq!(group.counts, [0, 6, 12, 18, 24, 30]);
    assert!(top.growth.growing);
    assert!(h.query_by_label("main.openConn").is_some());
}

/// A session folder as `capture` writes it, of the instance at `port`, from
/// the watched relay's captures (tests/fixtures/watch), ten seconds apart.
fn instance_folder(root: &std::path::Path, port: u16, steps: &[&str]) -> std::path::PathBuf {
    let dir = root.join(format!("instance-{port}"));
    let t0 = 1_764_000_000_000_000_000i64;
    let fixtures: Vec<String> = steps
        .iter()
        .map(|step| format!("watch/goroutine-{step}.pb.gz"))
        .collect();
    let captures: Vec<Capture> = fixtures
        .iter()
        .enumerate()
        .map(|(i, fixture)| Capture {
            fixture,
            file: format!("{:06}-goroutine.pb.gz", i + 1),
            kind: "goroutine",
            at_ns: t0 + i as i64 * 10_000_000_000,
        })
        .collect();
    let url = format!("http://10.0.0.{}:{port}/debug/pprof/", port % 200);
    write_session(&dir, &url, &captures);
    dir
}

#[test]
fn a_fleet_shows_one_instance_with_the_spread_across_all() {
    let root = std::env::temp_dir().join(format!("leakscope-ui-fleet-{}", std::process::id()));
    std::fs::remove_dir_all(&root).ok();
    let growing = ["s00", "s01", "s02", "s03"];
    let dirs = [
        instance_folder(&root, 6061, &growing),
        instance_folder(&root, 6062, &growing),
        instance_folder(&root, 6063, &["s10", "s10", "s10", "s10"]),
    ];
    let mut app = LeakscopeApp::new(ViewState::default());
    app.open_blocking(dirs.iter().cloned().map(InputSpec::Path).collect());
    let mut h = harness(app);
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let fleet = ws.fleet.clone().expect("three instances make a fleet");
    assert_eq!(fleet.ranking.instances.len(), 3);
    // One instance's own series on screen, not the three interleaved.
    assert_eq!(ws.analysis.series.len(), 4);
    let top = ws.analysis.group(&ws.analysis.suspects[0]);
    assert_eq!(top.counts, [0, 6, 12, 18]);
    assert!(
        h.query_by_label_contains("grows on 2 of 3 instances")
            .is_some()
    );
    // Another instance: the steady one, the spread the same.
    h.get_by_label("of 3 instances").click();
    h.run();
    h.get_by_label("10.0.0.63-6063").click();
    for _ in 0..1000 {
        h.step();
        if h.state()
            .workspace
            .as_ref()
            .and_then(|w| w.fleet.clone())
            .is_some_and(|f| f.current == "10.0.0.63-6063")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let relay = ws
        .analysis
        .groups
        .iter()
        .find(|g| g.counts == [60, 60, 60, 60])
        .expect("the steady instance's 60 forwards");
    assert!(
        ws.fleet
            .as_ref()
            .unwrap()
            .of(&ws, relay)
            .unwrap()
            .growing_on
            == 2
    );
    assert!(
        h.query_by_label_contains("grows on 2 of 3 instances")
            .is_some()
    );
    std::fs::remove_dir_all(&root).ok();
}

/// Names read short on screen (package and the rest, generics as `[…]`),
/// whole in tooltips and with View ▸ "Full function names and paths": a
/// service whose import paths are longer than a lane label used to show
/// only its module path.
#[test]
fn names_are_short_on_screen_and_whole_on_request() {
    let mut h = harness_at(
        app_with(&["variants/debug2.txt", "variants/trace-go123.out"]),
        [1280.0, 800.0],
    );
    h.run();
    let full = "example.org/acme/svc%2ev2.(*Pool[...]).Get";
    let short = "svc.(*Pool[…]).Get";
    // The suspect rows (snapshot and trace), lane labels and flame boxes.
    assert_eq!(h.get_all_by_label(short).count(), 2);
    assert!(h.query_by_label(full).is_none());
    let texts = painted_texts(h.output());
    assert!(
        texts.iter().any(|t| t.ends_with(short)),
        "no lane label names {short}: {texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("example.org/acme/")),
        "{texts:?}"
    );
    // Selected: its events list its blocking points with short paths.
    h.get_all_by_label(short).next().unwrap().click();
    h.run();
    let blocked = texts_containing(&h, "blocked: goroutine");
    assert!(!blocked.is_empty());
    for b in &blocked {
        assert!(b.contains(&format!("at {short} (src/pool.go:")), "{b}");
    }
    // Whole names on request.
    h.state_mut().state.full_names = true;
    h.run();
    // Both suspect rows, and the plot's legend of the selection.
    assert!(h.get_all_by_label(full).count() >= 2);
    assert!(h.query_by_label(short).is_none());
    let texts = painted_texts(h.output());
    assert!(texts.iter().any(|t| t.ends_with(full)), "{texts:?}");
}

/// At 1280×800 every toolbar item is inside the window: the flame graph's
/// input selector, its value and "compare with" choices, its export
/// button, and the search field. They used to run past the right edge.
#[test]
fn every_toolbar_item_fits_at_1280x800() {
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0));
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let cases: [(&[&str], &[&str]); 2] = [
        (&names, &["Export SVG…", "input", "diff"]),
        (&["heap.pb.gz"], &["Export SVG…", "input", "value"]),
    ];
    for (inputs, items) in cases {
        let mut h = harness_at(app_with(inputs), [1280.0, 800.0]);
        h.run();
        // Every button, label, choice and field of the bars and pane headers.
        for n in h.query_all_by(|n| n.bounding_box().is_some()) {
            use egui::accesskit::Role;
            use egui_kittest::kittest::NodeT as _;
            let role = n.accesskit_node().role();
            let r = n.rect();
            let widget = matches!(
                role,
                Role::Button | Role::ComboBox | Role::Label | Role::TextInput
            );
            if widget && r.top() < 110.0 {
                assert!(
                    screen.contains_rect(r),
                    "{inputs:?}: {:?} {role:?} at {r:?}",
                    node_text(&n)
                );
            }
            // The canvases (timeline, flame graph) stay within the width;
            // a tall flame graph scrolls.
            if role == Role::Unknown {
                assert!(
                    r.left() >= 0.0 && r.right() <= screen.right(),
                    "{inputs:?}: canvas at {r:?}"
                );
            }
        }
        for item in items {
            let node = h
                .query_all_by_label(item)
                .next()
                .unwrap_or_else(|| panic!("{inputs:?}: no {item:?}"));
            let r = node.rect();
            assert!(screen.contains_rect(r), "{inputs:?}: {item:?} at {r:?}");
        }
        let search = h.get_by_role(egui::accesskit::Role::TextInput);
        assert!(
            screen.contains_rect(search.rect()),
            "search at {:?}",
            search.rect()
        );
        // Nothing of the top bar runs under the next one.
        let menu_bottom = h.get_by_label("File").rect().bottom();
        assert!(
            search.rect().bottom() <= menu_bottom + 6.0,
            "{:?}",
            search.rect()
        );
    }
}

/// Characters painted in a font that has no glyph for them (drawn as a
/// box), with the text they were in.
fn boxed_glyphs(h: &Harness<'static, LeakscopeApp>) -> Vec<(char, String)> {
    fn walk(s: &egui::Shape, out: &mut Vec<std::sync::Arc<egui::Galley>>) {
        match s {
            egui::Shape::Vec(v) => v.iter().for_each(|x| walk(x, out)),
            egui::Shape::Text(t) => out.push(t.galley.clone()),
            _ => {}
        }
    }
    let mut galleys = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, &mut galleys);
    }
    let mut missing = Vec::new();
    for g in galleys {
        let job = &g.job;
        for section in &job.sections {
            let text = &job.text[section.byte_range.start.0..section.byte_range.end.0];
            for c in text.chars().filter(|c| !c.is_whitespace()) {
                if !h.ctx.fonts_mut(|f| f.has_glyph(&section.format.font_id, c)) {
                    missing.push((c, job.text.clone()));
                }
            }
        }
    }
    missing
}

/// Every character the app paints exists in the fonts it ships (egui's
/// defaults): none renders as a box, with a selection, a trace, the View
/// and Help menus open.
#[test]
fn no_glyph_renders_as_a_box() {
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let mut h = harness_at(app_with(&names), [1280.0, 800.0]);
    h.run();
    h.get_all_by_label("main.consumeEvents")
        .last()
        .unwrap()
        .click();
    h.run();
    assert_eq!(boxed_glyphs(&h), []);
    for menu in ["View", "Help"] {
        h.get_by_label(menu).click();
        h.run();
        assert_eq!(boxed_glyphs(&h), [], "{menu} menu");
        h.key_press(egui::Key::Escape);
        h.run();
    }
    // File ▸ Export: "→" is not in the proportional font.
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Export").hover();
    h.run();
    h.get_by_label("Incident report (HTML)…");
    assert_eq!(boxed_glyphs(&h), [], "File ▸ Export");
}

/// The search field's syntax is one click away, and a lane filter that
/// keeps nothing says so instead of showing an empty timeline.
#[test]
fn lane_search_has_help_and_says_when_nothing_matches() {
    let mut h = harness_at(app_with(&DEBUG2), [1280.0, 800.0]);
    h.run();
    h.get_by_label("?").click();
    h.run();
    h.get_by_label("Lane filters (timeline)");
    h.get_by_label("state:chan send");
    h.key_press(egui::Key::Escape);
    h.run();
    h.state_mut().set_search("state:no such state");
    h.run();
    assert!(h.state().timeline_lanes().is_empty());
    h.get_by_label("No lane matches \"state:no such state\".");
    h.state_mut().set_search("state:chan send");
    h.run();
    // The 40 search requests of t3 blocked sending, and nothing else.
    assert_eq!(h.state().timeline_lanes().len(), 40);
    assert!(h.query_by_label_contains("No lane matches").is_none());
    assert!(painted_texts(h.output()).iter().any(|t| t
        == &format!(
            "40 of {} goroutines match",
            h.state().active_lanes().unwrap().lane_count()
        )),);
}

/// The colour of a lane at `t`, as the timeline draws it.
fn color_at(
    lanes: &dyn leakscope::analysis::lanes::LaneSource,
    lane: usize,
    t: i64,
) -> Option<egui::Color32> {
    let mut color = None;
    lanes.spans(lane, t, t.saturating_add(1), &mut |s| {
        color.get_or_insert(leakscope::ui::theme::span_color(s.kind, s.reason));
    });
    color
}

/// Lanes by the function they are labelled with.
fn lanes_named(
    lanes: &dyn leakscope::analysis::lanes::LaneSource,
    table: &leakscope::model::StackTable,
    function: &str,
) -> Vec<usize> {
    (0..lanes.lane_count())
        .filter(|&l| {
            lanes
                .lane(l)
                .function
                .is_some_and(|f| table.function(f) == function)
        })
        .collect()
}

/// Goroutines already blocked when the trace began are drawn in their
/// state from its first instant: the 30 search requests leaked before it
/// in `chan send` (their stacks say so), the job workers in `select` (the
/// trace records neither reason nor stack for them; the session's dumps
/// show the same goroutines), the runtime's own as the runtime's. Nothing
/// is drawn in a colour the legend does not explain, and the lane filter
/// finds them by that state.
#[test]
fn goroutines_blocked_before_the_trace_have_their_colour_from_the_start() {
    use leakscope::model::WaitCategory;
    use leakscope::ui::theme;
    let legend: Vec<egui::Color32> = theme::legend().iter().map(|e| e.1).collect();
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let mut h = harness(app_with(&names));
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let t = &ws.session.stacks;
    let lanes = ws.trace.as_ref().unwrap().lanes.clone();
    let (w0, _) = lanes.window();
    let search = lanes_named(lanes.as_ref(), t, "main.querySearchBackend");
    let before: Vec<usize> = search
        .iter()
        .copied()
        .filter(|&l| lanes.lane(l).created_ns.is_none())
        .collect();
    assert_eq!((search.len(), before.len()), (40, 30));
    for &l in &before {
        assert_eq!(
            color_at(lanes.as_ref(), l, w0),
            Some(theme::state_color(WaitCategory::Channel))
        );
    }
    let workers = lanes_named(lanes.as_ref(), t, "main.jobWorker");
    assert_eq!(workers.len(), 4);
    for &l in &workers {
        assert_eq!(
            color_at(lanes.as_ref(), l, w0),
            Some(theme::state_color(WaitCategory::Select)),
            "g{:?}",
            lanes.lane(l).goroutine
        );
    }
    for f in ["runtime.forcegchelper", "runtime.bgsweep"] {
        let l = lanes_named(lanes.as_ref(), t, f)[0];
        assert_eq!(
            color_at(lanes.as_ref(), l, w0),
            Some(theme::state_color(WaitCategory::Runtime))
        );
    }
    for l in 0..lanes.lane_count() {
        if let Some(c) = color_at(lanes.as_ref(), l, w0) {
            assert!(legend.contains(&c), "lane {l}: {c:?}");
        }
    }
    // 30 blocked before, 10 created and blocked in the window.
    h.state_mut().set_search("state:chan send");
    h.run();
    let found = h.state().timeline_lanes();
    assert!(
        search.iter().all(|&l| found.contains(&(l as u32))),
        "{} of the 40 found",
        search
            .iter()
            .filter(|&&l| found.contains(&(l as u32)))
            .count()
    );

    // The legacy trace alone records no reason for them: the workers wait
    // on something unknown (its own legend entry), the runtime's are the
    // runtime's, and nothing is "state not recorded".
    let mut h = harness(app_with(&["trace-go121-legacy.out"]));
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let t = &ws.session.stacks;
    let lanes = ws.trace.as_ref().unwrap().lanes.clone();
    let (w0, _) = lanes.window();
    for &l in &lanes_named(lanes.as_ref(), t, "main.jobWorker") {
        assert_eq!(
            color_at(lanes.as_ref(), l, w0),
            Some(theme::WAITING_UNKNOWN)
        );
    }
    let l = lanes_named(lanes.as_ref(), t, "runtime.forcegchelper")[0];
    assert_eq!(
        color_at(lanes.as_ref(), l, w0),
        Some(theme::state_color(WaitCategory::Runtime))
    );
    for l in 0..lanes.lane_count() {
        if let Some(c) = color_at(lanes.as_ref(), l, w0) {
            assert!(legend.contains(&c), "lane {l}: {c:?}");
            assert_ne!(c, theme::state_color(WaitCategory::Unknown), "lane {l}");
        }
    }
    h.get_by_label(theme::WAITING_UNKNOWN_LABEL);
}

/// `select {}` reads and looks the same in a dump (`select (no cases)`)
/// and in a trace (`forever`, made precise by the stack).
#[test]
fn select_with_no_cases_is_one_colour_in_dumps_and_traces() {
    use leakscope::model::WaitCategory;
    let mut h = harness(app_with(&[
        "variants/debug2.txt",
        "variants/trace-go123.out",
    ]));
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let t = &ws.session.stacks;
    let forever = leakscope::ui::theme::state_color(WaitCategory::Forever);
    let dump = ws.lanes.clone();
    let (_, d1) = dump.window();
    let l = lanes_named(dump.as_ref(), t, "main.noCases")[0];
    assert_eq!(color_at(dump.as_ref(), l, d1 - 1), Some(forever));
    let trace = ws.trace.as_ref().unwrap().lanes.clone();
    let (_, t1) = trace.window();
    let l = lanes_named(trace.as_ref(), t, "main.noCases")[0];
    assert_eq!(color_at(trace.as_ref(), l, t1 - 1), Some(forever));
}

/// A blocking line always says on what, or that no input recorded it: it
/// used to read `on  for 5.00 s` for goroutines blocked before the trace.
#[test]
fn blocking_lines_name_their_reason() {
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let mut h = harness(app_with(&names));
    h.run();
    let ws = h.state().workspace.clone().unwrap();
    let workers = group_of(&ws, "main.jobWorker");
    h.state_mut().select(Selection::Group(workers));
    h.run();
    let rows = texts_containing(&h, "blocked: goroutine");
    assert!(rows.len() >= 4, "{rows:?}");
    for r in &rows {
        assert!(!r.contains("on  "), "{r}");
        assert!(
            r.contains(" on ") || r.contains("(reason not recorded)"),
            "{r}"
        );
    }
    // Goroutine 19 waited in its select loop before the window opened.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("blocked: goroutine 19 on select for ")),
        "{rows:?}"
    );
}

/// The goroutine plot shows the snapshot series whether or not a trace is
/// loaded, with the trace's window under it; one snapshot gets a sane axis.
#[test]
fn the_plot_always_shows_the_snapshot_series() {
    use leakscope::ui::names::Names;
    use leakscope::ui::plot::SnapshotSeries;
    let mut names: Vec<&str> = DEBUG2.to_vec();
    names.push("trace-go123.out");
    let mut h = harness_at(app_with(&names), [1280.0, 800.0]);
    h.run();
    assert!(h.state().showing_trace());
    let texts = painted_texts(h.output());
    for axis in ["snapshot", "t0", "t3"] {
        assert!(texts.iter().any(|t| t == axis), "{axis}: {texts:?}");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("seconds into the trace (3.00 s window")),
        "{texts:?}"
    );
    h.get_by_label(leakscope::ui::plot::SNAPSHOT_SERIES);
    let ws = h.state().workspace.clone().unwrap();
    let g = group_of(&ws, "main.consumeEvents");
    let series = SnapshotSeries::of(&ws.analysis, &ws, Selection::Group(g), Names::default());
    assert_eq!(series.xs, [0.0, 1.0, 2.0, 3.0]);
    let totals: Vec<u64> = ws.analysis.series.iter().map(|p| p.total).collect();
    assert_eq!(series.total, totals);
    assert_eq!(
        series.selected,
        Some(("main.consumeEvents".to_owned(), vec![5, 10, 15, 20]))
    );
    // One dump of 35 goroutines: x around it, y from 0 to a bit above 35.
    let h = harness_at(
        app_with(&["releases/go1.27/goroutineleak.debug2.txt"]),
        [1280.0, 800.0],
    );
    let ws = h.state().workspace.clone().unwrap();
    let (x, y) = SnapshotSeries::of(&ws.analysis, &ws, Selection::None, Names::default()).bounds();
    assert_eq!((*x.start(), *x.end()), (-1.0, 1.0));
    assert!(
        *y.start() == 0.0 && *y.end() > 35.0 && *y.end() < 50.0,
        "{y:?}"
    );
}

/// The runtime's proof is marked on its groups' rows and in the selected
/// suspect's details, with where it waits, who made it and its labels.
#[test]
fn proven_leaks_are_marked_and_a_suspect_tells_its_story() {
    let mut h = harness_at(
        app_with(&["releases/go1.27/goroutineleak.debug2.txt"]),
        [1280.0, 800.0],
    );
    h.run();
    // Five groups the runtime proved leaked (GROUND_TRUTH.md), ranked first.
    assert_eq!(h.get_all_by_label("PROVEN").count(), 5);
    h.get_by_label("main.sendResult").click();
    h.run();
    assert_eq!(h.get_all_by_label("PROVEN").count(), 6);
    h.get_by_label("leakrel/groups.go:37 (chan send)");
    h.get_by_label("main.startRequest (leakrel/groups.go:43)");
    h.get_by_label_contains("proven leaked by the runtime · 8 proven · 8 goroutines");
    // A group of one reads in the singular.
    h.get_by_label("main.blockForever").click();
    h.run();
    h.get_by_label_contains("proven leaked by the runtime · 1 proven · 1 goroutine");
    assert!(h.query_by_label_contains("1 goroutines").is_none());
    h.get_by_label("main.sendResult").click();
    h.run();
    // Two groups of one function, told apart by their labels.
    let ws = h.state().workspace.clone().unwrap();
    let labelled: Vec<usize> = ws
        .analysis
        .suspects
        .iter()
        .filter(|s| {
            s.leak_site
                .is_some_and(|f| ws.session.stacks.function(f) == "main.waitLabelled")
        })
        .map(|s| s.group)
        .collect();
    assert_eq!(labelled.len(), 2);
    let mut seen = Vec::new();
    for g in labelled {
        h.state_mut().select(Selection::Group(g));
        h.run();
        seen.push(texts_containing(&h, "handler=").join(" | "));
    }
    assert!(
        seen[0] != seen[1] && seen.iter().all(|s| !s.is_empty()),
        "{seen:?}"
    );
}

/// eframe's storage as a map, to see what the app saves.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// A `--screenshot` run neither reads nor writes the saved state (its
/// storage is a file of its own; it saves nothing, layout included), and
/// `--size` wins over a saved window size.
#[test]
fn a_screenshot_run_keeps_away_from_the_saved_state() {
    use eframe::App as _;
    use leakscope::ui::{RunOptions, native_options};
    let normal = native_options(&RunOptions::default());
    assert!(normal.persist_window && normal.persistence_path.is_none());
    let sized = native_options(&RunOptions {
        size: Some([1280.0, 800.0]),
        ..RunOptions::default()
    });
    assert!(!sized.persist_window);
    assert_eq!(sized.viewport.inner_size, Some(egui::vec2(1280.0, 800.0)));
    let shot = native_options(&RunOptions {
        screenshot: Some("shot.png".into()),
        size: Some([1280.0, 800.0]),
        ..RunOptions::default()
    });
    assert!(!shot.persist_window);
    let scratch = shot.persistence_path.expect("a storage of its own");
    assert!(scratch.starts_with(std::env::temp_dir()) && !scratch.exists());
    assert_eq!(shot.viewport.inner_size, Some(egui::vec2(1280.0, 800.0)));

    // The app of a screenshot run saves nothing; a normal one its settings.
    let mut app = app_with(&DEBUG2);
    let mut storage = MemoryStorage::default();
    app.set_persistent(false);
    app.save(&mut storage);
    assert!(storage.0.is_empty() && !app.persist_egui_memory());
    app.set_persistent(true);
    app.save(&mut storage);
    assert!(storage.0.contains_key(eframe::APP_KEY) && app.persist_egui_memory());
}

/// Where no file dialog can open (no portal, no zenity), an export says
/// why and asks for a path in the app, then writes there.
#[test]
fn exports_ask_for_a_path_where_no_file_dialog_can_open() {
    let dir = std::env::temp_dir().join(format!("leakscope-ui-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("typed.svg");
    let mut app = app_with(&DEBUG2);
    app.set_no_file_dialog("no session bus here");
    let mut h = harness(app);
    h.run();
    h.state_mut()
        .request_export(leakscope::ui::state::ExportRequest::FlameView);
    h.run();
    h.get_by_label("Export to a file");
    h.get_by_label("No file dialog can open: no session bus here.");
    let field = h
        .get_all_by_role(egui::accesskit::Role::TextInput)
        .find(|n| n.value().is_some_and(|v| v.ends_with("flamegraph.svg")))
        .expect("the path field, with a suggested name");
    field.focus();
    h.run();
    h.get_all_by_role(egui::accesskit::Role::TextInput)
        .find(|n| n.value().is_some_and(|v| v.ends_with("flamegraph.svg")))
        .unwrap()
        .set_text_value_accesskit(&svg.display().to_string());
    h.run();
    h.get_by_label("Save").click();
    // A spinner turns while the export is written: step, don't settle.
    h.step();
    h.state_mut().wait_for_export();
    h.run();
    assert!(h.query_by_label("Export to a file").is_none());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<?xml") && text.contains("main.querySearchBackend"));
    h.get_by_label(&format!("saved {}", svg.display()));
    std::fs::remove_dir_all(&dir).ok();
}
