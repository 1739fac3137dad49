//! [`AsyncSeek`]: moving the read/write position of a stream.
//!
//! Seeking a file may touch the disk, so in an async world it is an operation that can be
//! pending like any other. The trait has tokio's two steps: [`start_seek`] says where to go
//! and may not wait; [`poll_complete`] waits until the move is done and answers the new
//! position. The split suits a file, whose seek runs on a background thread: `start_seek`
//! records the request, `poll_complete` starts the job and waits for it. A type that seeks
//! at once (`std::io::Cursor`) does the move in `start_seek` and answers its position in
//! `poll_complete`.
//!
//! [`start_seek`]: AsyncSeek::start_seek
//! [`poll_complete`]: AsyncSeek::poll_complete

use std::io;
use std::io::{Cursor, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::forward::{Pointer, forward_through_pointers};

/// Moves the position of a stream asynchronously.
///
/// This is the non-blocking counterpart of [`std::io::Seek`]. Callers use
/// [`AsyncSeekExt::seek`](super::AsyncSeekExt::seek), which drives both steps.
// ANCHOR: async_seek_trait
pub trait AsyncSeek {
    /// Asks to move the position to `position`; the move is finished (and its result
    /// known) only when [`poll_complete`](AsyncSeek::poll_complete) returns `Ready`.
    ///
    /// May fail at once, for instance if another seek is still under way: callers call
    /// `poll_complete` until it is ready before starting a new seek.
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()>;

    /// Waits for the seek started last to finish, and returns the new position, counted in
    /// bytes from the start of the stream. With no seek under way it returns the current
    /// position.
    ///
    /// Seeking before the start is an error; seeking past the end is allowed (what a
    /// later read or write does there depends on the type).
    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>>;
}
// ANCHOR_END: async_seek_trait

forward_through_pointers!(AsyncSeek {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        Pointer::pinned_target(self).start_seek(position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pointer::pinned_target(self).poll_complete(cx)
    }
});

/// In memory the move is immediate, so `start_seek` does it (and reports its error) and
/// `poll_complete` only reads the position.
impl<T: AsRef<[u8]> + Unpin> AsyncSeek for Cursor<T> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        io::Seek::seek(self.get_mut(), position).map(drop)
    }

    fn poll_complete(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.get_mut().position()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::block_on_checked;
    use std::future::poll_fn;

    fn seek_once<S: AsyncSeek + Unpin + ?Sized>(stream: &mut S, pos: SeekFrom) -> io::Result<u64> {
        Pin::new(&mut *stream).start_seek(pos)?;
        block_on_checked(poll_fn(|cx| Pin::new(&mut *stream).poll_complete(cx)))
    }

    #[test]
    fn cursor_seeks_from_start_current_and_end() {
        let mut cursor = Cursor::new(vec![0u8; 10]);
        assert_eq!(seek_once(&mut cursor, SeekFrom::Start(4)).unwrap(), 4);
        assert_eq!(seek_once(&mut cursor, SeekFrom::Current(-1)).unwrap(), 3);
        let mut boxed = Box::new(&mut cursor);
        assert_eq!(seek_once(&mut boxed, SeekFrom::End(-2)).unwrap(), 8);
        let mut pinned = Pin::new(&mut boxed);
        assert_eq!(seek_once(&mut pinned, SeekFrom::Start(1)).unwrap(), 1);
    }

    #[test]
    fn seeking_before_the_start_is_an_error() {
        let mut cursor = Cursor::new(*b"abc");
        let error = seek_once(&mut cursor, SeekFrom::Current(-1)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(cursor.position(), 0);
    }
}
