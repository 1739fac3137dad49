//! [`copy_bidirectional`]: copy both ways between two streams at once, as a proxy does.
//!
//! Two [`CopyBuffer`](super::copy::CopyBuffer)s, one per direction, polled in turn by one
//! future. When one direction's reader ends, its writer is shut down (the far side sees
//! end of stream), and the other direction carries on until it ends too.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::copy::CopyBuffer;
use super::{AsyncRead, AsyncWrite};

/// Where one direction stands.
#[derive(Debug)]
enum Direction {
    /// Copying.
    Running(CopyBuffer),
    /// The reader ended; shutting the writer down, then done with this many bytes.
    ShuttingDown(u64),
    /// Finished, with this many bytes.
    Done(u64),
}

/// Copies from `a` to `b` and from `b` to `a` at the same time, until both have reached
/// end of stream; shuts each writer down once its direction is done. Returns the bytes
/// copied `(a to b, b to a)`.
///
/// # Errors
///
/// The first error from any read, write or shutdown; the other direction stops then too.
///
/// # Cancel safety
///
/// Not safe, as [`copy`](super::copy).
///
/// ```
/// use asincrono::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// asincrono::block_on(async {
///     let (mut client, mut proxy_end) = io::duplex(64);
///     let (mut server_end, mut server) = io::duplex(64);
///     let proxy = asincrono::spawn(async move {
///         io::copy_bidirectional(&mut proxy_end, &mut server_end).await
///     });
///     client.write_all(b"hi").await.unwrap();
///     client.shutdown().await.unwrap();
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap();
///     server.write_all(b"bye").await.unwrap();
///     drop(server);
///     let mut answer = Vec::new();
///     client.read_to_end(&mut answer).await.unwrap();
///     assert_eq!((got, answer), (b"hi".to_vec(), b"bye".to_vec()));
///     assert_eq!(proxy.await.unwrap().unwrap(), (2, 3));
/// });
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Direction::Running(CopyBuffer::new());
    let mut b_to_a = Direction::Running(CopyBuffer::new());
    poll_fn(|cx| {
        // Poll both before looking at either result, so that both make progress.
        let a_to_b = poll_direction(cx, &mut a_to_b, &mut *a, &mut *b)?;
        let b_to_a = poll_direction(cx, &mut b_to_a, &mut *b, &mut *a)?;
        match (a_to_b, b_to_a) {
            (Poll::Ready(there), Poll::Ready(back)) => Poll::Ready(Ok((there, back))),
            _ => Poll::Pending,
        }
    })
    .await
}

fn poll_direction<R, W>(
    cx: &mut Context<'_>,
    state: &mut Direction,
    reader: &mut R,
    writer: &mut W,
) -> Poll<io::Result<u64>>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    loop {
        match state {
            Direction::Running(transit) => {
                let copied =
                    ready!(transit.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer)))?;
                *state = Direction::ShuttingDown(copied);
            }
            Direction::ShuttingDown(copied) => {
                ready!(Pin::new(&mut *writer).poll_shutdown(cx))?;
                *state = Direction::Done(*copied);
            }
            Direction::Done(copied) => return Poll::Ready(Ok(*copied)),
        }
    }
}
