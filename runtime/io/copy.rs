//! [`copy`]: pump every byte from a reader into a writer.
//!
//! The loop is the one you would write by hand: read a chunk, write all of it, repeat
//! until the reader reports end of stream, then flush so nothing stays behind in a
//! buffered writer. It lives in [`CopyBuffer`], a poll function over a buffer and its
//! progress, so that [`copy_bidirectional`](super::copy_bidirectional) can run two of them
//! side by side.
//!
//! Two details, both tokio's:
//!
//! * **Each chunk spends one unit of the cooperative budget.** A reader and a writer
//!   that are always ready (a byte slice into a `Vec`, or fast sockets) would otherwise
//!   keep the loop running without ever returning `Pending`, and no other task on the
//!   thread would run until the copy ended (or ever, for an endless reader).
//! * **The writer is flushed whenever the reader has to wait**, so bytes do not sit in a
//!   `BufWriter` while the reader waits for more that may be a long time coming.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::retry::ready_or_retry;
use super::{AsyncRead, AsyncWrite, ReadBuf};

/// Size of the chunk moved per iteration.
const COPY_BUFFER_SIZE: usize = 8 * 1024;

/// One direction of a copy: the chunk in transit and how far it got.
#[derive(Debug)]
pub(super) struct CopyBuffer {
    /// On the heap: a future holding an 8 KiB array would be that big wherever it moved.
    buf: Box<[u8]>,
    /// `buf[pos..cap]` is read and not yet written.
    pos: usize,
    cap: usize,
    /// The reader reported end of stream.
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
    /// Bytes written so far.
    copied: u64,
}

impl CopyBuffer {
    pub(super) fn new() -> Self {
        CopyBuffer {
            buf: vec![0; COPY_BUFFER_SIZE].into_boxed_slice(),
            pos: 0,
            cap: 0,
            read_done: false,
            need_flush: false,
            copied: 0,
        }
    }

    /// Copies until the reader ends and the writer is flushed; returns the byte count.
    // ANCHOR: poll_copy
    pub(super) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                // A unit of budget per chunk; when it is gone, step aside (we are woken
                // again at once, after the others had their turn).
                ready!(crate::task::poll_proceed(cx));
                let mut chunk = ReadBuf::new(&mut self.buf);
                match reader.as_mut().poll_read(cx, &mut chunk) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {
                        continue;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => {
                        // The reader has to wait: push out what we wrote meanwhile.
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
                let n = chunk.filled().len();
                self.read_done = n == 0;
                self.pos = 0;
                self.cap = n;
            }
            while self.pos < self.cap {
                let rest = &self.buf[self.pos..self.cap];
                let n = ready_or_retry!(writer.as_mut().poll_write(cx, rest));
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "write zero byte into writer",
                    )));
                }
                self.pos += n;
                self.copied += n as u64;
                self.need_flush = true;
            }
            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.copied));
            }
        }
    }
    // ANCHOR_END: poll_copy
}

/// Copies everything from `reader` to `writer` until the reader reaches end
/// of stream, then flushes `writer`. Returns the number of bytes copied.
///
/// The writer is flushed but not shut down, so more can still be written to
/// it afterwards.
///
/// # Errors
///
/// Stops at the first error from either side and returns it. Bytes copied
/// before that have been written but perhaps not flushed.
///
/// # Cancel safety
///
/// Not safe: if the future is dropped between reading a chunk and writing
/// all of it, that chunk is lost, and how much was copied is unknown.
// ANCHOR: copy_fn
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut transit = CopyBuffer::new();
    poll_fn(|cx| transit.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}
// ANCHOR_END: copy_fn

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedReader, ChunkedWriter, Event, block_on_checked};

    #[test]
    fn copies_every_byte_counts_them_and_flushes_last() {
        let data: Vec<u8> = (0..20_000).map(|i| (i % 241) as u8).collect();
        let mut reader = ChunkedReader::new(data.clone(), 1_000);
        let mut writer = ChunkedWriter::new(300);
        assert_eq!(
            block_on_checked(copy(&mut reader, &mut writer)).unwrap(),
            20_000
        );
        assert_eq!(writer.written(), data);
        assert_eq!(
            writer.events.last(),
            Some(&Event::Flush),
            "flushed at the end"
        );
    }

    /// Records writes and flushes, and is always ready.
    #[derive(Default)]
    struct Recorder(Vec<Event>);

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().0.push(Event::Write(buf.to_vec()));
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().0.push(Event::Flush);
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn the_writer_is_flushed_while_the_reader_waits() {
        // The reader answers `Pending` before every chunk.
        let mut reader = ChunkedReader::new(*b"abcd", 2);
        let mut writer = Recorder::default();
        block_on_checked(copy(&mut reader, &mut writer)).unwrap();
        let expected = [
            Event::Write(b"ab".to_vec()),
            Event::Flush,
            Event::Write(b"cd".to_vec()),
            Event::Flush,
            // The end of stream: flushed once more, whatever came before.
            Event::Flush,
        ];
        assert_eq!(writer.0, expected);
    }

    #[test]
    fn copying_an_empty_stream_copies_nothing_but_still_flushes() {
        let mut reader: &[u8] = b"";
        let mut writer = ChunkedWriter::new(10);
        assert_eq!(block_on_checked(copy(&mut reader, &mut writer)).unwrap(), 0);
        assert_eq!(writer.events, [Event::Flush]);
    }

    #[test]
    fn copy_works_with_unsized_trait_objects() {
        let mut reader: &[u8] = b"in memory";
        let reader: &mut (dyn AsyncRead + Unpin) = &mut reader;
        let mut sink = Vec::new();
        assert_eq!(block_on_checked(copy(reader, &mut sink)).unwrap(), 9);
        assert_eq!(sink, b"in memory");
    }

    #[test]
    fn copy_stops_at_a_writer_error() {
        let mut reader = ChunkedReader::new(vec![7; 100], 40);
        let mut writer = ChunkedWriter::new(30).accepting_at_most(50);
        let error = block_on_checked(copy(&mut reader, &mut writer)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WriteZero);
        assert_eq!(writer.written().len(), 50);
    }

    #[test]
    fn copy_future_is_send_for_send_streams() {
        fn assert_send<T: Send>(_: &T) {}
        let mut reader: &[u8] = b"";
        let mut writer = Vec::new();
        assert_send(&copy(&mut reader, &mut writer));
    }
}
