//! Telling the profile type from its sample types.
//!
//! A profile does not name itself: `/debug/pprof/heap` and `allocs` send the
//! same message shape, so the type is read from the sample types, the
//! default sample type and, for block versus mutex, the stacks (see the
//! module doc of [`super`]). It decides whether the samples become
//! goroutine records or a sample profile, so it is read before any sample
//! is decoded, and settled after, when the stacks are known.

use super::resolve::Strings;
use super::scan::Scan;
use crate::model::{ProfileType, Sample, StackTable};

/// What the sample types say about a profile, read before its samples.
pub(super) struct Classified {
    pub(super) class: Class,
    /// The sample type a viewer shows first: the one `default_sample_type`
    /// names, else the last, as the pprof schema tells readers to default to.
    pub(super) default_type: usize,
    /// The value that counts goroutines, for the goroutine kinds.
    pub(super) goroutine_value: usize,
}

/// Reads the sample types of `scan` by name. Only looks names up, so it
/// neither interns nor warns: [`Strings::intern`] does that for the types
/// that are kept.
pub(super) fn classify_profile(scan: &Scan<'_>, strings: &Strings<'_, '_>) -> Classified {
    let type_names: Vec<(&str, &str)> = scan
        .sample_types
        .iter()
        .map(|t| (strings.text(t.r#type), strings.text(t.unit)))
        .collect();
    let default_name = strings.text(scan.default_sample_type);
    let class = classify(&type_names, default_name);
    let default_type = match scan.default_sample_type {
        0 => None,
        _ => type_names
            .iter()
            .position(|(kind, _)| *kind == default_name),
    }
    .unwrap_or(type_names.len().saturating_sub(1));
    let goroutine_value = type_names
        .iter()
        .position(|(kind, _)| is_goroutine_type(kind) || is_goroutine_leak_type(kind))
        .unwrap_or(0);
    Classified {
        class,
        default_type,
        goroutine_value,
    }
}

/// What the sample types say about the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Class {
    Known(ProfileType),
    /// `contentions` and `delay`: block or mutex, told by the stacks.
    Contention,
}

impl Class {
    /// The profile type, settled by the decoded stacks where the sample
    /// types leave it open.
    pub(super) fn profile_type(self, table: &StackTable, samples: &[Sample]) -> ProfileType {
        match self {
            Class::Known(t) => t,
            Class::Contention => contention_type(table, samples),
        }
    }
}

/// The goroutine profile's one sample type.
fn is_goroutine_type(kind: &str) -> bool {
    kind == "goroutine"
}

/// Go 1.26 names the leak profile's sample type after the profile,
/// `goroutineleak`; spellings other tools might use are accepted too.
fn is_goroutine_leak_type(kind: &str) -> bool {
    let normal: String = kind
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        normal.as_str(),
        "goroutineleak" | "goroutineleaks" | "leakedgoroutine" | "leakedgoroutines"
    )
}

/// The profile type from `(type, unit)` of every sample type and the name
/// of the default sample type.
fn classify(types: &[(&str, &str)], default_type: &str) -> Class {
    let has = |kind: &str| types.iter().any(|(k, _)| *k == kind);
    let first = types.first().map_or("", |(k, _)| *k);
    if types.iter().any(|(k, _)| is_goroutine_leak_type(k)) {
        return Class::Known(ProfileType::GoroutineLeak);
    }
    if has("goroutine") {
        return Class::Known(ProfileType::Goroutine);
    }
    let heap_types = [
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ];
    if heap_types.iter().any(|k| has(k)) {
        let allocs_default = default_type.starts_with("alloc_");
        let only_allocs = !has("inuse_space") && !has("inuse_objects");
        return Class::Known(if allocs_default || only_allocs {
            ProfileType::Allocs
        } else {
            ProfileType::Heap
        });
    }
    if has("contentions") && has("delay") {
        return Class::Contention;
    }
    if has("threadcreate") {
        return Class::Known(ProfileType::Threadcreate);
    }
    if types
        .iter()
        .any(|(k, u)| *k == "cpu" && *u == "nanoseconds")
        || (has("samples") && has("cpu"))
    {
        return Class::Known(ProfileType::Cpu);
    }
    let name = if first.is_empty() { "unknown" } else { first };
    Class::Known(ProfileType::Other(name.to_owned()))
}

/// Whether a function releases a lock: the innermost frame of every mutex
/// profile sample.
fn is_unlock(function: &str) -> bool {
    let method = function.rsplit('.').next().unwrap_or(function);
    matches!(
        method,
        "Unlock"
            | "RUnlock"
            | "unlock"
            | "unlockSlow"
            | "rUnlockSlow"
            | "unlock2"
            | "unlockWithRank"
    ) || function == "runtime._LostContendedRuntimeLock"
}

/// Mutex when most samples with a stack end in an unlock call, else block.
fn contention_type(table: &StackTable, samples: &[Sample]) -> ProfileType {
    let mut with_stack = 0usize;
    let mut unlock = 0usize;
    for s in samples {
        if let Some(leaf) = table.leaf(s.stack) {
            with_stack += 1;
            if is_unlock(table.function(leaf)) {
                unlock += 1;
            }
        }
    }
    if with_stack > 0 && unlock * 2 > with_stack {
        ProfileType::Mutex
    } else {
        ProfileType::Block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(types: &[(&str, &str)], default: &str) -> Class {
        classify(types, default)
    }

    #[test]
    fn classifies_go_profiles_by_sample_types() {
        let heap = [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ];
        let known = Class::Known;
        assert_eq!(
            class(&[("goroutine", "count")], ""),
            known(ProfileType::Goroutine)
        );
        assert_eq!(
            class(&[("goroutineleak", "count")], ""),
            known(ProfileType::GoroutineLeak)
        );
        assert_eq!(
            class(&[("goroutine_leak", "count")], ""),
            known(ProfileType::GoroutineLeak)
        );
        assert_eq!(class(&heap, ""), known(ProfileType::Heap));
        assert_eq!(class(&heap, "inuse_space"), known(ProfileType::Heap));
        assert_eq!(class(&heap, "alloc_space"), known(ProfileType::Allocs));
        assert_eq!(
            class(&[("samples", "count"), ("cpu", "nanoseconds")], ""),
            known(ProfileType::Cpu)
        );
        assert_eq!(
            class(&[("contentions", "count"), ("delay", "nanoseconds")], ""),
            Class::Contention
        );
        assert_eq!(
            class(&[("threadcreate", "count")], ""),
            known(ProfileType::Threadcreate)
        );
        assert_eq!(
            class(&[("widgets", "count")], ""),
            known(ProfileType::Other("widgets".into()))
        );
    }

    #[test]
    fn unlock_calls_mark_mutex_profiles() {
        for f in [
            "sync.(*Mutex).Unlock",
            "sync.(*RWMutex).RUnlock",
            "internal/sync.(*Mutex).unlockSlow",
            "runtime.unlock",
            "runtime._LostContendedRuntimeLock",
        ] {
            assert!(is_unlock(f), "{f}");
        }
        for f in [
            "sync.(*Mutex).Lock",
            "runtime.selectgo",
            "runtime.chanrecv1",
            "main.unlockAll",
        ] {
            assert!(!is_unlock(f), "{f}");
        }
    }
}
