//! The watcher's own HTTP endpoint: `/metrics` for Prometheus, `/healthz`
//! for whatever restarts sidecars.
//!
//! Safe by default: it listens on 127.0.0.1 unless told otherwise, and an
//! address other hosts can reach needs a bearer token (read from a file, so
//! it is not in the process list) for everything but `/healthz`. Requests
//! are small and bounded: a head of at most 8 KiB read within two seconds,
//! at most `MAX_CONNECTIONS` at once; anything else is refused.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::metrics::Metrics;

/// Largest request head read.
const MAX_HEAD: u64 = 8 * 1024;
/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 16;
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Where and how the endpoint listens.
#[derive(Clone, Debug)]
pub struct ListenConfig {
    /// Where `/metrics` is served; off loopback only with a token (see [`ListenConfig::new`]).
    pub addr: SocketAddr,
    /// The bearer token, when one is required.
    pub token: Option<String>,
}

impl ListenConfig {
    /// Checks the address rule: only loopback without a token.
    pub fn new(addr: SocketAddr, token: Option<String>) -> Result<ListenConfig, String> {
        if !addr.ip().is_loopback() && token.is_none() {
            return Err(format!(
                "listening on {addr} lets other hosts read the metrics: give --token-file FILE (a bearer token for everything but /healthz), or listen on 127.0.0.1"
            ));
        }
        Ok(ListenConfig { addr, token })
    }
}

/// Reads a bearer token from a file: one line, surrounding white space ignored.
pub fn read_token(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_string(&mut text))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let token = text.trim().to_owned();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(format!(
            "{}: expected one token on one line",
            path.display()
        ));
    }
    Ok(token)
}

/// A running endpoint; dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds and starts serving on a thread of its own.
    pub fn start(config: ListenConfig, metrics: Arc<Metrics>) -> std::io::Result<Server> {
        let listener = TcpListener::bind(config.addr)?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let token = config.token.map(Arc::<str>::from);
        let thread = std::thread::Builder::new()
            .name("leakscope-metrics".into())
            .spawn(move || accept_loop(&listener, &s, token, &metrics))?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on (the port chosen when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    stop: &AtomicBool,
    token: Option<Arc<str>>,
    metrics: &Arc<Metrics>,
) {
    let busy = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, _)) => {
                if busy.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                    busy.fetch_sub(1, Ordering::AcqRel);
                    continue;
                }
                let (b, token, metrics) = (Arc::clone(&busy), token.clone(), Arc::clone(metrics));
                let spawned = std::thread::Builder::new()
                    .name("leakscope-metrics-conn".into())
                    .spawn(move || {
                        serve(conn, token.as_deref(), &metrics);
                        b.fetch_sub(1, Ordering::AcqRel);
                    });
                if spawned.is_err() {
                    busy.fetch_sub(1, Ordering::AcqRel);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A request's first line and the one header that matters.
struct Head {
    method: String,
    path: String,
    authorization: Option<String>,
}

fn read_head(conn: &TcpStream) -> Option<Head> {
    let mut reader = BufReader::new(conn.try_clone().ok()?).take(MAX_HEAD);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.trim().eq_ignore_ascii_case("authorization")
        {
            authorization = Some(v.trim().to_owned());
        }
    }
    Some(Head {
        method,
        path,
        authorization,
    })
}

/// Compares without stopping at the first difference, so timing says
/// nothing about how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(head: &Head, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    head.authorization
        .as_deref()
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
}

fn serve(conn: TcpStream, token: Option<&str>, metrics: &Metrics) {
    conn.set_nonblocking(false).ok();
    conn.set_read_timeout(Some(IO_TIMEOUT)).ok();
    conn.set_write_timeout(Some(IO_TIMEOUT)).ok();
    let Some(head) = read_head(&conn) else {
        return;
    };
    let path = head.path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (head.method.as_str(), path) {
        ("GET" | "HEAD", "/healthz") => (200, "text/plain; charset=utf-8", "ok\n".to_owned()),
        ("GET" | "HEAD", _) if !authorized(&head, token) => (
            401,
            "text/plain; charset=utf-8",
            "a bearer token is required\n".to_owned(),
        ),
        ("GET" | "HEAD", "/metrics") => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.encode(),
        ),
        ("GET" | "HEAD", _) => (404, "text/plain; charset=utf-8", "not found\n".to_owned()),
        _ => (405, "text/plain; charset=utf-8", "GET only\n".to_owned()),
    };
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut conn = conn;
    let mut head_text = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 401 {
        head_text.push_str("WWW-Authenticate: Bearer\r\n");
    }
    head_text.push_str("\r\n");
    let send_body = head.method != "HEAD";
    let _ = conn.write_all(head_text.as_bytes()).and_then(|()| {
        if send_body {
            conn.write_all(body.as_bytes())
        } else {
            Ok(())
        }
    });
    conn.flush().ok();
    conn.shutdown(std::net::Shutdown::Both).ok();
}
