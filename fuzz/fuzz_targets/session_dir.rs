#![no_main]
//! A session folder as the app opens it: `manifest.json` and capture files
//! whose names and contents come from the input, listed, loaded with their
//! manifest times, and analysed.
//!
//! Input: parts separated by `|NUL|` (captures are binary, so a lone NUL
//! would split them). The first is `manifest.json` (left out when it is
//! `-`), then (file name, content) pairs, at most eight.

#[path = "common.rs"]
mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use leakscope::analysis::AnalysisOptions;
use leakscope::formats::{LoadOptions, session_dir};
use leakscope::progress::Progress;
use leakscope::pipeline::{self, InputSpec};
use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        base.join(format!("leakscope-fuzz-session-{}", std::process::id()))
    })
}

/// Splits at `|NUL|`.
struct Parts<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Parts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0?;
        match rest.windows(3).position(|w| w == b"|\0|") {
            Some(i) => {
                self.0 = rest.get(i + 3..);
                rest.get(..i)
            }
            None => self.0.take(),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let _ = std::fs::remove_dir_all(dir);
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut parts = Parts(Some(data));
    let manifest = parts.next().unwrap_or(&[]);
    if manifest != b"-" {
        let _ = std::fs::write(dir.join(session_dir::MANIFEST_FILE), manifest);
    }
    for _ in 0..8 {
        let (Some(name), Some(content)) = (parts.next(), parts.next()) else {
            break;
        };
        let name: String = String::from_utf8_lossy(name)
            .chars()
            .filter(|&c| c != '/')
            .take(100)
            .collect();
        if name.is_empty() || name == "." || name == ".." {
            continue;
        }
        let _ = std::fs::write(dir.join(name), content);
    }
    let _ = session_dir::read_manifest(dir);
    let _ = session_dir::expand_paths(std::slice::from_ref(dir));
    let load = LoadOptions {
        limits: common::limits(),
    };
    if let Some(findings) = pipeline::run(
        vec![InputSpec::Path(dir.clone())],
        &load,
        &AnalysisOptions::default(),
        &Progress::none(),
    ) {
        let _ = leakscope::export::render_all(&findings);
    }
});
