#![no_main]
//! The legacy execution trace parser, minors 11..=21.

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::trace_of_minor(data, 11, 11));
