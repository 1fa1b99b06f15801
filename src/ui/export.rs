//! Exports from the app: what to export, where, and the confirmation
//! before replacing a file. The writing itself is [`crate::export`], run in
//! a background job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;

use crate::analysis::flame::{FlameTree, NodeId};
use crate::export::report::{self, ReportFormat, ReportOptions};
use crate::export::svg::{Orientation, SvgOptions, write_svg};
use crate::export::{self, ExportError, FlameSpec, atomic_write, folded};
use crate::ui::workspace::Workspace;

/// What to write.
#[derive(Clone)]
pub enum ExportKind {
    /// The flame graph as on screen: its input, value, zoom, search, orientation.
    FlameView {
        /// The tree on screen, shared with the pane (no rebuild to export it).
        tree: Arc<FlameTree>,
        /// Which input and value the tree was built from, for the file's title.
        spec: FlameSpec,
        /// The box the view is zoomed into: the export starts there.
        zoom: NodeId,
        /// The search on screen, so matches are marked in the file too.
        search: Option<Regex>,
        /// Drawn as an icicle (roots at the top) rather than a flame.
        upward: bool,
    },
    /// One stack group's goroutines in the newest snapshot.
    GroupFlame {
        /// The group (index into the analysis's groups).
        group: usize,
        /// Which input and value, as the flame pane shows them.
        spec: FlameSpec,
    },
    /// Growth from the first snapshot to the last.
    DiffFlame,
    /// The flame graph on screen as folded stacks.
    Folded {
        /// The tree on screen.
        tree: Arc<FlameTree>,
        /// The box the view is zoomed into: only stacks through it are written.
        zoom: NodeId,
    },
    /// The incident report, in HTML or Markdown.
    Report(ReportFormat),
}

impl ExportKind {
    /// What the save dialog offers: a name and the extension filter.
    pub fn suggestion(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            ExportKind::FlameView { .. } => ("flamegraph.svg", "SVG image", "svg"),
            ExportKind::GroupFlame { .. } => ("suspect-flamegraph.svg", "SVG image", "svg"),
            ExportKind::DiffFlame => ("growth-flamegraph.svg", "SVG image", "svg"),
            ExportKind::Folded { .. } => ("stacks.folded.txt", "Folded stacks", "txt"),
            ExportKind::Report(ReportFormat::Html) => ("incident-report.html", "HTML", "html"),
            ExportKind::Report(ReportFormat::Markdown) => ("incident-report.md", "Markdown", "md"),
        }
    }

    /// What the export makes, for the file dialog's title and the notices.
    pub fn describe(&self) -> &'static str {
        match self {
            ExportKind::FlameView { .. } => "flame graph",
            ExportKind::GroupFlame { .. } => "suspect's flame graph",
            ExportKind::DiffFlame => "differential flame graph",
            ExportKind::Folded { .. } => "folded stacks",
            ExportKind::Report(_) => "incident report",
        }
    }
}

/// Writes one export atomically; `force` replaces an existing file.
pub fn run(ws: &Workspace, kind: &ExportKind, path: &Path, force: bool) -> Result<(), ExportError> {
    let (s, a) = (&ws.session, &ws.analysis);
    match kind {
        ExportKind::FlameView {
            tree,
            spec,
            zoom,
            search,
            upward,
        } => {
            let mut opts = SvgOptions::new(export::titles(s, a, spec, tree)?);
            opts.zoom = (*zoom != 0).then_some(*zoom);
            opts.search = search.clone();
            opts.orientation = if *upward {
                Orientation::Flame
            } else {
                Orientation::Icicle
            };
            atomic_write::write_atomic_with(path, force, |w| write_svg(tree, &s.stacks, &opts, w))
        }
        ExportKind::GroupFlame { group, spec } => {
            let spec = FlameSpec {
                group: Some(*group),
                ..spec.clone()
            };
            let tree = export::flame_tree(s, a, &spec)?;
            let opts = SvgOptions::new(export::titles(s, a, &spec, &tree)?);
            atomic_write::write_atomic_with(path, force, |w| write_svg(&tree, &s.stacks, &opts, w))
        }
        ExportKind::DiffFlame => {
            let (b, n) = export::default_diff_inputs(a).ok_or_else(|| {
                ExportError::Empty("a differential needs two goroutine snapshots".to_owned())
            })?;
            let base = FlameSpec {
                input: b,
                ..FlameSpec::default()
            };
            let now = FlameSpec {
                input: n,
                ..FlameSpec::default()
            };
            let tree = export::diff_tree(s, a, &base, &now)?;
            let opts = SvgOptions::new(export::diff_titles(s, a, &base, &now, &tree)?);
            atomic_write::write_atomic_with(path, force, |w| write_svg(&tree, &s.stacks, &opts, w))
        }
        ExportKind::Folded { tree, zoom } => atomic_write::write_atomic_with(path, force, |w| {
            folded::write_folded(tree, &s.stacks, (*zoom != 0).then_some(*zoom), w).map_err(|e| {
                ExportError::Write {
                    path: path.to_owned(),
                    source: e,
                }
            })
        }),
        ExportKind::Report(format) => {
            let opts = ReportOptions {
                format: *format,
                generated_at_ns: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| i64::try_from(d.as_nanos()).ok()),
                ..ReportOptions::default()
            };
            let text = report::render(ws.findings(), &opts)?;
            atomic_write::write_atomic(path, force, text.as_bytes())
        }
    }
}

/// An export waiting for the user: a path to confirm replacing.
pub struct PendingReplace {
    /// What to write.
    pub kind: ExportKind,
    /// Where to write it (chosen in the dialog or typed in the path field).
    pub path: PathBuf,
}
