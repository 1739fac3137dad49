//! `read_dir`: listing a directory, a batch of entries per blocking job.

use super::on_pool::on_path;
use crate::blocking::Mandatory;
use crate::executor::context;
use crate::task::JoinHandle;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::{Future, poll_fn};
use std::io;
use std::mem;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

// ANCHOR: fs_read_dir_batch
/// How many entries one job reads. One job per entry would pay a thread hand-off for each
/// (a few microseconds, more than reading the entry); a batch spreads that cost, and 32
/// entries are little memory. (tokio batches 32 too.)
const BATCH: usize = 32;
// ANCHOR_END: fs_read_dir_batch

/// Opens the directory at `path` for listing; the entries come from
/// [`ReadDir::next_entry`], in the order the OS gives them (no order at all), without `.`
/// and `..`.
///
/// # Cancel safety
/// Safe: it only reads (a directory opened by a dropped call is closed).
///
/// ```
/// use asincrono::fs;
///
/// let dir = std::env::temp_dir().join(format!("asincrono-doc-read-dir-{}", std::process::id()));
/// asincrono::block_on(async {
///     fs::create_dir_all(&dir).await?;
///     fs::write(dir.join("a.txt"), "a").await?;
///     fs::write(dir.join("b.txt"), "bb").await?;
///
///     let mut names = Vec::new();
///     let mut entries = fs::read_dir(&dir).await?;
///     while let Some(entry) = entries.next_entry().await? {
///         names.push((entry.file_name(), entry.metadata().await?.len()));
///         fs::remove_file(entry.path()).await?;
///     }
///     names.sort();
///     assert_eq!(names, [("a.txt".into(), 1), ("b.txt".into(), 2)]);
///     fs::remove_dir(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let listing = on_path(
        "asincrono::fs::read_dir",
        "read directory",
        path.as_ref(),
        Mandatory::No,
        |path| std::fs::read_dir(path),
    )
    .await?;
    Ok(ReadDir {
        state: State::Idle(Batch {
            entries: VecDeque::with_capacity(BATCH),
            listing: Some(listing),
        }),
    })
}

/// The entries of a directory, from [`read_dir`].
pub struct ReadDir {
    /// Whether a job is reading the next batch; who holds the batch and the OS listing.
    state: State,
}

// ANCHOR: fs_read_dir_state
/// Who holds the batch.
enum State {
    /// No job in flight.
    Idle(Batch),
    /// A job is filling the batch; it hands it back when done.
    Busy(JoinHandle<Batch>),
}
// ANCHOR_END: fs_read_dir_state

/// Entries read and not handed out yet, and the OS listing they come from. It travels to
/// the job and back, so the queue's storage is reused.
struct Batch {
    /// Read from the OS, not yet returned by `next_entry`, in order.
    entries: VecDeque<io::Result<DirEntry>>,
    /// The OS listing; `None` once it reported its end (or was lost with a cancelled job).
    listing: Option<std::fs::ReadDir>,
}

impl Batch {
    /// Reads up to [`BATCH`] more entries (blocking: runs on a pool thread).
    fn fill(mut self) -> Batch {
        if let Some(listing) = &mut self.listing {
            for _ in 0..BATCH {
                match listing.next() {
                    Some(entry) => self.entries.push_back(entry.map(DirEntry::new)),
                    None => {
                        self.listing = None;
                        break;
                    }
                }
            }
        }
        self
    }
}

impl ReadDir {
    /// The next entry, or `None` once every entry has been returned.
    ///
    /// # Cancel safety
    /// Safe: if the future is dropped while a batch is being read, the batch is kept and
    /// the next call returns its entries first; no entry is skipped.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// The poll form of [`ReadDir::next_entry`], for code that implements a future by hand:
    /// `Ready(Ok(None))` at the end; `Pending` while a batch is being read (the task is woken
    /// when it is in).
    // ANCHOR: fs_read_dir_poll
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(batch) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if batch.listing.is_none() {
                        return Poll::Ready(Ok(None));
                    }
                    let runtime = context::current_or_error("asincrono::fs::ReadDir::next_entry")?;
                    let batch = mem::replace(
                        batch,
                        Batch {
                            entries: VecDeque::new(),
                            listing: None,
                        },
                    );
                    let job = runtime.spawn_blocking(Mandatory::No, move || batch.fill());
                    self.state = State::Busy(job);
                }
                State::Busy(job) => {
                    // Pending: the JoinHandle keeps our waker; the pool thread wakes it when
                    // the batch is in.
                    let filled = ready!(Pin::new(job).poll(cx));
                    match filled {
                        Ok(batch) => self.state = State::Idle(batch),
                        Err(join_error) => {
                            // Cancelled at shutdown: the listing went with the job, so the
                            // listing ends here, after this error.
                            self.state = State::Idle(Batch {
                                entries: VecDeque::new(),
                                listing: None,
                            });
                            return Poll::Ready(Err(io::Error::other(join_error)));
                        }
                    }
                }
            }
        }
    }
    // ANCHOR_END: fs_read_dir_poll
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(batch) if batch.listing.is_none() && batch.entries.is_empty() => "done",
            State::Idle(_) => "idle",
            State::Busy(_) => "reading a batch",
        };
        f.debug_struct("ReadDir").field("state", &state).finish()
    }
}

/// One entry of a directory listing.
pub struct DirEntry {
    /// The OS entry, shared with the job that asks for its metadata (`std`'s entry cannot
    /// be cloned).
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        DirEntry { std: Arc::new(std) }
    }

    /// The full path: the directory given to [`read_dir`] joined with the entry's name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number, from the listing itself (no system call).
    pub fn ino(&self) -> u64 {
        self.std.ino()
    }

    /// The entry's metadata (not following a symbolic link: a link's own metadata).
    ///
    /// # Cancel safety
    /// Safe: it only reads.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.std.clone();
        on_path(
            "asincrono::fs::DirEntry::metadata",
            "metadata of",
            &self.path(),
            Mandatory::No,
            move |_| entry.metadata(),
        )
        .await
    }

    /// The entry's type (file, directory, symbolic link, …). Usually known from the
    /// listing itself; some file systems need one more system call.
    ///
    /// # Cancel safety
    /// Safe: it only reads.
    pub async fn file_type(&self) -> io::Result<FileType> {
        let entry = self.std.clone();
        on_path(
            "asincrono::fs::DirEntry::file_type",
            "file type of",
            &self.path(),
            Mandatory::No,
            move |_| entry.file_type(),
        )
        .await
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
