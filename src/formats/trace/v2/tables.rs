//! The first look at a generation: its string, stack and CPU-sample
//! tables, its clock frequency and its threads' event batches, read before
//! any event is replayed, because events refer to the tables by id.

use super::wire::ev;
use super::*;

pub(super) fn scan_tables<'a>(data: &'a [u8], g: &Generation, limits: &Limits) -> Scan<'a> {
    let mut s = Scan {
        number: g.number,
        freq: None,
        strings: FxHashMap::default(),
        stacks: FxHashMap::default(),
        frames: Vec::new(),
        threads: Vec::new(),
        counter: Counter::default(),
        counts: SegmentCounts::default(),
        extras: Extras::default(),
        type_counts: vec![0; 256],
        record_counts: Vec::new(),
        events: 0,
        warnings: Warnings::default(),
        has_strings: false,
        has_stacks: false,
        schedule: None,
    };
    let mut thread_pos: FxHashMap<u64, usize> = FxHashMap::default();
    let mut n = Tally::default();
    for (i, b) in g.batches.iter().enumerate() {
        let payload = data.get(b.payload.clone()).unwrap_or(&[]);
        let mut r = Reader::new(payload);
        // The batch's kind byte; its records follow.
        if b.kind != BatchKind::Events && b.kind != BatchKind::Experimental {
            r.byte();
        }
        let damage = match b.kind {
            BatchKind::Events => {
                let idx = *thread_pos.entry(b.m).or_insert_with(|| {
                    s.threads.push((b.m, Vec::new()));
                    s.threads.len() - 1
                });
                if let Some((_, list)) = s.threads.get_mut(idx) {
                    list.push(i);
                }
                None
            }
            BatchKind::Experimental => None,
            BatchKind::Strings => strings(&mut r, &mut s, &mut n.strings),
            BatchKind::Stacks => stacks(&mut r, &mut s, &mut n.stacks, limits),
            BatchKind::Cpu => cpu_samples(&mut r, &mut s, &mut n.cpu),
            BatchKind::Frequency => match r.uvarint() {
                Some(f) if f > 0 => {
                    set_freq(&mut s, f);
                    None
                }
                _ => Some("an unreadable frequency"),
            },
            BatchKind::Sync => sync(&mut r, &mut s),
        };
        n.batches[b.kind as usize] += 1;
        if let Some(what) = damage {
            let (offset, number) = (b.offset, g.number);
            s.warnings.add("trace-corrupt-batch", || {
                format!("{what} in the batch at byte {offset} (generation {number}); ignored the rest of that batch")
            });
        }
    }
    let kinds = n.batches;
    let count = |k: BatchKind| kinds[k as usize];
    s.has_strings = count(BatchKind::Strings) > 0;
    s.has_stacks = count(BatchKind::Stacks) > 0;
    s.record_counts = vec![
        ("EventBatch", g.batches.len() as u64),
        ("Strings", count(BatchKind::Strings)),
        ("Stacks", count(BatchKind::Stacks)),
        ("CPUSamples", count(BatchKind::Cpu)),
        (
            "Frequency",
            count(BatchKind::Frequency) + count(BatchKind::Sync),
        ),
        ("Sync", count(BatchKind::Sync)),
        ("String", n.strings),
        ("Stack", n.stacks),
        ("CPUSample", n.cpu),
        ("EndOfGeneration", u64::from(g.ended)),
    ];
    s
}

/// Records of a generation's table batches, and the batches per kind.
#[derive(Default)]
struct Tally {
    batches: [u64; 7],
    strings: u64,
    stacks: u64,
    cpu: u64,
}

/// A string batch's entries; what stopped it if it is damaged.
fn strings<'a>(r: &mut Reader<'a>, s: &mut Scan<'a>, n: &mut u64) -> Option<&'static str> {
    while !r.is_empty() {
        let entry = (|| {
            if r.byte()? != ev::STRING {
                return None;
            }
            let id = r.uvarint()?;
            let len = usize::try_from(r.uvarint()?).ok()?;
            Some((id, r.bytes(len)?))
        })();
        match entry {
            Some((id, bytes)) if id != 0 => {
                if s.strings.insert(id, bytes).is_some() {
                    let number = s.number;
                    s.warnings.add("trace-duplicate-id", || {
                        format!("string id {id} defined twice in generation {number}")
                    });
                } else {
                    *n += 1;
                }
            }
            _ => return Some("an unreadable string"),
        }
    }
    None
}

/// A stack batch's entries; what stopped it if it is damaged.
fn stacks(
    r: &mut Reader<'_>,
    s: &mut Scan<'_>,
    n: &mut u64,
    limits: &Limits,
) -> Option<&'static str> {
    while !r.is_empty() {
        let start = s.frames.len();
        let entry = (|| {
            if r.byte()? != ev::STACK {
                return None;
            }
            let id = r.uvarint()?;
            let n = r.uvarint()?;
            // Four varints of at least a byte each per frame.
            if n > (r.remaining() / 4) as u64 {
                return None;
            }
            for _ in 0..n {
                let _pc = r.uvarint()?;
                let f = (r.uvarint()?, r.uvarint()?, r.uvarint()?);
                s.frames.push(f);
            }
            Some(id)
        })();
        match entry {
            Some(id) if id != 0 => {
                let mut end = s.frames.len();
                if end - start > limits.max_stack_depth {
                    end = start + limits.max_stack_depth;
                    s.frames.truncate(end);
                    s.warnings.add("trace-deep-stack", || {
                        format!(
                            "stacks deeper than {} frames were cut",
                            limits.max_stack_depth
                        )
                    });
                }
                if s.stacks.insert(id, start..end).is_some() {
                    let number = s.number;
                    s.warnings.add("trace-duplicate-id", || {
                        format!("stack id {id} defined twice in generation {number}")
                    });
                } else {
                    *n += 1;
                }
            }
            _ => {
                s.frames.truncate(start);
                return Some("an unreadable stack");
            }
        }
    }
    None
}

/// A CPU-sample batch's samples; what stopped it if it is damaged.
fn cpu_samples(r: &mut Reader<'_>, s: &mut Scan<'_>, n: &mut u64) -> Option<&'static str> {
    while !r.is_empty() {
        let entry = (|| {
            if r.byte()? != ev::CPU_SAMPLE {
                return None;
            }
            Some(RawCpu {
                tick: r.uvarint()?,
                m: r.uvarint()?,
                p: r.uvarint()?,
                g: r.uvarint()?,
                stack: r.uvarint()?,
            })
        })();
        match entry {
            Some(c) => {
                *n += 1;
                s.extras.cpu.push(c);
            }
            None => return Some("an unreadable CPU sample"),
        }
    }
    None
}

/// A sync batch (Go 1.25+): the frequency and a clock snapshot.
fn sync(r: &mut Reader<'_>, s: &mut Scan<'_>) -> Option<&'static str> {
    while let Some(t) = r.byte() {
        match t {
            ev::FREQUENCY => match r.uvarint() {
                Some(f) if f > 0 => set_freq(s, f),
                _ => return Some("an unreadable frequency"),
            },
            ev::CLOCK_SNAPSHOT => {
                if (0..4).any(|_| r.uvarint().is_none()) {
                    return Some("an unreadable clock snapshot");
                }
            }
            _ => return Some("an unknown record in a sync batch"),
        }
    }
    None
}

fn set_freq(s: &mut Scan, f: u64) {
    if s.freq.is_some() {
        s.warnings.add("trace-duplicate-frequency", || {
            format!(
                "generation {} has two clock frequencies; kept the first",
                s.number
            )
        });
    } else {
        s.freq = Some(f);
    }
}
