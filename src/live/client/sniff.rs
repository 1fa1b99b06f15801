//! Telling from the first bytes of a body whether it is what the endpoint
//! should send: a profile, a trace, or a login page in their place.

use super::{Expect, SNIFF_BYTES};
use crate::formats::{FormatError, detect};
use crate::live::error::LiveError;
use crate::model::Format;

/// Checks the start of a body against what the endpoint should send.
pub(super) fn check_head(
    url: &str,
    head: &[u8],
    expect: Expect,
    content_type: Option<&str>,
) -> Result<Option<Format>, LiveError> {
    let not_a_profile = |detail: String| LiveError::NotAProfile {
        url: url.to_owned(),
        detail,
    };
    if expect == Expect::Index {
        return Ok(None);
    }
    let format = match detect::sniff_head(head) {
        Ok(f) => f,
        Err(FormatError::Unrecognised { hint }) => {
            let html = content_type.is_some_and(|c| c.contains("html")) || hint.contains("HTML");
            return Err(not_a_profile(if html {
                let what = match html_title(head) {
                    Some(t) => format!("an HTML page titled {t:?}"),
                    None => format!("an HTML page, {hint}"),
                };
                format!("{what} (a login page, or a proxy's error page?)")
            } else {
                hint
            }));
        }
        Err(FormatError::Empty) => return Err(not_a_profile("the body is empty".to_owned())),
        Err(e) => return Err(not_a_profile(e.to_string())),
    };
    match (expect, format) {
        (Expect::Trace, Format::Trace) => Ok(Some(format)),
        (Expect::Trace, other) => Err(not_a_profile(format!(
            "a {} where a Go execution trace was expected",
            other.name()
        ))),
        (_, Format::Trace) => Err(not_a_profile(
            "a Go execution trace where a profile was expected".to_owned(),
        )),
        (_, f) => Ok(Some(f)),
    }
}

/// The `<title>` of an HTML page, which usually says what it is ("Sign in").
fn html_title(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&head[..head.len().min(SNIFF_BYTES)]);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let start = start + lower.get(start..)?.find('>')? + 1;
    let len = lower.get(start..)?.find("</title")?;
    let title: String = text
        .get(start..start + len)?
        .trim()
        .chars()
        .take(80)
        .collect();
    (!title.is_empty()).then_some(title)
}
