//! A goroutine's scheduling states and how a span began, and the packed
//! one-word form a span is stored in (see the module doc of
//! [`super`] for why a span is one word).

use serde::Serialize;

/// Scheduling state of a goroutine during a span.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GoState {
    /// Ready to run, waiting for a P: time lost to load, not to a leak.
    Runnable,
    /// On a P, executing.
    Running,
    /// Blocked (channel, lock, IO, sleep, ...): where a leak spends its life.
    Waiting,
    /// In a system call or cgo, holding its thread.
    Syscall,
    /// The goroutine exited; the span runs from its exit to the window end.
    Ended,
}

impl GoState {
    /// Lower-case name, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            GoState::Runnable => "runnable",
            GoState::Running => "running",
            GoState::Waiting => "waiting",
            GoState::Syscall => "syscall",
            GoState::Ended => "ended",
        }
    }
}

/// How a span began. Together with the state it says what the span's detail is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SpanCause {
    /// `go` statement inside the window (runnable).
    Created,
    /// Created already waiting (`iter.Pull` coroutines).
    CreatedBlocked,
    /// Came into being in a syscall (a C thread calling into Go).
    CreatedInSyscall,
    /// Scheduled onto a P; [`Span::p`] says which.
    Started,
    /// Yielded or was preempted; reason `runtime.Gosched` or `preempted`.
    Stopped,
    /// Blocked, with a reason and the blocking stack.
    Blocked,
    /// Made runnable by [`Span::unblocker`] (or by the runtime when none).
    Unblocked,
    /// Entered a system call while running.
    SyscallBegan,
    /// Returned from a system call and kept its P, so it runs on at once.
    SyscallEnded,
    /// Returned from a syscall that lost its P; runnable until it gets one.
    SyscallEndedBlocked,
    /// Exited normally.
    Ended,
    /// Exited while in a system call (a C thread leaving Go).
    EndedInSyscall,
    /// Existed before the window; the state is what the trace reported first,
    /// so the span starts at the window start.
    AtTraceStart,
    /// A status event that disagreed with the known state, or a goroutine
    /// first mentioned after the first generation (a damaged trace).
    Status,
}

/// The packed span word, shared by the trace parser and the model.
pub(crate) mod packed {
    pub const DETAIL_BITS: u32 = 25;
    pub const KIND_BITS: u32 = 5;
    pub const TIME_SHIFT: u32 = DETAIL_BITS + KIND_BITS;
    pub const TIME_BITS: u32 = 64 - TIME_SHIFT;
    pub const MAX_TIME: u64 = (1 << TIME_BITS) - 1;
    pub const MAX_DETAIL: u32 = (1 << DETAIL_BITS) - 1;
    const KIND_MASK: u64 = (1 << KIND_BITS) - 1;

    // Kinds stored in the model. The trace parser uses 22..=31 for
    // intermediate markers that never survive into a `Trace`.
    pub const CREATED: u8 = 1;
    pub const CREATED_BLOCKED: u8 = 2;
    pub const CREATED_SYSCALL: u8 = 3;
    pub const STARTED: u8 = 4;
    pub const STOPPED: u8 = 5;
    pub const BLOCKED: u8 = 6;
    pub const UNBLOCKED: u8 = 7;
    pub const SYSCALL_BEGAN: u8 = 8;
    pub const SYSCALL_ENDED: u8 = 9;
    pub const SYSCALL_ENDED_BLOCKED: u8 = 10;
    pub const ENDED: u8 = 11;
    pub const ENDED_IN_SYSCALL: u8 = 12;
    /// `INITIAL + state` for [`super::GoState`] Runnable, Running, Syscall, Waiting
    /// in the wire order of Go's status values (1..=4), minus one.
    pub const INITIAL: u8 = 13;
    /// `STATUS + state`, same order.
    pub const STATUS: u8 = 17;
    pub const LAST_STATUS: u8 = 20;
    /// A coroutine switch into the goroutine: one word for two spans,
    /// Unblocked and Started at the same instant (see `switches`).
    pub const SWITCHED_IN: u8 = 21;

    #[inline]
    pub fn pack(time: u64, kind: u8, detail: u32) -> u64 {
        (time.min(MAX_TIME) << TIME_SHIFT)
            | (u64::from(kind) & KIND_MASK) << DETAIL_BITS
            | u64::from(detail.min(MAX_DETAIL))
    }

    #[inline]
    pub fn time(word: u64) -> u64 {
        word >> TIME_SHIFT
    }

    #[inline]
    pub fn kind(word: u64) -> u8 {
        ((word >> DETAIL_BITS) & KIND_MASK) as u8
    }

    #[inline]
    pub fn detail(word: u64) -> u32 {
        (word & u64::from(MAX_DETAIL)) as u32
    }

    #[inline]
    pub fn with_time(word: u64, time: u64) -> u64 {
        (word & ((1 << TIME_SHIFT) - 1)) | (time.min(MAX_TIME) << TIME_SHIFT)
    }

    #[inline]
    pub fn with_kind(word: u64, kind: u8) -> u64 {
        (word & !(KIND_MASK << DETAIL_BITS)) | (u64::from(kind) & KIND_MASK) << DETAIL_BITS
    }
}

/// Go's wire order of goroutine statuses (1..=4) as states.
pub(crate) fn state_from_status(status: u64) -> Option<GoState> {
    match status {
        1 => Some(GoState::Runnable),
        2 => Some(GoState::Running),
        3 => Some(GoState::Syscall),
        4 => Some(GoState::Waiting),
        _ => None,
    }
}

fn status_offset(state: GoState) -> u8 {
    match state {
        GoState::Runnable => 0,
        GoState::Running => 1,
        GoState::Syscall => 2,
        GoState::Waiting | GoState::Ended => 3,
    }
}

/// Kind of a span that starts in `state` at the window start.
pub(crate) fn initial_kind(state: GoState) -> u8 {
    packed::INITIAL + status_offset(state)
}

/// Kind of a span that starts in `state` because a status event said so.
pub(crate) fn status_kind(state: GoState) -> u8 {
    packed::STATUS + status_offset(state)
}

/// State and cause of a stored kind; `None` for kinds that are never stored.
/// A switch-in word holds two spans; this is its last, the state it leaves
/// the goroutine in, which is what the parser's bookkeeping asks.
pub(crate) fn decode_kind(k: u8) -> Option<(GoState, SpanCause)> {
    use packed::*;
    let from_offset = |k: u8| match k {
        0 => GoState::Runnable,
        1 => GoState::Running,
        2 => GoState::Syscall,
        _ => GoState::Waiting,
    };
    Some(match k {
        CREATED => (GoState::Runnable, SpanCause::Created),
        CREATED_BLOCKED => (GoState::Waiting, SpanCause::CreatedBlocked),
        CREATED_SYSCALL => (GoState::Syscall, SpanCause::CreatedInSyscall),
        STARTED => (GoState::Running, SpanCause::Started),
        STOPPED => (GoState::Runnable, SpanCause::Stopped),
        BLOCKED => (GoState::Waiting, SpanCause::Blocked),
        UNBLOCKED => (GoState::Runnable, SpanCause::Unblocked),
        SYSCALL_BEGAN => (GoState::Syscall, SpanCause::SyscallBegan),
        SYSCALL_ENDED => (GoState::Running, SpanCause::SyscallEnded),
        SYSCALL_ENDED_BLOCKED => (GoState::Runnable, SpanCause::SyscallEndedBlocked),
        ENDED => (GoState::Ended, SpanCause::Ended),
        ENDED_IN_SYSCALL => (GoState::Ended, SpanCause::EndedInSyscall),
        k @ INITIAL..STATUS => (from_offset(k - INITIAL), SpanCause::AtTraceStart),
        k @ STATUS..=LAST_STATUS => (from_offset(k - STATUS), SpanCause::Status),
        SWITCHED_IN => (GoState::Running, SpanCause::Started),
        _ => return None,
    })
}

/// What a span's detail bits mean, by how the span began.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum DetailKind {
    None,
    /// Index into [`Trace::details`].
    ReasonStack,
    /// Goroutine index + 1, 0 for none.
    Goroutine,
    /// P + 1, 0 for none.
    Proc,
    /// Index into [`Trace::switches`] (a switch-in word).
    Switch,
}

pub(crate) fn detail_kind(k: u8) -> DetailKind {
    use packed::*;
    match k {
        STOPPED | BLOCKED | SYSCALL_BEGAN => DetailKind::ReasonStack,
        INITIAL..=LAST_STATUS => DetailKind::ReasonStack,
        UNBLOCKED => DetailKind::Goroutine,
        STARTED | SYSCALL_ENDED => DetailKind::Proc,
        SWITCHED_IN => DetailKind::Switch,
        _ => DetailKind::None,
    }
}
