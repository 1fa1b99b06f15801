//! Live capture from a running service's `net/http/pprof` endpoints.
//!
//! During an incident the leak is happening now: people paste
//! `http://host:6060/debug/pprof/` and want to watch goroutines grow per
//! stack without running curl every few minutes. A [`Poller`] fetches the
//! goroutine profile every interval on one thread and runs on-demand
//! captures (`?debug=2`, a trace, CPU/heap/block/mutex profiles,
//! `goroutineleak`) on another, writes every body into a session folder as
//! it arrives ([`crate::formats::session_dir`]) and reports what happened
//! as [`LiveEvent`]s over a channel, calling a `wake` closure after each so
//! a UI can repaint. Nothing here knows about egui.
//!
//! It is shaped like puffin's HTTP client (a thread, a reconnect loop, a
//! connection flag), with what a service under incident needs on top: caps
//! on body size and inflated size, connect and read timeouts, backoff
//! while the service is down or restarting, and messages that say what to
//! check. Each failure is one event; the poller carries on.
//!
//! ```no_run
//! use std::time::Duration;
//! use leakscope::live::{LiveConfig, LiveEvent, Poller, CaptureKind};
//!
//! let mut config = LiveConfig::new("localhost:6060", "incident-42".as_ref())?;
//! config.interval = Duration::from_secs(5);
//! let (poller, events) = Poller::start(config, || { /* ctx.request_repaint() */ })?;
//! let trace = poller.request(CaptureKind::Trace(Duration::from_secs(5)));
//! for event in events.iter() {
//!     match event {
//!         LiveEvent::Captured(c) => println!("saved {}", c.path.display()),
//!         LiveEvent::Failed(f) => eprintln!("{}", f.error),
//!         LiveEvent::Stopped { .. } => break,
//!         _ => {}
//!     }
//! }
//! # Ok::<(), leakscope::live::LiveError>(())
//! ```

mod client;
mod error;
mod index;
mod poller;
pub mod prometheus;
mod save;
mod session;
mod target;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use client::{
    BodyEnd, Client, Expect, FetchLimits, Fetched, Header, Timeouts, TlsFiles, Watch,
};
pub use error::LiveError;
pub use index::{ServerInfo, parse_index};
pub use poller::{
    Backoff, CaptureId, Captured, ConnectionState, Failure, LiveConfig, LiveEvent, Poller,
    StopReason,
};
pub use save::{NotSaved, Saved, fetch_profile, read_index, save};
pub use session::{CommitInfo, Pending, Placement, SessionWriter};
pub use target::{Origin, Redirect, Scheme, Target};

use crate::model::time::format_rfc3339;

/// What to fetch from the pprof folder.
#[derive(Clone, Debug, PartialEq)]
pub enum CaptureKind {
    /// `goroutine`: the protobuf goroutine profile, what polling fetches.
    Goroutine,
    /// `goroutine?debug=2`: every goroutine with its wait time.
    GoroutineDebug2,
    /// `goroutineleak`: goroutines the runtime proved leaked (newer Go, where offered).
    GoroutineLeak,
    /// `trace?seconds=N`: an execution trace over N.
    Trace(Duration),
    /// `profile?seconds=N`: a CPU profile over N (whole seconds, at least one).
    Cpu(Duration),
    /// `heap`: live allocations by stack, to pair a goroutine leak with the memory it holds.
    Heap,
    /// `allocs`: all allocations since start, by stack.
    Allocs,
    /// `block`: where goroutines waited on channels and locks (only if the service enabled it).
    Block,
    /// `mutex`: contended locks (only if the service enabled it).
    Mutex,
    /// `threadcreate`: stacks that created OS threads.
    Threadcreate,
    /// Any other profile the server offers by name: the count profiles
    /// services register with `pprof.NewProfile` (open connections, files,
    /// sessions), polled and ranked like goroutines.
    Named(String),
}

impl CaptureKind {
    /// The name used in the manifest, file names and the command line.
    pub fn name(&self) -> &str {
        match self {
            CaptureKind::Goroutine => "goroutine",
            CaptureKind::GoroutineDebug2 => "goroutine-debug2",
            CaptureKind::GoroutineLeak => "goroutineleak",
            CaptureKind::Trace(_) => "trace",
            CaptureKind::Cpu(_) => "cpu",
            CaptureKind::Heap => "heap",
            CaptureKind::Allocs => "allocs",
            CaptureKind::Block => "block",
            CaptureKind::Mutex => "mutex",
            CaptureKind::Threadcreate => "threadcreate",
            CaptureKind::Named(name) => name,
        }
    }

    /// A kind from its [`name`](Self::name) (`debug2` works too); traces and
    /// CPU profiles take `seconds`.
    pub fn from_name(name: &str, seconds: Duration) -> Option<CaptureKind> {
        Some(match name.trim() {
            "goroutine" => CaptureKind::Goroutine,
            "goroutine-debug2" | "debug2" => CaptureKind::GoroutineDebug2,
            "goroutineleak" => CaptureKind::GoroutineLeak,
            "trace" => CaptureKind::Trace(seconds),
            "cpu" | "profile" => CaptureKind::Cpu(seconds),
            "heap" => CaptureKind::Heap,
            "allocs" => CaptureKind::Allocs,
            "block" => CaptureKind::Block,
            "mutex" => CaptureKind::Mutex,
            "threadcreate" => CaptureKind::Threadcreate,
            other if is_profile_name(other) => CaptureKind::Named(other.to_owned()),
            _ => return None,
        })
    }

    /// How long the endpoint runs on the server.
    pub fn seconds(&self) -> Option<Duration> {
        match self {
            CaptureKind::Trace(d) => Some(*d),
            CaptureKind::Cpu(d) => Some(Duration::from_secs(cpu_seconds(*d))),
            _ => None,
        }
    }

    /// The endpoint below the pprof folder, with its query.
    pub fn endpoint(&self) -> String {
        match self {
            CaptureKind::Goroutine => "goroutine".to_owned(),
            CaptureKind::GoroutineDebug2 => "goroutine?debug=2".to_owned(),
            CaptureKind::GoroutineLeak => "goroutineleak".to_owned(),
            CaptureKind::Trace(d) => format!("trace?seconds={}", trace_seconds(*d)),
            CaptureKind::Cpu(d) => format!("profile?seconds={}", cpu_seconds(*d)),
            other => other.name().to_owned(),
        }
    }

    /// What the body must look like.
    pub fn expected_body(&self) -> Expect {
        match self {
            CaptureKind::Trace(_) => Expect::Trace,
            _ => Expect::Profile,
        }
    }

    /// The kind part of file names: `goroutine`, `trace-5s`, `cpu-30s`.
    pub fn file_stem(&self) -> String {
        match self {
            CaptureKind::Trace(d) => format!("trace-{}s", trace_seconds(*d)),
            CaptureKind::Cpu(d) => format!("cpu-{}s", cpu_seconds(*d)),
            CaptureKind::Named(name) => name
                .chars()
                .map(|c| match c {
                    'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' => c,
                    _ => '_',
                })
                .collect(),
            other => other.name().to_owned(),
        }
    }
}

/// Whether `name` can be a profile's name in a URL path: what
/// `pprof.NewProfile` names look like (`example.com/pkg/conns`), nothing
/// that could leave the pprof folder or carry a query.
pub fn is_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('/')
        && !name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

/// `5`, `2.5`, `0.25`: what `trace?seconds=` takes (a float in Go).
fn trace_seconds(d: Duration) -> String {
    let ms = d.as_millis().max(1);
    if ms.is_multiple_of(1000) {
        format!("{}", ms / 1000)
    } else {
        let s = format!("{:.3}", ms as f64 / 1000.0);
        s.trim_end_matches('0').to_owned()
    }
}

/// `profile?seconds=` takes whole seconds; Go treats 0 as 30.
fn cpu_seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

/// Now, as Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A new session folder's path: `parent/leakscope-host-6060-20261127T101500Z`.
pub fn default_session_dir(parent: &Path, target: &Target) -> PathBuf {
    let stamp: String = format_rfc3339(now_ns())
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    parent.join(format!("leakscope-{}-{stamp}Z", target.label()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_name_their_endpoints() {
        let s = Duration::from_secs;
        assert_eq!(CaptureKind::Trace(s(5)).endpoint(), "trace?seconds=5");
        assert_eq!(
            CaptureKind::Trace(Duration::from_millis(2500)).endpoint(),
            "trace?seconds=2.5"
        );
        assert_eq!(
            CaptureKind::Cpu(Duration::from_millis(200)).endpoint(),
            "profile?seconds=1"
        );
        assert_eq!(CaptureKind::GoroutineDebug2.endpoint(), "goroutine?debug=2");
        assert_eq!(CaptureKind::Trace(s(5)).file_stem(), "trace-5s");
        assert_eq!(
            CaptureKind::from_name("debug2", s(1)),
            Some(CaptureKind::GoroutineDebug2)
        );
        assert_eq!(
            CaptureKind::from_name("cpu", s(3)),
            Some(CaptureKind::Cpu(s(3)))
        );
        assert_eq!(CaptureKind::from_name("../x", s(3)), None);
        assert_eq!(CaptureKind::from_name("a?debug=2", s(3)), None);
        let conns = CaptureKind::from_name("example.com/svc/conns", s(3)).unwrap();
        assert_eq!(conns.endpoint(), "example.com/svc/conns");
        assert_eq!(conns.file_stem(), "example.com_svc_conns");
    }
}
