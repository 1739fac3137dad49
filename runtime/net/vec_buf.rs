//! Receiving into the spare capacity of a `Vec<u8>`: what `try_read_buf`, `recv_buf` and
//! `recv_buf_from` do; and into a [`ReadBuf`], for the `poll_recv` family.
//!
//! tokio's versions take any `bytes::BufMut` and receive into its uninitialised spare
//! memory. asincrono has no `bytes` dependency and no `unsafe` here, so it takes a
//! `Vec<u8>` and zeroes the spare capacity first (one `memset` per call), then keeps only
//! the bytes received. Like a `BufMut`, a full vector grows a little first.

use crate::io::ReadBuf;
use std::io;
use std::task::{Poll, ready};

/// How much a full vector grows before a receive (tokio's `Vec` `BufMut` grows by 64 too).
const GROW_WHEN_FULL: usize = 64;

/// Runs `receive` on the spare capacity of `buf` and appends what it received: `receive`
/// returns the byte count and whatever else it learned (the sender's address, say).
pub(crate) fn receive_into_spare<R>(
    buf: &mut Vec<u8>,
    receive: impl FnOnce(&mut [u8]) -> io::Result<(usize, R)>,
) -> io::Result<(usize, R)> {
    if buf.len() == buf.capacity() {
        buf.reserve(GROW_WHEN_FULL);
    }
    let filled = buf.len();
    buf.resize(buf.capacity(), 0);
    let result = receive(&mut buf[filled..]);
    let received = result.as_ref().map_or(0, |(n, _)| *n);
    buf.truncate(filled + received);
    result
}

/// Runs `receive`, a receive written over a plain `&mut [u8]`, on the unfilled part of
/// `buf` (initialised first, as every read over a slice is) and counts what it received as
/// filled; returns what else it learned (the sender's address, say).
pub(crate) fn receive_into_read_buf<R>(
    buf: &mut ReadBuf<'_>,
    receive: impl FnOnce(&mut [u8]) -> Poll<io::Result<(usize, R)>>,
) -> Poll<io::Result<R>> {
    let (n, learned) = ready!(receive(buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(learned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_what_was_received_and_keeps_what_was_there() {
        let mut buf = Vec::with_capacity(8);
        buf.push(1);
        let (n, ()) = receive_into_spare(&mut buf, |spare| {
            assert_eq!(spare.len(), 7);
            spare[..2].copy_from_slice(&[2, 3]);
            Ok((2, ()))
        })
        .unwrap();
        assert_eq!((n, &buf[..]), (2, &[1, 2, 3][..]));
    }

    #[test]
    fn a_failed_receive_leaves_the_vector_as_it_was() {
        let mut buf = vec![7];
        let err = receive_into_spare::<()>(&mut buf, |spare| {
            assert!(spare.len() >= GROW_WHEN_FULL, "a full vector grows first");
            Err(io::ErrorKind::WouldBlock.into())
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(buf, [7]);
    }
}
