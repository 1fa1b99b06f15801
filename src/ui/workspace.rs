//! What the app shows for one set of inputs: the pipeline's findings with
//! the timeline lanes laid out, all computed off the UI thread in one job,
//! so the UI thread only draws.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use crate::analysis::correlate::TraceAnalysis;
use crate::analysis::fleet::{Fleet, FleetGroup};
use crate::analysis::lanes::LaneSource;
use crate::analysis::trace_lanes::TraceLanes;
use crate::analysis::{Analysis, AnalysisOptions, Group, group};
use crate::formats::LoadOptions;
use crate::live::prometheus;
pub use crate::pipeline::InputSpec;
use crate::pipeline::{self, Findings};
use crate::progress::Progress;

/// The findings and their lanes. Dereferences to [`Findings`].
pub struct Workspace {
    findings: Findings,
    /// The snapshots' goroutines over capture times.
    pub lanes: Arc<dyn LaneSource>,
    /// The execution trace the timeline can show, with its lanes.
    pub trace: Option<TraceWorkspace>,
    /// When the inputs are several instances' folders: the ranking across
    /// them, the findings above being one instance's.
    pub fleet: Option<Arc<FleetView>>,
    /// The instance's goroutine history from Prometheus (what was asked,
    /// and its points), or why there is none; `None` when not asked.
    pub history: Option<Result<History, String>>,
}

/// A goroutine history: what was asked of Prometheus, and its
/// `(unix seconds, goroutines)` points.
pub type History = (String, Vec<(f64, f64)>);

/// Where the app reads goroutine histories: a Prometheus server, and how
/// far back.
#[derive(Clone, Debug, PartialEq)]
pub struct HistorySource {
    /// The Prometheus server asked (`--prometheus`).
    pub url: String,
    /// How far back the history goes (`--history`).
    pub range: std::time::Duration,
}

/// A fleet's ranking beside the instance on screen.
#[derive(Debug)]
pub struct FleetView {
    /// Every instance's groups, ranked across the fleet.
    pub ranking: Fleet,
    /// The instance whose findings are shown.
    pub current: String,
    /// Per group identity ([`group::stable_key`]), its row in the ranking.
    by_key: HashMap<u64, usize>,
}

impl FleetView {
    /// How the fleet shows the group a suspect of the current instance is.
    pub fn of(&self, ws: &Workspace, group: &Group) -> Option<&FleetGroup> {
        let key = group::stable_key(&ws.session.stacks, group);
        self.by_key.get(&key).map(|&i| &self.ranking.groups[i])
    }
}

/// The trace the timeline shows: an index into [`Findings::traces`], its
/// analysis and its lanes.
pub struct TraceWorkspace {
    /// Which trace of the findings (index into [`Findings::traces`]).
    pub index: usize,
    /// The trace's analysis (suspects, correlation with the snapshots).
    pub analysis: Arc<TraceAnalysis>,
    /// The trace's lanes, as the timeline draws them.
    pub lanes: Arc<TraceLanes>,
}

impl Deref for Workspace {
    type Target = Findings;
    fn deref(&self) -> &Findings {
        &self.findings
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.findings.fmt(f)
    }
}

impl Workspace {
    /// Lays out the lanes of findings (the first trace's, if any).
    pub fn new(findings: Findings) -> Workspace {
        let lanes: Arc<dyn LaneSource> = findings.snapshot_lanes();
        let trace = findings.traces.first().and_then(|t| {
            Some(TraceWorkspace {
                index: 0,
                analysis: t.analysis.clone(),
                lanes: findings.trace_lanes(0)?,
            })
        });
        Workspace {
            findings,
            lanes,
            trace,
            fleet: None,
            history: None,
        }
    }

    /// The findings, to hand to code outside the app.
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// The analysis of the snapshots (groups, suspects, series).
    pub fn analysis(&self) -> &Analysis {
        &self.findings.analysis
    }
}

/// Loads, analyses and lays out; `None` when cancelled. Several
/// instances' folders are each analysed on their own and ranked together;
/// `instance` (or else the one where the first group is worst) is shown.
pub fn build(
    inputs: Vec<InputSpec>,
    options: &AnalysisOptions,
    instance: Option<&str>,
    history: Option<&HistorySource>,
    progress: &Progress,
) -> Option<Workspace> {
    if let Some(instances) = pipeline::instances(&inputs) {
        let mut ws = build_fleet(inputs, &instances, options, instance, progress)?;
        if let (Some(h), Some(fleet)) = (history, &ws.fleet) {
            let folders = instances
                .iter()
                .find(|(n, _)| *n == fleet.current)
                .map(|(_, specs)| folders_of(specs))
                .unwrap_or_default();
            ws.history = Some(fetch_history(h, &folders, progress));
        }
        return Some(ws);
    }
    let folders = folders_of(&inputs);
    let findings = pipeline::run(inputs, &LoadOptions::default(), options, progress)?;
    progress.set_stage("laying out lanes");
    let mut ws = Workspace::new(findings);
    if let Some(h) = history {
        ws.history = Some(fetch_history(h, &folders, progress));
    }
    progress.set(1.0);
    (!progress.is_cancelled()).then_some(ws)
}

fn build_fleet(
    inputs: Vec<InputSpec>,
    instances: &[(String, Vec<InputSpec>)],
    options: &AnalysisOptions,
    instance: Option<&str>,
    progress: &Progress,
) -> Option<Workspace> {
    let mut loaded = pipeline::run_instances(instances, &LoadOptions::default(), options, progress);
    if progress.is_cancelled() || loaded.is_empty() {
        return None;
    }
    let ranking = pipeline::rank_instances(&loaded);
    let worst = ranking.groups.first().and_then(|g| g.instances.first());
    let pick = instance
        .and_then(|n| loaded.iter().position(|(m, _)| m == n))
        .or_else(|| worst.and_then(|w| loaded.iter().position(|(m, _)| *m == w.instance)))
        .unwrap_or(0);
    let (current, mut findings) = loaded.swap_remove(pick);
    // Loading again (another instance, another grouping) starts from all of them.
    findings.inputs = inputs;
    let by_key = ranking
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.key, i))
        .collect();
    let view = FleetView {
        ranking,
        current,
        by_key,
    };
    progress.set_stage("laying out lanes");
    let mut ws = Workspace::new(findings);
    ws.fleet = Some(Arc::new(view));
    (!progress.is_cancelled()).then_some(ws)
}

fn folders_of(specs: &[InputSpec]) -> Vec<std::path::PathBuf> {
    specs
        .iter()
        .filter_map(|s| match s {
            InputSpec::Path(p) if p.is_dir() => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// The goroutine history of the instance the folders polled.
fn fetch_history(
    source: &HistorySource,
    folders: &[std::path::PathBuf],
    progress: &Progress,
) -> Result<History, String> {
    progress.set_stage("reading the history from Prometheus");
    let query = prometheus::instance_query(folders)
        .ok_or("no history: the inputs are not a session folder of one instance")?;
    prometheus::history(&source.url, &query, source.range, &|| {
        progress.is_cancelled()
    })
}
