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
    /// The target given on the command line or in the dialog cannot be polled.
    #[error("{input:?} is not a URL leakscope can poll: {reason}")]
    BadUrl {
        /// What the user typed, unchanged, so they can spot the typo.
        input: String,
        /// Which part is wrong (scheme, host, port, path).
        reason: String,
    },
    /// A `-H` header cannot be sent as given.
    #[error("bad request header {input:?}: {reason}")]
    BadHeader {
        /// The header with its value replaced by `…`: it may be a secret.
        input: String,
        /// What HTTP forbids in it.
        reason: &'static str,
    },
    /// Nothing listens on the port: the usual case of a stopped service.
    #[error(
        "{url}: connection refused; is the service running, and does it serve pprof on that port?"
    )]
    ConnectionRefused {
        /// The URL asked.
        url: String,
    },
    /// The host name did not resolve (or not in time).
    #[error("{url}: DNS lookup of {host:?} failed ({detail}); check the host name")]
    Dns {
        /// The URL asked.
        url: String,
        /// The name that did not resolve, shown apart because it is the likely typo.
        host: String,
        /// The resolver's answer, or that it did not answer in time.
        detail: String,
    },
    /// The TCP connection was not set up in time: a firewall or an unreachable host.
    #[error(
        "{url}: no connection within {} (connect timeout); is the host reachable, or does a firewall drop the packets?",
        secs(.after)
    )]
    ConnectTimeout {
        /// The URL asked.
        url: String,
        /// The connect timeout that ran out.
        after: Duration,
    },
    /// Connected, but the server went silent.
    #[error("{url}: read timeout: nothing received for {} while waiting for {what}", secs(.after))]
    ReadTimeout {
        /// The URL asked.
        url: String,
        /// How long nothing came (the receive timeout in force).
        after: Duration,
        /// The part awaited (the response, the body), for the message.
        what: &'static str,
    },
    /// The connection was reset or closed mid-way.
    #[error("{url}: the connection broke ({detail}); the service may have restarted")]
    ConnectionLost {
        /// The URL asked.
        url: String,
        /// The operating system's words for the break.
        detail: String,
    },
    /// HTTP 404: pprof is not served there, or the profile is unknown to that Go.
    #[error("{url}: 404 Not Found: {hint}")]
    NotFound {
        /// The URL asked.
        url: String,
        /// Which of the two it is, told from the body, and what to do about it.
        hint: String,
    },
    /// HTTP 401 or 403: the endpoint is behind authentication.
    #[error(
        "{url}: HTTP {status} {}: the endpoint wants credentials; pass a header such as 'Authorization: Bearer …' or a session cookie",
        if *.status == 401 { "Unauthorized" } else { "Forbidden" }
    )]
    Unauthorized {
        /// The URL asked.
        url: String,
        /// 401 or 403, which picks the word in the message.
        status: u16,
    },
    /// Any other status that is not success; 5xx is retried by the poller.
    #[error("{url}: HTTP {status}{detail}")]
    HttpStatus {
        /// The URL asked.
        url: String,
        /// What the server answered.
        status: u16,
        /// `: ` and the first line of the body, or empty when the body said nothing.
        detail: String,
    },
    /// A redirect leaving the origin, refused so headers are never sent elsewhere.
    #[error(
        "{url}: redirected to {location}, which is another host, port or scheme; not followed, so headers and credentials stay here (use that URL if you trust it)"
    )]
    OffOriginRedirect {
        /// The URL asked.
        url: String,
        /// Where the server wanted to send us, so the user can decide to trust it.
        location: String,
    },
    /// A redirect loop, or a chain longer than we follow.
    #[error("{url}: more than {limit} redirects; not followed")]
    TooManyRedirects {
        /// The URL asked.
        url: String,
        /// How many redirects are followed before giving up.
        limit: u32,
    },
    /// A 200 whose body is not a profile: typically a login or HTML error page.
    #[error("{url}: the response is not a profile: {detail}")]
    NotAProfile {
        /// The URL asked.
        url: String,
        /// What the body looked like instead.
        detail: String,
    },
    /// The base URL does not serve the pprof index; a warning, polling goes on.
    #[error("{url}: not a pprof index page ({detail}); polling the goroutine profile anyway")]
    NotAnIndex {
        /// The URL asked.
        url: String,
        /// Why the page was not taken for an index.
        detail: String,
    },
    /// The body went over the size cap; reading stopped so memory stays bounded.
    #[error(
        "{url}: the response is larger than the cap of {limit} bytes; stopped reading (raise the cap if the service is that large)"
    )]
    BodyTooLarge {
        /// The URL asked.
        url: String,
        /// The cap in bytes, the number the user raises.
        limit: u64,
    },
    /// The body arrived whole but the format layer cannot read it.
    #[error("{url}: {source}")]
    Unreadable {
        /// The URL asked.
        url: String,
        /// The parse error, with its offset.
        source: FormatError,
    },
    /// The body stopped early; what was read may still be loaded.
    #[error("{url}: the body ended after {bytes} bytes: {reason}")]
    Truncated {
        /// The URL asked.
        url: String,
        /// How much arrived before the end.
        bytes: u64,
        /// Why it ended (connection, timeout, gzip stream cut).
        reason: String,
    },
    /// The TLS handshake failed (certificate, or HTTPS to a plain-HTTP port).
    #[error("{url}: TLS: {detail}")]
    Tls {
        /// The URL asked.
        url: String,
        /// The TLS library's reason, with a hint when the port speaks plain HTTP.
        detail: String,
    },
    /// Any other transport or protocol failure the cases above do not name.
    #[error("{url}: {detail}")]
    Http {
        /// The URL asked.
        url: String,
        /// The HTTP client's words, sometimes with a hint.
        detail: String,
    },
    /// The server's index does not list the profile, so it is not asked for.
    #[error("{url}: the server does not list {profile:?} in its pprof index; {hint}")]
    NotOffered {
        /// The URL that would have been asked.
        url: String,
        /// The profile name missing from the index.
        profile: String,
        /// What the service would need to offer it.
        hint: &'static str,
    },
    /// The user stopped the capture; not a failure to report loudly.
    #[error("{url}: cancelled")]
    Cancelled {
        /// The URL that was being asked.
        url: String,
    },
    /// Reading or writing a local file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The session folder already records another target; mixing them would corrupt it.
    #[error("{path}: a session of {other}, not {url}; choose another folder")]
    OtherSession {
        /// The session folder.
        path: PathBuf,
        /// The target that folder belongs to.
        other: String,
        /// The target being polled now.
        url: String,
    },
    /// The session folder's manifest cannot be read.
    #[error("{path}: {reason}")]
    BadSession {
        /// The session folder.
        path: PathBuf,
        /// What is wrong with its manifest.
        reason: String,
    },
    /// A CA or client certificate/key file cannot be used.
    #[error("{path}: {reason}")]
    BadCertificate {
        /// The PEM file given.
        path: PathBuf,
        /// What is missing or wrong in it.
        reason: String,
    },
    /// The poller or a capture thread could not be started.
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
