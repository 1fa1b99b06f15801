//! Resource limits for every loader, in one place.
//!
//! They are set so that real captures load (a 1,000,000-goroutine dump is
//! about 560 MB of text, a busy service's trace a few hundred MB) while
//! hostile input meets a clear error long before memory runs out.

/// Longest string (function name, file path, label) any input keeps; the
/// interner of the model enforces it for every parser at once, and loading
/// warns when it cut one.
pub use crate::model::intern::MAX_STRING_BYTES;

/// Latest capture time a file or manifest may state, in Unix ns (2^62 ns is
/// in the year 2116). Times before 1970 or after this are ignored with a
/// warning: everything downstream subtracts and spaces capture times, and a
/// forged `i64::MIN` would overflow there.
pub const MAX_UNIX_NS: i64 = 1 << 62;

/// Longest wait a dump header may state (`[select, N minutes]`): a century.
/// Larger values are dropped, so that minutes turned into ns stay far from
/// overflowing.
pub const MAX_WAIT_MINUTES: u32 = 100 * 366 * 24 * 60;

/// A Unix time in ns if it is one a capture can have (see [`MAX_UNIX_NS`]).
pub fn plausible_unix_ns(ns: i64) -> Option<i64> {
    (1..=MAX_UNIX_NS).contains(&ns).then_some(ns)
}

/// Limits applied while loading one input.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest input read from disk or network, compressed or not.
    pub max_input_bytes: u64,
    /// Largest size a gzip stream may inflate to.
    pub max_inflated_bytes: u64,
    /// Frames kept per stack; deeper stacks keep their innermost frames and
    /// get a warning (Go itself prints at most 100 frames per goroutine).
    pub max_stack_depth: usize,
    /// Longest line a text parser looks at; longer lines are skipped.
    pub max_line_bytes: usize,
    /// Goroutines (or records) per input.
    pub max_goroutines: u64,
    /// Goroutine state spans kept from one execution trace, 8 bytes each
    /// (a busy 35 MB trace has about six million).
    pub max_trace_spans: u64,
    /// Batches read from one trace; the rest is left out with a warning.
    /// Real batches average 8 to 64 KB (the 36.5 MB test trace has 615), so
    /// four million is a trace of tens of GB, while a forged file of empty
    /// five-byte batches stops at 20 MB and about 200 MB of batch records.
    pub max_trace_batches: u64,
    /// Generations read from one Go 1.22+ trace; Go starts one a second, so
    /// this is a day of tracing. Each costs a few hundred bytes of state
    /// whatever its size, so a forged file of tiny ones stops here.
    pub max_trace_generations: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 4 << 30,
            max_inflated_bytes: 2 << 30,
            max_stack_depth: 4096,
            max_line_bytes: 1 << 20,
            max_goroutines: 20_000_000,
            max_trace_spans: 500_000_000,
            max_trace_batches: 4_000_000,
            max_trace_generations: 100_000,
        }
    }
}

/// Goroutines an input may still claim.
///
/// Records that aggregate goroutines (pprof samples, `debug=1` records)
/// carry a count, and what comes after loading is sized by the sum: the
/// timeline has one lane per goroutine. A forged count of a billion must not
/// become a billion lanes, so the sum over one input stops at
/// [`Limits::max_goroutines`].
#[derive(Clone, Debug)]
pub(crate) struct GoroutineBudget {
    cap: u64,
    left: u64,
    /// Goroutines claimed beyond the cap.
    pub(crate) dropped: u64,
}

impl GoroutineBudget {
    pub(crate) fn new(limits: &Limits) -> GoroutineBudget {
        GoroutineBudget {
            cap: limits.max_goroutines,
            left: limits.max_goroutines,
            dropped: 0,
        }
    }

    /// The part of `count` that still fits.
    pub(crate) fn take(&mut self, count: u64) -> u64 {
        let n = count.min(self.left);
        self.left -= n;
        self.dropped = self.dropped.saturating_add(count - n);
        n
    }

    /// The warning for what did not fit, if anything.
    pub(crate) fn warn(&self, warnings: &mut crate::model::Warnings) {
        if self.dropped > 0 {
            let (cap, dropped) = (self.cap, self.dropped);
            warnings.add("count-clamped", || {
                format!(
                    "the goroutine counts add up to more than {cap}, the limit; \
                     left out {dropped} goroutines"
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stops_at_the_cap() {
        let mut b = GoroutineBudget::new(&Limits {
            max_goroutines: 10,
            ..Limits::default()
        });
        assert_eq!(b.take(4), 4);
        assert_eq!(b.take(u64::MAX), 6);
        assert_eq!(b.take(1), 0);
        assert_eq!(b.dropped, u64::MAX - 5);
    }
}
