//! [`AsyncSeekExt`]: `.await`-able `seek`, `rewind` and `stream_position` for every
//! [`AsyncSeek`].
//!
//! One future does all three: it first lets any seek still under way finish
//! (`poll_complete`), then starts its own (`start_seek`) and waits for that one. This is
//! tokio's order, and what lets a seek whose future was dropped never be mistaken for the
//! next one.

use std::future::Future;
use std::io;
use std::io::SeekFrom;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::AsyncSeek;

/// The seeking methods for any [`AsyncSeek`], each returning a future.
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves the stream's position, returning the new position counted from
    /// the start of the stream.
    fn seek(&mut self, position: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek {
            stream: self,
            position: Some(position),
        }
    }

    /// Moves back to the start of the stream.
    fn rewind(&mut self) -> Rewind<'_, Self>
    where
        Self: Unpin,
    {
        Rewind {
            seek: self.seek(SeekFrom::Start(0)),
        }
    }

    /// The current position, counted from the start of the stream (a seek by zero).
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// Future returned by [`AsyncSeekExt::seek`] and [`AsyncSeekExt::stream_position`].
///
/// **Cancel safety:** not guaranteed. An implementation may have begun the
/// move before answering `Pending`, so after dropping this future the position
/// may be the old one or the new one. Seek again with an absolute
/// `SeekFrom::Start` if you need to know.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Seek<'a, S: ?Sized> {
    stream: &'a mut S,
    /// Where to go, until the seek is started.
    position: Option<SeekFrom>,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(position) = this.position {
            // Let an earlier seek (perhaps from a dropped future) finish first.
            ready!(Pin::new(&mut *this.stream).poll_complete(cx))?;
            this.position = None;
            Pin::new(&mut *this.stream).start_seek(position)?;
        }
        Pin::new(&mut *this.stream).poll_complete(cx)
    }
}

/// Future returned by [`AsyncSeekExt::rewind`]: a seek to the start, answering `()`.
///
/// **Cancel safety:** as [`Seek`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Rewind<'a, S: ?Sized> {
    seek: Seek<'a, S>,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Rewind<'_, S> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().seek).poll(cx).map_ok(drop)
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
        assert_eq!(block_on_checked(cursor.stream_position()).unwrap(), 5);
        block_on_checked(cursor.rewind()).unwrap();
        assert_eq!(cursor.position(), 0);
    }

    #[test]
    fn seek_reports_errors() {
        let mut cursor = Cursor::new(b"abc".to_vec());
        let error = block_on_checked(cursor.seek(SeekFrom::End(-4))).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
