//! [`split`]: one stream, two owners, one reading and one writing.
//!
//! A common shape for a network client is one task that reads from a
//! connection and another that writes to it. Both need the stream, but Rust
//! allows only one `&mut` at a time. `split` moves the stream into an
//! `Arc<Mutex<T>>` and returns two handles to it: a [`ReadHalf`] that can only
//! read and a [`WriteHalf`] that can only write. Each half can be moved into
//! its own task, even on another thread.
//!
//! # Why a plain `std::sync::Mutex` cannot deadlock here
//!
//! Holding a blocking lock across an `.await` is the classic async deadlock:
//! the task sleeps while holding it, and whoever could wake it may be stuck
//! waiting for the lock. The halves avoid that by construction:
//!
//! 1. The lock is taken at the start of a `poll_*` call and released before
//!    that call returns, whether it returns `Ready` or `Pending`. A waiting
//!    task holds no lock.
//! 2. While holding it, the half calls exactly one `poll_*` method of the
//!    stream, and such methods never block or wait; they return at once.
//! 3. There is only one lock, so no cycle of tasks waiting on each other's
//!    locks can form.
//!
//! The most one half can ever wait for is the other half's single poll call.
//!
//! # What the stream must do
//!
//! While one task waits to read and another waits to write, the stream holds
//! two wakers at once. It must keep them apart (one for "readable", one for
//! "writable"). A stream with a single waker slot would let the writer's
//! waker replace the reader's, and the reader would never be woken. Sockets
//! registered with a reactor keep both.
//!
//! # Any stream, `Unpin` or not
//!
//! The stream is kept as a `Pin<Box<T>>` inside the mutex: `Box::pin` pins
//! any value without `unsafe` code, so `split` takes streams that are not
//! `Unpin` too (tokio pins it in place inside its `Arc` instead, with
//! `unsafe`, and saves the box). Only [`ReadHalf::unsplit`], which moves the
//! stream back out of its box, asks for `T: Unpin`, as in tokio.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite, ReadBuf};

/// Splits `io` into a reading half and a writing half that can be used
/// independently, for example from two tasks.
///
/// Use [`ReadHalf::unsplit`] to get `io` back.
// ANCHOR: split_fn
pub fn split<T>(io: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite,
{
    let shared = Arc::new(Mutex::new(Box::pin(io)));
    let read_half = ReadHalf {
        shared: Arc::clone(&shared),
    };
    (read_half, WriteHalf { shared })
}
// ANCHOR_END: split_fn

/// The reading half of a stream, created by [`split`].
#[derive(Debug)]
pub struct ReadHalf<T> {
    shared: Arc<Mutex<Pin<Box<T>>>>,
}

/// The writing half of a stream, created by [`split`].
#[derive(Debug)]
pub struct WriteHalf<T> {
    shared: Arc<Mutex<Pin<Box<T>>>>,
}

impl<T> ReadHalf<T> {
    /// Returns `true` if `other` was created by the same call to [`split`].
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Puts the two halves back together and returns the original stream.
    ///
    /// # Panics
    ///
    /// If `write_half` was not created by the same call to [`split`] as
    /// `self` (check with [`is_pair_of`](ReadHalf::is_pair_of) first if that
    /// can happen). This mirrors tokio.
    pub fn unsplit(self, write_half: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&write_half),
            "unsplit: the halves come from different calls to split"
        );
        drop(write_half);
        let mutex = Arc::into_inner(self.shared)
            .expect("both halves were handed in, so no other reference to the stream exists");
        let pinned = mutex.into_inner().unwrap_or_else(PoisonError::into_inner);
        *Pin::into_inner(pinned)
    }
}

impl<T> WriteHalf<T> {
    /// Returns `true` if `other` was created by the same call to [`split`].
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        other.is_pair_of(self)
    }
}

/// Locks the shared stream for the length of one poll call.
///
/// A lock is "poisoned" if a poll through the other half panicked while
/// holding it. We carry on with the stream anyway, as tokio does: each poll
/// is a single call into the stream, so the lock protects no multi-step
/// invariant of ours, and turning one panic into a panic in every later poll
/// would help nobody.
fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

// In every method below, the guard is a temporary of the last expression, so
// it is dropped as the method returns: the lock never outlives the poll.

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        lock(&self.shared).as_mut().poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).as_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.shared).as_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.shared).as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        lock(&self.shared).is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{Loopback, block_on, block_on_checked};
    use crate::io::{AsyncReadExt, AsyncWriteExt};
    use std::thread;

    #[test]
    fn what_one_half_writes_the_other_half_reads() {
        let (mut reader, mut writer) = split(Loopback::new(64));
        block_on_checked(writer.write_all(b"ping")).unwrap();
        let mut buf = [0; 4];
        block_on_checked(reader.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"ping");
    }

    /// The loopback holds only 16 bytes, so the writer keeps waiting for the
    /// reader to make room and the reader keeps waiting for data: both halves
    /// are pending at the same time, on different threads, many times over.
    #[test]
    fn halves_work_concurrently_on_two_threads() {
        let data: Vec<u8> = (0..10_000).map(|i| (i % 199) as u8).collect();
        let (mut reader, mut writer) = split(Loopback::new(16));

        let to_send = data.clone();
        let writer_thread = thread::spawn(move || {
            block_on(async {
                for piece in to_send.chunks(100) {
                    writer.write_all(piece).await?;
                }
                writer.shutdown().await
            })
        });
        let mut received = Vec::new();
        block_on(reader.read_to_end(&mut received)).unwrap();
        writer_thread.join().unwrap().unwrap();
        assert_eq!(received, data);
    }

    #[test]
    fn unsplit_gives_back_the_stream_with_its_state() {
        let (reader, mut writer) = split(Loopback::new(64));
        block_on_checked(writer.write_all(b"left over")).unwrap();
        let mut stream = reader.unsplit(writer);
        let mut buf = [0; 9];
        block_on_checked(stream.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"left over");
    }

    #[test]
    fn is_pair_of_tells_halves_apart() {
        let (reader_a, writer_a) = split(Loopback::new(1));
        let (_reader_b, writer_b) = split(Loopback::new(1));
        assert!(reader_a.is_pair_of(&writer_a));
        assert!(!reader_a.is_pair_of(&writer_b));
    }

    #[test]
    #[should_panic(expected = "different calls to split")]
    fn unsplit_refuses_halves_of_different_streams() {
        let (reader_a, _writer_a) = split(Loopback::new(1));
        let (_reader_b, writer_b) = split(Loopback::new(1));
        reader_a.unsplit(writer_b);
    }
}
