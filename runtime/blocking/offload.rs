//! `Offloaded<H>`: a blocking handle (an open file, the process's stdout) whose I/O runs on
//! the blocking pool, one job at a time, through one buffer that goes to the job and comes
//! back with it.
//!
//! ```text
//!                 start(job): the buffer moves into the job
//!   Idle(buffer) ───────────────────────────────────────────▶ Busy(JoinHandle)
//!        ▲                                                         │ the pool thread runs
//!        │  poll_finish: the buffer comes back,                    │ job(&handle, &mut buffer)
//!        └──────────── the outcome goes to the caller ◀────────────┘ and returns the outcome
//! ```
//!
//! - **At most one job in flight.** Every operation first waits for the previous job
//!   ([`Offloaded::poll_finish`]); that is what keeps the operations on one handle in order.
//! - **One buffer, reused.** Only one job runs at a time, so one buffer suffices. Its storage
//!   grows to the largest chunk used (at most the handle's chunk limit, [`MAX_CHUNK`] unless
//!   changed with [`Offloaded::set_max_chunk`]) and then stays: no allocation per read or
//!   write after that.
//! - **Writes return at once.** `poll_write` copies the caller's bytes into the buffer,
//!   starts the job that writes them and returns `Ready(n)` before they reach the OS. The
//!   job's result is an [`Outcome::Changed`]; an error in it is never dropped: whichever
//!   operation waits for the job next (a read, a seek, `flush`, `sync_all`) returns it.
//! - **Reads and seeks** return [`Outcome::Read`] and [`Outcome::Sought`], which only the
//!   operation that started them wants; any other operation that meets them ignores them
//!   (the bytes of a read stay in the buffer for the next read).
//!
//! `fs::File` and `io::Stdout`/`io::Stderr` are thin layers over this type. They tell it how
//! to find the current runtime (a closure over the executor's context, which sits above
//! this layer), and it calls that only when it starts a job.

use super::{Mandatory, RuntimeContext};
use crate::task::JoinHandle;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io::{self, Read, SeekFrom, Write};
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// The most bytes one job reads or writes: 1 MiB.
///
/// Each job costs a hand-off to a pool thread and a wake-up back (a few microseconds), so
/// chunks should be large: at 1 MiB that cost is small next to copying the megabyte twice
/// (into the buffer, then into the kernel). But the buffer keeps the size of the largest
/// chunk for the life of the handle, so chunks should not be huge either: an idle `File`
/// holds at most 1 MiB. tokio makes the other trade-off at 2 MiB.
pub(crate) const MAX_CHUNK: usize = 1 << 20;

/// A blocking handle whose operations run on the blocking pool; see the module doc.
pub(crate) struct Offloaded<H> {
    /// The handle itself; the job in flight holds a second reference (it does the I/O
    /// through `&H`), so that the handle lives as long as either needs it.
    handle: Arc<H>,
    /// Whether a job is in flight; who holds the buffer.
    state: State,
    /// The most bytes one job may read or write. The buffer carries a copy (the job uses it
    /// on the pool thread); this one outlives a buffer lost with a cancelled job.
    max_chunk: usize,
}

/// Who holds the buffer.
enum State {
    /// No job in flight: the buffer is here (maybe holding bytes read and not handed out).
    Idle(Buffer),
    /// A job has the buffer and will hand it back with its outcome.
    Busy(JoinHandle<(Buffer, Outcome)>),
}

/// What a job did.
pub(crate) enum Outcome {
    /// A read filled the buffer (empty: end of file). For the read that started it.
    Read(io::Result<()>),
    /// A seek to the given position (as asked, before any adjustment) ended here. For the
    /// seek that started it: the position tells it apart from a seek that someone dropped.
    Sought(SeekFrom, io::Result<u64>),
    /// A write, sync or resize. Nobody may be waiting for it, so an error is kept for
    /// whichever operation waits for the job next.
    Changed(io::Result<()>),
}

impl<H: Send + Sync + 'static> Offloaded<H> {
    /// Wraps `handle`, idle, with an empty buffer (nothing is allocated until the first job).
    pub(crate) fn new(handle: H) -> Offloaded<H> {
        Offloaded {
            handle: Arc::new(handle),
            state: State::Idle(Buffer::default()),
            max_chunk: MAX_CHUNK,
        }
    }

    /// The handle, for work that does not go through the buffer (`File::metadata`).
    pub(crate) fn handle(&self) -> &Arc<H> {
        &self.handle
    }

    /// The most bytes one job reads or writes.
    pub(crate) fn max_chunk(&self) -> usize {
        self.max_chunk
    }

    /// Changes the most bytes one job reads or writes, from the next job on (a job in
    /// flight keeps the limit it started with). `max_chunk` must not be zero: a job of
    /// zero bytes would look like the end of the file.
    pub(crate) fn set_max_chunk(&mut self, max_chunk: usize) {
        debug_assert!(max_chunk > 0, "a chunk limit of 0 would read nothing");
        self.max_chunk = max_chunk;
        if let State::Idle(buffer) = &mut self.state {
            buffer.limit = max_chunk;
        }
    }

    /// Whether no job is in flight.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle(_))
    }

    /// The handle and the buffer, if no job is in flight and nothing else shares the handle
    /// (a job started by `File::metadata` whose future was dropped may still hold it);
    /// otherwise `self` back, unchanged.
    pub(crate) fn try_into_parts(self) -> Result<(H, Buffer), Offloaded<H>> {
        let Offloaded {
            handle,
            state,
            max_chunk,
        } = self;
        let buffer = match state {
            State::Idle(buffer) => buffer,
            busy => {
                return Err(Offloaded {
                    handle,
                    state: busy,
                    max_chunk,
                });
            }
        };
        match Arc::try_unwrap(handle) {
            Ok(handle) => Ok((handle, buffer)),
            Err(handle) => Err(Offloaded {
                handle,
                state: State::Idle(buffer),
                max_chunk,
            }),
        }
    }

    /// Waits for the job in flight, if any, and takes the buffer back.
    ///
    /// `Ready(Ok(None))`: nothing was in flight. `Ready(Ok(Some(outcome)))`: a job just
    /// finished; `Changed` errors come out as `Ready(Err(..))` instead, so that no caller
    /// can forget to report them. A job that panicked or was cancelled (its runtime shut
    /// down before a non-mandatory job started) took the buffer with it: an empty one
    /// replaces it, and the `JoinError` becomes the error.
    pub(crate) fn poll_finish(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Outcome>>> {
        let State::Busy(job) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        // Pending: the JoinHandle keeps our waker; the pool thread wakes it when the job
        // returns (or the pool, when it cancels the job at shutdown).
        let finished = ready!(Pin::new(job).poll(cx));
        let (mut buffer, outcome) = match finished {
            Ok(finished) => finished,
            Err(join_error) => {
                self.state = State::Idle(Buffer::with_limit(self.max_chunk));
                return Poll::Ready(Err(io::Error::other(join_error)));
            }
        };
        // The limit may have changed while the job had the buffer.
        buffer.limit = self.max_chunk;
        self.state = State::Idle(buffer);
        match outcome {
            Outcome::Changed(Err(err)) => Poll::Ready(Err(err)),
            outcome => Poll::Ready(Ok(Some(outcome))),
        }
    }

    /// The buffer, when no job is in flight.
    ///
    /// # Panics
    /// If a job is in flight: callers first wait with [`Offloaded::poll_finish`].
    pub(crate) fn idle_buffer(&mut self) -> &mut Buffer {
        match &mut self.state {
            State::Idle(buffer) => buffer,
            State::Busy(_) => panic!("Offloaded: the buffer was asked for while a job has it"),
        }
    }

    /// Starts `job` on `runtime`'s blocking pool with the buffer; the handle becomes busy.
    ///
    /// # Panics
    /// If a job is already in flight (callers first wait with [`Offloaded::poll_finish`]).
    pub(crate) fn start<J>(&mut self, runtime: &impl RuntimeContext, mandatory: Mandatory, job: J)
    where
        J: FnOnce(&H, &mut Buffer) -> Outcome + Send + 'static,
    {
        let mut buffer = mem::take(self.idle_buffer());
        let handle = self.handle.clone();
        let job = runtime.blocking_pool().spawn(runtime, mandatory, move || {
            let outcome = job(&handle, &mut buffer);
            (buffer, outcome)
        });
        self.state = State::Busy(job);
    }

    /// Accepts up to [`Offloaded::max_chunk`] bytes of `src` and starts a job that writes them:
    /// `write(&handle, bytes, unread)`, where `unread` counts the bytes read ahead and
    /// dropped from the buffer (a file steps back over them first, so that the write lands
    /// where the reader stopped). The job is mandatory: once accepted, the bytes are written
    /// even if the runtime shuts down before the job starts.
    ///
    /// Waits first for the job in flight; if that was a write that failed, returns its
    /// error and accepts nothing.
    pub(crate) fn poll_write<C: RuntimeContext>(
        &mut self,
        cx: &mut Context<'_>,
        src: &[u8],
        current_runtime: impl FnOnce() -> io::Result<C>,
        write: fn(&H, &[u8], usize) -> io::Result<()>,
    ) -> Poll<io::Result<usize>> {
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(self.poll_finish(cx))?; // Pending: see `poll_finish`
        // Look the runtime up before touching the buffer, so that failing here loses nothing.
        let runtime = current_runtime()?;
        let buffer = self.idle_buffer();
        let unread = buffer.len();
        buffer.clear();
        let accepted = buffer.copy_from(src);
        self.start(&runtime, Mandatory::Yes, move |handle, buffer| {
            let result = write(handle, buffer.bytes(), unread);
            buffer.clear();
            Outcome::Changed(result)
        });
        Poll::Ready(Ok(accepted))
    }

    /// Waits for the job in flight; reports the error of a write that failed. When this
    /// returns `Ok`, every byte accepted so far has been handed to the OS.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_finish(cx))?; // Pending: see `poll_finish`
        Poll::Ready(Ok(()))
    }

    /// Waits for the job in flight, then runs `op` as a job of its own (a mandatory one: it
    /// changes the file) and waits for it: `sync_all`, `set_len`.
    ///
    /// Cancel safety: if dropped while `op` runs, `op` still finishes, and its error, if any,
    /// goes to the next operation on the handle.
    pub(crate) async fn change<C, F>(
        &mut self,
        current_runtime: impl FnOnce() -> io::Result<C>,
        op: F,
    ) -> io::Result<()>
    where
        C: RuntimeContext,
        F: FnOnce(&H, &mut Buffer) -> io::Result<()> + Send + 'static,
    {
        poll_fn(|cx| self.poll_finish(cx)).await?;
        let runtime = current_runtime()?;
        self.start(&runtime, Mandatory::Yes, move |handle, buffer| {
            Outcome::Changed(op(handle, buffer))
        });
        // Our own job's outcome: `Changed(Err)` comes out as the error, `Changed(Ok)` as
        // `Some`; nothing else can be in flight.
        poll_fn(|cx| self.poll_finish(cx)).await.map(drop)
    }

    /// The buffer's storage (address, capacity), to check that it is reused.
    #[cfg(test)]
    pub(crate) fn storage_identity(&mut self) -> (usize, usize) {
        let storage = &self.idle_buffer().storage;
        (storage.as_ptr() as usize, storage.capacity())
    }
}

impl<H: fmt::Debug> fmt::Debug for Offloaded<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(buffer) if buffer.is_empty() => "idle",
            State::Idle(_) => "idle, bytes buffered",
            State::Busy(_) => "job in flight",
        };
        f.debug_struct("Offloaded")
            .field("handle", &self.handle)
            .field("state", &state)
            .finish()
    }
}

/// The reusable buffer: storage that only grows, and the window of bytes in it that count
/// (read and not yet handed out, or waiting to be written).
pub(crate) struct Buffer {
    /// The bytes. Its length is only ever raised (up to `limit`), never lowered, so the
    /// storage is allocated and zeroed once, then reused by every job.
    storage: Vec<u8>,
    /// Where the bytes that count start.
    start: usize,
    /// Where they end.
    end: usize,
    /// The most bytes one read or write takes ([`MAX_CHUNK`] unless the handle changed it).
    limit: usize,
}

impl Default for Buffer {
    fn default() -> Buffer {
        Buffer::with_limit(MAX_CHUNK)
    }
}

impl Buffer {
    /// An empty buffer whose reads and writes take at most `limit` bytes (nothing is
    /// allocated yet).
    fn with_limit(limit: usize) -> Buffer {
        Buffer {
            storage: Vec::new(),
            start: 0,
            end: 0,
            limit,
        }
    }

    /// How many bytes count.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no byte counts.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The bytes that count.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.end]
    }

    /// Forgets the bytes (keeps the storage).
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Moves as many bytes as fit from the front of the buffer into `dst`; returns how many.
    pub(crate) fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.len().min(dst.len());
        dst[..n].copy_from_slice(&self.storage[self.start..self.start + n]);
        self.start += n;
        n
    }

    /// Replaces the buffer's bytes with the front of `src`, at most the limit of them;
    /// returns how many.
    pub(crate) fn copy_from(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.limit);
        self.room(n).copy_from_slice(&src[..n]);
        self.start = 0;
        self.end = n;
        n
    }

    /// Replaces the buffer's bytes with one read of up to `len` bytes (at most the limit)
    /// from `source`, retrying if a signal interrupts it. Empty afterwards
    /// means end of file.
    pub(crate) fn read_from(&mut self, mut source: impl Read, len: usize) -> io::Result<()> {
        self.clear();
        let room = self.room(len.min(self.limit));
        let n = loop {
            match source.read(room) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        self.end = n;
        Ok(())
    }

    /// The first `len` bytes of the storage, grown (zero-filled) to hold them if needed.
    fn room(&mut self, len: usize) -> &mut [u8] {
        if self.storage.len() < len {
            self.storage.resize(len, 0);
        }
        &mut self.storage[..len]
    }
}

/// The write every `Offloaded` writer ends with: all the bytes, then the handle's own
/// buffer flushed (a no-op for a file; stdout's `LineWriter` needs it).
pub(crate) fn write_all_and_flush(mut writer: impl Write, bytes: &[u8]) -> io::Result<()> {
    writer.write_all(bytes)?;
    writer.flush()
}
