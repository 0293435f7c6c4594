//! One-call path operations, each a `std::fs` call on the blocking pool.

use super::run;
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// The absolute form of a path, with every symbolic link and `.`/`..` resolved, like [`std::fs::canonicalize`].
///
/// # Errors
///
/// Those of [`std::fs::canonicalize`], and `Other` if the blocking pool could not run the
/// call.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::canonicalize(path)).await
}

/// A path's metadata without following a final symbolic link, like [`std::fs::symlink_metadata`].
///
/// # Errors
///
/// Those of [`std::fs::symlink_metadata`], and `Other` if the blocking pool could not run the
/// call.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::symlink_metadata(path)).await
}

/// What a symbolic link points to, like [`std::fs::read_link`].
///
/// # Errors
///
/// Those of [`std::fs::read_link`], and `Other` if the blocking pool could not run the
/// call.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::read_link(path)).await
}

/// Whether a path exists, like [`std::fs::exists`]: `Ok(false)` only when it is known not to, an error when that cannot be told (a permission denied on the way, say), where `Path::exists` would say `false`.
///
/// # Errors
///
/// Those of [`std::fs::exists`], and `Other` if the blocking pool could not run the
/// call.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::exists(path)).await
}

/// Renames a file or directory, replacing `to` if it is a file, like [`std::fs::rename`] (`rename(2)`: atomic within one file system).
///
/// # Errors
///
/// Those of [`std::fs::rename`], and `Other` if the blocking pool could not run the
/// call.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    run(move || std::fs::rename(from, to)).await
}

/// Copies a file's contents and permissions, like [`std::fs::copy`]; returns the bytes copied. On Linux the copy stays in the kernel (`copy_file_range`).
///
/// # Errors
///
/// Those of [`std::fs::copy`], and `Other` if the blocking pool could not run the
/// call.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    run(move || std::fs::copy(from, to)).await
}

/// Makes `link` a new name for the file `original`, like [`std::fs::hard_link`].
///
/// # Errors
///
/// Those of [`std::fs::hard_link`], and `Other` if the blocking pool could not run the
/// call.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    run(move || std::fs::hard_link(original, link)).await
}

/// Makes `link` a symbolic link to `original`, like [`std::os::unix::fs::symlink`]. `original` is stored as given: a relative one is resolved from the link's directory when followed.
///
/// # Errors
///
/// Those of [`std::os::unix::fs::symlink`], and `Other` if the blocking pool could not run the
/// call.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    run(move || std::os::unix::fs::symlink(original, link)).await
}

/// Sets a path's permissions, like [`std::fs::set_permissions`].
///
/// # Errors
///
/// Those of [`std::fs::set_permissions`], and `Other` if the blocking pool
/// could not run the call.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::set_permissions(path, perm)).await
}
