//! One vocabulary for what a goroutine is doing: the state a dump prints
//! in `goroutine N [...]`, the block reason of a trace, and the reason told
//! from a stack's runtime frames all become one [`WaitReason`].
//!
//! Go names the same wait differently in different places: a dump says
//! `select (no cases)` where a trace says `forever`, `IO wait` where a
//! trace says `network`, and `sync.Mutex.Lock`, `sync.WaitGroup.Wait` and
//! `semacquire` are all `sync` in a trace. Reading every one of them into
//! the same enum is what lets a goroutine read the same in snapshot groups,
//! trace groups, lanes, the CLI and the report, and lets colours be picked
//! with a `match` instead of string tests per span. The wording shown for
//! each reason is the dump's, the one Go users know best.

use super::intern::StrId;
use super::stack::StackTable;

/// What a goroutine is doing, finer than [`super::StateKind`].
///
/// Reasons Go adds in later releases, and runtime-internal ones nobody
/// needs to tell apart, are kept as [`WaitReason::Other`] with their text
/// and a [`WaitCategory`] told from it, so nothing is lost or miscoloured.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WaitReason {
    /// The dialect does not say and the stack does not tell.
    Unknown,
    /// On a CPU: not waiting at all, so never a leak by itself.
    Running,
    /// Ready to run, waiting only for a P: a sign of load, not of a leak.
    Runnable,
    /// In a system call or cgo: held by the OS, not by Go code.
    Syscall,
    /// Blocked sending on a channel nobody receives from: the commonest leak.
    ChanSend,
    /// Blocked receiving from a channel nobody sends on or closes.
    ChanReceive,
    /// A send on a nil channel: blocked forever.
    ChanSendNil,
    /// A receive from a nil channel: blocked forever.
    ChanReceiveNil,
    /// Blocked in a `select` until one of its cases can proceed.
    Select,
    /// `select {}`: blocked forever.
    SelectNoCases,
    /// Waiting for `sync.Mutex.Lock`: a lock never released leaks every later
    /// caller.
    MutexLock,
    /// Waiting for a read lock of a `sync.RWMutex`, held up by a writer.
    RWMutexRLock,
    /// Waiting for the write lock of a `sync.RWMutex`, held up by readers or a
    /// writer.
    RWMutexLock,
    /// Waiting in `sync.WaitGroup.Wait` for a count that may never reach zero.
    WaitGroupWait,
    /// Waiting in `sync.Cond.Wait` for a signal that may never come.
    CondWait,
    /// A semaphore (`sync` internals, `x/sync/semaphore`).
    Semacquire,
    /// A trace's `sync`, where the stack does not say which primitive.
    Sync,
    /// A trace's `forever`, where the stack does not say which kind.
    Forever,
    /// In `time.Sleep`: wakes by itself, so never a leak by itself.
    Sleep,
    /// Network or file IO through the netpoller (`IO wait`, a trace's `network`).
    IoWait,
    /// Stopped by the scheduler (`preempted`, `runtime.Gosched`).
    Preempted,
    /// One of the runtime's own goroutines (GC workers, the finalizer),
    /// parked where no reason was recorded: a trace's goroutines that were
    /// already waiting when it began. Dumps name these waits (`GC sweep
    /// wait`, `finalizer wait`); all are the runtime's family.
    RuntimeInternal,
    /// Any other text Go prints, with its category.
    Other(StrId, WaitCategory),
}

/// Families of waits, for colours and legends: one colour per family, the
/// same in dumps and traces.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WaitCategory {
    /// On a CPU.
    Running,
    /// Ready to run.
    Runnable,
    /// In a system call or cgo.
    Syscall,
    /// A channel send or receive.
    Channel,
    /// A `select` with cases.
    Select,
    /// Mutexes, wait groups, conditions, semaphores.
    Sync,
    /// Network or file IO through the netpoller.
    Io,
    /// `time.Sleep` and timers.
    Sleep,
    /// `select {}` and nil channels: nothing can ever wake them.
    Forever,
    /// The runtime's own goroutines and waits (GC workers, finalizers).
    Runtime,
    /// Nothing says what it is doing.
    Unknown,
}

impl WaitCategory {
    /// Every category, in legend order.
    pub const ALL: [WaitCategory; 11] = [
        WaitCategory::Running,
        WaitCategory::Runnable,
        WaitCategory::Syscall,
        WaitCategory::Channel,
        WaitCategory::Select,
        WaitCategory::Sync,
        WaitCategory::Io,
        WaitCategory::Sleep,
        WaitCategory::Forever,
        WaitCategory::Runtime,
        WaitCategory::Unknown,
    ];

    /// What the category covers, for legends.
    pub fn label(self) -> &'static str {
        match self {
            WaitCategory::Running => "running",
            WaitCategory::Runnable => "runnable",
            WaitCategory::Syscall => "syscall",
            WaitCategory::Channel => "chan send / receive",
            WaitCategory::Select => "select",
            WaitCategory::Sync => "mutex / wait group / cond",
            WaitCategory::Io => "IO / network",
            WaitCategory::Sleep => "sleep",
            WaitCategory::Forever => "forever (select {}, nil chan)",
            WaitCategory::Runtime => "runtime internal",
            WaitCategory::Unknown => "state not recorded",
        }
    }
}

impl WaitReason {
    /// Reads a state or reason as a dump or a trace prints it. Text this
    /// build does not know is interned into `table` as [`WaitReason::Other`].
    pub fn parse(text: &str, table: &mut StackTable) -> WaitReason {
        match Self::known(text) {
            Some(r) => r,
            None => WaitReason::Other(table.intern_str(text), category_of_text(text)),
        }
    }

    /// Like [`WaitReason::parse`] for text already in the table.
    pub fn from_str_id(id: StrId, table: &StackTable) -> WaitReason {
        let text = table.str(id);
        Self::known(text).unwrap_or_else(|| WaitReason::Other(id, category_of_text(text)))
    }

    /// The reasons this build names, in both vocabularies.
    pub fn known(text: &str) -> Option<WaitReason> {
        use WaitReason::*;
        Some(match text {
            "" => Unknown,
            "running" => Running,
            "runnable" => Runnable,
            "syscall" => Syscall,
            "chan send" => ChanSend,
            "chan receive" => ChanReceive,
            "chan send (nil chan)" => ChanSendNil,
            "chan receive (nil chan)" => ChanReceiveNil,
            "select" => Select,
            "select (no cases)" => SelectNoCases,
            "sync.Mutex.Lock" => MutexLock,
            "sync.RWMutex.RLock" => RWMutexRLock,
            "sync.RWMutex.Lock" => RWMutexLock,
            "sync.WaitGroup.Wait" => WaitGroupWait,
            "sync.Cond.Wait" | "sync.(*Cond).Wait" => CondWait,
            "semacquire" => Semacquire,
            "sync" => Sync,
            "forever" => Forever,
            "sleep" => Sleep,
            "IO wait" | "network" => IoWait,
            "preempted" | "runtime.Gosched" => Preempted,
            _ => return None,
        })
    }

    /// The reason as a dump prints it.
    pub fn text(self, table: &StackTable) -> &str {
        use WaitReason::*;
        match self {
            Unknown => "unknown",
            Running => "running",
            Runnable => "runnable",
            Syscall => "syscall",
            ChanSend => "chan send",
            ChanReceive => "chan receive",
            ChanSendNil => "chan send (nil chan)",
            ChanReceiveNil => "chan receive (nil chan)",
            Select => "select",
            SelectNoCases => "select (no cases)",
            MutexLock => "sync.Mutex.Lock",
            RWMutexRLock => "sync.RWMutex.RLock",
            RWMutexLock => "sync.RWMutex.Lock",
            WaitGroupWait => "sync.WaitGroup.Wait",
            CondWait => "sync.Cond.Wait",
            Semacquire => "semacquire",
            Sync => "sync",
            Forever => "forever",
            Sleep => "sleep",
            IoWait => "IO wait",
            Preempted => "preempted",
            RuntimeInternal => "runtime wait",
            Other(s, _) => table.str(s),
        }
    }

    /// The family of the reason, which picks its colour: one `match`, no string
    /// tests per span.
    pub fn category(self) -> WaitCategory {
        use WaitReason::*;
        match self {
            Unknown => WaitCategory::Unknown,
            Running => WaitCategory::Running,
            Runnable | Preempted => WaitCategory::Runnable,
            Syscall => WaitCategory::Syscall,
            ChanSend | ChanReceive => WaitCategory::Channel,
            ChanSendNil | ChanReceiveNil | SelectNoCases | Forever => WaitCategory::Forever,
            Select => WaitCategory::Select,
            MutexLock | RWMutexRLock | RWMutexLock | WaitGroupWait | CondWait | Semacquire
            | Sync => WaitCategory::Sync,
            Sleep => WaitCategory::Sleep,
            IoWait => WaitCategory::Io,
            RuntimeInternal => WaitCategory::Runtime,
            Other(_, c) => c,
        }
    }

    /// Whether the goroutine is parked, waiting for something to wake it.
    pub fn is_waiting(self) -> bool {
        !matches!(
            self.category(),
            WaitCategory::Running
                | WaitCategory::Runnable
                | WaitCategory::Syscall
                | WaitCategory::Unknown
        )
    }

    /// Whether `self` is a coarse reason (a trace's `sync` or `forever`)
    /// that `finer`, told from the stack, makes precise.
    pub fn refined_by(self, finer: WaitReason) -> WaitReason {
        use WaitReason::*;
        match (self, finer) {
            (Unknown, f) => f,
            (Sync | Semacquire, f) if f.category() == WaitCategory::Sync => f,
            (Forever, ChanSend | ChanSendNil) => ChanSendNil,
            (Forever, ChanReceive | ChanReceiveNil) => ChanReceiveNil,
            (Forever, SelectNoCases) => SelectNoCases,
            (s, _) => s,
        }
    }
}

/// The family of a reason this build does not name, by the words Go uses.
fn category_of_text(text: &str) -> WaitCategory {
    let starts = |p: &str| text.starts_with(p);
    if starts("chan ") {
        WaitCategory::Channel
    } else if starts("select") {
        WaitCategory::Select
    } else if starts("sync.") || starts("semacquire") {
        WaitCategory::Sync
    } else if text.contains("IO wait") || starts("network") {
        WaitCategory::Io
    } else if starts("sleep") {
        WaitCategory::Sleep
    } else {
        WaitCategory::Runtime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_vocabularies_read_the_same() {
        let mut t = StackTable::default();
        let p = |s: &str, t: &mut StackTable| WaitReason::parse(s, t);
        assert_eq!(p("IO wait", &mut t), p("network", &mut t));
        assert_eq!(p("sync.Cond.Wait", &mut t), p("sync.(*Cond).Wait", &mut t));
        assert_eq!(
            p("forever", &mut t).refined_by(WaitReason::SelectNoCases),
            p("select (no cases)", &mut t)
        );
        assert_eq!(
            p("sync", &mut t).refined_by(WaitReason::WaitGroupWait),
            WaitReason::WaitGroupWait
        );
        // A stated reason is never overridden by a guess of another family.
        assert_eq!(
            WaitReason::ChanSend.refined_by(WaitReason::Sleep),
            WaitReason::ChanSend
        );
    }

    #[test]
    fn unknown_text_keeps_its_words_and_family() {
        let mut t = StackTable::default();
        let r = WaitReason::parse("chan receive (durable)", &mut t);
        assert_eq!(r.text(&t), "chan receive (durable)");
        assert_eq!(r.category(), WaitCategory::Channel);
        let gc = WaitReason::parse("GC worker (idle)", &mut t);
        assert_eq!(gc.category(), WaitCategory::Runtime);
        assert!(gc.is_waiting());
        assert!(!WaitReason::Runnable.is_waiting());
    }
}
