//! [`SimplexStream`]: an in-memory pipe, bytes written at one end read at the other, with a
//! bound on how many wait in between. [`simplex`] splits one into its two ends;
//! [`duplex`](super::duplex) puts two of them back to back.
//!
//! A writer that finds the pipe full and a reader that finds it empty each leave their own
//! waker (never one slot for both: the other side's waker would replace it), and each
//! successful operation wakes the other side. Operations that succeed spend one unit of
//! the cooperative budget, so two tasks that keep a pipe busy still let the rest run.
//! tokio's pipe keeps its bytes in a `BytesMut`; this one in a `VecDeque`.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use super::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf, split};

/// A one-way in-memory pipe: what is written to it is read from it, in order.
#[derive(Debug)]
pub struct SimplexStream {
    /// Written and not yet read.
    buffer: VecDeque<u8>,
    /// The most bytes `buffer` may hold; a writer waits when it is full.
    max_buf_size: usize,
    /// No more writes (shutdown, or a duplex end dropped): readers get end of stream once
    /// the buffer is empty, writers get `BrokenPipe`.
    closed: bool,
    /// The reader waiting for bytes.
    read_waker: Option<Waker>,
    /// The writer waiting for room.
    write_waker: Option<Waker>,
}

/// A pipe that holds at most `max_buf_size` bytes, split into its reading and writing ends.
///
/// ```
/// use asincrono::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// asincrono::block_on(async {
///     let (mut rx, mut tx) = io::simplex(64);
///     tx.write_all(b"one way").await.unwrap();
///     tx.shutdown().await.unwrap();
///     let mut got = String::new();
///     rx.read_to_string(&mut got).await.unwrap();
///     assert_eq!(got, "one way");
/// });
/// ```
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    split(SimplexStream::new_unsplit(max_buf_size))
}

impl SimplexStream {
    /// A pipe that holds at most `max_buf_size` bytes, as one value that reads and writes.
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        SimplexStream {
            buffer: VecDeque::new(),
            max_buf_size,
            closed: false,
            read_waker: None,
            write_waker: None,
        }
    }

    /// No more bytes will be written: wake the reader, who will see the end of stream.
    pub(super) fn close_write(&mut self) {
        self.closed = true;
        wake(&mut self.read_waker);
    }

    /// No more bytes will be read: wake the writer, who will see `BrokenPipe`.
    pub(super) fn close_read(&mut self) {
        self.closed = true;
        wake(&mut self.write_waker);
    }

    fn poll_read_bytes(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.buffer.is_empty() && !self.closed && buf.remaining() > 0 {
            // Waker contract: the next write (or close) wakes this waker.
            self.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        ready!(crate::task::poll_proceed(cx));
        let n = buf.remaining().min(self.buffer.len());
        let (front, back) = self.buffer.as_slices();
        let from_front = n.min(front.len());
        buf.put_slice(&front[..from_front]);
        buf.put_slice(&back[..n - from_front]);
        self.buffer.drain(..n);
        if n > 0 {
            wake(&mut self.write_waker);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_write_bytes(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = self.max_buf_size - self.buffer.len();
        let wanted: usize = bufs.iter().map(|b| b.len()).sum();
        if room == 0 && wanted > 0 {
            // Waker contract: the next read that takes bytes (or close) wakes this waker.
            self.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        ready!(crate::task::poll_proceed(cx));
        let mut written = 0;
        for buf in bufs {
            let n = buf.len().min(room - written);
            self.buffer.extend(&buf[..n]);
            written += n;
        }
        if written > 0 {
            wake(&mut self.read_waker);
        }
        Poll::Ready(Ok(written))
    }
}

fn wake(waiting: &mut Option<Waker>) {
    if let Some(waker) = waiting.take() {
        waker.wake();
    }
}

impl AsyncRead for SimplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().poll_read_bytes(cx, buf)
    }
}

impl AsyncWrite for SimplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close_write();
        Poll::Ready(Ok(()))
    }
}
