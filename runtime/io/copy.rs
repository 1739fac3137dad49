//! [`copy`]: pump every byte from a reader into a writer.
//!
//! The loop is the one you would write by hand: read a chunk, write all of
//! it, repeat until the reader reports end of stream, then flush so nothing
//! stays behind in a buffered writer. It is written as an `async fn` because,
//! unlike the extension futures, it is only called by name and nobody needs
//! to spell out its type.

use std::io;

use super::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Size of the chunk moved per iteration.
const COPY_BUFFER_SIZE: usize = 8 * 1024;

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
    // On the heap on purpose: a local array would be stored inside this
    // function's future, making the future 8 KiB big wherever it is moved.
    let mut chunk = vec![0; COPY_BUFFER_SIZE];
    let mut copied: u64 = 0;
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        writer.write_all(&chunk[..n]).await?;
        copied += n as u64;
    }
    writer.flush().await?;
    Ok(copied)
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
        assert_eq!(writer.events.last(), Some(&Event::Flush));
        let flushes = writer.events.iter().filter(|e| **e == Event::Flush).count();
        assert_eq!(flushes, 1, "flushed once, at the end");
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
