//! Telling formats apart by content, and inflating gzip within a size cap.
//!
//! File names lie (`profile` with no extension, `goroutines.txt` holding a
//! protobuf, `trace.out.gz`), so the loader looks at the bytes only.

use std::borrow::Cow;
use std::io::Read as _;

use super::error::FormatError;
use super::limits::Limits;
use crate::model::{Format, Warnings};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How many bytes of text the sniffer reads before deciding.
const SNIFF_TEXT_BYTES: usize = 1 << 20;

/// Whether `data` starts with the gzip magic: Go serves protobuf profiles
/// gzipped, so every loader checks this first.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

/// Inflates `data` if it is gzip (possibly several members), else borrows it.
///
/// Inflation stops at `limits.max_inflated_bytes`, so a bomb costs at most
/// that much memory. A stream cut short or corrupt after some output keeps
/// what was inflated and says so in `warnings`; the format parser then loads
/// what it can of it.
pub fn maybe_gunzip<'a>(
    data: &'a [u8],
    limits: &Limits,
    warnings: &mut Warnings,
) -> Result<Cow<'a, [u8]>, FormatError> {
    if !is_gzip(data) {
        return Ok(Cow::Borrowed(data));
    }
    gunzip_from(data, data.len(), limits, warnings).map(Cow::Owned)
}

/// Inflates a gzip stream read from `reader` (`compressed_len` bytes, as a
/// size hint), under the same cap and with the same handling of a cut or
/// corrupt stream as [`maybe_gunzip`]. Reading a file this way never holds
/// its compressed bytes beside the inflated ones.
pub fn gunzip_from(
    reader: impl std::io::Read,
    compressed_len: usize,
    limits: &Limits,
    warnings: &mut Warnings,
) -> Result<Vec<u8>, FormatError> {
    let cap = limits.max_inflated_bytes;
    let mut decoder =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(256 * 1024, reader));
    let mut out = Vec::with_capacity(compressed_len.saturating_mul(4).min(cap as usize));
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if (out.len() + n) as u64 > cap {
                    return Err(FormatError::InflatedTooLarge { limit: cap });
                }
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if out.is_empty() {
                    return Err(FormatError::Gzip {
                        offset: 0,
                        message: e.to_string(),
                    });
                }
                let n = out.len();
                warnings.add("gzip-truncated", || {
                    format!("gzip stream is cut short or corrupt ({e}); loaded the first {n} decompressed bytes")
                });
                break;
            }
        }
    }
    Ok(out)
}

/// The format of a file from its first bytes (gzip or not), so that a large
/// file that is none of ours is refused before it is read whole.
pub fn sniff_head(head: &[u8]) -> Result<Format, FormatError> {
    if !is_gzip(head) {
        return detect(head);
    }
    let mut decoder = flate2::read::MultiGzDecoder::new(head);
    let mut out = vec![0u8; 64 * 1024];
    let mut filled = 0;
    // The head ends mid-stream, so a read error after some output is expected.
    while filled < out.len() {
        match decoder.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if filled == 0 => {
                return Err(FormatError::Gzip {
                    offset: 0,
                    message: e.to_string(),
                });
            }
            Err(_) => break,
        }
    }
    detect(&out[..filled])
}

/// The format of already-inflated bytes, or why it is none of ours.
pub fn detect(data: &[u8]) -> Result<Format, FormatError> {
    if data.is_empty() {
        return Err(FormatError::Empty);
    }
    if is_trace_header(data) {
        return Ok(Format::Trace);
    }
    if looks_like_text(data) {
        if let Some(f) = detect_text(data) {
            return Ok(f);
        }
    } else if looks_like_protobuf(data) {
        return Ok(Format::Pprof);
    }
    Err(FormatError::Unrecognised {
        hint: describe(data),
    })
}

/// `go 1.NN trace` padded with NULs to 16 bytes.
pub fn is_trace_header(data: &[u8]) -> bool {
    let head = &data[..data.len().min(16)];
    head.starts_with(b"go 1.") && head.windows(6).any(|w| w == b" trace")
}

fn looks_like_text(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    // Control bytes other than whitespace, form feed and ANSI escapes mean binary.
    if head
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
    {
        return false;
    }
    // Allow a UTF-8 sequence cut at the sniff boundary.
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 >= head.len(),
    }
}

/// A protobuf `Profile`: its first fields are known `Profile` fields with
/// the wire types the schema gives them (a profile cut short still counts).
fn looks_like_protobuf(data: &[u8]) -> bool {
    super::pprof::looks_like_profile(data)
}

fn detect_text(data: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(&data[..data.len().min(SNIFF_TEXT_BYTES)]);
    let mut lines = 0usize;
    let mut folded = 0usize;
    for raw in text.lines().take(20_000) {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        if is_count_profile_header(line) || is_debug1_record(line) {
            return Some(Format::GoroutineDebug1);
        }
        if find_goroutine_header(line).is_some() {
            return Some(Format::GoroutineDump);
        }
        if is_folded_line(line) {
            folded += 1;
        }
    }
    (lines > 0 && folded * 10 >= lines * 9).then_some(Format::Folded)
}

/// `goroutine profile: total 45` (or any count profile's header).
pub(crate) fn is_count_profile_header(line: &str) -> bool {
    let Some((name, total)) = line.split_once(" profile: total ") else {
        return false;
    };
    !name.is_empty()
        && !name.contains(' ')
        && !total.is_empty()
        && total.trim().bytes().all(|b| b.is_ascii_digit())
}

/// `10 @ 0x4704ce 0x405dad`.
fn is_debug1_record(line: &str) -> bool {
    let Some((count, pcs)) = line.split_once(" @") else {
        return false;
    };
    !count.is_empty()
        && count.bytes().all(|b| b.is_ascii_digit())
        && pcs.split_ascii_whitespace().all(|pc| pc.starts_with("0x"))
}

/// Byte position of a `goroutine N [` or `goroutine N gp=` header in a line,
/// which may carry a log prefix.
pub(crate) fn find_goroutine_header(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = line[from..].find("goroutine ") {
        let at = from + pos;
        let rest = &line[at + "goroutine ".len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let after = &rest[digits..];
            if after.starts_with(" [") || after.starts_with(" gp=") {
                return Some(at);
            }
        }
        from = at + 1;
    }
    None
}

/// `a;b;c 12`: frames separated by `;`, a count after the last space.
fn is_folded_line(line: &str) -> bool {
    match line.rsplit_once(' ') {
        Some((stack, count)) => {
            !stack.trim().is_empty()
                && !count.is_empty()
                && count.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A short description of unrecognised bytes, for the error message.
fn describe(data: &[u8]) -> String {
    if looks_like_text(data) {
        let first = String::from_utf8_lossy(&data[..data.len().min(200)]);
        let first = first.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let mut s: String = first.chars().take(60).collect();
        if first.chars().count() > 60 {
            s.push('…');
        }
        if s.trim_start().starts_with('<') {
            return format!("text starting with {s:?}, which looks like HTML or XML");
        }
        format!("text starting with {s:?}")
    } else {
        let hex: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("binary data starting with {}", hex.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(b"go 1.23 trace\0\0\0rest").unwrap(), Format::Trace);
        assert_eq!(
            detect(b"goroutine profile: total 3\n3 @ 0x1 0x2\n").unwrap(),
            Format::GoroutineDebug1
        );
        assert_eq!(
            detect(b"log line\ngoroutine 1 [running]:\nmain.main()\n").unwrap(),
            Format::GoroutineDump
        );
        assert_eq!(
            detect(b"2024-01-01 app: goroutine 7 gp=0xc m=1 [select]:\n").unwrap(),
            Format::GoroutineDump
        );
        assert_eq!(detect(b"main;a;b 3\nmain;c 1\n").unwrap(), Format::Folded);
        assert_eq!(detect(&[0x0a, 0x04, 0x08, 0x01]).unwrap(), Format::Pprof);
    }

    #[test]
    fn rejects_html_with_a_hint() {
        let err = detect(b"<!DOCTYPE html><html>login</html>").unwrap_err();
        assert!(err.to_string().contains("HTML"), "{err}");
        assert!(matches!(detect(b""), Err(FormatError::Empty)));
    }
}
