//! [`AsyncWriteExt`]: `.await`-able writing methods for every [`AsyncWrite`].
//!
//! The same pattern as [`AsyncReadExt`](super::AsyncReadExt): each method
//! returns a small named future that calls the matching `poll_*` method until
//! it is done. Most of them are one call; `write_all` is the interesting one,
//! because a sink may accept only part of the data at a time and the future
//! must remember what is left.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncWrite;
use super::retry::ready_or_retry;
use super::write_int::{WriteNum, write_num_methods};

/// Writing methods for any [`AsyncWrite`], each returning a future.
///
/// The methods borrow the writer mutably, so they require `Self: Unpin`.
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes *some* bytes from `buf`, returning how many were accepted.
    /// Like a single `write` system call, it may accept fewer than all.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`, calling `poll_write` as many times as needed.
    ///
    /// Fails with [`ErrorKind::WriteZero`](io::ErrorKind::WriteZero) if the
    /// writer accepts zero bytes while some are left, since it would
    /// otherwise loop forever.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Flushes the writer: every byte accepted so far reaches its destination.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes the writer, then tells the other end that no more data will
    /// be written.
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown { writer: self }
    }

    /// Writes *some* bytes from `bufs`, in order, as one vectored write (see
    /// [`AsyncWrite::poll_write_vectored`]); returns how many were accepted.
    fn write_vectored<'a, 'b>(&'a mut self, bufs: &'a [IoSlice<'b>]) -> WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    write_num_methods! {
        write_u8: u8 = to_be_bytes, "big-endian";
        write_i8: i8 = to_be_bytes, "big-endian";
        write_u16: u16 = to_be_bytes, "big-endian";
        write_i16: i16 = to_be_bytes, "big-endian";
        write_u32: u32 = to_be_bytes, "big-endian";
        write_i32: i32 = to_be_bytes, "big-endian";
        write_u64: u64 = to_be_bytes, "big-endian";
        write_i64: i64 = to_be_bytes, "big-endian";
        write_u128: u128 = to_be_bytes, "big-endian";
        write_i128: i128 = to_be_bytes, "big-endian";
        write_f32: f32 = to_be_bytes, "big-endian";
        write_f64: f64 = to_be_bytes, "big-endian";
        write_u16_le: u16 = to_le_bytes, "little-endian";
        write_i16_le: i16 = to_le_bytes, "little-endian";
        write_u32_le: u32 = to_le_bytes, "little-endian";
        write_i32_le: i32 = to_le_bytes, "little-endian";
        write_u64_le: u64 = to_le_bytes, "little-endian";
        write_i64_le: i64 = to_le_bytes, "little-endian";
        write_u128_le: u128 = to_le_bytes, "little-endian";
        write_i128_le: i128 = to_le_bytes, "little-endian";
        write_f32_le: f32 = to_le_bytes, "little-endian";
        write_f64_le: f64 = to_le_bytes, "little-endian";
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// Future returned by [`AsyncWriteExt::write`].
///
/// **Cancel safety:** safe. A write either completes within one poll or
/// returns `Pending` having written nothing.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// Future returned by [`AsyncWriteExt::write_vectored`].
///
/// **Cancel safety:** safe, as `write`.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct WriteVectored<'a, 'b, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'b>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, '_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}

/// Future returned by [`AsyncWriteExt::write_all`].
///
/// **Cancel safety:** not safe. If dropped part-way, some prefix of the data
/// has already been written and the caller cannot tell how long it is. Do
/// not retry the whole buffer after a cancellation: the receiver would see
/// that prefix twice.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
// ANCHOR: write_all_future
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    /// The part of the caller's data not yet written; it shrinks from the
    /// front as the writer accepts bytes.
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = ready_or_retry!(Pin::new(&mut *this.writer).poll_write(cx, this.buf));
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "writer accepted no bytes",
                )));
            }
            this.buf = &this.buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}
// ANCHOR_END: write_all_future

/// Future returned by [`AsyncWriteExt::flush`].
///
/// **Cancel safety:** safe. Flushing can be started again at any time;
/// whatever was already pushed out stays pushed out, and a new flush carries
/// on with the rest.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// Future returned by [`AsyncWriteExt::shutdown`].
///
/// **Cancel safety:** safe in the same sense as [`Flush`]: it can be started
/// again, and the writer carries on from wherever its flush had got to.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Shutdown<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Shutdown<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedWriter, Event, block_on_checked, poll_once};

    #[test]
    fn write_returns_how_much_one_call_accepted() {
        let mut writer = ChunkedWriter::new(3);
        assert_eq!(block_on_checked(writer.write(b"hello")).unwrap(), 3);
        assert_eq!(writer.written(), b"hel");
    }

    #[test]
    fn write_all_keeps_writing_across_chunks_and_pending() {
        let mut writer = ChunkedWriter::new(3);
        block_on_checked(writer.write_all(b"0123456789")).unwrap();
        assert_eq!(writer.written(), b"0123456789");
        assert_eq!(writer.events.len(), 4, "3 + 3 + 3 + 1 bytes");
    }

    #[test]
    fn write_all_fails_when_the_writer_accepts_nothing() {
        let mut writer = ChunkedWriter::new(3).accepting_at_most(4);
        let error = block_on_checked(writer.write_all(b"0123456789")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WriteZero);
        assert_eq!(writer.written(), b"0123");
    }

    #[test]
    fn write_all_of_nothing_never_touches_the_writer() {
        let mut writer = ChunkedWriter::new(3);
        block_on_checked(writer.write_all(b"")).unwrap();
        assert!(writer.events.is_empty());
    }

    #[test]
    fn write_all_dropped_half_way_has_written_a_prefix() {
        let mut writer = ChunkedWriter::new(3);
        let mut future = writer.write_all(b"0123456789");
        assert!(poll_once(&mut future).is_pending()); // not ready
        assert!(poll_once(&mut future).is_pending()); // wrote "012", then not ready
        drop(future);
        assert_eq!(writer.written(), b"012");
    }

    #[test]
    fn flush_and_shutdown_reach_the_writer_in_order() {
        let mut writer = ChunkedWriter::new(3);
        block_on_checked(writer.flush()).unwrap();
        block_on_checked(writer.shutdown()).unwrap();
        assert_eq!(writer.events, vec![Event::Flush, Event::Shutdown]);
    }
}
