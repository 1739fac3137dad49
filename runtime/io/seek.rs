//! [`AsyncSeek`]: moving the read/write position of a stream.
//!
//! Seeking a file may touch the disk, so in an async world it is an operation
//! that can be pending like any other. The trait is a single poll method that
//! starts *and* finishes the move in one call, returning the new position
//! measured from the start of the stream.
//!
//! tokio splits this into `start_seek` plus `poll_complete`, which suits files
//! that are seeked on a background thread. asincrono keeps the one-method
//! shape of every other trait in this module: an implementation that needs two
//! phases can remember, inside itself, that a seek is in progress.
//!
//! `std::io::Cursor` gets the trait here because seeking in memory is
//! immediate.

use std::io;
use std::io::{Cursor, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Moves the position of a stream asynchronously.
///
/// This is the non-blocking counterpart of [`std::io::Seek`].
// ANCHOR: async_seek_trait
pub trait AsyncSeek {
    /// Tries to move the position to `pos`.
    ///
    /// Returns the new position, counted in bytes from the start of the
    /// stream. Seeking before the start is an error; seeking past the end is
    /// allowed (what a later read or write does there depends on the type).
    ///
    /// If this returns `Pending`, the caller must call it again with the
    /// **same** `pos` until it is ready: an implementation is allowed to
    /// have started the move already.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>>;
}
// ANCHOR_END: async_seek_trait

impl<S: AsyncSeek + Unpin + ?Sized> AsyncSeek for &mut S {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Pin::new(&mut **self.get_mut()).poll_seek(cx, pos)
    }
}

impl<S: AsyncSeek + Unpin + ?Sized> AsyncSeek for Box<S> {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Pin::new(&mut **self.get_mut()).poll_seek(cx, pos)
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncSeek for Cursor<T> {
    fn poll_seek(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Poll::Ready(io::Seek::seek(self.get_mut(), pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::block_on_checked;
    use std::future::poll_fn;

    fn seek_once<S: AsyncSeek + Unpin + ?Sized>(stream: &mut S, pos: SeekFrom) -> io::Result<u64> {
        block_on_checked(poll_fn(|cx| Pin::new(&mut *stream).poll_seek(cx, pos)))
    }

    #[test]
    fn cursor_seeks_from_start_current_and_end() {
        let mut cursor = Cursor::new(vec![0u8; 10]);
        assert_eq!(seek_once(&mut cursor, SeekFrom::Start(4)).unwrap(), 4);
        assert_eq!(seek_once(&mut cursor, SeekFrom::Current(-1)).unwrap(), 3);
        let mut boxed = Box::new(&mut cursor);
        assert_eq!(seek_once(&mut boxed, SeekFrom::End(-2)).unwrap(), 8);
    }

    #[test]
    fn seeking_before_the_start_is_an_error() {
        let mut cursor = Cursor::new(*b"abc");
        let error = seek_once(&mut cursor, SeekFrom::Current(-1)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(cursor.position(), 0);
    }
}
