//! Session folders: the captures of one live session, reopened as inputs.
//!
//! `leakscope capture` and the live view write every fetched body into one
//! folder as it arrives, so an incident's evidence survives a crash and can
//! be sent to a colleague. The folder is plain files a person can read:
//!
//! ```text
//! leakscope-host-6060-20261127T101500Z/
//!   manifest.json                                      URL, times, kinds, partial flags
//!   000001-20261127T101500.120Z-goroutine.pb.gz
//!   000002-20261127T101505.118Z-goroutine.pb.gz
//!   000003-20261127T101505.200Z-trace-5s.out
//!   000004-20261127T101510.118Z-trace-5s-partial.out   a trace cut short stays, flagged
//!   partial/000005-…-heap-partial.pb.gz                cut-off bodies of other kinds
//!   rejected/000006-…-goroutine.pb.gz                  complete bodies leakscope could not read
//! ```
//!
//! Names start with a sequence number and a UTC timestamp, so sorting by
//! name gives capture order; files are never overwritten. Only top-level
//! files are captures: `partial/` and `rejected/` keep evidence that would
//! mislead the growth series (a goroutine profile cut in half looks like a
//! drop in every group). Any folder of captures reads the same way, with or
//! without a manifest.
//!
//! Capture times of files the manifest lists come from the manifest, taken
//! on the capturing machine's clock: `?debug=2` text records no time of its
//! own, and a protobuf profile's `time_nanos` comes from the server's clock,
//! which may be skewed from ours, so only one clock orders a session.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::model::incident::{Firing, FiringGroup, Incident};

/// The manifest's file name inside a session folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Subfolder for bodies cut off before their end (other than traces).
pub const PARTIAL_DIR: &str = "partial";
/// Subfolder for complete bodies that could not be read as a profile.
pub const REJECTED_DIR: &str = "rejected";
/// Version written to [`Manifest::leakscope_session`].
pub const MANIFEST_VERSION: u32 = 1;

/// What `manifest.json` holds. Field names are a contract with other tools
/// and older leakscope versions: add fields, never rename them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// Format version of this file.
    pub leakscope_session: u32,
    /// The pprof base URL polled, without credentials.
    pub url: String,
    /// When the session began (RFC 3339, UTC), for people reading the file.
    pub started_at: String,
    /// The same moment in Unix nanoseconds, for programs: no date parsing
    /// needed.
    pub started_at_ns: i64,
    /// When the manifest was last rewritten (RFC 3339, UTC): tells a live
    /// session from one that stopped.
    pub updated_at: String,
    /// Names of the extra request headers sent; values are secrets and are never written.
    pub header_names: Vec<String>,
    /// Profiles the server's `/debug/pprof/` index lists, once it was read.
    pub server_profiles: Option<Vec<String>>,
    /// Every saved body, in capture order.
    pub captures: Vec<ManifestCapture>,
    /// Fetches that saved nothing usable, most recent last (bounded; see `failures_dropped`).
    pub failures: Vec<ManifestFailure>,
    /// Failures left out of `failures` to keep the file small.
    pub failures_dropped: u64,
    /// Set in the folders `leakscope watch` writes when a trigger fires:
    /// what fired, so whoever opens the folder sees why it exists.
    pub incident: Option<Incident>,
    /// When the watcher saw the service restart within the snapshots
    /// saved here (Unix ns): the series drops there for that reason.
    pub restarts_ns: Vec<i64>,
}

/// A short, file-name-safe name for the instance a session polled, from
/// its manifest's URL: `host-port` (`10.0.0.7-6060`). Instances of a fleet
/// are told apart by it, and `capture` names their folders with it.
pub fn instance_name(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (v6, None),
        },
        None => match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        },
    };
    let port = port.filter(|p| !p.is_empty()).map_or_else(
        || {
            if scheme.eq_ignore_ascii_case("https") {
                "443"
            } else {
                "80"
            }
            .to_owned()
        },
        str::to_owned,
    );
    instance_label(host, &port)
}

/// `host-port` with every character a file name or a metric label might
/// trip on replaced.
pub fn instance_label(host: &str, port: &str) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{port}", host.trim_matches('_'))
}

/// One saved body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifestCapture {
    /// Path relative to the session folder (`partial/…` for cut-off bodies).
    pub file: String,
    /// `goroutine`, `goroutine-debug2`, `goroutineleak`, `trace`, `cpu`, `heap`, …
    pub kind: String,
    /// The URL fetched, without credentials.
    pub url: String,
    /// When the request was sent; the moment the capture describes.
    pub started_at: String,
    /// `started_at` in Unix nanoseconds: what orders the session's snapshots.
    pub started_at_ns: i64,
    /// When the body was fully received (RFC 3339, UTC).
    pub finished_at: String,
    /// The same moment in Unix nanoseconds.
    pub finished_at_ns: i64,
    /// Requested duration of a trace or CPU profile.
    pub seconds: Option<f64>,
    /// HTTP status of the response.
    pub status: u16,
    /// Bytes saved, as received (before decompression).
    pub bytes: u64,
    /// Format as leakscope detected it (`pprof`, `goroutine-dump`, `trace`).
    pub format: Option<String>,
    /// Goroutines in a goroutine snapshot.
    pub goroutines: Option<u64>,
    /// The body ended before its end; `partial_reason` says why.
    pub partial: bool,
    /// Why the body was cut off (a timeout, a dropped connection, a size cap).
    pub partial_reason: Option<String>,
    /// Why a complete body landed in `rejected/`.
    pub rejected_reason: Option<String>,
}

/// A fetch that saved nothing usable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifestFailure {
    /// When the fetch failed (RFC 3339, UTC).
    pub at: String,
    /// The same moment in Unix nanoseconds.
    pub at_ns: i64,
    /// The profile kind that was asked for, as in [`ManifestCapture::kind`].
    pub kind: String,
    /// The URL fetched, without credentials.
    pub url: String,
    /// What went wrong, as the user was told at the time.
    pub message: String,
}

/// One capture file of a session folder, in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCapture {
    /// The capture file.
    pub path: PathBuf,
    /// When it was captured, from the manifest (see the module doc).
    pub captured_at_ns: Option<i64>,
    /// The manifest marks it as cut off (a partial trace).
    pub partial: bool,
    /// The folder's manifest lists it, or there is no manifest. A file the
    /// manifest does not list may be anything a person left there (notes,
    /// a README): one that does not load is skipped, not an error.
    pub listed: bool,
    /// Why the folder's manifest was not used, when it could not be read:
    /// the captures still load (in name order, which is capture order),
    /// each saying what it lacks.
    pub manifest_problem: Option<String>,
}

impl SessionCapture {
    /// A file given by itself, outside any session folder.
    pub fn file(path: PathBuf) -> SessionCapture {
        SessionCapture {
            path,
            captured_at_ns: None,
            partial: false,
            listed: true,
            manifest_problem: None,
        }
    }

    /// Gives a loaded capture what the folder knows of it.
    pub fn apply(&self, loaded: &mut super::Loaded) {
        if let Some(t) = self.captured_at_ns {
            loaded.set_captured_at(t);
        }
        if let Some(problem) = &self.manifest_problem {
            loaded
                .input
                .warnings_mut()
                .add("session-manifest", || problem.clone());
        }
    }
}

/// Why a folder could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum SessionDirError {
    /// The folder could not be listed.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The manifest exists but is not one leakscope wrote.
    #[error("{path}: not a leakscope session manifest: {source}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Where and why its JSON did not fit.
        source: serde_json::Error,
    },
    /// The folder holds no capture files, so it is no session: said rather than
    /// opening an empty session.
    #[error("{path}: no captures in this folder")]
    Empty {
        /// The folder.
        path: PathBuf,
    },
}

impl SessionDirError {
    /// The folder (or manifest) the error is about, so a list of errors says
    /// where each came from.
    pub fn path(&self) -> &Path {
        match self {
            SessionDirError::Io { path, .. }
            | SessionDirError::Manifest { path, .. }
            | SessionDirError::Empty { path } => path,
        }
    }
}

/// Reads a folder's manifest, or `None` when it has none.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, SessionDirError> {
    let path = dir.join(MANIFEST_FILE);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SessionDirError::Io { path, source }),
    };
    serde_json::from_slice(&data)
        .map(Some)
        .map_err(|source| SessionDirError::Manifest { path, source })
}

/// Whether a file name in a session folder is a capture: not the manifest,
/// not hidden (temporary `.….part` files of fetches in flight are hidden).
pub fn is_capture_name(name: &str) -> bool {
    !name.starts_with('.') && name != MANIFEST_FILE && !name.ends_with(".part")
}

/// The captures of a folder in capture order: its top-level files sorted by
/// name, with capture times from the manifest where it has them.
pub fn list_captures(dir: &Path) -> Result<Vec<SessionCapture>, SessionDirError> {
    let io_err = |source| SessionDirError::Io {
        path: dir.to_owned(),
        source,
    };
    // An unreadable manifest costs the capture times it records, not the
    // captures: they load without it, and say so.
    let (manifest, manifest_problem) = match read_manifest(dir) {
        Ok(m) => (m, None),
        Err(e @ SessionDirError::Manifest { .. }) => (
            None,
            Some(format!(
                "{e}; loaded without it, so capture times come from the files themselves"
            )),
        ),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        // Follows symlinks, so a folder of links to captures works too.
        let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
        let name = entry.file_name();
        // Names leakscope writes are ASCII; other names are the user's own files.
        let Some(name) = name.to_str() else {
            continue;
        };
        if is_file && is_capture_name(name) {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Err(SessionDirError::Empty {
            path: dir.to_owned(),
        });
    }
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| {
            let entry = manifest
                .as_ref()
                .and_then(|m| m.captures.iter().find(|c| c.file == name));
            SessionCapture {
                path: dir.join(&name),
                // Unset (0) or forged times are no times.
                captured_at_ns: entry
                    .and_then(|c| super::limits::plausible_unix_ns(c.started_at_ns)),
                partial: entry.is_some_and(|c| c.partial),
                listed: entry.is_some() || manifest.as_ref().is_none_or(|m| m.captures.is_empty()),
                manifest_problem: manifest_problem.clone(),
            }
        })
        .collect())
}

/// The captures to load for paths given on a command line: a folder stands
/// for its captures in capture order, a file for itself.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<SessionCapture>, SessionDirError> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        if path.is_dir() {
            out.extend(list_captures(path)?);
        } else {
            out.push(SessionCapture::file(path.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_top_level_captures_in_name_order_with_manifest_times() {
        let dir = std::env::temp_dir().join(format!("leakscope-sdir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(PARTIAL_DIR)).unwrap();
        for name in [
            "000002-b-goroutine.pb.gz",
            "000001-a-goroutine-debug2.txt",
            ".000003-goroutine.part",
            MANIFEST_FILE,
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        std::fs::write(dir.join(PARTIAL_DIR).join("000004-heap.pb.gz"), b"x").unwrap();
        let manifest = Manifest {
            leakscope_session: MANIFEST_VERSION,
            captures: vec![ManifestCapture {
                file: "000001-a-goroutine-debug2.txt".into(),
                started_at_ns: 42,
                ..Default::default()
            }],
            ..Default::default()
        };
        std::fs::write(
            dir.join(MANIFEST_FILE),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        let list = list_captures(&dir).unwrap();
        let names: Vec<_> = list
            .iter()
            .map(|c| c.path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["000001-a-goroutine-debug2.txt", "000002-b-goroutine.pb.gz"]
        );
        assert_eq!(list[0].captured_at_ns, Some(42));
        assert_eq!(list[1].captured_at_ns, None);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_empty_folder_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("leakscope-sdir-e-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = list_captures(&dir).unwrap_err();
        assert!(err.to_string().contains("no captures"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
