#![no_main]
//! The folded parser on its own, then everything downstream of it.

#[path = "common.rs"]
mod common;

use leakscope::formats::folded;
use leakscope::model::Format;
use leakscope::progress::Progress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = common::source(Format::Folded, data.len());
    if let Ok(loaded) = folded::parse(data, source, &common::limits(), &Progress::none()) {
        common::check(loaded);
    }
});
