//! A response as it arrives, for one fetch: the head judged before the
//! body reaches the sink, the cap, and how the fetch ends (complete, cut,
//! cancelled).

use std::time::Duration;

use super::classify::cut_reason;
use super::sniff::check_head;
use super::{BodyEnd, Expect, Fetched, SNIFF_BYTES, Step};
use crate::live::error::LiveError;
use crate::model::Format;

/// A response as it arrives: its status and head, and a 2xx body passed to
/// the sink once its first bytes look like what the endpoint should send.
pub(super) struct Receiving<'a> {
    pub(super) url: &'a str,
    pub(super) expect: Expect,
    /// Largest body accepted.
    pub(super) cap: u64,
    pub(super) sink: &'a mut dyn FnMut(&[u8]) -> Result<(), LiveError>,
    pub(super) status: u16,
    /// The first bytes, held back until they can be judged.
    pub(super) head: Vec<u8>,
    /// Set once the head was judged: the format it showed.
    pub(super) accepted: Option<Option<Format>>,
    /// Bytes passed to the sink.
    pub(super) bytes: u64,
    pub(super) content_type: Option<String>,
    /// The start of an error page, for its message.
    pub(super) error_body: Vec<u8>,
}

impl Receiving<'_> {
    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(super) fn too_large(&self) -> LiveError {
        LiveError::BodyTooLarge {
            url: self.url.to_owned(),
            limit: self.cap,
        }
    }

    pub(super) fn done(&self, end: BodyEnd) -> Result<Step, LiveError> {
        Ok(Step::Done(Fetched {
            url: self.url.to_owned(),
            status: self.status,
            bytes: self.bytes,
            format: self.accepted.flatten(),
            end,
        }))
    }

    /// The status line and headers: a redirect ends here, a body announced
    /// above the cap is refused before it arrives.
    pub(super) fn head(
        &mut self,
        status: u16,
        location: Option<String>,
        content_length: Option<u64>,
        content_type: Option<String>,
    ) -> Result<Option<Step>, LiveError> {
        self.status = status;
        self.content_type = content_type;
        if self.is_success() && content_length.is_some_and(|len| len > self.cap) {
            return Err(self.too_large());
        }
        if (300..400).contains(&status)
            && let Some(l) = location
        {
            return Ok(Some(Step::Redirect(l)));
        }
        Ok(None)
    }

    /// A piece of a 2xx body (`at_end`: there is no more to judge the head by).
    pub(super) fn take(&mut self, data: &[u8], at_end: bool) -> Result<(), LiveError> {
        if (self.bytes + self.head.len() as u64).saturating_add(data.len() as u64) > self.cap {
            return Err(self.too_large());
        }
        if self.accepted.is_some() {
            self.bytes += data.len() as u64;
            return (self.sink)(data);
        }
        self.head.extend_from_slice(data);
        if self.head.len() < SNIFF_BYTES && !at_end {
            return Ok(());
        }
        let format = check_head(
            self.url,
            &self.head,
            self.expect,
            self.content_type.as_deref(),
        )?;
        self.accepted = Some(format);
        self.bytes += self.head.len() as u64;
        let head = std::mem::take(&mut self.head);
        (self.sink)(&head)
    }

    /// Cancelled: what arrived is kept if it already looks right; a head
    /// too short to judge is dropped like an empty body.
    pub(super) fn cancelled(&mut self) -> Result<Step, LiveError> {
        if self.accepted.is_none() && !self.head.is_empty() {
            self.take(&[], true).ok();
        }
        match self.accepted {
            Some(_) if self.bytes > 0 => self.done(BodyEnd::Cancelled),
            _ => Err(LiveError::Cancelled {
                url: self.url.to_owned(),
            }),
        }
    }

    pub(super) fn complete(&mut self) -> Result<Step, LiveError> {
        self.take(&[], true)?;
        self.done(BodyEnd::Complete)
    }

    /// A 2xx body that broke off: what arrived, and why it stopped.
    pub(super) fn broke_off(
        &mut self,
        e: &ureq::Error,
        per_read: Duration,
    ) -> Result<Step, LiveError> {
        if let ureq::Error::BodyExceedsLimit(_) = e {
            return Err(self.too_large());
        }
        let reason = cut_reason(e, per_read);
        if self.accepted.is_none() {
            // Not even the head arrived whole: judge what did.
            if self.head.is_empty() {
                return Err(LiveError::Truncated {
                    url: self.url.to_owned(),
                    bytes: 0,
                    reason,
                });
            }
            self.take(&[], true)?;
        }
        self.done(BodyEnd::Cut { reason })
    }
}
