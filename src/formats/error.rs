//! Errors of the format layer.

use thiserror::Error;

/// Why an input could not be loaded at all. Problems that still allow a
/// partial load are [`crate::model::Warnings`] instead.
#[derive(Debug, Error)]
pub enum FormatError {
    /// Zero bytes: said plainly, since it usually means a capture that failed.
    #[error("the input is empty")]
    Empty,
    /// None of the formats recognised the content.
    #[error(
        "not a format leakscope reads ({hint}); expected a pprof profile, a goroutine dump, a Go execution trace or folded stacks"
    )]
    Unrecognised {
        /// What the content looks like instead (HTML, JSON, binary), so the
        /// user can tell a wrong URL from a damaged file.
        hint: String,
    },
    /// The gzip layer is damaged before any usable output.
    #[error("gzip stream is corrupt at compressed offset {offset}: {message}")]
    Gzip {
        /// Where in the compressed bytes decoding failed.
        offset: u64,
        /// What the inflater said.
        message: String,
    },
    /// Decompression went past the cap: a gzip bomb must cost bounded memory.
    #[error(
        "decompressed size exceeds the limit of {limit} bytes (a gzip bomb, or raise the limit)"
    )]
    InflatedTooLarge {
        /// The cap in bytes ([`crate::formats::Limits::max_inflated_bytes`]).
        limit: u64,
    },
    /// The file is bigger than the loader accepts, refused before reading it
    /// all.
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
    /// The format was recognised but its content cannot be decoded at all.
    #[error("{format}: {message} (at byte offset {offset})")]
    Malformed {
        /// Which parser gave up (`pprof`, `trace`, ...).
        format: &'static str,
        /// Where in the (decompressed) input, so the damage can be found.
        offset: u64,
        /// What is wrong, in words.
        message: String,
    },
    /// An element count passed a cap, which a broken or hostile input must not
    /// push into unbounded memory.
    #[error("{format}: {what} exceeds the limit of {limit}")]
    Limit {
        /// Which parser stopped.
        format: &'static str,
        /// What was counted (`samples`, `goroutines`, ...).
        what: &'static str,
        /// The cap that was passed.
        limit: u64,
    },
    /// The input parsed but held nothing of what its format is for.
    #[error("{format}: no {what} found{detail}")]
    NothingFound {
        /// Which parser looked.
        format: &'static str,
        /// What it looked for (`goroutines`, `stacks`, ...).
        what: &'static str,
        /// Anything that helps tell why, starting with its own separator; may
        /// be empty.
        detail: String,
    },
    /// A version of the format this build does not read (a trace from a newer
    /// Go, say), told apart from damage so the user knows to upgrade.
    #[error("unsupported {format} version: {version}")]
    UnsupportedVersion {
        /// Which format.
        format: &'static str,
        /// The version the input states.
        version: String,
    },
    /// The user stopped the load: not a fault of the input.
    #[error("loading was cancelled")]
    Cancelled,
}
