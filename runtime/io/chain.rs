//! [`Chain`]: one reader after another (`AsyncReadExt::chain`).
//!
//! Reads go to the first reader until it reports end of stream, then to the second. The
//! readers must be `Unpin` (tokio projects the pin instead).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{AsyncBufRead, AsyncRead, ReadBuf};

/// Two readers read one after the other. Made by
/// [`AsyncReadExt::chain`](super::AsyncReadExt::chain).
#[derive(Debug)]
#[must_use = "streams do nothing unless read"]
pub struct Chain<T, U> {
    first: T,
    second: U,
    /// The first reader reported end of stream: read only the second from now on.
    done_first: bool,
}

impl<T, U> Chain<T, U> {
    pub(super) fn new(first: T, second: U) -> Self {
        Chain {
            first,
            second,
            done_first: false,
        }
    }

    /// Both readers.
    pub fn get_ref(&self) -> (&T, &U) {
        (&self.first, &self.second)
    }

    /// Both readers, mutably.
    pub fn get_mut(&mut self) -> (&mut T, &mut U) {
        (&mut self.first, &mut self.second)
    }

    /// Gives both readers back.
    pub fn into_inner(self) -> (T, U) {
        (self.first, self.second)
    }
}

impl<T: AsyncRead + Unpin, U: AsyncRead + Unpin> AsyncRead for Chain<T, U> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.done_first {
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.first).poll_read(cx, buf))?;
            // Nothing read into a buffer with room: the first reader has ended.
            if buf.filled().len() > before || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            this.done_first = true;
        }
        Pin::new(&mut this.second).poll_read(cx, buf)
    }
}

impl<T: AsyncBufRead + Unpin, U: AsyncBufRead + Unpin> AsyncBufRead for Chain<T, U> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if !this.done_first {
            match ready!(Pin::new(&mut this.first).poll_fill_buf(cx))? {
                [] => this.done_first = true,
                // Borrow again: returning `available` itself would keep `first` borrowed
                // on the path that goes on to `second`.
                _ => return Pin::new(&mut this.first).poll_fill_buf(cx),
            }
        }
        Pin::new(&mut this.second).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        if this.done_first {
            Pin::new(&mut this.second).consume(amt);
        } else {
            Pin::new(&mut this.first).consume(amt);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::io::test_support::{ChunkedReader, block_on_checked};
    use crate::io::{AsyncBufReadExt, AsyncReadExt};

    #[test]
    fn the_second_reader_follows_the_first() {
        let mut chain = ChunkedReader::new(*b"abc", 2).chain(ChunkedReader::new(*b"def", 2));
        let mut out = String::new();
        block_on_checked(chain.read_to_string(&mut out)).unwrap();
        assert_eq!(out, "abcdef");
    }

    #[test]
    fn buffered_chains_cross_the_join() {
        let mut chain = (&b"one\ntw"[..]).chain(&b"o\n"[..]);
        let mut lines = Vec::new();
        let mut line = String::new();
        while block_on_checked(chain.read_line(&mut line)).unwrap() > 0 {
            lines.push(std::mem::take(&mut line));
        }
        assert_eq!(lines, ["one\n", "two\n"]);
    }
}
