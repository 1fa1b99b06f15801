//! Why a watcher saved an incident folder.
//!
//! `leakscope watch` writes this record into the folder's manifest when
//! triggers fire; every view of the folder (inspect, report, the app) shows
//! it first, because it is why anyone opens the folder.

use serde::{Deserialize, Serialize};

/// Why a watcher saved an incident folder: every trigger that fired at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Incident {
    /// When the first trigger fired (RFC 3339, UTC), for people reading the
    /// manifest.
    pub fired_at: String,
    /// The same moment in Unix nanoseconds, for ordering without parsing dates.
    pub fired_at_ns: i64,
    /// Every trigger that fired, in firing order: firings within the cooldown
    /// join this incident instead of opening another folder.
    pub triggers: Vec<Firing>,
}

/// One trigger that fired, with the figures that made it fire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Firing {
    /// `total`, `doubling`, `growth`, `proven`, `match`.
    pub trigger: String,
    /// The profile it looked at (`goroutine`, or a profile of the service's own).
    pub profile: String,
    /// One line a person reads: what crossed which threshold.
    pub message: String,
    /// The measured value and the threshold it crossed.
    pub value: f64,
    /// The threshold the value crossed, so the reader sees by how much.
    pub threshold: f64,
    /// The stack group it fired on, when it fired on one.
    pub group: Option<FiringGroup>,
}

/// The stack group a trigger fired on, as the watcher named it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FiringGroup {
    /// The leak site's function.
    pub site: String,
    /// What the group's goroutines wait on, as the report words it.
    pub wait_reason: String,
    /// Goroutines in the group when it fired.
    pub count: u64,
    /// How fast the group grew, where capture times allow a rate: the figure
    /// growth triggers fire on.
    pub per_minute: Option<f64>,
}

impl Firing {
    /// `growth on main.(*relay).forward (chan send): 62.4/min …`: the message
    /// says it all; the group is in it.
    pub fn summary(&self) -> String {
        format!("{} [{}]: {}", self.trigger, self.profile, self.message)
    }
}
