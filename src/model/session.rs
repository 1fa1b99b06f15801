//! A session: every input opened together, over one shared stack table.

use super::snapshot::{Format, Snapshot, Source};
use super::stack::StackTable;
use super::timeline::Trace;
use super::warning::Warnings;

/// One loaded file.
// A trace is boxed and snapshots are not: sessions hold many snapshots and
// few traces, so the enum stays snapshot-sized on purpose.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Input {
    /// A goroutine snapshot or a sampled profile: what leak ranking and flame
    /// graphs read.
    Snapshot(Snapshot),
    /// Boxed: a trace is large and rare beside many snapshots.
    /// Shared so views can hold it without copying millions of spans.
    Trace(std::sync::Arc<Trace>),
}

impl Input {
    /// Where the input came from, whichever kind it is, for naming it in lists
    /// and reports.
    pub fn source(&self) -> &Source {
        match self {
            Input::Snapshot(s) => &s.source,
            Input::Trace(t) => &t.source,
        }
    }

    /// What the loader skipped or repaired, whichever kind it is, so every view
    /// can show it.
    pub fn warnings(&self) -> &Warnings {
        match self {
            Input::Snapshot(s) => &s.warnings,
            Input::Trace(t) => &t.warnings,
        }
    }

    /// For warnings found outside the parser (the loader's own checks, a
    /// session manifest's problems); copies a shared trace only if another view
    /// holds it.
    pub fn warnings_mut(&mut self) -> &mut Warnings {
        match self {
            Input::Snapshot(s) => &mut s.warnings,
            Input::Trace(t) => &mut std::sync::Arc::make_mut(t).warnings,
        }
    }

    /// The snapshot, for views that only read snapshots and skip traces.
    pub fn as_snapshot(&self) -> Option<&Snapshot> {
        match self {
            Input::Snapshot(s) => Some(s),
            Input::Trace(_) => None,
        }
    }

    /// The trace, shared, for views that keep it.
    pub fn trace_arc(&self) -> Option<&std::sync::Arc<Trace>> {
        match self {
            Input::Trace(t) => Some(t),
            Input::Snapshot(_) => None,
        }
    }

    /// The trace, borrowed, for one-off reads that do not keep it.
    pub fn as_trace(&self) -> Option<&Trace> {
        match self {
            Input::Trace(t) => Some(t),
            Input::Snapshot(_) => None,
        }
    }

    /// The dialect it was parsed as, to tell files apart in lists.
    pub fn format(&self) -> Format {
        self.source().format
    }
}

/// Inputs in the order they were given, and the table their ids point into.
///
/// Inputs are shared: a copy of a session (the app's, while a live capture
/// is added to it off the UI thread) copies the stack table, which grows
/// with distinct stacks only, and not the goroutines of every snapshot.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// The one table every input's ids point into, so equal stacks of different
    /// files share an id.
    pub stacks: StackTable,
    /// Every input in the order given; shared so copies of a session stay
    /// cheap.
    pub inputs: Vec<std::sync::Arc<Input>>,
}

impl Session {
    /// Adds an input whose ids point into `table`, rewriting them into the session's table.
    pub fn add(&mut self, table: &StackTable, input: Input) {
        let map = self.stacks.absorb(table);
        let input = match input {
            Input::Snapshot(mut s) => {
                s.remap(&map);
                Input::Snapshot(s)
            }
            Input::Trace(mut t) => {
                // Unique right after loading, so this does not copy.
                std::sync::Arc::make_mut(&mut t).remap(&map);
                Input::Trace(t)
            }
        };
        self.inputs.push(std::sync::Arc::new(input));
    }

    /// Adds an input with the table it was parsed into, taking the table:
    /// the first input of a session needs no copy and no id rewriting.
    pub fn add_owned(&mut self, table: StackTable, input: Input) {
        if self.inputs.is_empty()
            && self.stacks.stack_count() == 1
            && self.stacks.frame_count() == 0
            && self.stacks.strings().len() == 1
        {
            self.stacks = table;
            self.inputs.push(std::sync::Arc::new(input));
        } else {
            self.add(&table, input);
        }
    }

    /// The snapshots in input order, for analyses that ignore traces.
    pub fn snapshots(&self) -> impl Iterator<Item = &Snapshot> {
        self.inputs.iter().filter_map(|i| i.as_snapshot())
    }

    /// The traces in input order, for analyses that ignore snapshots.
    pub fn traces(&self) -> impl Iterator<Item = &Trace> {
        self.inputs.iter().filter_map(|i| i.as_trace())
    }
}
