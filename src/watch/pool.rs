//! Many targets, a fixed number of threads.
//!
//! A fleet is a hundred targets or more; a thread each would be a hundred
//! stacks and a hundred sleepers. Instead a few workers share the targets:
//! each takes a target whose poll is due and that no other worker holds,
//! polls it, and puts it back with its next due time. A target that hangs
//! holds one worker until its timeouts end; the others go on with the rest,
//! so one slow or dead target never delays another (as long as fewer
//! targets hang than there are workers). Targets found by discovery join
//! and leave between polls.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::discover::Discovered;
use super::{Log, Metrics, TICK, TargetState, TargetSummary, WatchConfig, client_for};
use crate::live::{LiveError, Target};

/// One target and its state; a worker holds the lock while polling it.
struct Slot<'a> {
    key: String,
    state: Mutex<TargetState<'a>>,
}

/// The targets being watched, and the summaries of those that left.
struct Targets<'a> {
    slots: Mutex<Vec<Arc<Slot<'a>>>>,
    left: Mutex<Vec<TargetSummary>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a worker panicked mid-poll; its state is still
    // the best there is.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<'a> Targets<'a> {
    fn add(
        &self,
        config: &'a WatchConfig,
        target: &Target,
        metrics: &'a Metrics,
        log: &'a Log<'a>,
    ) -> Result<bool, LiveError> {
        let key = target.base_url();
        if lock(&self.slots).iter().any(|s| s.key == key) {
            return Ok(false);
        }
        let client = client_for(config, target)?;
        let Some(state) = TargetState::new(config, client, metrics, log) else {
            return Ok(false);
        };
        lock(&self.slots).push(Arc::new(Slot {
            key,
            state: Mutex::new(state),
        }));
        Ok(true)
    }

    /// Drops the targets not in `keep`; their summaries are kept.
    fn retain(&self, keep: &HashSet<String>, metrics: &Metrics, log: &Log<'_>) {
        let gone: Vec<Arc<Slot<'a>>> = {
            let mut slots = lock(&self.slots);
            let (stay, gone) = slots.drain(..).partition(|s| keep.contains(&s.key));
            *slots = stay;
            gone
        };
        for slot in gone {
            // Waits for a poll in flight to end.
            let state = lock(&slot.state);
            metrics.forget(&slot.key);
            log(&format!("{}: left (no longer discovered)", slot.key));
            lock(&self.left).push(state.finish());
        }
    }

    fn all_done(&self) -> bool {
        let slots = lock(&self.slots);
        !slots.is_empty()
            && slots
                .iter()
                .all(|s| s.state.try_lock().is_ok_and(|st| st.done()))
    }
}

/// Workers for `n` targets: one each up to a bound.
fn workers(config: &WatchConfig) -> usize {
    let known = config.targets.len().max(1);
    if config.discovery.is_some() {
        config.workers.max(1)
    } else {
        known.min(config.workers.max(1))
    }
}

pub(super) fn run(
    config: &WatchConfig,
    metrics: &Metrics,
    stop: &AtomicBool,
    log: &Log<'_>,
) -> Result<Vec<TargetSummary>, LiveError> {
    let targets = Targets {
        slots: Mutex::new(Vec::new()),
        left: Mutex::new(Vec::new()),
    };
    for t in &config.targets {
        targets.add(config, t, metrics, log)?;
    }
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        if let Some(d) = &config.discovery {
            let (targets, finished) = (&targets, &finished);
            scope.spawn(move || discover_loop(d, config, targets, metrics, stop, finished, log));
        }
        for i in 0..workers(config) {
            let (targets, finished) = (&targets, &finished);
            scope.spawn(move || worker(i, targets, config, stop, finished));
        }
    });
    let mut out: Vec<TargetSummary> = lock(&targets.slots)
        .iter()
        .map(|s| lock(&s.state).finish())
        .collect();
    out.extend(lock(&targets.left).drain(..));
    Ok(out)
}

/// Takes due targets one after another until the watch ends.
fn worker(
    index: usize,
    targets: &Targets<'_>,
    config: &WatchConfig,
    stop: &AtomicBool,
    finished: &AtomicBool,
) {
    let stopping = || stop.load(Ordering::Relaxed) || finished.load(Ordering::Relaxed);
    let mut turn = index;
    while !stopping() {
        if config.polls.is_some() && targets.all_done() {
            finished.store(true, Ordering::Relaxed);
            break;
        }
        let slots: Vec<Arc<Slot<'_>>> = lock(&targets.slots).clone();
        let now = Instant::now();
        let mut soonest = now + TICK;
        let mut polled = false;
        // Start where the last turn left off, so targets share the workers fairly.
        turn = turn.wrapping_add(1);
        for k in 0..slots.len() {
            let slot = &slots[(turn + k) % slots.len()];
            let Ok(mut state) = slot.state.try_lock() else {
                continue;
            };
            if state.done() {
                continue;
            }
            if state.next <= now {
                state.step(&stopping);
                polled = true;
                break;
            }
            soonest = soonest.min(state.next);
        }
        if !polled {
            let wait = soonest.saturating_duration_since(Instant::now());
            std::thread::sleep(wait.min(TICK).max(Duration::from_millis(1)));
        }
    }
}

/// Asks the discovery source again every refresh; targets join and leave.
fn discover_loop<'a>(
    discovery: &Discovered,
    config: &'a WatchConfig,
    targets: &Targets<'a>,
    metrics: &'a Metrics,
    stop: &AtomicBool,
    finished: &AtomicBool,
    log: &'a Log<'a>,
) {
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) && !finished.load(Ordering::Relaxed) {
        if Instant::now() < next {
            std::thread::sleep(TICK);
            continue;
        }
        next = Instant::now() + discovery.refresh;
        let found = match discovery.list(&|| stop.load(Ordering::Relaxed)) {
            Ok(found) => found,
            Err(e) => {
                // Keep watching what was found before.
                log(&format!("discovery: {e}"));
                continue;
            }
        };
        // Targets named on the command line stay whatever is discovered.
        let mut keep: HashSet<String> = config.targets.iter().map(Target::base_url).collect();
        for target in &found {
            keep.insert(target.base_url());
            match targets.add(config, target, metrics, log) {
                Ok(true) => log(&format!("{}: discovered", target.base_url())),
                Ok(false) => {}
                Err(e) => log(&format!("{}: {e}", target.base_url())),
            }
        }
        targets.retain(&keep, metrics, log);
    }
}
