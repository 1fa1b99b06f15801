//! How a group's goroutine count moves across snapshots.
//!
//! Leaks add goroutines at the rate their code path runs, so their counts
//! climb steadily; worker pools and connection handlers wobble around a
//! level. Two robust statistics separate the two without assuming a
//! distribution: the Theil–Sen slope (median of all pairwise slopes, so one
//! odd snapshot cannot fake a trend) and Kendall's tau (the share of
//! snapshot pairs that go up minus those that go down).

use serde::Serialize;

/// Growth statistics of one count series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Growth {
    /// Theil–Sen slope in goroutines per snapshot interval (intervals
    /// weighted by capture time where known).
    pub slope: f64,
    /// Kendall's tau in -1..=1: 1 when every later snapshot has more.
    pub tau: f64,
    /// Last count minus first.
    pub delta: i64,
    /// Consecutive snapshot pairs where the count went up.
    pub increases: usize,
    /// The slope in goroutines per minute, where capture times are known.
    pub per_minute: Option<f64>,
    /// The verdict of the rule above: the flag that ranks a group among the
    /// leaks.
    pub growing: bool,
    /// `slope × tau` for growing groups, else 0: roughly "goroutines leaked
    /// per interval", discounted when the trend is not consistent.
    pub score: f64,
}

/// Below this many goroutines a drop is not read as a restart.
const RESTART_MIN_TOTAL: u64 = 20;

/// Whether a snapshot of `now` goroutines after one of `before` looks like
/// the service restarted: fewer goroutines after polls failed (it was
/// down), or fewer than half at once (a service sheds half its goroutines
/// in one go when it starts over, rarely otherwise). There is no restart
/// counter in a goroutine profile; this is what the counts can say.
pub fn looks_like_restart(before: u64, now: u64, after_outage: bool) -> bool {
    now < before
        && (after_outage || (before >= RESTART_MIN_TOTAL && now.saturating_mul(2) < before))
}

/// Minimum Kendall tau for a trend to count as growth.
const MIN_TAU: f64 = 0.5;

/// Growth of `counts` at capture times `x` in seconds (equal spacing when
/// `None`).
///
/// A group is growing when its last count is above its first, its slope and
/// tau are positive (tau at least 0.5), and the rise is more than a single
/// goroutine appearing once: it rose in at least two intervals, or by at
/// least two goroutines. That last rule keeps the capturing request's own
/// goroutines, which flicker between stacks from one capture to the next,
/// from being reported as leaks.
pub fn growth(counts: &[u64], x: Option<&[f64]>) -> Growth {
    let n = counts.len();
    if counts.windows(2).all(|w| w[0] == w[1]) {
        // A flat series (most groups: pools, idle connections) has no
        // trend: no need to look at every pair.
        return Growth {
            slope: 0.0,
            tau: 0.0,
            delta: 0,
            increases: 0,
            per_minute: x.filter(|x| x.len() == n && spread(x) > 0.0).map(|_| 0.0),
            growing: false,
            score: 0.0,
        };
    }
    let seconds = x.filter(|x| x.len() == n && spread(x) > 0.0).map(spread);
    let xs: Vec<f64> = match x {
        Some(x) if x.len() == n && spread(x) > 0.0 => {
            // Rescale to 0..n-1 so slopes read "per interval".
            let (lo, hi) = (x[0], x[n - 1]);
            x.iter()
                .map(|v| (v - lo) / (hi - lo) * (n as f64 - 1.0))
                .collect()
        }
        _ => (0..n).map(|i| i as f64).collect(),
    };
    let ys: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let mut slopes = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    let mut concordance = 0i64;
    let mut pairs = 0i64;
    for i in 0..n {
        for j in i + 1..n {
            let dx = xs[j] - xs[i];
            if dx > 0.0 {
                slopes.push((ys[j] - ys[i]) / dx);
            }
            pairs += 1;
            concordance += match ys[j].partial_cmp(&ys[i]) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            };
        }
    }
    let slope = median(&mut slopes).unwrap_or(0.0);
    let tau = if pairs > 0 {
        concordance as f64 / pairs as f64
    } else {
        0.0
    };
    let delta = match (counts.first(), counts.last()) {
        (Some(&a), Some(&b)) => b as i64 - a as i64,
        _ => 0,
    };
    let increases = counts.windows(2).filter(|w| w[1] > w[0]).count();
    let growing = n >= 2
        && delta > 0
        && slope > 0.0
        && tau >= MIN_TAU
        && (increases >= 2 || delta >= 2)
        && !gives_back(counts);
    Growth {
        slope,
        tau,
        delta,
        increases,
        per_minute: seconds.map(|s| slope * (n as f64 - 1.0) / (s / 60.0)),
        growing,
        score: if growing { slope * tau } else { 0.0 },
    }
}

/// Whether a series loses more than half of what it gains along the way.
/// Leaked goroutines never leave, so a leak keeps most of what it gains
/// (transient goroutines on the same stack add noise, not losses of this
/// size); a series that zig-zags (0, 12, 3, 13, 4) is goroutines passing
/// through — pollers, requests in flight — however its trend statistics
/// come out.
fn gives_back(counts: &[u64]) -> bool {
    let (mut rises, mut drops) = (0u128, 0u128);
    for w in counts.windows(2) {
        if w[1] > w[0] {
            rises += u128::from(w[1] - w[0]);
        } else {
            drops += u128::from(w[0] - w[1]);
        }
    }
    drops * 2 > rises
}

fn spread(x: &[f64]) -> f64 {
    match (x.first(), x.last()) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    }
}

/// Median, reordering in place (selection, not a full sort); `None` for
/// no values.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let m = v.len() / 2;
    let odd = v.len() % 2 == 1;
    let (below, mid, _) = v.select_nth_unstable_by(m, |a, b| a.total_cmp(b));
    let upper = *mid;
    Some(if odd {
        upper
    } else {
        // The largest value below the middle one is the other middle value.
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_leak_grows() {
        let g = growth(&[10, 20, 30, 40], None);
        assert!(g.growing);
        assert_eq!(g.slope, 10.0);
        assert_eq!(g.tau, 1.0);
        assert_eq!(g.score, 10.0);
        let g = growth(&[1, 2, 3, 4], None);
        assert!(g.growing, "a leak of one per interval is a leak");
    }

    #[test]
    fn steady_and_shrinking_groups_never_grow() {
        for counts in [
            &[4u64, 4, 4, 4][..],
            &[1000, 1003, 998, 1001],
            &[40, 30, 20, 10],
            &[4, 5, 4, 5],
            &[0, 0, 1, 1],
            &[1, 1, 0, 0],
            &[7],
            &[],
        ] {
            let g = growth(counts, None);
            assert!(!g.growing, "{counts:?} → {g:?}");
            assert_eq!(g.score, 0.0);
        }
    }

    #[test]
    fn goroutines_passing_through_are_not_growth() {
        // Pollers on their way elsewhere: up and down, no accumulation.
        let g = growth(&[0, 0, 12, 3, 13, 4], None);
        assert!(!g.growing, "{g:?}");
        assert_eq!(g.score, 0.0);
        // A leak under noise from requests in flight on the same stack.
        assert!(growth(&[5, 30, 12, 40, 20, 50], None).growing);
    }

    #[test]
    fn one_bad_snapshot_does_not_hide_a_leak() {
        let g = growth(&[10, 20, 30, 29, 40], None);
        assert!(g.growing);
        assert!(g.slope >= 7.0, "{g:?}");
    }

    #[test]
    fn capture_times_weight_the_slope() {
        // 10 more goroutines per minute, snapshots at 0, 1 and 3 minutes.
        let g = growth(&[0, 10, 30], Some(&[0.0, 60.0, 180.0]));
        assert!(g.growing);
        // Per interval of the rescaled axis (3 minutes over 2 intervals).
        assert!((g.slope - 15.0).abs() < 1e-9, "{g:?}");
        assert!((g.per_minute.unwrap() - 10.0).abs() < 1e-9, "{g:?}");
    }
}
