//! Top functions of a sampled profile, as `go tool pprof -top` lists them.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::model::{SampleProfile, StackTable, StrId};

/// One function's share of a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopEntry {
    /// The function's name; rows are per function, not per line, as `pprof
    /// -top` shows them.
    pub function: String,
    /// Value of samples where it is the innermost frame.
    pub flat: i64,
    /// Value of samples where it appears anywhere (counted once per sample).
    pub cum: i64,
}

/// Functions by flat value, then cumulative value, for one value column.
pub fn top_functions(
    table: &StackTable,
    profile: &SampleProfile,
    value_index: usize,
    limit: usize,
) -> Vec<TopEntry> {
    let mut flat: FxHashMap<StrId, i64> = FxHashMap::default();
    let mut cum: FxHashMap<StrId, i64> = FxHashMap::default();
    let mut seen = FxHashSet::default();
    for s in &profile.samples {
        let v = s.values.get(value_index).copied().unwrap_or(0);
        if v == 0 {
            continue;
        }
        seen.clear();
        for (i, frame) in table.frames(s.stack).enumerate() {
            let f = table.frame(frame).function;
            // Values are any i64: sums saturate.
            if i == 0 {
                let e = flat.entry(f).or_default();
                *e = e.saturating_add(v);
            }
            if seen.insert(f) {
                let e = cum.entry(f).or_default();
                *e = e.saturating_add(v);
            }
        }
    }
    let mut entries: Vec<TopEntry> = cum
        .iter()
        .map(|(&f, &c)| TopEntry {
            function: table.str(f).to_owned(),
            flat: flat.get(&f).copied().unwrap_or(0),
            cum: c,
        })
        .collect();
    entries.sort_by(|a, b| {
        b.flat
            .cmp(&a.flat)
            .then(b.cum.cmp(&a.cum))
            .then_with(|| a.function.cmp(&b.function))
    });
    entries.truncate(limit);
    entries
}
