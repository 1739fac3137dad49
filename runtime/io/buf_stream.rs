//! [`BufStream`]: a stream buffered both ways, a [`BufReader`] over a [`BufWriter`].
//!
//! Reads come out of the reader's buffer, writes collect in the writer's, and each side
//! passes through the other: that is all it takes, so the type is the two wrappers
//! nested, exactly as tokio builds it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite, BufReader, BufWriter, ReadBuf};

/// A stream with a read buffer and a write buffer. Flush it to send what was written.
#[derive(Debug)]
pub struct BufStream<RW> {
    inner: BufReader<BufWriter<RW>>,
}

// Bounded as tokio's, which also lets `BufStream::new(Cursor::new(Vec::new()))` infer `u8`.
impl<RW: AsyncRead + AsyncWrite> BufStream<RW> {
    /// Wraps `stream` with two 8 KiB buffers.
    pub fn new(stream: RW) -> Self {
        BufStream {
            inner: BufReader::new(BufWriter::new(stream)),
        }
    }

    /// Wraps `stream` with a read buffer of `reader_capacity` bytes and a write buffer of
    /// `writer_capacity` bytes.
    ///
    /// # Panics
    ///
    /// If `reader_capacity` is 0, as [`BufReader::with_capacity`].
    pub fn with_capacity(reader_capacity: usize, writer_capacity: usize, stream: RW) -> Self {
        BufStream {
            inner: BufReader::with_capacity(
                reader_capacity,
                BufWriter::with_capacity(writer_capacity, stream),
            ),
        }
    }
}

impl<RW> BufStream<RW> {
    /// The stream inside.
    pub fn get_ref(&self) -> &RW {
        self.inner.get_ref().get_ref()
    }

    /// The stream inside, mutably; using it directly skips both buffers.
    pub fn get_mut(&mut self) -> &mut RW {
        self.inner.get_mut().get_mut()
    }

    /// Gives the stream back; bytes still in either buffer are lost.
    pub fn into_inner(self) -> RW {
        self.inner.into_inner().into_inner()
    }
}

impl<RW: AsyncRead + AsyncWrite + Unpin> AsyncRead for BufStream<RW> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<RW: AsyncRead + AsyncWrite + Unpin> AsyncBufRead for BufStream<RW> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}

impl<RW: AsyncRead + AsyncWrite + Unpin> AsyncWrite for BufStream<RW> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{Loopback, block_on_checked};
    use crate::io::{AsyncBufReadExt, AsyncWriteExt};

    #[test]
    fn writes_wait_for_flush_and_reads_come_back_buffered() {
        let mut stream = BufStream::new(Loopback::new(64));
        block_on_checked(stream.write_all(b"line\n")).unwrap();
        assert!(stream.get_ref().is_empty(), "still in the write buffer");
        block_on_checked(stream.flush()).unwrap();
        let mut line = String::new();
        block_on_checked(stream.read_line(&mut line)).unwrap();
        assert_eq!(line, "line\n");
    }
}
