//! The session and its analysis as plain, serializable data: what
//! `leakscope inspect --json` prints and what the incident report
//! (`crate::export::report`) renders, so both always say the same thing.

use serde::Serialize;

use crate::analysis::correlate::{TraceAnalysis, TraceSuspect};
use crate::analysis::trace::TraceSummary;
use crate::analysis::{self, Analysis, Evidence, SeriesOrder, Suspect, wording};
use crate::model::time::format_rfc3339;
use crate::model::{Input, LabelValue, Session, Snapshot, StackId, Warning};

/// The `--json` document. Field names are a contract with scripts: add, never rename.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Every input given, loaded or not, in the order given, so a script sees
    /// what was and was not read.
    pub inputs: Vec<InputJson>,
    /// The goroutine snapshots growth was measured over.
    pub series: SeriesJson,
    /// What the (first) execution trace among the inputs says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSummary>,
    /// Snapshot-derived suspects first (growth across snapshots), then
    /// trace-derived ones (goroutines created in the window, never ended).
    pub suspects: Vec<SuspectJson>,
    /// Count profiles of the service's own (`pprof.NewProfile`) with two
    /// snapshots or more, each ranked like goroutines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub count_profiles: Vec<CountProfileJson>,
    /// Why the folder exists, when `leakscope watch` wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<crate::model::incident::Incident>,
    /// When the watcher saw the service restart within the snapshots.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restarts: Vec<String>,
    /// Who created whom (`inspect --creators`): one tree from the dumps'
    /// `created by` lines, one per trace from its creation events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub creation_trees: Vec<CreationTreeJson>,
}

/// A creation tree and where it was read from.
#[derive(Debug, Serialize)]
pub struct CreationTreeJson {
    /// `snapshots`, or the trace's path.
    pub source: String,
    /// The creators at the top, each with what it created.
    #[serde(flatten)]
    pub tree: analysis::creation_tree::CreationTree,
}

/// The growth ranking of one count profile.
#[derive(Debug, Serialize)]
pub struct CountProfileJson {
    /// The profile's name (`pprof.NewProfile`'s), what the service calls the
    /// thing it counts.
    pub profile: String,
    /// Its snapshots, in series order.
    pub snapshots: usize,
    /// Its stack groups ranked like goroutine groups: a count profile of open
    /// connections leaks the way goroutines do.
    pub suspects: Vec<SuspectJson>,
}

/// One input as `inspect --json` lists it: enough to tell which file said what,
/// and whether it loaded cleanly.
#[derive(Debug, Serialize)]
pub struct InputJson {
    /// The path as given, so scripts can match it with their own list.
    pub path: String,
    /// The dialect it was parsed as (`pprof`, `goroutine-dump`, ...), or
    /// `unreadable`.
    pub format: &'static str,
    /// Which pprof profile it is (`goroutine`, `heap`, ...); null for non-pprof
    /// inputs.
    pub profile_type: Option<String>,
    /// Goroutines in a goroutine snapshot; null for other inputs.
    pub goroutines: Option<u64>,
    /// Capture time (RFC 3339) where the file records it; null otherwise.
    pub captured_at: Option<String>,
    /// What the loader skipped or repaired, by kind with counts, so a partial
    /// load is visible.
    pub warnings: Vec<Warning>,
    /// The crash message of a panic or fatal-error dump, and the goroutine that crashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panic: Option<PanicJson>,
    /// Top functions of a sampled profile, by its default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<TopJson>,
    /// Why the input could not be loaded (its format is then `unreadable`):
    /// one bad input never costs the others, and scripts can see which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SuspectJson {
    /// Goroutines the group gained from the first snapshot to the last
    /// (negative when it shrank): what a headline adds up.
    pub fn added(&self) -> i128 {
        i128::from(self.counts.last().copied().unwrap_or(0))
            - i128::from(self.counts.first().copied().unwrap_or(0))
    }
}

impl Report {
    /// Lists an input that could not be loaded, with the reason.
    pub fn add_unreadable(&mut self, path: &str, reason: &str) {
        self.inputs.push(InputJson {
            path: path.to_owned(),
            format: "unreadable",
            profile_type: None,
            goroutines: None,
            captured_at: None,
            warnings: Vec::new(),
            panic: None,
            top: None,
            error: Some(reason.to_owned()),
        });
    }
}

/// The crash a panic or fatal-error dump records: the first thing to read in a
/// crash.
#[derive(Debug, Serialize)]
pub struct PanicJson {
    /// The message, `panic: ` or `fatal error: ` included.
    pub message: String,
    /// The goroutine that crashed, where the dump names it.
    pub goroutine: Option<u64>,
}

/// The top functions of a sampled profile, as `go tool pprof -top` would list
/// them.
#[derive(Debug, Serialize)]
pub struct TopJson {
    /// The sample type the rows are weighed by (the profile's default).
    pub sample_type: String,
    /// Its unit, so values can be read without the profile.
    pub unit: String,
    /// Sum of that value over the whole profile, what `flat` and `cum` are
    /// shares of.
    pub total: i64,
    /// The heaviest functions first.
    pub functions: Vec<analysis::top::TopEntry>,
}

/// The Top table of a flame graph as the JSON document states it: the
/// first `limit` functions of `tree` (built for `spec`), heaviest self
/// first, with the value they are weighed by and its unit.
pub fn top_json(
    session: &Session,
    spec: &analysis::flame_spec::FlameSpec,
    tree: &analysis::flame::FlameTree,
    limit: usize,
) -> TopJson {
    let t = &session.stacks;
    let sample_type = analysis::flame_spec::snapshot(session, spec.input)
        .ok()
        .and_then(|s| {
            let i = analysis::flame_spec::value_index(s, spec);
            s.samples()?.sample_types.get(i).map(|v| t.str(v.kind))
        })
        .unwrap_or("goroutines");
    TopJson {
        sample_type: sample_type.to_owned(),
        unit: analysis::flame_spec::unit(session, spec),
        total: i64::try_from(tree.root_total()).unwrap_or(i64::MAX),
        functions: analysis::top::entries(t, &analysis::top::functions(t, tree), limit),
    }
}

/// One function between its callers and callees, as the app's Sandwich
/// shows it, for scripts: both sides as rows in depth-first order, so a
/// recursion 100 calls deep stays a flat list any JSON reader takes.
#[derive(Debug, Serialize)]
pub struct SandwichJson {
    /// The function in the middle.
    pub function: String,
    /// The unit of every value.
    pub unit: String,
    /// Weight of the whole graph, what shares are of.
    pub graph_total: u64,
    /// Weight of the stacks through the function, each counted once.
    pub total: u64,
    /// Weight of the stacks that end in it.
    pub self_weight: u64,
    /// The callers: depth 1 is the function, 2 what calls it, and outwards.
    pub callers: Vec<CallRowJson>,
    /// The callees: depth 1 is the function, 2 what it calls, and inwards.
    pub callees: Vec<CallRowJson>,
}

/// One box of a side of a sandwich.
#[derive(Debug, Serialize)]
pub struct CallRowJson {
    /// 1 for the function itself.
    pub depth: u32,
    /// The box's function.
    pub function: String,
    /// Weight of the stacks through this box.
    pub total: u64,
}

/// The Sandwich of `function` in `tree` (built for `spec`), boxes narrower
/// than `min_share` of the function's total left out (their weight stays
/// in their parents).
pub fn sandwich_json(
    session: &Session,
    spec: &analysis::flame_spec::FlameSpec,
    tree: &analysis::flame::FlameTree,
    function: crate::model::StrId,
    min_share: f64,
) -> SandwichJson {
    let t = &session.stacks;
    let sw = analysis::top::sandwich(t, tree, function);
    let row = analysis::top::functions(t, tree)
        .into_iter()
        .find(|r| r.function == function);
    let side = |tree: &analysis::flame::FlameTree| -> Vec<CallRowJson> {
        let least = tree.root_total() as f64 * min_share;
        let mut out = Vec::new();
        let mut i = 1;
        while i < tree.nodes.len() {
            let n = &tree.nodes[i];
            if (n.total as f64) < least {
                i += n.size as usize;
                continue;
            }
            out.push(CallRowJson {
                depth: n.depth,
                function: t.str(n.function).to_owned(),
                total: n.total,
            });
            i += 1;
        }
        out
    };
    SandwichJson {
        function: t.str(function).to_owned(),
        unit: analysis::flame_spec::unit(session, spec),
        graph_total: tree.root_total(),
        total: row.map_or(0, |r| r.total),
        self_weight: row.map_or(0, |r| r.self_weight),
        callers: side(&sw.callers),
        callees: side(&sw.callees),
    }
}

/// How the goroutine snapshots line up in time: what each suspect's `counts`
/// refer to.
#[derive(Debug, Serialize)]
pub struct SeriesJson {
    /// Whether snapshots are ordered by capture time or by input order.
    pub order: SeriesOrder,
    /// The snapshots the counts of each suspect refer to, in that order.
    pub snapshots: Vec<SeriesSnapshotJson>,
    /// Whether groups were split by pprof labels, so a script knows a function
    /// can appear in several suspects.
    pub split_by_labels: bool,
}

/// One snapshot of the series.
#[derive(Debug, Serialize)]
pub struct SeriesSnapshotJson {
    /// The path as given.
    pub path: String,
    /// Capture time (RFC 3339), where known.
    pub captured_at: Option<String>,
    /// Goroutines in it.
    pub goroutines: u64,
}

/// A source position, as scripts and editors want it.
#[derive(Debug, Serialize)]
pub struct FrameJson {
    /// Full function name.
    pub function: String,
    /// Source file as the input records it (empty where it has none).
    pub file: String,
    /// Line number (0 where unknown).
    pub line: u32,
}

/// One leak suspect as scripts read it: where it waits, how it grows and why it
/// is a suspect.
#[derive(Debug, Serialize)]
pub struct SuspectJson {
    /// The leak site: innermost frame of the application's own code.
    pub function: Option<String>,
    /// Source file of the leak site.
    pub file: Option<String>,
    /// Line of the leak site.
    pub line: Option<u32>,
    /// What the group's goroutines wait on, with counts where they differ
    /// (`chan receive ×12 · select ×3`).
    pub wait_reason: Option<String>,
    /// Function of the creation site (`created by`), where a dialect records it.
    pub created_by: Option<String>,
    /// Where the goroutines were created, file and line included, to jump to
    /// the `go` statement.
    pub created_at: Option<FrameJson>,
    /// Goroutines in each snapshot of the series.
    pub counts: Vec<u64>,
    /// Whether the group's growth across snapshots counts as growing.
    pub growing: bool,
    /// The ranking score: growth score over several snapshots, size weighted by
    /// wait age for one.
    pub score: f64,
    /// Theil–Sen slope, goroutines per snapshot interval.
    pub slope: f64,
    /// Kendall's tau of the counts.
    pub tau: f64,
    /// The slope in goroutines per minute, where capture times are known.
    pub per_minute: Option<f64>,
    /// The function the goroutines started in.
    pub entry_function: Option<String>,
    /// How long the goroutines had waited (minutes), where the dump prints it.
    pub wait_minutes: Option<analysis::WaitAges>,
    /// How many goroutines have waited how long (bars of minutes, or of
    /// ranges for long waits), where the dump prints ages: waves of a leak
    /// show as bars of different ages even in one snapshot.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wait_age_histogram: Vec<analysis::wait_hist::WaitAgeBucket>,
    /// Label sets of the group's goroutines with counts.
    pub labels: Vec<LabelsJson>,
    /// Goroutines of the group wired to an OS thread: a leak of these also
    /// leaks threads.
    pub locked_to_thread: u64,
    /// Goroutines marked `(leaked)` in one dump of the series (the most in any).
    pub runtime_marked_leaked: u64,
    /// The strongest evidence that the group leaks: `proven` (by the
    /// runtime), `growing`, `not-growing`, `one-snapshot`.
    pub evidence: Evidence,
    /// Goroutines of the group the runtime proved leaked (its
    /// `goroutineleak` profile or `(leaked)` marks, whichever says more).
    pub proven_leaked: u64,
    /// Where the entry comes from: `snapshots` (a stack group measured
    /// across goroutine snapshots) or `trace` (goroutines an execution
    /// trace saw created and still alive at the end of its window).
    pub source: &'static str,
    /// Trace goroutines on this group's call path, when a trace is loaded
    /// (for a trace-derived entry: the goroutines of the group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_goroutines: Option<u64>,
    /// The group's stack, innermost frame first.
    pub stack: Vec<FrameJson>,
}

/// One label set of a group with how many goroutines carry it.
#[derive(Debug, Serialize)]
pub struct LabelsJson {
    /// The labels, key to value, sorted so output is stable.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Goroutines carrying exactly this set.
    pub goroutines: u64,
}

fn frame_json(session: &Session, frame: crate::model::FrameId) -> FrameJson {
    let t = &session.stacks;
    let f = t.frame(frame);
    FrameJson {
        function: t.str(f.function).to_owned(),
        file: t.str(f.file).to_owned(),
        line: f.line,
    }
}

fn stack_json(session: &Session, stack: StackId) -> Vec<FrameJson> {
    session
        .stacks
        .frames(stack)
        .map(|f| frame_json(session, f))
        .collect()
}

fn input_json(session: &Session, input: &Input) -> InputJson {
    let source = input.source();
    let snapshot: Option<&Snapshot> = input.as_snapshot();
    InputJson {
        path: source.path.clone(),
        format: source.format.name(),
        profile_type: source.profile_type.as_ref().map(|p| p.name().to_owned()),
        goroutines: snapshot.and_then(Snapshot::goroutine_count),
        captured_at: snapshot.and_then(|s| s.captured_at_ns).map(format_rfc3339),
        warnings: input.warnings().iter().cloned().collect(),
        panic: snapshot.and_then(|s| s.panic.as_ref()).map(|p| PanicJson {
            message: p.message.clone(),
            goroutine: p.goroutine_id,
        }),
        top: snapshot.and_then(Snapshot::samples).map(|p| {
            let t = &session.stacks;
            let idx = p.default_type.min(p.sample_types.len().saturating_sub(1));
            let vt = p.sample_types.get(idx);
            TopJson {
                sample_type: vt.map_or("", |v| t.str(v.kind)).to_owned(),
                unit: vt.map_or("", |v| t.str(v.unit)).to_owned(),
                total: p.total(idx),
                functions: analysis::top::top_functions(t, p, idx, 10),
            }
        }),
        error: None,
    }
}

fn suspect_json(
    session: &Session,
    analysis: &Analysis,
    s: &Suspect,
    trace: Option<&TraceAnalysis>,
) -> SuspectJson {
    let t = &session.stacks;
    let g = analysis.group(s);
    let site = s.leak_site.map(|f| t.frame(f));
    let created = g.created_by().and_then(|c| t.leaf(c));
    let mut labels: Vec<LabelsJson> = g
        .label_sets
        .iter()
        .filter(|(l, _)| !t.labels(**l).is_empty())
        .map(|(&l, &n)| LabelsJson {
            labels: t
                .labels(l)
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        LabelValue::Str(s) => t.str(*s).to_owned(),
                        LabelValue::Num { value, unit } => format!("{value}{}", t.str(*unit)),
                    };
                    (t.str(*k).to_owned(), v)
                })
                .collect(),
            goroutines: n,
        })
        .collect();
    labels.sort_by(|a, b| {
        b.goroutines
            .cmp(&a.goroutines)
            .then(a.labels.cmp(&b.labels))
    });
    SuspectJson {
        function: site.map(|f| t.str(f.function).to_owned()),
        file: site.map(|f| t.str(f.file).to_owned()),
        line: site.map(|f| f.line),
        wait_reason: wording::wait_reasons(t, &g.wait_reasons),
        created_by: created.map(|f| t.function(f).to_owned()),
        created_at: created.map(|f| frame_json(session, f)),
        counts: g.counts.clone(),
        growing: s.growth.growing,
        score: round3(s.score),
        slope: round3(s.growth.slope),
        tau: round3(s.growth.tau),
        per_minute: s.growth.per_minute.map(round3),
        entry_function: s.entry.map(|f| t.function(f).to_owned()),
        wait_minutes: s.wait_ages,
        wait_age_histogram: analysis::wait_hist::histogram(&g.wait_minutes),
        labels,
        locked_to_thread: g.locked_to_thread,
        runtime_marked_leaked: g.runtime_leaked,
        evidence: s.evidence,
        proven_leaked: g.proven(),
        source: "snapshots",
        trace_goroutines: trace.map(|t| {
            t.group_goroutines
                .get(s.group)
                .map_or(0, |v| v.len() as u64)
        }),
        stack: stack_json(session, g.stack),
    }
}

fn trace_suspect_json(session: &Session, ta: &TraceAnalysis, s: &TraceSuspect) -> SuspectJson {
    let t = &session.stacks;
    let g = &ta.leaks[s.leak];
    let site = s.leak_site.map(|f| t.frame(f));
    let stack = if g.blocking_stack.is_empty() {
        g.start_stack
    } else {
        g.blocking_stack
    };
    SuspectJson {
        function: site.map(|f| t.str(f.function).to_owned()),
        file: site.map(|f| t.str(f.file).to_owned()),
        line: site.map(|f| f.line),
        wait_reason: Some(g.reason.text(t).to_owned()),
        created_by: g.creation_site.map(|f| t.function(f).to_owned()),
        created_at: g.creation_site.map(|f| frame_json(session, f)),
        counts: g.counts.iter().map(|&(_, c)| c).collect(),
        growing: s.growing,
        // For a trace group: its goroutines that outlived a tenth of the window.
        score: s.stuck as f64,
        slope: round3(s.growth.slope),
        tau: round3(s.growth.tau),
        per_minute: s.growth.per_minute.map(round3),
        entry_function: Some(g.entry_function.clone()),
        wait_minutes: None,
        wait_age_histogram: Vec::new(),
        labels: Vec::new(),
        locked_to_thread: 0,
        runtime_marked_leaked: 0,
        evidence: if s.growing {
            Evidence::Growing
        } else {
            Evidence::OneSnapshot
        },
        proven_leaked: 0,
        source: "trace",
        trace_goroutines: Some(g.goroutines.len() as u64),
        stack: stack_json(session, stack),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Builds the report both outputs are rendered from, from the session's
/// analysis and its traces' (each analysed once, by the pipeline).
pub fn build(session: &Session, analysis: &Analysis, traces: &[&TraceAnalysis]) -> Report {
    let first = traces.first().copied();
    Report {
        inputs: session
            .inputs
            .iter()
            .map(|i| input_json(session, i))
            .collect(),
        series: SeriesJson {
            order: analysis.order,
            snapshots: analysis
                .series
                .iter()
                .map(|p| SeriesSnapshotJson {
                    path: session.inputs[p.input].source().path.clone(),
                    captured_at: p.captured_at_ns.map(format_rfc3339),
                    goroutines: p.total,
                })
                .collect(),
            split_by_labels: analysis.split_by_labels,
        },
        trace: first.map(|t| t.summary.clone()),
        suspects: analysis
            .suspects
            .iter()
            .map(|s| suspect_json(session, analysis, s, first))
            .chain(traces.iter().flat_map(|ta| {
                ta.suspects
                    .iter()
                    .map(move |s| trace_suspect_json(session, ta, s))
            }))
            .collect(),
        count_profiles: count_profiles(session, analysis.options()),
        incident: None,
        restarts: Vec::new(),
        creation_trees: Vec::new(),
    }
}

/// Names of the count profiles of the service's own among the snapshots,
/// in order of first appearance, those with two snapshots or more.
pub fn count_profile_names(session: &Session) -> Vec<String> {
    let mut names: Vec<(String, usize)> = Vec::new();
    for input in &session.inputs {
        let Some(crate::model::ProfileType::Other(name)) = input
            .as_snapshot()
            .and_then(|s| s.source.profile_type.as_ref())
        else {
            continue;
        };
        match names.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => *c += 1,
            None => names.push((name.clone(), 1)),
        }
    }
    names
        .into_iter()
        .filter(|(_, c)| *c >= 2)
        .map(|(n, _)| n)
        .collect()
}

/// Each count profile ranked as goroutines are (none when the analysis is
/// itself one of them).
fn count_profiles(session: &Session, options: &analysis::AnalysisOptions) -> Vec<CountProfileJson> {
    if options.count_profile.is_some() {
        return Vec::new();
    }
    count_profile_names(session)
        .into_iter()
        .map(|name| {
            let options = analysis::AnalysisOptions {
                count_profile: Some(name.clone()),
                ..options.clone()
            };
            let a = analysis::analyze(session, &options);
            CountProfileJson {
                profile: name,
                snapshots: a.series.len(),
                suspects: a
                    .suspects
                    .iter()
                    .map(|s| suspect_json(session, &a, s, None))
                    .collect(),
            }
        })
        .collect()
}
