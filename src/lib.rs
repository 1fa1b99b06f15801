//! # leakscope
//!
//! Finds goroutine leaks in Go services from what they already emit.
//!
//! ## The pipeline
//!
//! Inputs flow one way through four layers:
//!
//! 1. [`formats`] turns bytes into the model. The format is told from the
//!    content (gzip or not): pprof protobuf profiles, goroutine text dumps in
//!    every dialect Go prints (`?debug=1`; `?debug=2`, `runtime.Stack` and
//!    panic tracebacks), and folded stacks.
//! 2. [`model`] is the immutable data: strings and frames interned once,
//!    stacks as one prefix tree per session so equal stacks share an id,
//!    goroutines with their wait reasons and creators, snapshots.
//! 3. [`analysis`] groups goroutines by stack identity across dialects and
//!    snapshots, measures each group's growth and ranks leak suspects, each
//!    with a leak site, a wait reason and a creation site.
//! 4. [`cli`] (and the desktop app) present the results; [`live`] polls a
//!    running service's `/debug/pprof/` and saves every capture into a
//!    session folder that reopens as a session.
//!    [`watch`] is the always-on side: it polls cheaply, keeps each
//!    target's growth ranking current, exports Prometheus metrics and saves
//!    an incident folder (a session) when a trigger fires.
//! 5. [`export`] turns the same results into evidence for a ticket: flame
//!    graph SVGs (plain and differential, through inferno), folded stacks
//!    and a one-file incident report.
//!
//! ## Why goroutine leaks look like this
//!
//! A leaked goroutine is blocked forever: on a channel nobody reads, a mutex
//! nobody unlocks, a `WaitGroup` that never reaches zero. Each leak site
//! adds goroutines with the same stack at the rate its code path runs, so
//! across snapshots a leak is a stack group whose count keeps growing while
//! healthy worker pools stay flat. One snapshot can only rank by size and
//! by how long goroutines have waited.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod cli;
pub mod export;
pub mod formats;
pub mod jobs;
pub mod live;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod text;
#[cfg(feature = "gui")]
pub mod ui;
pub mod watch;
