//! [`Take`]: a reader cut off after a number of bytes (`AsyncReadExt::take`).
//!
//! Each read is offered a window of at most `limit` bytes of the caller's buffer
//! (`ReadBuf::take`), so the inner reader never reads past the limit and nothing is copied.
//! The inner reader must be `Unpin` (tokio projects the pin instead).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{AsyncBufRead, AsyncRead, ReadBuf};

/// A reader that gives at most `limit` bytes of its inner reader, then end of stream.
/// Made by [`AsyncReadExt::take`](super::AsyncReadExt::take).
#[derive(Debug)]
#[must_use = "streams do nothing unless read"]
pub struct Take<R> {
    inner: R,
    /// Bytes still allowed.
    limit: u64,
}

impl<R> Take<R> {
    pub(super) fn new(inner: R, limit: u64) -> Self {
        Take { inner, limit }
    }

    /// How many bytes may still be read before end of stream.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets how many bytes may still be read (counted from now).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably; reading from it directly does not count against the limit.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R>
    where
        R: Unpin,
    {
        Pin::new(&mut self.get_mut().inner)
    }

    /// Gives the inner reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The limit as a buffer size (a limit beyond `usize` is no limit for a buffer).
    fn window(&self) -> usize {
        usize::try_from(self.limit).unwrap_or(usize::MAX)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.limit == 0 {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let window = this.window();
        let inner = &mut this.inner;
        ready!(
            buf.fill_through_window(window, |window| { Pin::new(inner).poll_read(cx, window) })
        )?;
        this.limit -= (buf.filled().len() - before) as u64;
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncBufRead + Unpin> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let window = this.window();
        let available = ready!(Pin::new(&mut this.inner).poll_fill_buf(cx))?;
        Poll::Ready(Ok(&available[..available.len().min(window)]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        // Never more than the limit, whatever the caller says.
        let amt = amt.min(this.window());
        this.limit -= amt as u64;
        Pin::new(&mut this.inner).consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use crate::io::test_support::{ChunkedReader, block_on_checked};
    use crate::io::{AsyncBufReadExt, AsyncReadExt};

    #[test]
    fn reads_stop_at_the_limit_and_the_rest_stays_in_the_reader() {
        let mut take = ChunkedReader::new(*b"hello world", 4).take(7);
        let mut out = String::new();
        block_on_checked(take.read_to_string(&mut out)).unwrap();
        assert_eq!(out, "hello w");
        assert_eq!(take.limit(), 0);
        let mut rest = String::new();
        block_on_checked(take.into_inner().read_to_string(&mut rest)).unwrap();
        assert_eq!(rest, "orld");
    }

    #[test]
    fn a_buffered_take_shows_and_consumes_only_up_to_the_limit() {
        let mut take = (&b"line one\nline two\n"[..]).take(5);
        let mut line = String::new();
        block_on_checked(take.read_line(&mut line)).unwrap();
        assert_eq!(line, "line ");
        take.set_limit(100);
        line.clear();
        block_on_checked(take.read_line(&mut line)).unwrap();
        assert_eq!(line, "one\n");
    }
}
