//! The loader: turns inputs into the app's [`Workspace`] off the UI thread.
//!
//! It owns the background job (one at a time), what waits for it (inputs
//! to open, captures and files to add) and the Open dialog, which also
//! runs as a job since it blocks while open. The app asks it to open or add
//! and takes finished workspaces from [`Loader::logic`] at the start of a
//! frame.

use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::{AnalysisOptions, LabelMode};
use crate::formats::LoadOptions;
use crate::jobs::{Job, Wake};
use crate::pipeline::{self, Findings, InputSpec};
use crate::progress::Progress;
use crate::ui::live::Arrival;
use crate::ui::state::Notice;
use crate::ui::workspace::{self, HistorySource, Workspace};

/// The loader between frames.
#[derive(Default)]
pub struct Loader {
    job: Option<LoadJob>,
    /// Inputs to open (in place of the session) at the next frame.
    pending: Option<Vec<InputSpec>>,
    /// Inputs to add once the running job is done.
    queued: Vec<Arrival>,
    /// The Open dialog while it is up; `true` adds what it picks.
    dialog: Option<(Job<Option<Vec<PathBuf>>>, bool)>,
    /// How labels split groups; a change loads the inputs again.
    pub label_mode: LabelMode,
    /// A count profile of the service's own to rank instead of goroutines
    /// (`pprof.NewProfile` names); a change loads the inputs again.
    pub count_profile: Option<String>,
    /// The instance shown when the inputs are a fleet's folders.
    pub instance: Option<String>,
    /// Where goroutine histories are read, if anywhere.
    pub history: Option<HistorySource>,
}

/// The running load.
struct LoadJob {
    job: Job<Option<Workspace>>,
    /// Inputs it reads, for the status bar.
    inputs: usize,
    /// It adds to the findings shown (rather than replacing them).
    append: bool,
}

/// What a frame's [`Loader::logic`] brings.
pub enum LoaderEvent {
    /// A workspace to show; `appended` when it extends the one shown.
    Ready {
        /// The loaded and analysed session, ready to draw.
        ws: Box<Workspace>,
        /// It extends the session shown (Add), so the view keeps its place.
        appended: bool,
    },
    /// Files picked in the Open dialog; `add` to add them to the session.
    Picked {
        /// The files picked.
        paths: Vec<PathBuf>,
        /// Whether to add them to the session rather than replace it.
        add: bool,
    },
    /// Something to tell the user (a load error, a warning).
    Notice(Notice),
}

impl Loader {
    /// Opens inputs in place of the session, at the next frame.
    pub fn open(&mut self, inputs: Vec<InputSpec>) {
        if !inputs.is_empty() {
            self.pending = Some(inputs);
        }
    }

    /// Adds inputs to the session once the running job is done: only the
    /// new inputs are read.
    pub fn add(&mut self, arrivals: impl IntoIterator<Item = Arrival>) {
        self.queued.extend(arrivals);
    }

    /// Asks which files to open (or add), off the UI thread.
    pub fn open_dialog(&mut self, add: bool, wake: Wake) {
        let job = Job::spawn("open-dialog", wake, |_| {
            rfd::FileDialog::new()
                .set_title("Open Go profiles, dumps or traces")
                .pick_files()
        });
        self.dialog = Some((job, add));
    }

    /// Something is being loaded or waits to be.
    pub fn is_busy(&self) -> bool {
        self.job.is_some() || self.pending.is_some() || !self.queued.is_empty()
    }

    /// Inputs wait for a job that starts at the next [`Loader::logic`].
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some() || (self.job.is_none() && !self.queued.is_empty())
    }

    /// The running job's progress and how many inputs it reads.
    pub fn progress(&self) -> Option<(&Progress, usize)> {
        self.job.as_ref().map(|j| (j.job.progress(), j.inputs))
    }

    /// Stops the running job (its result never arrives).
    pub fn cancel(&self) {
        if let Some(j) = &self.job {
            j.job.cancel();
        }
    }

    fn options(&self) -> AnalysisOptions {
        AnalysisOptions {
            labels: self.label_mode.clone(),
            count_profile: self.count_profile.clone(),
        }
    }

    /// Loads and analyses on the calling thread (tests, benches).
    pub fn load_blocking(&self, inputs: Vec<InputSpec>) -> Option<Workspace> {
        workspace::build(
            inputs,
            &self.options(),
            self.instance.as_deref(),
            self.history.as_ref(),
            &Progress::none(),
        )
    }

    /// Takes the dialog's choice and a finished job, and starts what
    /// waits: inputs to open first, then additions to `current`.
    pub fn logic(&mut self, wake: &Wake, current: Option<&Arc<Workspace>>) -> Vec<LoaderEvent> {
        let mut events = Vec::new();
        events.extend(self.take_dialog());
        if let Some(inputs) = self.pending.take() {
            // Replacing the job drops (and so cancels) the one running.
            let options = self.options();
            let instance = self.instance.clone();
            let history = self.history.clone();
            self.job = Some(LoadJob {
                inputs: inputs.len(),
                append: false,
                job: Job::spawn("load", Arc::clone(wake), move |p| {
                    workspace::build(inputs, &options, instance.as_deref(), history.as_ref(), p)
                }),
            });
        }
        if let Some(e) = self.take_job() {
            events.push(e);
        }
        // One job at a time: what arrives meanwhile waits for the next.
        if self.job.is_none() && !self.queued.is_empty() {
            let arrived = std::mem::take(&mut self.queued);
            self.job = Some(self.append_job(arrived, wake, current.cloned()));
        }
        events
    }

    /// The dialog's choice, once it closed (nothing when cancelled).
    fn take_dialog(&mut self) -> Option<LoaderEvent> {
        let (job, add) = self.dialog.as_mut()?;
        let add = *add;
        let files = match job.try_take() {
            Some(files) => files,
            None if job.is_done() => None,
            None => return None,
        };
        self.dialog = None;
        let paths = files.filter(|f| !f.is_empty())?;
        Some(LoaderEvent::Picked { paths, add })
    }

    fn take_job(&mut self) -> Option<LoaderEvent> {
        let running = self.job.as_mut()?;
        let appended = running.append;
        let event = match running.job.try_take() {
            Some(Some(ws)) => LoaderEvent::Ready {
                ws: Box::new(ws),
                appended,
            },
            Some(None) => LoaderEvent::Notice(Notice::warning("loading was cancelled")),
            None if running.job.is_done() => LoaderEvent::Notice(Notice::error(
                "loading failed: the worker stopped without a result",
            )),
            None => return None,
        };
        self.job = None;
        Some(event)
    }

    /// Adds captures and files to the findings in the background: only the
    /// new ones are read, the rest of the session is shared.
    fn append_job(
        &self,
        arrived: Vec<Arrival>,
        wake: &Wake,
        current: Option<Arc<Workspace>>,
    ) -> LoadJob {
        let options = self.options();
        let inputs = arrived.len();
        let job = Job::spawn("append", Arc::clone(wake), move |p| {
            p.set_stage("adding the new capture");
            let mut findings = match &current {
                Some(ws) => ws.findings().clone(),
                None => Findings::empty(&options),
            };
            let mut specs = Vec::new();
            for a in arrived {
                match a {
                    Arrival::Parsed(l, path) => findings.append(*l, InputSpec::Path(path)),
                    Arrival::Input(spec) => specs.push(spec),
                }
            }
            let read = pipeline::read(&specs, &LoadOptions::default(), p)?;
            for (l, spec) in read.loaded {
                findings.append(l, spec);
            }
            findings.errors.extend(read.errors);
            findings.skipped.extend(read.skipped);
            p.set_stage("laying out lanes");
            Some(Workspace::new(findings))
        });
        LoadJob {
            job,
            inputs,
            append: true,
        }
    }
}
