//! What a failed fetch means, in words that say what to check: a status
//! with its usual cause, a transport failure named by its layer (DNS,
//! connect, TLS, read), a body that broke off and why.

use std::time::Duration;

use super::Client;
use crate::live::error::LiveError;
use crate::live::target::Scheme;

impl Client {
    /// A non-2xx answer, with what usually causes it.
    pub(super) fn status_error(
        &self,
        url: &str,
        endpoint: &str,
        status: u16,
        body: &[u8],
    ) -> LiveError {
        let url = url.to_owned();
        let snippet = first_line(body);
        match status {
            401 | 403 => LiveError::Unauthorized { url, status },
            404 => {
                let name = endpoint.split('?').next().unwrap_or("");
                let hint = if snippet == "Unknown profile" && name == "goroutineleak" {
                    "this server has no goroutineleak profile (it needs a Go version with the goroutine leak profile)".to_owned()
                } else if snippet == "Unknown profile" {
                    format!("this server has no {name:?} profile")
                } else {
                    format!(
                        "pprof is not served at {} (the service must import net/http/pprof and serve it on this port, or the path differs)",
                        self.target.base_url()
                    )
                };
                LiveError::NotFound { url, hint }
            }
            300..=399 => LiveError::HttpStatus {
                url,
                status,
                detail: ": a redirect without a Location header".to_owned(),
            },
            _ => LiveError::HttpStatus {
                url,
                status,
                detail: if snippet.is_empty() {
                    String::new()
                } else {
                    format!(": {snippet}")
                },
            },
        }
    }

    /// A failure before any response: connection, DNS, TLS, timeouts.
    pub(super) fn transport_error(
        &self,
        url: &str,
        e: ureq::Error,
        recv_response: Duration,
    ) -> LiveError {
        let url = url.to_owned();
        let host = self.target.origin().host.clone();
        match e {
            ureq::Error::Timeout(ureq::Timeout::Connect) => LiveError::ConnectTimeout {
                url,
                after: self.timeouts.connect,
            },
            ureq::Error::Timeout(ureq::Timeout::Resolve) => LiveError::Dns {
                url,
                host,
                detail: format!("no answer within {} s", self.timeouts.resolve.as_secs()),
            },
            ureq::Error::Timeout(_) => LiveError::ReadTimeout {
                url,
                after: recv_response,
                what: "the response",
            },
            ureq::Error::HostNotFound => LiveError::Dns {
                url,
                host,
                detail: "no such host".to_owned(),
            },
            ureq::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused => LiveError::ConnectionRefused { url },
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    LiveError::ReadTimeout {
                        url,
                        after: recv_response,
                        what: "the response",
                    }
                }
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::BrokenPipe => LiveError::ConnectionLost {
                    url,
                    detail: io.to_string(),
                },
                // rustls reports handshake failures as invalid data.
                std::io::ErrorKind::InvalidData if self.target.origin().scheme == Scheme::Https => {
                    let plain = io.to_string().contains("InvalidContentType");
                    LiveError::Tls {
                        url,
                        detail: if plain {
                            format!("{io}; the port answers in plain HTTP, try http://")
                        } else {
                            io.to_string()
                        },
                    }
                }
                // std's resolver error: "failed to lookup address information: …".
                _ if io.to_string().contains("lookup address") => LiveError::Dns {
                    url,
                    host,
                    detail: io.to_string(),
                },
                _ => LiveError::Http {
                    url,
                    detail: io.to_string(),
                },
            },
            ureq::Error::Tls(m) => LiveError::Tls {
                url,
                detail: m.to_owned(),
            },
            ureq::Error::Rustls(e) => LiveError::Tls {
                url,
                detail: e.to_string(),
            },
            ureq::Error::Protocol(e) => LiveError::Http {
                url,
                detail: format!(
                    "the answer is not HTTP/1.1 ({e}); is this the right port, or does it need https://?"
                ),
            },
            other => LiveError::Http {
                url,
                detail: other.to_string(),
            },
        }
    }
}

/// Why a body broke off, for the manifest and messages.
pub(super) fn cut_reason(e: &ureq::Error, per_read: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => {
            format!(
                "nothing received for {} s (read timeout)",
                per_read.as_secs()
            )
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the connection closed before the end of the body".to_owned()
        }
        ureq::Error::Io(io) => format!("the connection broke ({io})"),
        other => other.to_string(),
    }
}

/// The first non-empty line of an error page, at most 200 characters.
fn first_line(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut s: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        s.push('…');
    }
    s
}
