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
//! (`on_pool.rs`); [`File`] runs one job per read, write or seek, through one buffer
//! that it reuses (`blocking/offload.rs`). One exception: [`read`] and [`read_to_string`]
//! first try calls that Linux promises will not wait (`in_place.rs`), and a small file
//! already in the kernel's caches is read on the task's own thread, with no job.
//!
//! Jobs that change the file system (write, create, remove, sync) are *mandatory*: if the
//! runtime shuts down before one starts, it runs anyway, so that data the program handed
//! over is never silently dropped. Jobs that only look (read, metadata, listing) are
//! cancelled instead.
//!
//! # Where each function lives
//!
//! | file | what |
//! |---|---|
//! | `on_pool.rs` | the one helper every call goes through: a job on the pool, an error naming the path |
//! | `contents.rs` | a whole file at once: [`read`], [`read_to_string`], [`write()`] |
//! | `in_place.rs` | the reads' fast path: a small file already in the kernel's caches, read with no job |
//! | `dirs.rs`, `dir_builder.rs` | [`create_dir`], [`create_dir_all`], [`remove_dir`], [`remove_dir_all`], [`DirBuilder`] |
//! | `file_ops.rs` | a file by its name: [`copy`], [`rename`], [`remove_file`] |
//! | `links.rs` | [`hard_link`], [`symlink`], [`read_link`], [`canonicalize`] |
//! | `metadata.rs` | [`metadata`], [`symlink_metadata`], [`try_exists`], [`set_permissions`] |
//! | `read_dir.rs` | [`read_dir`], [`ReadDir`], [`DirEntry`]: a batch of entries per job |
//! | `open_options.rs` | [`OpenOptions`], and `File::open`/`create`/`create_new`/`options` |
//! | `file.rs` | [`File`]: reads, writes, seeks, `sync_all`, `set_len`, `set_max_buf_size`, … |
//! | `file_std.rs` | [`File`] and std's file or a raw descriptor: `from_std`, `into_std`, `try_clone`, `AsRawFd`, … |
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

// `unsafe` lives in two places only: `File`'s `FromRawFd` impl (`file_std.rs`), an `unsafe
// fn` by the trait's definition, and the three system calls of the reads' fast path
// (`in_place.rs`), which std does not offer. Everything else is held to safe code.
#![deny(unsafe_code)]

mod contents;
mod dir_builder;
mod dirs;
mod file;
mod file_ops;
mod file_std;
#[allow(unsafe_code)] // openat2, statx and preadv2: see the file's doc
mod in_place;
mod links;
mod metadata;
mod on_pool;
mod open_options;
mod read_dir;

pub use contents::{read, read_to_string, write};
pub use dir_builder::DirBuilder;
pub use dirs::{create_dir, create_dir_all, remove_dir, remove_dir_all};
pub use file::File;
pub use file_ops::{copy, remove_file, rename};
pub use links::{canonicalize, hard_link, read_link, symlink};
pub use metadata::{metadata, set_permissions, symlink_metadata, try_exists};
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir, read_dir};
/// Timestamps for [`File::set_times`]: std's type, whose builder methods
/// (`FileTimes::new().set_accessed(t).set_modified(t)`) are the ones tokio's has.
pub use std::fs::FileTimes;
