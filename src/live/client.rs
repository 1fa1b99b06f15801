//! One HTTP fetch of a pprof endpoint, bounded in size and time, cancellable.
//!
//! The request runs on a short-lived helper thread that hands the body over
//! in chunks through a small bounded channel. The caller waits on that
//! channel in 100 ms steps, so a cancel or a deadline takes effect within
//! 100 ms even while the socket read blocks (a trace of a quiet service may
//! send nothing for its whole duration). Dropping the receiver stops the
//! helper at its next chunk; a helper stuck in a read ends when ureq's own
//! read timeout fires, and holds nothing but its socket until then.
//!
//! Redirects are followed by hand, only within the same scheme, host and
//! port, so request headers (tokens, cookies) never travel to another host.
//! Bodies are not decompressed here: `formats` inflates them under its cap.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod classify;
mod receive;
mod sniff;

use receive::Receiving;

use super::error::LiveError;
use super::target::{Redirect, Target};
use crate::model::Format;

/// How long each phase of a fetch may take.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Resolving the host name.
    pub resolve: Duration,
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// Waiting for the response headers, and the longest pause within a body.
    pub read: Duration,
    /// A whole body. Endpoints that run for `seconds=N` get N on top of
    /// `read` and `body`.
    pub body: Duration,
}

impl Default for Timeouts {
    /// Generous enough for a goroutine profile of a million goroutines, which
    /// takes the runtime seconds to write.
    fn default() -> Self {
        Timeouts {
            resolve: Duration::from_secs(10),
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
            body: Duration::from_secs(120),
        }
    }
}

/// Caps on what one fetch may cost.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FetchLimits {
    /// Largest body read, as received.
    pub max_body_bytes: u64,
    /// Largest size a gzip body may inflate to when it is parsed.
    pub max_inflated_bytes: u64,
    /// Same-origin redirects followed per fetch.
    pub max_redirects: u32,
}

impl Default for FetchLimits {
    /// A 1,000,000-goroutine `debug=2` dump is about 560 MB; a busy
    /// service's trace a few hundred MB.
    fn default() -> Self {
        FetchLimits {
            max_body_bytes: 1 << 30,
            max_inflated_bytes: crate::formats::Limits::default().max_inflated_bytes,
            max_redirects: 5,
        }
    }
}

/// One extra request header (`Authorization`, `Cookie`, a gateway's key).
/// Its value is a secret: `Debug` hides it and the manifest keeps only names.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: String,
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: <redacted>", self.name)
    }
}

impl Header {
    /// `Name: value`, as curl's `-H` takes it.
    pub fn parse(line: &str) -> Result<Header, LiveError> {
        let Some((name, value)) = line.split_once(':') else {
            return Err(LiveError::BadHeader {
                input: redact(line),
                reason: "expected 'Name: value'",
            });
        };
        Header::new(name, value).map_err(|e| match e {
            LiveError::BadHeader { reason, .. } => LiveError::BadHeader {
                input: redact(line),
                reason,
            },
            other => other,
        })
    }

    /// A header from its parts; surrounding whitespace is dropped.
    pub fn new(name: &str, value: &str) -> Result<Header, LiveError> {
        let (name, value) = (name.trim(), value.trim());
        let bad = |reason| LiveError::BadHeader {
            input: name.to_owned(),
            reason,
        };
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            return Err(bad("the name must be a non-empty HTTP token"));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(bad("the value has a line break or control character"));
        }
        if ["content-length", "transfer-encoding", "host", "connection"]
            .contains(&name.to_ascii_lowercase().as_str())
        {
            return Err(bad("leakscope sets this header itself"));
        }
        Ok(Header {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: &str) -> Result<Header, LiveError> {
        Header::new("Authorization", &format!("Bearer {}", token.trim()))
    }

    /// `Cookie: <name=value; …>`.
    pub fn cookie(cookies: &str) -> Result<Header, LiveError> {
        Header::new("Cookie", cookies)
    }

    /// The header's name; safe to show, unlike its value.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The name part of a header line for error messages; the value may be a secret.
fn redact(line: &str) -> String {
    match line.split_once(':') {
        Some((name, _)) => format!("{}: …", name.trim()),
        None => "…".to_owned(),
    }
}

/// What a body must look like to be kept.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Anything `formats` reads: protobuf, dumps.
    Profile,
    /// A Go execution trace.
    Trace,
    /// The `/debug/pprof/` HTML index.
    Index,
}

/// How a body ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyEnd {
    /// The whole body arrived.
    Complete,
    /// The connection broke or stalled after part of the body.
    Cut {
        /// What broke it, for the warning.
        reason: String,
    },
    /// Cancelled after part of the body.
    Cancelled,
}

/// A fetch whose body went to the sink.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The URL the body came from, after same-origin redirects.
    pub url: String,
    /// The HTTP status of the final answer.
    pub status: u16,
    /// Body bytes handed to the sink.
    pub bytes: u64,
    /// The format the head of the body was sniffed as (`None` for the index).
    pub format: Option<Format>,
    /// Whether the body is whole; a cut one may still be worth loading or keeping.
    pub end: BodyEnd,
}

/// Watching a fetch: cancel flag and progress reports.
pub struct Watch<'a> {
    /// Polled every 100 ms; true stops the fetch.
    pub cancelled: &'a dyn Fn() -> bool,
    /// Body bytes so far and time since the request was sent, about every 200 ms.
    pub progress: &'a dyn Fn(u64, Duration),
}

impl Watch<'_> {
    /// A watch that never cancels and ignores progress.
    pub fn none() -> Watch<'static> {
        Watch {
            cancelled: &|| false,
            progress: &|_, _| {},
        }
    }
}

/// Bytes of a body looked at before it is accepted: enough to inflate the
/// start of a gzip profile and see what it is.
const SNIFF_BYTES: usize = 16 * 1024;
/// Bytes of an error page kept for the message.
const ERROR_SNIPPET_BYTES: usize = 2048;
/// Size of the chunks handed from the helper thread.
const CHUNK_BYTES: usize = 64 * 1024;
/// Certificate files for targets behind TLS that a public CA did not sign,
/// or that ask for a client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file of the certificate authorities to trust instead of the public ones.
    pub ca: Option<PathBuf>,
    /// PEM file of the client certificate (chain) to present.
    pub cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// No file given: the client trusts the public roots and shows no certificate.
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.cert.is_none() && self.key.is_none()
    }
}

/// Largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 1 << 20;

fn read_pem(path: &Path) -> Result<Vec<u8>, LiveError> {
    let io = |source| LiveError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut data = Vec::new();
    file.take(MAX_PEM_BYTES)
        .read_to_end(&mut data)
        .map_err(io)?;
    Ok(data)
}

/// Every certificate of a PEM file; none is an error, as a typo'd path to
/// the wrong file would otherwise trust nothing and fail every fetch later.
fn pem_certificates(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, LiveError> {
    let data = read_pem(path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&data) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(LiveError::BadCertificate {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
            }
        }
    }
    if certs.is_empty() {
        return Err(LiveError::BadCertificate {
            path: path.to_owned(),
            reason: "no PEM certificate in it".to_owned(),
        });
    }
    Ok(certs)
}

/// The HTTP agent: no redirects followed by itself (each is checked against
/// the target's origin), statuses as answers, not errors.
fn agent(timeouts: &Timeouts, tls: Option<ureq::tls::TlsConfig>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("leakscope/", env!("CARGO_PKG_VERSION")))
        .timeout_resolve(Some(timeouts.resolve))
        .timeout_connect(Some(timeouts.connect));
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    ureq::Agent::new_with_config(config.build())
}

/// How often the waiting side checks cancel and deadlines.
const TICK: Duration = Duration::from_millis(100);
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// An HTTP client for one service's pprof endpoints.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    target: Target,
    headers: Vec<Header>,
    timeouts: Timeouts,
    limits: FetchLimits,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.target)
            .field("headers", &self.headers)
            .field("timeouts", &self.timeouts)
            .field("limits", &self.limits)
            .finish()
    }
}

/// What the helper thread sends.
enum Msg {
    Head {
        status: u16,
        location: Option<String>,
        content_length: Option<u64>,
        content_type: Option<String>,
    },
    Chunk(Vec<u8>),
    /// The end: `None` after the last chunk, or why reading failed.
    End(Option<ureq::Error>),
}

impl Client {
    /// A client for one target; nothing is connected until the first fetch.
    /// Add private certificates with [`Client::with_tls`].
    pub fn new(
        target: Target,
        headers: Vec<Header>,
        timeouts: Timeouts,
        limits: FetchLimits,
    ) -> Client {
        Client {
            agent: agent(&timeouts, None),
            target,
            headers,
            timeouts,
            limits,
        }
    }

    /// The same client trusting `tls.ca` instead of the public roots and
    /// presenting `tls.cert` and `tls.key` when the server asks (mutual
    /// TLS): how staging and production put pprof behind authentication.
    pub fn with_tls(mut self, tls: &TlsFiles) -> Result<Client, LiveError> {
        if tls.is_empty() {
            return Ok(self);
        }
        let mut config = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &tls.ca {
            let roots = pem_certificates(ca)?;
            config = config.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
        }
        match (&tls.cert, &tls.key) {
            (Some(cert), Some(key)) => {
                let chain = pem_certificates(cert)?;
                let key_pem = read_pem(key)?;
                let key = ureq::tls::PrivateKey::from_pem(&key_pem).map_err(|e| {
                    LiveError::BadCertificate {
                        path: key.clone(),
                        reason: format!("no private key in it ({e})"),
                    }
                })?;
                config =
                    config.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
            }
            (None, None) => {}
            (Some(path), None) | (None, Some(path)) => {
                return Err(LiveError::BadCertificate {
                    path: path.clone(),
                    reason: "a client certificate needs its key and the key its certificate"
                        .to_owned(),
                });
            }
        }
        self.agent = agent(&self.timeouts, Some(config.build()));
        Ok(self)
    }

    /// The service asked; requests never leave its origin.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The headers sent with every request (values may be secrets: do not log them).
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The size caps applied to bodies.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// Fetches a body into memory, at most `max_bytes` of it: an index
    /// page, an API answer, a profile a watcher keeps only in memory.
    pub fn fetch_to_memory(
        &self,
        endpoint: &str,
        expect: Expect,
        max_bytes: u64,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Vec<u8>, Fetched), LiveError> {
        let mut body = Vec::new();
        let url = self.target.url(endpoint);
        let watch = Watch {
            cancelled,
            progress: &|_, _| {},
        };
        let fetched = self.fetch(
            endpoint,
            None,
            expect,
            &mut |d| {
                if (body.len() + d.len()) as u64 > max_bytes {
                    return Err(LiveError::BodyTooLarge {
                        url: url.clone(),
                        limit: max_bytes,
                    });
                }
                body.extend_from_slice(d);
                Ok(())
            },
            &watch,
        )?;
        Ok((body, fetched))
    }

    /// Fetches `endpoint` (`goroutine`, `trace?seconds=5`, `""` for the
    /// index) into `sink`, which receives the body in order once its head
    /// looks like `expect`. `seconds` is how long the endpoint itself runs.
    ///
    /// A body that breaks off or is cancelled after its head was accepted is
    /// `Ok` with [`BodyEnd::Cut`] or [`BodyEnd::Cancelled`]: what arrived is
    /// in the sink and the caller decides whether to keep it.
    pub fn fetch(
        &self,
        endpoint: &str,
        seconds: Option<Duration>,
        expect: Expect,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), LiveError>,
        watch: &Watch<'_>,
    ) -> Result<Fetched, LiveError> {
        let first = self.target.url(endpoint);
        let mut url = first.clone();
        for _ in 0..=self.limits.max_redirects {
            match self.fetch_once(&url, endpoint, seconds, expect, sink, watch)? {
                Step::Done(f) => return Ok(f),
                Step::Redirect(location) => match self.target.resolve_redirect(&url, &location) {
                    Redirect::SameOrigin(next) => url = next,
                    Redirect::OtherOrigin(location) => {
                        return Err(LiveError::OffOriginRedirect { url, location });
                    }
                },
            }
        }
        Err(LiveError::TooManyRedirects {
            url: first,
            limit: self.limits.max_redirects,
        })
    }

    fn fetch_once(
        &self,
        url: &str,
        endpoint: &str,
        seconds: Option<Duration>,
        expect: Expect,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), LiveError>,
        watch: &Watch<'_>,
    ) -> Result<Step, LiveError> {
        let extra = seconds.unwrap_or_default();
        let t = self.timeouts;
        // The server holds the response (or part of it) back for the
        // endpoint's duration: headers of a CPU profile come at its end, and
        // a quiet service's trace may send nothing until then.
        let recv_response = t.read + extra;
        let per_read = t.read + extra;
        let recv_body = t.body + extra;
        // A last resort above ureq's own timeouts.
        let deadline = Instant::now()
            + t.resolve
            + t.connect
            + recv_response
            + recv_body
            + Duration::from_secs(5);
        let rx = self.spawn_request(url, recv_response, per_read, recv_body)?;
        let started = Instant::now();
        let mut body = Receiving {
            url,
            expect,
            cap: self.limits.max_body_bytes,
            sink,
            status: 0,
            head: Vec::new(),
            accepted: None,
            bytes: 0,
            content_type: None,
            error_body: Vec::new(),
        };
        let mut last_progress = Instant::now();
        loop {
            if (watch.cancelled)() {
                return body.cancelled();
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                (watch.progress)(body.bytes + body.head.len() as u64, started.elapsed());
                last_progress = Instant::now();
            }
            let msg = match rx.recv_timeout(TICK) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if Instant::now() < deadline {
                        continue;
                    }
                    Msg::End(Some(ureq::Error::Timeout(ureq::Timeout::Global)))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => Msg::End(Some(ureq::Error::Io(
                    std::io::Error::other("the request thread ended without a result"),
                ))),
            };
            match msg {
                Msg::Head {
                    status,
                    location,
                    content_length,
                    content_type,
                } => {
                    if let Some(step) = body.head(status, location, content_length, content_type)? {
                        return Ok(step);
                    }
                }
                Msg::Chunk(data) if body.is_success() => body.take(&data, false)?,
                Msg::Chunk(data) => {
                    let room = ERROR_SNIPPET_BYTES.saturating_sub(body.error_body.len());
                    body.error_body
                        .extend_from_slice(&data[..data.len().min(room)]);
                    if room == 0 {
                        return Err(self.status_error(
                            url,
                            endpoint,
                            body.status,
                            &body.error_body,
                        ));
                    }
                }
                Msg::End(None) if !body.is_success() => {
                    return Err(self.status_error(url, endpoint, body.status, &body.error_body));
                }
                Msg::End(None) => return body.complete(),
                Msg::End(Some(e)) => {
                    if body.status == 0 {
                        return Err(self.transport_error(url, e, recv_response));
                    }
                    if !body.is_success() {
                        return Err(self.status_error(
                            url,
                            endpoint,
                            body.status,
                            &body.error_body,
                        ));
                    }
                    return body.broke_off(&e, per_read);
                }
            }
        }
    }

    /// Starts the request on a helper thread; see the module doc.
    fn spawn_request(
        &self,
        url: &str,
        recv_response: Duration,
        per_read: Duration,
        recv_body: Duration,
    ) -> Result<mpsc::Receiver<Msg>, LiveError> {
        let mut req = self.agent.get(url);
        let has_auth = self
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("authorization"));
        if let Some(userinfo) = self.target.basic_auth()
            && !has_auth
        {
            req = req.header(
                "Authorization",
                format!("Basic {}", crate::text::base64(userinfo.as_bytes())),
            );
        }
        for h in &self.headers {
            req = req.header(h.name.as_str(), h.value.as_str());
        }
        let req = req
            .config()
            .timeout_recv_response(Some(recv_response))
            .timeout_per_read(Some(per_read))
            .timeout_recv_body(Some(recv_body))
            .build();
        let limit = self.limits.max_body_bytes.saturating_add(1);
        let (tx, rx) = mpsc::sync_channel(8);
        std::thread::Builder::new()
            .name("leakscope-fetch".into())
            .spawn(move || {
                let mut resp = match req.call() {
                    Ok(r) => r,
                    Err(e) => {
                        tx.send(Msg::End(Some(e))).ok();
                        return;
                    }
                };
                let header = |name: &str| {
                    resp.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let head = Msg::Head {
                    status: resp.status().as_u16(),
                    location: header("location"),
                    content_length: header("content-length").and_then(|v| v.parse().ok()),
                    content_type: header("content-type"),
                };
                if tx.send(head).is_err() {
                    return;
                }
                let mut reader = resp.body_mut().with_config().limit(limit).reader();
                loop {
                    let mut buf = vec![0u8; CHUNK_BYTES];
                    match reader.read(&mut buf) {
                        Ok(0) => {
                            tx.send(Msg::End(None)).ok();
                            return;
                        }
                        Ok(n) => {
                            buf.truncate(n);
                            if tx.send(Msg::Chunk(buf)).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            tx.send(Msg::End(Some(ureq::Error::from(e)))).ok();
                            return;
                        }
                    }
                }
            })
            .map_err(LiveError::Spawn)?;
        Ok(rx)
    }
}

enum Step {
    Done(Fetched),
    Redirect(String),
}

#[cfg(test)]
mod tests {
    use super::sniff::check_head;
    use super::*;

    #[test]
    fn headers_are_validated_and_their_values_stay_secret() {
        let h = Header::parse("Authorization: Bearer s3cret").unwrap();
        assert_eq!(h.name(), "Authorization");
        assert!(!format!("{h:?}").contains("s3cret"));
        let err = Header::parse("Authorization Bearer s3cret").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = Header::parse("X-Key: a\r\nHost: evil").unwrap_err();
        assert!(err.to_string().contains("line break"), "{err}");
        assert!(Header::parse("Bad Name: x").is_err());
        assert!(Header::parse("Content-Length: 3").is_err());
        assert_eq!(Header::bearer(" t ").unwrap().value, "Bearer t");
    }

    #[test]
    fn heads_are_checked_against_the_endpoint() {
        let html = b"<!DOCTYPE html><html><title>Sign in</title></html>";
        let err = check_head("u", html, Expect::Profile, Some("text/html")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("HTML page") && msg.contains("login page"),
            "{msg}"
        );
        let err = check_head("u", b"go 1.23 trace\0\0\0", Expect::Profile, None).unwrap_err();
        assert!(err.to_string().contains("trace where a profile"), "{err}");
        assert_eq!(
            check_head("u", b"go 1.23 trace\0\0\0", Expect::Trace, None).unwrap(),
            Some(Format::Trace)
        );
    }
}
