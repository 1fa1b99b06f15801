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
    let (mut n_strings, mut n_stacks, mut n_cpu) = (0u64, 0u64, 0u64);
    let mut kinds = [0u64; 7];
    for (i, b) in g.batches.iter().enumerate() {
        let payload = data.get(b.payload.clone()).unwrap_or(&[]);
        let mut r = Reader::new(payload);
        let bad = |s: &mut Scan, what: &str| {
            let offset = b.offset;
            let number = g.number;
            s.warnings.add("trace-corrupt-batch", || {
                format!("{what} in the batch at byte {offset} (generation {number}); ignored the rest of that batch")
            });
        };
        match b.kind {
            BatchKind::Events => {
                kinds[0] += 1;
                let idx = *thread_pos.entry(b.m).or_insert_with(|| {
                    s.threads.push((b.m, Vec::new()));
                    s.threads.len() - 1
                });
                if let Some((_, list)) = s.threads.get_mut(idx) {
                    list.push(i);
                }
            }
            BatchKind::Experimental => kinds[6] += 1,
            BatchKind::Strings => {
                kinds[1] += 1;
                r.byte();
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
                                s.warnings.add("trace-duplicate-id", || {
                                    format!(
                                        "string id {id} defined twice in generation {}",
                                        g.number
                                    )
                                });
                            } else {
                                n_strings += 1;
                            }
                        }
                        _ => {
                            bad(&mut s, "an unreadable string");
                            break;
                        }
                    }
                }
            }
            BatchKind::Stacks => {
                kinds[2] += 1;
                r.byte();
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
                                s.warnings.add("trace-duplicate-id", || {
                                    format!(
                                        "stack id {id} defined twice in generation {}",
                                        g.number
                                    )
                                });
                            } else {
                                n_stacks += 1;
                            }
                        }
                        _ => {
                            s.frames.truncate(start);
                            bad(&mut s, "an unreadable stack");
                            break;
                        }
                    }
                }
            }
            BatchKind::Cpu => {
                kinds[3] += 1;
                r.byte();
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
                            n_cpu += 1;
                            s.extras.cpu.push(c);
                        }
                        None => {
                            bad(&mut s, "an unreadable CPU sample");
                            break;
                        }
                    }
                }
            }
            BatchKind::Frequency => {
                kinds[4] += 1;
                r.byte();
                match r.uvarint() {
                    Some(f) if f > 0 => set_freq(&mut s, f),
                    _ => bad(&mut s, "an unreadable frequency"),
                }
            }
            BatchKind::Sync => {
                kinds[5] += 1;
                r.byte();
                while let Some(t) = r.byte() {
                    match t {
                        ev::FREQUENCY => match r.uvarint() {
                            Some(f) if f > 0 => set_freq(&mut s, f),
                            _ => {
                                bad(&mut s, "an unreadable frequency");
                                break;
                            }
                        },
                        ev::CLOCK_SNAPSHOT => {
                            if (0..4).any(|_| r.uvarint().is_none()) {
                                bad(&mut s, "an unreadable clock snapshot");
                                break;
                            }
                        }
                        _ => {
                            bad(&mut s, "an unknown record in a sync batch");
                            break;
                        }
                    }
                }
            }
        }
    }
    s.has_strings = kinds[1] > 0;
    s.has_stacks = kinds[2] > 0;
    s.record_counts = vec![
        ("EventBatch", g.batches.len() as u64),
        ("Strings", kinds[1]),
        ("Stacks", kinds[2]),
        ("CPUSamples", kinds[3]),
        ("Frequency", kinds[4] + kinds[5]),
        ("Sync", kinds[5]),
        ("String", n_strings),
        ("Stack", n_stacks),
        ("CPUSample", n_cpu),
        ("EndOfGeneration", u64::from(g.ended)),
    ];
    s
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
