//! A small HTTP/1.1 server on 127.0.0.1 for tests: what a Go service's
//! `net/http/pprof` answers, and the ways services under incident misbehave.
//! Every server binds a random port, answers a bounded number of requests,
//! and stops by itself after a deadline.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Path and query: `/debug/pprof/goroutine?debug=2`.
    pub target: String,
    pub headers: HashMap<String, String>,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does with a request.
#[derive(Clone)]
pub enum Reply {
    /// A complete response with `Content-Length`.
    Full {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// A chunked body sent piece by piece with a pause before each; `cut`
    /// closes the connection instead of ending the body.
    Chunked {
        chunks: Vec<Vec<u8>>,
        pause: Duration,
        cut: bool,
    },
    /// Claims `Content-Length` but sends only part, then closes.
    ShortBody { claimed: usize, body: Vec<u8> },
    /// Reads the request and sends nothing for this long.
    Silence(Duration),
    /// Waits this long, then answers (a stalled service that recovers).
    After(Duration, Box<Reply>),
}

pub fn ok(body: Vec<u8>) -> Reply {
    Reply::Full {
        status: 200,
        headers: vec![("Content-Type", "application/octet-stream".into())],
        body,
    }
}

pub fn status(code: u16, text: &str) -> Reply {
    Reply::Full {
        status: code,
        headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
        body: format!("{text}\n").into_bytes(),
    }
}

pub fn html(body: &str) -> Reply {
    Reply::Full {
        status: 200,
        headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
        body: body.as_bytes().to_vec(),
    }
}

pub type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A server on 127.0.0.1 with a random port, bounded in requests and time.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(
        max_requests: usize,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        Self::on(listener, max_requests, Arc::new(handler))
    }

    pub fn on(listener: TcpListener, max_requests: usize, handler: Arc<Handler>) -> Self {
        Self::on_for(listener, max_requests, Duration::from_secs(60), handler)
    }

    /// A server that lives `lifetime` instead of a minute.
    pub fn start_for(
        max_requests: usize,
        lifetime: Duration,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        Self::on_for(listener, max_requests, lifetime, Arc::new(handler))
    }

    pub fn on_for(
        listener: TcpListener,
        max_requests: usize,
        lifetime: Duration,
        handler: Arc<Handler>,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (Arc::clone(&stop), Arc::clone(&requests));
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + lifetime;
            let mut served = 0;
            let mut workers = Vec::new();
            while served < max_requests && Instant::now() < deadline && !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        served += 1;
                        let (h, r) = (Arc::clone(&handler), Arc::clone(&r));
                        workers.push(std::thread::spawn(move || serve_one(conn, &*h, &r)));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
            drop(listener);
            for w in workers {
                w.join().ok();
            }
        });
        TestServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops accepting and waits for connections in flight.
    pub fn shut_down(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn serve_one(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    conn.set_nonblocking(false).ok();
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    conn.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut reader = BufReader::new(conn.try_clone().unwrap()).take(64 * 1024);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let req = Request { target, headers };
    log.lock().unwrap().push(req.clone());
    let mut conn = conn;
    let mut reply = handler(&req);
    while let Reply::After(d, inner) = reply {
        std::thread::sleep(d);
        reply = *inner;
    }
    let reason = |code: u16| match code {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Other",
    };
    let _ = match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            conn.write_all(head.as_bytes())
                .and_then(|()| conn.write_all(&body))
        }
        Reply::Chunked { chunks, pause, cut } => (|| {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            )?;
            for c in chunks {
                std::thread::sleep(pause);
                conn.write_all(format!("{:x}\r\n", c.len()).as_bytes())?;
                conn.write_all(&c)?;
                conn.write_all(b"\r\n")?;
                conn.flush()?;
            }
            if !cut {
                conn.write_all(b"0\r\n\r\n")?;
            }
            Ok(())
        })(),
        Reply::ShortBody { claimed, body } => conn
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .and_then(|()| conn.write_all(&body)),
        Reply::Silence(d) => {
            std::thread::sleep(d);
            Ok(())
        }
        Reply::After(..) => Ok(()),
    };
    conn.flush().ok();
    conn.shutdown(std::net::Shutdown::Both).ok();
}

pub const INDEX: &str = "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/\n<br>\n\
<p>Set debug=1 as a query parameter to export in legacy text format</p>\n<br>\n\
Types of profiles available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n\
<tr><td>12</td><td><a href='allocs?debug=1'>allocs</a></td></tr>\n\
<tr><td>0</td><td><a href='block?debug=1'>block</a></td></tr>\n\
<tr><td>0</td><td><a href='cmdline?debug=1'>cmdline</a></td></tr>\n\
<tr><td>45</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>\n\
<tr><td>12</td><td><a href='heap?debug=1'>heap</a></td></tr>\n\
<tr><td>0</td><td><a href='mutex?debug=1'>mutex</a></td></tr>\n\
<tr><td>0</td><td><a href='profile?debug=1'>profile</a></td></tr>\n\
<tr><td>9</td><td><a href='threadcreate?debug=1'>threadcreate</a></td></tr>\n\
<tr><td>0</td><td><a href='trace?debug=1'>trace</a></td></tr>\n\
</table>\n<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n</body>\n</html>\n";

/// Splits a body into `n` chunks for a chunked reply.
pub fn chunks(data: &[u8], n: usize) -> Vec<Vec<u8>> {
    data.chunks(data.len().div_ceil(n).max(1))
        .map(<[u8]>::to_vec)
        .collect()
}
