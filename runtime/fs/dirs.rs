//! Making and removing directories: `create_dir`, `create_dir_all`, `remove_dir`,
//! `remove_dir_all`. [`DirBuilder`](super::DirBuilder) is the same with options.
//!
//! `remove_dir_all` is one job however large the tree: it holds one pool thread until the
//! last entry is gone, and a dropped future does not stop it halfway. tokio's does the same.

use super::on_pool::on_path;
use crate::blocking::Mandatory;
use std::io;
use std::path::Path;

/// Creates the directory at `path`. Its parent must exist (`NotFound` if not), and it must
/// not (`AlreadyExists`); [`create_dir_all`] has neither condition.
///
/// # Cancel safety
/// Not safe: once polled, the directory is created even if the future is dropped.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "asincrono::fs::create_dir",
        "create directory",
        path.as_ref(),
        Mandatory::Yes,
        |path| std::fs::create_dir(path),
    )
    .await
}

/// Creates the directory at `path` and any parents it lacks; succeeds if it exists.
///
/// # Cancel safety
/// Not safe: once polled, the directories are created even if the future is dropped.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "asincrono::fs::create_dir_all",
        "create directory",
        path.as_ref(),
        Mandatory::Yes,
        |path| std::fs::create_dir_all(path),
    )
    .await
}

/// Removes the empty directory at `path` (`DirectoryNotEmpty` if it holds anything).
///
/// # Cancel safety
/// Not safe: once polled, the directory is removed even if the future is dropped.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "asincrono::fs::remove_dir",
        "remove directory",
        path.as_ref(),
        Mandatory::Yes,
        |path| std::fs::remove_dir(path),
    )
    .await
}

/// Removes the directory at `path` and everything in it. Symbolic links inside are removed,
/// not followed.
///
/// # Cancel safety
/// Not safe: once polled, the whole tree is removed even if the future is dropped.
// ANCHOR: fs_remove_dir_all
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "asincrono::fs::remove_dir_all",
        "remove directory tree",
        path.as_ref(),
        Mandatory::Yes,
        |path| std::fs::remove_dir_all(path),
    )
    .await
}
// ANCHOR_END: fs_remove_dir_all
