//! Replaying one generation's events in the order Go's reader gives them.
//!
//! Each thread's events happen in the order its batches hold them, but
//! nothing orders two threads but the clock, and the clock is not enough:
//! a thread writing faster than its 64 ns tick stamps events ahead of time
//! and falls back when it starts a new batch, and events of different
//! threads share ticks. What orders them exactly are the goroutines'
//! sequence numbers: every event that acts on another goroutine (start,
//! unblock, coroutine switch) carries the number of that goroutine's next
//! step in this generation, and needs the goroutine in the right state.
//! So the threads are merged like Go's reader merges them: always the
//! thread with the earliest next event, unless that event has to wait for
//! another thread's; then the earliest one that can happen. An event that
//! nothing can ever let happen (a cut or damaged trace) is taken anyway,
//! by time, and counted.
//!
//! Go's reader also orders by the P and GC sequence numbers; those never
//! change the order of one goroutine's transitions, so they are left out.
//!
//! Holding events back means a lookup per transition, and the two replays
//! of each generation (see `assemble`) would both pay it. So the first
//! replay merges by time and only verifies each sequenced step, in the map
//! where it counts the goroutine's transitions anyway ([`Mode::Verify`]);
//! it gives up at the first step out of its turn, and only such a
//! generation is replayed holding events back ([`Mode::Wait`]), noting the
//! order taken, which the second replay follows without checks. Valid
//! traces mostly verify: a generation waits where a thread ran ahead of
//! its clock (a goroutine switching coroutines faster than the 64 ns
//! tick).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::wire::{ArgTable, ev};
use super::*;

/// Pass-one-only state of a replay.
pub(super) struct Collect<'x> {
    pub extras: &'x mut Extras,
    pub type_counts: &'x mut [u64],
    pub events: &'x mut u64,
    pub warnings: &'x mut Warnings,
}

/// One decoded event of an event batch.
#[derive(Copy, Clone, Debug, Default)]
struct Event {
    typ: u8,
    tick: u64,
    /// Arguments after the time delta.
    a: [u64; 4],
    /// Byte offset in the file, for messages.
    at: usize,
}

/// A thread's place in its batches and what it holds at that place.
struct Thread<'d> {
    m: u64,
    batches: &'d [usize],
    next_batch: usize,
    reader: Reader<'d>,
    payload_start: usize,
    tick: u64,
    head: Option<Event>,
    cur_g: Option<u64>,
    cur_p: Option<u64>,
    /// The P span this thread has open: (P, start tick, opened by a status).
    open_p: Option<(u64, u64, bool)>,
}

impl<'d> Thread<'d> {
    fn new(m: u64, batches: &'d [usize]) -> Thread<'d> {
        Thread {
            m,
            batches,
            next_batch: 0,
            reader: Reader::new(&[]),
            payload_start: 0,
            tick: 0,
            head: None,
            cur_g: None,
            cur_p: None,
            open_p: None,
        }
    }

    /// Decodes the thread's next event into `e`; false at the thread's end.
    /// An unknown or unreadable event ends its batch (warned in pass one);
    /// the next batch goes on. (Written in place: returning a fresh event
    /// and copying it cost more than the whole merge.)
    #[inline(always)]
    fn next_event(
        &mut self,
        data: Bytes<'d>,
        g: &Generation,
        args: &ArgTable,
        mut warn: Option<&mut Warnings>,
        e: &mut Event,
    ) -> bool {
        loop {
            if self.reader.is_empty() && !self.next_batch(data, g) {
                return false;
            }
            let at = self.payload_start + self.reader.pos();
            match decode(&mut self.reader, args) {
                Ok((typ, dt, a)) => {
                    self.tick = self.tick.wrapping_add(dt);
                    e.typ = typ;
                    e.tick = self.tick;
                    e.a = a;
                    e.at = at;
                    return true;
                }
                Err(why) => {
                    if let Some(w) = warn.as_deref_mut() {
                        why.warn(w, at);
                    }
                    self.reader = Reader::new(&[]);
                }
            }
        }
    }

    /// Moves on to the thread's next batch that has events; false at the end.
    #[inline(never)]
    fn next_batch(&mut self, data: Bytes<'d>, g: &Generation) -> bool {
        while self.reader.is_empty() {
            let Some(b) = self
                .batches
                .get(self.next_batch)
                .and_then(|&bi| g.batches.get(bi))
            else {
                return false;
            };
            self.next_batch += 1;
            self.reader = Reader::new(data.get(&b.payload).unwrap_or(&[]));
            self.payload_start = b.payload.start;
            self.tick = b.time;
        }
        true
    }
}

/// Why a batch's events could not be read on.
enum DecodeError {
    UnknownType(u8),
    Unreadable,
}

impl DecodeError {
    fn warn(&self, w: &mut Warnings, at: usize) {
        match *self {
            DecodeError::UnknownType(typ) => w.add("trace-unknown-event", || {
                format!("unknown event type {typ} at byte {at}; ignored the rest of its batch")
            }),
            DecodeError::Unreadable => w.add("trace-corrupt-batch", || {
                format!("an unreadable event at byte {at}; ignored the rest of its batch")
            }),
        }
    }
}

/// The next event of a batch: type, time delta and arguments.
#[inline(always)]
fn decode(r: &mut Reader<'_>, args: &ArgTable) -> Result<(u8, u64, [u64; 4]), DecodeError> {
    let typ = r.byte().ok_or(DecodeError::Unreadable)?;
    let n = args.get(typ).ok_or(DecodeError::UnknownType(typ))?;
    let mut values = [0u64; 5];
    for slot in values.iter_mut().take(n) {
        *slot = r.uvarint().ok_or(DecodeError::Unreadable)?;
    }
    let [dt, a0, a1, a2, a3] = values;
    Ok((typ, dt, [a0, a1, a2, a3]))
}

/// What the sink side of a replay checks (see [`Mode`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum OrderCheck {
    Verify,
    Wait,
    Trust,
}

/// The sink, and what the replay keeps of Go's order.
struct Out<'s, S: Sink> {
    sink: &'s mut S,
    check: OrderCheck,
    /// [`OrderCheck::Verify`]: a sequenced step came out of its turn.
    broken: bool,
    /// [`OrderCheck::Wait`]: events taken out of their turn all the same,
    /// because nothing could ever let them happen.
    forced: u64,
}

impl<S: Sink> Out<'_, S> {
    /// Hands a transition to the sink; `step` says how it moves the
    /// goroutine's place in the order, which the sink keeps.
    #[inline(always)]
    fn go(&mut self, g: u64, tick: u64, kind: u8, detail: RawDetail, step: Step) {
        match self.check {
            OrderCheck::Trust => self.sink.go(g, tick, kind, detail),
            OrderCheck::Verify => {
                self.broken |= !self.sink.go_in_turn(g, tick, kind, detail, step);
            }
            OrderCheck::Wait => {
                self.sink.go_in_turn(g, tick, kind, detail, step);
            }
        }
    }

    /// Hands a coroutine switch into `g` to the sink (see [`Sink::switch_in`]).
    #[inline(always)]
    fn switch_in(&mut self, g: u64, tick: u64, by: u64, p: Option<u64>, seq: u64) {
        let in_turn = self.sink.switch_in(g, tick, by, p, seq);
        if self.check == OrderCheck::Verify {
            self.broken |= !in_turn;
        }
    }

    /// Whether `e` may happen now, as Go's reader decides it; always,
    /// unless the order waits.
    fn ready(&self, e: &Event) -> bool {
        if self.check != OrderCheck::Wait {
            return true;
        }
        match e.typ {
            ev::GO_START => self.sink.allows(e.a[0], GoState::Runnable, e.a[1]),
            ev::GO_UNBLOCK | ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => {
                self.sink.allows(e.a[0], GoState::Waiting, e.a[1])
            }
            _ => true,
        }
    }
}

/// The file's bytes as a replay reads them: the whole file, or one
/// generation's own bytes cut from it (see `v2::second_pass`).
#[derive(Copy, Clone, Debug)]
pub(super) struct Bytes<'a> {
    pub data: &'a [u8],
    /// Where `data` begins in the file; batches keep their file offsets.
    pub base: usize,
}

impl<'a> Bytes<'a> {
    /// The whole file.
    pub fn whole(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data, base: 0 }
    }

    fn get(&self, r: &Range<usize>) -> Option<&'a [u8]> {
        let start = r.start.checked_sub(self.base)?;
        let end = r.end.checked_sub(self.base)?;
        self.data.get(start..end)
    }
}

/// One generation and what its replays need to know of the file.
pub(super) struct Setup<'a> {
    pub data: Bytes<'a>,
    pub generation: &'a Generation,
    pub threads: &'a [(u64, Vec<usize>)],
    pub first_gen: bool,
    /// Argument counts of the trace's version.
    pub args: &'a ArgTable,
}

/// The order a first replay found when it had to hold events back, for the
/// second replay to take again without checking anything: runs of (thread,
/// number of events).
pub(super) type Schedule = Vec<(u32, u32)>;

/// How a replay keeps to Go's order.
#[derive(Copy, Clone, Debug)]
pub(super) enum Mode<'s> {
    /// Merge by time and verify that every sequenced step comes in its
    /// turn, giving up at the first that does not: if all do, Go's reader
    /// takes the same order (a first try, as cheap as it gets).
    Verify,
    /// Hold back each event that cannot happen yet, as Go's reader does,
    /// and note the order taken.
    Wait,
    /// Merge by time, check nothing: a generation that verified.
    Trust,
    /// Take the order a [`Mode::Wait`] replay noted.
    Follow(&'s [(u32, u32)]),
}

/// What a replay found out about the order.
#[derive(Debug)]
pub(super) enum Replayed {
    /// The merge by time is Go's order.
    InOrder,
    /// [`Mode::Verify`] met a step out of its turn and stopped there: the
    /// generation must be replayed again with [`Mode::Wait`], from scratch.
    Broken,
    /// [`Mode::Wait`]: the order it took.
    Scheduled(Schedule),
}

/// One replay's state: the threads and what receives their events.
struct Replay<'r, 'd, 'c, S: Sink> {
    setup: &'r Setup<'d>,
    ts: Vec<Thread<'d>>,
    by_m: FxHashMap<u64, usize>,
    out: Out<'r, S>,
    collect: Option<Collect<'c>>,
}

impl<'d, S: Sink> Replay<'_, 'd, '_, S> {
    /// Decodes thread `i`'s next event into `e`; false at its end.
    #[inline(always)]
    fn next_event(&mut self, i: usize, e: &mut Event) -> bool {
        let Setup {
            data,
            generation,
            args,
            ..
        } = *self.setup;
        let warn = self.collect.as_mut().map(|c| &mut *c.warnings);
        self.ts
            .get_mut(i)
            .is_some_and(|t| t.next_event(data, generation, args, warn, e))
    }

    /// Counts and applies one event of thread `i`.
    #[inline(always)]
    fn take(&mut self, e: &Event, i: usize) {
        if let Some(c) = self.collect.as_mut() {
            if let Some(x) = c.type_counts.get_mut(usize::from(e.typ)) {
                *x += 1;
            }
            *c.events += 1;
            c.extras.saw_tick(e.tick);
        }
        let first_gen = self.setup.first_gen;
        let collect = self.collect.as_mut();
        apply(
            e,
            i,
            &mut self.ts,
            &self.by_m,
            first_gen,
            &mut self.out,
            collect,
        );
    }

    /// Merges the threads by time, holding events back in [`Mode::Wait`];
    /// returns the runs taken there.
    fn merge(&mut self, noting: bool) -> Schedule {
        let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::with_capacity(self.ts.len());
        let mut e = Event::default();
        for i in 0..self.ts.len() {
            if self.next_event(i, &mut e)
                && let Some(t) = self.ts.get_mut(i)
            {
                t.head = Some(e);
                heap.push(Reverse((e.tick, i)));
            }
        }
        let mut schedule = Schedule::new();
        let mut waiting: Vec<Reverse<(u64, usize)>> = Vec::new();
        // The running thread's next event is `e`, out of the heap, while
        // that thread goes on: the common case, kept cheap.
        let mut running: Option<usize> = None;
        loop {
            let i = match running {
                Some(i)
                    if heap.peek().is_none_or(|Reverse((t, _))| e.tick <= *t)
                        && self.out.ready(&e) =>
                {
                    i
                }
                _ => {
                    if let Some(i) = running.take()
                        && let Some(t) = self.ts.get_mut(i)
                    {
                        t.head = Some(e);
                        heap.push(Reverse((e.tick, i)));
                    }
                    let Some((i, ready)) = pick(&mut heap, &mut waiting, &self.ts, &self.out)
                    else {
                        break;
                    };
                    self.out.forced += u64::from(!ready);
                    let Some(head) = self.ts.get_mut(i).and_then(|t| t.head.take()) else {
                        continue;
                    };
                    e = head;
                    i
                }
            };
            if noting {
                match schedule.last_mut() {
                    Some((t, n)) if *t as usize == i => *n += 1,
                    _ => schedule.push((i as u32, 1)),
                }
            }
            self.take(&e, i);
            if self.out.broken {
                break;
            }
            running = self.next_event(i, &mut e).then_some(i);
        }
        schedule
    }

    /// Takes the events in the order of `schedule`.
    fn follow(&mut self, schedule: &[(u32, u32)]) {
        let mut e = Event::default();
        for &(i, n) in schedule {
            let i = i as usize;
            for _ in 0..n {
                if !self.next_event(i, &mut e) {
                    break;
                }
                self.take(&e, i);
            }
        }
    }
}

/// Replays one generation's events in Go's order (see the module doc),
/// handing goroutine transitions to `sink`.
pub(super) fn replay<S: Sink>(
    setup: &Setup<'_>,
    mode: Mode<'_>,
    sink: &mut S,
    collect: Option<Collect<'_>>,
) -> Replayed {
    let ts: Vec<Thread> = setup
        .threads
        .iter()
        .map(|(m, b)| Thread::new(*m, b))
        .collect();
    let by_m: FxHashMap<u64, usize> = ts.iter().enumerate().map(|(i, t)| (t.m, i)).collect();
    let check = match mode {
        Mode::Verify => OrderCheck::Verify,
        Mode::Wait => OrderCheck::Wait,
        Mode::Trust | Mode::Follow(_) => OrderCheck::Trust,
    };
    let mut r = Replay {
        setup,
        ts,
        by_m,
        out: Out {
            sink,
            check,
            broken: false,
            forced: 0,
        },
        collect,
    };
    let result = match mode {
        Mode::Follow(schedule) => {
            r.follow(schedule);
            Replayed::InOrder
        }
        Mode::Wait => Replayed::Scheduled(r.merge(true)),
        Mode::Verify | Mode::Trust => {
            r.merge(false);
            if r.out.broken {
                return Replayed::Broken;
            }
            Replayed::InOrder
        }
    };
    if let Some(c) = r.collect {
        c.warnings.add_n("trace-unordered", r.out.forced, || {
            "events whose goroutine never reached the step their sequence number names (a cut or damaged generation); placed by time".into()
        });
        for t in &r.ts {
            if let Some((p, start, from_status)) = t.open_p {
                c.extras.procs.push(RawProc {
                    p,
                    m: t.m,
                    start,
                    end: None,
                    from_status,
                });
            }
        }
    }
    result
}

/// The earliest thread whose next event may happen, and whether it may; if
/// none may, the earliest thread all the same.
fn pick<S: Sink>(
    heap: &mut BinaryHeap<Reverse<(u64, usize)>>,
    waiting: &mut Vec<Reverse<(u64, usize)>>,
    ts: &[Thread],
    out: &Out<'_, S>,
) -> Option<(usize, bool)> {
    waiting.clear();
    let mut found = None;
    while let Some(entry) = heap.pop() {
        let Reverse((_, i)) = entry;
        if ts
            .get(i)
            .and_then(|t| t.head)
            .is_some_and(|e| out.ready(&e))
        {
            found = Some((i, true));
            break;
        }
        waiting.push(entry);
    }
    if found.is_none() && !waiting.is_empty() {
        let Reverse((_, i)) = waiting.remove(0);
        found = Some((i, false));
    }
    heap.extend(waiting.drain(..));
    found
}

/// Applies one event of thread `i`.
#[inline(always)]
fn apply<S: Sink>(
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
