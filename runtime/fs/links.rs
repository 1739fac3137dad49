//! Links: making them (`hard_link`, `symlink`), reading one (`read_link`) and resolving a
//! path through all of them (`canonicalize`). One blocking job each.

use super::on_pool::{on_path, on_paths};
use crate::blocking::Mandatory;
use std::io;
use std::path::{Path, PathBuf};

/// Makes `link` a second name of the file `original` (both on the same file system;
/// `AlreadyExists` if `link` exists). The error names both paths.
///
/// # Cancel safety
/// Not safe: once polled, the link is made even if the future is dropped.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "asincrono::fs::hard_link",
        "hard link",
        original.as_ref(),
        "as",
        link.as_ref(),
        Mandatory::Yes,
        |original, link| std::fs::hard_link(original, link),
    )
    .await
}

/// Makes `link` a symbolic link that points to `original`. `original` need not exist, and
/// a relative one is resolved from the link's directory when the link is followed. The
/// error names both paths.
///
/// # Cancel safety
/// Not safe: once polled, the link is made even if the future is dropped.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "asincrono::fs::symlink",
        "symlink",
        original.as_ref(),
        "as",
        link.as_ref(),
        Mandatory::Yes,
        |original, link| std::os::unix::fs::symlink(original, link),
    )
    .await
}

/// Where the symbolic link at `path` points, as written in the link (maybe relative).
/// `InvalidInput` if `path` is not a symbolic link.
///
/// # Cancel safety
/// Safe: it only reads.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(
        "asincrono::fs::read_link",
        "read link",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::read_link(path),
    )
    .await
}

/// The absolute form of `path`, with every symbolic link, `.` and `..` resolved (it must
/// exist).
///
/// # Cancel safety
/// Safe: it only reads.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(
        "asincrono::fs::canonicalize",
        "canonicalize",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::canonicalize(path),
    )
    .await
}
