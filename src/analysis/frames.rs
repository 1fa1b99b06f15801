//! What kind of code a frame belongs to, and where a goroutine's leak site is.
//!
//! Go function names carry their import path (`net/http.(*conn).serve`,
//! `example.com/svc/db.(*Pool).get`), so the standard library is told apart
//! by its first path element having no dot. Third-party modules are told
//! apart from the application by their file paths, which carry a module
//! version (`github.com/lib/pq@v1.10.9/conn.go` with `-trimpath`, or
//! `…/pkg/mod/…@v…/` without) or sit in a `vendor/` directory.

use crate::model::{FrameId, StackId, StackTable};

/// Kinds of code, from least to most interesting for a leak hunt.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FrameClass {
    /// The runtime itself (`runtime.gopark`, `runtime.selectgo`).
    Runtime,
    /// The runtime's entry points in other packages that only park the
    /// goroutine (`sync.runtime_SemacquireMutex`, `internal/poll.runtime_pollWait`).
    WaitWrapper,
    /// The standard library.
    Stdlib,
    /// Modules the application depends on.
    ThirdParty,
    /// The application's own code.
    App,
}

/// The import path of a function's package: `net/http.(*conn).serve` → `net/http`.
pub fn package_path(function: &str) -> &str {
    // Generic type arguments and receivers may hold dots and slashes of
    // their own; the package ends at the first dot after the last slash
    // that comes before them (dots in the last path element are escaped
    // as `%2e` by the linker).
    let head_end = function.find(['[', '(']).unwrap_or(function.len());
    let head = &function[..head_end];
    let last_slash = head.rfind('/').map_or(0, |i| i + 1);
    match function[last_slash..].find('.') {
        Some(dot) => &function[..last_slash + dot],
        None => function,
    }
}

/// The name people read: the function as code in another package calls
/// it, without the import path (`github.com/acme/relay/internal/pubsub.(*Broker).Publish`
/// → `pubsub.(*Broker).Publish`, `example.com/svc/search.Scatter.func1` →
/// `search.Scatter.func1`). Screens show this; tooltips, stack panels and
/// exports keep the full name, which is what identifies the function.
///
/// The package is named by its last path element as Go code names it: a
/// major-version element is skipped (`github.com/jackc/pgx/v5.(*Conn).Query` →
/// `pgx.(*Conn).Query`), the linker's `%2e` is a dot again and a
/// `gopkg.in`-style `.vN` suffix is dropped (`gopkg.in/yaml%2ev3.Unmarshal`
/// → `yaml.Unmarshal`). Generic type arguments, which tracebacks print as
/// `[...]`, become one `…`.
pub fn short_function(function: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let pkg = package_path(function);
    let rest = &function[pkg.len()..];
    let mut elements = pkg.rsplit('/');
    let mut last = elements.next().unwrap_or(pkg);
    if is_major_version(last)
        && let Some(before) = elements.next().filter(|b| !b.contains('.'))
    {
        last = before;
    }
    let name: Cow<'_, str> = if last.len() == pkg.len() {
        Cow::Borrowed(function)
    } else {
        let mut element = last.replace("%2e", ".");
        if let Some((base, version)) = element.rsplit_once('.')
            && is_major_version(version)
            && !base.is_empty()
        {
            element.truncate(base.len());
        }
        Cow::Owned(element + rest)
    };
    if name.contains("[...]") {
        Cow::Owned(name.replace("[...]", "[…]"))
    } else {
        name
    }
}

/// `v2`, `v10`: a module's major-version path element.
fn is_major_version(element: &str) -> bool {
    element.strip_prefix('v').is_some_and(|n| {
        n.len() <= 4 && n.parse::<u32>().is_ok_and(|v| v >= 2) && !n.starts_with('0')
    })
}

/// A source path as screens show it: its last directory and the file
/// (`/home/ci/src/relayhub/internal/pubsub/broker.go` → `pubsub/broker.go`),
/// which names the file among a module's; the full path stays in tooltips.
pub fn short_file(path: &str) -> &str {
    let mut parts = path.rsplitn(3, '/');
    let file = parts.next().unwrap_or(path);
    match parts.next() {
        Some(dir) => &path[path.len() - file.len() - dir.len() - 1..],
        None => file,
    }
}

/// True for runtime internals, which never are the interesting frame.
pub fn is_runtime(function: &str) -> bool {
    function.starts_with("runtime.")
        || function.starts_with("internal/runtime/")
        || function.starts_with("runtime/internal/")
}

/// Compiler-generated wrappers of `go` and `defer` statements with
/// arguments (`main.setup.gowrap2`, `pkg.f.deferwrap1`): tracebacks show
/// them only at `GOTRACEBACK=system` or above, profiles never.
pub fn is_compiler_wrapper(function: &str) -> bool {
    let Some((_, last)) = function.rsplit_once('.') else {
        return false;
    };
    ["gowrap", "deferwrap"].iter().any(|w| {
        last.strip_prefix(w)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn is_wait_wrapper(function: &str) -> bool {
    let pkg = package_path(function);
    (pkg == "sync" || pkg == "internal/poll" || pkg == "internal/sync")
        && function[pkg.len()..].starts_with(".runtime_")
}

/// True where the function's package is part of the Go distribution.
pub fn is_stdlib_package(pkg: &str) -> bool {
    if pkg == "main" || pkg.is_empty() {
        return false;
    }
    let first = pkg.split('/').next().unwrap_or(pkg);
    !first.contains('.')
}

fn is_third_party_file(file: &str) -> bool {
    file.contains("@v") || file.contains("/pkg/mod/") || file.contains("/vendor/")
}

/// Classifies one frame.
pub fn classify(table: &StackTable, frame: FrameId) -> FrameClass {
    let f = table.frame(frame);
    let function = table.str(f.function);
    if is_runtime(function) {
        return FrameClass::Runtime;
    }
    if is_wait_wrapper(function) {
        return FrameClass::WaitWrapper;
    }
    let pkg = package_path(function);
    if is_stdlib_package(pkg) {
        return FrameClass::Stdlib;
    }
    if is_third_party_file(table.str(f.file)) {
        FrameClass::ThirdParty
    } else {
        FrameClass::App
    }
}

/// The frame to name a goroutine group by: the innermost frame of the
/// application's own code; failing that the innermost third-party frame;
/// failing that (a goroutine running only standard-library code, such as an
/// HTTP connection's read loop) its entry function; for the runtime's own
/// goroutines their runtime entry (`runtime.gcBgMarkWorker`).
///
/// Standard-library goroutines are named by what they are, not where they
/// wait: the innermost library frames of an idle HTTP connection, a
/// proxy's read loop and a TLS handshake are all the same plumbing
/// (`internal/poll.(*pollDesc).wait`, `bufio.(*Reader).fill`), which would
/// give three groups one name; their entries (`net/http.(*conn).serve`,
/// `net/http.(*persistConn).readLoop`) tell them apart, and a dump, a
/// profile and a trace of the same goroutine all show the entry.
pub fn leak_site(table: &StackTable, stack: StackId) -> Option<FrameId> {
    let mut third_party = None;
    for frame in table.frames(stack) {
        match classify(table, frame) {
            FrameClass::App => return Some(frame),
            FrameClass::ThirdParty if third_party.is_none() => third_party = Some(frame),
            _ => {}
        }
    }
    third_party.or_else(|| {
        let entry = entry_function(table, stack)?;
        if is_runtime(table.function(entry)) {
            // Runtime-only goroutines (GC workers, the tracer's readers):
            // where they wait is always the scheduler's plumbing
            // (`runtime.gopark`, `runtime.chanrecv1`), which would give them
            // all one name; what they are is their entry.
            runtime_entry(table, stack)
        } else {
            Some(entry)
        }
    })
}

/// The outermost frame of a runtime-only goroutine that is not the
/// scheduler's own start (`runtime.goexit`): `runtime.gcBgMarkWorker`,
/// `runtime.forcegchelper`. A stack cut before its entry gives its
/// outermost frame.
fn runtime_entry(table: &StackTable, stack: StackId) -> Option<FrameId> {
    let mut entry = None;
    for frame in table.frames(stack) {
        let f = table.function(frame);
        if f != "runtime.goexit" && !is_compiler_wrapper(f) {
            entry = Some(frame);
        }
    }
    entry.or_else(|| table.frames(stack).next())
}

/// The goroutine's entry function: its outermost frame that is not runtime
/// plumbing (`runtime.goexit`, `runtime.main`).
pub fn entry_function(table: &StackTable, stack: StackId) -> Option<FrameId> {
    let mut entry = None;
    let mut outermost = None;
    for frame in table.frames(stack) {
        outermost = Some(frame);
        if !is_runtime(table.function(frame)) {
            entry = Some(frame);
        }
    }
    entry.or(outermost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_library_goroutines_are_named_by_their_entry() {
        let mut t = StackTable::default();
        let names = [
            ("internal/poll.runtime_pollWait", "runtime/netpoll.go"),
            (
                "internal/poll.(*pollDesc).wait",
                "internal/poll/fd_poll_runtime.go",
            ),
            ("internal/poll.(*FD).Read", "internal/poll/fd_unix.go"),
            ("net.(*conn).Read", "net/net.go"),
            ("bufio.(*Reader).Peek", "bufio/bufio.go"),
            ("net/http.(*conn).serve", "net/http/server.go"),
            ("runtime.goexit", "runtime/asm_amd64.s"),
        ];
        let frames: Vec<FrameId> = names
            .iter()
            .map(|(f, file)| t.intern_frame(f, file, 1))
            .collect();
        let idle = t.intern_inner_first(&frames);
        let site = leak_site(&t, idle).unwrap();
        assert_eq!(t.function(site), "net/http.(*conn).serve");
        // A trace's block stack of the same goroutine starts lower.
        let trace = t.intern_inner_first(&frames[2..]);
        assert_eq!(
            t.function(leak_site(&t, trace).unwrap()),
            "net/http.(*conn).serve"
        );
        // The application's own frame always wins.
        let app = t.intern_frame("main.handle", "example.com/svc/main.go", 9);
        let mut with_app = frames[..5].to_vec();
        with_app.push(app);
        let s = t.intern_inner_first(&with_app);
        assert_eq!(t.function(leak_site(&t, s).unwrap()), "main.handle");
    }

    #[test]
    fn short_names_drop_the_import_path() {
        let cases = [
            (
                "github.com/northwind/relayhub/internal/pubsub.(*Broker).Publish",
                "pubsub.(*Broker).Publish",
            ),
            (
                "github.com/northwind/relayhub/internal/connpool.(*Pool[...]).Get",
                "connpool.(*Pool[…]).Get",
            ),
            (
                "example.com/svc/search.Scatter.func1",
                "search.Scatter.func1",
            ),
            ("net/http.(*conn).serve", "http.(*conn).serve"),
            ("internal/poll.(*pollDesc).wait", "poll.(*pollDesc).wait"),
            ("main.withRetry[...]", "main.withRetry[…]"),
            ("main.main", "main.main"),
            ("runtime.gopark", "runtime.gopark"),
            ("github.com/jackc/pgx/v5.(*Conn).Query", "pgx.(*Conn).Query"),
            ("gopkg.in/yaml%2ev3.(*parser).parse", "yaml.(*parser).parse"),
            (
                "example.org/acme/svc%2ev2.(*Pool[...]).Get",
                "svc.(*Pool[…]).Get",
            ),
            (
                "golang.org/x/sync/errgroup.(*Group).Go.func1",
                "errgroup.(*Group).Go.func1",
            ),
            ("example.com/v2.Run", "v2.Run"),
            ("nodots", "nodots"),
            ("", ""),
        ];
        for (full, short) in cases {
            assert_eq!(short_function(full), short, "{full}");
        }
        assert_eq!(
            short_file("/tmp/leakscope/go/src/net/http/server.go"),
            "http/server.go"
        );
        assert_eq!(short_file("example.com/leakyd/main.go"), "leakyd/main.go");
        assert_eq!(short_file("main.go"), "main.go");
    }

    #[test]
    fn packages() {
        assert_eq!(package_path("net/http.(*conn).serve"), "net/http");
        assert_eq!(package_path("main.main"), "main");
        assert_eq!(
            package_path("example.com/leakyd/internal/db.(*Pool[...]).Get"),
            "example.com/leakyd/internal/db"
        );
        assert_eq!(
            package_path("gopkg.in/yaml%2ev3.(*parser).parse"),
            "gopkg.in/yaml%2ev3"
        );
        assert_eq!(package_path("sync.(*Mutex).Lock"), "sync");
        assert!(is_stdlib_package("net/http"));
        assert!(is_stdlib_package("vendor/golang.org/x/net/http2/hpack"));
        assert!(!is_stdlib_package("golang.org/x/sync/errgroup"));
        assert!(!is_stdlib_package("main"));
        assert!(is_compiler_wrapper("main.setup.gowrap2"));
        assert!(is_compiler_wrapper("example.com/x.(*T).run.deferwrap1"));
        assert!(!is_compiler_wrapper("main.gowrap"));
        assert!(!is_compiler_wrapper("main.setup.func1"));
    }

    #[test]
    fn leak_site_prefers_app_then_third_party_then_stdlib() {
        let mut t = StackTable::default();
        let park = t.intern_frame("runtime.gopark", "runtime/proc.go", 1);
        let sema = t.intern_frame("sync.runtime_SemacquireMutex", "runtime/sema.go", 2);
        let lock = t.intern_frame("sync.(*Mutex).Lock", "sync/mutex.go", 3);
        let lib = t.intern_frame(
            "github.com/x/pool.(*P).Get",
            "github.com/x/pool@v1.2.0/p.go",
            4,
        );
        let app = t.intern_frame("main.reserve", "example.com/svc/main.go", 5);
        let s = t.intern_inner_first(&[park, sema, lock, lib, app]);
        assert_eq!(leak_site(&t, s), Some(app));
        let s = t.intern_inner_first(&[park, sema, lock, lib]);
        assert_eq!(leak_site(&t, s), Some(lib));
        let s = t.intern_inner_first(&[park, sema, lock]);
        assert_eq!(leak_site(&t, s), Some(lock));
        let s = t.intern_inner_first(&[park]);
        assert_eq!(leak_site(&t, s), Some(park));
        // A runtime goroutine is named by what it is, not by gopark.
        let worker = t.intern_frame("runtime.gcBgMarkWorker", "runtime/mgc.go", 6);
        let goexit = t.intern_frame("runtime.goexit", "runtime/asm_amd64.s", 7);
        let s = t.intern_inner_first(&[park, worker, goexit]);
        assert_eq!(leak_site(&t, s), Some(worker));
        assert_eq!(leak_site(&t, StackId::EMPTY), None);
    }
}
