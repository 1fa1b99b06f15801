//! One ranking across the instances of a service.
//!
//! During an incident on a service of many instances the first question is
//! whether a leak grows everywhere (a code path every instance takes) or on
//! one (a bad node, a bad tenant, a bad deploy). Each instance is analysed
//! on its own, its snapshots on its own clock; groups are then matched
//! across instances by their frames and labels ([`group::stable_key`]), and
//! a group ranks by how many instances it grows on, then by how fast.

use serde::Serialize;

use super::{Analysis, Evidence, frames, group, wording};
use crate::model::Session;

/// One instance's figures for a group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceFigures {
    /// The instance's name (its session folder's), so the reader knows which
    /// node to look at.
    pub instance: String,
    /// Goroutines in the instance's newest snapshot.
    pub count: u64,
    /// Whether the group grows on this instance: spread across the fleet is
    /// what tells a code path from a bad node.
    pub growing: bool,
    /// Its growth in goroutines per minute on this instance, where capture
    /// times allow a rate.
    pub per_minute: Option<f64>,
    /// Goroutines of the group the runtime proved leaked on this instance.
    pub proven_leaked: u64,
}

/// A stack group as the whole fleet shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetGroup {
    /// The group's identity across instances ([`group::stable_key`]).
    #[serde(skip)]
    pub key: u64,
    /// The leak site (or the entry function where there is none), the name the
    /// group goes by.
    pub function: Option<String>,
    /// What its goroutines wait on, as the report words it.
    pub wait_reason: Option<String>,
    /// Instances whose snapshots hold the group.
    pub present_on: usize,
    /// Instances where it grows.
    pub growing_on: usize,
    /// Instances where the runtime proved some of it leaked.
    pub proven_on: usize,
    /// Every instance that holds it, worst first (fastest growth, then largest).
    pub instances: Vec<InstanceFigures>,
}

impl FleetGroup {
    /// The slowest and fastest growth among the instances where it grows.
    pub fn rate_range(&self) -> Option<(f64, f64)> {
        let rates: Vec<f64> = self
            .instances
            .iter()
            .filter(|i| i.growing)
            .filter_map(|i| i.per_minute)
            .collect();
        let lo = rates.iter().copied().reduce(f64::min)?;
        let hi = rates.iter().copied().reduce(f64::max)?;
        Some((lo, hi))
    }

    /// The smallest and largest newest count among the instances that hold it.
    pub fn count_range(&self) -> (u64, u64) {
        let counts = self.instances.iter().map(|i| i.count);
        (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0))
    }

    /// "grows on 12 of 12 instances, 8–11/min", "grows only on pod-7 (+12/min)".
    pub fn spread_text(&self, instances: usize) -> String {
        let growing: Vec<&InstanceFigures> = self.instances.iter().filter(|i| i.growing).collect();
        let rate = |r: Option<f64>| r.map_or_else(String::new, |r| wording::rate(Some(r), 0.0));
        match growing.as_slice() {
            [] => format!("grows on none of {instances} instances"),
            [one] if instances > 1 => {
                format!("grows only on {} ({})", one.instance, rate(one.per_minute))
            }
            _ => {
                let range = match self.rate_range() {
                    Some((lo, hi)) if (hi - lo).abs() < 0.05 => format!(", {}", rate(Some(hi))),
                    Some((lo, hi)) => format!(", {lo:.1}–{hi:.1}/min"),
                    None => String::new(),
                };
                format!("grows on {} of {instances} instances{range}", growing.len())
            }
        }
    }
}

/// The fleet's ranking.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fleet {
    /// Every instance taken into the ranking, in the order given: the M of
    /// "grows on N of M".
    pub instances: Vec<String>,
    /// Growing on the most instances first, then the fastest.
    pub groups: Vec<FleetGroup>,
}

/// One instance: its name and what its own analysis found.
pub struct Instance<'a> {
    /// How the instance is named in the output (its folder).
    pub name: String,
    /// The instance's own session, its snapshots on its own clock.
    pub session: &'a Session,
    /// The instance's own analysis, which the fleet ranking only combines.
    pub analysis: &'a Analysis,
}

/// Ranks the groups of every instance together.
pub fn rank(instances: &[Instance<'_>]) -> Fleet {
    let mut keys: Vec<u64> = Vec::new();
    let mut groups: Vec<FleetGroup> = Vec::new();
    for inst in instances {
        let table = &inst.session.stacks;
        for s in &inst.analysis.suspects {
            let g = inst.analysis.group(s);
            let key = group::stable_key(table, g);
            let i = match keys.iter().position(|&k| k == key) {
                Some(i) => i,
                None => {
                    keys.push(key);
                    groups.push(FleetGroup {
                        key,
                        function: s
                            .leak_site
                            .or_else(|| frames::entry_function(table, g.stack))
                            .map(|f| table.function(f).to_owned()),
                        wait_reason: g.wait_reason().map(|r| r.text(table).to_owned()),
                        present_on: 0,
                        growing_on: 0,
                        proven_on: 0,
                        instances: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            let growing = s.evidence == Evidence::Growing
                || (s.evidence == Evidence::Proven && s.growth.growing);
            let fg = &mut groups[i];
            fg.present_on += 1;
            fg.growing_on += usize::from(growing);
            fg.proven_on += usize::from(g.proven() > 0);
            fg.instances.push(InstanceFigures {
                instance: inst.name.clone(),
                count: g.last_count(),
                growing,
                per_minute: s.growth.per_minute,
                proven_leaked: g.proven(),
            });
        }
    }
    for g in &mut groups {
        g.instances.sort_by(|a, b| {
            b.growing
                .cmp(&a.growing)
                .then(
                    b.per_minute
                        .unwrap_or(0.0)
                        .total_cmp(&a.per_minute.unwrap_or(0.0)),
                )
                .then(b.count.cmp(&a.count))
        });
    }
    let top_rate = |g: &FleetGroup| g.rate_range().map_or(0.0, |(_, hi)| hi);
    groups.sort_by(|a, b| {
        b.proven_on
            .cmp(&a.proven_on)
            .then(b.growing_on.cmp(&a.growing_on))
            .then(top_rate(b).total_cmp(&top_rate(a)))
            .then(b.count_range().1.cmp(&a.count_range().1))
    });
    Fleet {
        instances: instances.iter().map(|i| i.name.clone()).collect(),
        groups,
    }
}
