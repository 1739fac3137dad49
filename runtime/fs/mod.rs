//! Files and directories: `fs::read`, `fs::write`, [`File`], [`read_dir`], … for async code.
//!
//! # Why files do not go through the reactor
//!
//! Sockets are waited for with epoll: the reactor asks the kernel to say when a socket
//! becomes readable, and meanwhile the thread runs other tasks. A regular file cannot be
//! waited for that way. `epoll_ctl` refuses it outright (`EPERM`), and for good reason:
//! a file is always "ready" in epoll's sense, yet a `read(2)` of it may still stop the
//! thread for as long as the disk (or the network file system) takes. Non-blocking mode
//! (`O_NONBLOCK`) changes nothing for regular files either.
//!
//! So every file operation here runs on the runtime's **blocking pool** (`blocking/pool.rs`):
//! the task hands a closure to a pool thread, which makes the blocking call and then wakes
//! the task through the job's `JoinHandle`. The free functions are one such job each
//! (see `on_pool` below); [`File`] runs one job per read, write or seek, through one buffer
//! that it reuses (`blocking/offload.rs`).
//!
//! Jobs that change the file system (write, create, remove, sync) are *mandatory*: if the
//! runtime shuts down before one starts, it runs anyway, so that data the program handed
//! over is never silently dropped. Jobs that only look (read, metadata, listing) are
//! cancelled instead.
//!
//! # What a production runtime does
//!
//! tokio does the same thing: `tokio::fs` runs each call on `spawn_blocking`, and its
//! `File` keeps one buffer and one job in flight, as asincrono's does. What would really
//! change the picture is **io_uring**: there the kernel performs the read or write itself
//! and posts a completion to a ring, which the reactor could wait on next to socket
//! readiness. No thread per operation, no hand-off; but buffers must stay put until the
//! kernel is done with them, which makes cancelling an operation (dropping its future) far
//! harder to get right. `tokio-uring` and `glommio` go that way.
//!
//! # Errors
//!
//! Errors keep the operating system's [`ErrorKind`](std::io::ErrorKind) (`NotFound`,
//! `PermissionDenied`, `AlreadyExists`, …), so callers can match on it, and their message
//! names the operation and the path: `read /tmp/missing: No such file or directory (os
//! error 2)`. Called outside a runtime, they fail (they do not panic) with an error that
//! says so.
//!
//! # Cancel safety
//!
//! Once a function here has been polled, its job is on the pool and cannot be called back.
//! Dropping the future of one that only looks (`read`, `metadata`, …) loses nothing but its
//! result; dropping one that changes something (`write`, `remove_file`, …) does not undo
//! or stop the change, and its error is lost. Each function says which kind it is.
//!
//! ```
//! use asincrono::fs;
//!
//! let dir = std::env::temp_dir().join(format!("asincrono-doc-fs-{}", std::process::id()));
//! asincrono::block_on(async {
//!     fs::create_dir_all(&dir).await?;
//!     fs::write(dir.join("greeting.txt"), "hello").await?;
//!     assert_eq!(fs::read_to_string(dir.join("greeting.txt")).await?, "hello");
//!     assert_eq!(fs::metadata(dir.join("greeting.txt")).await?.len(), 5);
//!
//!     let missing = fs::read(dir.join("missing")).await.unwrap_err();
//!     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
//!     assert!(missing.to_string().contains("missing"), "the path is named: {missing}");
//!
//!     fs::remove_file(dir.join("greeting.txt")).await
//! })
//! .unwrap();
//! std::fs::remove_dir(&dir).unwrap();
//! ```

// Nothing here needs `unsafe`, and the compiler holds us to it.
#![forbid(unsafe_code)]

mod file;
mod read_dir;

pub use file::{File, OpenOptions};
pub use read_dir::{DirEntry, ReadDir, read_dir};

use crate::blocking::Mandatory;
use crate::executor::context;
use crate::util::with_context;
use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

/// Runs `job` on the current runtime's blocking pool and waits for it: the plumbing every
/// file operation shares. `what` names the caller in the error returned outside a runtime;
/// a job that panicked or was cancelled becomes an `io::Error` too.
pub(crate) async fn on_pool<T, F>(what: &str, mandatory: Mandatory, job: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let runtime = context::current_or_error(what)?;
    runtime.spawn_blocking(mandatory, job).await?
}

/// [`on_pool`] for an operation on `path`: the job gets its own copy of the path, and an
/// error names `verb` and the path ("open /tmp/x: …").
pub(crate) async fn on_path<T, F>(
    what: &str,
    verb: &'static str,
    path: &Path,
    mandatory: Mandatory,
    op: F,
) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_path_buf();
    on_pool(what, mandatory, move || {
        op(&path).map_err(|err| with_context(err, verb, path.display()))
    })
    .await
}

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

/// Removes the file at `path`.
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

/// Removes the empty directory at `path`.
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

/// The absolute form of `path`, with every symbolic link resolved (it must exist).
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
