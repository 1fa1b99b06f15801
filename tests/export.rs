//! Exports on the real fixtures: flame graph and differential SVGs, folded
//! stacks and the incident report, checked against the MANIFEST and against
//! golden files in `tests/golden/`, plus the `export` and `report` commands
//! (exit codes, no-overwrite, unwritable paths).
//!
//! A missing golden file is created; after an intended change, rewrite them
//! with `LEAKSCOPE_BLESS=1 cargo test --test export` and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use leakscope::analysis::flame::FlameTree;
use leakscope::analysis::{self, Analysis, AnalysisOptions};
use leakscope::export::folded::{folded_lines, write_folded};
use leakscope::export::report::{self, Block, ReportFormat, ReportOptions, Section, SuspectExtras};
use leakscope::export::svg::{Orientation, SvgOptions, svg_string};
use leakscope::export::{self, ExportError, FlameSpec, atomic_write};
use leakscope::formats::{self, LoadOptions};
use leakscope::model::Session;
use leakscope::pipeline::Findings;
use leakscope::progress::Progress;
use regex::Regex;

/// Loads fixtures by their path relative to the package root (the working
/// directory of tests), so the paths inside golden files are the same on
/// every machine.
fn session_rel(names: &[&str]) -> (Session, Analysis) {
    let mut s = Session::default();
    for n in names {
        let p = Path::new("tests/fixtures").join(n);
        let l = formats::load_file(&p, &LoadOptions::default(), &Progress::none())
            .unwrap_or_else(|e| panic!("{e}"));
        s.add(&l.table, l.input);
    }
    let a = analysis::analyze(&s, &AnalysisOptions::default());
    (s, a)
}

/// The pipeline's findings of fixtures named by relative paths, as
/// [`session_rel`] loads them.
fn findings_rel(names: &[&str]) -> Findings {
    let paths: Vec<_> = names
        .iter()
        .map(|n| Path::new("tests/fixtures").join(n))
        .collect();
    let f = findings_of(&paths);
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    f
}

/// Compares `actual` with `tests/golden/<name>`, creating it if missing and
/// rewriting it under `LEAKSCOPE_BLESS=1`.
#[track_caller]
fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let bless = std::env::var("LEAKSCOPE_BLESS").is_ok_and(|v| !v.is_empty() && v != "0");
    if bless || !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    if expected == actual {
        return;
    }
    let (line, e, a) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (e, a))| e != a)
        .map(|(i, (e, a))| (i + 1, e, a))
        .unwrap_or((
            expected.lines().count().min(actual.lines().count()) + 1,
            "(end)",
            "(end)",
        ));
    let clip = |s: &str| s.chars().take(200).collect::<String>();
    panic!(
        "{}:{line} differs from the output\n  expected: {}\n  actual:   {}\n\
         If the change is intended, re-bless with: LEAKSCOPE_BLESS=1 cargo test --test export",
        path.display(),
        clip(e),
        clip(a)
    );
}

/// Options for deterministic, diffable SVGs.
fn golden_opts(titles: export::Titles) -> SvgOptions {
    SvgOptions {
        interactive: false,
        pretty_xml: true,
        ..SvgOptions::new(titles)
    }
}

fn flame_svg(
    s: &Session,
    a: &Analysis,
    spec: &FlameSpec,
    tweak: impl FnOnce(&mut SvgOptions),
) -> String {
    let tree = export::flame_tree(s, a, spec).unwrap();
    let mut opts = golden_opts(export::titles(s, a, spec, &tree).unwrap());
    tweak(&mut opts);
    svg_string(&tree, &s.stacks, &opts).unwrap()
}

fn diff_svg(s: &Session, a: &Analysis) -> String {
    let (b, n) = export::default_diff_inputs(a).unwrap();
    let (b, n) = (FlameSpec::input(b), FlameSpec::input(n));
    let tree = export::diff_tree(s, a, &b, &n).unwrap();
    let opts = golden_opts(export::diff_titles(s, a, &b, &n, &tree).unwrap());
    svg_string(&tree, &s.stacks, &opts).unwrap()
}

/// inferno's XML namespace for sample counts on frames.
const FG: &str = "http://github.com/jonhoo/inferno";

/// One drawn frame of an inferno SVG.
#[derive(Debug)]
struct Box {
    title: String,
    class: String,
    fill: String,
    x: u64,
    w: u64,
    y: u64,
}

/// Parses an SVG or an XHTML report as XML (DTDs allowed: inferno's SVG
/// has one), failing the test with `what` when it is not well-formed.
fn xml<'a>(text: &'a str, what: &str) -> roxmltree::Document<'a> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .unwrap_or_else(|e| panic!("{what} is not well-formed XML: {e}"))
}

/// Parses the SVG as XML (failing the test if it is not) and lists its frames.
fn frames(svg: &str) -> Vec<Box> {
    let doc = xml(svg, "the SVG");
    let container = doc
        .descendants()
        .find(|n| n.has_tag_name("svg") && n.attribute("id") == Some("frames"))
        .expect("a frames container");
    container
        .children()
        .filter(|n| n.has_tag_name("g"))
        .map(|g| {
            let title = g
                .children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .unwrap_or("")
                .to_owned();
            let rect = g.children().find(|c| c.has_tag_name("rect")).expect("rect");
            // inferno's sample offsets and widths, `fg:x` and `fg:w`.
            let num = |k: &str| {
                rect.attributes()
                    .find(|a| a.name() == k && a.namespace() == Some(FG))
                    .and_then(|a| a.value().parse().ok())
                    .unwrap_or_else(|| panic!("rect {k} in {title}"))
            };
            Box {
                class: g.attribute("class").unwrap_or("").to_owned(),
                fill: rect.attribute("fill").unwrap_or("").to_owned(),
                x: num("x"),
                w: num("w"),
                y: rect.attribute("y").unwrap().parse().unwrap(),
                title,
            }
        })
        .collect()
}

/// A frame of `function` drawn `count` wide.
fn frame_with<'a>(boxes: &'a [Box], function: &str, count: u64, unit: &str) -> &'a Box {
    let prefix = format!("{function} ({count} {unit}, ");
    boxes
        .iter()
        .find(|b| b.title.starts_with(&prefix))
        .unwrap_or_else(|| {
            let seen: Vec<&str> = boxes
                .iter()
                .filter(|b| b.title.starts_with(function))
                .map(|b| b.title.as_str())
                .collect();
            panic!("no frame titled {prefix:?}…; frames of {function}: {seen:?}")
        })
}

/// The innermost frames of the stacks through `b` (flame orientation:
/// inner frames are drawn higher, at smaller y).
fn leaves_above<'a>(boxes: &'a [Box], b: &Box) -> Vec<&'a Box> {
    let inside: Vec<&Box> = boxes
        .iter()
        .filter(|o| o.x >= b.x && o.x + o.w <= b.x + b.w && o.y <= b.y)
        .collect();
    inside
        .iter()
        .copied()
        .filter(|o| {
            !inside
                .iter()
                .any(|p| p.y < o.y && p.x >= o.x && p.x + p.w <= o.x + o.w)
        })
        .collect()
}

fn rgb(fill: &str) -> (u8, u8, u8) {
    let v: Vec<u8> = fill
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().parse().unwrap())
        .collect();
    (v[0], v[1], v[2])
}

#[test]
fn flame_graphs_show_every_leak_with_its_count_in_every_dialect() {
    for (names, golden) in [
        (&DEBUG2, Some("flame-t3-debug2.svg")),
        (&DEBUG1, None),
        (&PROTO, None),
    ] {
        let (s, a) = session_rel(names);
        let spec = FlameSpec::input(export::default_input(&s, &a).unwrap());
        let svg = flame_svg(&s, &a, &spec, |_| {});
        let boxes = frames(&svg);
        let all = boxes.iter().find(|b| b.title.starts_with("all (")).unwrap();
        assert_eq!(all.title, "all (138 goroutines, 100%)", "{names:?}");
        for (function, _, per_phase) in LEAKS {
            frame_with(&boxes, leak_box(function), per_phase * 4, "goroutines");
        }
        for (function, count) in STEADY {
            frame_with(&boxes, function, *count, "goroutines");
        }
        // The app's colours and kinds of code.
        let search = frame_with(&boxes, "main.querySearchBackend", 40, "goroutines");
        assert_eq!(search.class, "app");
        let expected = leakscope::analysis::palette::frame_color(
            "main.querySearchBackend",
            leakscope::analysis::frames::FrameClass::App,
        );
        assert_eq!(
            search.fill,
            format!("rgb({},{},{})", expected[0], expected[1], expected[2])
        );
        // The colour the app draws the same box in: the tree's own.
        let tree = export::flame_tree(&s, &a, &spec).unwrap();
        let id = s.stacks.find_str("main.querySearchBackend").unwrap();
        let node = tree.nodes.iter().position(|n| n.function == id).unwrap();
        assert_eq!(tree.styles[node].1, expected);
        if let Some(g) = golden {
            assert_golden(g, &svg);
        }
    }
}

#[test]
fn differential_marks_leaks_grown_and_steady_stacks_unchanged() {
    for (names, golden) in [
        (&DEBUG2, Some("diff-t0-t3-debug2.svg")),
        (&PROTO, Some("diff-t0-t3-pb.svg")),
        (&DEBUG1, None),
    ] {
        let (s, a) = session_rel(names);
        let svg = diff_svg(&s, &a);
        let boxes = frames(&svg);
        for (function, _, per_phase) in LEAKS {
            let b = frame_with(&boxes, leak_box(function), per_phase * 4, "goroutines");
            let leaves = leaves_above(&boxes, b);
            assert!(!leaves.is_empty());
            for l in leaves {
                let (r, g, bl) = rgb(&l.fill);
                assert!(
                    r == 255 && g < 250 && g == bl,
                    "{names:?} {function}: leaf {} should be red, is {}",
                    l.title,
                    l.fill
                );
                // inferno's title: "f (N goroutines, P%; +D%)".
                assert!(l.title.contains("; +"), "{}", l.title);
            }
        }
        for (function, count) in STEADY {
            let b = frame_with(&boxes, function, *count, "goroutines");
            let leaves = leaves_above(&boxes, b);
            assert!(!leaves.is_empty());
            for l in leaves {
                assert_eq!(
                    l.fill, "rgb(250,250,250)",
                    "{names:?} {function}: {}",
                    l.title
                );
                assert!(l.title.ends_with("; 0.00%)"), "{}", l.title);
            }
        }
        if let Some(g) = golden {
            assert_golden(g, &svg);
        }
    }
}

#[test]
fn one_suspect_focus_search_icicle_and_zoom() {
    let (s, a) = session_rel(&PROTO);
    let input = export::default_input(&s, &a).unwrap();
    let top = &a.suspects[0];
    let spec = FlameSpec {
        group: Some(top.group),
        ..FlameSpec::input(input)
    };
    let svg = flame_svg(&s, &a, &spec, |o| o.orientation = Orientation::Icicle);
    let boxes = frames(&svg);
    assert!(boxes.iter().any(|b| b.title == "all (40 goroutines, 100%)"));
    frame_with(&boxes, "main.querySearchBackend", 40, "goroutines");
    assert!(svg.contains("Goroutines in stack group main.querySearchBackend"));
    assert_golden("suspect-1-t3-pb-icicle.svg", &svg);

    // Focus keeps whole stacks through matching frames.
    let spec = FlameSpec {
        focus: Some(Regex::new(r"persistConn").unwrap()),
        ..FlameSpec::input(input)
    };
    let tree = export::flame_tree(&s, &a, &spec).unwrap();
    assert_eq!(tree.root_total(), 16);
    let spec = FlameSpec {
        focus: Some(Regex::new("no such function").unwrap()),
        ..FlameSpec::input(input)
    };
    let tree = export::flame_tree(&s, &a, &spec).unwrap();
    let err = svg_string(
        &tree,
        &s.stacks,
        &golden_opts(export::titles(&s, &a, &spec, &tree).unwrap()),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::Empty(_)), "{err}");

    // Search highlights the matching frames only.
    let svg = flame_svg(&s, &a, &FlameSpec::input(input), |o| {
        o.search = Some(Regex::new("^main\\.(consumeEvents|pollUpstream)$").unwrap());
    });
    let boxes = frames(&svg);
    let matched: Vec<&Box> = boxes.iter().filter(|b| b.class.contains("match")).collect();
    assert_eq!(matched.len(), 2, "{matched:?}");
    assert!(matched.iter().all(|b| b.fill == "rgb(230,0,230)"));

    // Zoom: only the subtree, under its ancestors.
    let tree = FlameTree::build(
        &s.stacks,
        FlameTree::snapshot_weights(s.inputs[input].as_snapshot().unwrap(), 0),
    );
    let node = tree
        .nodes
        .iter()
        .position(|n| s.stacks.str(n.function) == "main.consumeEvents")
        .unwrap();
    let mut opts = golden_opts(export::Titles {
        title: "zoomed".into(),
        subtitle: None,
        count_name: "goroutines".into(),
    });
    opts.zoom = Some(node);
    let boxes = frames(&svg_string(&tree, &s.stacks, &opts).unwrap());
    assert!(boxes.iter().any(|b| b.title == "all (20 goroutines, 100%)"));
    assert!(
        boxes
            .iter()
            .all(|b| !b.title.contains("querySearchBackend"))
    );
}

#[test]
fn sampled_profiles_draw_any_sample_type() {
    let (s, a) = session_rel(&["heap.pb.gz"]);
    let vi = export::sample_type_index(&s, 0, "alloc_space").unwrap();
    let spec = FlameSpec {
        value_index: vi,
        ..FlameSpec::input(0)
    };
    let svg = flame_svg(&s, &a, &spec, |_| {});
    let boxes = frames(&svg);
    let all = boxes.iter().find(|b| b.title.starts_with("all (")).unwrap();
    assert!(all.title.ends_with(" bytes, 100%)"), "{}", all.title);
    assert!(svg.contains("heap alloc_space: heap.pb.gz"));
    assert_golden("heap-alloc_space.svg", &svg);
    let err = export::sample_type_index(&s, 0, "nope").unwrap_err();
    assert!(err.to_string().contains("inuse_space"), "{err}");
}

#[test]
fn folded_stacks_round_trip_and_inferno_reads_them() {
    let (s, a) = session_rel(&DEBUG2);
    let input = export::default_input(&s, &a).unwrap();
    let tree = export::flame_tree(&s, &a, &FlameSpec::input(input)).unwrap();
    let mut text = Vec::new();
    write_folded(&tree, &s.stacks, None, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_golden("folded-t3-debug2.txt", &text);
    assert!(text.contains("\nmain.querySearchBackend 40\n"), "{text}");

    // Back through leakscope's own folded loader: the same tree.
    let loaded = load_bytes("t3.folded", text.as_bytes()).unwrap();
    assert_eq!(loaded.input.format(), leakscope::model::Format::Folded);
    let snap = snapshot(&loaded);
    let again = FlameTree::build(&loaded.table, FlameTree::snapshot_weights(snap, 0));
    assert_eq!(again.root_total(), 138);
    let lines = |t: &FlameTree, table| folded_lines(t, table, None, 0.0).to_text();
    assert_eq!(lines(&again, &loaded.table), text);

    // inferno in its default (sorting) mode reads them too.
    let mut opts = inferno::flamegraph::Options::default();
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut opts, text.lines(), &mut svg).unwrap();
    assert!(
        String::from_utf8(svg)
            .unwrap()
            .contains("all (138 samples, 100%)")
    );

    // Differential folded stacks carry both counts.
    let (s, a) = session_rel(&DEBUG1);
    let (b, n) = export::default_diff_inputs(&a).unwrap();
    let tree = export::diff_tree(&s, &a, &FlameSpec::input(b), &FlameSpec::input(n)).unwrap();
    let diff = folded_lines(&tree, &s.stacks, None, 0.0).to_text();
    assert!(diff.contains("\nmain.querySearchBackend 10 40\n"), "{diff}");
    assert_golden("folded-diff-t0-t3-debug1.txt", &diff);
}

/// Rows of the suspects table of an HTML report: function and cells.
fn suspect_rows(html: &str) -> Vec<(String, bool, Vec<String>)> {
    let doc = xml(html, "the report");
    let table = doc
        .descendants()
        .find(|n| n.has_tag_name("table") && n.attribute("class") == Some("data suspects"))
        .expect("suspects table");
    table
        .children()
        .filter(|r| r.has_tag_name("tr") && r.children().any(|c| c.has_tag_name("td")))
        .map(|r| {
            let cells: Vec<String> = r
                .children()
                .filter(|c| c.has_tag_name("td"))
                .map(|c| {
                    c.descendants()
                        .filter(|d| d.is_text())
                        .filter_map(|d| d.text())
                        .collect()
                })
                .collect();
            let function = r
                .descendants()
                .find(|d| d.has_tag_name("code"))
                .and_then(|c| c.text())
                .unwrap_or("")
                .to_owned();
            (function, r.attribute("class") == Some("growing"), cells)
        })
        .collect()
}

#[test]
fn html_report_has_the_suspects_table_with_the_manifest_counts() {
    let f = findings_rel(&DEBUG2);
    let html = report::render(&f, &ReportOptions::default()).unwrap();
    let rows = suspect_rows(&html);
    for (function, reason, per_phase) in LEAKS {
        let (_, growing, cells) = rows
            .iter()
            .find(|(f, _, _)| f == function)
            .unwrap_or_else(|| panic!("no row for {function}"));
        assert!(growing, "{function}");
        let counts: Vec<String> = (1..=4).map(|k| (per_phase * k).to_string()).collect();
        assert_eq!(&cells[4..8], counts.as_slice(), "{function}");
        assert_eq!(&cells[2], reason, "{function}");
    }
    let growing = rows.iter().filter(|r| r.1).count();
    assert_eq!(growing, LEAKS.len());
    assert!(
        rows.iter()
            .any(|(f, g, c)| f == "main.jobWorker" && !g && c[4..8] == ["4", "4", "4", "4"])
    );
    let search = rows
        .iter()
        .find(|r| r.0 == "main.querySearchBackend")
        .unwrap();
    assert_eq!(search.2[3], "main.(*app).handleSearch.func1");
    // Self-contained: inline SVGs, no scripts, nothing fetched.
    assert_eq!(
        html.matches("<svg").count(),
        3 + 2,
        "chart, flame, diff (+2 nested frames)"
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("src=") && !html.contains("<link"));
    assert!(html.contains("9 growing stack groups (+93 goroutines from t0 to t3)"));
    assert!(html.contains("<h2 id=\"details\">Top suspects</h2>"));
    assert!(html.contains("created by main.(*app).handleSearch.func1"));
    assert!(html.contains("example.com/leakyd/main.go:215"));
    assert_golden("report-debug2.html", &html);
}

#[test]
fn markdown_report_and_the_extras_hook() {
    let f = findings_rel(&PROTO);
    let a = &f.analysis;
    let mut extras = SuspectExtras {
        columns: vec!["Trace goroutines".into()],
        ..SuspectExtras::default()
    };
    let top = a.suspects[0].group;
    extras.by_group.insert(
        top,
        report::SuspectExtra {
            cells: vec!["10".into()],
            sections: vec![Section {
                heading: "Blocking points".into(),
                blocks: vec![Block::Code(
                    "main.querySearchBackend\n    main.go:215".into(),
                )],
            }],
        },
    );
    extras.sections.push(Section {
        heading: "Trace".into(),
        blocks: vec![Block::Table {
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["1".into(), "x|y".into()]],
        }],
    });
    let opts = ReportOptions {
        format: ReportFormat::Markdown,
        extras: Some(extras),
        ..ReportOptions::default()
    };
    let md = report::render(&f, &opts).unwrap();
    assert!(
        md.contains(
            "| 1 | `main.querySearchBackend` **growing** | chan send | – | 10 | 20 | 30 | 40 |"
        ),
        "{md}"
    );
    assert!(md.contains("| Trace goroutines |"));
    assert!(md.contains("#### Blocking points"));
    assert!(md.contains("| 1 | x\\|y |"));
    assert!(md.contains("](data:image/svg+xml;base64,"));
    for (function, _, per_phase) in LEAKS {
        let counts: Vec<String> = (1..=4).map(|k| (per_phase * k).to_string()).collect();
        let needle = format!("`{function}` **growing**");
        let line = md
            .lines()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("{needle}"));
        assert!(
            line.contains(&format!("| {} |", counts.join(" | "))),
            "{line}"
        );
    }
    assert_golden("report-pb.md", &md);
    // Without a trace, the trace adds nothing.
    assert_eq!(report::trace_extras(&f), SuspectExtras::default());
}

#[test]
fn atomic_writes_never_replace_unless_forced() {
    let dir = temp_dir("atomic");
    let path = dir.join("flame.svg");
    atomic_write::write_atomic(&path, false, b"first").unwrap();
    let err = atomic_write::write_atomic(&path, false, b"second").unwrap_err();
    assert!(matches!(err, ExportError::Exists { .. }));
    assert_eq!(std::fs::read(&path).unwrap(), b"first");
    atomic_write::write_atomic(&path, true, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    let err = atomic_write::write_atomic(&dir.join("missing/flame.svg"), true, b"x").unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}", dir.join("missing/flame.svg").display()))
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary files left"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("leakscope-export-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn leakscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("run leakscope")
}

fn fixture_args(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| fixture(n).display().to_string())
        .collect()
}

#[test]
fn cli_export_writes_svg_and_folded_and_refuses_to_overwrite() {
    let dir = temp_dir("cli-export");
    let svg = dir.join("t3.svg");
    let folded = dir.join("t3.txt");
    let files = fixture_args(&PROTO);
    let mut args = vec![
        "export",
        "--svg",
        svg.to_str().unwrap(),
        "--folded",
        folded.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    let out = leakscope(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    frame_with(&frames(&text), "main.querySearchBackend", 40, "goroutines");
    assert!(
        text.contains("function search(term)"),
        "interactive by default"
    );
    assert!(
        std::fs::read_to_string(&folded)
            .unwrap()
            .contains("main.querySearchBackend;")
    );

    // Again: both exist, nothing is replaced, one line names the file.
    std::fs::write(&svg, "keep").unwrap();
    let out = leakscope(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("t3.svg") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), "keep");

    // --force, --diff, --icicle, --suspect.
    let mut forced = vec![
        "export",
        "--force",
        "--diff",
        "--icicle",
        "--suspect",
        "2",
        "--svg",
        svg.to_str().unwrap(),
    ];
    forced.extend(files.iter().map(String::as_str));
    let out = leakscope(&forced);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("var inverted = true"));
    let boxes = frames(&text);
    assert!(
        boxes.iter().any(|b| b.title == "all (20 goroutines, 100%)"),
        "suspect 2 is consumeEvents"
    );

    // A sampled profile picked by type, and one value of it.
    let heap = dir.join("heap.svg");
    let all = fixture_args(&["heap.pb.gz", "goroutine-t0.pb.gz", "cpu.pb.gz"]);
    let mut h = vec![
        "export",
        "--profile-type",
        "heap",
        "--sample-type",
        "inuse_objects",
        "--svg",
        heap.to_str().unwrap(),
    ];
    h.extend(all.iter().map(String::as_str));
    let out = leakscope(&h);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&heap)
            .unwrap()
            .contains("heap inuse_objects: heap.pb.gz")
    );

    // Unwritable path, unknown profile type, bad regex: one line, exit 2.
    for bad in [
        vec!["export", "--svg", "/nonexistent-dir/x.svg"],
        vec![
            "export",
            "--profile-type",
            "mutex",
            "--svg",
            heap.to_str().unwrap(),
            "--force",
        ],
        vec!["export", "--focus", "(", "--svg", heap.to_str().unwrap()],
    ] {
        let mut a = bad.clone();
        a.extend(files.iter().map(String::as_str));
        let out = leakscope(&a);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.is_empty(), "{bad:?}");
        if bad[2].starts_with("/nonexistent") {
            assert!(
                err.contains("/nonexistent-dir/x.svg") && err.lines().count() == 1,
                "{err}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cli_report_writes_html_and_markdown() {
    let dir = temp_dir("cli-report");
    let files = fixture_args(&DEBUG2);
    for name in ["r.html", "r.md"] {
        let out_path = dir.join(name);
        let mut args = vec!["report", "-o", out_path.to_str().unwrap()];
        args.extend(files.iter().map(String::as_str));
        let out = leakscope(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&out_path).unwrap();
        assert!(text.contains("main.querySearchBackend"));
        if name.ends_with(".html") {
            assert_eq!(
                suspect_rows(&text).iter().filter(|r| r.1).count(),
                LEAKS.len()
            );
        } else {
            assert!(text.starts_with("# Goroutine leak report"));
        }
        // Exists: refused without --force, replaced with it.
        let out = leakscope(&args);
        assert_eq!(out.status.code(), Some(2));
        args.insert(1, "--force");
        assert!(leakscope(&args).status.success());
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A trace alone draws as the goroutines alive when its window closed,
/// each in the last stack the trace shows it in (MANIFEST: 40 search
/// goroutines at the end of the Go 1.23 trace, 10 in the legacy one, which
/// was captured after one leak phase).
#[test]
fn cli_export_of_a_trace_draws_its_goroutines_at_the_end() {
    let dir = temp_dir("cli-trace");
    for (name, total, search, subscribe) in [
        ("trace-go123.out", 158, 40, 20),
        ("trace-go121-legacy.out", 59, 10, 5),
    ] {
        let svg = dir.join(format!("{name}.svg"));
        let file = fixture(name).display().to_string();
        let out = leakscope(&["export", "--svg", svg.to_str().unwrap(), &file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.contains(&format!("Goroutines at the end of the trace: {name}")),
            "{name}"
        );
        let boxes = frames(&text);
        let all = format!("all ({total} goroutines, 100%)");
        assert!(boxes.iter().any(|b| b.title == all), "{name}: {all}");
        frame_with(&boxes, "main.querySearchBackend", search, "goroutines");
        frame_with(&boxes, "main.consumeEvents", subscribe, "goroutines");
        // A focus narrows it as it narrows a snapshot.
        let focused = dir.join(format!("{name}-focus.svg"));
        let out = leakscope(&[
            "export",
            "--focus",
            "querySearchBackend",
            "--svg",
            focused.to_str().unwrap(),
            &file,
        ]);
        assert!(out.status.success());
        let boxes = frames(&std::fs::read_to_string(&focused).unwrap());
        let all = format!("all ({search} goroutines, 100%)");
        assert!(boxes.iter().any(|b| b.title == all), "{name}: focused");
    }
    // The incident report of a trace alone carries that flame graph too.
    let f = findings_rel(&["trace-go123.out"]);
    let html = report::render(&f, &ReportOptions::default()).unwrap();
    assert!(html.contains("Goroutines at the end of the trace: trace-go123.out"));
    // A differential needs two snapshots; a trace is refused clearly.
    let out = leakscope(&[
        "export",
        "--diff",
        "--svg",
        dir.join("d.svg").to_str().unwrap(),
        &fixture("trace-go123.out").display().to_string(),
        &fixture("trace-go121-legacy.out").display().to_string(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a trace is not one"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Found on every report with a flame graph (issue 15): the graphs' own ids
/// (`details`, `title`, `background`, …) clashed with each other and with
/// the report's headings. Each id is unique in the document, and every
/// reference inside a graph (`url(#…)`, its style sheet) names one that is
/// there.
#[test]
fn html_report_ids_are_unique_and_references_resolve() {
    let f = findings_rel(&DEBUG2);
    let html = report::render(&f, &ReportOptions::default()).unwrap();
    let ids: Vec<&str> = html
        .match_indices(" id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        assert!(seen.insert(*id), "id {id:?} appears twice");
    }
    assert!(
        ids.contains(&"details") && ids.contains(&"flame-details") && ids.contains(&"diff-details")
    );
    for (i, _) in html.match_indices("url(#") {
        let rest = &html[i + 5..];
        let id = &rest[..rest.find(')').unwrap()];
        assert!(seen.contains(id), "url(#{id}) names no element");
    }
    // The graphs' style sheets follow their ids.
    assert!(html.contains("#flame-title {") && html.contains("#diff-frames > *:hover"));
    assert!(!html.contains("#title {"));
}

/// The Top table of a flame graph (self and total per function) on the
/// last leakyd goroutine profile: figures of MANIFEST.md's stacks, read off
/// the same tree the app draws and the SVG renders.
#[test]
fn the_top_table_counts_self_and_total_per_function() {
    use leakscope::analysis::top::{self, TopOrder};
    let (s, a) = analyze(&["goroutine-t3.pb.gz"]);
    let tree = export::flame_tree(&s, &a, &FlameSpec::input(0)).unwrap();
    assert_eq!(tree.root_total(), 138);
    let mut rows = top::functions(&s.stacks, &tree);
    let row = |rows: &[top::FunctionRow], f: &str| {
        let r = rows
            .iter()
            .find(|r| s.stacks.str(r.function) == f)
            .unwrap_or_else(|| panic!("no row {f}"));
        (r.self_weight, r.total)
    };
    // Every goroutine but the three in syscalls or the profiler parks.
    assert_eq!(row(&rows, "runtime.gopark"), (135, 135));
    assert_eq!(s.stacks.str(rows[0].function), "runtime.gopark");
    // Four leak phases of ten.
    assert_eq!(row(&rows, "main.querySearchBackend"), (0, 40));
    // 12 pollUpstream, 8 + 8 persistConn loops, 4 workers and four of one.
    assert_eq!(row(&rows, "runtime.selectgo"), (0, 36));
    // Every goroutine ends in one function, but the one the profile
    // recorded with no stack (the root's own weight, no row).
    let selfs: u64 = rows.iter().map(|r| r.self_weight).sum();
    assert_eq!((selfs, tree.nodes[0].self_weight), (137, 1));
    top::sort(&s.stacks, &mut rows, TopOrder::Total);
    assert!(rows.windows(2).all(|w| w[0].total >= w[1].total));
    assert_eq!(row(&rows[..2], "runtime.gopark"), (135, 135));
    top::sort(&s.stacks, &mut rows, TopOrder::Name);
    assert!(
        rows.windows(2)
            .all(|w| s.stacks.str(w[0].function) <= s.stacks.str(w[1].function))
    );
}

/// A function that recurses counts once per stack in its total: the
/// variants program's goroutine blocked 121 calls deep in `main.recurse`
/// is one goroutine, not 121, in the table and in the sandwich.
#[test]
fn recursion_counts_once_in_total_and_in_the_sandwich() {
    use leakscope::analysis::top;
    let (s, a) = analyze(&["variants/debug1.txt"]);
    let tree = export::flame_tree(&s, &a, &FlameSpec::input(0)).unwrap();
    let recurse = s.stacks.find_str("main.recurse").unwrap();
    let boxes = tree.nodes.iter().filter(|n| n.function == recurse).count();
    assert_eq!(boxes, 121);
    let rows = top::functions(&s.stacks, &tree);
    let r = rows.iter().find(|r| r.function == recurse).unwrap();
    assert_eq!((r.self_weight, r.total), (1, 1));
    assert!(rows.iter().all(|r| r.total <= tree.root_total()));
    let sw = top::sandwich(&s.stacks, &tree, recurse);
    assert_eq!(sw.callers.root_total(), 1);
    assert_eq!(sw.callees.root_total(), 1);
    // Cut at the outermost call: nothing calls it, it calls itself 120 times.
    assert_eq!(sw.callers.max_depth, 1);
    assert_eq!(sw.callees.max_depth, 121);
}

/// The sandwich of `runtime.selectgo` on the last leakyd profile: its
/// callers inverted below it, with their goroutines, and what it calls.
#[test]
fn the_sandwich_shows_callers_and_callees_with_their_values() {
    use leakscope::analysis::top;
    let (s, a) = analyze(&["goroutine-t3.pb.gz"]);
    let tree = export::flame_tree(&s, &a, &FlameSpec::input(0)).unwrap();
    let selectgo = s.stacks.find_str("runtime.selectgo").unwrap();
    let sw = top::sandwich(&s.stacks, &tree, selectgo);
    let level = |t: &FlameTree, at: usize| -> Vec<(String, u64)> {
        t.children(at)
            .map(|c| {
                (
                    s.stacks.str(t.nodes[c].function).to_owned(),
                    t.nodes[c].total,
                )
            })
            .collect()
    };
    assert_eq!(level(&sw.callers, 0), [("runtime.selectgo".to_owned(), 36)]);
    let mut callers = level(&sw.callers, 1);
    callers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let want = [
        ("main.pollUpstream", 12),
        ("net/http.(*persistConn).readLoop", 8),
        ("net/http.(*persistConn).writeLoop", 8),
        ("main.jobWorker", 4),
        ("main.clockSampler", 1),
        ("main.jobProducer", 1),
        ("main.main", 1),
        ("main.metricsReporter", 1),
    ];
    let want: Vec<(String, u64)> = want.iter().map(|(f, n)| ((*f).to_owned(), *n)).collect();
    assert_eq!(callers, want);
    // main.main's caller, one level further out.
    let main = sw
        .callers
        .children(1)
        .find(|&c| s.stacks.str(sw.callers.nodes[c].function) == "main.main")
        .unwrap();
    assert_eq!(level(&sw.callers, main), [("runtime.main".to_owned(), 1)]);
    assert_eq!(level(&sw.callees, 0), [("runtime.selectgo".to_owned(), 36)]);
    assert_eq!(level(&sw.callees, 1), [("runtime.gopark".to_owned(), 36)]);
}
