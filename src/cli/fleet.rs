//! `inspect` and `report` given the session folders of several instances
//! (one per instance, different URLs): each instance analysed on its own,
//! then one ranking that says on how many instances each group grows.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::analysis::fleet::Fleet;
use crate::analysis::{AnalysisOptions, wording};
use crate::formats::LoadOptions;
use crate::pipeline::{self, Findings, InputSpec};
use crate::progress::Progress;

/// Groups listed in text unless `--all`.
const SHOWN: usize = 10;

/// The instances, when the inputs are session folders of two or more
/// services: `(name, folders)`.
pub fn instances(files: &[PathBuf]) -> Option<Vec<(String, Vec<InputSpec>)>> {
    let specs: Vec<InputSpec> = files.iter().cloned().map(InputSpec::Path).collect();
    pipeline::instances(&specs)
}

/// Each instance loaded on its own; what could not be loaded is said.
pub fn load(
    instances: &[(String, Vec<InputSpec>)],
    options: &LoadOptions,
    analysis: &AnalysisOptions,
) -> Vec<(String, Findings)> {
    let loaded = pipeline::run_instances(instances, options, analysis, &Progress::none());
    for (_, f) in &loaded {
        super::report_unreadable(&f.errors, &f.skipped);
    }
    loaded
}

pub fn rank(loaded: &[(String, Findings)]) -> Fleet {
    pipeline::rank_instances(loaded)
}

pub fn run(
    instances: &[(String, Vec<InputSpec>)],
    options: &LoadOptions,
    analysis: &AnalysisOptions,
    json: bool,
    all: bool,
) -> ExitCode {
    let loaded = load(instances, options, analysis);
    if loaded.is_empty() {
        return super::fail(&"none of the instances' folders could be loaded");
    }
    let fleet = rank(&loaded);
    if json {
        match serde_json::to_string_pretty(&fleet) {
            Ok(s) => println!("{s}"),
            Err(e) => return super::fail(&e),
        }
    } else {
        print!("{}", render_text(&fleet, all));
    }
    ExitCode::SUCCESS
}

/// The fleet ranking for people.
pub fn render_text(fleet: &Fleet, all: bool) -> String {
    let mut out = String::new();
    let n = fleet.instances.len();
    let _ = writeln!(out, "FLEET: {n} instances ({})", fleet.instances.join(", "));
    let growing = fleet.groups.iter().filter(|g| g.growing_on > 0).count();
    let _ = writeln!(
        out,
        "\nLEAK SUSPECTS: {growing} stack groups grow on at least one instance, among {}",
        fleet.groups.len()
    );
    let limit = if all { usize::MAX } else { SHOWN };
    for (rank, g) in fleet.groups.iter().take(limit).enumerate() {
        let (lo, hi) = g.count_range();
        let counts = if lo == hi {
            format!("{hi} goroutines each")
        } else {
            format!("{lo}–{hi} goroutines")
        };
        let _ = writeln!(
            out,
            "\n  #{:<3} {}{}",
            rank + 1,
            g.function.as_deref().unwrap_or("<no frames>"),
            g.wait_reason
                .as_deref()
                .map(|w| format!(" ({w})"))
                .unwrap_or_default()
        );
        let proven = if g.proven_on > 0 {
            format!("; proven leaked on {} of {n}", g.proven_on)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "        {}; on {} of {n} instances, {counts}{proven}",
            g.spread_text(n),
            g.present_on
        );
        let worst: Vec<String> = g
            .instances
            .iter()
            .filter(|i| i.growing)
            .take(3)
            .map(|i| {
                format!(
                    "{} {} at {}",
                    i.instance,
                    wording::rate(i.per_minute, 0.0),
                    i.count
                )
            })
            .collect();
        if !worst.is_empty() {
            let _ = writeln!(out, "        worst: {}", worst.join(", "));
        }
    }
    if fleet.groups.len() > limit {
        let _ = writeln!(
            out,
            "\n  … {} more groups (--all shows them)",
            fleet.groups.len() - limit
        );
    }
    out
}

/// The ranking as a report section: one row per group.
pub fn section(fleet: &Fleet) -> crate::export::report::Section {
    use crate::export::report::{Block, Section};
    let n = fleet.instances.len();
    let rows = fleet
        .groups
        .iter()
        .take(SHOWN)
        .map(|g| {
            let (lo, hi) = g.count_range();
            let worst: Vec<String> = g
                .instances
                .iter()
                .filter(|i| i.growing)
                .take(3)
                .map(|i| format!("{} ({})", i.instance, wording::rate(i.per_minute, 0.0)))
                .collect();
            vec![
                g.function
                    .clone()
                    .unwrap_or_else(|| "<no frames>".to_owned()),
                g.wait_reason.clone().unwrap_or_default(),
                g.spread_text(n),
                if lo == hi {
                    hi.to_string()
                } else {
                    format!("{lo}–{hi}")
                },
                worst.join(", "),
            ]
        })
        .collect();
    Section {
        heading: format!("Across {n} instances"),
        blocks: vec![
            Block::Text(format!(
                "Each instance's snapshots analysed on their own ({}); the rest of this report is the instance where the first group is worst.",
                fleet.instances.join(", ")
            )),
            Block::Table {
                header: vec![
                    "stack group".into(),
                    "waiting".into(),
                    "spread".into(),
                    "goroutines".into(),
                    "worst instances".into(),
                ],
                rows,
            },
        ],
    }
}
