//! The service to poll, from a URL as people paste it.
//!
//! People paste `host:6060`, `http://host:6060/debug/pprof/`, the goroutine
//! URL they just curled (`…/debug/pprof/goroutine?debug=2`) or a prefixed
//! mount (`https://gw/svc/debug/pprof/heap`). All of these name the same
//! thing, the folder of pprof endpoints, so a [`Target`] keeps that folder
//! and builds each endpoint's URL from it.

use super::error::LiveError;

/// Profile names `net/http/pprof` serves, so that a pasted profile URL
/// outside `/debug/pprof/` still finds its folder.
const PROFILE_NAMES: &[&str] = &[
    "allocs",
    "block",
    "cmdline",
    "goroutine",
    "goroutineleak",
    "heap",
    "mutex",
    "profile",
    "symbol",
    "threadcreate",
    "trace",
];

/// `http` or `https`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP, the usual pprof listener on a local or internal port.
    Http,
    /// HTTPS, possibly with a private CA or client certificate ([`super::TlsFiles`]).
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`, as written in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Scheme, host and port: what a redirect may not change silently.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// A change from https to http would expose headers: not followed.
    pub scheme: Scheme,
    /// Lowercase; IPv6 addresses in brackets.
    pub host: String,
    /// The port connected to, the scheme's default when the URL has none.
    pub port: u16,
}

/// The pprof folder of one service.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    origin: Origin,
    /// The port as written, so URLs print the way people wrote them.
    explicit_port: bool,
    /// Starts and ends with `/`: `/debug/pprof/`.
    base_path: String,
    /// `user:password` from the URL, sent as HTTP Basic authentication.
    basic_auth: Option<String>,
}

/// Credentials stay out of debug output.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("base_url", &self.base_url())
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Where a redirect points, relative to the page that sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// Same scheme, host and port: safe to follow with our headers.
    SameOrigin(String),
    /// Anywhere else: reported, never followed silently.
    OtherOrigin(String),
}

impl Target {
    /// Reads a URL as people paste it; see the module doc.
    pub fn parse(input: &str) -> Result<Target, LiveError> {
        let bad = |reason: &str| LiveError::BadUrl {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(&format!("it contains {c:?}")));
        }
        let listen_address = !text.contains("://");
        let (scheme, rest) = match text.split_once("://") {
            Some((s, rest)) => {
                let scheme = match s.to_ascii_lowercase().as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    _ => return Err(bad("only http:// and https:// URLs are supported")),
                };
                (scheme, rest)
            }
            None => (Scheme::Http, text),
        };
        let rest = rest.split('#').next().unwrap_or("");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport, listen_address).map_err(bad)?;
        let path = path_and_query.split('?').next().unwrap_or("");
        let basic_auth = match userinfo {
            Some(u) if !u.is_empty() => Some(percent_decode(u).ok_or_else(|| {
                bad("the user name or password in it is not valid percent-encoded UTF-8")
            })?),
            _ => None,
        };
        Ok(Target {
            origin: Origin {
                scheme,
                host,
                port: port.unwrap_or(scheme.default_port()),
            },
            explicit_port: port.is_some(),
            base_path: base_path(path),
            basic_auth,
        })
    }

    /// The pprof folder's URL, without credentials: `http://host:6060/debug/pprof/`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin_url(), self.base_path)
    }

    /// The URL of one endpoint in the folder: `url("goroutine?debug=2")`.
    pub fn url(&self, endpoint: &str) -> String {
        format!("{}{}", self.base_url(), endpoint)
    }

    /// Where requests may go; redirects elsewhere are refused.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// `host-6060`, for folder names.
    pub fn label(&self) -> String {
        crate::formats::session_dir::instance_label(
            &self.origin.host,
            &self.origin.port.to_string(),
        )
    }

    /// `user:password` from the URL, if it had one.
    pub(crate) fn basic_auth(&self) -> Option<&str> {
        self.basic_auth.as_deref()
    }

    fn origin_url(&self) -> String {
        if self.explicit_port {
            format!(
                "{}://{}:{}",
                self.origin.scheme.as_str(),
                self.origin.host,
                self.origin.port
            )
        } else {
            format!("{}://{}", self.origin.scheme.as_str(), self.origin.host)
        }
    }

    /// Resolves a `Location` header sent in answer to `from` (a URL this
    /// target built) and says whether it stays on our origin.
    pub fn resolve_redirect(&self, from: &str, location: &str) -> Redirect {
        let location = location.trim();
        let absolute = if location.contains("://") {
            location.to_owned()
        } else if let Some(rest) = location.strip_prefix("//") {
            format!("{}://{rest}", self.origin.scheme.as_str())
        } else if location.starts_with('/') {
            format!("{}{location}", self.origin_url())
        } else {
            // Relative to the folder of the page that redirected.
            let path = from.split('?').next().unwrap_or(from);
            let folder = path.rfind('/').map_or(path, |i| &path[..=i]);
            format!("{folder}{location}")
        };
        match Target::parse(&absolute) {
            Ok(t) if t.origin == self.origin => Redirect::SameOrigin(absolute),
            _ => Redirect::OtherOrigin(absolute),
        }
    }
}

/// `host`, `host:port`, `[::1]:port`.
/// Where a port given without a host points: this machine, over IPv4,
/// where Go's `:6060` listeners are always reachable.
const LOOPBACK: &str = "127.0.0.1";

/// Splits `host:port`. Given as a listen address (no scheme), a missing host
/// means this machine: `:6060` and a bare `6060`.
fn split_host_port(
    hostport: &str,
    listen_address: bool,
) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address misses its closing ']'")?;
        if inside.is_empty()
            || !inside
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("the IPv6 address in brackets is not valid");
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("unexpected text after ']'")?),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match hostport.rsplit_once(':') {
            // `:6060`, as Go's own listen addresses read: this machine.
            Some(("", p)) if listen_address => (LOOPBACK, Some(p)),
            Some((h, p)) => (h, Some(p)),
            // A bare port (`6060`) is never a host name: this machine too
            // (it was resolved as the address 0.0.23.172).
            None if listen_address
                && !hostport.is_empty()
                && hostport.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (LOOPBACK, Some(hostport))
            }
            None => (hostport, None),
        };
        if host.contains(':') {
            return Err("write an IPv6 address in brackets: http://[::1]:6060/");
        }
        if host.is_empty() {
            return Err("it has no host name");
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err("the host name has characters a host name cannot have");
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err("the port is not a number from 1 to 65535"),
            Ok(n) => Some(n),
        },
    };
    Ok((host, port))
}

/// The pprof folder a pasted path names; see the module doc.
fn base_path(path: &str) -> String {
    const MARK: &str = "/debug/pprof";
    if let Some(i) = path.find(MARK) {
        let end = i + MARK.len();
        // `/debug/pprofx` is some other path.
        if matches!(path.as_bytes().get(end), None | Some(b'/')) {
            return format!("{}/", &path[..end]);
        }
    }
    if path.is_empty() || path == "/" {
        return "/debug/pprof/".to_owned();
    }
    if path.ends_with('/') {
        return path.to_owned();
    }
    match path.rsplit_once('/') {
        Some((folder, last)) if PROFILE_NAMES.contains(&last) => format!("{folder}/"),
        _ => format!("{path}/"),
    }
}

/// `%XX` decoding of URL user info.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> String {
        Target::parse(s).unwrap().base_url()
    }

    #[test]
    fn reads_urls_as_people_paste_them() {
        assert_eq!(base("host:6060"), "http://host:6060/debug/pprof/");
        assert_eq!(base("  HOST:6060 "), "http://host:6060/debug/pprof/");
        assert_eq!(base("http://host:6060"), "http://host:6060/debug/pprof/");
        assert_eq!(base("http://host:6060/"), "http://host:6060/debug/pprof/");
        assert_eq!(
            base("http://host:6060/debug/pprof"),
            "http://host:6060/debug/pprof/"
        );
        assert_eq!(
            base("http://host:6060/debug/pprof/goroutine?debug=2"),
            "http://host:6060/debug/pprof/"
        );
        assert_eq!(
            base("https://gw.example/svc/a/debug/pprof/heap#x"),
            "https://gw.example/svc/a/debug/pprof/"
        );
        assert_eq!(
            base("https://gw.example/admin/pprof/goroutine"),
            "https://gw.example/admin/pprof/"
        );
        assert_eq!(
            base("https://gw.example/admin/pprof"),
            "https://gw.example/admin/pprof/"
        );
        assert_eq!(base("[::1]:6060"), "http://[::1]:6060/debug/pprof/");
        assert_eq!(base("127.0.0.1:6060"), "http://127.0.0.1:6060/debug/pprof/");
        let t = Target::parse("https://svc").unwrap();
        assert_eq!(t.origin().port, 443);
        assert_eq!(
            t.url("trace?seconds=5"),
            "https://svc/debug/pprof/trace?seconds=5"
        );
        assert_eq!(Target::parse("host:6060").unwrap().label(), "host-6060");
        // A port alone, as Go's listen addresses read, is this machine.
        assert_eq!(base("9090"), "http://127.0.0.1:9090/debug/pprof/");
        assert_eq!(base(":9090"), "http://127.0.0.1:9090/debug/pprof/");
        assert_eq!(
            base("9090/debug/pprof/"),
            "http://127.0.0.1:9090/debug/pprof/"
        );
    }

    #[test]
    fn keeps_credentials_out_of_urls() {
        let t = Target::parse("http://ops:s%3Acret@host:6060/debug/pprof/").unwrap();
        assert_eq!(t.base_url(), "http://host:6060/debug/pprof/");
        assert_eq!(t.basic_auth(), Some("ops:s:cret"));
        assert!(!format!("{t:?}").contains("cret"));
    }

    #[test]
    fn refuses_what_is_not_a_url_with_a_reason() {
        for (input, reason) in [
            ("", "empty"),
            ("ftp://host/", "http:// and https://"),
            ("http://:6060/", "no host"),
            ("host:99999", "port"),
            ("host:abc", "port"),
            ("::1:6060", "brackets"),
            ("http://ho st/", "' '"),
            ("http://h$st/", "host name"),
        ] {
            let err = Target::parse(input).unwrap_err().to_string();
            assert!(err.contains(reason), "{input:?}: {err}");
            assert!(err.contains(&format!("{input:?}")), "{err}");
        }
    }

    #[test]
    fn redirects_are_same_origin_or_not() {
        let t = Target::parse("http://host:6060").unwrap();
        let from = t.url("goroutine");
        assert_eq!(
            t.resolve_redirect(&from, "/debug/pprof/goroutine?x=1"),
            Redirect::SameOrigin("http://host:6060/debug/pprof/goroutine?x=1".into())
        );
        assert_eq!(
            t.resolve_redirect(&from, "heap"),
            Redirect::SameOrigin("http://host:6060/debug/pprof/heap".into())
        );
        assert_eq!(
            t.resolve_redirect(&from, "http://HOST:6060/debug/pprof/"),
            Redirect::SameOrigin("http://HOST:6060/debug/pprof/".into())
        );
        assert_eq!(
            t.resolve_redirect(&from, "https://sso.example/login"),
            Redirect::OtherOrigin("https://sso.example/login".into())
        );
        assert_eq!(
            t.resolve_redirect(&from, "//evil.example/x"),
            Redirect::OtherOrigin("http://evil.example/x".into())
        );
        assert_eq!(
            t.resolve_redirect(&from, "http://host:6061/"),
            Redirect::OtherOrigin("http://host:6061/".into())
        );
    }
}
