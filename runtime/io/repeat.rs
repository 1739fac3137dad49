//! [`repeat`]: a reader that gives one byte over and over, never ending, like
//! `std::io::repeat`.
//!
//! It fills whatever room it is given and is always ready, so each read spends one unit
//! of the cooperative budget (as tokio): `read_to_end` on it still lets other tasks run.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{AsyncRead, ReadBuf};

/// An endless reader of one byte. Made by [`repeat`].
#[derive(Debug)]
pub struct Repeat {
    byte: u8,
}

/// A reader that yields `byte` forever.
///
/// ```
/// use asincrono::io::{self, AsyncReadExt};
///
/// asincrono::block_on(async {
///     let mut buf = [0; 3];
///     io::repeat(b'z').read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"zzz");
/// });
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(crate::task::poll_proceed(cx));
        let byte = self.byte;
        let n = buf.remaining();
        buf.initialize_unfilled().fill(byte);
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}
