//! Errors of the format layer.

use thiserror::Error;

/// Why an input could not be loaded at all. Problems that still allow a
/// partial load are [`crate::model::Warnings`] instead.
#[derive(Debug, Error)]
pub enum FormatError {
    #[error("the input is empty")]
    Empty,
    #[error("not a format leakscope reads ({hint}); expected a pprof profile, a goroutine dump, a Go execution trace or folded stacks")]
    Unrecognised { hint: String },
    #[error("gzip stream is corrupt at compressed offset {offset}: {message}")]
    Gzip { offset: u64, message: String },
    #[error("decompressed size exceeds the limit of {limit} bytes (a gzip bomb, or raise the limit)")]
    InflatedTooLarge { limit: u64 },
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("{format}: {message} (at byte offset {offset})")]
    Malformed {
        format: &'static str,
        offset: u64,
        message: String,
    },
    #[error("{format}: {what} exceeds the limit of {limit}")]
    Limit {
        format: &'static str,
        what: &'static str,
        limit: u64,
    },
    #[error("{format}: no {what} found{detail}")]
    NothingFound {
        format: &'static str,
        what: &'static str,
        detail: String,
    },
    #[error("unsupported {format} version: {version}")]
    UnsupportedVersion {
        format: &'static str,
        version: String,
    },
    #[error("loading was cancelled")]
    Cancelled,
}
