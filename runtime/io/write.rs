//! [`AsyncWrite`]: a sink for bytes that may have to wait before accepting
//! them.
//!
//! Only `poll_write` is required. Flushing and shutting down have defaults
//! because many sinks have nothing to do for them: a `Vec<u8>` holds no hidden
//! buffer, so it is always "flushed". Types that do buffer, such as
//! [`BufWriter`](super::BufWriter), or that have a connection to close, such
//! as a TCP stream, override them.
//!
//! The forwarding impls for `&mut W`, `Box<W>` and `Pin<P>` (`forward.rs`) pass on
//! *every* method. Relying on the defaults there would be a quiet bug: flushing a
//! `Box<BufWriter<_>>` would do nothing at all.

use std::io;
use std::io::{Cursor, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::forward::{Pointer, forward_through_pointers};

/// Writes bytes to a sink asynchronously.
///
/// This is the non-blocking counterpart of [`std::io::Write`], plus a way to
/// say "no more data" ([`poll_shutdown`](AsyncWrite::poll_shutdown)).
// ANCHOR: async_write_trait
pub trait AsyncWrite {
    /// Tries to write bytes from `buf`.
    ///
    /// * `Poll::Ready(Ok(n))`: the first `n` bytes of `buf` were accepted,
    ///   with `n <= buf.len()`. A short write is normal; callers that need all
    ///   of `buf` written loop (see
    ///   [`write_all`](super::AsyncWriteExt::write_all)). `Ok(0)` for a
    ///   non-empty `buf` means the sink cannot take any more bytes.
    /// * `Poll::Ready(Err(e))`: writing failed.
    /// * `Poll::Pending`: the sink is not ready. Nothing was written, and
    ///   `cx.waker()` will be woken when trying again may succeed.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Tries to push every byte accepted so far out of any intermediate
    /// buffer to its final destination.
    ///
    /// The default does nothing and succeeds, which is right for sinks that
    /// do not buffer.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let _ = cx;
        Poll::Ready(Ok(()))
    }

    /// Tries to finish the stream: flush, then tell the other end that no
    /// more data will come (for TCP, send the FIN).
    ///
    /// The default only flushes.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }

    /// Like [`poll_write`](AsyncWrite::poll_write), from several buffers in order, as one
    /// `writev` system call would: the count is of bytes taken from the front of the
    /// concatenation.
    ///
    /// The default writes the first non-empty buffer with `poll_write`, which is correct
    /// for every writer; types that can do better say so with
    /// [`is_write_vectored`](AsyncWrite::is_write_vectored).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    /// Whether [`poll_write_vectored`](AsyncWrite::poll_write_vectored) takes more than
    /// the first buffer; callers may gather small buffers into one when it does not.
    fn is_write_vectored(&self) -> bool {
        false
    }
}
// ANCHOR_END: async_write_trait

forward_through_pointers!(AsyncWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pointer::pinned_target(self).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pointer::pinned_target(self).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pointer::pinned_target(self).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pointer::pinned_target(self).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }
});

/// A vector accepts every byte at once by appending it, from one buffer or many.
impl AsyncWrite for Vec<u8> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Write::write_vectored(self.get_mut(), bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

/// Writes at the cursor's position, overwriting and then growing (or, over a slice,
/// stopping at its end), exactly like the blocking `std::io::Write` implementations it
/// delegates to.
macro_rules! cursor_writes_like_std {
    ($($storage:ty),*) => {$(
        impl AsyncWrite for Cursor<$storage> {
            fn poll_write(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write(self.get_mut(), buf))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write_vectored(self.get_mut(), bufs))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }
        }
    )*};
}
cursor_writes_like_std!(Vec<u8>, &mut Vec<u8>, &mut [u8], Box<[u8]>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedWriter, Event, block_on_checked};
    use std::future::poll_fn;

    fn write_once<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W, buf: &[u8]) -> usize {
        block_on_checked(poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, buf))).unwrap()
    }

    fn flush<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W) {
        block_on_checked(poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx))).unwrap();
    }

    fn shutdown<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W) {
        block_on_checked(poll_fn(|cx| Pin::new(&mut *writer).poll_shutdown(cx))).unwrap();
    }

    #[test]
    fn vec_appends_everything_in_one_call() {
        let mut sink = b"ab".to_vec();
        assert_eq!(write_once(&mut sink, b"cde"), 3);
        assert_eq!(sink, b"abcde");
        flush(&mut sink);
        shutdown(&mut sink);
    }

    #[test]
    fn cursor_overwrites_from_its_position_then_grows() {
        let mut cursor = Cursor::new(b"abcd".to_vec());
        cursor.set_position(2);
        assert_eq!(write_once(&mut cursor, b"XYZ"), 3);
        assert_eq!(cursor.get_ref(), b"abXYZ");
    }

    #[test]
    fn boxes_and_references_forward_flush_and_shutdown() {
        let mut boxed = Box::new(ChunkedWriter::new(2));
        // `&mut Box<ChunkedWriter>` goes through both forwarding impls.
        let mut borrowed = &mut boxed;
        assert_eq!(write_once(&mut borrowed, b"abc"), 2);
        flush(&mut borrowed);
        shutdown(&mut borrowed);
        let expected = vec![Event::Write(b"ab".to_vec()), Event::Flush, Event::Shutdown];
        assert_eq!(boxed.events, expected);
    }

    #[test]
    fn vectored_writes_take_every_buffer_or_only_the_first() {
        let bufs = [IoSlice::new(b""), IoSlice::new(b"ab"), IoSlice::new(b"cd")];
        let mut sink = Vec::new();
        let mut pinned = Pin::new(&mut sink);
        assert!(pinned.is_write_vectored());
        let n = block_on_checked(poll_fn(|cx| pinned.as_mut().poll_write_vectored(cx, &bufs)));
        assert_eq!(n.unwrap(), 4);
        assert_eq!(sink, b"abcd");

        // The default: the first non-empty buffer only.
        let mut chunked = ChunkedWriter::new(10);
        assert!(!chunked.is_write_vectored());
        let n = block_on_checked(poll_fn(|cx| {
            Pin::new(&mut chunked).poll_write_vectored(cx, &bufs)
        }));
        assert_eq!(n.unwrap(), 2);
        assert_eq!(chunked.written(), b"ab");
    }
}
