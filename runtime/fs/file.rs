//! `File`: an open file whose reads, writes and seeks run on the blocking pool through one
//! reusable buffer (the machinery is `blocking/offload.rs`), and the operations on the open
//! file that are not reads or writes (`sync_all`, `set_len`, `metadata`, …).
//!
//! Opening lives with [`OpenOptions`](super::OpenOptions) (`open_options.rs`), and the
//! conversions to and from std's file and raw descriptors in `file_std.rs`.

use super::on_pool::on_pool;
use crate::blocking::Mandatory;
use crate::blocking::offload::{self, Buffer, Offloaded, Outcome};
use crate::executor::context;
use crate::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf, read_into_unfilled};
use std::fmt;
use std::fs::{FileTimes, Metadata, Permissions};
use std::io::{self, IoSlice, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

/// An open file, for use from async code.
///
/// Every operation runs on the runtime's blocking pool (see the [module doc](super) for
/// why), one at a time, through one buffer that the `File` reuses. One read or write moves
/// at most 1 MiB (tokio: 2 MiB), or what [`set_max_buf_size`](File::set_max_buf_size) says.
///
/// # Writes finish in the background
///
/// A write copies your bytes (up to the buffer's limit per call) into the buffer, starts a
/// job that writes them, and returns at once. The job's result is only known later:
///
/// - the next operation on the `File` waits for the job first, and if the write failed it
///   returns that error (whatever operation it is);
/// - **a write is complete when [`flush`](crate::io::AsyncWriteExt::flush) (or
///   [`sync_all`](File::sync_all)) returns `Ok`**: the bytes have reached the operating
///   system (and with `sync_all`, the disk).
///
/// A `File` never holds bytes that are not already in a write job: `flush` only waits.
/// Each write is one job (a hand-off to a pool thread and back), so many small writes are
/// slow: wrap the `File` in a [`BufWriter`](crate::io::BufWriter) for those.
///
/// # Dropping a `File`
///
/// Dropping a `File` with a write in flight does not stop the write. Its job is
/// *mandatory*: it runs to the end even if the runtime shuts down before it started, so the
/// bytes still reach the file. But nobody is left to hear how it went: **an error of that
/// write is lost**. Flush before dropping when errors matter. (A job still *running* when
/// the runtime is dropped is waited for, up to the runtime's shutdown limit, then left to
/// finish on its own thread; only the end of the process can stop it.) The OS file is
/// closed when both the `File` and its last job are gone.
///
/// Bytes read ahead into the buffer and not handed out are dropped with the `File`; they
/// were never yours yet, and the file still has them.
///
/// # Cancel safety
///
/// | future | if dropped before it finishes |
/// |---|---|
/// | `read` | safe: the bytes its job reads stay in the buffer for the next read |
/// | `write`, `flush` | safe: `write` accepted all or nothing; the job runs on |
/// | `seek` | not safe: the seek still happens (see the `AsyncSeek` impl below) |
/// | `sync_all`, `sync_data`, `set_len` | the change still happens; its error goes to the next operation |
/// | `open`, `metadata`, `try_clone`, `into_std` | safe: they only look (a clone made is closed) |
/// | `create`, `create_new`, `set_permissions`, `set_times` | not safe: the change still happens |
///
/// # Differences from tokio
///
/// `sync_all`, `sync_data` and `set_len` take `&mut self` where tokio takes `&self`: they
/// must wait for the job in flight, and tokio lets several tasks share one `File` by
/// guarding it with an async mutex. asincrono relies on the exclusive borrow instead. The
/// methods that take `&self` as in tokio (`metadata`, `set_permissions`, `set_times`,
/// `try_clone`) cannot wait for a job in flight, so they do not: `flush` first when one
/// must come after the last write. tokio's `set_times` and `try_clone` do wait.
///
/// ```
/// use asincrono::fs::File;
/// use asincrono::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// let path = std::env::temp_dir().join(format!("asincrono-doc-file-{}", std::process::id()));
/// asincrono::block_on(async {
///     let mut file = File::create(&path).await?;
///     file.write_all(b"hello, file").await?;
///     file.flush().await?; // the write is complete only now
///
///     let mut file = File::open(&path).await?;
///     file.seek(SeekFrom::Start(7)).await?;
///     let mut tail = String::new();
///     file.read_to_string(&mut tail).await?;
///     assert_eq!(tail, "file");
///     asincrono::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
// ANCHOR: fs_file_struct
pub struct File {
    /// The open file, its buffer and the job in flight.
    pub(super) inner: Offloaded<std::fs::File>,
    /// The seek between `start_seek` and `poll_complete`.
    pub(super) seek: SeekState,
}
// ANCHOR_END: fs_file_struct

impl File {
    /// Waits for the write in flight, then has the OS write the file's data and metadata to
    /// the disk. When this returns `Ok`, everything written so far is durable.
    ///
    /// # Cancel safety
    /// Safe in that nothing is lost: once polled, the sync finishes in the background, and
    /// an error of it (or of the write before it) is returned by the next operation on the
    /// `File`.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.inner
            .change(
                || context::current_or_error("asincrono::fs::File::sync_all"),
                |file, _| file.sync_all(),
            )
            .await
    }

    /// Like [`File::sync_all`], but may skip metadata that is not needed to read the data
    /// back (such as the modification time).
    ///
    /// # Cancel safety
    /// As [`File::sync_all`].
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.inner
            .change(
                || context::current_or_error("asincrono::fs::File::sync_data"),
                |file, _| file.sync_data(),
            )
            .await
    }

    /// Waits for the operation in flight (a write lands before the size changes), then
    /// truncates or extends the file to `size` bytes (extending adds zeros). The position
    /// does not change: a write after it goes where the last read or write stopped, even
    /// past the new end (the gap reads as zeros).
    ///
    /// # Cancel safety
    /// Not safe: once polled, the size changes even if the future is dropped (an error goes
    /// to the next operation on the `File`).
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.inner
            .change(
                || context::current_or_error("asincrono::fs::File::set_len"),
                move |file, buffer| {
                    let unread = buffer.len();
                    buffer.clear();
                    step_back(file, unread)?;
                    file.set_len(size)
                },
            )
            .await
    }

    /// The file's metadata (size, permissions, times).
    ///
    /// It does not wait for a write in flight: `flush` first if the size must include it.
    ///
    /// # Cancel safety
    /// Safe: it only reads.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        self.on_handle("asincrono::fs::File::metadata", Mandatory::No, |file| {
            file.metadata()
        })
        .await
    }

    /// Changes the file's permissions.
    ///
    /// # Cancel safety
    /// Not safe: once polled, the change happens even if the future is dropped.
    pub async fn set_permissions(&self, permissions: Permissions) -> io::Result<()> {
        self.on_handle(
            "asincrono::fs::File::set_permissions",
            Mandatory::Yes,
            move |file| file.set_permissions(permissions),
        )
        .await
    }

    /// Changes the file's access and modification times (`FileTimes::new()
    /// .set_modified(t)`, …; a time left unset is left as it is).
    ///
    /// It does not wait for a write in flight, which would set the modification time again
    /// when it lands: `flush` first.
    ///
    /// # Cancel safety
    /// Not safe: once polled, the change happens even if the future is dropped.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.on_handle(
            "asincrono::fs::File::set_times",
            Mandatory::Yes,
            move |file| file.set_times(times),
        )
        .await
    }

    /// Changes the file's modification time: [`File::set_times`] with only that one.
    ///
    /// # Cancel safety
    /// As [`File::set_times`].
    pub async fn set_modified(&self, time: SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Sets the most bytes one read or write moves (1 MiB by default), from the next
    /// operation on: a read asks the OS for at most this many, a write accepts at most this
    /// many per call. Small values mean many jobs (each a hand-off to a pool thread); the
    /// buffer keeps the size of the largest chunk moved so far.
    ///
    /// # Panics
    /// If `max_buf_size` is 0 (a read of 0 bytes would look like the end of the file), as
    /// tokio's does.
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.inner.set_max_chunk(max_buf_size);
    }

    /// The most bytes one read or write moves; see [`File::set_max_buf_size`].
    pub fn max_buf_size(&self) -> usize {
        self.inner.max_chunk()
    }

    /// Runs `op` on the open file as a job of its own, beside any job in flight (it does not
    /// wait for one: `&self` cannot), and waits for it.
    pub(super) async fn on_handle<T, F>(
        &self,
        what: &str,
        mandatory: Mandatory,
        op: F,
    ) -> io::Result<T>
    where
        F: FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let file = self.inner.handle().clone();
        on_pool(what, mandatory, move || op(&file)).await
    }
}

/// Moves the OS position back over `unread` bytes that a read fetched and nobody took, so
/// that the OS position is the one the `File`'s user sees again.
pub(super) fn step_back(file: &std::fs::File, unread: usize) -> io::Result<()> {
    if unread > 0 {
        // `unread` is the length of bytes held in memory, so below isize::MAX: it fits.
        let back = -i64::try_from(unread).expect("a chunk fits in i64");
        (&*file).seek(SeekFrom::Current(back))?;
    }
    Ok(())
}

// ANCHOR: fs_file_write_job
/// A file's write job: back over the bytes read ahead, then all the bytes.
fn write_at_user_position(file: &std::fs::File, bytes: &[u8], unread: usize) -> io::Result<()> {
    step_back(file, unread)?;
    offload::write_all_and_flush(file, bytes)
}
// ANCHOR_END: fs_file_write_job

/// Reading: hand out bytes left in the buffer, or start a job that reads up to
/// `buf.len()` bytes (at most 1 MiB) into it, or wait for that job.
///
/// # Cancel safety
/// `read` is cancel-safe: if its future is dropped while the job runs, the job still fills
/// the `File`'s buffer, and the next read (or `read_exact`, …) returns those bytes first.
/// A later write or seek takes them into account (it moves the OS position back over them),
/// so no byte is skipped or read twice.
impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read_into_unfilled(buf, |dst| self.get_mut().poll_read_slice(cx, dst))
    }
}

// ANCHOR: fs_file_read
impl File {
    /// The read behind `AsyncRead`, over a plain slice.
    fn poll_read_slice(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        let inner = &mut self.inner;
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            // Pending: see `Offloaded::poll_finish` (the pool thread wakes us).
            if let Some(Outcome::Read(result)) = ready!(inner.poll_finish(cx))? {
                // A read finished (ours, or one whose future was dropped: the bytes are the
                // next ones in the file either way). An empty buffer is the end of file.
                result?;
                return Poll::Ready(Ok(inner.idle_buffer().copy_to(dst)));
            }
            let buffer = inner.idle_buffer();
            if !buffer.is_empty() {
                return Poll::Ready(Ok(buffer.copy_to(dst)));
            }
            let runtime = context::current_or_error("asincrono::fs::File::poll_read")?;
            let want = dst.len();
            // Not mandatory: a read nobody can receive any more need not run at shutdown.
            inner.start(&runtime, Mandatory::No, move |file, buffer| {
                Outcome::Read(buffer.read_from(file, want))
            });
            // Go round: `poll_finish` polls the new job, which stores our waker.
        }
    }
}
// ANCHOR_END: fs_file_read

/// Writing: copy into the buffer, start the job, return at once; see [`File`].
///
/// # Cancel safety
/// `write` and `flush` are cancel-safe. `write` is `Ready` as soon as it has copied the
/// bytes, or `Pending` having accepted nothing (it waits for the previous job). `flush`
/// only waits; dropping it leaves the write running, and its error for the next operation.
impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().inner.poll_write(
            cx,
            src,
            || context::current_or_error("asincrono::fs::File::poll_write"),
            write_at_user_position,
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_flush(cx)
    }

    /// Gathers the slices (up to one job's 1 MiB) and writes them as one: the bytes are
    /// copied into the `File`'s buffer anyway, so one more copy is the whole cost.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut gathered = Vec::new();
        for buf in bufs {
            let room = offload::MAX_CHUNK - gathered.len();
            gathered.extend_from_slice(&buf[..buf.len().min(room)]);
        }
        self.poll_write(cx, &gathered)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

/// Seeking, in tokio's two steps: `start_seek` records where to go, `poll_complete` waits
/// for the job in flight, then seeks on the pool (a seek may wait for the disk or a network
/// file system, like any file operation).
///
/// Bytes read ahead and not handed out are dropped, and a `SeekFrom::Current` offset counts
/// from the position the reader has reached, not from where the OS is. With no seek
/// started, `poll_complete` answers the current position (which costs a seek on the pool).
///
/// # Cancel safety
/// Not safe, as [`AsyncSeekExt::seek`](crate::io::AsyncSeekExt::seek) says: once polled,
/// the seek happens even if its future is dropped; the next `poll_complete` (the start of
/// the next `seek`) waits for it.
impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        if this.seek != SeekState::Idle {
            return Err(io::Error::other(
                "a seek is already under way: call poll_complete before start_seek",
            ));
        }
        this.seek = SeekState::Requested(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            // Pending: see `Offloaded::poll_finish` (the pool thread wakes us).
            let finished = match ready!(this.inner.poll_finish(cx)) {
                Ok(finished) => finished,
                // Our seek's job failed to run, or a write before it failed: report it, and
                // forget the seek (a failed operation leaves nothing under way).
                Err(error) => {
                    this.seek = SeekState::Idle;
                    return Poll::Ready(Err(error));
                }
            };
            match (this.seek, finished) {
                (SeekState::Running(pos), Some(Outcome::Sought(to, result))) => {
                    debug_assert_eq!(to, pos, "the seek that finished is the one we started");
                    this.seek = SeekState::Idle;
                    return Poll::Ready(result);
                }
                (SeekState::Requested(pos), _) => {
                    // Idle until the job starts: an error below leaves no seek under way.
                    this.seek = SeekState::Idle;
                    let runtime = context::current_or_error("asincrono::fs::File::poll_complete")?;
                    let buffer = this.inner.idle_buffer();
                    let target = user_target(pos, buffer)?;
                    buffer.clear();
                    // Mandatory: the read-ahead bytes are already dropped, so skipping the
                    // seek would leave the OS position where the user's is not.
                    this.inner.start(&runtime, Mandatory::Yes, move |file, _| {
                        Outcome::Sought(pos, (&*file).seek(target))
                    });
                    this.seek = SeekState::Running(pos);
                }
                // Nothing asked (a seek future first drains what may be under way): where
                // are we? No job for that: with nothing in flight, `lseek(fd, 0, SEEK_CUR)`
                // only reads a number in the kernel and never waits for the disk, so it runs
                // here, as `into_std`'s step back does. The read-ahead is ours, not the user's.
                (SeekState::Idle | SeekState::Running(_), _) => {
                    this.seek = SeekState::Idle;
                    let os_position = (&**this.inner.handle()).stream_position()?;
                    let ahead = this.inner.idle_buffer().len() as u64;
                    return Poll::Ready(Ok(os_position.saturating_sub(ahead)));
                }
            }
        }
    }
}

/// Where a `File`'s seek stands between `start_seek` and `poll_complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SeekState {
    /// No seek asked for.
    Idle,
    /// `start_seek` was called; the job starts at the next `poll_complete`.
    Requested(SeekFrom),
    /// The seek job to this position is in flight.
    Running(SeekFrom),
}

/// The OS seek that takes the user to `pos`, given the bytes read ahead in `buffer` (the
/// OS is that many bytes further on than the user).
fn user_target(pos: SeekFrom, buffer: &Buffer) -> io::Result<SeekFrom> {
    match pos {
        SeekFrom::Current(offset) => {
            let ahead = i64::try_from(buffer.len()).expect("a chunk fits in i64");
            offset
                .checked_sub(ahead)
                .map(SeekFrom::Current)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek offset overflows"))
        }
        absolute => Ok(absolute),
    }
}

/// Like tokio's: the type's name and std's file (which shows the descriptor, the path and
/// the access mode), then whether a job is in flight.
impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("asincrono::fs::File")
            .field("std", &**self.inner.handle())
            .field("in_flight", &!self.inner.is_idle())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::OpenOptions;
    use crate::io::{AsyncReadExt, AsyncWriteExt};

    /// After the first write and the first read, the buffer is never allocated again:
    /// its address and capacity stay the same through many more.
    #[test]
    fn the_buffer_is_reused_by_every_read_and_write() {
        let runtime = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let path =
            std::env::temp_dir().join(format!("asincrono-fs-buffer-reuse-{}", std::process::id()));
        runtime.block_on(async {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            let chunk = [7u8; 4096];
            file.write_all(&chunk).await.unwrap();
            file.flush().await.unwrap();
            let first = file.inner.storage_identity();
            assert_eq!(first.1, chunk.len());
            for _ in 0..100 {
                file.write_all(&chunk[..1000]).await.unwrap();
                file.write_all(&chunk).await.unwrap();
            }
            file.flush().await.unwrap();
            assert_eq!(file.inner.storage_identity(), first);

            crate::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(0))
                .await
                .unwrap();
            let mut back = vec![0; 4096];
            for _ in 0..50 {
                file.read_exact(&mut back).await.unwrap();
                file.read_exact(&mut back[..10]).await.unwrap();
            }
            assert_eq!(file.inner.storage_identity(), first);
        });
        std::fs::remove_file(&path).unwrap();
    }
}
