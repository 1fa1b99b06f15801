//! When a watcher stops watching and captures evidence.
//!
//! Each trigger is a question asked of a target's window after every poll,
//! and each has a cooldown so a leak that keeps leaking yields one incident
//! per cooldown, not one per poll. The defaults follow what teams that run
//! this in production settled on: a total above a floor *and* well above its
//! recent mean (holmes' rule, so a big but steady service never fires), the
//! count doubling within the window (CockroachDB's), and, what only a
//! stack-aware watcher can ask, one stack group growing steadily for
//! minutes. The runtime's own proof of a leak fires at once.
//!
//! After a restart every count trigger waits until the count passes where
//! it was before (see [`super::window`]): a service refilling its pools and
//! connections is not a leak.

use std::collections::HashMap;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::window::{GroupView, Window};
use crate::analysis::wording::count_of;
use crate::model::incident::{Firing, FiringGroup};

/// The trigger settings: flags or the `[triggers]` table of a config file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TriggerConfig {
    /// `total`: fires when the total is at least this many…
    pub total_floor: u64,
    /// …and at least this multiple of the window's mean before it.
    pub total_ratio: f64,
    /// `doubling`: fires when the total is twice the segment's first, from
    /// at least `doubling_floor` goroutines.
    pub doubling: bool,
    /// Below this total, doubling is normal start-up noise, not a leak.
    pub doubling_floor: u64,
    /// `growth`: fires when one group grows at this many per minute or more…
    pub growth_per_minute: f64,
    /// …without a break for this long (seconds).
    pub growth_for_secs: f64,
    /// `proven`: fires when the runtime proves goroutines leaked (only where
    /// the server offers the `goroutineleak` profile).
    pub proven: bool,
    /// `match`: fires when `match_count` goroutines or more have a frame
    /// matching this regex…
    pub match_function: Option<String>,
    /// …or a stack at least this deep.
    pub match_depth: Option<u32>,
    /// How many goroutines must match before `match` fires.
    pub match_count: u64,
    /// After a trigger fires, it stays quiet this long (seconds).
    pub cooldown_secs: f64,
}

impl Default for TriggerConfig {
    fn default() -> TriggerConfig {
        TriggerConfig {
            total_floor: 1000,
            total_ratio: 1.25,
            doubling: true,
            doubling_floor: 100,
            growth_per_minute: 5.0,
            growth_for_secs: 600.0,
            proven: true,
            match_function: None,
            match_depth: None,
            match_count: 1,
            cooldown_secs: 1800.0,
        }
    }
}

impl TriggerConfig {
    /// Checks the settings and compiles the regex.
    pub fn compile(&self) -> Result<Triggers, String> {
        let positive = |v: f64, what: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a number of zero or more, not {v}"))
            }
        };
        positive(self.total_ratio, "total_ratio")?;
        positive(self.growth_per_minute, "growth_per_minute")?;
        positive(self.growth_for_secs, "growth_for_secs")?;
        positive(self.cooldown_secs, "cooldown_secs")?;
        let function = self
            .match_function
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| format!("match_function: {e}"))?;
        Ok(Triggers {
            config: self.clone(),
            function,
            growing_since: HashMap::new(),
            last_fired: HashMap::new(),
        })
    }
}

/// The triggers of one target's profile, with what they remember between polls.
#[derive(Clone, Debug)]
pub struct Triggers {
    config: TriggerConfig,
    function: Option<Regex>,
    /// Per group key, since when it has been growing fast enough.
    growing_since: HashMap<u64, i64>,
    /// Per trigger, when it last fired.
    last_fired: HashMap<&'static str, i64>,
}

fn secs_ns(secs: f64) -> i64 {
    Duration::from_secs_f64(secs.max(0.0))
        .as_nanos()
        .min(i64::MAX as u128) as i64
}

impl Triggers {
    /// The settings these triggers were built from, to describe a firing.
    pub fn config(&self) -> &TriggerConfig {
        &self.config
    }

    /// Asks every trigger of `window` after a poll at `now_ns`; returns
    /// those that fire (and starts their cooldowns). `proven` is what the
    /// newest goroutineleak profile proved, when one was read this poll.
    pub fn evaluate(
        &mut self,
        profile: &str,
        window: &Window,
        now_ns: i64,
        proven: Option<&Proven>,
    ) -> Vec<Firing> {
        let mut candidates = Vec::new();
        candidates.extend(self.total(window));
        candidates.extend(self.doubling(window));
        candidates.extend(self.growth(window, now_ns));
        candidates.extend(self.matched(window));
        if self.config.proven {
            candidates.extend(proven.and_then(proven_firing));
        }
        let cooldown = secs_ns(self.config.cooldown_secs);
        let mut fired = Vec::new();
        for (name, mut firing) in candidates {
            if self
                .last_fired
                .get(name)
                .is_some_and(|&t| now_ns.saturating_sub(t) < cooldown)
            {
                continue;
            }
            self.last_fired.insert(name, now_ns);
            firing.profile = profile.to_owned();
            fired.push(firing);
        }
        fired
    }

    fn total(&self, window: &Window) -> Option<(&'static str, Firing)> {
        let totals: Vec<u64> = window.totals().collect();
        let (&newest, before) = totals.split_last()?;
        if before.is_empty() || newest < self.config.total_floor || !past_ceiling(window, newest) {
            return None;
        }
        let mean = before.iter().sum::<u64>() as f64 / before.len() as f64;
        let threshold = (mean * self.config.total_ratio).max(self.config.total_floor as f64);
        (newest as f64 >= threshold && newest as f64 > mean).then(|| {
            (
                "total",
                Firing {
                    trigger: "total".to_owned(),
                    message: format!(
                        "{newest} {}, {:.0}% of the window's mean of {mean:.0} (fires from {:.0}% and {})",
                        noun(window),
                        newest as f64 / mean.max(1.0) * 100.0,
                        self.config.total_ratio * 100.0,
                        self.config.total_floor
                    ),
                    value: newest as f64,
                    threshold,
                    ..Firing::default()
                },
            )
        })
    }

    fn doubling(&self, window: &Window) -> Option<(&'static str, Firing)> {
        if !self.config.doubling {
            return None;
        }
        let mut totals = window.segment_totals();
        let (_, first) = totals.next()?;
        let (_, newest) = totals.last()?;
        let threshold = (first.max(1) * 2).max(self.config.doubling_floor);
        (newest >= threshold && past_ceiling(window, newest)).then(|| {
            (
                "doubling",
                Firing {
                    trigger: "doubling".to_owned(),
                    message: format!(
                        "{newest} {}, up from {first} at the start of the window",
                        noun(window)
                    ),
                    value: newest as f64,
                    threshold: threshold as f64,
                    ..Firing::default()
                },
            )
        })
    }

    /// The fastest group that has grown fast enough for long enough.
    fn growth(&mut self, window: &Window, now_ns: i64) -> Option<(&'static str, Firing)> {
        let rate = self.config.growth_per_minute;
        let fast = |g: &GroupView| {
            g.growing && g.above_ceiling() && g.per_minute.is_some_and(|r| r >= rate && r > 0.0)
        };
        let groups = window.groups();
        self.growing_since
            .retain(|k, _| groups.iter().any(|g| g.key == *k && fast(g)));
        for g in groups.iter().filter(|g| fast(g)) {
            self.growing_since.entry(g.key).or_insert(now_ns);
        }
        let need = secs_ns(self.config.growth_for_secs);
        let held = |g: &&GroupView| {
            self.growing_since
                .get(&g.key)
                .is_some_and(|&t| now_ns.saturating_sub(t) >= need)
        };
        let best = groups
            .iter()
            .filter(|g| fast(g))
            .filter(held)
            .max_by(|a, b| {
                a.per_minute
                    .partial_cmp(&b.per_minute)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })?;
        let per_minute = best.per_minute.unwrap_or(0.0);
        let since = self.growing_since.get(&best.key).copied().unwrap_or(now_ns);
        let minutes = now_ns.saturating_sub(since) as f64 / 60e9;
        Some((
            "growth",
            Firing {
                trigger: "growth".to_owned(),
                message: format!(
                    "{} ({}) grows {per_minute:.1}/min, at {} now, for {minutes:.1} min (fires from {rate}/min for {:.1} min)",
                    best.site,
                    best.wait_reason,
                    best.count,
                    self.config.growth_for_secs / 60.0
                ),
                value: per_minute,
                threshold: rate,
                group: Some(firing_group(best)),
                ..Firing::default()
            },
        ))
    }

    fn matched(&self, window: &Window) -> Option<(&'static str, Firing)> {
        if self.function.is_none() && self.config.match_depth.is_none() {
            return None;
        }
        let (count, site) = window.matching(self.function.as_ref(), self.config.match_depth);
        let need = self.config.match_count.max(1);
        (count >= need).then(|| {
            let what = match (&self.config.match_function, self.config.match_depth) {
                (Some(re), Some(d)) => format!("a frame matching {re:?} or {d}+ frames"),
                (Some(re), None) => format!("a frame matching {re:?}"),
                (None, Some(d)) => format!("{d}+ frames"),
                (None, None) => String::new(),
            };
            (
                "match",
                Firing {
                    trigger: "match".to_owned(),
                    message: format!(
                        "{count} {} with {what}, the most in {} (fires from {need})",
                        noun(window),
                        site.as_deref().unwrap_or("?")
                    ),
                    value: count as f64,
                    threshold: need as f64,
                    group: site.map(|site| FiringGroup {
                        site,
                        ..FiringGroup::default()
                    }),
                    ..Firing::default()
                },
            )
        })
    }
}

/// What the window counts: goroutines, or a count profile's entries.
fn noun(window: &Window) -> &'static str {
    if window.counts_goroutines() {
        "goroutines"
    } else {
        "counted"
    }
}

/// After a restart, a count fires only past where it was before.
fn past_ceiling(window: &Window, newest: u64) -> bool {
    window.total_ceiling().is_none_or(|c| newest > c)
}

fn firing_group(g: &GroupView) -> FiringGroup {
    FiringGroup {
        site: g.site.clone(),
        wait_reason: g.wait_reason.clone(),
        count: g.count.max(g.proven),
        per_minute: g.per_minute,
    }
}

/// What one goroutineleak profile proved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Proven {
    /// Goroutines the runtime proved leaked.
    pub total: u64,
    /// The group with most of them.
    pub top: Option<GroupView>,
}

fn proven_firing(p: &Proven) -> Option<(&'static str, Firing)> {
    (p.total > 0).then(|| {
        (
            "proven",
            Firing {
                trigger: "proven".to_owned(),
                message: match &p.top {
                    Some(g) => format!(
                        "the runtime proved {} leaked, {} of them in {} ({})",
                        count_of(p.total, "goroutine"),
                        g.proven,
                        g.site,
                        g.wait_reason
                    ),
                    None => format!(
                        "the runtime proved {} leaked",
                        count_of(p.total, "goroutine")
                    ),
                },
                value: p.total as f64,
                threshold: 1.0,
                group: p.top.as_ref().map(firing_group),
                ..Firing::default()
            },
        )
    })
}
