//! Ids and string indexes into names, frames and stacks.
//!
//! Everything in a profile points at something else by number: a sample at
//! locations, a location's lines at functions, everything at the string
//! table. Go profiles share each location between many samples, so the
//! frames of every location (its inlined functions, innermost first) are
//! resolved once here and a sample's stack is the concatenation of its
//! locations' frames. A location without a usable function is named by its
//! address, so an unsymbolized profile still groups by stack.
//!
//! A reference that points nowhere costs the one frame or name it is in and
//! a warning, never the profile.

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use super::proto;
use super::scan::Scan;
use crate::model::{FrameId, Mapping, StackId, StackTable, StrId, ValueType, Warnings};

/// The string table, interned into the stack table on first use: most
/// strings of a profile are never used by what is kept, and those that are
/// are used many times.
pub(super) struct Strings<'s, 'a> {
    strings: &'s [Cow<'a, str>],
    ids: Vec<Option<StrId>>,
}

impl<'s, 'a> Strings<'s, 'a> {
    pub(super) fn new(strings: &'s [Cow<'a, str>]) -> Self {
        Strings {
            strings,
            ids: vec![None; strings.len()],
        }
    }

    /// The string at `index`, if the table has one.
    fn get(&self, index: i64) -> Option<&'s str> {
        let index = usize::try_from(index).ok()?;
        self.strings.get(index).map(|s| &**s)
    }

    /// The string at `index`, empty when out of range (for classification,
    /// which must not count warnings twice).
    pub(super) fn text(&self, index: i64) -> &'s str {
        self.get(index).unwrap_or("")
    }

    /// The string at `index` as an id of `table`; an index out of range is
    /// the empty string and a warning, so one bad name does not cost the
    /// profile.
    pub(super) fn intern(
        &mut self,
        table: &mut StackTable,
        warnings: &mut Warnings,
        index: i64,
    ) -> StrId {
        self.try_intern(table, index).unwrap_or_else(|| {
            let len = self.strings.len();
            warnings.add("bad-string-index", || {
                format!(
                    "string index {index} is out of range (the table has {len} strings); used an \
                     empty string"
                )
            });
            StrId::EMPTY
        })
    }

    /// The string at `index` as an id of `table`, `None` when out of range:
    /// for callers that drop the element instead (a label without a key).
    pub(super) fn try_intern(&mut self, table: &mut StackTable, index: i64) -> Option<StrId> {
        if index == 0 {
            return Some(StrId::EMPTY);
        }
        let i = usize::try_from(index).ok()?;
        let slot = self.ids.get_mut(i)?;
        if let Some(id) = *slot {
            return Some(id);
        }
        let id = table.intern_str(self.strings.get(i)?);
        *slot = Some(id);
        Some(id)
    }

    /// A `(type, unit)` pair of the profile as names of `table`.
    pub(super) fn value_type(
        &mut self,
        table: &mut StackTable,
        warnings: &mut Warnings,
        t: proto::ValueType,
    ) -> ValueType {
        ValueType {
            kind: self.intern(table, warnings, t.r#type),
            unit: self.intern(table, warnings, t.unit),
        }
    }
}

/// Element position by pprof id. Go numbers locations and functions 1..N,
/// so a vector indexed by id is the usual case; other producers may use
/// addresses as ids, which need a map.
pub(super) enum IdIndex {
    Dense(Vec<u32>),
    Sparse(FxHashMap<u64, u32>),
}

impl IdIndex {
    const NONE: u32 = u32::MAX;

    /// Positions past `u32` (only with limits raised far beyond real
    /// profiles) become unreachable instead of aliasing another element.
    fn position(pos: usize) -> u32 {
        u32::try_from(pos).unwrap_or(Self::NONE)
    }

    /// The index of `ids` in their order; an id seen twice keeps its first
    /// element and warns.
    pub(super) fn build(
        ids: impl ExactSizeIterator<Item = u64> + Clone,
        warnings: &mut Warnings,
        what: &'static str,
    ) -> IdIndex {
        let count = ids.len();
        let max = ids.clone().max().unwrap_or(0);
        let dense_cap = (count as u64).saturating_mul(2).saturating_add(1024);
        let mut duplicate = |id: u64| {
            warnings.add("duplicate-id", || {
                format!("{what} id {id} appears more than once; kept the first")
            });
        };
        if max < dense_cap {
            let mut v = vec![Self::NONE; max as usize + 1];
            for (pos, id) in ids.enumerate() {
                match v.get_mut(id as usize) {
                    Some(slot) if *slot == Self::NONE => *slot = Self::position(pos),
                    _ => duplicate(id),
                }
            }
            IdIndex::Dense(v)
        } else {
            let mut m = FxHashMap::default();
            m.reserve(count);
            for (pos, id) in ids.enumerate() {
                match m.entry(id) {
                    Entry::Vacant(e) => {
                        e.insert(Self::position(pos));
                    }
                    Entry::Occupied(_) => duplicate(id),
                }
            }
            IdIndex::Sparse(m)
        }
    }

    /// The position of the element with `id`.
    pub(super) fn get(&self, id: u64) -> Option<usize> {
        let pos = match self {
            IdIndex::Dense(v) => *v.get(usize::try_from(id).ok()?)?,
            IdIndex::Sparse(m) => *m.get(&id)?,
        };
        (pos != Self::NONE).then_some(pos as usize)
    }
}

/// The frames of every location, innermost first, computed once: Go
/// profiles share each location between many samples.
pub(super) struct LocationFrames {
    index: IdIndex,
    /// `(start, end)` into `frames`, per location in file order.
    ranges: Vec<(usize, usize)>,
    frames: Vec<FrameId>,
}

impl LocationFrames {
    /// Resolves every location of `scan`: each line becomes a frame of its
    /// function, innermost inlined call first, and a location with no usable
    /// line one frame named by its address.
    pub(super) fn build(
        scan: &Scan<'_>,
        strings: &mut Strings<'_, '_>,
        table: &mut StackTable,
        warnings: &mut Warnings,
    ) -> LocationFrames {
        let function_index =
            IdIndex::build(scan.functions.iter().map(|f| f.id), warnings, "function");
        let functions = function_names(scan, strings, table, warnings);
        let index = IdIndex::build(scan.locations.iter().map(|l| l.id), warnings, "location");
        let mut ranges = Vec::with_capacity(scan.locations.len());
        let mut frames = Vec::with_capacity(scan.lines.len());
        for loc in &scan.locations {
            let start = frames.len();
            let lines = scan
                .lines
                .get(loc.lines_start..loc.lines_end)
                .unwrap_or(&[]);
            for line in lines {
                let Some(&(mut name, file)) = function_index
                    .get(line.function_id)
                    .and_then(|i| functions.get(i))
                else {
                    warnings.add("unknown-function", || {
                        format!(
                            "location {} refers to function {}, which the profile does not \
                             define; dropped that frame",
                            loc.id, line.function_id
                        )
                    });
                    continue;
                };
                if name == StrId::EMPTY {
                    name = table.intern_str(&address_name(loc.address));
                }
                let line_no = u32::try_from(line.line).unwrap_or_else(|_| {
                    warnings.add("bad-line-number", || {
                        format!("location {} has line number {}; used 0", loc.id, line.line)
                    });
                    0
                });
                frames.push(table.intern_frame_ids(crate::model::Frame {
                    function: name,
                    file,
                    line: line_no,
                }));
            }
            if frames.len() == start {
                // Not symbolized (or every line was unusable): name it by address.
                frames.push(table.intern_frame(&address_name(loc.address), "", 0));
            }
            ranges.push((start, frames.len()));
        }
        LocationFrames {
            index,
            ranges,
            frames,
        }
    }

    /// The frames of the location with `id`, innermost first.
    fn get(&self, id: u64) -> Option<&[FrameId]> {
        let &(start, end) = self.ranges.get(self.index.get(id)?)?;
        self.frames.get(start..end)
    }

    /// The stack of a sample's locations (leaf first), cut to its innermost
    /// `max_depth` frames: the leaf end says where a goroutine waits, so that
    /// is the end worth keeping. `frames` is scratch space reused from one
    /// sample to the next.
    pub(super) fn stack(
        &self,
        location_ids: &[u64],
        max_depth: usize,
        frames: &mut Vec<FrameId>,
        table: &mut StackTable,
        warnings: &mut Warnings,
    ) -> StackId {
        frames.clear();
        let mut too_deep = false;
        for &id in location_ids {
            let Some(loc) = self.get(id) else {
                warnings.add("unknown-location", || {
                    format!(
                        "a sample refers to location {id}, which the profile does not define; \
                         dropped that frame"
                    )
                });
                continue;
            };
            let room = max_depth.saturating_sub(frames.len());
            if loc.len() > room {
                frames.extend_from_slice(loc.get(..room).unwrap_or(&[]));
                too_deep = true;
                break;
            }
            frames.extend_from_slice(loc);
        }
        if too_deep {
            warnings.add("stack-too-deep", || {
                format!("a stack is deeper than {max_depth} frames; kept the innermost {max_depth}")
            });
        }
        table.intern_inner_first(frames)
    }
}

/// Name and file of every function in file order, interned once per
/// function rather than once per line that calls it. A function without a
/// name falls back to its system name.
fn function_names(
    scan: &Scan<'_>,
    strings: &mut Strings<'_, '_>,
    table: &mut StackTable,
    warnings: &mut Warnings,
) -> Vec<(StrId, StrId)> {
    scan.functions
        .iter()
        .map(|f| {
            let mut name = strings.intern(table, warnings, f.name);
            if name == StrId::EMPTY && f.system_name != 0 {
                name = strings.intern(table, warnings, f.system_name);
            }
            (name, strings.intern(table, warnings, f.filename))
        })
        .collect()
}

/// The profile's mappings with their file names and build ids interned:
/// they say which binary a sample profile's addresses belong to.
pub(super) fn mappings(
    scan: &Scan<'_>,
    strings: &mut Strings<'_, '_>,
    table: &mut StackTable,
    warnings: &mut Warnings,
) -> Vec<Mapping> {
    scan.mappings
        .iter()
        .map(|m| Mapping {
            start: m.memory_start,
            limit: m.memory_limit,
            offset: m.file_offset,
            file: strings.intern(table, warnings, m.filename),
            build_id: strings.intern(table, warnings, m.build_id),
        })
        .collect()
}

/// How a frame the profile does not symbolize is named: its address.
pub(crate) fn address_name(address: u64) -> String {
    format!("{address:#x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_ids_use_a_map() {
        let mut w = Warnings::default();
        let ids = [0x4000_0000_u64, 7, 7];
        let index = IdIndex::build(ids.iter().copied(), &mut w, "location");
        assert!(matches!(index, IdIndex::Sparse(_)));
        assert_eq!(index.get(7), Some(1));
        assert_eq!(index.get(8), None);
        assert_eq!(w.count("duplicate-id"), 1);
        let dense = IdIndex::build([1u64, 2, 3].into_iter(), &mut w, "location");
        assert!(matches!(dense, IdIndex::Dense(_)));
        assert_eq!(dense.get(3), Some(2));
        assert_eq!(dense.get(u64::MAX), None);
    }
}
