//! Goroutines as goroutine dumps and goroutine profiles describe them.

use super::intern::StrId;
use super::stack::{LabelSetId, Remap, StackId};

/// Coarse scheduling state, for colouring and filtering; the exact wait reason
/// is kept beside it as a string because Go adds new reasons in new releases.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// On a CPU when the dump was taken (the goroutine that asked for it, at
    /// least).
    Running,
    /// Ready to run, waiting only for a P.
    Runnable,
    /// Blocked on something (channel, lock, IO, sleep): where every leak is.
    Waiting,
    /// In a system call or cgo.
    Syscall,
    /// Created but not started, dead, or a state this build does not know.
    Other,
    /// The dialect does not say (debug=1 and protobuf goroutine profiles).
    Unknown,
}

impl StateKind {
    /// Classifies a state as Go prints it inside `goroutine N [...]`, without
    /// the wait age or `locked to thread`.
    pub fn classify(state: &str) -> StateKind {
        match state {
            "" => StateKind::Unknown,
            "running" => StateKind::Running,
            "runnable" => StateKind::Runnable,
            "syscall" => StateKind::Syscall,
            "idle" | "dead" | "copystack" | "preempted" | "moribund_unused" | "enqueue_unused" => {
                StateKind::Other
            }
            _ => StateKind::Waiting,
        }
    }
}

/// An ancestor printed by `GODEBUG=tracebackancestors=N`: `[originating from goroutine N]:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ancestor {
    /// The ancestor's goroutine id, which may be long gone.
    pub id: u64,
    /// Where the ancestor was when it created the next goroutine in the chain.
    pub stack: StackId,
}

/// One goroutine, or `count` identical ones where the dialect aggregates
/// (debug=1 records and protobuf samples carry a count instead of ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goroutine {
    /// Goroutine id where the dialect prints one.
    pub id: Option<u64>,
    /// How many goroutines this record stands for (1 in full dumps).
    pub count: u64,
    /// Wait reason or state as Go names it (`chan send`, `running`,
    /// `sync.Mutex.Lock`); empty where the dialect does not say and the
    /// stack does not tell.
    pub state: StrId,
    /// The coarse state, for colouring and filtering without reading `state`.
    pub kind: StateKind,
    /// `, N minutes` of the header: how long it has been blocked, rounded down.
    pub wait_minutes: Option<u32>,
    /// Wired to its OS thread (`runtime.LockOSThread`), shown because such a
    /// goroutine also holds a thread.
    pub locked_to_thread: bool,
    /// The runtime itself proved it leaked: `(leaked)` after the state in
    /// dumps (Go 1.26+), or any goroutine of a `goroutineleak` profile.
    pub leaked: bool,
    /// Blocked inside a `testing/synctest` bubble on something only the
    /// bubble can wake (`(durable)`, Go 1.25+): such a wait ends when the
    /// test's fake clock or another bubbled goroutine moves, not a leak.
    pub durable: bool,
    /// The `testing/synctest` bubble it runs in (`synctest bubble N`, Go 1.25+).
    pub synctest_bubble: Option<u64>,
    /// The collector was scanning its stack when the dump was taken
    /// (`(scan)`): a passing moment, not part of the wait.
    pub gc_scan: bool,
    /// pprof labels where the dialect has them (protobuf, `debug=1`, Go 1.27
    /// dumps), to split groups by request kind.
    pub labels: LabelSetId,
    /// Frames innermost first, as printed (runtime frames where the dialect shows them).
    pub stack: StackId,
    /// Frames were left out (`...N frames elided...`, `...additional frames elided...`).
    pub frames_elided: bool,
    /// Where it was created: the `created by` frame in dumps, the creator's stack in traces.
    pub created_by: Option<StackId>,
    /// The goroutine that created it (`created by F in goroutine N`).
    pub creator_id: Option<u64>,
    /// The chain of creators `GODEBUG=tracebackancestors` printed, oldest last:
    /// who started the leak, not just who created the leaked goroutine.
    pub ancestors: Vec<Ancestor>,
}

impl Goroutine {
    /// A goroutine record with only a stack; loaders fill in what their dialect has.
    pub fn new(stack: StackId) -> Goroutine {
        Goroutine {
            id: None,
            count: 1,
            state: StrId::EMPTY,
            kind: StateKind::Unknown,
            wait_minutes: None,
            locked_to_thread: false,
            leaked: false,
            durable: false,
            synctest_bubble: None,
            gc_scan: false,
            labels: LabelSetId::NONE,
            stack,
            frames_elided: false,
            created_by: None,
            creator_id: None,
            ancestors: Vec::new(),
        }
    }

    pub(crate) fn remap(&mut self, map: &Remap) {
        self.state = map.str(self.state);
        self.labels = map.labels(self.labels);
        self.stack = map.stack(self.stack);
        self.created_by = self.created_by.map(|s| map.stack(s));
        for a in &mut self.ancestors {
            a.stack = map.stack(a.stack);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_states() {
        assert_eq!(StateKind::classify("running"), StateKind::Running);
        assert_eq!(
            StateKind::classify("chan receive (nil chan)"),
            StateKind::Waiting
        );
        assert_eq!(
            StateKind::classify("sync.RWMutex.RLock"),
            StateKind::Waiting
        );
        assert_eq!(StateKind::classify("syscall"), StateKind::Syscall);
        assert_eq!(StateKind::classify(""), StateKind::Unknown);
    }
}
