//! Wait reasons told from stacks, for dialects that do not print them.
//!
//! Protobuf goroutine profiles keep the runtime frames a goroutine parked
//! in (`runtime.chansend1`, `runtime.selectgo`), and `debug=1` keeps the
//! wait wrappers (`sync.runtime_SemacquireMutex`, `time.Sleep`). Each names
//! the wait reason `debug=2` would print, so all dialects can show one.

use super::frames::{self, FrameClass};
use crate::model::{StackId, StackTable};

/// Wait reason as the runtime's traceback names it, for the runtime or
/// wrapper function a goroutine parked in.
fn reason_of(function: &str) -> Option<&'static str> {
    Some(match function {
        "runtime.chansend" | "runtime.chansend1" => "chan send",
        "runtime.chanrecv" | "runtime.chanrecv1" | "runtime.chanrecv2" => "chan receive",
        "runtime.selectgo" => "select",
        "runtime.block" => "select (no cases)",
        "sync.runtime_SemacquireMutex" | "internal/sync.runtime_SemacquireMutex" => {
            "sync.Mutex.Lock"
        }
        "sync.runtime_SemacquireRWMutexR" => "sync.RWMutex.RLock",
        "sync.runtime_SemacquireRWMutex" => "sync.RWMutex.Lock",
        "sync.runtime_SemacquireWaitGroup" => "sync.WaitGroup.Wait",
        "sync.runtime_Semacquire" | "internal/sync.runtime_Semacquire" => "semacquire",
        "sync.runtime_notifyListWait" => "sync.Cond.Wait",
        "time.Sleep" => "sleep",
        "internal/poll.runtime_pollWait" => "IO wait",
        "os/signal.signal_recv" => "syscall",
        "syscall.Syscall"
        | "syscall.Syscall6"
        | "syscall.RawSyscall"
        | "syscall.RawSyscall6"
        | "internal/runtime/syscall.Syscall6"
        | "runtime.cgocall" => "syscall",
        _ => return None,
    })
}

/// The wait reason a stack shows, looking only at its innermost frames: the
/// runtime and wrapper frames on top and the first frame below them.
pub fn infer_wait_reason(table: &StackTable, stack: StackId) -> Option<&'static str> {
    for frame in table.frames(stack) {
        let function = table.function(frame);
        if let Some(reason) = reason_of(function) {
            return Some(reason);
        }
        match frames::classify(table, frame) {
            FrameClass::Runtime | FrameClass::WaitWrapper => continue,
            _ => return None,
        }
    }
    None
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
        assert_eq!(infer_wait_reason(&t, s), Some("chan send"));
        // A running goroutine: its top frame is ordinary code.
        let sleep = t.intern_frame("time.Sleep", "runtime/time.go", 4);
        let s = t.intern_inner_first(&[app, sleep]);
        assert_eq!(infer_wait_reason(&t, s), None);
        let s = t.intern_inner_first(&[sleep, app]);
        assert_eq!(infer_wait_reason(&t, s), Some("sleep"));
    }
}
