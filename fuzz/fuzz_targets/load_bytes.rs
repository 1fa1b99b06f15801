#![no_main]
//! Any bytes, as a file opened in the app: gzip, format detection, the
//! chosen parser, then everything downstream.

#[path = "common.rs"]
mod common;

use leakscope::formats::{self, LoadOptions};
use leakscope::progress::Progress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = LoadOptions {
        limits: common::limits(),
    };
    // The sniff of `load_file` on the head of a big file.
    let _ = formats::detect::sniff_head(data);
    if let Ok(loaded) = formats::load_bytes("fuzz", data, &options, &Progress::none()) {
        common::check(loaded);
    }
});
