//! [`sink`]: a writer that accepts every byte and keeps none, like `std::io::sink`.
//!
//! It is always ready, so each write spends one unit of the task's cooperative budget: a
//! loop writing into it still lets the other tasks run (tokio does the same).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::AsyncWrite;

/// A writer that throws away everything written to it. Made by [`sink`].
#[derive(Default)]
pub struct Sink {
    _private: (),
}

/// A writer that accepts every byte and discards it.
///
/// ```
/// use asincrono::io::{self, AsyncWriteExt};
///
/// asincrono::block_on(async {
///     let mut sink = io::sink();
///     assert_eq!(sink.write(b"gone").await.unwrap(), 4);
/// });
/// ```
pub fn sink() -> Sink {
    Sink::default()
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(crate::task::poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sink { .. }")
    }
}
