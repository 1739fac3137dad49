//! `AsyncReadExt::read_buf`: one read into the spare capacity of a `Vec<u8>`, appended.
//!
//! It is the cheap way to read into a growing buffer: the spare capacity goes to the reader
//! uninitialised (a `ReadBuf` over it, `read_buf.rs`), so nothing is zeroed first, and the
//! vector's length grows by what the reader filled.
//!
//! The corner it cuts: tokio's `read_buf` takes any `bytes::BufMut`; asincrono has no
//! `bytes` dependency, so it takes a `Vec<u8>`, the one `BufMut` std has. A call with a
//! `Vec` compiles against both. Like `BufMut for Vec`, a full vector first grows by 64 bytes.

use super::read_buf::read_into_spare_capacity;
use super::{AsyncRead, ReadBuf};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How much a full vector grows before the read (as `bytes`' `BufMut for Vec<u8>`).
const GROW_WHEN_FULL: usize = 64;

/// Future of [`AsyncReadExt::read_buf`](super::AsyncReadExt::read_buf): how many bytes one
/// read appended (`0` at end of stream).
///
/// **Cancel safety:** safe: a read that completed has already appended its bytes, and a
/// dropped future read nothing.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadIntoVec<'a, R: ?Sized> {
    pub(super) reader: &'a mut R,
    pub(super) buf: &'a mut Vec<u8>,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadIntoVec<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() == this.buf.capacity() {
            this.buf.reserve(GROW_WHEN_FULL);
        }
        let room = this.buf.capacity() - this.buf.len();
        let reader = &mut *this.reader;
        // A fresh count of initialised spare bytes: this future reads once.
        read_into_spare_capacity(this.buf, &mut 0, room, |spare: &mut ReadBuf<'_>| {
            Pin::new(reader).poll_read(cx, spare)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::io::AsyncReadExt;
    use crate::io::test_support::block_on_checked;

    #[test]
    fn appends_one_read_to_what_the_vector_held() {
        let mut source: &[u8] = b"world";
        let mut buf = b"hello ".to_vec();
        let n = block_on_checked(source.read_buf(&mut buf)).unwrap();
        assert_eq!(n, 5);
        assert_eq!(buf, b"hello world");
        assert_eq!(
            block_on_checked(source.read_buf(&mut buf)).unwrap(),
            0,
            "end of stream"
        );
    }

    #[test]
    fn a_vector_with_no_room_grows_first() {
        let mut source: &[u8] = &[7; 100];
        let mut buf = Vec::new();
        let n = block_on_checked(source.read_buf(&mut buf)).unwrap();
        assert_eq!(n, 64, "one read, into the 64 bytes the vector grew by");
        assert!(buf.iter().all(|&byte| byte == 7));
    }
}
