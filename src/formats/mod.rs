//! Bytes to model: every format leakscope reads, chosen by content.
//!
//! Each parser fills a [`StackTable`] of its own and returns it with the
//! input it describes; [`crate::model::Session::add`] then moves both into
//! the session. Parsers never panic on input: what they cannot read is
//! either a [`FormatError`] or, when part of the input is still usable, a
//! counted warning on the loaded input.

pub mod debug1;
pub mod detect;
pub mod dump;
pub mod error;
pub mod folded;
pub mod limits;
pub mod pprof;
pub mod session_dir;
pub(crate) mod text;
pub mod trace;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

pub use error::FormatError;
pub use limits::Limits;

use crate::model::{Format, Input, StackTable, Warnings};
use crate::progress::Progress;

/// An input parsed into a table of its own.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The strings, frames and stacks the input's ids point into, until a
    /// session absorbs it.
    pub table: StackTable,
    /// What was parsed.
    pub input: Input,
}

impl Loaded {
    /// Sets the capture time of a snapshot, or when a trace's capture
    /// started, from outside the file (a session manifest; see
    /// [`session_dir`]); implausible times are ignored (see
    /// [`limits::MAX_UNIX_NS`]).
    pub fn set_captured_at(&mut self, unix_ns: i64) {
        let Some(t) = limits::plausible_unix_ns(unix_ns) else {
            return;
        };
        match &mut self.input {
            Input::Snapshot(s) => s.captured_at_ns = Some(t),
            Input::Trace(tr) => std::sync::Arc::make_mut(tr).started_at_ns = Some(t),
        }
    }
}

/// Knobs for loading.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Caps on size and counts, so a huge or hostile input costs bounded memory
    /// and time.
    pub limits: Limits,
}

/// An input that could not be loaded, naming it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file was read but its content could not be parsed.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the parser said, with its offset.
        source: FormatError,
    },
    /// A session folder that could not be listed.
    #[error(transparent)]
    SessionDir(#[from] session_dir::SessionDirError),
}

impl LoadError {
    /// The input that failed, so a list of errors says which file each is
    /// about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Io { path, .. } | LoadError::Format { path, .. } => path,
            LoadError::SessionDir(e) => e.path(),
        }
    }
}

/// Bytes read before the whole file, to refuse what is not ours cheaply.
const SNIFF_BYTES: u64 = 1 << 20;

/// Reads and parses one file.
pub fn load_file(
    path: &Path,
    options: &LoadOptions,
    progress: &Progress,
) -> Result<Loaded, LoadError> {
    let io_err = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    let limit = options.limits.max_input_bytes;
    if size > limit {
        return Err(LoadError::Format {
            path: path.to_owned(),
            source: FormatError::TooLarge { size, limit },
        });
    }
    // `take` guards against a file that grows while it is read.
    let mut reader = file.take(limit + 1);
    let mut head = Vec::with_capacity(size.min(SNIFF_BYTES) as usize);
    (&mut reader)
        .take(SNIFF_BYTES)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let format_err = |source| LoadError::Format {
        path: path.to_owned(),
        source,
    };
    detect::sniff_head(&head).map_err(format_err)?;
    let name = path.display().to_string();
    if detect::is_gzip(&head) {
        // Inflated straight from the file: the compressed bytes are never
        // held beside the inflated ones.
        let mut warnings = Warnings::default();
        let mut counted = CountingReader {
            inner: std::io::Read::chain(std::io::Cursor::new(head), &mut reader),
            count: 0,
        };
        let inflated =
            detect::gunzip_from(&mut counted, size as usize, &options.limits, &mut warnings)
                .map_err(format_err)?;
        let compressed = counted.count;
        if compressed > limit {
            return Err(format_err(FormatError::TooLarge {
                size: compressed,
                limit,
            }));
        }
        return load_inflated(
            &name,
            Cow::Owned(inflated),
            compressed,
            warnings,
            options,
            progress,
        )
        .map_err(format_err);
    }
    let mut data = head;
    data.reserve(size.saturating_sub(data.len() as u64) as usize);
    reader.read_to_end(&mut data).map_err(io_err)?;
    if data.len() as u64 > limit {
        return Err(format_err(FormatError::TooLarge {
            size: data.len() as u64,
            limit,
        }));
    }
    // Not gzip (sniffed above), so this is `load_bytes` handing the bytes
    // over: a trace parser gives them back as it is done with them.
    let bytes = data.len() as u64;
    let warnings = Warnings::default();
    load_inflated(&name, Cow::Owned(data), bytes, warnings, options, progress).map_err(format_err)
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Parses bytes from anywhere (file, network, embedded demo); `name` labels the input.
pub fn load_bytes(
    name: &str,
    data: &[u8],
    options: &LoadOptions,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let mut warnings = Warnings::default();
    let inflated = detect::maybe_gunzip(data, &options.limits, &mut warnings)?;
    load_inflated(
        name,
        inflated,
        data.len() as u64,
        warnings,
        options,
        progress,
    )
}

/// Parses inflated bytes; `bytes` is the size of the input as it came
/// (compressed or not) and `warnings` what inflating it said. Owned bytes
/// let the trace parser free them part by part.
fn load_inflated(
    name: &str,
    inflated: Cow<'_, [u8]>,
    bytes: u64,
    mut warnings: Warnings,
    options: &LoadOptions,
    progress: &Progress,
) -> Result<Loaded, FormatError> {
    let limits = &options.limits;
    let format = detect::detect(&inflated)?;
    let source = crate::model::Source {
        path: name.to_owned(),
        format,
        profile_type: None,
        bytes,
    };
    let mut loaded = match format {
        Format::GoroutineDump => dump::parse(&inflated, source, limits, progress)?,
        Format::GoroutineDebug1 => debug1::parse(&inflated, source, limits, progress)?,
        Format::Folded => folded::parse(&inflated, source, limits, progress)?,
        Format::Pprof => pprof::parse(&inflated, source, limits, progress)?,
        Format::Trace => trace::parse_bytes(inflated, source, limits, progress)?,
    };
    let cut = loaded.table.strings().cut_strings();
    warnings.add_n("long-string", cut, || {
        format!(
            "strings longer than {} KiB (function names, paths or labels) were cut to that length",
            limits::MAX_STRING_BYTES >> 10
        )
    });
    if !warnings.is_empty() {
        let w = loaded.input.warnings_mut();
        warnings.extend(std::mem::take(w));
        *w = warnings;
    }
    Ok(loaded)
}
