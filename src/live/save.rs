//! One capture from the server into a session folder, and the index page.
//!
//! The poller, `capture` and the watcher's incident folders all save bodies
//! the same way: stream into the folder as the body arrives, parse what is
//! meant to be a profile, and file it as a capture, a partial body or a
//! rejected one. Keeping that in one place is what makes a watcher's
//! incident folder a session like any other.

use std::path::PathBuf;

use super::client::{BodyEnd, Client, Expect, Fetched, Watch};
use super::error::LiveError;
use super::index::{ServerInfo, parse_index};
use super::session::{CommitInfo, Placement, SessionWriter};
use super::{CaptureKind, Pending};
use crate::formats::session_dir::ManifestCapture;
use crate::formats::{self, Limits, LoadOptions, Loaded};
use crate::model::Snapshot;
use crate::progress::Progress;

/// Largest index page read.
const MAX_INDEX_BYTES: u64 = 1 << 20;

/// A body saved as a capture.
#[derive(Debug)]
pub struct Saved {
    /// The capture's file in the session folder.
    pub path: PathBuf,
    /// Its manifest entry, as written.
    pub record: ManifestCapture,
    /// The parsed profile (profiles only; traces are parsed by whoever opens them).
    pub loaded: Option<Box<Loaded>>,
}

/// A fetch that gave no capture: why, and where what arrived was kept.
#[derive(Debug)]
pub struct NotSaved {
    /// Why there is no capture.
    pub error: LiveError,
    /// A partial or rejected body kept for a look (`partial/`, `rejected/`).
    pub kept: Option<PathBuf>,
}

impl From<LiveError> for NotSaved {
    fn from(error: LiveError) -> NotSaved {
        NotSaved { error, kept: None }
    }
}

/// How the body of a profile is parsed: within the client's inflate cap.
fn load_options(client: &Client) -> LoadOptions {
    LoadOptions {
        limits: Limits {
            max_inflated_bytes: client.limits().max_inflated_bytes,
            ..Limits::default()
        },
    }
}

/// Fetches one capture into `session`. Failures other than cancelling are
/// noted in the manifest too (best effort: the caller gets the error either way).
pub fn save(
    client: &Client,
    session: &SessionWriter,
    kind: &CaptureKind,
    watch: &Watch<'_>,
) -> Result<Saved, NotSaved> {
    let endpoint = kind.endpoint();
    let url = client.target().url(&endpoint);
    let expect = kind.expected_body();
    let mut pending = session.begin(kind, expect == Expect::Profile)?;
    let fetched = client.fetch(
        &endpoint,
        kind.seconds(),
        expect,
        &mut |d| pending.write(d),
        watch,
    );
    match fetched {
        Ok(f) => file(client, session, pending, f, expect),
        Err(e) => {
            session.discard(pending);
            if !matches!(e, LiveError::Cancelled { .. }) {
                session
                    .record_failure(kind.name(), &url, &e.to_string())
                    .ok();
            }
            Err(e.into())
        }
    }
}

/// Files a fetched body: a profile that parses and any trace are captures,
/// a cut profile goes to `partial/`, an unreadable one to `rejected/`.
fn file(
    client: &Client,
    session: &SessionWriter,
    pending: Pending,
    fetched: Fetched,
    expect: Expect,
) -> Result<Saved, NotSaved> {
    let mut info = CommitInfo {
        url: fetched.url.clone(),
        status: fetched.status,
        format: fetched.format,
        ..CommitInfo::default()
    };
    let partial_reason = match &fetched.end {
        BodyEnd::Complete => None,
        BodyEnd::Cut { reason } => Some(reason.clone()),
        BodyEnd::Cancelled => Some("cancelled".to_owned()),
    };
    match (partial_reason, expect) {
        (None, Expect::Profile) => {
            let path = session.final_path(&pending, Placement::Capture, fetched.format, false);
            let parsed = formats::load_bytes(
                &path.display().to_string(),
                pending.body().unwrap_or_default(),
                &load_options(client),
                &Progress::none(),
            );
            match parsed {
                Ok(loaded) => {
                    info.goroutines = loaded
                        .input
                        .as_snapshot()
                        .and_then(Snapshot::goroutine_count);
                    let (path, record) = session.commit(pending, Placement::Capture, info)?;
                    Ok(Saved {
                        path,
                        record,
                        loaded: Some(Box::new(loaded)),
                    })
                }
                Err(source) => {
                    info.rejected_reason = Some(source.to_string());
                    let (path, _) = session.commit(pending, Placement::Rejected, info)?;
                    Err(NotSaved {
                        error: LiveError::Unreadable {
                            url: fetched.url,
                            source,
                        },
                        kept: Some(path),
                    })
                }
            }
        }
        // A trace, whole or cut short: a cut trace still holds every
        // complete generation before the cut, so it stays a capture.
        (reason, _) if expect == Expect::Trace => {
            info.partial_reason = reason;
            let (path, record) = session.commit(pending, Placement::Capture, info)?;
            Ok(Saved {
                path,
                record,
                loaded: None,
            })
        }
        (reason, _) => {
            let reason = reason.unwrap_or_default();
            info.partial_reason = Some(reason.clone());
            let bytes = pending.bytes();
            let (path, _) = session.commit(pending, Placement::Partial, info)?;
            let error = if fetched.end == BodyEnd::Cancelled {
                LiveError::Cancelled { url: fetched.url }
            } else {
                LiveError::Truncated {
                    url: fetched.url,
                    bytes,
                    reason,
                }
            };
            Err(NotSaved {
                error,
                kept: Some(path),
            })
        }
    }
}

/// Fetches a profile into memory and parses it, without writing anything:
/// what a watcher's poll does many times an hour. `name` is how errors and
/// the parsed input name it.
pub fn fetch_profile(
    client: &Client,
    endpoint: &str,
    watch: &Watch<'_>,
) -> Result<(Vec<u8>, Loaded), LiveError> {
    let (body, fetched) = client.fetch_to_memory(
        endpoint,
        Expect::Profile,
        client.limits().max_body_bytes,
        watch.cancelled,
    )?;
    match fetched.end {
        BodyEnd::Complete => {}
        BodyEnd::Cut { reason } => {
            return Err(LiveError::Truncated {
                url: fetched.url,
                bytes: body.len() as u64,
                reason,
            });
        }
        BodyEnd::Cancelled => return Err(LiveError::Cancelled { url: fetched.url }),
    }
    let loaded = formats::load_bytes(
        &fetched.url,
        &body,
        &load_options(client),
        &Progress::none(),
    )
    .map_err(|source| LiveError::Unreadable {
        url: fetched.url.clone(),
        source,
    })?;
    Ok((body, loaded))
}

/// Reads the server's `/debug/pprof/` index: which profiles it offers.
/// Failures are noted in `session`'s manifest when there is one; the
/// profiles listed are too.
pub fn read_index(
    client: &Client,
    session: Option<&SessionWriter>,
    cancelled: &dyn Fn() -> bool,
) -> Result<ServerInfo, LiveError> {
    let url = client.target().base_url();
    let note = |e: &LiveError| {
        if let Some(s) = session {
            s.record_failure("index", &url, &e.to_string()).ok();
        }
    };
    let (body, fetched) = client
        .fetch_to_memory("", Expect::Index, MAX_INDEX_BYTES, cancelled)
        .inspect_err(|e| {
            if !matches!(e, LiveError::Cancelled { .. }) {
                note(e);
            }
        })?;
    let text = String::from_utf8_lossy(&body);
    let Some(info) = parse_index(&text).filter(|_| fetched.end == BodyEnd::Complete) else {
        let first: String = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(60)
            .collect();
        let error = LiveError::NotAnIndex {
            url: fetched.url,
            detail: format!("it starts with {first:?}"),
        };
        note(&error);
        return Err(error);
    };
    // The manifest is a record for later; failing to update it must not
    // stop anything (the next capture reports a folder that cannot be written).
    if let Some(s) = session {
        s.set_server_profiles(info.names()).ok();
    }
    Ok(info)
}
