//! Wait reasons told from stacks, for inputs that do not print them.
//!
//! Protobuf goroutine profiles keep the runtime frames a goroutine parked
//! in (`runtime.chansend1`, `runtime.selectgo`), `debug=1` keeps the wait
//! wrappers (`sync.runtime_SemacquireMutex`, `time.Sleep`), and a trace's
//! block stack starts at the blocking primitive (`sync.(*Mutex).Lock`).
//! Each names the reason `debug=2` would print, so every input can show
//! one, in the one vocabulary of [`WaitReason`]: a trace's coarse `sync` or
//! `forever` is made precise by the same frames.

use super::frames::{self, FrameClass};
use crate::model::{StackId, StackTable, StrId, WaitCategory, WaitReason};

/// The reason the runtime's traceback names, for the runtime, wrapper or
/// primitive function a goroutine parked in.
fn reason_of(function: &str) -> Option<WaitReason> {
    use WaitReason::*;
    Some(match function {
        "runtime.chansend" | "runtime.chansend1" => ChanSend,
        "runtime.chanrecv" | "runtime.chanrecv1" | "runtime.chanrecv2" => ChanReceive,
        "runtime.selectgo" => Select,
        "runtime.block" => SelectNoCases,
        "sync.runtime_SemacquireMutex"
        | "internal/sync.runtime_SemacquireMutex"
        | "sync.(*Mutex).Lock"
        | "internal/sync.(*Mutex).Lock" => MutexLock,
        "sync.runtime_SemacquireRWMutexR" | "sync.(*RWMutex).RLock" => RWMutexRLock,
        "sync.runtime_SemacquireRWMutex" | "sync.(*RWMutex).Lock" => RWMutexLock,
        "sync.runtime_SemacquireWaitGroup" | "sync.(*WaitGroup).Wait" => WaitGroupWait,
        "sync.runtime_Semacquire"
        | "internal/sync.runtime_Semacquire"
        | "runtime.semacquire"
        | "runtime.semacquire1" => Semacquire,
        "sync.runtime_notifyListWait" | "sync.(*Cond).Wait" => CondWait,
        "time.Sleep" => Sleep,
        "internal/poll.runtime_pollWait" | "runtime.netpollblock" => IoWait,
        "os/signal.signal_recv"
        | "syscall.Syscall"
        | "syscall.Syscall6"
        | "syscall.RawSyscall"
        | "syscall.RawSyscall6"
        | "internal/runtime/syscall.Syscall6"
        | "runtime.cgocall" => Syscall,
        _ => return None,
    })
}

/// Frames looked through past a bare semaphore for the primitive that
/// uses it (`sync.(*Mutex).lockSlow`, then `sync.(*Mutex).Lock`).
const SEMAPHORE_CALLERS: usize = 3;

/// The wait reason a stack shows, looking only at its innermost frames: the
/// runtime and wrapper frames on top and the first frame below them.
///
/// A bare semaphore is named by the `sync` primitive just outside it when
/// there is one: Go before 1.25 prints `semacquire` for a `WaitGroup`, and a
/// trace's stack starts at `sync.(*WaitGroup).Wait`, so both read
/// `sync.WaitGroup.Wait`, as newer Go prints it.
pub fn infer_wait_reason(table: &StackTable, stack: StackId) -> Option<WaitReason> {
    let mut frames = table.frames(stack);
    while let Some(frame) = frames.next() {
        if let Some(reason) = reason_of(table.function(frame)) {
            if reason != WaitReason::Semacquire {
                return Some(reason);
            }
            let finer = frames
                .filter(|&f| reason_of(table.function(f)) != Some(WaitReason::Semacquire))
                .take(SEMAPHORE_CALLERS)
                .filter_map(|f| reason_of(table.function(f)))
                .find(|r| r.category() == WaitCategory::Sync);
            return Some(finer.unwrap_or(reason));
        }
        match frames::classify(table, frame) {
            FrameClass::Runtime | FrameClass::WaitWrapper => continue,
            _ => return None,
        }
    }
    None
}

/// A goroutine's reason: what its input states (`stated`, the text of a
/// dump's brackets or a trace's block reason; empty where it says nothing),
/// made precise by its stack where the stated one is coarse or missing.
pub fn wait_reason(table: &StackTable, stated: StrId, stack: StackId) -> WaitReason {
    let stated = WaitReason::from_str_id(stated, table);
    match stated {
        WaitReason::Unknown | WaitReason::Sync | WaitReason::Forever | WaitReason::Semacquire => {
            stated.refined_by(infer_wait_reason(table, stack).unwrap_or(WaitReason::Unknown))
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_from_runtime_frames() {
        let mut t = StackTable::default();
        let park = t.intern_frame("runtime.gopark", "runtime/proc.go", 1);
        let send = t.intern_frame("runtime.chansend1", "runtime/chan.go", 2);
        let app = t.intern_frame("main.f", "main.go", 3);
        let s = t.intern_inner_first(&[park, send, app]);
        assert_eq!(infer_wait_reason(&t, s), Some(WaitReason::ChanSend));
        // A running goroutine: its top frame is ordinary code.
        let sleep = t.intern_frame("time.Sleep", "runtime/time.go", 4);
        let s = t.intern_inner_first(&[app, sleep]);
        assert_eq!(infer_wait_reason(&t, s), None);
        let s = t.intern_inner_first(&[sleep, app]);
        assert_eq!(infer_wait_reason(&t, s), Some(WaitReason::Sleep));
    }

    #[test]
    fn trace_reasons_made_precise_by_the_stack() {
        let mut t = StackTable::default();
        let wg = t.intern_frame("sync.(*WaitGroup).Wait", "sync/waitgroup.go", 1);
        let block = t.intern_frame("runtime.block", "runtime/select.go", 2);
        let app = t.intern_frame("main.f", "main.go", 3);
        let wait = t.intern_inner_first(&[wg, app]);
        let forever = t.intern_inner_first(&[block, app]);
        let sync = t.intern_str("sync");
        let fv = t.intern_str("forever");
        assert_eq!(wait_reason(&t, sync, wait), WaitReason::WaitGroupWait);
        assert_eq!(wait_reason(&t, fv, forever), WaitReason::SelectNoCases);
        // The same goroutine in a dump: the stated reason is kept.
        let stated = t.intern_str("select (no cases)");
        assert_eq!(wait_reason(&t, stated, forever), WaitReason::SelectNoCases);
        let bare = t.intern_inner_first(&[app]);
        assert_eq!(wait_reason(&t, StrId::EMPTY, bare), WaitReason::Unknown);
    }
}
