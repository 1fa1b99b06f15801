//! Everything the app shows for one set of inputs, computed off the UI
//! thread in one go: the session, its analysis and the timeline lanes.
//!
//! Inputs that fail to load do not stop the others: their errors travel
//! with the workspace so the app can show them next to what did load.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::correlate::{self, TraceAnalysis};
use crate::analysis::lanes::{LaneSource, SnapshotLanes};
use crate::analysis::trace_lanes::TraceLanes;
use crate::analysis::{self, Analysis, AnalysisOptions};
use crate::formats::session_dir::SessionCapture;
use crate::formats::{self, LoadOptions};
use crate::model::Session;
use crate::progress::Progress;

/// An input to load.
#[derive(Clone, Debug)]
pub enum InputSpec {
    Path(PathBuf),
    /// Bytes already in memory (the embedded demo, a download).
    Bytes {
        name: String,
        data: Arc<[u8]>,
    },
}

impl InputSpec {
    pub fn name(&self) -> String {
        match self {
            InputSpec::Path(p) => p.display().to_string(),
            InputSpec::Bytes { name, .. } => name.clone(),
        }
    }
}

/// The result of loading and analysing a set of inputs.
pub struct Workspace {
    pub session: Session,
    pub analysis: Analysis,
    /// The snapshots' goroutines over capture times.
    pub lanes: Arc<dyn LaneSource>,
    /// The first execution trace, with its lanes, when one is loaded.
    pub trace: Option<TraceWorkspace>,
    /// One line per input that could not be loaded: `name: reason`.
    pub errors: Vec<String>,
    pub inputs: Vec<InputSpec>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("inputs", &self.session.inputs.len())
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

/// An execution trace of the session, analysed against its snapshots.
pub struct TraceWorkspace {
    pub analysis: TraceAnalysis,
    pub lanes: Arc<TraceLanes>,
}

/// Loads every input in parallel, then analyses; `None` when cancelled.
pub fn build(
    inputs: Vec<InputSpec>,
    options: &AnalysisOptions,
    progress: &Progress,
) -> Option<Workspace> {
    build_with(inputs, &LoadOptions::default(), options, progress)
}

/// [`build`] with other loading limits (tests and fuzzing scale them down).
pub fn build_with(
    inputs: Vec<InputSpec>,
    load: &LoadOptions,
    options: &AnalysisOptions,
    progress: &Progress,
) -> Option<Workspace> {
    progress.set_stage("loading");
    // A folder (a saved live session) stands for its captures, with the
    // capture times its manifest records.
    let mut errors = Vec::new();
    let mut files: Vec<(InputSpec, Option<SessionCapture>)> = Vec::new();
    for spec in &inputs {
        match spec {
            InputSpec::Path(p) if p.is_dir() => match formats::session_dir::list_captures(p) {
                Ok(caps) => files.extend(
                    caps.into_iter()
                        .map(|c| (InputSpec::Path(c.path.clone()), Some(c))),
                ),
                Err(e) => errors.push(e.to_string()),
            },
            other => files.push((other.clone(), None)),
        }
    }
    let loaded: Vec<_> = files
        .par_iter()
        .map(|(spec, capture)| {
            let none = Progress::none();
            let r = match spec {
                InputSpec::Path(p) => formats::load_file(p, load, &none).map_err(|e| e.to_string()),
                InputSpec::Bytes { name, data } => {
                    formats::load_bytes(name, data, load, &none).map_err(|e| format!("{name}: {e}"))
                }
            };
            if progress.is_cancelled() {
                None
            } else {
                Some(r.map(|mut l| {
                    if let Some(c) = capture {
                        c.apply(&mut l);
                    }
                    l
                }))
            }
        })
        .collect();
    let mut session = Session::default();
    for r in loaded {
        match r? {
            Ok(l) => session.add(&l.table, l.input),
            Err(e) => errors.push(e),
        }
    }
    progress.set_stage("analysing");
    let analysis = analysis::analyze(&session, options);
    if progress.is_cancelled() {
        return None;
    }
    progress.set_stage("laying out lanes");
    let lanes: Arc<dyn LaneSource> = Arc::new(SnapshotLanes::build(&session, &analysis));
    if progress.is_cancelled() {
        return None;
    }
    progress.set_stage("matching the trace to the snapshots");
    let trace = correlate::analyze_traces(&session, &analysis)
        .into_iter()
        .next()
        .and_then(|ta| {
            let t = session.inputs.get(ta.input)?.trace_arc()?.clone();
            let lanes = Arc::new(TraceLanes::build(t, &ta, &analysis, &session.stacks));
            Some(TraceWorkspace {
                analysis: ta,
                lanes,
            })
        });
    progress.set(1.0);
    Some(Workspace {
        session,
        analysis,
        lanes,
        trace,
        errors,
        inputs,
    })
}
