//! [`FillBuf`]: the future of `AsyncBufReadExt::fill_buf`, which hands out the reader's
//! buffer for as long as the reader stays borrowed.
//!
//! The bytes must borrow the reader for the whole `'a` of `reader.fill_buf().await`,
//! longer than any one `poll` call. tokio gets there by extending a borrow with `unsafe`.
//! This future does it safely and asks twice: a first `poll_fill_buf` through a short
//! reborrow finds out whether the bytes are ready (and keeps the reader on `Pending`); once
//! they are, the future gives up its `&'a mut` for a second call, which any `AsyncBufRead`
//! answers at once with the same bytes (its buffer is full and nothing was consumed).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncBufRead;

/// Future returned by [`AsyncBufReadExt::fill_buf`](super::AsyncBufReadExt::fill_buf).
///
/// **Cancel safety:** safe: looking consumes nothing.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct FillBuf<'a, R: ?Sized> {
    /// Until the bytes are handed out.
    reader: Option<&'a mut R>,
}

impl<'a, R: ?Sized> FillBuf<'a, R> {
    pub(super) fn new(reader: &'a mut R) -> Self {
        FillBuf {
            reader: Some(reader),
        }
    }
}

impl<'a, R: AsyncBufRead + Unpin + ?Sized> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = this
            .reader
            .take()
            .expect("FillBuf polled after it finished");
        match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Pending => {
                this.reader = Some(reader);
                return Poll::Pending;
            }
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Ready(Ok(_)) => {}
        }
        // Ready: ask again with the whole borrow (see the module doc).
        Pin::new(reader).poll_fill_buf(cx)
    }
}

#[cfg(test)]
mod tests {
    use crate::io::test_support::{ChunkedReader, block_on_checked};
    use crate::io::{AsyncBufReadExt, BufReader};

    #[test]
    fn fill_buf_shows_bytes_until_they_are_consumed() {
        let mut reader = BufReader::new(ChunkedReader::new(*b"abcdef", 4));
        assert_eq!(block_on_checked(reader.fill_buf()).unwrap(), b"abcd");
        assert_eq!(block_on_checked(reader.fill_buf()).unwrap(), b"abcd");
        reader.consume(3);
        assert_eq!(block_on_checked(reader.fill_buf()).unwrap(), b"d");
        reader.consume(1);
        assert_eq!(block_on_checked(reader.fill_buf()).unwrap(), b"ef");
    }
}
