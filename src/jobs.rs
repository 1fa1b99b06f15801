//! Background work with progress and cancel, free of any UI toolkit.
//!
//! The app starts a job, keeps the handle, and polls it each frame; the
//! worker calls `wake` after finishing so the UI (which wires `wake` to a
//! repaint request) draws the result without polling in a loop. Dropping
//! the handle cancels the job, so a superseded load stops early.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use crate::progress::Progress;

/// A callback that asks the UI to draw again; callable from any thread.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// Handle of a running job producing a `T`.
pub struct Job<T> {
    rx: Receiver<T>,
    progress: Arc<Progress>,
    name: String,
    done: bool,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a named thread (it may use rayon inside).
    pub fn spawn(
        name: &str,
        wake: Wake,
        work: impl FnOnce(&Progress) -> T + Send + 'static,
    ) -> Job<T> {
        let (tx, rx) = mpsc::channel();
        let progress = Progress::new();
        let p = Arc::clone(&progress);
        let spawned = std::thread::Builder::new()
            .name(format!("leakscope-{name}"))
            .spawn(move || {
                let out = work(&p);
                // The receiver is gone when the job was dropped: nothing to do.
                tx.send(out).ok();
                wake();
            });
        Job {
            rx,
            progress,
            name: name.to_owned(),
            // A thread that could not start sends nothing: report it as done
            // so the UI does not wait forever.
            done: spawned.is_err(),
        }
    }

    /// The result, once; `None` while running (or after it was taken).
    pub fn try_take(&mut self) -> Option<T> {
        if self.done {
            return None;
        }
        match self.rx.try_recv() {
            Ok(v) => {
                self.done = true;
                Some(v)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.done = true;
                None
            }
        }
    }

    /// True once the result was taken or can never come (the worker panicked,
    /// or its thread did not start): the UI stops showing the job as running.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// What the worker reports, for a progress bar; shared with the worker.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The name given to [`Job::spawn`], for the status line (and the thread's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Asks the worker to stop; it does at its next check, so a result may still come.
    pub fn cancel(&self) {
        self.progress.cancel();
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.progress.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_wakes_and_delivers_once() {
        let woken = Arc::new(AtomicUsize::new(0));
        let w = Arc::clone(&woken);
        let mut job = Job::spawn(
            "t",
            Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            }),
            |p| {
                p.set(0.5);
                42
            },
        );
        let mut got = None;
        for _ in 0..1000 {
            if let Some(v) = job.try_take() {
                got = Some(v);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(got, Some(42));
        assert_eq!(job.try_take(), None);
        assert!(job.is_done());
        assert_eq!(woken.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropping_cancels() {
        let (tx, rx) = mpsc::channel();
        let job = Job::spawn("c", Arc::new(|| {}), move |p| {
            while !p.is_cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            tx.send(()).ok();
        });
        drop(job);
        assert!(rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
    }
}
