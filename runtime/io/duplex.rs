//! [`duplex`]: two connected in-memory streams, like the two ends of a socket pair.
//!
//! Each [`DuplexStream`] reads from one [`SimplexStream`] and writes into the other, the
//! pipes shared through `Arc<Mutex<_>>` (each lock held for one poll call, never across an
//! `.await`). Shutting one end down ends the stream the other reads; dropping it also
//! makes the other end's writes fail with `BrokenPipe`, as a closed socket would.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite, ReadBuf, SimplexStream};
use crate::util::lock;

/// One end of a [`duplex`] pair.
#[derive(Debug)]
pub struct DuplexStream {
    /// The pipe the other end writes into.
    read: Arc<Mutex<SimplexStream>>,
    /// The pipe the other end reads from.
    write: Arc<Mutex<SimplexStream>>,
}

/// Two connected streams; each direction holds at most `max_buf_size` bytes in flight.
///
/// ```
/// use asincrono::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// asincrono::block_on(async {
///     let (mut client, mut server) = io::duplex(64);
///     client.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    let two = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    (
        DuplexStream {
            read: Arc::clone(&one),
            write: Arc::clone(&two),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *lock(&self.read)).poll_read(cx, buf)
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.write)).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.write)).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *lock(&self.write)).poll_shutdown(cx)
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        // The other end reads our writes to the end, then sees end of stream; its writes
        // to us fail from now on.
        lock(&self.write).close_write();
        lock(&self.read).close_read();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::block_on;
    use crate::io::{AsyncReadExt, AsyncWriteExt};
    use std::thread;

    #[test]
    fn a_small_pipe_carries_much_data_between_two_threads() {
        let data: Vec<u8> = (0..10_000).map(|i| (i % 251) as u8).collect();
        let (mut near, mut far) = duplex(16);
        let to_send = data.clone();
        let writer = thread::spawn(move || {
            block_on(async {
                far.write_all(&to_send).await?;
                far.shutdown().await
            })
        });
        let mut received = Vec::new();
        block_on(near.read_to_end(&mut received)).unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(received, data);
    }

    #[test]
    fn dropping_one_end_ends_reads_and_breaks_writes_at_the_other() {
        let (mut near, far) = duplex(16);
        block_on(near.write_all(b"left")).unwrap();
        drop(far);
        let error = block_on(near.write_all(b"more")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        let mut rest = Vec::new();
        assert_eq!(block_on(near.read_to_end(&mut rest)).unwrap(), 0);
    }
}
