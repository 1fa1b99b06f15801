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
    pub fired_at: String,
    pub fired_at_ns: i64,
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
    pub wait_reason: String,
    pub count: u64,
    pub per_minute: Option<f64>,
}

impl Firing {
    /// `growth on main.(*relay).forward (chan send): 62.4/min …`: the message
    /// says it all; the group is in it.
    pub fn summary(&self) -> String {
        format!("{} [{}]: {}", self.trigger, self.profile, self.message)
    }
}
