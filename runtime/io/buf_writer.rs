//! [`BufWriter`]: collects small writes into one big one.
//!
//! Writing a response piece by piece to a socket would cost one system call
//! per piece. A `BufWriter` accepts the pieces into memory and passes them on
//! only when it must:
//!
//! * when the next write would not fit in the buffer any more;
//! * when asked to flush or shut down.
//!
//! A write at least as large as the whole buffer gains nothing from copying,
//! so once the buffer is empty such a write goes straight to the inner writer.
//!
//! **Always flush (or shut down) before dropping a `BufWriter`.** std's
//! `BufWriter` flushes in its `Drop`, but `drop` cannot wait: there is no
//! `Context` to register a waker with and no way to return `Pending`. So
//! here, bytes still in the buffer when the `BufWriter` is dropped, or when
//! [`into_inner`](BufWriter::into_inner) is called, are lost.
//!
//! Like [`BufReader`](super::BufReader), it needs an `Unpin` inner writer so
//! that it can reach it through `Pin` without `unsafe`.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::retry::ready_or_retry;
use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// Buffer size used by [`BufWriter::new`].
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Wraps a writer with a buffer so that many small writes become few large
/// ones. Flush it before dropping it, or the buffered bytes are lost.
///
/// If the inner type is also a reader, reads pass straight through to it.
pub struct BufWriter<W> {
    inner: W,
    /// Bytes accepted from callers; `buf[written..]` still has to reach
    /// `inner`.
    buf: Vec<u8>,
    /// How many bytes at the front of `buf` `inner` has already taken. Kept
    /// between polls so an interrupted flush resumes instead of repeating.
    written: usize,
    capacity: usize,
    /// A seek asked for by `start_seek`, made once the buffer is written out.
    seek: BufferedSeek,
}

/// Where a buffered type's seek stands between `start_seek` and `poll_complete`.
#[derive(Debug, Clone, Copy)]
pub(super) enum BufferedSeek {
    /// No seek asked for: `poll_complete` asks the inner stream.
    Idle,
    /// `start_seek` was called; nothing was done yet.
    Asked(SeekFrom),
    /// The inner stream's seek is started; waiting for it.
    Started,
}

impl<W> BufWriter<W> {
    /// Wraps `inner` with an 8 KiB buffer.
    pub fn new(inner: W) -> Self {
        Self::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes. With a capacity of 0
    /// every write goes straight through.
    pub fn with_capacity(capacity: usize, inner: W) -> Self {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            written: 0,
            capacity,
            seek: BufferedSeek::Idle,
        }
    }

    /// Returns a shared reference to the inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Returns a mutable reference to the inner writer. Writing to it
    /// directly puts those bytes *before* whatever is still buffered here.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Gives the inner writer back. Bytes still in the buffer are lost:
    /// flush first.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes accepted but not yet passed to the inner writer.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The size of the buffer.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// Passes every buffered byte to the inner writer (without flushing the
    /// inner writer itself).
    fn poll_write_out_buffer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let pending = &self.buf[self.written..];
            let n = ready_or_retry!(Pin::new(&mut self.inner).poll_write(cx, pending));
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "inner writer accepted none of the buffered bytes",
                )));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Room left in the buffer.
    fn room(&self) -> usize {
        self.capacity.saturating_sub(self.buf.len())
    }
}

// ANCHOR: buf_writer_write
impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + data.len() > this.capacity {
            // Make room. If this returns early, none of `data` was taken,
            // as the `Pending` contract requires.
            ready!(this.poll_write_out_buffer(cx))?;
        }
        // From here on, either `data` fits or the buffer is empty.
        if data.len() >= this.capacity {
            Pin::new(&mut this.inner).poll_write(cx, data)
        } else {
            this.buf.extend_from_slice(data);
            Poll::Ready(Ok(data.len()))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_out_buffer(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_out_buffer(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    /// Gathers the buffers into ours (the point of a `BufWriter`), as tokio: with a
    /// vectored inner writer, all of them or none; with a plain one, the first (written
    /// straight through if it is as large as the buffer) and then as many more as fit whole.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.inner.is_write_vectored() {
            let total = bufs
                .iter()
                .fold(0usize, |sum, b| sum.saturating_add(b.len()));
            if total > this.room() {
                ready!(this.poll_write_out_buffer(cx))?;
            }
            if total >= this.capacity {
                return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
            }
            bufs.iter().for_each(|b| this.buf.extend_from_slice(b));
            return Poll::Ready(Ok(total));
        }
        let mut rest = bufs.iter().skip_while(|b| b.is_empty());
        let Some(first) = rest.next() else {
            return Poll::Ready(Ok(0));
        };
        if first.len() > this.room() {
            ready!(this.poll_write_out_buffer(cx))?;
        }
        if first.len() >= this.capacity {
            return Pin::new(&mut this.inner).poll_write(cx, first);
        }
        this.buf.extend_from_slice(first);
        let mut taken = first.len();
        for buf in rest {
            if buf.len() > this.room() {
                break;
            }
            this.buf.extend_from_slice(buf);
            taken += buf.len();
        }
        Poll::Ready(Ok(taken))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}
// ANCHOR_END: buf_writer_write

/// Seeking writes out the buffer first, so the bytes land where they were meant to.
impl<W: AsyncWrite + AsyncSeek + Unpin> AsyncSeek for BufWriter<W> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.get_mut().seek = BufferedSeek::Asked(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        if let BufferedSeek::Asked(position) = this.seek {
            ready!(this.poll_write_out_buffer(cx))?;
            this.seek = BufferedSeek::Started;
            Pin::new(&mut this.inner).start_seek(position)?;
        }
        let result = ready!(Pin::new(&mut this.inner).poll_complete(cx));
        this.seek = BufferedSeek::Idle;
        Poll::Ready(result)
    }
}

/// Buffered reading passes straight through too.
impl<W: AsyncWrite + AsyncBufRead + Unpin> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}

/// Reading is not buffered by a `BufWriter`; it goes directly to the inner
/// value.
impl<W: AsyncRead + Unpin> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

/// Shows the inner writer and how full the buffer is, not the bytes in it.
impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("inner", &self.inner)
            .field("buffered", &self.buffer().len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedWriter, Event, block_on_checked};
    use crate::io::{AsyncReadExt, AsyncWriteExt};

    fn write(bytes: &[u8]) -> Event {
        Event::Write(bytes.to_vec())
    }

    #[test]
    fn small_writes_wait_in_the_buffer_until_they_must_go() {
        let mut writer = BufWriter::with_capacity(8, ChunkedWriter::new(3));
        assert_eq!(block_on_checked(writer.write(b"hello")).unwrap(), 5);
        assert!(writer.get_ref().events.is_empty(), "nothing sent yet");

        // 5 + 6 bytes do not fit in 8: the old bytes go out first.
        block_on_checked(writer.write_all(b" world")).unwrap();
        assert_eq!(writer.get_ref().events, [write(b"hel"), write(b"lo")]);
        assert_eq!(writer.buffer(), b" world");

        block_on_checked(writer.flush()).unwrap();
        let expected = [
            write(b"hel"),
            write(b"lo"),
            write(b" wo"),
            write(b"rld"),
            Event::Flush,
        ];
        assert_eq!(writer.get_ref().events, expected);
    }

    #[test]
    fn shutdown_writes_out_the_buffer_before_shutting_down() {
        let mut writer = BufWriter::with_capacity(8, ChunkedWriter::new(3));
        block_on_checked(writer.write_all(b"bye!")).unwrap();
        block_on_checked(writer.shutdown()).unwrap();
        let expected = [write(b"bye"), write(b"!"), Event::Shutdown];
        assert_eq!(writer.get_ref().events, expected);
    }

    #[test]
    fn a_large_write_skips_an_empty_buffer() {
        let mut writer = BufWriter::with_capacity(4, ChunkedWriter::new(100));
        assert_eq!(block_on_checked(writer.write(b"0123456789")).unwrap(), 10);
        assert_eq!(writer.get_ref().events, [write(b"0123456789")]);
        assert!(writer.buffer().is_empty());
    }

    #[test]
    fn a_large_write_after_small_ones_keeps_the_order() {
        let mut writer = BufWriter::with_capacity(4, ChunkedWriter::new(100));
        block_on_checked(writer.write_all(b"ab")).unwrap();
        block_on_checked(writer.write_all(b"0123456789")).unwrap();
        assert_eq!(
            writer.get_ref().events,
            [write(b"ab"), write(b"0123456789")]
        );
    }

    #[test]
    fn an_interrupted_flush_resumes_where_it_stopped() {
        let mut writer = BufWriter::with_capacity(8, ChunkedWriter::new(3).accepting_at_most(2));
        block_on_checked(writer.write_all(b"hello")).unwrap();
        let error = block_on_checked(writer.flush()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WriteZero);
        assert_eq!(writer.buffer(), b"llo", "only the unsent part is left");
    }

    #[test]
    fn bytes_never_flushed_are_lost() {
        let mut writer = BufWriter::new(Vec::new());
        block_on_checked(writer.write_all(b"forgotten")).unwrap();
        assert!(writer.into_inner().is_empty());
    }

    #[test]
    fn reads_pass_straight_through() {
        let mut both = BufWriter::new(&b"request"[..]);
        let mut text = String::new();
        block_on_checked(both.read_to_string(&mut text)).unwrap();
        assert_eq!(text, "request");
    }
}
