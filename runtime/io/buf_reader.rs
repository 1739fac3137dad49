//! [`BufReader`]: adds a buffer, and so [`AsyncBufRead`], to any reader.
//!
//! Every `poll_read` on a socket is a system call. Reading a line one byte at
//! a time would make one call per byte. A `BufReader` instead asks the inner
//! reader for a whole buffer's worth (8 KiB by default) and serves small
//! reads from memory.
//!
//! The buffer is a fixed-size boxed slice plus two indices:
//!
//! ```text
//!  buf: [ consumed | unread bytes | stale or never used ]
//!                  ^ pos          ^ filled
//! ```
//!
//! `poll_fill_buf` returns `buf[pos..filled]`, `consume` moves `pos`, and only
//! when `pos` reaches `filled` is the inner reader asked for more, which
//! refills the buffer from the start.
//!
//! One shortcut: if the buffer is empty and the caller's own buffer is at
//! least as large as ours, copying through ours would only add work, so the
//! read goes straight to the inner reader.
//!
//! The inner reader must be `Unpin`: the `BufReader` pins itself, and handing
//! out a pinned reference to a field ("pin projection") needs `unsafe` code
//! or a helper crate, neither of which this module uses.

use std::fmt;
use std::io::{self, SeekFrom};
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// Buffer size used by [`BufReader::new`].
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Wraps a reader with a buffer, making it an [`AsyncBufRead`] and making
/// many small reads cheap.
///
/// If the inner type is also a writer, writes pass straight through to it.
pub struct BufReader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// Index of the next unread byte in `buf`.
    pos: usize,
    /// Index just past the last byte in `buf` that came from `inner`.
    filled: usize,
    /// Where a seek stands between `start_seek` and `poll_complete`.
    seek: ReaderSeek,
}

/// A `BufReader`'s seek, between `start_seek` and `poll_complete`.
#[derive(Debug, Clone, Copy)]
enum ReaderSeek {
    /// No seek asked for: `poll_complete` asks the inner reader.
    Idle,
    /// `start_seek` was called; nothing was done yet.
    Asked(SeekFrom),
    /// A `Current(n)` too far back to fold the buffered bytes into one offset: first
    /// stepping back over them, then `Current(n)` from there.
    SteppingBack(i64),
    /// The inner reader's seek is started; waiting for it.
    Started,
}

impl<R> BufReader<R> {
    /// Wraps `inner` with an 8 KiB buffer.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: a zero-sized buffer could never hold any data, and
    /// [`poll_fill_buf`](AsyncBufRead::poll_fill_buf) would report end of
    /// stream at once.
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        assert!(capacity > 0, "capacity must be greater than zero");
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            filled: 0,
            seek: ReaderSeek::Idle,
        }
    }

    /// Returns a shared reference to the inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Returns a mutable reference to the inner reader. Reading from it
    /// directly skips the bytes still waiting in this buffer.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives the inner reader back. Bytes still in the buffer are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes read from the inner reader but not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Marks `amt` buffered bytes as used, never moving past the data.
    fn consume_buffered(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

// ANCHOR: buf_reader_read
impl<R: AsyncRead + Unpin> BufReader<R> {
    /// Returns the unread bytes, first refilling the buffer from the inner
    /// reader if there are none.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        if self.pos == self.filled {
            let mut buf = ReadBuf::new(&mut self.buf);
            ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf))?;
            self.filled = buf.filled().len();
            self.pos = 0;
        }
        Poll::Ready(Ok(self.buffer()))
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.buffer().is_empty() && out.remaining() >= this.capacity() {
            return Pin::new(&mut this.inner).poll_read(cx, out);
        }
        let available = ready!(this.poll_fill(cx))?;
        let n = available.len().min(out.remaining());
        out.put_slice(&available[..n]);
        this.consume_buffered(n);
        Poll::Ready(Ok(()))
    }
}
// ANCHOR_END: buf_reader_read

impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_fill(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume_buffered(amt);
    }
}

/// Seeking drops the buffer. A `SeekFrom::Current` offset counts from the position the
/// caller has reached, which is behind the inner reader's by the unread buffered bytes;
/// the seek corrects for them, as tokio's does (in two steps if the offset would overflow).
impl<R: AsyncRead + AsyncSeek + Unpin> AsyncSeek for BufReader<R> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.get_mut().seek = ReaderSeek::Asked(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            let mut inner = Pin::new(&mut this.inner);
            // Taken out: an error on the way leaves no seek under way (the buffer stays).
            match mem::replace(&mut this.seek, ReaderSeek::Idle) {
                ReaderSeek::Idle => return inner.poll_complete(cx),
                ReaderSeek::Asked(SeekFrom::Current(n)) => {
                    let unread = (this.filled - this.pos) as i64;
                    match n.checked_sub(unread) {
                        Some(offset) => {
                            inner.start_seek(SeekFrom::Current(offset))?;
                            this.seek = ReaderSeek::Started;
                        }
                        None => {
                            inner.start_seek(SeekFrom::Current(-unread))?;
                            this.seek = ReaderSeek::SteppingBack(n);
                        }
                    }
                }
                ReaderSeek::Asked(position) => {
                    inner.start_seek(position)?;
                    this.seek = ReaderSeek::Started;
                }
                ReaderSeek::SteppingBack(n) => {
                    if inner.as_mut().poll_complete(cx)?.is_pending() {
                        this.seek = ReaderSeek::SteppingBack(n);
                        return Poll::Pending;
                    }
                    // The inner position is now the caller's: nothing buffered counts.
                    this.pos = 0;
                    this.filled = 0;
                    inner.start_seek(SeekFrom::Current(n))?;
                    this.seek = ReaderSeek::Started;
                }
                ReaderSeek::Started => {
                    let Poll::Ready(result) = inner.poll_complete(cx) else {
                        this.seek = ReaderSeek::Started;
                        return Poll::Pending;
                    };
                    let position = result?;
                    this.pos = 0;
                    this.filled = 0;
                    return Poll::Ready(Ok(position));
                }
            }
        }
    }
}

/// Writing is not buffered by a `BufReader`; it goes directly to the inner
/// value, so a buffered reader over a socket can still answer on it.
impl<R: AsyncWrite + Unpin> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Shows the inner reader and how full the buffer is, not the bytes in it.
impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("inner", &self.inner)
            .field("buffered", &self.buffer().len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedReader, ChunkedWriter, block_on_checked};
    use crate::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn small_reads_are_served_from_one_fill() {
        let mut reader = BufReader::with_capacity(16, ChunkedReader::new(*b"abcdefghij", 100));
        let mut byte = [0; 1];
        for expected in b"abcde" {
            assert_eq!(block_on_checked(reader.read(&mut byte)).unwrap(), 1);
            assert_eq!(byte[0], *expected);
        }
        assert_eq!(
            reader.get_ref().read_sizes,
            [16],
            "one read of a full buffer"
        );
        assert_eq!(reader.buffer(), b"fghij");
    }

    #[test]
    fn a_large_read_bypasses_an_empty_buffer() {
        let mut reader = BufReader::with_capacity(4, ChunkedReader::new(*b"abcdefghij", 100));
        let mut buf = [0; 10];
        assert_eq!(block_on_checked(reader.read(&mut buf)).unwrap(), 10);
        assert_eq!(
            reader.get_ref().read_sizes,
            [10],
            "read went to the caller's buffer"
        );
        assert!(reader.buffer().is_empty());
    }

    #[test]
    fn buffered_bytes_come_first_even_for_large_reads() {
        let mut reader = BufReader::with_capacity(4, ChunkedReader::new(*b"abcdefghij", 3));
        let mut buf = [0; 10];
        assert_eq!(block_on_checked(reader.read(&mut buf[..1])).unwrap(), 1);
        assert_eq!(reader.buffer(), b"bc");
        assert_eq!(block_on_checked(reader.read(&mut buf)).unwrap(), 2);
        assert_eq!(&buf[..2], b"bc");
        assert_eq!(block_on_checked(reader.read(&mut buf)).unwrap(), 3);
        assert_eq!(reader.get_ref().read_sizes, [4, 10]);
    }

    #[test]
    fn read_to_end_through_the_buffer_sees_every_byte() {
        let data: Vec<u8> = (0..5_000).map(|i| (i % 13) as u8).collect();
        let mut reader = BufReader::with_capacity(64, ChunkedReader::new(data.clone(), 50));
        let mut all = Vec::new();
        block_on_checked(reader.read_to_end(&mut all)).unwrap();
        assert_eq!(all, data);
    }

    #[test]
    fn writes_pass_straight_through() {
        let mut both = BufReader::new(ChunkedWriter::new(2));
        block_on_checked(both.write_all(b"reply")).unwrap();
        block_on_checked(both.flush()).unwrap();
        assert_eq!(both.into_inner().written(), b"reply");
    }

    #[test]
    #[should_panic(expected = "capacity must be greater than zero")]
    fn zero_capacity_is_refused() {
        let _ = BufReader::with_capacity(0, &b""[..]);
    }

    #[test]
    fn debug_shows_fill_level_not_contents() {
        let reader = BufReader::with_capacity(8, &b"xy"[..]);
        let shown = format!("{reader:?}");
        assert!(
            shown.contains("buffered: 0") && shown.contains("capacity: 8"),
            "{shown}"
        );
    }
}
