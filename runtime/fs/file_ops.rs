//! Operations on a file by its name: `copy`, `rename`, `remove_file`.
//!
//! Each is one blocking job; `copy` copies the whole file in it (std uses
//! `copy_file_range` on Linux, so the bytes may never pass through this process).

use super::on_pool::{on_path, on_paths};
use crate::blocking::Mandatory;
use std::io;
use std::path::Path;

/// Copies the contents and permission bits of the file `from` to `to`, replacing `to` if it
/// exists; returns the number of bytes copied. The error names both paths.
///
/// # Cancel safety
/// Not safe: once polled, the copy is made even if the future is dropped.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_paths(
        "asincrono::fs::copy",
        "copy",
        from.as_ref(),
        "to",
        to.as_ref(),
        Mandatory::Yes,
        |from, to| std::fs::copy(from, to),
    )
    .await
}

/// Renames `from` to `to` (a file or a directory), replacing `to` if it is a file. Both
/// must be on the same file system. The error names both paths.
///
/// # Cancel safety
/// Not safe: once polled, the rename happens even if the future is dropped.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "asincrono::fs::rename",
        "rename",
        from.as_ref(),
        "to",
        to.as_ref(),
        Mandatory::Yes,
        |from, to| std::fs::rename(from, to),
    )
    .await
}

/// Removes the file at `path` (a symbolic link itself, not what it points to).
///
/// # Cancel safety
/// Not safe: once polled, the file is removed even if the future is dropped.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "asincrono::fs::remove_file",
        "remove",
        path.as_ref(),
        Mandatory::Yes,
        |path| std::fs::remove_file(path),
    )
    .await
}
