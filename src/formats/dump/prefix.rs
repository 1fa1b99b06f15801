//! A log prefix (`2024-01-01T10:00:00Z app[1]: `) in front of every line of a
//! dump copied out of a log: learnt from the first goroutine header, then
//! stripped from each line whatever its timestamp says.

use crate::formats::detect;
use crate::formats::text::Lines;

/// A log prefix in front of every line, learnt from the first goroutine header.
#[derive(Debug)]
pub(super) struct LogPrefix {
    /// Length of the prefix on the header line.
    pub(super) len: usize,
    /// Character classes of the prefix (digit → `9`, letter → `a`), so that
    /// timestamps that change from line to line still match.
    pub(super) shape: Vec<u8>,
    /// The non-alphanumeric tail of the prefix (`]: `, ` | `), to find
    /// prefixes of another width.
    pub(super) delimiter: String,
    pub(super) sample: String,
}

fn char_class(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b'9',
        b'a'..=b'z' | b'A'..=b'Z' => b'a',
        other => other,
    }
}

pub(super) fn find_log_prefix(text: &str) -> Option<LogPrefix> {
    for (_, line) in Lines::new(text).take(100_000) {
        if let Some(pos) = detect::find_goroutine_header(line) {
            if pos == 0 {
                return None;
            }
            let prefix = &line[..pos];
            let tail_len = prefix
                .bytes()
                .rev()
                .take_while(|b| !b.is_ascii_alphanumeric())
                .count();
            return Some(LogPrefix {
                len: pos,
                shape: prefix.bytes().map(char_class).collect(),
                delimiter: prefix[pos - tail_len..].to_owned(),
                sample: prefix.to_owned(),
            });
        }
    }
    None
}

impl LogPrefix {
    /// The line without its prefix, or `None` if it has none.
    pub(super) fn strip<'a>(&self, line: &'a str) -> Option<&'a str> {
        let bytes = line.as_bytes();
        if bytes.len() >= self.len
            && line.is_char_boundary(self.len)
            && bytes[..self.len]
                .iter()
                .zip(&self.shape)
                .all(|(&b, &s)| char_class(b) == s)
        {
            return Some(&line[self.len..]);
        }
        if !self.delimiter.trim().is_empty() {
            let window = (self.len * 2).min(line.len());
            let mut end = window;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            if let Some(i) = line[..end].find(&self.delimiter) {
                return Some(&line[i + self.delimiter.len()..]);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_prefix_is_learnt_and_stripped() {
        let text = "2024-01-01T10:00:00Z app[1]: goroutine 1 [running]:\n";
        let p = find_log_prefix(text).unwrap();
        assert_eq!(
            p.strip("2024-01-01T10:00:01Z app[1]: main.main()"),
            Some("main.main()")
        );
        assert_eq!(
            p.strip("2024-01-01T10:00:01Z app[12345]: \tmain.go:3 +0x1"),
            Some("\tmain.go:3 +0x1")
        );
    }
}
