//! A whole file's contents in one call: `read`, `read_to_string`, `write`.
//!
//! Each is one blocking job that does all the work (`std::fs::read` and friends), so a
//! 100 MiB file holds one pool thread for as long as the disk takes, and all of it sits in
//! memory at once. For large files, a [`File`](super::File) read in chunks is the
//! alternative; tokio makes the same trade.

use super::on_pool::on_path;
use crate::blocking::Mandatory;
use std::io;
use std::path::Path;

/// Reads the whole file at `path`.
///
/// # Cancel safety
/// Safe: it only reads; a dropped read's bytes are simply dropped.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path(
        "asincrono::fs::read",
        "read",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::read(path),
    )
    .await
}

/// Reads the whole file at `path` as UTF-8 text (`InvalidData` if it is not).
///
/// # Cancel safety
/// Safe: it only reads.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path(
        "asincrono::fs::read_to_string",
        "read",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::read_to_string(path),
    )
    .await
}

/// Writes `contents` to the file at `path`, creating it if needed and replacing what it
/// held. The contents are copied first, so the job owns them.
///
/// # Cancel safety
/// Not safe: once polled, the file is written even if the future is dropped (or the
/// runtime shuts down), and an error is lost.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_path(
        "asincrono::fs::write",
        "write",
        path.as_ref(),
        Mandatory::Yes,
        move |path| std::fs::write(path, contents),
    )
    .await
}
