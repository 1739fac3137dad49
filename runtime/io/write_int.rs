//! `write_u8`, `write_i32`, `write_u64_le`, … : one future, [`WriteNum`], for every
//! fixed-size number, and one macro that writes the methods of
//! [`AsyncWriteExt`](super::AsyncWriteExt).
//!
//! Writing a number is `to_be_bytes` (or `_le_`) followed by `write_all`. tokio has a future
//! type per number; asincrono has one, which holds the encoded bytes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncWrite;
use super::retry::ready_or_retry;

/// The largest number written: a `u128`.
const MAX_LEN: usize = 16;

/// Future returned by `write_u8`, `write_i32`, `write_f64_le` and the other number writers
/// of [`AsyncWriteExt`](super::AsyncWriteExt).
///
/// **Cancel safety:** not safe, as `write_all`: a prefix of the number may be written.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct WriteNum<'a, W: ?Sized> {
    writer: &'a mut W,
    /// The encoded number.
    bytes: [u8; MAX_LEN],
    /// How many bytes it has.
    len: usize,
    /// How many are written.
    written: usize,
}

impl<'a, W: ?Sized> WriteNum<'a, W> {
    pub(super) fn new(writer: &'a mut W, encoded: &[u8]) -> Self {
        let mut bytes = [0; MAX_LEN];
        bytes[..encoded.len()].copy_from_slice(encoded);
        WriteNum {
            writer,
            bytes,
            len: encoded.len(),
            written: 0,
        }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteNum<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.written < this.len {
            let rest = &this.bytes[this.written..this.len];
            let n = ready_or_retry!(Pin::new(&mut *this.writer).poll_write(cx, rest));
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// Writes, inside `AsyncWriteExt`, one method per `name: type = to_xx_bytes`.
macro_rules! write_num_methods {
    ($($name:ident: $ty:ty = $encode:ident, $order:literal;)*) => {$(
        #[doc = concat!("Writes a `", stringify!($ty), "` in ", $order, " byte order.")]
        fn $name(&mut self, n: $ty) -> WriteNum<'_, Self>
        where
            Self: Unpin,
        {
            WriteNum::new(self, &n.$encode())
        }
    )*};
}
pub(super) use write_num_methods;

#[cfg(test)]
mod tests {
    use crate::io::AsyncWriteExt;
    use crate::io::test_support::{ChunkedWriter, block_on_checked};

    #[test]
    fn numbers_are_written_whole_in_both_orders() {
        let mut writer = ChunkedWriter::new(1);
        block_on_checked(writer.write_u32(0x0102_0304)).unwrap();
        block_on_checked(writer.write_i16_le(-2)).unwrap();
        block_on_checked(writer.write_f32(1.0)).unwrap();
        let mut expected = vec![1, 2, 3, 4, 0xfe, 0xff];
        expected.extend_from_slice(&1.0f32.to_be_bytes());
        assert_eq!(writer.written(), expected);
    }
}
