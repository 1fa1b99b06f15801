//! The one way inputs become findings, for the app, every CLI command, live
//! capture, the tests and the fuzz targets.
//!
//! [`load`] reads inputs into one [`Session`] with one error policy: an
//! input that cannot be read is named with its reason and costs nothing
//! else. [`Findings::analyse`] then computes once everything the views
//! read — stack groups, suspects, every trace's analysis and its
//! correlation with the snapshots — and keeps it immutable, so the JSON,
//! the text output, the report and the app say the same thing because they
//! read the same values. Timeline lanes are built on first use: the CLI
//! never pays for them, the app builds them off the UI thread.
//!
//! A live session grows one capture at a time: [`Findings::append`] takes
//! in a parsed capture without reading the earlier ones again.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::analysis::correlate::{self, TraceAnalysis};
use crate::analysis::lanes::SnapshotLanes;
use crate::analysis::summary::{self, Report};
use crate::analysis::trace_lanes::TraceLanes;
use crate::analysis::{self, Analysis, AnalysisOptions};
use crate::formats::session_dir::{self, Incident, SessionCapture};
use crate::formats::{self, LoadOptions, Loaded};
use crate::model::Session;
use crate::model::time::format_rfc3339;
use crate::progress::Progress;

/// An input to load.
#[derive(Clone, Debug)]
pub enum InputSpec {
    /// A capture file, or a session folder standing for its captures.
    Path(PathBuf),
    /// Bytes already in memory (the embedded demo, a download).
    Bytes {
        /// What errors and lists call it (a file name, so the format can be
        /// told from it too).
        name: String,
        /// The content, shared so a retry or a second load does not copy it.
        data: Arc<[u8]>,
    },
}

impl InputSpec {
    /// The name errors and lists use: the path as given, or the name.
    pub fn name(&self) -> String {
        match self {
            InputSpec::Path(p) => p.display().to_string(),
            InputSpec::Bytes { name, .. } => name.clone(),
        }
    }
}

/// An input that could not be loaded: which, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file (or the name of in-memory bytes) as the user gave it.
    pub input: String,
    /// Why, in one line (format errors carry their offset).
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.reason)
    }
}

/// What loading gave: the inputs that loaded, as one session, and the ones
/// that did not.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    /// Every input that loaded, in the order given, over one stack table.
    pub session: Session,
    /// Every input that did not load, with why: one bad file never costs the
    /// others.
    pub errors: Vec<InputError>,
    /// Files of a session folder its manifest does not list that did not
    /// load (notes, READMEs): said, not counted as errors.
    pub skipped: Vec<InputError>,
}

/// One file to read, with what its folder knows of it.
struct Pending {
    spec: InputSpec,
    capture: Option<SessionCapture>,
}

/// Folders stand for their captures; everything else for itself.
fn expand(inputs: &[InputSpec], errors: &mut Vec<InputError>) -> Vec<Pending> {
    let mut files = Vec::with_capacity(inputs.len());
    for spec in inputs {
        match spec {
            InputSpec::Path(p) if p.is_dir() => match session_dir::list_captures(p) {
                Ok(caps) => files.extend(caps.into_iter().map(|c| Pending {
                    spec: InputSpec::Path(c.path.clone()),
                    capture: Some(c),
                })),
                Err(e) => errors.push(InputError {
                    input: p.display().to_string(),
                    reason: without_path_prefix(&e.to_string(), &p.display().to_string()),
                }),
            },
            other => files.push(Pending {
                spec: other.clone(),
                capture: None,
            }),
        }
    }
    files
}

/// Error texts of `formats` start with the path; [`InputError`] keeps it apart.
fn without_path_prefix(text: &str, path: &str) -> String {
    text.strip_prefix(path)
        .and_then(|t| t.strip_prefix(": "))
        .unwrap_or(text)
        .to_owned()
}

/// Reads one input; a folder's capture gets the folder's capture time.
pub fn load_one(
    spec: &InputSpec,
    capture: Option<&SessionCapture>,
    options: &LoadOptions,
) -> Result<Loaded, InputError> {
    let none = Progress::none();
    let name = spec.name();
    let loaded = match spec {
        InputSpec::Path(p) => formats::load_file(p, options, &none).map_err(|e| e.to_string()),
        InputSpec::Bytes { data, .. } => {
            formats::load_bytes(&name, data, options, &none).map_err(|e| e.to_string())
        }
    };
    match loaded {
        Ok(mut l) => {
            if let Some(c) = capture {
                c.apply(&mut l);
            }
            Ok(l)
        }
        Err(reason) => Err(InputError {
            reason: without_path_prefix(&reason, &name),
            input: name,
        }),
    }
}

/// Inputs read one by one, not yet in a session.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// What loaded, each with the file it came from, in load order.
    pub loaded: Vec<(Loaded, InputSpec)>,
    /// Inputs that failed to read or parse, with why.
    pub errors: Vec<InputError>,
    /// Files of a session folder its manifest does not list that did not load
    /// (notes, READMEs): said, not counted as errors.
    pub skipped: Vec<InputError>,
}

/// Reads every input in parallel, in the order given (a folder's captures
/// in capture order), each into a table of its own. `None` when cancelled.
pub fn read(
    inputs: &[InputSpec],
    options: &LoadOptions,
    progress: &Progress,
) -> Option<ReadOutcome> {
    progress.set_stage("loading");
    let mut out = ReadOutcome::default();
    let files = expand(inputs, &mut out.errors);
    let loaded: Vec<Option<Result<Loaded, InputError>>> = files
        .par_iter()
        .map(|f| {
            let r = load_one(&f.spec, f.capture.as_ref(), options);
            (!progress.is_cancelled()).then_some(r)
        })
        .collect();
    for (file, r) in files.into_iter().zip(loaded) {
        match r? {
            Ok(l) => out.loaded.push((l, file.spec)),
            Err(e) if file.capture.as_ref().is_some_and(|c| !c.listed) => out.skipped.push(e),
            Err(e) => out.errors.push(e),
        }
    }
    Some(out)
}

/// Loads every input into one session ([`read`], then merged). `None` when
/// cancelled.
pub fn load(
    inputs: &[InputSpec],
    options: &LoadOptions,
    progress: &Progress,
) -> Option<LoadOutcome> {
    let read = read(inputs, options, progress)?;
    let mut out = LoadOutcome {
        errors: read.errors,
        skipped: read.skipped,
        ..LoadOutcome::default()
    };
    for (l, _) in read.loaded {
        out.session.add_owned(l.table, l.input);
    }
    Some(out)
}

/// The instances among the inputs when they are session folders of two or
/// more services (told apart by the URL their manifests name): each
/// instance's name and folders. Such inputs are not one session: each
/// instance is analysed on its own and the fleet ranked together
/// ([`analysis::fleet`]).
pub fn instances(inputs: &[InputSpec]) -> Option<Vec<(String, Vec<InputSpec>)>> {
    if inputs.len() < 2 {
        return None;
    }
    let mut out: Vec<(String, Vec<InputSpec>)> = Vec::new();
    for spec in inputs {
        let InputSpec::Path(dir) = spec else {
            return None;
        };
        let url = session_dir::read_manifest(dir).ok().flatten()?.url;
        let name = session_dir::instance_name(&url);
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, specs)) => specs.push(spec.clone()),
            None => out.push((name, vec![spec.clone()])),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    (out.len() >= 2).then_some(out)
}

/// Each instance's folders loaded and analysed on their own; instances
/// none of whose inputs loaded are left out.
pub fn run_instances(
    instances: &[(String, Vec<InputSpec>)],
    load_options: &LoadOptions,
    options: &AnalysisOptions,
    progress: &Progress,
) -> Vec<(String, Findings)> {
    instances
        .iter()
        .filter_map(|(name, specs)| {
            let f = run(specs.clone(), load_options, options, progress)?;
            f.loaded_any().then(|| (name.clone(), f))
        })
        .collect()
}

/// The fleet's ranking of instances loaded by [`run_instances`].
pub fn rank_instances(loaded: &[(String, Findings)]) -> analysis::fleet::Fleet {
    let instances: Vec<analysis::fleet::Instance<'_>> = loaded
        .iter()
        .map(|(name, f)| analysis::fleet::Instance {
            name: name.clone(),
            session: &f.session,
            analysis: &f.analysis,
        })
        .collect();
    analysis::fleet::rank(&instances)
}

/// An execution trace of the session, analysed against its snapshots.
#[derive(Clone)]
pub struct TraceFindings {
    /// Shared, so views can hold it while the findings move on.
    pub analysis: Arc<TraceAnalysis>,
    lanes: OnceLock<Arc<TraceLanes>>,
}

impl fmt::Debug for TraceFindings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceFindings")
            .field("input", &self.analysis.input)
            .finish_non_exhaustive()
    }
}

/// Everything computed from one set of inputs.
#[derive(Clone)]
pub struct Findings {
    /// The loaded inputs the analysis was computed from.
    pub session: Session,
    /// The snapshot analysis: groups, growth and suspects.
    pub analysis: Analysis,
    /// Every trace among the inputs, in input order.
    pub traces: Vec<TraceFindings>,
    /// Inputs that could not be loaded.
    pub errors: Vec<InputError>,
    /// Unlisted files of session folders that did not load.
    pub skipped: Vec<InputError>,
    /// The inputs as given, to load them again (another label mode).
    pub inputs: Vec<InputSpec>,
    /// What made a folder among the inputs, when `leakscope watch` wrote it.
    pub incident: Option<Incident>,
    /// Restarts of the service the watcher saw within the snapshots (Unix ns).
    pub restarts_ns: Vec<i64>,
    snapshot_lanes: OnceLock<Arc<SnapshotLanes>>,
}

impl fmt::Debug for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Findings")
            .field("inputs", &self.session.inputs.len())
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

/// Loads and analyses: what the app and every command start from. `None`
/// when cancelled.
pub fn run(
    inputs: Vec<InputSpec>,
    load_options: &LoadOptions,
    options: &AnalysisOptions,
    progress: &Progress,
) -> Option<Findings> {
    let outcome = load(&inputs, load_options, progress)?;
    progress.set_stage("analysing");
    let findings = Findings::analyse(outcome, inputs, options);
    (!progress.is_cancelled()).then_some(findings)
}

impl Findings {
    /// Analyses a loaded session.
    pub fn analyse(
        outcome: LoadOutcome,
        inputs: Vec<InputSpec>,
        options: &AnalysisOptions,
    ) -> Findings {
        let session = outcome.session;
        let analysis = analysis::analyze(&session, options);
        let traces = trace_findings(&session, &analysis);
        let (incident, restarts_ns) = watch_records(&inputs);
        Findings {
            session,
            analysis,
            traces,
            errors: outcome.errors,
            skipped: outcome.skipped,
            inputs,
            incident,
            restarts_ns,
            snapshot_lanes: OnceLock::new(),
        }
    }

    /// Findings of inputs parsed elsewhere (fuzz targets, tests of one parser).
    pub fn of_loaded(loaded: Vec<Loaded>, options: &AnalysisOptions) -> Findings {
        let mut outcome = LoadOutcome::default();
        let mut inputs = Vec::with_capacity(loaded.len());
        for l in loaded {
            inputs.push(InputSpec::Path(PathBuf::from(&l.input.source().path)));
            outcome.session.add_owned(l.table, l.input);
        }
        Findings::analyse(outcome, inputs, options)
    }

    /// Findings of nothing yet, for a session that grows by [`Findings::append`].
    pub fn empty(options: &AnalysisOptions) -> Findings {
        Findings::analyse(LoadOutcome::default(), Vec::new(), options)
    }

    /// Whether anything loaded: commands exit 2 when nothing did.
    pub fn loaded_any(&self) -> bool {
        !self.session.inputs.is_empty()
    }

    /// The snapshots' goroutines over capture times, built on first use.
    pub fn snapshot_lanes(&self) -> Arc<SnapshotLanes> {
        self.snapshot_lanes
            .get_or_init(|| Arc::new(SnapshotLanes::build(&self.session, &self.analysis)))
            .clone()
    }

    /// The lanes of trace `i` (in [`Findings::traces`] order), built on first use.
    pub fn trace_lanes(&self, i: usize) -> Option<Arc<TraceLanes>> {
        let t = self.traces.get(i)?;
        let trace = self
            .session
            .inputs
            .get(t.analysis.input)?
            .trace_arc()?
            .clone();
        Some(
            t.lanes
                .get_or_init(|| {
                    Arc::new(TraceLanes::build(
                        trace,
                        &t.analysis,
                        &self.analysis,
                        &self.session,
                    ))
                })
                .clone(),
        )
    }

    /// Who created whom: the snapshots' tree (from `created by` lines),
    /// then each trace's (from its creation events); trees without a
    /// creation left out.
    pub fn creation_trees(&self) -> Vec<summary::CreationTreeJson> {
        use crate::analysis::creation_tree;
        let mut out = Vec::new();
        if !self.analysis.series.is_empty() {
            let tree = creation_tree::build(&*self.snapshot_lanes(), &self.session.stacks);
            out.push(summary::CreationTreeJson {
                source: "snapshots".to_owned(),
                tree,
            });
        }
        for i in 0..self.traces.len() {
            if let Some(lanes) = self.trace_lanes(i) {
                let input = self.traces[i].analysis.input;
                out.push(summary::CreationTreeJson {
                    source: self.session.inputs[input].source().path.clone(),
                    tree: creation_tree::build(&*lanes, &self.session.stacks),
                });
            }
        }
        out.retain(|t| !t.tree.roots.is_empty());
        out
    }

    /// The document `inspect --json` prints and the report renders.
    pub fn report(&self) -> Report {
        let traces: Vec<&TraceAnalysis> = self.traces.iter().map(|t| &*t.analysis).collect();
        let mut report = summary::build(&self.session, &self.analysis, &traces);
        for e in &self.errors {
            report.add_unreadable(&e.input, &e.reason);
        }
        report.incident.clone_from(&self.incident);
        report.restarts = self
            .restarts_ns
            .iter()
            .map(|&t| format_rfc3339(t))
            .collect();
        report
    }

    /// Takes in one more capture, parsed off to the side (a live session's
    /// newest). Earlier inputs are not read again: a snapshot captured after
    /// the series' end extends every group in place, so adding the N-th
    /// capture costs what adding the first did. A trace is analysed alone
    /// against the groups.
    pub fn append(&mut self, loaded: Loaded, spec: InputSpec) {
        let is_trace = loaded.input.as_trace().is_some();
        self.session.add_owned(loaded.table, loaded.input);
        self.inputs.push(spec);
        let input = self.session.inputs.len() - 1;
        let groups_before = self.analysis.groups.len();
        self.analysis.append(&self.session, input);
        if is_trace || !self.traces.is_empty() && self.analysis.groups.len() != groups_before {
            // New groups need their trace goroutines; traces are few.
            self.traces = trace_findings(&self.session, &self.analysis);
        }
        self.snapshot_lanes = OnceLock::new();
        for t in &mut self.traces {
            t.lanes = OnceLock::new();
        }
    }
}

/// The watcher's records in the manifests of the folders among `inputs`:
/// the first incident, and every restart.
fn watch_records(inputs: &[InputSpec]) -> (Option<Incident>, Vec<i64>) {
    let mut incident = None;
    let mut restarts = Vec::new();
    for spec in inputs {
        let InputSpec::Path(dir) = spec else {
            continue;
        };
        if !dir.is_dir() {
            continue;
        }
        // A manifest that cannot be read was already said when loading.
        if let Ok(Some(m)) = session_dir::read_manifest(dir) {
            restarts.extend(m.restarts_ns);
            if incident.is_none() {
                incident = m.incident;
            }
        }
    }
    restarts.sort_unstable();
    (incident, restarts)
}

fn trace_findings(session: &Session, analysis: &Analysis) -> Vec<TraceFindings> {
    correlate::analyze_traces(session, analysis)
        .into_iter()
        .map(|analysis| TraceFindings {
            analysis: Arc::new(analysis),
            lanes: OnceLock::new(),
        })
        .collect()
}
