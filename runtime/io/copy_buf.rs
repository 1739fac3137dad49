//! [`copy_buf`]: [`copy`](super::copy) for a reader that already has a buffer.
//!
//! An [`AsyncBufRead`] shows its own buffer (`poll_fill_buf`), so the copy writes straight
//! out of it and `consume`s what the writer took: no second buffer, no second copy of
//! the bytes. Like `copy`, each chunk spends a unit of the cooperative budget, and the
//! writer is flushed whenever the reader has to wait.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::retry::ready_or_retry;
use super::{AsyncBufRead, AsyncWrite};

/// Copies everything from `reader` to `writer` through the reader's own buffer, then
/// flushes `writer`. Returns the number of bytes copied.
///
/// # Errors
///
/// The first error from either side; `WriteZero` if the writer accepts nothing.
///
/// # Cancel safety
///
/// Safe in the sense that no byte is lost: bytes leave the reader's buffer only once the
/// writer took them. How many were copied is lost with the future.
///
/// ```
/// use asincrono::io;
///
/// asincrono::block_on(async {
///     let mut reader: &[u8] = b"through the reader's buffer";
///     let mut sink = Vec::new();
///     assert_eq!(io::copy_buf(&mut reader, &mut sink).await.unwrap(), 27);
/// });
/// ```
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut progress = Progress::default();
    poll_fn(|cx| poll_copy_buf(cx, &mut *reader, &mut *writer, &mut progress)).await
}

/// What a `copy_buf` keeps between polls.
#[derive(Debug, Default)]
struct Progress {
    /// Bytes written so far.
    copied: u64,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

fn poll_copy_buf<R, W>(
    cx: &mut Context<'_>,
    reader: &mut R,
    writer: &mut W,
    progress: &mut Progress,
) -> Poll<io::Result<u64>>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    loop {
        ready!(crate::task::poll_proceed(cx));
        let chunk = match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Ready(Ok(chunk)) => chunk,
            Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => continue,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => {
                // The reader has to wait (perhaps for what we wrote): push that out first,
                // as `copy` does.
                if progress.need_flush {
                    ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                    progress.need_flush = false;
                }
                return Poll::Pending;
            }
        };
        if chunk.is_empty() {
            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
            return Poll::Ready(Ok(progress.copied));
        }
        let n = ready_or_retry!(Pin::new(&mut *writer).poll_write(cx, chunk));
        if n == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "write zero byte into writer",
            )));
        }
        Pin::new(&mut *reader).consume(n);
        progress.copied += n as u64;
        progress.need_flush = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::BufReader;
    use crate::io::test_support::{ChunkedReader, ChunkedWriter, Event, block_on_checked};

    #[test]
    fn copies_out_of_the_readers_buffer_and_flushes() {
        let data: Vec<u8> = (0..5_000).map(|i| (i % 13) as u8).collect();
        let mut reader = BufReader::with_capacity(512, ChunkedReader::new(data.clone(), 300));
        let mut writer = ChunkedWriter::new(100);
        let copied = block_on_checked(copy_buf(&mut reader, &mut writer)).unwrap();
        assert_eq!(copied, 5_000);
        assert_eq!(writer.written(), data);
        assert_eq!(writer.events.last(), Some(&Event::Flush));
    }
}
