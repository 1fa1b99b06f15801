//! Resource limits for every loader, in one place.
//!
//! They are set so that real captures load (a 1,000,000-goroutine dump is
//! about 560 MB of text, a busy service's trace a few hundred MB) while
//! hostile input meets a clear error long before memory runs out.

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
        }
    }
}
