//! The first pass: every record in file order. It collects the strings,
//! the stack table and the frequency (written last), counts each
//! goroutine's slots and notes where each P's batches are.

use std::ops::ControlFlow;

use super::replay::{BatchRange, Event, PState, Pass, handle};
use super::wire::{Rec, RecError, ev, max_type, next_record};
use super::*;

/// Everything the first pass learns.
pub(super) struct Scan {
    pub strings: FxHashMap<u64, Range<usize>>,
    pub stacks: FxHashMap<u64, Range<usize>>,
    /// (function string, file string, line) of every stack frame.
    pub frames: Vec<(u64, u64, u64)>,
    pub freq: Option<u64>,
    /// Batches per P, Ps in order of first appearance.
    pub ps: Vec<(u64, Vec<BatchRange>)>,
    pub counter: Counter,
    pub extras: Extras,
    pub init_end: Option<u64>,
    /// Values of `UserLog` events, which carry their text inline.
    pub log_values: Vec<Range<usize>>,
    pub type_counts: [u64; 64],
    pub events: u64,
    pub warnings: Warnings,
}

/// The first pass's place in the stream.
struct Scanner<'d> {
    data: &'d [u8],
    limits: &'d Limits,
    minor: u32,
    s: Scan,
    p_index: FxHashMap<u64, usize>,
    /// The state of every P but the current batch's.
    states: FxHashMap<u64, PState>,
    /// Current batch: (P slot in `ps`, P id, state, tick).
    cur: Option<(usize, u64, PState, u64)>,
    batches: u64,
}

pub(super) fn scan(data: &[u8], minor: u32, limits: &Limits, progress: &Progress) -> Scan {
    let max_type = max_type(minor);
    let mut sc = Scanner::new(data, minor, limits);
    let mut r = Reader::at(data, 16);
    let mut n = 0u32;
    // End of the last record read whole; the second pass stops there too.
    let mut valid_end = r.pos();
    while !r.is_empty() {
        let at = r.pos();
        valid_end = at;
        n = n.wrapping_add(1);
        if n.is_multiple_of(65_536) {
            progress.set_pos(at, data.len());
            if progress.is_cancelled() {
                break;
            }
        }
        let rec = match next_record(&mut r, max_type) {
            Ok(rec) => rec,
            Err(e) => {
                sc.damaged(e, at);
                break;
            }
        };
        if sc.record(rec, at, r.pos()).is_break() {
            break;
        }
    }
    let end = if r.is_empty() { r.pos() } else { valid_end };
    sc.finish(end)
}

impl<'d> Scanner<'d> {
    fn new(data: &'d [u8], minor: u32, limits: &'d Limits) -> Scanner<'d> {
        Scanner {
            data,
            limits,
            minor,
            s: Scan {
                strings: FxHashMap::default(),
                stacks: FxHashMap::default(),
                frames: Vec::new(),
                freq: None,
                ps: Vec::new(),
                counter: Counter::default(),
                extras: Extras::default(),
                init_end: None,
                log_values: Vec::new(),
                type_counts: [0; 64],
                events: 0,
                warnings: Warnings::default(),
            },
            p_index: FxHashMap::default(),
            states: FxHashMap::default(),
            cur: None,
            batches: 0,
        }
    }

    /// Takes one record that starts at `at`; `next` is where the one after
    /// it starts. Breaks at a limit.
    #[inline(always)]
    fn record(&mut self, rec: Rec, at: usize, next: usize) -> ControlFlow<()> {
        if let Some(c) = self.s.type_counts.get_mut(usize::from(rec.typ())) {
            *c += 1;
        }
        match rec {
            Rec::String { id, bytes } => {
                self.s.strings.entry(id).or_insert(bytes);
            }
            Rec::Batch { p, ticks } => return self.batch(p, ticks, at, next),
            Rec::Frequency(f) => {
                if f > 0 {
                    self.s.freq = Some(f);
                }
            }
            Rec::Stack { body } => self.stack(body, at),
            Rec::Event { typ, a, extra } => self.event(typ, a, extra, at),
        }
        ControlFlow::Continue(())
    }

    /// A batch header: the current P's state is put away, P `p`'s taken out.
    fn batch(&mut self, p: u64, ticks: u64, at: usize, next: usize) -> ControlFlow<()> {
        self.batches += 1;
        if self.batches > self.limits.max_trace_batches {
            let (limit, left) = (self.limits.max_trace_batches, self.data.len() - at);
            self.s.warnings.add("trace-limit", || {
                format!("stopped after {limit} batches, the limit; ignored the last {left} bytes")
            });
            return ControlFlow::Break(());
        }
        self.end_batch(at);
        let ps = &mut self.s.ps;
        let slot = *self.p_index.entry(p).or_insert_with(|| {
            ps.push((p, Vec::new()));
            ps.len() - 1
        });
        if let Some((_, list)) = ps.get_mut(slot) {
            list.push(BatchRange {
                ticks,
                events: next..next,
            });
        }
        let st = self.states.remove(&p).unwrap_or_default();
        self.cur = Some((slot, p, st, ticks));
        ControlFlow::Continue(())
    }

    /// Closes the current batch at `end` and puts its P's state away.
    fn end_batch(&mut self, end: usize) {
        if let Some((slot, p, st, _)) = self.cur.take() {
            if let Some(b) = self.s.ps.get_mut(slot).and_then(|(_, l)| l.last_mut()) {
                b.events.end = end.max(b.events.start);
            }
            self.states.insert(p, st);
        }
    }

    /// A stack record: its frames, cut at the depth limit.
    fn stack(&mut self, body: Range<usize>, at: usize) {
        let s = &mut self.s;
        let mut br = Reader::new(self.data.get(body).unwrap_or(&[]));
        let parsed = (|| {
            let id = br.uvarint()?;
            let n = br.uvarint()?;
            if n > 1000 || n > (br.remaining() / 4) as u64 {
                return None;
            }
            let start = s.frames.len();
            for _ in 0..n {
                let _pc = br.uvarint()?;
                s.frames.push((br.uvarint()?, br.uvarint()?, br.uvarint()?));
            }
            Some((id, start))
        })();
        match parsed {
            Some((id, start)) => {
                let end = s.frames.len().min(start + self.limits.max_stack_depth);
                s.frames.truncate(end);
                s.stacks.entry(id).or_insert(start..end);
            }
            None => s.warnings.add("trace-corrupt-stack", || {
                format!("an unreadable stack record at byte {at}")
            }),
        }
    }

    /// A timed event of the current batch's P.
    #[inline(always)]
    fn event(&mut self, typ: u8, a: [u64; 8], extra: Option<Range<usize>>, at: usize) {
        if typ == ev::TIMER_GOROUTINE {
            return;
        }
        let s = &mut self.s;
        let Some((_, p, st, tick)) = self.cur.as_mut() else {
            s.warnings.add("trace-orphan-event", || {
                format!("an event before the first batch at byte {at}")
            });
            return;
        };
        *tick = tick.wrapping_add(a[0]);
        let t = *tick;
        s.events += 1;
        s.extras.saw_tick(t);
        if typ == ev::GOMAXPROCS {
            s.init_end = Some(s.init_end.map_or(t, |e| e.min(t)));
        }
        let log_value = extra.map(|range| {
            s.log_values.push(range);
            INLINE + (s.log_values.len() - 1) as u64
        });
        let e = Event {
            typ,
            a,
            tick: t,
            log_value,
        };
        // The burst's end is not known yet: its events count as any other.
        let pass = Pass {
            minor: self.minor,
            init_end: None,
        };
        handle(&e, *p, st, pass, &mut s.counter, Some(&mut s.extras));
    }

    /// Warns of the record at `at` that could not be read; the pass stops
    /// there.
    fn damaged(&mut self, e: RecError, at: usize) {
        let left = self.data.len() - at;
        match e {
            RecError::Truncated => self.s.warnings.add("trace-truncated", || {
                format!(
                    "the trace is cut off inside the event at byte {at}; ignored its last {left} bytes"
                )
            }),
            RecError::Corrupt(what) => self.s.warnings.add("trace-corrupt", || {
                format!("{what} at byte {at}; ignored the last {left} bytes")
            }),
        }
    }

    /// Ends the last batch at `end`; Ps still running get an open span.
    fn finish(mut self, end: usize) -> Scan {
        self.end_batch(end);
        let mut s = self.s;
        for (p, st) in self.states {
            if let Some((m, start)) = st.open_proc
                && p != NONE
            {
                s.extras.procs.push(RawProc {
                    p,
                    m,
                    start,
                    end: None,
                    from_status: false,
                });
            }
        }
        s
    }
}
