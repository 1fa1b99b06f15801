//! What a watcher tells Prometheus, so alerts fire where teams already look.
//!
//! Series per target (`target` is the base URL as given), per profile, and
//! for the growing groups a bounded top K per target and profile labelled by
//! leak site and wait reason: short, stable labels, so a group keeps its
//! series across polls and restarts and the number of series never grows
//! with time. Capture durations are the cost the watcher imposes on the
//! service, worth alerting on too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::window::GroupView;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProfileLabels {
    target: String,
    profile: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    target: String,
    profile: String,
    site: String,
    wait_reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TriggerLabels {
    target: String,
    profile: String,
    trigger: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    target: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CaptureLabels {
    target: String,
    kind: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

fn duration_histogram() -> Histogram {
    // 5 ms to about 80 s: a debug=0 poll to a long trace.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// The watcher's metrics and the registry that serves them.
pub struct Metrics {
    registry: Registry,
    up: Family<TargetLabels, Gauge>,
    total: Family<ProfileLabels, Gauge>,
    group_count: Family<GroupLabels, Gauge>,
    group_growth: Family<GroupLabels, FloatGauge>,
    proven: Family<TargetLabels, Gauge>,
    fired: Family<TriggerLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    restarts: Family<TargetLabels, Counter>,
    capture_seconds: Family<CaptureLabels, Histogram, fn() -> Histogram>,
    incidents_removed: Counter,
    /// The group series set last, per target and profile, to remove those
    /// that left the top K.
    shown: Mutex<HashMap<ProfileLabels, Vec<GroupLabels>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every series under the `leakscope_` prefix, empty until the first poll.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("leakscope");
        let up = Family::<TargetLabels, Gauge>::default();
        let total = Family::<ProfileLabels, Gauge>::default();
        let group_count = Family::<GroupLabels, Gauge>::default();
        let group_growth = Family::<GroupLabels, FloatGauge>::default();
        let proven = Family::<TargetLabels, Gauge>::default();
        let fired = Family::<TriggerLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let restarts = Family::<TargetLabels, Counter>::default();
        let capture_seconds =
            Family::<CaptureLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        let incidents_removed = Counter::default();
        registry.register(
            "target_up",
            "1 when the last poll of the target succeeded",
            up.clone(),
        );
        registry.register(
            "profile_total",
            "Goroutines (or the profile's count) in the newest snapshot",
            total.clone(),
        );
        registry.register(
            "group_count",
            "Goroutines of a top growing stack group in the newest snapshot",
            group_count.clone(),
        );
        registry.register(
            "group_growth_per_minute",
            "Growth per minute of a top growing stack group (0 while not growing)",
            group_growth.clone(),
        );
        registry.register(
            "proven_leaked",
            "Goroutines the runtime proved leaked in the newest goroutineleak profile",
            proven.clone(),
        );
        registry.register("triggers_fired", "Triggers that fired", fired.clone());
        registry.register(
            "scrape_errors",
            "Failed polls, by kind of failure",
            errors.clone(),
        );
        registry.register(
            "restarts",
            "Restarts of the target seen in its goroutine counts",
            restarts.clone(),
        );
        registry.register(
            "capture_duration_seconds",
            "How long each capture took: the cost the watcher puts on the service",
            capture_seconds.clone(),
        );
        registry.register(
            "incidents_removed",
            "Incident folders removed to stay under the disk cap",
            incidents_removed.clone(),
        );
        Metrics {
            registry,
            up,
            total,
            group_count,
            group_growth,
            proven,
            fired,
            errors,
            restarts,
            capture_seconds,
            incidents_removed,
            shown: Mutex::new(HashMap::new()),
        }
    }

    fn target(target: &str) -> TargetLabels {
        TargetLabels {
            target: target.to_owned(),
        }
    }

    /// `target_up`: whether the last poll of `target` succeeded.
    pub fn set_up(&self, target: &str, up: bool) {
        self.up
            .get_or_create(&Self::target(target))
            .set(i64::from(up));
    }

    /// A failed poll: the target is down and `scrape_errors` counts it under
    /// `kind`, a short class of the error (timeout, tls, http...).
    pub fn poll_failed(&self, target: &str, kind: &str) {
        self.set_up(target, false);
        self.errors
            .get_or_create(&ErrorLabels {
                target: target.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// `capture_duration_seconds`: what one capture of `kind` cost the service.
    pub fn captured(&self, target: &str, kind: &str, seconds: f64) {
        self.capture_seconds
            .get_or_create(&CaptureLabels {
                target: target.to_owned(),
                kind: kind.to_owned(),
            })
            .observe(seconds);
    }

    /// `restarts`: the goroutine count fell like a restart's, so growth starts over.
    pub fn restarted(&self, target: &str) {
        self.restarts.get_or_create(&Self::target(target)).inc();
    }

    /// `proven_leaked`: goroutines the runtime proved leaked, the strongest signal.
    pub fn set_proven(&self, target: &str, n: u64) {
        self.proven
            .get_or_create(&Self::target(target))
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// `triggers_fired`: one more incident started by `trigger` on `profile`.
    pub fn fired(&self, target: &str, profile: &str, trigger: &str) {
        self.fired
            .get_or_create(&TriggerLabels {
                target: target.to_owned(),
                profile: profile.to_owned(),
                trigger: trigger.to_owned(),
            })
            .inc();
    }

    /// `incidents_removed`: an old incident folder went to keep the disk cap.
    pub fn incident_removed(&self) {
        self.incidents_removed.inc();
    }

    /// The newest total and the top `k` growing groups of one profile;
    /// groups that left the top K lose their series.
    pub fn set_profile(
        &self,
        target: &str,
        profile: &str,
        total: u64,
        groups: &[GroupView],
        k: usize,
    ) {
        let key = ProfileLabels {
            target: target.to_owned(),
            profile: profile.to_owned(),
        };
        self.total
            .get_or_create(&key)
            .set(i64::try_from(total).unwrap_or(i64::MAX));
        let mut now = Vec::new();
        for g in groups.iter().filter(|g| g.growing).take(k) {
            let labels = GroupLabels {
                target: target.to_owned(),
                profile: profile.to_owned(),
                site: g.site.clone(),
                wait_reason: g.wait_reason.clone(),
            };
            self.group_count
                .get_or_create(&labels)
                .set(i64::try_from(g.count).unwrap_or(i64::MAX));
            self.group_growth
                .get_or_create(&labels)
                .set(g.per_minute.unwrap_or(0.0));
            now.push(labels);
        }
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        for old in shown.insert(key, now.clone()).unwrap_or_default() {
            if !now.contains(&old) {
                self.group_count.remove(&old);
                self.group_growth.remove(&old);
            }
        }
    }

    /// Drops the gauges of a target that left the fleet, so no stale series
    /// (and no "target down" alert) outlives it. Counters stay: they only
    /// ever grow, and Prometheus sees them stop.
    pub fn forget(&self, target: &str) {
        let t = Self::target(target);
        self.up.remove(&t);
        self.proven.remove(&t);
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.retain(|key, groups| {
            if key.target != target {
                return true;
            }
            self.total.remove(key);
            for g in groups.iter() {
                self.group_count.remove(g);
                self.group_growth.remove(g);
            }
            false
        });
    }

    /// The exposition text Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        prometheus_client::encoding::text::encode(&mut out, &self.registry).ok();
        out
    }
}
