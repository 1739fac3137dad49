//! [`AsyncRead`]: a source of bytes that may have to wait for them.
//!
//! The trait is the async twin of `std::io::Read`, reduced to one method,
//! `poll_read`. Everything else (reading an exact amount, reading to the end)
//! is built on top of it in [`AsyncReadExt`](super::AsyncReadExt), once, for
//! every reader.
//!
//! This file also gives the trait to a few everyday types:
//!
//! * `&mut R`, `Box<R>` and `Pin<P>` simply pass each call on (`forward.rs`), so
//!   code that owns a reader can lend it out or hide its type;
//! * `&[u8]` and `std::io::Cursor` hold all their bytes in memory, so they are
//!   always ready and never return `Pending`. They are handy in tests and for
//!   trying out the extension methods.

use std::io;
use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::ReadBuf;
use super::forward::{Pointer, forward_through_pointers};

/// Reads bytes from a source asynchronously.
///
/// This is the non-blocking counterpart of [`std::io::Read`].
// ANCHOR: async_read_trait
pub trait AsyncRead {
    /// Tries to read bytes into the unfilled part of `buf`.
    ///
    /// * `Poll::Ready(Ok(()))`: the reader appended what it had to `buf`'s filled region.
    ///   If nothing was appended although `buf` had room, the stream has ended.
    /// * `Poll::Ready(Err(e))`: reading failed.
    /// * `Poll::Pending`: no data is available yet. Nothing was read, and the
    ///   implementation has arranged for `cx.waker()` to be woken when trying
    ///   again may succeed.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>>;
}
// ANCHOR_END: async_read_trait

forward_through_pointers!(AsyncRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pointer::pinned_target(self).poll_read(cx, buf)
    }
});

/// Runs `read`, a read written over a plain `&mut [u8]`, on the unfilled part of `buf`,
/// and counts what it wrote as filled.
///
/// The slice is [`ReadBuf::initialize_unfilled`]: memory the `ReadBuf` never initialised is
/// zeroed first (once per buffer: it stays initialised for the next read).
// ANCHOR: read_into_unfilled
pub(crate) fn read_into_unfilled(
    buf: &mut ReadBuf<'_>,
    read: impl FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    let n = ready!(read(buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}
// ANCHOR_END: read_into_unfilled

/// Reading from a byte slice copies its front and moves the slice forward
/// past what was copied, just like `std::io::Read for &[u8]`.
impl AsyncRead for &[u8] {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let remaining = self.get_mut();
        let n = remaining.len().min(buf.remaining());
        let (copied, rest) = remaining.split_at(n);
        buf.put_slice(copied);
        *remaining = rest;
        Poll::Ready(Ok(()))
    }
}

/// In-memory data never has to wait: copy from the cursor's position and move it on.
impl<T: AsRef<[u8]> + Unpin> AsyncRead for Cursor<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let cursor = self.get_mut();
        let data = cursor.get_ref().as_ref();
        // A position past the end reads nothing, as in std.
        let start = usize::try_from(cursor.position()).map_or(data.len(), |p| p.min(data.len()));
        let n = (data.len() - start).min(buf.remaining());
        buf.put_slice(&data[start..start + n]);
        cursor.set_position((start + n) as u64);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedReader, block_on_checked};
    use std::future::poll_fn;

    /// One `poll_read` call, driven by the test executor.
    fn read_once<R: AsyncRead + Unpin + ?Sized>(reader: &mut R, buf: &mut [u8]) -> usize {
        let mut buf = ReadBuf::new(buf);
        block_on_checked(poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf))).unwrap();
        buf.filled().len()
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

        let mut pinned = Box::pin(&b"pinned"[..]);
        assert_eq!(read_once(&mut pinned, &mut buf), 6);
    }
}
