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
/// HTTP connection's read loop) its entry function; failing that the
/// innermost frame.
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
            // Runtime-only goroutines (GC workers): where they wait.
            table.frames(stack).next()
        } else {
            Some(entry)
        }
    })
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
        assert_eq!(leak_site(&t, StackId::EMPTY), None);
    }
}
