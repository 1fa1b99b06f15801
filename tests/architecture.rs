//! The layers of `ARCHITECTURE.md`, checked: every `use crate::…` (and
//! `crate::…` path) in a module names only what the module map lets it
//! import, and egui is used only in `src/ui`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

/// Module → the top-level modules it may name (itself always).
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("progress", &[]),
    ("text", &[]),
    ("jobs", &["progress", "text"]),
    ("model", &["text"]),
    ("formats", &["model", "progress", "text"]),
    ("analysis", &["model", "text"]),
    (
        "pipeline",
        &["analysis", "formats", "model", "progress", "text"],
    ),
    (
        "live",
        &[
            "analysis", "formats", "model", "progress", "pipeline", "text",
        ],
    ),
    (
        "watch",
        &["analysis", "formats", "live", "model", "pipeline", "text"],
    ),
    ("export", &["analysis", "model", "pipeline", "text"]),
    (
        "cli",
        &[
            "analysis", "export", "formats", "live", "model", "pipeline", "progress", "jobs",
            "text", "watch",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a source file belongs to (`src/analysis/x.rs` →
/// `analysis`, `src/pipeline.rs` → `pipeline`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Top-level modules a file's code names through `crate::` (comments,
/// which may mention any module, aside).
fn named_modules(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        // `leakscope::crate::` never appears; skip `$crate::` in macros.
        if text[..i].ends_with('$') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn modules_import_only_what_the_module_map_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some((_, allowed)) = MAY_IMPORT.iter().find(|(m, _)| *m == module) else {
            // `ui` may import everything; `lib.rs` and `main.rs` tie it together.
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for name in named_modules(&text) {
            if name != module && !allowed.contains(&name.as_str()) {
                broken.push(format!("{}: {module} names crate::{name}", file.display()));
            }
        }
    }
    broken.sort();
    broken.dedup();
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn egui_is_used_only_in_the_app() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in &files {
        if module_of(&src, file) == "ui" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for word in ["egui::", "eframe::", "use egui", "use eframe"] {
            assert!(
                !text.contains(word),
                "{} uses {word} outside src/ui",
                file.display()
            );
        }
    }
}

#[test]
fn the_module_map_is_the_one_in_architecture_md() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    for (module, allowed) in MAY_IMPORT {
        let row = doc
            .lines()
            .find(|l| l.starts_with("| `") && l.contains(&format!("`{module}`")))
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no row for {module}"));
        for a in *allowed {
            assert!(
                row.contains(&format!("`{a}`")) || row.contains("everything"),
                "ARCHITECTURE.md's row for {module} does not allow {a}: {row}"
            );
        }
    }
}
