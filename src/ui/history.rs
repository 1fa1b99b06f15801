//! Navigation history: back and forward through where the user has been,
//! as a browser (and gotraceui) does.
//!
//! Before each navigation (a selection, a jump, a zoom to something) the app
//! records where it was; going back restores that place and keeps the one
//! left for going forward. Pans and wheel zooms are not entries of their
//! own: the place recorded at the next navigation includes them.

/// Places at most kept behind (older ones are forgotten).
const MAX_ENTRIES: usize = 100;

/// Back and forward stacks of places `L`.
#[derive(Debug)]
pub struct History<L> {
    back: Vec<L>,
    forward: Vec<L>,
}

impl<L> Default for History<L> {
    fn default() -> Self {
        History {
            back: Vec::new(),
            forward: Vec::new(),
        }
    }
}

impl<L: PartialEq> History<L> {
    /// Records the place being left; a new path forgets the way forward.
    pub fn leave(&mut self, from: L) {
        self.forward.clear();
        if self.back.last() != Some(&from) {
            self.back.push(from);
        }
        if self.back.len() > MAX_ENTRIES {
            self.back.remove(0);
        }
    }

    /// The place before `current`, which becomes the way forward.
    pub fn back(&mut self, current: L) -> Option<L> {
        let to = self.back.pop()?;
        self.forward.push(current);
        Some(to)
    }

    /// The place left by [`History::back`], `current` going behind again.
    pub fn forward(&mut self, current: L) -> Option<L> {
        let to = self.forward.pop()?;
        self.back.push(current);
        Some(to)
    }

    /// Whether there is an earlier step to go back to.
    pub fn can_go_back(&self) -> bool {
        !self.back.is_empty()
    }

    /// Whether there is a later step to go forward to (after going back).
    pub fn can_go_forward(&self) -> bool {
        !self.forward.is_empty()
    }

    /// Forgets everything (new findings: the old places mean nothing there).
    pub fn clear(&mut self) {
        self.back.clear();
        self.forward.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_and_forward_retrace_the_path() {
        let mut h = History::default();
        // At "a", go to "b", then to "c".
        h.leave("a");
        h.leave("b");
        assert_eq!(h.back("c"), Some("b"));
        assert_eq!(h.back("b"), Some("a"));
        assert_eq!(h.back("a"), None);
        assert!(!h.can_go_back() && h.can_go_forward());
        assert_eq!(h.forward("a"), Some("b"));
        assert_eq!(h.forward("b"), Some("c"));
        assert_eq!(h.forward("c"), None);
        // Back to "b", then somewhere new: "c" is no longer ahead.
        assert_eq!(h.back("c"), Some("b"));
        h.leave("b");
        assert!(!h.can_go_forward());
        assert_eq!(h.back("d"), Some("b"));
        assert_eq!(h.back("b"), Some("a"));
    }

    #[test]
    fn repeats_are_one_entry_and_the_oldest_go_first() {
        let mut h = History::default();
        h.leave(0);
        h.leave(0);
        assert_eq!(h.back(1), Some(0));
        assert_eq!(h.back(0), None);
        let mut h = History::default();
        for i in 0..MAX_ENTRIES + 10 {
            h.leave(i);
        }
        let mut n = 0;
        let mut at = usize::MAX;
        while let Some(prev) = h.back(at) {
            at = prev;
            n += 1;
        }
        assert_eq!((n, at), (MAX_ENTRIES, 10));
        h.clear();
        assert!(!h.can_go_back() && !h.can_go_forward());
    }
}
