//! Progress and cancellation shared between a worker and whoever watches it.
//!
//! Parsers take a `&Progress` instead of a callback into the UI, so they stay
//! free of egui and can be driven the same way from the CLI, the GUI and tests.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Fraction done (0..=1) of the current stage, its name, and a cancel flag.
#[derive(Debug, Default)]
pub struct Progress {
    fraction_bits: AtomicU32,
    stage: Mutex<String>,
    cancel: AtomicBool,
}

impl Progress {
    /// Shared, because the worker reports while another thread watches.
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    /// A progress nobody watches, for one-shot calls and tests.
    pub fn none() -> Progress {
        Progress::default()
    }

    /// Starts a named stage (shown to the user) and resets the fraction to 0.
    pub fn set_stage(&self, stage: &str) {
        if let Ok(mut s) = self.stage.lock() {
            s.clear();
            s.push_str(stage);
        }
        self.set(0.0);
    }

    /// The fraction done of the current stage; clamped to 0..=1.
    pub fn set(&self, fraction: f32) {
        self.fraction_bits
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    /// Sets the fraction from a position in a byte buffer.
    pub fn set_pos(&self, pos: usize, len: usize) {
        if len > 0 {
            self.set(pos as f32 / len as f32);
        }
    }

    /// The last fraction set, 0..=1, for a progress bar.
    pub fn fraction(&self) -> f32 {
        f32::from_bits(self.fraction_bits.load(Ordering::Relaxed))
    }

    /// The current stage's name; empty before the first one.
    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks the worker to stop; it does so at its next [`Progress::is_cancelled`] check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Workers check this between chunks of work and return early when set.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
