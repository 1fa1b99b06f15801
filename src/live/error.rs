//! Errors of the live layer, worded for the person watching the status bar:
//! what failed, at which URL, and what usually causes it.

use std::path::PathBuf;
use std::time::Duration;

use crate::formats::FormatError;

/// Seconds for messages: `5 s`, `0.25 s`.
fn secs(d: &Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.2} s")
    }
}

/// Why a fetch or a session folder failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{input:?} is not a URL leakscope can poll: {reason}")]
    BadUrl { input: String, reason: String },
    #[error("bad request header {input:?}: {reason}")]
    BadHeader { input: String, reason: &'static str },
    #[error(
        "{url}: connection refused; is the service running, and does it serve pprof on that port?"
    )]
    ConnectionRefused { url: String },
    #[error("{url}: DNS lookup of {host:?} failed ({detail}); check the host name")]
    Dns {
        url: String,
        host: String,
        detail: String,
    },
    #[error(
        "{url}: no connection within {} (connect timeout); is the host reachable, or does a firewall drop the packets?",
        secs(.after)
    )]
    ConnectTimeout { url: String, after: Duration },
    #[error("{url}: read timeout: nothing received for {} while waiting for {what}", secs(.after))]
    ReadTimeout {
        url: String,
        after: Duration,
        what: &'static str,
    },
    #[error("{url}: the connection broke ({detail}); the service may have restarted")]
    ConnectionLost { url: String, detail: String },
    #[error("{url}: 404 Not Found: {hint}")]
    NotFound { url: String, hint: String },
    #[error(
        "{url}: HTTP {status} {}: the endpoint wants credentials; pass a header such as 'Authorization: Bearer …' or a session cookie",
        if *.status == 401 { "Unauthorized" } else { "Forbidden" }
    )]
    Unauthorized { url: String, status: u16 },
    #[error("{url}: HTTP {status}{detail}")]
    HttpStatus {
        url: String,
        status: u16,
        detail: String,
    },
    #[error(
        "{url}: redirected to {location}, which is another host, port or scheme; not followed, so headers and credentials stay here (use that URL if you trust it)"
    )]
    OffOriginRedirect { url: String, location: String },
    #[error("{url}: more than {limit} redirects; not followed")]
    TooManyRedirects { url: String, limit: u32 },
    #[error("{url}: the response is not a profile: {detail}")]
    NotAProfile { url: String, detail: String },
    #[error("{url}: not a pprof index page ({detail}); polling the goroutine profile anyway")]
    NotAnIndex { url: String, detail: String },
    #[error(
        "{url}: the response is larger than the cap of {limit} bytes; stopped reading (raise the cap if the service is that large)"
    )]
    BodyTooLarge { url: String, limit: u64 },
    #[error("{url}: {source}")]
    Unreadable { url: String, source: FormatError },
    #[error("{url}: the body ended after {bytes} bytes: {reason}")]
    Truncated {
        url: String,
        bytes: u64,
        reason: String,
    },
    #[error("{url}: TLS: {detail}")]
    Tls { url: String, detail: String },
    #[error("{url}: {detail}")]
    Http { url: String, detail: String },
    #[error("{url}: the server does not list {profile:?} in its pprof index; {hint}")]
    NotOffered {
        url: String,
        profile: String,
        hint: &'static str,
    },
    #[error("{url}: cancelled")]
    Cancelled { url: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: a session of {other}, not {url}; choose another folder")]
    OtherSession {
        path: PathBuf,
        other: String,
        url: String,
    },
    #[error("{path}: {reason}")]
    BadSession { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("cannot start a thread: {0}")]
    Spawn(std::io::Error),
}

impl LiveError {
    /// The service could not be reached at all (as opposed to answering
    /// badly): the poller reports it as disconnected and backs off.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            LiveError::ConnectionRefused { .. }
                | LiveError::Dns { .. }
                | LiveError::ConnectTimeout { .. }
                | LiveError::ReadTimeout { .. }
                | LiveError::ConnectionLost { .. }
                | LiveError::Tls { .. }
        )
    }

    /// An answer that retrying does not change: the URL does not lead to a
    /// pprof endpoint (404, a login page or another host, HTTPS to a plain
    /// port) or the credentials are refused. Before the first good capture
    /// it means the target was given wrong, which is better said at once
    /// than after half a minute of retries.
    pub fn is_misconfiguration(&self) -> bool {
        matches!(
            self,
            LiveError::NotFound { .. }
                | LiveError::Unauthorized { .. }
                | LiveError::OffOriginRedirect { .. }
                | LiveError::TooManyRedirects { .. }
                | LiveError::NotAProfile { .. }
                | LiveError::Tls { .. }
        )
    }

    /// A problem of the local folder, not of the service: retrying does not help.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            LiveError::Io { .. }
                | LiveError::OtherSession { .. }
                | LiveError::BadSession { .. }
                | LiveError::Spawn(_)
        )
    }
}
