//! [`AsyncBufRead`]: a reader that lets you look at its internal buffer.
//!
//! Plain `poll_read` copies bytes into memory *you* provide, so finding a
//! newline means copying first and searching afterwards, and whatever you
//! copied past the newline is now your problem. A buffered reader turns this
//! around in two steps:
//!
//! 1. `poll_fill_buf` shows the bytes it already holds (reading more from the
//!    source only if it holds none);
//! 2. `consume(n)` tells it that the first `n` of those bytes are used up.
//!
//! Looking is free and does not remove anything, so helpers such as
//! [`read_line`](super::AsyncBufReadExt::read_line) can search for `\n` and
//! consume exactly up to it, leaving the rest for the next call.
//!
//! Byte slices and `std::io::Cursor` already keep all their bytes in memory,
//! so they implement the trait directly. Anything else can be wrapped in a
//! [`BufReader`](super::BufReader).

use std::io;
use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncRead;
use super::forward::{Pointer, forward_through_pointers};

/// An [`AsyncRead`] with an internal buffer that callers can inspect.
///
/// This is the non-blocking counterpart of [`std::io::BufRead`].
// ANCHOR: async_buf_read_trait
pub trait AsyncBufRead: AsyncRead {
    /// Returns the buffered bytes, reading more from the source first if the
    /// buffer is empty.
    ///
    /// An empty slice means end of stream. `Pending` follows the usual rule:
    /// nothing happened, and the waker will be woken later. The slice borrows
    /// `self`, so it must be dropped before calling
    /// [`consume`](AsyncBufRead::consume).
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>>;

    /// Marks the first `amt` bytes returned by the last
    /// [`poll_fill_buf`](AsyncBufRead::poll_fill_buf) as used, so they are not
    /// returned again.
    ///
    /// `amt` must not exceed the length of that slice; implementations may
    /// panic or clamp if it does.
    fn consume(self: Pin<&mut Self>, amt: usize);
}
// ANCHOR_END: async_buf_read_trait

forward_through_pointers!(AsyncBufRead {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pointer::pinned_target(self).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pointer::pinned_target(self).consume(amt);
    }
});

/// A byte slice *is* its own buffer: filling returns the whole slice and
/// consuming moves its start forward. Panics if `amt` exceeds its length.
impl AsyncBufRead for &[u8] {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(*self.get_mut()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let remaining = self.get_mut();
        *remaining = &remaining[amt..];
    }
}

/// The unread rest of the cursor's data is the buffer; `std` does the work.
impl<T: AsRef<[u8]> + Unpin> AsyncBufRead for Cursor<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(io::BufRead::fill_buf(self.get_mut()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        io::BufRead::consume(self.get_mut(), amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::block_on_checked;
    use std::future::poll_fn;

    /// Fills, copies out what is visible, and consumes `amt` of it.
    fn fill_then_consume<R: AsyncBufRead + Unpin + ?Sized>(reader: &mut R, amt: usize) -> Vec<u8> {
        let seen = block_on_checked(poll_fn(|cx| {
            Pin::new(&mut *reader)
                .poll_fill_buf(cx)
                .map_ok(<[u8]>::to_vec)
        }))
        .unwrap();
        Pin::new(reader).consume(amt);
        seen
    }

    #[test]
    fn slice_shows_everything_and_consume_moves_forward() {
        let mut source: &[u8] = b"line\nrest";
        assert_eq!(fill_then_consume(&mut source, 5), b"line\nrest");
        assert_eq!(fill_then_consume(&mut source, 0), b"rest");
        assert_eq!(fill_then_consume(&mut source, 4), b"rest");
        assert_eq!(fill_then_consume(&mut source, 0), b"");
    }

    #[test]
    fn cursor_buffer_is_the_unread_rest() {
        let mut cursor = Cursor::new(*b"abc");
        assert_eq!(fill_then_consume(&mut cursor, 1), b"abc");
        assert_eq!(cursor.position(), 1);
        let mut boxed = Box::new(cursor);
        assert_eq!(fill_then_consume(&mut boxed, 2), b"bc");
        assert_eq!(fill_then_consume(&mut boxed, 0), b"");
    }
}
