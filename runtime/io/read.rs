//! [`AsyncRead`]: a source of bytes that may have to wait for them.
//!
//! The trait is the async twin of `std::io::Read`, reduced to one method,
//! `poll_read`. Everything else (reading an exact amount, reading to the end)
//! is built on top of it in [`AsyncReadExt`](super::AsyncReadExt), once, for
//! every reader.
//!
//! This file also gives the trait to a few everyday types:
//!
//! * `&mut R` and `Box<R>` simply pass each call on, so code that owns a
//!   reader can lend it out or hide its type;
//! * `&[u8]` and `std::io::Cursor` hold all their bytes in memory, so they are
//!   always ready and never return `Pending`. They are handy in tests and for
//!   trying out the extension methods.

use std::io;
use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reads bytes from a source asynchronously.
///
/// This is the non-blocking counterpart of [`std::io::Read`].
// ANCHOR: async_read_trait
pub trait AsyncRead {
    /// Tries to read bytes into `buf`.
    ///
    /// * `Poll::Ready(Ok(n))`: the first `n` bytes of `buf` were filled, with
    ///   `n <= buf.len()`. `n == 0` means the stream has ended, or that `buf`
    ///   was empty.
    /// * `Poll::Ready(Err(e))`: reading failed.
    /// * `Poll::Pending`: no data is available yet. Nothing was read, and the
    ///   implementation has arranged for `cx.waker()` to be woken when trying
    ///   again may succeed.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;
}
// ANCHOR_END: async_read_trait

// `Pin::new` needs `R: Unpin`: we are about to re-pin the value behind the
// reference, which is only harmless for types that do not care about moving.
impl<R: AsyncRead + Unpin + ?Sized> AsyncRead for &mut R {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self.get_mut()).poll_read(cx, buf)
    }
}

impl<R: AsyncRead + Unpin + ?Sized> AsyncRead for Box<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self.get_mut()).poll_read(cx, buf)
    }
}

/// Reading from a byte slice copies its front and moves the slice forward
/// past what was copied, just like `std::io::Read for &[u8]`.
impl AsyncRead for &[u8] {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let remaining = self.get_mut();
        let n = remaining.len().min(buf.len());
        let (copied, rest) = remaining.split_at(n);
        buf[..n].copy_from_slice(copied);
        *remaining = rest;
        Poll::Ready(Ok(n))
    }
}

/// In-memory data never has to wait, so the answer is simply whatever the
/// blocking `std::io::Read` implementation says.
impl<T: AsRef<[u8]> + Unpin> AsyncRead for Cursor<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read(self.get_mut(), buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedReader, block_on_checked};
    use std::future::poll_fn;

    /// One `poll_read` call, driven by the test executor.
    fn read_once<R: AsyncRead + Unpin + ?Sized>(reader: &mut R, buf: &mut [u8]) -> usize {
        block_on_checked(poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, buf))).unwrap()
    }

    #[test]
    fn slice_hands_out_its_front_then_reports_end_of_stream() {
        let mut source: &[u8] = b"hello";
        let mut buf = [0; 3];
        assert_eq!(read_once(&mut source, &mut buf), 3);
        assert_eq!(&buf, b"hel");
        assert_eq!(source, b"lo");
        assert_eq!(read_once(&mut source, &mut buf), 2);
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(read_once(&mut source, &mut buf), 0);
    }

    #[test]
    fn cursor_reads_from_its_position() {
        let mut cursor = Cursor::new(b"abcdef".to_vec());
        cursor.set_position(4);
        let mut buf = [0; 8];
        assert_eq!(read_once(&mut cursor, &mut buf), 2);
        assert_eq!(&buf[..2], b"ef");
    }

    #[test]
    fn mutable_references_and_boxes_pass_calls_on() {
        let mut inner = ChunkedReader::new(*b"xyz", 2);
        let mut borrowed = &mut inner;
        let mut buf = [0; 8];
        assert_eq!(read_once(&mut borrowed, &mut buf), 2);

        let mut boxed: Box<dyn AsyncRead + Unpin> = Box::new(inner);
        assert_eq!(read_once(&mut boxed, &mut buf), 1);
        assert_eq!(buf[0], b'z');
    }
}
