//! Counted warnings of a partial load.
//!
//! A dump pasted from a log can have thousands of lines the parser skips;
//! users need to know that it happened, how often and where first, not ten
//! thousand identical messages.

use std::fmt;

use serde::Serialize;

/// One kind of problem met while loading, with how often it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable short name (`skipped-line`, `truncated`) for scripts and tests.
    pub kind: &'static str,
    /// What happened the first time, with its location.
    pub message: String,
    /// How many times it happened.
    pub count: u64,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count > 1 {
            write!(f, "{} ({} times)", self.message, self.count)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// Warnings of one input, merged by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    list: Vec<Warning>,
}

impl Warnings {
    /// Records one occurrence; the message is built only for the first of its kind.
    pub fn add(&mut self, kind: &'static str, message: impl FnOnce() -> String) {
        self.add_n(kind, 1, message);
    }

    /// Records `n` occurrences at once.
    pub fn add_n(&mut self, kind: &'static str, n: u64, message: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        if let Some(w) = self.list.iter_mut().find(|w| w.kind == kind) {
            w.count += n;
        } else {
            self.list.push(Warning {
                kind,
                message: message(),
                count: n,
            });
        }
    }

    /// Takes over the warnings of another input or stage, adding counts of
    /// kinds both have, so one list per input stays short.
    pub fn extend(&mut self, other: Warnings) {
        for w in other.list {
            let Warning {
                kind,
                message,
                count,
            } = w;
            self.add_n(kind, count, || message);
        }
    }

    /// The warnings in the order their kinds first occurred, for listing them.
    pub fn iter(&self) -> impl Iterator<Item = &Warning> {
        self.list.iter()
    }

    /// Whether the load was clean, so views show a warning badge only when
    /// needed.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many distinct kinds of warning there are (not occurrences: see
    /// [`Warnings::count`]).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Occurrences of one kind.
    pub fn count(&self, kind: &str) -> u64 {
        self.list
            .iter()
            .filter(|w| w.kind == kind)
            .map(|w| w.count)
            .sum()
    }
}
