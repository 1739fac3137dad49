//! A whole file's contents in one call: `read`, `read_to_string`, `write`.
//!
//! Each is one blocking job that does all the work (`std::fs::read` and friends), so a
//! 100 MiB file holds one pool thread for as long as the disk takes, and all of it sits in
//! memory at once. For large files, a [`File`](super::File) read in chunks is the
//! alternative; tokio makes the same trade.
//!
//! The reads first try `in_place.rs`: a small file the kernel's caches can give without
//! waiting is read on the task's own thread, with no job at all. tokio always uses the pool.

use super::in_place;
use super::on_pool::on_path;
use crate::blocking::Mandatory;
use std::future::poll_fn;
use std::io;
use std::path::Path;

/// Reads the whole file at `path`.
///
/// # Cancel safety
/// Safe: it only reads; a dropped read's bytes are simply dropped.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    if let Some(bytes) = read_in_place(path.as_ref()).await {
        return Ok(bytes);
    }
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
    // Not UTF-8: the pool's read finds that again, and reports it with the path.
    if let Some(Ok(text)) = read_in_place(path.as_ref()).await.map(String::from_utf8) {
        return Ok(text);
    }
    on_path(
        "asincrono::fs::read_to_string",
        "read",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::read_to_string(path),
    )
    .await
}

// ANCHOR: read_in_place
/// The fast path: the whole file, if the kernel's caches can give it at once (`in_place.rs`).
///
/// It spends one unit of the task's budget first, as any I/O that completes at once does: a
/// task reading cached files in a loop must still give its thread back now and then.
async fn read_in_place(path: &Path) -> Option<Vec<u8>> {
    poll_fn(crate::task::poll_proceed).await;
    in_place::read_if_cached(path)
}
// ANCHOR_END: read_in_place

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
