//! [`empty`]: a reader at end of stream from the start, like `std::io::empty`; writes to it
//! are accepted and dropped, and seeking it always lands at 0.
//!
//! Always ready, so each operation spends one unit of the cooperative budget (as tokio).

use std::fmt;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// A reader with nothing in it. Made by [`empty`].
#[derive(Default)]
pub struct Empty {
    _private: (),
}

/// A reader that is always at end of stream.
///
/// ```
/// use asincrono::io::{self, AsyncReadExt};
///
/// asincrono::block_on(async {
///     let mut all = Vec::new();
///     assert_eq!(io::empty().read_to_end(&mut all).await.unwrap(), 0);
/// });
/// ```
pub fn empty() -> Empty {
    Empty::default()
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(buf.len()))
    }
}

impl AsyncSeek for Empty {
    fn start_seek(self: Pin<&mut Self>, _position: SeekFrom) -> io::Result<()> {
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(0))
    }
}

impl fmt::Debug for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Empty { .. }")
    }
}
