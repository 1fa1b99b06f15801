#![no_main]
//! The execution trace parser on minors 11..21: the first byte picks the
//! version, the rest follows the 16-byte `go 1.NN trace` header, so the
//! fuzzer spends no time on the header.

#[path = "common.rs"]
mod common;

use leakscope::formats::trace;
use leakscope::model::Format;
use leakscope::progress::Progress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let minor = 11 + u32::from(pick) % 11;
    let mut input = format!("go 1.{minor} trace").into_bytes();
    input.resize(16, 0);
    input.extend_from_slice(body);
    let source = common::source(Format::Trace, input.len());
    if let Ok(loaded) = trace::parse(&input, source, &common::limits(), &Progress::none()) {
        common::check(loaded);
    }
});
