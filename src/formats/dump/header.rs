//! The goroutine header line, `goroutine N [state, flags…] {labels}:`, in
//! the forms every Go release prints it.

/// The parts of `goroutine N [...]:`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Header<'a> {
    pub(super) id: u64,
    pub(super) state: &'a str,
    pub(super) minutes: Option<u32>,
    pub(super) locked: bool,
    pub(super) leaked: bool,
    pub(super) durable: bool,
    pub(super) scan: bool,
    pub(super) bubble: Option<u64>,
    pub(super) labels: Option<&'a str>,
}

/// Where Go 1.26 puts a label set inside the brackets, after the last
/// field and a space: `[select, synctest bubble 1 labels:{"k": "v"}]`.
const INNER_LABELS: &str = " labels:{";

/// Parses a goroutine header as every Go release prints it:
///
/// ```text
/// goroutine 7 gp=0xc0 m=nil [chan send (leaked) (scan), 3 minutes, locked to thread, synctest bubble 2]:
/// goroutine 9 [select labels:{"handler": "search"}]:       <- Go 1.26, GODEBUG=tracebacklabels=1
/// goroutine 9 [select] {handler: search, q: "a b"}:        <- Go 1.27
/// ```
///
/// After the state come the runtime's flags, in this order: `(leaked)`
/// (proven leaked), `(scan)` (its stack was being scanned) and `(durable)`
/// (blocked in a synctest bubble; some wait reasons say `(durable)`
/// themselves, `chan receive (durable)`). The state is returned without
/// them, so that a group's wait reason is the same in and out of bubbles.
pub(super) fn parse_header(line: &str) -> Option<Header<'_>> {
    let rest = line.strip_prefix("goroutine ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id: u64 = rest.get(..digits)?.parse().ok()?;
    let rest = &rest[digits..];
    let open = rest.find('[')?;
    // Between the id and `[` only `gp=… m=… mp=…` fields may stand.
    if !rest[..open]
        .split_ascii_whitespace()
        .all(|f| f.contains('='))
    {
        return None;
    }
    let body_start = open + 1;
    let close = body_start + find_closing(&rest[body_start..], b']')?;
    let mut body = &rest[body_start..close];
    let tail = rest[close + 1..].trim();
    let tail = tail.strip_suffix(':')?.trim();
    let mut labels = (!tail.is_empty() && tail.starts_with('{')).then_some(tail);
    // Fields and the state never hold braces or quotes, so the first match
    // is the label set, whatever its values hold.
    if let Some(i) = body.find(INNER_LABELS) {
        labels = Some(&body[i + INNER_LABELS.len() - 1..]);
        body = &body[..i];
    }

    let mut parts = split_top_level(body);
    let mut h = Header {
        id,
        state: parts.next()?.trim(),
        minutes: None,
        locked: false,
        leaked: false,
        durable: false,
        scan: false,
        bubble: None,
        labels,
    };
    loop {
        if let Some(s) = h.state.strip_suffix(" (leaked)") {
            (h.state, h.leaked) = (s, true);
        } else if let Some(s) = h.state.strip_suffix(" (scan)") {
            (h.state, h.scan) = (s, true);
        } else if let Some(s) = h.state.strip_suffix(" (durable)") {
            (h.state, h.durable) = (s, true);
        } else {
            break;
        }
    }
    for part in parts {
        let part = part.trim();
        if let Some(n) = part.strip_suffix(" minutes") {
            h.minutes = n
                .trim()
                .parse()
                .ok()
                .filter(|&m| m <= crate::formats::limits::MAX_WAIT_MINUTES);
        } else if part == "locked to thread" {
            h.locked = true;
        } else if let Some(n) = part.strip_prefix("synctest bubble ") {
            h.bubble = n.trim().parse().ok();
        } else if let Some(l) = part.strip_prefix("labels:") {
            h.labels = Some(l.trim());
        } else if part.starts_with('{') {
            h.labels = Some(part);
        }
    }
    Some(h)
}

/// Position of `close` at brace depth 0 and outside quotes.
fn find_closing(s: &str, close: u8) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => quoted = true,
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ if b == close && depth <= 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on commas that are outside braces and quotes.
fn split_top_level(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match find_closing(r, b',') {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_every_variant() {
        let h = parse_header("goroutine 26 [select, locked to thread]:").unwrap();
        assert_eq!((h.id, h.state, h.locked), (26, "select", true));
        let h = parse_header("goroutine 7 [chan receive (nil chan), 15 minutes]:").unwrap();
        assert_eq!((h.state, h.minutes), ("chan receive (nil chan)", Some(15)));
        let h = parse_header(
            "goroutine 1 gp=0xc000002380 m=0 mp=0x5ed9a0 [sync.Mutex.Lock, 1 minutes, locked to thread]:",
        )
        .unwrap();
        assert_eq!(
            (h.id, h.state, h.minutes, h.locked),
            (1, "sync.Mutex.Lock", Some(1), true)
        );
        let h = parse_header(r#"goroutine 9 [running] {pattern: "GET /a]b"}:"#).unwrap();
        assert_eq!(h.labels, Some(r#"{pattern: "GET /a]b"}"#));
        let h = parse_header(r#"goroutine 9 [select, labels:{"k": "v, w"}]:"#).unwrap();
        assert_eq!((h.state, h.labels), ("select", Some(r#"{"k": "v, w"}"#)));
        let h = parse_header("goroutine 4 [chan send (leaked)]:").unwrap();
        assert_eq!((h.state, h.leaked), ("chan send", true));
        let h = parse_header("goroutine 4 [chan send (leaked) (scan), 2 minutes]:").unwrap();
        assert_eq!(
            (h.state, h.leaked, h.scan, h.minutes),
            ("chan send", true, true, Some(2))
        );
        let h = parse_header(
            "goroutine 25 [sleep (durable), 5 minutes, locked to thread, synctest bubble 12]:",
        )
        .unwrap();
        assert_eq!(
            (h.state, h.durable, h.locked, h.bubble, h.minutes),
            ("sleep", true, true, Some(12), Some(5))
        );
        let h = parse_header(r#"goroutine 24 [chan receive labels:{"k": "v, ]w"}]:"#).unwrap();
        assert_eq!(
            (h.state, h.labels),
            ("chan receive", Some(r#"{"k": "v, ]w"}"#))
        );
        let h = parse_header(
            r#"goroutine 24 [select, synctest bubble 3 labels:{"handler": "search"}]:"#,
        )
        .unwrap();
        assert_eq!(
            (h.state, h.bubble, h.labels),
            ("select", Some(3), Some(r#"{"handler": "search"}"#))
        );
        assert_eq!(parse_header("goroutine profile: total 4"), None);
        assert_eq!(parse_header("goroutine 4 [select]"), None);
    }
}
