#![no_main]
//! The generation-based execution trace parser, minors 22..=26 (Go 1.26 and
//! 1.27 both write the "go 1.26" format).

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::trace_of_minor(data, 22, 5));
