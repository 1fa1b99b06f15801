//! What the app shows for one set of inputs: the pipeline's findings with
//! the timeline lanes laid out, all computed off the UI thread in one job,
//! so the UI thread only draws.

use std::ops::Deref;
use std::sync::Arc;

use crate::analysis::correlate::TraceAnalysis;
use crate::analysis::lanes::LaneSource;
use crate::analysis::trace_lanes::TraceLanes;
use crate::analysis::{Analysis, AnalysisOptions};
use crate::formats::LoadOptions;
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
}

/// The trace the timeline shows: an index into [`Findings::traces`], its
/// analysis and its lanes.
pub struct TraceWorkspace {
    pub index: usize,
    pub analysis: Arc<TraceAnalysis>,
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
        }
    }

    /// The findings, to hand to code outside the app.
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    pub fn analysis(&self) -> &Analysis {
        &self.findings.analysis
    }
}

/// Loads, analyses and lays out; `None` when cancelled.
pub fn build(
    inputs: Vec<InputSpec>,
    options: &AnalysisOptions,
    progress: &Progress,
) -> Option<Workspace> {
    let findings = pipeline::run(inputs, &LoadOptions::default(), options, progress)?;
    progress.set_stage("laying out lanes");
    let ws = Workspace::new(findings);
    progress.set(1.0);
    (!progress.is_cancelled()).then_some(ws)
}
