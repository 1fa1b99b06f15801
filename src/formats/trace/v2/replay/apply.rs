//! What one event does: to its thread (the goroutine and P it runs), to
//! the goroutines' spans (through the replay's sink) and, on the first
//! replay, to the trace's extras (P spans, GC, annotations).

use super::*;

/// Applies one event of thread `i`.
#[inline(always)]
pub(super) fn apply<S: Sink>(
    e: &Event,
    i: usize,
    ts: &mut [Thread],
    by_m: &FxHashMap<u64, usize>,
    first_gen: bool,
    out: &mut Out<'_, S>,
    collect: Option<&mut Collect<'_>>,
) {
    if matches!(e.typ, ev::GO_STATUS | ev::GO_STATUS_STACK) {
        return status(e, i, ts, by_m, first_gen, out, collect);
    }
    let ex = collect.map(|c| &mut *c.extras);
    match e.typ {
        ev::PROC_START | ev::PROC_STOP | ev::PROC_STEAL | ev::PROC_STATUS => {
            if let Some(t) = ts.get_mut(i) {
                proc_event(e, t, ex);
            }
        }
        ev::GO_CREATE..=ev::GO_SYSCALL_END_BLOCKED
        | ev::GO_SWITCH
        | ev::GO_SWITCH_DESTROY
        | ev::GO_CREATE_BLOCKED => {
            if let Some(t) = ts.get_mut(i) {
                schedule(e, t, out, ex);
            }
        }
        _ => {
            if let (Some(ex), Some(t)) = (ex, ts.get(i)) {
                other(e, t.cur_g, ex);
            }
        }
    }
}

/// ProcStart, ProcStop, ProcSteal, ProcStatus: the thread's P.
fn proc_event(e: &Event, t: &mut Thread, ex: Option<&mut Extras>) {
    let (m, tick, a) = (t.m, e.tick, e.a);
    match e.typ {
        ev::PROC_START => {
            if let Some(ex) = ex {
                close_proc(ex, &mut t.open_p, m, tick);
                t.open_p = Some((a[0], tick, false));
            }
            t.cur_p = Some(a[0]);
        }
        ev::PROC_STOP => {
            if let Some(ex) = ex {
                close_proc(ex, &mut t.open_p, m, tick);
            }
            t.cur_p = None;
        }
        ev::PROC_STEAL => {
            let own = a[2] == m;
            if let Some(ex) = ex {
                ex.steals.push((a[0], tick));
                if own {
                    close_proc(ex, &mut t.open_p, m, tick);
                }
            }
            if own {
                t.cur_p = None;
            }
        }
        // Running or in a syscall: the thread holds it.
        _ if a[1] == 1 || a[1] == 3 => {
            if let Some(ex) = ex
                && m != NONE
                && t.open_p.map(|o| o.0) != Some(a[0])
            {
                close_proc(ex, &mut t.open_p, m, tick);
                t.open_p = Some((a[0], tick, true));
            }
            t.cur_p = Some(a[0]);
        }
        _ => {}
    }
}

/// GoStatus, GoStatusStack: a goroutine's state at its first mention in
/// the generation. A goroutine in a syscall may belong to another thread.
#[inline(always)]
fn status<S: Sink>(
    e: &Event,
    i: usize,
    ts: &mut [Thread],
    by_m: &FxHashMap<u64, usize>,
    first_gen: bool,
    out: &mut Out<'_, S>,
    collect: Option<&mut Collect<'_>>,
) {
    let [gid, mid, code, stack] = e.a;
    let stack = if e.typ == ev::GO_STATUS_STACK {
        stack
    } else {
        0
    };
    let Some(state) = state_from_status(code) else {
        if let Some(c) = collect {
            let at = e.at;
            c.warnings.add("trace-bad-status", || {
                format!("goroutine {gid} has the invalid status {code} at byte {at}")
            });
        }
        return;
    };
    let kind = if first_gen {
        initial_kind(state)
    } else {
        status_kind(state)
    };
    let closing = ts.get(i).is_some_and(|t| t.m == NONE);
    let step = if closing { Step::Closing } else { Step::First };
    out.go(gid, e.tick, kind, RawDetail::Combo(0, stack), step);
    let owner = match state {
        GoState::Running => Some(i),
        GoState::Syscall if mid == NONE => Some(i),
        // Another thread's syscall, seen from here (or from no thread).
        GoState::Syscall => by_m.get(&mid).copied(),
        _ => None,
    };
    if let Some(t) = owner.and_then(|o| ts.get_mut(o)) {
        t.cur_g = Some(gid);
    }
}

/// The scheduling events of goroutines.
#[inline(always)]
fn schedule<S: Sink>(e: &Event, t: &mut Thread, out: &mut Out<'_, S>, ex: Option<&mut Extras>) {
    let (tick, a) = (e.tick, e.a);
    match e.typ {
        ev::GO_CREATE | ev::GO_CREATE_BLOCKED => {
            let kind = if e.typ == ev::GO_CREATE {
                packed::CREATED
            } else {
                packed::CREATED_BLOCKED
            };
            out.go(a[0], tick, kind, RawDetail::None, Step::First);
            if let Some(ex) = ex {
                ex.creations.push(RawCreation {
                    g: a[0],
                    creator: t.cur_g.unwrap_or(0),
                    creator_stack: a[2],
                    start_stack: a[1],
                    tick,
                });
            }
        }
        ev::GO_CREATE_SYSCALL => {
            out.go(
                a[0],
                tick,
                packed::CREATED_SYSCALL,
                RawDetail::None,
                Step::First,
            );
            t.cur_g = Some(a[0]);
        }
        ev::GO_START => {
            let on = RawDetail::Proc(t.cur_p);
            out.go(a[0], tick, packed::STARTED, on, Step::Seq(a[1]));
            t.cur_g = Some(a[0]);
        }
        ev::GO_DESTROY | ev::GO_DESTROY_SYSCALL => {
            if let Some(gid) = t.cur_g.take() {
                let kind = if e.typ == ev::GO_DESTROY {
                    packed::ENDED
                } else {
                    packed::ENDED_IN_SYSCALL
                };
                out.go(gid, tick, kind, RawDetail::None, Step::Own);
            }
            // A C thread leaving Go keeps no P: Go's reader steals it back
            // from the thread right there.
            if e.typ == ev::GO_DESTROY_SYSCALL {
                if let Some(ex) = ex {
                    close_proc(ex, &mut t.open_p, t.m, tick);
                }
                t.cur_p = None;
            }
        }
        ev::GO_STOP | ev::GO_BLOCK => {
            if let Some(gid) = t.cur_g.take() {
                let kind = if e.typ == ev::GO_STOP {
                    packed::STOPPED
                } else {
                    packed::BLOCKED
                };
                out.go(gid, tick, kind, RawDetail::Combo(a[0], a[1]), Step::Own);
            }
        }
        ev::GO_UNBLOCK => {
            let by = RawDetail::Goroutine(t.cur_g.unwrap_or(0));
            out.go(a[0], tick, packed::UNBLOCKED, by, Step::Seq(a[1]));
        }
        ev::GO_SYSCALL_BEGIN => {
            if let Some(gid) = t.cur_g {
                let on = RawDetail::Combo(0, a[1]);
                out.go(gid, tick, packed::SYSCALL_BEGAN, on, Step::Own);
            }
        }
        ev::GO_SYSCALL_END => {
            if let Some(gid) = t.cur_g {
                let on = RawDetail::Proc(t.cur_p);
                out.go(gid, tick, packed::SYSCALL_ENDED, on, Step::Own);
            }
        }
        // The thread lost its P during the syscall.
        ev::GO_SYSCALL_END_BLOCKED => {
            if let Some(gid) = t.cur_g.take() {
                let kind = packed::SYSCALL_ENDED_BLOCKED;
                out.go(gid, tick, kind, RawDetail::None, Step::Own);
            }
            if let Some(ex) = ex {
                close_proc(ex, &mut t.open_p, t.m, tick);
            }
            t.cur_p = None;
        }
        // GoSwitch, GoSwitchDestroy: unblock the target, block or end the
        // current goroutine, start the target.
        ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => switch(e, t, out),
        _ => {}
    }
}

/// A coroutine switch. The target's two transitions go to the sink as one
/// switch-in, unless it is the current goroutine (a damaged trace), whose
/// own transition falls between them. Kept out of line: most traces have
/// none, and the merge loop it would sit in is the hottest code.
#[inline(never)]
fn switch<S: Sink>(e: &Event, t: &mut Thread, out: &mut Out<'_, S>) {
    let (tick, a) = (e.tick, e.a);
    let next = a[0];
    let kind = if e.typ == ev::GO_SWITCH {
        packed::BLOCKED
    } else {
        packed::ENDED
    };
    if t.cur_g == Some(next) {
        let by = RawDetail::Goroutine(next);
        out.go(next, tick, packed::UNBLOCKED, by, Step::Seq(a[1]));
        out.go(next, tick, kind, RawDetail::None, Step::Own);
        let on = RawDetail::Proc(t.cur_p);
        out.go(next, tick, packed::STARTED, on, Step::Seq(a[1]));
    } else {
        if let Some(gid) = t.cur_g {
            out.go(gid, tick, kind, RawDetail::None, Step::Own);
        }
        out.switch_in(next, tick, t.cur_g.unwrap_or(0), t.cur_p, a[1]);
    }
    t.cur_g = Some(next);
}

/// What is not scheduling: stop-the-world, GC, labels and annotations
/// (pass one only).
fn other(e: &Event, cur_g: Option<u64>, ex: &mut Extras) {
    let (t, a) = (e.tick, e.a);
    let g = cur_g.unwrap_or(0);
    match e.typ {
        ev::STW_BEGIN => ex.stw.push((t, Some(a[0]))),
        ev::STW_END => ex.stw.push((t, None)),
        ev::GC_ACTIVE => ex.gc.push((t, GcOp::Active)),
        ev::GC_BEGIN => ex.gc.push((t, GcOp::Begin)),
        ev::GC_END => ex.gc.push((t, GcOp::End)),
        ev::GO_LABEL => {
            if let Some(gid) = cur_g {
                ex.labels.push((gid, a[0]));
            }
        }
        ev::USER_TASK_BEGIN => ex.annots.push((
            t,
            RawAnnot::TaskBegin {
                task: a[0],
                parent: a[1],
                name: a[2],
                stack: a[3],
                g,
            },
        )),
        ev::USER_TASK_END => ex.annots.push((t, RawAnnot::TaskEnd { task: a[0] })),
        ev::USER_REGION_BEGIN => ex.annots.push((
            t,
            RawAnnot::RegionBegin {
                task: a[0],
                name: a[1],
                stack: a[2],
                g,
            },
        )),
        ev::USER_REGION_END => ex.annots.push((
            t,
            RawAnnot::RegionEnd {
                task: a[0],
                name: a[1],
                g,
            },
        )),
        ev::USER_LOG => ex.annots.push((
            t,
            RawAnnot::Log {
                task: a[0],
                key: a[1],
                value: a[2],
                stack: a[3],
                g,
            },
        )),
        _ => {}
    }
}

fn close_proc(ex: &mut Extras, open: &mut Option<(u64, u64, bool)>, m: u64, t: u64) {
    if let Some((p, start, from_status)) = open.take() {
        ex.procs.push(RawProc {
            p,
            m,
            start,
            end: Some(t),
            from_status,
        });
    }
}
