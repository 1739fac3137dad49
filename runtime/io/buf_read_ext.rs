//! [`AsyncBufReadExt`]: line- and delimiter-oriented reading for every
//! [`AsyncBufRead`].
//!
//! All three methods rest on one loop, `poll_read_until` (in `read_until.rs`, which
//! [`Lines`] shares): look at the
//! reader's buffer, copy out everything up to and including the delimiter,
//! and consume exactly that much. If the delimiter is not in the buffer yet,
//! copy and consume all of it and ask for more.
//!
//! Copying and consuming happen in the same poll, with no `Pending` in
//! between, so a byte is never consumed without also being saved somewhere.
//! Where it is saved decides cancel safety: `read_until` saves straight into
//! the caller's `Vec`, while `read_line` must keep bytes to itself until it
//! can check that the line is valid UTF-8.

use std::future::Future;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::read_until::{OnReadError, finish_text_read, poll_read_until};
use super::{AsyncBufRead, FillBuf, Lines};

/// Reading methods for any [`AsyncBufRead`], each returning a future (or,
/// for [`lines`](AsyncBufReadExt::lines), a line reader).
///
/// The methods that borrow the reader require `Self: Unpin`.
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads up to and including the next `byte`, or to end of stream,
    /// appending everything to `buf`. Returns the number of bytes appended;
    /// `0` means the stream had already ended.
    ///
    /// If reading fails, the bytes read before the error stay in `buf`.
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delimiter: byte,
            start_len: buf.len(),
            buf,
        }
    }

    /// Reads one line, *including* its `'\n'` (if it has one, the last line
    /// may not), and appends it to `buf`. Returns the number of bytes
    /// appended; `0` means end of stream. Like std, a `"\r\n"` ending is kept
    /// as it is; [`lines`](AsyncBufReadExt::lines) strips both kinds.
    ///
    /// Fails with [`ErrorKind::InvalidData`](io::ErrorKind::InvalidData) if
    /// the line is not valid UTF-8; that line is consumed and dropped, and `buf`
    /// is left unchanged. If reading fails, the text read before the error is
    /// appended to `buf` (when it is valid UTF-8), as in tokio.
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            output: buf,
            bytes: Vec::new(),
        }
    }

    /// Turns the reader into a [`Lines`], which hands out one line at a time
    /// with its line ending removed.
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self)
    }

    /// Returns the reader's buffered bytes, reading more first if it holds none; an empty
    /// slice means end of stream. Nothing is consumed: follow with
    /// [`consume`](AsyncBufReadExt::consume).
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf::new(self)
    }

    /// Marks the first `amt` bytes of the last [`fill_buf`](AsyncBufReadExt::fill_buf) as
    /// used.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        std::pin::Pin::new(self).consume(amt);
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Future returned by [`AsyncBufReadExt::read_until`].
///
/// **Cancel safety:** safe as long as you keep the vector. Every byte taken
/// from the reader is appended to it in the same poll, so after a drop the
/// vector holds all the bytes read so far, and calling `read_until` again
/// with it continues the same search. Only the count is lost.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delimiter: u8,
    buf: &'a mut Vec<u8>,
    /// The vector's length before we started, to compute the count.
    start_len: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_until(this.reader, cx, this.delimiter, this.buf))?;
        Poll::Ready(Ok(this.buf.len() - this.start_len))
    }
}

/// Future returned by [`AsyncBufReadExt::read_line`].
///
/// **Cancel safety:** not safe. The line is collected inside this future and
/// only appended to the `String` once it is complete and checked to be
/// UTF-8. If the future is dropped part-way, the `String` is unchanged and the
/// part of the line already read is lost. Use [`Lines::next_line`], which
/// keeps the partial line in the `Lines` value, when you need to cancel.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    output: &'a mut String,
    /// The line so far, not yet checked for UTF-8.
    bytes: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let read = ready!(poll_read_until(this.reader, cx, b'\n', &mut this.bytes));
        let line = mem::take(&mut this.bytes);
        Poll::Ready(finish_text_read(
            this.output,
            line,
            read,
            OnReadError::KeepValidText,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::BufReader;
    use crate::io::test_support::{ChunkedReader, block_on_checked, poll_once};

    /// A buffered reader that is slow in every way: a 4-byte buffer over a
    /// source that delivers 2 bytes at a time, with `Pending` in between.
    fn slow_reader(data: &[u8]) -> BufReader<ChunkedReader> {
        BufReader::with_capacity(4, ChunkedReader::new(data, 2))
    }

    #[test]
    fn read_until_stops_after_the_delimiter_and_at_the_end() {
        let mut reader = slow_reader(b"a,bbbbbb,ccc");
        let mut buf = Vec::new();
        assert_eq!(
            block_on_checked(reader.read_until(b',', &mut buf)).unwrap(),
            2
        );
        assert_eq!(
            block_on_checked(reader.read_until(b',', &mut buf)).unwrap(),
            7
        );
        assert_eq!(
            block_on_checked(reader.read_until(b',', &mut buf)).unwrap(),
            3
        );
        assert_eq!(
            block_on_checked(reader.read_until(b',', &mut buf)).unwrap(),
            0
        );
        assert_eq!(buf, b"a,bbbbbb,ccc");
    }

    #[test]
    fn read_until_dropped_half_way_keeps_what_it_read() {
        let mut reader = slow_reader(b"abcd\nrest");
        let mut buf = Vec::new();
        let mut future = reader.read_until(b'\n', &mut buf);
        assert!(poll_once(&mut future).is_pending()); // source not ready
        assert!(poll_once(&mut future).is_pending()); // got "ab", then not ready
        drop(future);
        assert_eq!(buf, b"ab");

        assert_eq!(
            block_on_checked(reader.read_until(b'\n', &mut buf)).unwrap(),
            3
        );
        assert_eq!(buf, b"abcd\n");
    }

    #[test]
    fn read_line_keeps_the_line_ending_and_appends() {
        let mut reader = slow_reader(b"first\r\nsecond\nlast");
        let mut text = String::from(">");
        assert_eq!(block_on_checked(reader.read_line(&mut text)).unwrap(), 7);
        assert_eq!(block_on_checked(reader.read_line(&mut text)).unwrap(), 7);
        assert_eq!(block_on_checked(reader.read_line(&mut text)).unwrap(), 4);
        assert_eq!(block_on_checked(reader.read_line(&mut text)).unwrap(), 0);
        assert_eq!(text, ">first\r\nsecond\nlast");
    }

    #[test]
    fn read_line_rejects_invalid_utf8_then_carries_on() {
        let mut reader: &[u8] = b"ok\n\xff\xfe\nnext\n";
        let mut text = String::new();
        block_on_checked(reader.read_line(&mut text)).unwrap();
        let error = block_on_checked(reader.read_line(&mut text)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            text, "ok\n",
            "the String is unchanged by a failed read_line"
        );
        block_on_checked(reader.read_line(&mut text)).unwrap();
        assert_eq!(text, "ok\nnext\n");
    }

    #[test]
    fn read_line_keeps_the_text_read_before_a_read_error() {
        let mut reader = BufReader::new(ChunkedReader::new("no newline", 3).failing_at_end());
        let mut text = String::from("keep ");
        let error = block_on_checked(reader.read_line(&mut text)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(
            text, "keep no newline",
            "as tokio: valid text read so far is kept"
        );
    }

    #[test]
    fn read_line_dropped_half_way_loses_the_partial_line() {
        let mut reader = slow_reader(b"abcd\nnext\n");
        let mut text = String::new();
        let mut future = reader.read_line(&mut text);
        assert!(poll_once(&mut future).is_pending());
        assert!(poll_once(&mut future).is_pending()); // "ab" taken, then not ready
        drop(future);
        assert_eq!(text, "");

        block_on_checked(reader.read_line(&mut text)).unwrap();
        assert_eq!(text, "cd\n", "\"ab\" was lost with the dropped future");
    }
}
