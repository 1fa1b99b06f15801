//! How long goroutines have waited, as a histogram of a dump's wait ages.
//!
//! One snapshot cannot show growth, but it still tells a leak's story:
//! goroutines that got stuck in waves have waited 5, 4, 3… minutes, and a
//! leak that has gone on for hours has goroutines of every age. The
//! min/median/max of [`super::WaitAges`] flattens that; the histogram shows
//! it. Ages are the minutes Go prints (`, 5 minutes`); a waiting goroutine
//! of a dialect that prints ages but without one waited under a minute.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Analysis;

/// Ages up to this many minutes get a bucket per minute; longer ones are
/// grouped in ranges that widen with age.
const MINUTE_BUCKETS_UP_TO: u32 = 15;

/// The ranges of long waits, in minutes, as `[from, to)`: the first minute,
/// a few minutes, a quarter hour, an hour, six hours, longer.
const RANGES: [(u32, Option<u32>); 6] = [
    (0, Some(1)),
    (1, Some(5)),
    (5, Some(15)),
    (15, Some(60)),
    (60, Some(360)),
    (360, None),
];

/// One bar of the histogram: goroutines that have waited `[from, to)`
/// minutes (`to` none: that long or longer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitAgeBucket {
    /// The shortest wait in the bucket, minutes.
    pub from_minutes: u32,
    /// The end of the bucket (exclusive), minutes; none for the last one.
    pub to_minutes: Option<u32>,
    /// How people read it: `<1 min`, `3 min`, `15–60 min`, `> 6 h`.
    pub label: String,
    /// Goroutines that have waited that long.
    pub goroutines: u64,
}

/// Buckets the ages (minutes → goroutines): a bar per minute while the
/// oldest wait is short (a leak minutes old shows its waves), else ranges
/// that widen with age (a leak days old must not need a thousand bars).
/// Empty when no goroutine has an age.
pub fn histogram(ages: &BTreeMap<u32, u64>) -> Vec<WaitAgeBucket> {
    match ages.keys().next_back() {
        Some(&oldest) if ages.values().any(|&n| n > 0) => buckets(ages, oldest),
        _ => Vec::new(),
    }
}

/// The bars of [`histogram`] as they are for ages up to `oldest`, so that
/// one group's bars line up with all goroutines' (same bars, same places).
pub fn buckets(ages: &BTreeMap<u32, u64>, oldest: u32) -> Vec<WaitAgeBucket> {
    let max = oldest;
    let count = |from: u32, to: Option<u32>| -> u64 {
        ages.range(from..)
            .take_while(|&(&m, _)| to.is_none_or(|to| m < to))
            .fold(0u64, |t, (_, &n)| t.saturating_add(n))
    };
    if max <= MINUTE_BUCKETS_UP_TO {
        return (0..=max)
            .map(|m| WaitAgeBucket {
                from_minutes: m,
                to_minutes: Some(m + 1),
                label: if m == 0 {
                    "<1 min".to_owned()
                } else {
                    format!("{m} min")
                },
                goroutines: count(m, Some(m + 1)),
            })
            .collect();
    }
    RANGES
        .iter()
        .filter(|(from, _)| *from <= max)
        .map(|&(from, to)| WaitAgeBucket {
            from_minutes: from,
            to_minutes: to,
            label: range_label(from, to),
            goroutines: count(from, to),
        })
        .collect()
}

/// `<1 min`, `1–5 min`, `15–60 min`, `1–6 h`, `> 6 h`: hours once a range
/// starts at an hour.
fn range_label(from: u32, to: Option<u32>) -> String {
    let hours = from >= 60 && from.is_multiple_of(60) && to.is_none_or(|t| t.is_multiple_of(60));
    let (div, unit) = if hours { (60, "h") } else { (1, "min") };
    match to {
        Some(1) if from == 0 => "<1 min".to_owned(),
        Some(to) => format!("{}–{} {unit}", from / div, to / div),
        None => format!("> {} {unit}", from / div),
    }
}

/// The ages of one stack group's goroutines (from the newest snapshot that
/// printed them), bucketed.
/// `like` gives the bars (see [`buckets`]).
pub fn of_group(analysis: &Analysis, group: usize, like: &[WaitAgeBucket]) -> Vec<WaitAgeBucket> {
    let oldest = like.last().map_or(0, |b| b.from_minutes);
    analysis
        .groups
        .get(group)
        .map_or_else(Vec::new, |g| buckets(&g.wait_minutes, oldest))
}

/// The ages of every group's goroutines, bucketed: with one dump, every
/// waiting goroutine in it.
pub fn of_all(analysis: &Analysis) -> Vec<WaitAgeBucket> {
    let mut ages: BTreeMap<u32, u64> = BTreeMap::new();
    for g in &analysis.groups {
        for (&m, &n) in &g.wait_minutes {
            let e = ages.entry(m).or_default();
            *e = e.saturating_add(n);
        }
    }
    histogram(&ages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ages(pairs: &[(u32, u64)]) -> BTreeMap<u32, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn short_waits_get_a_bar_per_minute() {
        let h = histogram(&ages(&[(0, 2), (3, 4)]));
        let got: Vec<(&str, u64)> = h.iter().map(|b| (b.label.as_str(), b.goroutines)).collect();
        assert_eq!(
            got,
            [("<1 min", 2), ("1 min", 0), ("2 min", 0), ("3 min", 4)]
        );
        assert!(histogram(&BTreeMap::new()).is_empty());
        assert!(histogram(&ages(&[(4, 0)])).is_empty());
    }

    #[test]
    fn long_waits_get_ranges_up_to_the_oldest() {
        let h = histogram(&ages(&[(0, 1), (4, 2), (16, 3), (59, 1), (61, 5)]));
        let got: Vec<(&str, u64)> = h.iter().map(|b| (b.label.as_str(), b.goroutines)).collect();
        assert_eq!(
            got,
            [
                ("<1 min", 1),
                ("1–5 min", 2),
                ("5–15 min", 0),
                ("15–60 min", 4),
                ("1–6 h", 5)
            ]
        );
        let h = histogram(&ages(&[(u32::MAX, 7), (400, 1)]));
        assert_eq!(
            h.last().map(|b| (b.label.as_str(), b.goroutines)),
            Some(("> 6 h", 8))
        );
        assert_eq!(h.iter().map(|b| b.goroutines).sum::<u64>(), 8);
    }
}
