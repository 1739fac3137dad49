//! [`Lines`]: reading a buffered stream one line at a time.
//!
//! `Lines` owns its reader *and* the bytes of the line it is currently
//! assembling. That second part is what makes it cancel-safe, unlike
//! [`read_line`](super::AsyncBufReadExt::read_line): when a `next_line`
//! future is dropped half-way, the partial line is not lost with it but
//! waits inside the `Lines` value, and the next call finishes it.
//!
//! Line endings are removed: a final `"\n"`, and a `"\r"` just before it.
//! A `"\r"` anywhere else, including at the very end of a stream that does
//! not end in `"\n"`, is ordinary data and is kept.

use std::future::poll_fn;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::AsyncBufRead;
use super::read_until::{bytes_to_string, poll_read_until};

/// Reads lines from a buffered reader; see
/// [`AsyncBufReadExt::lines`](super::AsyncBufReadExt::lines).
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    /// The current line so far: bytes consumed from `reader` but not yet
    /// handed out.
    partial_line: Vec<u8>,
}

impl<R> Lines<R> {
    pub(super) fn new(reader: R) -> Self {
        Lines {
            reader,
            partial_line: Vec::new(),
        }
    }

    /// Returns a shared reference to the reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// Returns a mutable reference to the reader. Reading from it directly
    /// skips any partial line already held by this `Lines`.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Gives the reader back. A partial line held by this `Lines` (only
    /// possible after a cancelled `next_line` or a read error) is discarded.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// Returns the next line without its line ending, or `None` at end of
    /// stream.
    ///
    /// An empty line in the middle of the stream is `Some("")`; the end of
    /// the stream is `None`, and stays `None` if called again.
    ///
    /// A line that is not valid UTF-8 is consumed and reported as an error
    /// of kind [`InvalidData`](io::ErrorKind::InvalidData); the following
    /// call moves on to the next line. After a read error, the partial line
    /// is kept and calling again resumes it.
    ///
    /// **Cancel safety:** safe. Bytes read by a dropped `next_line` future
    /// are kept in `self` and become the start of the next line returned.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }

    /// The poll version of [`next_line`](Lines::next_line), for code that
    /// implements futures by hand.
    // ANCHOR: poll_next_line
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let this = self.get_mut();
        ready!(poll_read_until(
            &mut this.reader,
            cx,
            b'\n',
            &mut this.partial_line
        ))?;
        // An empty result means the stream ended between two lines.
        if this.partial_line.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut line = mem::take(&mut this.partial_line);
        strip_line_ending(&mut line);
        Poll::Ready(bytes_to_string(line).map(Some))
    }
    // ANCHOR_END: poll_next_line
}

/// Removes a trailing `"\n"` or `"\r\n"`.
fn strip_line_ending(line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedReader, block_on_checked, poll_once};
    use crate::io::{AsyncBufReadExt, BufReader};

    /// A 4-byte buffer over a source delivering `chunk` bytes per read, so
    /// `"\r\n"` lands on every possible boundary for some chunk size.
    fn lines_of(data: &[u8], chunk: usize) -> Lines<BufReader<ChunkedReader>> {
        BufReader::with_capacity(4, ChunkedReader::new(data, chunk)).lines()
    }

    fn collect<R: AsyncBufRead + Unpin>(lines: &mut Lines<R>) -> Vec<String> {
        block_on_checked(async {
            let mut all = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                all.push(line);
            }
            all
        })
    }

    #[test]
    fn strips_lf_and_crlf_whatever_the_chunk_boundaries() {
        for chunk in 1..=5 {
            let mut lines = lines_of(b"one\r\ntwo\n\nthree\r\n", chunk);
            assert_eq!(
                collect(&mut lines),
                ["one", "two", "", "three"],
                "chunk {chunk}"
            );
            assert_eq!(block_on_checked(lines.next_line()).unwrap(), None);
        }
    }

    #[test]
    fn keeps_a_last_line_without_newline_and_lone_carriage_returns() {
        let mut lines = lines_of(b"a\rb\nend\r", 3);
        assert_eq!(collect(&mut lines), ["a\rb", "end\r"]);
    }

    #[test]
    fn empty_stream_has_no_lines() {
        let mut lines = (&b""[..]).lines();
        assert_eq!(block_on_checked(lines.next_line()).unwrap(), None);
    }

    #[test]
    fn invalid_utf8_line_is_an_error_and_the_next_line_still_comes() {
        let mut lines = lines_of(b"good\n\xc3(\nafter\n", 2);
        assert_eq!(
            block_on_checked(lines.next_line()).unwrap().unwrap(),
            "good"
        );
        let error = block_on_checked(lines.next_line()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            block_on_checked(lines.next_line()).unwrap().unwrap(),
            "after"
        );
    }

    #[test]
    fn cancelled_next_line_loses_nothing() {
        let mut lines = lines_of(b"abcdef\nxyz\n", 2);
        let mut future = Box::pin(lines.next_line());
        assert!(poll_once(&mut future).is_pending()); // source not ready
        assert!(poll_once(&mut future).is_pending()); // "ab" kept, then not ready
        drop(future);
        assert_eq!(collect(&mut lines), ["abcdef", "xyz"]);
    }

    #[test]
    fn next_line_future_is_send_for_send_readers() {
        fn assert_send<T: Send>(_: &T) {}
        let mut lines = lines_of(b"", 1);
        assert_send(&lines.next_line());
    }

    #[test]
    fn into_inner_returns_the_reader() {
        let mut lines = (&b"x\ny\n"[..]).lines();
        assert_eq!(block_on_checked(lines.next_line()).unwrap().unwrap(), "x");
        assert_eq!(lines.into_inner(), b"y\n");
    }
}
