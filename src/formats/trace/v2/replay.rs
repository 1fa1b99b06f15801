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

mod apply;
use apply::apply;

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
