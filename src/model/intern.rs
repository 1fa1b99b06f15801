//! String interning.
//!
//! Function names and file paths repeat in every goroutine of a dump (a
//! 100,000-goroutine dump holds a few hundred distinct names), so every string
//! is stored once and referred to by a 4-byte id. Lookups take `&str` so a
//! parser can probe with a slice of its input and allocate only on a miss.

use rustc_hash::FxHashMap;

/// Index of an interned string in an [`Interner`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(u32);

impl StrId {
    /// The empty string, present in every interner so "unknown" needs no `Option`.
    pub const EMPTY: StrId = StrId(0);

    /// Position of the string in the interner, for tables indexed by string.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Longest string kept, in bytes; longer ones keep this much (cut at a
/// character boundary). Real function names, paths and label values stay
/// far below it (Go's longest generic instantiations run to a few KB),
/// while a forged profile could name a function with a gigabyte string
/// that every view would then lay out. Listed with the other limits in
/// `formats::limits`.
pub const MAX_STRING_BYTES: usize = 64 << 10;

/// `s` cut to at most [`MAX_STRING_BYTES`], at a character boundary.
fn capped(s: &str) -> &str {
    if s.len() <= MAX_STRING_BYTES {
        return s;
    }
    let mut end = MAX_STRING_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Deduplicating string store; ids are dense and stable for its lifetime.
#[derive(Clone, Debug)]
pub struct Interner {
    strings: Vec<Box<str>>,
    index: FxHashMap<Box<str>, StrId>,
    /// Strings cut to [`MAX_STRING_BYTES`] so far (each time one was given).
    cut: u64,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            strings: Vec::new(),
            index: FxHashMap::default(),
            cut: 0,
        };
        interner.intern("");
        interner
    }
}

impl Interner {
    /// Returns the id of `s`, storing it on first sight.
    pub fn intern(&mut self, s: &str) -> StrId {
        if s.len() > MAX_STRING_BYTES {
            self.cut += 1;
        }
        let s = capped(s);
        if let Some(&id) = self.index.get(s) {
            return id;
        }
        // Ids are u32: past 4 billion distinct strings the input is hostile,
        // and limits in the parsers stop long before that.
        let id = StrId(u32::try_from(self.strings.len()).unwrap_or(u32::MAX));
        self.strings.push(s.into());
        self.index.insert(s.into(), id);
        id
    }

    /// The id of `s` if it was interned, without storing it.
    pub fn find(&self, s: &str) -> Option<StrId> {
        self.index.get(capped(s)).copied()
    }

    /// How many times a string longer than [`MAX_STRING_BYTES`] was cut.
    pub fn cut_strings(&self) -> u64 {
        self.cut
    }

    /// The string behind `id`; the empty string for an id from another interner.
    pub fn get(&self, id: StrId) -> &str {
        self.strings.get(id.index()).map_or("", |s| s)
    }

    /// Number of distinct strings, the empty one included.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Never true: the empty string is always present.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// All strings in id order.
    pub fn iter(&self) -> impl Iterator<Item = (StrId, &str)> {
        self.strings
            .iter()
            .enumerate()
            .map(|(i, s)| (StrId(i as u32), &**s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_an_id() {
        let mut i = Interner::default();
        let a = i.intern("main.main");
        let b = i.intern("runtime.gopark");
        assert_eq!(i.intern("main.main"), a);
        assert_ne!(a, b);
        assert_eq!(i.get(b), "runtime.gopark");
        assert_eq!(i.intern(""), StrId::EMPTY);
        assert_eq!(i.find("nope"), None);
    }

    #[test]
    fn long_strings_are_cut_at_a_character_boundary() {
        let mut i = Interner::default();
        // "é" is two bytes: the cap falls inside one of them.
        let long = format!("x{}", "é".repeat(MAX_STRING_BYTES));
        let id = i.intern(&long);
        let kept = i.get(id);
        assert!(kept.len() <= MAX_STRING_BYTES && kept.len() > MAX_STRING_BYTES - 2);
        assert!(long.starts_with(kept));
        assert_eq!(i.intern(&long), id);
        assert_eq!(i.find(&long), Some(id));
        assert_eq!(i.cut_strings(), 2);
    }
}
