//! Writing a session folder (layout in [`crate::formats::session_dir`]).
//!
//! Each body streams into a hidden temporary file as it arrives, is synced,
//! and then gets its final name by a hard link, which fails instead of
//! replacing an existing file: a capture is never overwritten, and a crash
//! leaves at worst a `.…part` file beside the captures. The manifest is
//! rewritten (temp file + rename) after every change.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::error::LiveError;
use super::target::Target;
use super::{CaptureKind, now_ns};
use crate::formats::detect;
use crate::formats::session_dir::{
    Incident, MANIFEST_FILE, MANIFEST_VERSION, Manifest, ManifestCapture, ManifestFailure,
    PARTIAL_DIR, REJECTED_DIR, read_manifest,
};
use crate::model::Format;
use crate::model::time::format_rfc3339;

/// Failures kept in the manifest; older ones are counted, not listed.
const MAX_FAILURES: usize = 1000;

/// Where a finished body goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A capture: the top level of the folder.
    Capture,
    /// Cut off before its end (other than a trace): `partial/`.
    Partial,
    /// Complete but unreadable: `rejected/`.
    Rejected,
}

impl Placement {
    fn subdir(self) -> Option<&'static str> {
        match self {
            Placement::Capture => None,
            Placement::Partial => Some(PARTIAL_DIR),
            Placement::Rejected => Some(REJECTED_DIR),
        }
    }
}

/// A session folder being written, shared by the poller's threads.
#[derive(Debug)]
pub struct SessionWriter {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next_seq: u64,
    manifest: Manifest,
}

/// A body being received into a temporary file.
#[derive(Debug)]
pub struct Pending {
    seq: u64,
    stem: String,
    kind_name: String,
    seconds: Option<f64>,
    started_ns: i64,
    temp_path: PathBuf,
    file: BufWriter<File>,
    /// A copy kept for parsing, for bodies that get parsed.
    memory: Option<Vec<u8>>,
    /// The first bytes, to name the file by what it holds.
    head: Vec<u8>,
    bytes: u64,
}

impl Pending {
    /// Appends a piece of the body.
    pub fn write(&mut self, data: &[u8]) -> Result<(), LiveError> {
        if self.bytes == 0 && self.seconds.is_none() && !data.is_empty() {
            // A profile is written when the server answers, which can be
            // long after the request (a stalled service): it is dated when
            // its first byte arrived. Traces and CPU profiles cover the
            // seconds from their request on, and keep that start.
            self.started_ns = now_ns();
        }
        self.file.write_all(data).map_err(|source| LiveError::Io {
            path: self.temp_path.clone(),
            source,
        })?;
        if let Some(m) = &mut self.memory {
            m.extend_from_slice(data);
        }
        if self.head.len() < 4 {
            let need = (4 - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..need]);
        }
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// The body, if it was kept in memory.
    pub fn body(&self) -> Option<&[u8]> {
        self.memory.as_deref()
    }

    /// Body bytes written so far, for progress and the size cap.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Dates a body that was received earlier and is only now being saved
    /// (a watcher's window of snapshots, written when a trigger fires): its
    /// name and manifest entry say when it was taken.
    pub fn backdate(&mut self, started_ns: i64) {
        self.started_ns = started_ns;
    }

    /// When the body started arriving (or [`Pending::backdate`]'s time), as Unix nanoseconds.
    pub fn started_ns(&self) -> i64 {
        self.started_ns
    }
}

/// What a finished body was, for its manifest entry.
#[derive(Clone, Debug, Default)]
pub struct CommitInfo {
    /// The URL the body came from.
    pub url: String,
    /// What the server answered.
    pub status: u16,
    /// The sniffed format; it picks the file's extension (`None`: `.gz` or `.bin`).
    pub format: Option<Format>,
    /// The goroutine total, when known, so a session's growth shows without reparsing.
    pub goroutines: Option<u64>,
    /// Why the body is incomplete; `Some` names the file `-partial` and marks the entry.
    pub partial_reason: Option<String>,
    /// Why the body was not taken as a capture, recorded for whoever looks later.
    pub rejected_reason: Option<String>,
    /// When the body was complete, if not now (see [`Pending::backdate`]).
    pub finished_ns: Option<i64>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LiveError + '_ {
    move |source| LiveError::Io {
        path: path.to_owned(),
        source,
    }
}

impl SessionWriter {
    /// Creates the folder, or continues a session of the same URL in it.
    pub fn open(
        dir: &Path,
        target: &Target,
        header_names: Vec<String>,
    ) -> Result<SessionWriter, LiveError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let url = target.base_url();
        let now = now_ns();
        let manifest = match read_manifest(dir) {
            Ok(Some(m)) if m.url == url => m,
            Ok(Some(m)) => {
                return Err(LiveError::OtherSession {
                    path: dir.to_owned(),
                    other: m.url,
                    url,
                });
            }
            Ok(None) => Manifest {
                leakscope_session: MANIFEST_VERSION,
                url,
                started_at: format_rfc3339(now),
                started_at_ns: now,
                ..Manifest::default()
            },
            Err(e) => {
                return Err(LiveError::BadSession {
                    path: dir.to_owned(),
                    reason: e.to_string(),
                });
            }
        };
        let mut manifest = manifest;
        for name in header_names {
            if !manifest.header_names.contains(&name) {
                manifest.header_names.push(name);
            }
        }
        let next_seq = [None, Some(PARTIAL_DIR), Some(REJECTED_DIR)]
            .into_iter()
            .map(|sub| highest_seq(&sub.map_or_else(|| dir.to_owned(), |s| dir.join(s))))
            .max()
            .unwrap_or(0)
            + 1;
        let writer = SessionWriter {
            dir: dir.to_owned(),
            state: Mutex::new(State { next_seq, manifest }),
        };
        writer.save(&mut writer.lock())?;
        Ok(writer)
    }

    /// The session folder, as given (created if it was missing).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A copy of the manifest as it is now.
    pub fn manifest(&self) -> Manifest {
        self.lock().manifest.clone()
    }

    /// A poisoned lock only means another thread panicked mid-update; the
    /// manifest is still the best record there is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a body: takes the next sequence number and opens a temporary file.
    pub fn begin(&self, kind: &CaptureKind, keep_in_memory: bool) -> Result<Pending, LiveError> {
        // Number and time under one lock, so names sort by time too.
        let (seq, started_ns) = {
            let mut st = self.lock();
            let seq = st.next_seq;
            st.next_seq += 1;
            (seq, now_ns())
        };
        let stem = kind.file_stem();
        let temp_path = self.dir.join(format!(".{seq:06}-{stem}.part"));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&temp_path)
            .map_err(io_err(&temp_path))?;
        Ok(Pending {
            seq,
            stem,
            kind_name: kind.name().to_owned(),
            seconds: kind.seconds().map(|d| d.as_secs_f64()),
            started_ns,
            temp_path,
            file: BufWriter::new(file),
            memory: keep_in_memory.then(Vec::new),
            head: Vec::new(),
            bytes: 0,
        })
    }

    /// The path a pending body will get; `partial` adds `-partial` to the
    /// name, so people browsing the folder see it too.
    pub fn final_path(
        &self,
        p: &Pending,
        placement: Placement,
        format: Option<Format>,
        partial: bool,
    ) -> PathBuf {
        let ext = match format {
            Some(Format::Pprof) if detect::is_gzip(&p.head) => ".pb.gz",
            Some(Format::Pprof) => ".pb",
            Some(Format::Trace) => ".out",
            Some(Format::GoroutineDump | Format::GoroutineDebug1 | Format::Folded) => ".txt",
            None if detect::is_gzip(&p.head) => ".gz",
            None => ".bin",
        };
        let stamp: String = format_rfc3339(p.started_ns)
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        let suffix = if partial { "-partial" } else { "" };
        let name = format!("{:06}-{stamp}-{}{suffix}{ext}", p.seq, p.stem);
        match placement.subdir() {
            Some(sub) => self.dir.join(sub).join(name),
            None => self.dir.join(name),
        }
    }

    /// Gives a finished body its final name and records it in the manifest.
    pub fn commit(
        &self,
        mut p: Pending,
        placement: Placement,
        info: CommitInfo,
    ) -> Result<(PathBuf, ManifestCapture), LiveError> {
        let finished = info.finished_ns.unwrap_or_else(now_ns);
        let path = self.final_path(&p, placement, info.format, info.partial_reason.is_some());
        p.file.flush().map_err(io_err(&p.temp_path))?;
        let file = p.file.into_inner().map_err(|e| LiveError::Io {
            path: p.temp_path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err(&p.temp_path))?;
        drop(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        persist_new(&p.temp_path, &path)?;
        let rel = path
            .strip_prefix(&self.dir)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let record = ManifestCapture {
            file: rel,
            kind: p.kind_name,
            url: info.url,
            started_at: format_rfc3339(p.started_ns),
            started_at_ns: p.started_ns,
            finished_at: format_rfc3339(finished),
            finished_at_ns: finished,
            seconds: p.seconds,
            status: info.status,
            bytes: p.bytes,
            format: info.format.map(|f| f.name().to_owned()),
            goroutines: info.goroutines,
            partial: info.partial_reason.is_some(),
            partial_reason: info.partial_reason,
            rejected_reason: info.rejected_reason,
        };
        let mut st = self.lock();
        st.manifest.captures.push(record.clone());
        self.save(&mut st)?;
        Ok((path, record))
    }

    /// Drops a body that is not kept.
    pub fn discard(&self, p: Pending) {
        let Pending {
            file, temp_path, ..
        } = p;
        drop(file);
        // Nothing else to do if it is already gone.
        std::fs::remove_file(&temp_path).ok();
    }

    /// Notes a fetch that saved nothing.
    pub fn record_failure(&self, kind: &str, url: &str, message: &str) -> Result<(), LiveError> {
        let at = now_ns();
        let mut st = self.lock();
        let m = &mut st.manifest;
        if m.failures.len() >= MAX_FAILURES {
            m.failures.remove(0);
            m.failures_dropped += 1;
        }
        m.failures.push(ManifestFailure {
            at: format_rfc3339(at),
            at_ns: at,
            kind: kind.to_owned(),
            url: url.to_owned(),
            message: message.to_owned(),
        });
        self.save(&mut st)
    }

    /// Records what made this folder: a watcher's incident.
    pub fn set_incident(&self, incident: Incident) -> Result<(), LiveError> {
        let mut st = self.lock();
        st.manifest.incident = Some(incident);
        self.save(&mut st)
    }

    /// Notes that the service restarted before the snapshot started at `at_ns`.
    pub fn add_restart(&self, at_ns: i64) -> Result<(), LiveError> {
        let mut st = self.lock();
        st.manifest.restarts_ns.push(at_ns);
        self.save(&mut st)
    }

    /// Records when the service restarted within the saved snapshots.
    pub fn set_restarts(&self, restarts_ns: Vec<i64>) -> Result<(), LiveError> {
        let mut st = self.lock();
        st.manifest.restarts_ns = restarts_ns;
        self.save(&mut st)
    }

    /// Notes the profiles the server's index lists.
    pub fn set_server_profiles(&self, profiles: Vec<String>) -> Result<(), LiveError> {
        let mut st = self.lock();
        st.manifest.server_profiles = Some(profiles);
        self.save(&mut st)
    }

    fn save(&self, st: &mut State) -> Result<(), LiveError> {
        let now = now_ns();
        st.manifest.updated_at = format_rfc3339(now);
        let path = self.dir.join(MANIFEST_FILE);
        let data = serde_json::to_vec_pretty(&st.manifest).map_err(|e| LiveError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        let temp = self.dir.join(format!(".{MANIFEST_FILE}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&temp)?;
            f.write_all(&data)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&temp, &path)
        };
        write().map_err(io_err(&path))
    }
}

/// Moves `temp` to `path` unless `path` exists; never replaces a file.
fn persist_new(temp: &Path, path: &Path) -> Result<(), LiveError> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => {
            std::fs::remove_file(temp).ok();
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(LiveError::Io {
            path: path.to_owned(),
            source: e,
        }),
        // File systems without hard links: check, then rename.
        Err(_) if !path.exists() => std::fs::rename(temp, path).map_err(io_err(path)),
        Err(e) => Err(LiveError::Io {
            path: path.to_owned(),
            source: e,
        }),
    }
}

/// The highest sequence number among a folder's file names (`000012-…`).
fn highest_seq(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?.trim_start_matches('.');
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("leakscope-sw-{tag}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        d
    }

    #[test]
    fn captures_get_ordered_names_and_are_never_overwritten() {
        let dir = temp_dir("names");
        let target = Target::parse("127.0.0.1:6060").unwrap();
        let w = SessionWriter::open(&dir, &target, vec!["Authorization".into()]).unwrap();
        let mut names = Vec::new();
        for kind in [
            CaptureKind::Goroutine,
            CaptureKind::Trace(std::time::Duration::from_secs(5)),
        ] {
            let mut p = w.begin(&kind, false).unwrap();
            p.write(b"\x1f\x8b rest").unwrap();
            let (path, rec) = w
                .commit(
                    p,
                    Placement::Capture,
                    CommitInfo {
                        format: Some(Format::Pprof),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(rec.kind, kind.name());
            names.push(path.file_name().unwrap().to_str().unwrap().to_owned());
        }
        assert!(names[0].starts_with("000001-") && names[0].ends_with("-goroutine.pb.gz"));
        assert!(names[1].starts_with("000002-") && names[1].ends_with("-trace-5s.pb.gz"));
        assert!(names[0] < names[1]);
        // An existing file is never replaced.
        let existing = dir.join("x");
        std::fs::write(&existing, b"keep").unwrap();
        std::fs::write(dir.join("t"), b"new").unwrap();
        assert!(persist_new(&dir.join("t"), &existing).is_err());
        assert_eq!(std::fs::read(&existing).unwrap(), b"keep");
        // Reopening continues the numbering and the manifest.
        drop(w);
        let w = SessionWriter::open(&dir, &target, vec![]).unwrap();
        let p = w.begin(&CaptureKind::Heap, false).unwrap();
        assert_eq!(p.seq, 3);
        w.discard(p);
        let m = w.manifest();
        assert_eq!(m.captures.len(), 2);
        assert_eq!(m.header_names, ["Authorization"]);
        // Another URL's session is refused.
        let other = Target::parse("127.0.0.1:6061").unwrap();
        let err = SessionWriter::open(&dir, &other, vec![]).unwrap_err();
        assert!(err.to_string().contains("choose another folder"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
