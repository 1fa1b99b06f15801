//! Writing exports without ever leaving half a file, and without replacing
//! one nobody asked to replace.
//!
//! The content goes to a temporary file in the target's directory (same
//! file system, so the final step is a rename, not a copy) and is synced
//! before it takes the target's name. Without `force`, the final step is a
//! hard link, which fails if the target appeared meanwhile, so two exports
//! racing for one name cannot clobber each other; file systems without hard
//! links fall back to checking, then renaming.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ExportError;

/// Makes temporary names unique within the process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn write_error(path: &Path, source: io::Error) -> ExportError {
    ExportError::Write {
        path: path.to_owned(),
        source,
    }
}

/// The directory a path is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks, before any work is done, that `path` can be written: its
/// directory exists, it is not a directory, and it does not exist unless
/// `force`. The write itself checks again.
pub fn check_target(path: &Path, force: bool) -> Result<(), ExportError> {
    if path.file_name().is_none() {
        return Err(write_error(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        ));
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(write_error(
                path,
                io::Error::new(io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        Ok(_) if !force => {
            return Err(ExportError::Exists {
                path: path.to_owned(),
            });
        }
        _ => {}
    }
    let dir = parent_dir(path);
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(write_error(
            path,
            io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ),
        )),
        Err(e) => Err(write_error(
            path,
            io::Error::new(e.kind(), format!("directory {}: {e}", dir.display())),
        )),
    }
}

/// Creates a fresh temporary file beside `path`.
fn create_temp(path: &Path) -> Result<(PathBuf, File), ExportError> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(write_error(path, e)),
        }
    }
    Err(write_error(
        path,
        last.unwrap_or_else(|| io::Error::other("no free temporary name")),
    ))
}

/// Gives the synced temporary file the target's name.
fn publish(tmp: &Path, path: &Path, force: bool) -> Result<(), ExportError> {
    if force {
        return fs::rename(tmp, path).map_err(|e| write_error(path, e));
    }
    match fs::hard_link(tmp, path) {
        Ok(()) => {
            fs::remove_file(tmp).ok();
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(ExportError::Exists {
            path: path.to_owned(),
        }),
        // No hard links here (FAT, some network shares): check, then rename.
        Err(_) => {
            if fs::symlink_metadata(path).is_ok() {
                return Err(ExportError::Exists {
                    path: path.to_owned(),
                });
            }
            fs::rename(tmp, path).map_err(|e| write_error(path, e))
        }
    }
}

/// Writes what `fill` produces to `path` atomically. An existing file is
/// replaced only with `force`; on any error the target is untouched and the
/// temporary file removed. Errors name `path`.
pub fn write_atomic_with<E>(
    path: &Path,
    force: bool,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), ExportError>
where
    E: Into<ExportError>,
{
    check_target(path, force)?;
    let (tmp, file) = create_temp(path)?;
    let result = (|| {
        let mut w = BufWriter::new(file);
        fill(&mut w).map_err(Into::into)?;
        let file = w
            .into_inner()
            .map_err(|e| write_error(path, e.into_error()))?;
        file.sync_all().map_err(|e| write_error(path, e))?;
        drop(file);
        publish(&tmp, path, force)
    })();
    if result.is_err() {
        fs::remove_file(&tmp).ok();
    }
    result
}

/// Writes `contents` to `path` atomically; see [`write_atomic_with`].
pub fn write_atomic(path: &Path, force: bool, contents: &[u8]) -> Result<(), ExportError> {
    write_atomic_with(path, force, |w| {
        w.write_all(contents).map_err(|e| write_error(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("leakscope-atomic-{name}-{}", std::process::id()));
        fs::remove_dir_all(&d).ok();
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn never_replaces_without_force_and_leaves_no_temp_files() {
        let d = temp_dir("force");
        let p = d.join("out.svg");
        write_atomic(&p, false, b"one").unwrap();
        let err = write_atomic(&p, false, b"two").unwrap_err();
        assert!(matches!(err, ExportError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("out.svg"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, true, b"three").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"three");
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.svg"]);
        fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn a_failing_writer_leaves_the_target_alone() {
        let d = temp_dir("fail");
        let p = d.join("r.html");
        fs::write(&p, "old").unwrap();
        let err = write_atomic_with(&p, true, |_| Err(ExportError::Empty("nothing".to_owned())))
            .unwrap_err();
        assert!(matches!(err, ExportError::Empty(_)));
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn missing_directories_are_named() {
        let d = temp_dir("missing");
        let p = d.join("no/such/dir/out.svg");
        let err = write_atomic(&p, false, b"x").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("no/such/dir/out.svg"), "{msg}");
        assert!(msg.contains("cannot write"), "{msg}");
        let err = write_atomic(&d, true, b"x").unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        fs::remove_dir_all(&d).ok();
    }
}
