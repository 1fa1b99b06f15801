#![no_main]
//! The debug1 parser on its own, then everything downstream of it.

#[path = "common.rs"]
mod common;

use leakscope::formats::debug1;
use leakscope::model::Format;
use leakscope::progress::Progress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = common::source(Format::GoroutineDebug1, data.len());
    if let Ok(loaded) = debug1::parse(data, source, &common::limits(), &Progress::none()) {
        common::check(loaded);
    }
});
