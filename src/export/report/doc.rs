//! The report as a document, built once from what it shows and then
//! written as HTML or Markdown: both formats say the same things in the
//! same order because they render the same parts.

use super::{
    Content, NO_FRAMES, ReportOptions, Section, SuspectExtras, created_text, growth_text,
    input_notes, kind_text, labels_text, order_text, site_text, stack_text, wait_text,
};
use crate::analysis::Evidence;
use crate::analysis::summary::SuspectJson;
use crate::analysis::wording;
use crate::model::time::format_rfc3339;

/// One part of the report.
pub(super) enum Part {
    Title(String),
    /// What the report found, in one sentence.
    Headline(String),
    /// Who made the report and when.
    Meta(String),
    /// A heading; `id` anchors it in HTML.
    Heading {
        level: u8,
        id: String,
        text: String,
    },
    /// A suspect's heading: its rank and function.
    SuspectHeading {
        id: String,
        rank: usize,
        function: String,
    },
    /// A remark on what follows.
    Note(String),
    Table(Table),
    /// Name–value pairs.
    Facts(Vec<(&'static str, String)>),
    /// A goroutine stack as Go prints it.
    Stack(String),
    /// The goroutine count chart (an SVG).
    Chart(String),
    /// A flame graph SVG; `id` keeps its element ids apart from the rest of
    /// the document.
    Graph {
        id: &'static str,
        alt: String,
        svg: String,
    },
    /// A section another source contributed.
    Extra {
        section: Section,
        level: u8,
    },
}

/// A table; cells say how they are shown.
pub(super) struct Table {
    /// HTML classes of the table.
    pub class: &'static str,
    pub header: Vec<String>,
    /// Columns of numbers, right-aligned.
    pub numeric: Vec<bool>,
    pub rows: Vec<Row>,
}

pub(super) struct Row {
    /// How strong the row's evidence is (`proven leaked`, `growing`, empty).
    pub mark: &'static str,
    pub cells: Vec<Cell>,
}

pub(super) enum Cell {
    Text(String),
    Num(String),
    /// A file or function name.
    Code(String),
    /// A suspect's function with its file:line and the evidence mark.
    Function {
        name: String,
        site: String,
        mark: &'static str,
    },
}

/// The mark a listed suspect carries beside its name.
fn evidence_mark(s: &SuspectJson) -> &'static str {
    match s.evidence {
        Evidence::Proven => "proven leaked",
        _ if s.growing => "growing",
        _ => "",
    }
}

fn heading(level: u8, id: &str, text: &str) -> Part {
    Part::Heading {
        level,
        id: id.to_owned(),
        text: text.to_owned(),
    }
}

/// The whole report, in order.
pub(super) fn build(c: &Content<'_>, opts: &ReportOptions, extras: &SuspectExtras) -> Vec<Part> {
    let generated = opts
        .generated_at_ns
        .map(|t| format!(" on {}", format_rfc3339(t)))
        .unwrap_or_default();
    let mut parts = vec![
        Part::Title("Goroutine leak report".to_owned()),
        Part::Headline(c.headline.clone()),
        Part::Meta(format!(
            "Made by leakscope {}{generated}.",
            env!("CARGO_PKG_VERSION")
        )),
    ];
    incident_parts(c, &mut parts);
    history_parts(c, opts, &mut parts);
    parts.extend(opts.leading.iter().map(|s| Part::Extra {
        section: s.clone(),
        level: 2,
    }));
    parts.push(heading(2, "inputs", "Inputs"));
    parts.push(Part::Table(inputs_table(c)));
    series_parts(c, &mut parts);
    if !c.listed.is_empty() {
        parts.push(heading(2, "suspects", "Leak suspects"));
        parts.push(Part::Note(
            "Groups the runtime proved leaked first, then growing stack groups by growth, \
             then the largest others. Counts are goroutines per snapshot."
                .to_owned(),
        ));
        parts.push(Part::Table(suspects_table(c, extras)));
    }
    count_profile_parts(c, &mut parts);
    graph_parts(c, &mut parts);
    detail_parts(c, extras, &mut parts);
    parts.extend(extras.sections.iter().map(|s| Part::Extra {
        section: s.clone(),
        level: 2,
    }));
    parts
}

/// Why the folder exists, when a watcher wrote it: before anything else.
fn incident_parts(c: &Content<'_>, parts: &mut Vec<Part>) {
    let Some(i) = &c.summary.incident else {
        return;
    };
    parts.push(heading(2, "incident", "Incident"));
    parts.push(Part::Note(format!(
        "leakscope watch saved these captures when its triggers fired at {}.",
        i.fired_at
    )));
    parts.push(Part::Table(Table {
        class: "incident",
        header: vec!["trigger".into(), "profile".into(), "what fired".into()],
        numeric: vec![false, false, false],
        rows: i
            .triggers
            .iter()
            .map(|f| Row {
                mark: "",
                cells: vec![
                    Cell::Text(f.trigger.clone()),
                    Cell::Code(f.profile.clone()),
                    Cell::Text(f.message.clone()),
                ],
            })
            .collect(),
    }));
    if !c.summary.restarts.is_empty() {
        parts.push(Part::Note(format!(
            "The service restarted within the snapshots at {}.",
            c.summary.restarts.join(", ")
        )));
    }
}

/// The goroutine history from Prometheus, the snapshots marked on it.
fn history_parts(c: &Content<'_>, opts: &ReportOptions, parts: &mut Vec<Part>) {
    let Some(h) = &opts.history else {
        return;
    };
    let Some(svg) = crate::export::chart::history_chart(&h.title, &h.points, &c.marks) else {
        return;
    };
    parts.push(heading(2, "history", "Goroutine history"));
    parts.push(Part::Note(format!(
        "{} from Prometheus; the dashed lines are the snapshots of this report.",
        h.title
    )));
    parts.push(Part::Chart(svg));
}

/// The service's own count profiles, each ranked like goroutines.
fn count_profile_parts(c: &Content<'_>, parts: &mut Vec<Part>) {
    for (i, p) in c.summary.count_profiles.iter().enumerate() {
        parts.push(heading(
            2,
            &format!("profile-{}", i + 1),
            &format!("Profile {} ({} snapshots)", p.profile, p.snapshots),
        ));
        parts.push(Part::Table(Table {
            class: "suspects",
            header: vec!["stack group".into(), "counts".into(), "growth".into()],
            numeric: vec![false, false, true],
            rows: p
                .suspects
                .iter()
                .take(10)
                .map(|s| Row {
                    mark: evidence_mark(s),
                    cells: vec![
                        Cell::Function {
                            name: s.function.clone().unwrap_or_else(|| NO_FRAMES.to_owned()),
                            site: site_text(s),
                            mark: evidence_mark(s),
                        },
                        Cell::Text(wording::counts(&s.counts)),
                        Cell::Num(if s.growing {
                            wording::rate(s.per_minute, s.slope)
                        } else {
                            String::new()
                        }),
                    ],
                })
                .collect(),
        }));
    }
}

fn inputs_table(c: &Content<'_>) -> Table {
    let rows = c
        .summary
        .inputs
        .iter()
        .map(|i| Row {
            mark: "",
            cells: vec![
                Cell::Code(i.path.clone()),
                Cell::Text(kind_text(i)),
                Cell::Num(i.goroutines.map(|g| g.to_string()).unwrap_or_default()),
                Cell::Text(i.captured_at.clone().unwrap_or_else(|| "–".into())),
                Cell::Text(input_notes(i)),
            ],
        })
        .collect();
    Table {
        class: "data",
        header: ["File", "Kind", "Goroutines", "Captured", "Notes"]
            .map(String::from)
            .to_vec(),
        numeric: vec![false, false, true, false, false],
        rows,
    }
}

/// The snapshots of the series and the goroutine chart.
fn series_parts(c: &Content<'_>, parts: &mut Vec<Part>) {
    let snaps = &c.summary.series.snapshots;
    if snaps.is_empty() {
        return;
    }
    parts.push(heading(2, "growth", "Goroutines over time"));
    parts.push(Part::Note(format!("Snapshots {}:", order_text(c))));
    let rows = snaps
        .iter()
        .enumerate()
        .map(|(i, s)| Row {
            mark: "",
            cells: vec![
                Cell::Text(format!("t{i}")),
                Cell::Code(s.path.clone()),
                Cell::Text(s.captured_at.clone().unwrap_or_else(|| "–".into())),
                Cell::Num(s.goroutines.to_string()),
            ],
        })
        .collect();
    parts.push(Part::Table(Table {
        class: "data",
        header: ["Snapshot", "File", "Captured", "Goroutines"]
            .map(String::from)
            .to_vec(),
        numeric: vec![false, false, false, true],
        rows,
    }));
    if let Some(chart) = &c.chart {
        parts.push(Part::Chart(chart.clone()));
    }
}

fn suspects_table(c: &Content<'_>, extras: &SuspectExtras) -> Table {
    let snaps = c.summary.series.snapshots.len();
    let mut header: Vec<String> = ["#", "Function (leak site)", "Wait reason", "Created by"]
        .map(String::from)
        .to_vec();
    header.extend((0..snaps).map(|i| format!("t{i}")));
    header.extend(["Growth", "Waiting", "Labels"].map(String::from));
    header.extend(extras.columns.iter().cloned());
    let mut numeric = vec![true, false, false, false];
    numeric.extend(std::iter::repeat_n(true, snaps));
    numeric.resize(header.len(), false);
    let rows = c
        .listed
        .iter()
        .enumerate()
        .map(|(rank, (group, s))| {
            let mut cells = vec![
                Cell::Num((rank + 1).to_string()),
                Cell::Function {
                    name: s.function.clone().unwrap_or_else(|| NO_FRAMES.to_owned()),
                    site: site_text(s),
                    mark: evidence_mark(s),
                },
                Cell::Text(s.wait_reason.clone().unwrap_or_else(|| "–".into())),
                s.created_by
                    .clone()
                    .map_or(Cell::Text("–".into()), Cell::Code),
            ];
            cells.extend(s.counts.iter().map(|n| Cell::Num(n.to_string())));
            cells.push(Cell::Text(growth_text(s)));
            cells.push(Cell::Text(wait_text(s)));
            cells.push(Cell::Text(labels_text(s)));
            let extra = extras.by_group.get(group);
            for i in 0..extras.columns.len() {
                let cell = extra.and_then(|e| e.cells.get(i)).cloned();
                cells.push(Cell::Text(cell.unwrap_or_default()));
            }
            Row {
                mark: evidence_mark(s),
                cells,
            }
        })
        .collect();
    Table {
        class: "data suspects",
        header,
        numeric,
        rows,
    }
}

/// The flame graph of the newest snapshot and the differential one.
fn graph_parts(c: &Content<'_>, parts: &mut Vec<Part>) {
    for (i, g) in c.graphs.iter().enumerate() {
        let id = if i == 0 { "flame" } else { "diff" };
        parts.push(heading(2, id, &g.heading));
        parts.push(Part::Note(if i == 1 {
            "Widths are the newest snapshot. The innermost frame of each stack is red where \
             the stack gained goroutines, blue where it lost some, near-white where its count \
             did not change. Hover a frame for its count."
                .to_owned()
        } else {
            "Hover a frame for its count. Colours tell the kind of code: warm for the \
             application, green for dependencies, blue for the standard library, grey for the \
             runtime."
                .to_owned()
        }));
        parts.push(Part::Graph {
            id,
            alt: g.heading.clone(),
            svg: g.svg.clone(),
        });
    }
}

/// The top suspects, each with its facts, stack and extra sections.
fn detail_parts(c: &Content<'_>, extras: &SuspectExtras, parts: &mut Vec<Part>) {
    if !c.detailed.is_empty() {
        parts.push(heading(2, "details", "Top suspects"));
    }
    for &i in &c.detailed {
        let Some((group, s)) = c.listed.get(i) else {
            continue;
        };
        parts.push(Part::SuspectHeading {
            id: format!("suspect-{}", i + 1),
            rank: i + 1,
            function: s.function.clone().unwrap_or_else(|| NO_FRAMES.to_owned()),
        });
        let facts = [
            ("Leak site", site_text(s)),
            (
                "Wait reason",
                s.wait_reason.clone().unwrap_or_else(|| "–".into()),
            ),
            ("Created by", created_text(s)),
            ("Goroutines per snapshot", wording::counts(&s.counts)),
            ("Growth", growth_text(s)),
            ("Waiting", wait_text(s)),
            ("Labels", labels_text(s)),
        ];
        parts.push(Part::Facts(
            facts.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        ));
        parts.push(Part::Stack(stack_text(s)));
        if let Some(extra) = extras.by_group.get(group) {
            parts.extend(extra.sections.iter().map(|s| Part::Extra {
                section: s.clone(),
                level: 4,
            }));
        }
    }
}
