//! What each legacy event does to goroutines and to the trace's other
//! parts, for both passes; and the second pass, P by P.
//!
//! Most events name no goroutine: they act on the one running on the P
//! whose batch holds them, tracked per P across its batches.

use super::wire::{Rec, ev, max_type, next_record};
use super::*;

/// Where one batch's events are.
#[derive(Clone, Debug)]
pub(super) struct BatchRange {
    pub ticks: u64,
    pub events: Range<usize>,
}

/// Per-P replay state, carried from one of its batches to the next.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct PState {
    pub cur_g: Option<u64>,
    /// (thread, start tick) of the P's running span.
    pub open_proc: Option<(u64, u64)>,
}

/// One timed event of a P.
pub(super) struct Event {
    pub typ: u8,
    pub a: [u64; 8],
    pub tick: u64,
    /// A `UserLog`'s value as a string id (first pass only).
    pub log_value: Option<u64>,
}

/// What stays the same through a pass.
#[derive(Copy, Clone)]
pub(super) struct Pass {
    pub minor: u32,
    /// The end of the burst of events that describe goroutines alive at
    /// the start (second pass only: the first pass finds it).
    pub init_end: Option<u64>,
}

/// Applies one timed event of P `p`: goroutine transitions into `sink`,
/// everything else into `ex` (first pass only).
#[inline(always)]
pub(super) fn handle<S: Sink>(
    e: &Event,
    p: u64,
    st: &mut PState,
    pass: Pass,
    sink: &mut S,
    ex: Option<&mut Extras>,
) {
    let burst = pass.init_end.is_some_and(|end| e.tick < end);
    match e.typ {
        ev::GO_CREATE..=ev::GO_IN_SYSCALL | ev::GO_START_LOCAL..=ev::GO_BLOCK_GC => {
            schedule(e, p, burst, st, sink, ex)
        }
        _ => {
            if let Some(ex) = ex {
                other(e, p, pass.minor, st, ex);
            }
        }
    }
}

/// The scheduling events of goroutines. In the burst every goroutine
/// transition but the creations, starts and statuses is only a hole.
#[inline(always)]
fn schedule<S: Sink>(
    e: &Event,
    p: u64,
    burst: bool,
    st: &mut PState,
    sink: &mut S,
    ex: Option<&mut Extras>,
) {
    let (t, a) = (e.tick, &e.a);
    let proc = RawDetail::Proc((p != NONE).then_some(p));
    let hole_or = |kind: u8| if burst { HOLE } else { kind };
    match e.typ {
        ev::GO_CREATE => {
            let kind = if burst {
                burst_kind(GoState::Runnable)
            } else {
                packed::CREATED
            };
            sink.go(a[1], t, kind, RawDetail::None);
            if let Some(ex) = ex {
                ex.creations.push(RawCreation {
                    g: a[1],
                    creator: st.cur_g.unwrap_or(0),
                    creator_stack: a[3],
                    start_stack: a[2],
                    tick: t,
                });
            }
        }
        ev::GO_START | ev::GO_START_LOCAL | ev::GO_START_LABEL => {
            let kind = if burst {
                burst_kind(GoState::Running)
            } else {
                packed::STARTED
            };
            sink.go(a[1], t, kind, proc);
            st.cur_g = Some(a[1]);
            if e.typ == ev::GO_START_LABEL
                && let Some(ex) = ex
            {
                ex.labels.push((a[1], a[3]));
            }
        }
        ev::GO_END => {
            if let Some(g) = st.cur_g.take() {
                sink.go(g, t, hole_or(packed::ENDED), RawDetail::None);
            }
        }
        ev::GO_UNBLOCK | ev::GO_UNBLOCK_LOCAL => {
            let by = RawDetail::Goroutine(st.cur_g.unwrap_or(0));
            sink.go(a[1], t, hole_or(packed::UNBLOCKED), by);
        }
        ev::GO_SYSCALL => {
            if let Some(g) = st.cur_g {
                if burst {
                    sink.go(g, t, HOLE, RawDetail::None);
                    sink.go(g, t, HOLE, RawDetail::None);
                } else {
                    sink.go(g, t, LEGACY_SYSCALL, RawDetail::Combo(0, a[1]));
                    sink.go(g, t, SYSCALL_PLACEHOLDER, proc);
                }
            }
        }
        ev::GO_SYSEXIT | ev::GO_SYSEXIT_LOCAL => {
            let kind = hole_or(packed::SYSCALL_ENDED_BLOCKED);
            sink.go(a[1], t, kind, RawDetail::None);
        }
        ev::GO_SYSBLOCK => {
            if let Some(g) = st.cur_g.take() {
                sink.go(g, t, hole_or(SYSBLOCK_MARKER), RawDetail::None);
            }
        }
        ev::GO_WAITING | ev::GO_IN_SYSCALL => {
            let state = if e.typ == ev::GO_WAITING {
                GoState::Waiting
            } else {
                GoState::Syscall
            };
            let kind = if burst {
                burst_kind(state)
            } else {
                status_kind(state)
            };
            sink.go(a[1], t, kind, RawDetail::None);
        }
        // The rest stop or block the running goroutine.
        typ => {
            if let Some((kind, reason)) = off_cpu(typ)
                && let Some(g) = st.cur_g.take()
            {
                if burst {
                    sink.go(g, t, HOLE, RawDetail::None);
                } else {
                    let detail = RawDetail::Combo(synth_reason(reason), a[1]);
                    sink.go(g, t, kind, detail);
                }
            }
        }
    }
}

/// The transition and reason of an event that takes the running goroutine
/// off its P, waiting or runnable; `None` for any other event.
#[inline(always)]
fn off_cpu(typ: u8) -> Option<(u8, &'static str)> {
    let blocked = |reason| Some((packed::BLOCKED, reason));
    match typ {
        ev::GO_STOP => blocked("forever"),
        ev::GO_SCHED => Some((packed::STOPPED, "runtime.Gosched")),
        ev::GO_PREEMPT => Some((packed::STOPPED, "preempted")),
        ev::GO_SLEEP => blocked("sleep"),
        ev::GO_BLOCK => blocked(""),
        ev::GO_BLOCK_SEND => blocked("chan send"),
        ev::GO_BLOCK_RECV => blocked("chan receive"),
        ev::GO_BLOCK_SELECT => blocked("select"),
        ev::GO_BLOCK_SYNC => blocked("sync"),
        ev::GO_BLOCK_COND => blocked("sync.(*Cond).Wait"),
        ev::GO_BLOCK_NET => blocked("network"),
        ev::GO_BLOCK_GC => blocked("GC mark assist wait for work"),
        _ => None,
    }
}

/// What is not a goroutine's transition: Ps, GC, stop-the-world,
/// annotations and CPU samples (first pass only).
fn other(e: &Event, p: u64, minor: u32, st: &mut PState, ex: &mut Extras) {
    let (t, a) = (e.tick, &e.a);
    match e.typ {
        ev::PROC_START => {
            close_proc(ex, st, p, t);
            st.open_proc = Some((a[1], t));
        }
        ev::PROC_STOP => close_proc(ex, st, p, t),
        ev::GC_START => ex.gc.push((t, GcOp::Begin)),
        ev::GC_DONE => ex.gc.push((t, GcOp::End)),
        ev::STW_START => {
            // Before Go 1.21 the kind was 0 (mark termination) or 1
            // (sweep termination); Go 1.21 writes its STW reason enum.
            let kind = if minor >= 21 {
                a[1].min(STW_21.len() as u64)
            } else if a[1] < 2 {
                a[1] + 1
            } else {
                0
            };
            ex.stw.push((t, Some(SYNTH + 100 + kind)));
        }
        ev::STW_DONE => ex.stw.push((t, None)),
        ev::USER_TASK_CREATE..=ev::USER_LOG => annotation(e, st.cur_g.unwrap_or(0), ex),
        ev::CPU_SAMPLE => ex.cpu.push(RawCpu {
            tick: if a[1] != 0 { a[1] } else { t },
            m: NONE,
            p: a[2],
            g: a[3],
            stack: a[4],
        }),
        _ => {}
    }
}

/// Tasks, regions and logs of `runtime/trace`, made by goroutine `g`.
fn annotation(e: &Event, g: u64, ex: &mut Extras) {
    let a = &e.a;
    let annot = match e.typ {
        ev::USER_TASK_CREATE => RawAnnot::TaskBegin {
            task: a[1],
            parent: a[2],
            name: a[3],
            stack: a[4],
            g,
        },
        ev::USER_TASK_END => RawAnnot::TaskEnd { task: a[1] },
        // One event type for both ends of a region.
        ev::USER_REGION if a[2] == 0 => RawAnnot::RegionBegin {
            task: a[1],
            name: a[3],
            stack: a[4],
            g,
        },
        ev::USER_REGION => RawAnnot::RegionEnd {
            task: a[1],
            name: a[3],
            g,
        },
        _ => RawAnnot::Log {
            task: a[1],
            key: a[2],
            value: e.log_value.unwrap_or(0),
            stack: a[3],
            g,
        },
    };
    ex.annots.push((e.tick, annot));
}

/// Ends P `p`'s running span, if one is open, at `t`.
pub(super) fn close_proc(ex: &mut Extras, st: &mut PState, p: u64, t: u64) {
    if let Some((m, start)) = st.open_proc.take()
        && p != NONE
    {
        ex.procs.push(RawProc {
            p,
            m,
            start,
            end: Some(t),
            from_status: false,
        });
    }
}

/// Second pass over one P's batches.
pub(super) fn replay<S: Sink>(
    data: &[u8],
    p: u64,
    batches: &[BatchRange],
    pass: Pass,
    sink: &mut S,
) {
    let max_type = max_type(pass.minor);
    let mut st = PState::default();
    for b in batches {
        let mut r = Reader::at(data.get(..b.events.end).unwrap_or(&[]), b.events.start);
        let mut tick = b.ticks;
        while !r.is_empty() {
            let Ok(rec) = next_record(&mut r, max_type) else {
                break;
            };
            if let Rec::Event { typ, a, .. } = rec {
                if typ == ev::TIMER_GOROUTINE {
                    continue;
                }
                tick = tick.wrapping_add(a[0]);
                let e = Event {
                    typ,
                    a,
                    tick,
                    log_value: None,
                };
                handle(&e, p, &mut st, pass, sink, None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reason missing from [`REASONS`] would read as no reason at all.
    #[test]
    fn every_block_reason_is_a_known_one() {
        let named: Vec<&str> = (0..=u8::MAX)
            .filter_map(off_cpu)
            .map(|(_, r)| r)
            .filter(|r| !r.is_empty())
            .collect();
        assert_eq!(named.len(), 11);
        for r in named {
            assert_ne!(synth_reason(r), SYNTH, "{r}");
        }
    }
}
