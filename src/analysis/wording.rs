//! How figures read, in one place for the app, the CLI and the report, so
//! the same suspect is described with the same words everywhere.

use std::collections::BTreeMap;

use super::growth::Growth;
use crate::model::{StackTable, WaitReason};

/// A growth rate: per minute where capture times are known, else per
/// snapshot interval (`+12.5/min`, `+10.0/snapshot`).
pub fn rate(per_minute: Option<f64>, slope: f64) -> String {
    match per_minute {
        Some(m) => format!("{m:+.1}/min"),
        None => format!("{slope:+.1}/snapshot"),
    }
}

/// [`rate`] of a group's growth.
pub fn growth_rate(g: &Growth) -> String {
    rate(g.per_minute, g.slope)
}

/// What a group's goroutines are doing: one reason, or every reason with
/// its count when they differ (`sync.Cond.Wait ×3 · runnable ×1`), most
/// common first, so a group never reads as doing only one thing when its
/// goroutines do several.
pub fn wait_reasons(table: &StackTable, reasons: &BTreeMap<WaitReason, u64>) -> Option<String> {
    let mut known: Vec<(WaitReason, u64)> = reasons
        .iter()
        .filter(|(r, n)| **r != WaitReason::Unknown && **n > 0)
        .map(|(r, n)| (*r, *n))
        .collect();
    match known.len() {
        0 => None,
        1 => Some(known[0].0.text(table).to_owned()),
        _ => {
            known.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let parts: Vec<String> = known
                .iter()
                .map(|(r, n)| format!("{} ×{n}", r.text(table)))
                .collect();
            Some(parts.join(" · "))
        }
    }
}

/// A count series (`56 → 88 → 122`).
pub fn counts(counts: &[u64]) -> String {
    counts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_reasons_are_all_named() {
        let t = StackTable::default();
        let mut m = BTreeMap::new();
        m.insert(WaitReason::Runnable, 1);
        assert_eq!(wait_reasons(&t, &m).as_deref(), Some("runnable"));
        m.insert(WaitReason::CondWait, 3);
        assert_eq!(
            wait_reasons(&t, &m).as_deref(),
            Some("sync.Cond.Wait ×3 · runnable ×1")
        );
        assert_eq!(rate(Some(2.0), 9.0), "+2.0/min");
        assert_eq!(rate(None, 9.0), "+9.0/snapshot");
        assert_eq!(counts(&[1, 2]), "1 → 2");
    }
}
