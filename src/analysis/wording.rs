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

/// What a goroutine blocked on and for how long, as the app's events and
/// tooltips say it: `on chan send for 5.00 s`; a wait whose reason no
/// input recorded says so rather than leaving a gap (`on  for 5.00 s`).
pub fn blocked_on(table: &StackTable, reason: WaitReason, duration_ns: Option<i64>) -> String {
    let how_long = duration_ns
        .map(|d| format!(" for {}", crate::model::time::format_duration_ns(d)))
        .unwrap_or_default();
    if reason == WaitReason::Unknown {
        format!("(reason not recorded){how_long}")
    } else {
        format!("on {}{how_long}", reason.text(table))
    }
}

/// A count with its noun, singular for one (`1 goroutine`, `12 stack
/// groups`): a headline that says "1 goroutines" reads as a slip in a tool
/// that asks to be trusted on counts.
pub fn count_of(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
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
    fn counts_take_their_noun_in_the_singular_for_one() {
        assert_eq!(count_of(1, "goroutine"), "1 goroutine");
        assert_eq!(count_of(0, "goroutine"), "0 goroutines");
        assert_eq!(count_of(12, "stack group"), "12 stack groups");
    }

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
