#![no_main]
//! What a live session reads from the network or the command line besides
//! profile bodies: the `/debug/pprof/` index page, target URLs, redirect
//! `Location` headers and extra request headers.
//!
//! Input: parts separated by NUL bytes: index page, target, location, header.

use leakscope::live::{Header, Target, parse_index};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0).map(String::from_utf8_lossy);
    let page = parts.next().unwrap_or_default();
    if let Some(info) = parse_index(&page) {
        let _ = (info.names(), info.goroutines(), info.offers("goroutine"));
    }
    let target = parts.next().unwrap_or_default();
    let location = parts.next().unwrap_or_default();
    if let Ok(t) = Target::parse(&target) {
        let from = t.url("goroutine?debug=1");
        let _ = (t.base_url(), t.label(), format!("{t:?}"));
        let _ = t.resolve_redirect(&from, &location);
    }
    let header = parts.next().unwrap_or_default();
    if let Ok(h) = Header::parse(&header) {
        let _ = (h.name(), format!("{h:?}"));
    }
});
