//! What the file system knows about a path: `metadata`, `symlink_metadata`, `try_exists`,
//! and changing it with `set_permissions`. One blocking job each (a `stat(2)` may wait for
//! the disk or a network file system like any other file operation).

use super::on_pool::on_path;
use crate::blocking::Mandatory;
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::Path;

/// The metadata of the file or directory at `path` (following symbolic links).
///
/// # Cancel safety
/// Safe: it only reads.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(
        "asincrono::fs::metadata",
        "metadata of",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::metadata(path),
    )
    .await
}

/// The metadata of `path` itself: for a symbolic link, the link's own, not its target's.
///
/// # Cancel safety
/// Safe: it only reads.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(
        "asincrono::fs::symlink_metadata",
        "metadata of",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::symlink_metadata(path),
    )
    .await
}

/// Whether something exists at `path`, following symbolic links (a broken link: `false`).
/// Unlike `Path::exists`, an error that leaves the answer unknown (no permission to look
/// in the parent directory, say) is returned, not taken for `false`.
///
/// # Cancel safety
/// Safe: it only reads.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path(
        "asincrono::fs::try_exists",
        "look for",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::exists(path),
    )
    .await
}

/// Changes the permissions of the file or directory at `path` (following symbolic links).
///
/// # Cancel safety
/// Not safe: once polled, the change happens even if the future is dropped.
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    on_path(
        "asincrono::fs::set_permissions",
        "set permissions of",
        path.as_ref(),
        Mandatory::Yes,
        move |path| std::fs::set_permissions(path, permissions),
    )
    .await
}
