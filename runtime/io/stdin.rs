//! [`Stdin`]: the process's standard input, read by one thread that belongs to the process,
//! not to any runtime.
//!
//! # Why not the blocking pool, like files
//!
//! A `read(2)` on fd 0 returns when the user presses Enter or the program at the other end
//! of the pipe writes: maybe never. And a thread inside `read(2)` cannot be called back. If
//! a pool thread of a runtime were in that read when the runtime is dropped, the drop would
//! wait for it: tokio documents exactly this, a runtime that has read stdin may not shut
//! down until the user types a line (or until its shutdown timeout gives up on the thread).
//!
//! # One reader thread per process
//!
//! asincrono gives stdin a thread of its own instead, started by the first read and kept for
//! the life of the process. It reads only when a `Stdin` asks for bytes, stores them in a
//! buffer that belongs to the process, and wakes whoever asked:
//!
//! ```text
//!  Stdin::poll_read ── buffer has bytes? ──yes──▶ copy them out, Ready
//!        │ no: set `asked`, store the waker, Pending
//!        ▼
//!  reader thread (waits on a Condvar for `asked`) ── read(2) on fd 0, no lock held ──▶
//!  store the bytes (or end of input, or the error), clear `asked`, wake the wakers
//! ```
//!
//! So a runtime can be dropped at any moment: the reader thread may stay in its `read(2)`,
//! but no runtime waits for it. Bytes that arrive after the runtime is gone wait in the
//! buffer for the next `Stdin`, in this runtime or another: nothing is lost. (Waking a
//! task whose runtime is gone does nothing.)
//!
//! Limits, on purpose: the thread reads at most 8 KiB ahead of what was asked (only when
//! asked: a program that never reads stdin leaves it alone, to child processes for
//! instance); and reading `std::io::stdin()` directly in the same program competes with it
//! for the same bytes.

use crate::blocking::offload::Buffer;
use crate::io::{AsyncRead, ReadBuf, read_into_unfilled};
use crate::util::lock;
use std::fmt;
use std::io::{self, Read};
use std::mem;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;

/// How many bytes the reader thread asks the OS for at a time (std's stdin buffers as much).
const CHUNK: usize = 8 * 1024;

/// The process's reader of fd 0, made by the first [`stdin()`].
static STDIN: OnceLock<Arc<Reader>> = OnceLock::new();

/// A handle to the process's standard input. Every handle reads from the same process-wide
/// buffer, filled by one reader thread (see the module doc); the thread starts at the
/// first read.
///
/// ```no_run
/// use asincrono::io::{AsyncBufReadExt, BufReader};
///
/// asincrono::block_on(async {
///     let mut lines = BufReader::new(asincrono::io::stdin()).lines();
///     while let Some(line) = lines.next_line().await? {
///         println!("you typed {line:?}");
///     }
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn stdin() -> Stdin {
    let reader = STDIN.get_or_init(|| Reader::new(Box::new(io::stdin())));
    Stdin {
        reader: reader.clone(),
    }
}

/// The process's standard input, for async code; from [`stdin()`].
pub struct Stdin {
    /// The process-wide reader (a test's own reader in unit tests).
    reader: Arc<Reader>,
}

/// Reads hand out bytes the reader thread already has, or ask it for more and wait.
///
/// # Cancel safety
/// `read` is cancel-safe: dropping it while the thread reads loses nothing; the bytes land
/// in the process-wide buffer and the next read from any `Stdin` returns them. No runtime
/// is needed, and dropping one never waits for stdin.
impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read_into_unfilled(buf, |dst| self.reader.poll_read(cx, dst))
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").finish_non_exhaustive()
    }
}

/// A byte source read by a thread of its own on request: fd 0 in the program, a channel in
/// the tests.
struct Reader {
    /// What the readers and the thread share.
    shared: Mutex<Shared>,
    /// The thread waits here for `asked`.
    asked: Condvar,
}

/// The part of a [`Reader`] behind its lock.
struct Shared {
    /// Bytes read and not handed out yet. While the thread reads, it holds the buffer and
    /// an empty one stands in for it.
    buffer: Buffer,
    /// The last read found the end of input (`Ok`) or failed, and no reader has been told.
    /// Told once: a terminal can give more input after an end (Ctrl-D), so the next read
    /// asks again.
    end: Option<io::Result<()>>,
    /// A reader wants bytes and the thread has not answered yet.
    asked: bool,
    /// The tasks to wake when it answers (several `Stdin`s may wait at once).
    wakers: Vec<Waker>,
    /// The source, until the thread takes it.
    source: Option<Box<dyn Read + Send>>,
    /// Whether the thread was started.
    started: bool,
}

impl Reader {
    fn new(source: Box<dyn Read + Send>) -> Arc<Reader> {
        Arc::new(Reader {
            shared: Mutex::new(Shared {
                buffer: Buffer::default(),
                end: None,
                asked: false,
                wakers: Vec::new(),
                source: Some(source),
                started: false,
            }),
            asked: Condvar::new(),
        })
    }

    fn poll_read(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut shared = lock(&self.shared);
        if !shared.buffer.is_empty() {
            return Poll::Ready(Ok(shared.buffer.copy_to(dst)));
        }
        if let Some(end) = shared.end.take() {
            return Poll::Ready(end.map(|()| 0));
        }
        if !shared.started {
            let reader = self.clone();
            thread::Builder::new()
                .name("asincrono-stdin".into())
                .spawn(move || reader.serve())?;
            shared.started = true;
        }
        if !shared.asked {
            shared.asked = true;
            self.asked.notify_one();
        }
        if !shared.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            shared.wakers.push(cx.waker().clone());
        }
        // Pending: the reader thread wakes every waker in `wakers` once it has stored bytes,
        // the end of input or an error. We stored ours under the lock the thread takes to
        // store its result, so it cannot answer between our check and our waker (the lost
        // wake-up window).
        Poll::Pending
    }

    /// The reader thread: wait to be asked, read once without the lock, store, wake.
    fn serve(self: Arc<Self>) {
        let mut source = lock(&self.shared)
            .source
            .take()
            .expect("the reader thread is started once");
        let mut to_wake = Vec::new();
        let mut shared = lock(&self.shared);
        loop {
            while !shared.asked {
                shared = self
                    .asked
                    .wait(shared)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            // `asked` is only set with the buffer empty; take it, read without the lock so
            // readers can come and go (and runtimes drop) while we wait for input.
            let mut buffer = mem::take(&mut shared.buffer);
            drop(shared);
            let result = buffer.read_from(&mut source, CHUNK);
            shared = lock(&self.shared);
            match result {
                Ok(()) if buffer.is_empty() => shared.end = Some(Ok(())),
                Ok(()) => {}
                Err(err) => shared.end = Some(Err(err)),
            }
            shared.buffer = buffer;
            shared.asked = false;
            to_wake.append(&mut shared.wakers);
            drop(shared);
            // Outside the lock: a waker may poll a `Stdin` right away (an executor that
            // polls inline), which takes the lock.
            for waker in to_wake.drain(..) {
                waker.wake();
            }
            shared = lock(&self.shared);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::AsyncReadExt;
    use crate::io::test_support::{block_on, poll_once};
    use std::sync::mpsc;

    /// Stands in for fd 0: each read blocks until the test sends a chunk; end of input once
    /// the sender is dropped.
    struct Feed {
        chunks: mpsc::Receiver<Vec<u8>>,
    }

    impl Read for Feed {
        fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
            match self.chunks.recv() {
                Ok(chunk) => {
                    assert!(chunk.len() <= dst.len(), "the test sends small chunks");
                    dst[..chunk.len()].copy_from_slice(&chunk);
                    Ok(chunk.len())
                }
                Err(mpsc::RecvError) => Ok(0),
            }
        }
    }

    fn feed() -> (mpsc::Sender<Vec<u8>>, Arc<Reader>) {
        let (chunks_tx, chunks) = mpsc::channel();
        (chunks_tx, Reader::new(Box::new(Feed { chunks })))
    }

    #[test]
    fn bytes_read_after_the_reader_went_away_wait_for_the_next_one() {
        let (input, reader) = feed();
        let mut buf = [0; 16];
        {
            // A task starts a read, then its runtime drops it mid-way: the thread is in its
            // blocking read, and nobody waits for it.
            let mut first = Stdin {
                reader: reader.clone(),
            };
            let mut read = first.read(&mut buf);
            assert!(poll_once(&mut read).is_pending());
        }
        input.send(b"typed late".to_vec()).unwrap();
        // Another `Stdin` (another runtime, say) gets the bytes.
        let mut second = Stdin { reader };
        let n = block_on(second.read(&mut buf)).unwrap();
        assert_eq!(&buf[..n], b"typed late");
    }

    #[test]
    fn a_chunk_is_handed_out_in_pieces_then_the_end_once_per_read() {
        let (input, reader) = feed();
        let mut stdin = Stdin { reader };
        input.send(b"abcdef".to_vec()).unwrap();
        let mut two = [0; 2];
        block_on(stdin.read_exact(&mut two)).unwrap();
        assert_eq!(&two, b"ab");
        let mut rest = [0; 8];
        assert_eq!(block_on(stdin.read(&mut rest)).unwrap(), 4);
        assert_eq!(&rest[..4], b"cdef");
        drop(input);
        assert_eq!(block_on(stdin.read(&mut rest)).unwrap(), 0);
        assert_eq!(block_on(stdin.read(&mut rest)).unwrap(), 0);
    }

    #[test]
    fn a_read_error_reaches_the_reader() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
            }
        }
        let mut stdin = Stdin {
            reader: Reader::new(Box::new(Broken)),
        };
        let error = block_on(stdin.read(&mut [0; 4])).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }
}
