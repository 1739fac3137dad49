//! [`AsyncSeekExt`]: an `.await`-able `seek` for every [`AsyncSeek`].
//!
//! The smallest of the extension traits: one method, one future, one poll
//! call. It exists so that seeking reads like the other operations,
//! `stream.seek(SeekFrom::Start(0)).await?`.

use std::future::Future;
use std::io;
use std::io::SeekFrom;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncSeek;

/// The seeking method for any [`AsyncSeek`], returning a future.
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves the stream's position, returning the new position counted from
    /// the start of the stream.
    fn seek(&mut self, pos: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { stream: self, pos }
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// Future returned by [`AsyncSeekExt::seek`].
///
/// It passes the same `pos` to every poll, as
/// [`AsyncSeek::poll_seek`] requires.
///
/// **Cancel safety:** not guaranteed. An implementation may have begun the
/// move before answering `Pending`, so after dropping this future the position
/// may be the old one or the new one. Seek again with an absolute
/// `SeekFrom::Start` if you need to know.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Seek<'a, S: ?Sized> {
    stream: &'a mut S,
    pos: SeekFrom,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.stream).poll_seek(cx, this.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::AsyncReadExt;
    use crate::io::test_support::block_on_checked;
    use std::io::Cursor;

    #[test]
    fn seek_then_read_from_the_new_position() {
        let mut cursor = Cursor::new(b"0123456789".to_vec());
        assert_eq!(block_on_checked(cursor.seek(SeekFrom::End(-3))).unwrap(), 7);
        let mut tail = String::new();
        block_on_checked(cursor.read_to_string(&mut tail)).unwrap();
        assert_eq!(tail, "789");
        assert_eq!(
            block_on_checked(cursor.seek(SeekFrom::Current(-5))).unwrap(),
            5
        );
    }

    #[test]
    fn seek_reports_errors() {
        let mut cursor = Cursor::new(b"abc".to_vec());
        let error = block_on_checked(cursor.seek(SeekFrom::End(-4))).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
