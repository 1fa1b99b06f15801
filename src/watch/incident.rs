//! The folder a watcher writes when a trigger fires.
//!
//! An incident folder is a session folder like `capture` writes, so
//! `inspect`, `report` and the app open it as it is: first the window's
//! snapshots (the growth that led here, dated when they were polled), then
//! the evidence that costs the service something, cheapest first: the
//! runtime's goroutineleak profile (one garbage collection), a `debug=2`
//! dump (the world stops for the whole dump, so only below a goroutine
//! limit), a trace of a few seconds and a heap profile. The manifest says
//! which triggers fired and with what figures.
//!
//! Folders are never written over (a name that exists gets a suffix), and
//! the incidents together stay under a disk cap: the oldest go first, and
//! the log says which.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::window::Snap;
use crate::formats::session_dir::{Incident, ManifestCapture};
use crate::live::{
    CaptureKind, Client, CommitInfo, LiveError, Placement, SessionWriter, Watch,
    default_session_dir, save,
};
use crate::model::time::format_rfc3339;

/// What an incident captures beyond the window.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidencePlan {
    /// The goroutineleak profile (only asked where the server offers it).
    pub leak_profile: bool,
    /// A `debug=2` dump, unless the newest total is above this many goroutines.
    pub dump_limit: u64,
    /// A trace this long (none when zero).
    pub trace: Duration,
    /// A heap profile, to see the memory the leaked goroutines hold.
    pub heap: bool,
}

impl Default for EvidencePlan {
    fn default() -> EvidencePlan {
        EvidencePlan {
            leak_profile: true,
            dump_limit: 20_000,
            trace: Duration::from_secs(5),
            heap: true,
        }
    }
}

/// An incident folder that was written, and what could not be captured.
#[derive(Debug)]
pub struct Written {
    /// The incident folder, to report and to open as a session.
    pub dir: PathBuf,
    /// The manifest entries of everything saved in it, the window first.
    pub captures: Vec<ManifestCapture>,
    /// Evidence that was skipped or failed, one line each.
    pub missed: Vec<String>,
}

/// The window of one profile, with the kind it was polled as.
pub struct WindowSnaps<'a> {
    /// The profile polled, which names the saved files.
    pub kind: CaptureKind,
    /// The snapshots before the trigger, oldest first.
    pub snaps: Vec<&'a Snap>,
}

/// Writes an incident folder under `parent` for `incident`. `windows`
/// comes goroutines first.
pub fn write(
    parent: &Path,
    client: &Client,
    windows: &[WindowSnaps<'_>],
    incident: Incident,
    plan: &EvidencePlan,
    offers: &dyn Fn(&str) -> bool,
    stop: &dyn Fn() -> bool,
) -> Result<Written, LiveError> {
    // The dump limit looks at goroutines: the first window's newest total.
    let newest_total = windows
        .first()
        .and_then(|w| w.snaps.last())
        .map_or(0, |s| s.total);
    let dir = fresh_dir(parent, client)?;
    let header_names = client
        .headers()
        .iter()
        .map(|h| h.name().to_owned())
        .collect();
    let writer = SessionWriter::open(&dir, client.target(), header_names)?;
    writer.set_incident(incident)?;
    let mut captures = Vec::new();
    for w in windows {
        for snap in &w.snaps {
            captures.push(save_snap(&writer, client, &w.kind, snap)?);
        }
    }
    let restarts: Vec<i64> = windows
        .iter()
        .flat_map(|w| w.snaps.iter().filter(|s| s.restart).map(|s| s.at_ns))
        .collect();
    writer.set_restarts(restarts)?;
    let mut missed = Vec::new();
    for kind in evidence_kinds(plan, offers, newest_total, &mut missed) {
        if stop() {
            missed.push(format!("{}: the watcher was stopping", kind.name()));
            break;
        }
        let watch = Watch {
            cancelled: stop,
            progress: &|_, _| {},
        };
        match save(client, &writer, &kind, &watch) {
            Ok(s) => captures.push(s.record),
            Err(n) => missed.push(format!("{}: {}", kind.name(), n.error)),
        }
    }
    Ok(Written {
        dir,
        captures,
        missed,
    })
}

/// The evidence to take, cheapest first; what is skipped is said in `missed`.
fn evidence_kinds(
    plan: &EvidencePlan,
    offers: &dyn Fn(&str) -> bool,
    newest_total: u64,
    missed: &mut Vec<String>,
) -> Vec<CaptureKind> {
    let mut kinds = Vec::new();
    if plan.leak_profile {
        if offers("goroutineleak") {
            kinds.push(CaptureKind::GoroutineLeak);
        } else {
            missed.push("goroutineleak: the server does not offer it (Go 1.26 with GOEXPERIMENT=goroutineleakprofile, or Go 1.27+)".to_owned());
        }
    }
    if newest_total <= plan.dump_limit {
        kinds.push(CaptureKind::GoroutineDebug2);
    } else {
        missed.push(format!(
            "goroutine-debug2: {newest_total} goroutines, above the dump limit of {} (--dump-limit raises it; the service stops for the whole dump)",
            plan.dump_limit
        ));
    }
    if !plan.trace.is_zero() {
        kinds.push(CaptureKind::Trace(plan.trace));
    }
    if plan.heap {
        kinds.push(CaptureKind::Heap);
    }
    kinds
}

/// Saves a polled body as it came, dated when it was polled.
fn save_snap(
    writer: &SessionWriter,
    client: &Client,
    kind: &CaptureKind,
    snap: &Snap,
) -> Result<ManifestCapture, LiveError> {
    let mut pending = writer.begin(kind, false)?;
    pending.write(&snap.body)?;
    pending.backdate(snap.at_ns);
    let info = CommitInfo {
        url: client.target().url(&kind.endpoint()),
        status: 200,
        format: Some(snap.loaded.input.format()),
        goroutines: snap
            .loaded
            .input
            .as_snapshot()
            .and_then(crate::model::Snapshot::goroutine_count),
        finished_ns: Some(snap.at_ns),
        ..CommitInfo::default()
    };
    Ok(writer.commit(pending, Placement::Capture, info)?.1)
}

/// `incidents/leakscope-host-6060-20261204T101500Z`, or with `-2`, `-3`…
/// when that exists: an incident never lands in another's folder.
fn fresh_dir(parent: &Path, client: &Client) -> Result<PathBuf, LiveError> {
    std::fs::create_dir_all(parent).map_err(|source| LiveError::Io {
        path: parent.to_owned(),
        source,
    })?;
    let base = default_session_dir(parent, client.target());
    for n in 1..1000 {
        let dir = if n == 1 {
            base.clone()
        } else {
            PathBuf::from(format!("{}-{n}", base.display()))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(LiveError::Io { path: dir, source }),
        }
    }
    Err(LiveError::Io {
        path: base,
        source: std::io::Error::other("a thousand incident folders of this second exist"),
    })
}

/// Incident folders under `parent`, oldest first, with their sizes.
fn incidents(parent: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            e.path()
                .join(crate::formats::session_dir::MANIFEST_FILE)
                .is_file()
        })
        .map(|e| {
            let path = e.path();
            let created = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (dir_size(&path), path, created)
        })
        .map(|(size, path, created)| (path, size, created))
        .collect();
    out.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
    out
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => total += e.metadata().map_or(0, |m| m.len()),
                Err(_) => {}
            }
        }
    }
    total
}

/// Removes the oldest incident folders under `parent` until the rest fit in
/// `cap_bytes`; never `keep` (the one just written). Returns what went, for
/// the log.
pub fn enforce_cap(parent: &Path, cap_bytes: u64, keep: &Path) -> Vec<(PathBuf, u64)> {
    let list = incidents(parent);
    let mut used: u64 = list.iter().map(|(_, s, _)| s).sum();
    let mut removed = Vec::new();
    for (path, size, _) in list {
        if used <= cap_bytes {
            break;
        }
        if path == keep {
            continue;
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            used = used.saturating_sub(size);
            removed.push((path, size));
        }
    }
    removed
}

/// `2026-12-04T10:15:00Z` for a log line.
pub fn stamp(ns: i64) -> String {
    format_rfc3339(ns)
}
