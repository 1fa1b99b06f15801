//! Pieces shared by the text parsers: lines, frames, locations, labels.

use crate::model::{LabelSetId, LabelValue, StackTable};

/// Lines of a buffer with their byte offsets; `\r\n` and `\n` both end a line.
pub(crate) struct Lines<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        Lines { text, pos: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    /// (byte offset of the line, line without its terminator)
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text.as_bytes()[start..];
        let (line_end, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (start + i, start + i + 1),
            None => (self.text.len(), self.text.len()),
        };
        self.pos = next;
        let mut line = self.text.get(start..line_end)?;
        if let Some(l) = line.strip_suffix('\r') {
            line = l;
        }
        Some((start, line))
    }
}

/// Text from bytes, replacing invalid UTF-8 only when there is some.
pub(crate) fn to_text(data: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(data) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(data), true),
    }
}

/// 1-based line number of a byte offset, for messages.
pub(crate) fn line_number(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..end]).count() + 1
}

/// Splits a traceback function line into the function name, dropping the
/// argument list: `main.f({0x1, 0x2}, 0x3?)` → `main.f`, `pkg.(*T[...]).M(...)`
/// → `pkg.(*T[...]).M`. A line with no argument list is all name.
pub(crate) fn function_of_call(line: &str) -> &str {
    let line = line.trim_end();
    let bytes = line.as_bytes();
    if bytes.last() != Some(&b')') {
        return line;
    }
    let mut depth = 0i32;
    for (i, &b) in bytes.iter().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' => {
                depth -= 1;
                if depth == 0 {
                    // `main.(*T).f()` has name parens too, but the argument
                    // list is the last balanced group, which we reached first.
                    return &line[..i];
                }
            }
            _ => {}
        }
    }
    line
}

/// The runtime prints `runtime.gopanic` as `panic`; use the real name so
/// stacks match the protobuf profile of the same moment.
pub(crate) fn canonical_function(name: &str) -> &str {
    if name == "panic" {
        "runtime.gopanic"
    } else {
        name
    }
}

/// `\tpath/file.go:123 +0x1d` → (`path/file.go`, 123). Handles Windows drive
/// colons and the `pc=0x…` suffix of cgo frames.
pub(crate) fn parse_location(line: &str) -> Option<(&str, u32)> {
    let loc = line.trim();
    let loc = match loc.find(" +0x") {
        Some(i) => &loc[..i],
        None => loc,
    };
    let loc = match loc.find(" pc=") {
        Some(i) => &loc[..i],
        None => loc,
    };
    let (file, line_no) = loc.rsplit_once(':')?;
    let line_no: u32 = line_no.trim().parse().ok()?;
    if file.is_empty() {
        return None;
    }
    Some((file, line_no))
}

/// Parses a label set as Go prints it: `{"endpoint":"search", "k":"v"}`
/// (debug=1, `%q` quoting), `{endpoint: search, k: "a b"}` (Go 1.27
/// goroutine headers: quoted only when needed, an empty value printed as
/// nothing), `{"endpoint": "search"}` (Go 1.26 headers) or
/// `{endpoint=search}`. Returns pairs in input order.
pub(crate) fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (key, after) = take_token(rest)?;
        let after = after.trim_start();
        let after = after
            .strip_prefix(':')
            .or_else(|| after.strip_prefix('='))?
            .trim_start();
        let (value, after) = take_token(after)?;
        out.push((key, value));
        rest = after.trim_start();
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            // Anything but a comma after a pair is not a label set.
            None if !rest.is_empty() => return None,
            None => {}
        }
    }
    Some(out)
}

/// Parses a label set as [`parse_labels`] does and interns it; `None` when
/// it does not read.
pub(crate) fn intern_labels(table: &mut StackTable, text: &str) -> Option<LabelSetId> {
    let pairs = parse_labels(text)?
        .into_iter()
        .map(|(k, v)| (table.intern_str(&k), LabelValue::Str(table.intern_str(&v))))
        .collect();
    Some(table.intern_labels(pairs))
}

/// One quoted or bare token, and the rest. A bare token may be empty (Go
/// 1.27 headers print an empty label value as nothing at all).
///
/// Quoted tokens take Go's escapes, as `%q` and the runtime's own quoting
/// write them: `\xNN` stands for a byte, so invalid UTF-8 in a label comes
/// back as replacement characters, the way the protobuf profile of the
/// same labels loads.
fn take_token(s: &str) -> Option<(String, &str)> {
    let Some(body) = s.strip_prefix('"') else {
        let end = s.find([',', ':', '=', '}']).unwrap_or(s.len());
        return Some((s[..end].trim().to_owned(), &s[end..]));
    };
    fn push(out: &mut Vec<u8>, c: char) {
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    let mut out: Vec<u8> = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let token = String::from_utf8_lossy(&out).into_owned();
                return Some((token, &body[i + 1..]));
            }
            '\\' => {
                let (_, e) = chars.next()?;
                let mut hex = |n: usize| -> Option<u32> {
                    let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    (digits.len() == n)
                        .then(|| u32::from_str_radix(&digits, 16).ok())
                        .flatten()
                };
                match e {
                    'n' => out.push(b'\n'),
                    't' => out.push(b'\t'),
                    'r' => out.push(b'\r'),
                    'a' => out.push(0x07),
                    'b' => out.push(0x08),
                    'f' => out.push(0x0c),
                    'v' => out.push(0x0b),
                    'x' => out.push(u8::try_from(hex(2)?).ok()?),
                    'u' => push(&mut out, char::from_u32(hex(4)?)?),
                    'U' => push(&mut out, char::from_u32(hex(8)?)?),
                    other => push(&mut out, other),
                }
            }
            c => push(&mut out, c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_lose_their_arguments() {
        assert_eq!(function_of_call("main.main()"), "main.main");
        assert_eq!(
            function_of_call("main.jobWorker({0x80cc48, 0xc0000972f0}, 0x0, 0xc0000801c0)"),
            "main.jobWorker"
        );
        assert_eq!(
            function_of_call("main.(*priceCache).store(...)"),
            "main.(*priceCache).store"
        );
        assert_eq!(
            function_of_call("example.com/x/pool.(*Pool[...]).Get(0xc000010000?, {0x1, ...})"),
            "example.com/x/pool.(*Pool[...]).Get"
        );
        assert_eq!(
            function_of_call("main.withRetry[...](...)"),
            "main.withRetry[...]"
        );
        assert_eq!(function_of_call("no.args"), "no.args");
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("\texample.com/leakyd/main.go:215 +0x17c"),
            Some(("example.com/leakyd/main.go", 215))
        );
        assert_eq!(
            parse_location("\tC:/Go/src/runtime/proc.go:398"),
            Some(("C:/Go/src/runtime/proc.go", 398))
        );
        assert_eq!(parse_location("\tgarbage"), None);
    }

    #[test]
    fn labels_in_every_spelling() {
        let want = vec![
            ("endpoint".to_owned(), "search".to_owned()),
            ("k".to_owned(), "a \"b\"".to_owned()),
        ];
        assert_eq!(
            parse_labels(r#"{"endpoint":"search", "k":"a \"b\""}"#),
            Some(want.clone())
        );
        assert_eq!(
            parse_labels(r#"{endpoint: "search", k: "a \"b\""}"#),
            Some(want)
        );
        assert_eq!(parse_labels("{}"), Some(vec![]));
        assert_eq!(parse_labels("{\"unterminated}"), None);
    }

    #[test]
    fn labels_as_go_1_27_headers_quote_them() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        // Bare where every character is [A-Za-z0-9./_], quoted otherwise;
        // the runtime escapes everything outside printable ASCII.
        assert_eq!(
            parse_labels(r#"{handler: "GET /export", tenant: "acme \"eu\" \u00fc\t\x01"}"#),
            Some(vec![
                pair("handler", "GET /export"),
                pair("tenant", "acme \"eu\" \u{fc}\t\u{1}")
            ])
        );
        assert_eq!(
            parse_labels(r#"{"emoji": "\U0001f600", path: a/b.c_d}"#),
            Some(vec![pair("emoji", "\u{1f600}"), pair("path", "a/b.c_d")])
        );
        // An empty value is printed as nothing.
        assert_eq!(
            parse_labels("{empty: , k: v}"),
            Some(vec![pair("empty", ""), pair("k", "v")])
        );
        assert_eq!(parse_labels("{k: }"), Some(vec![pair("k", "")]));
        // A byte that is not UTF-8 comes back as a replacement character.
        assert_eq!(
            parse_labels(r#"{k: "a\xffb"}"#),
            Some(vec![pair("k", "a\u{fffd}b")])
        );
        assert_eq!(parse_labels(r#"{k: "\x4"}"#), None);
        assert_eq!(parse_labels("{k: v w: x}"), None);
    }

    #[test]
    fn lines_handle_crlf_and_missing_final_newline() {
        let v: Vec<_> = Lines::new("a\r\nb\n\nc").collect();
        assert_eq!(v, vec![(0, "a"), (3, "b"), (5, ""), (6, "c")]);
    }
}
