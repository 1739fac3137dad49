//! `read_u8`, `read_i32`, `read_u64_le`, … : one future, [`ReadNum`], for every fixed-size
//! number, and one macro that writes the methods of [`AsyncReadExt`](super::AsyncReadExt).
//!
//! Reading a number is `read_exact` into a small array followed by `from_be_bytes` (or
//! `_le_`). tokio has a future type per number (`ReadU8`, `ReadI32`, …); asincrono has one,
//! generic over the number, that carries its decoding function. The methods and what they
//! return (`io::Result<u32>`, an `UnexpectedEof` if the stream ends inside the number) are
//! tokio's.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::retry::ready_or_retry;
use super::{AsyncRead, ReadBuf};

/// The largest number read: a `u128`.
const MAX_LEN: usize = 16;

/// Future returned by `read_u8`, `read_i32`, `read_f64_le` and the other number readers of
/// [`AsyncReadExt`](super::AsyncReadExt).
///
/// **Cancel safety:** not safe, as `read_exact`: bytes of the number already read are lost.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadNum<'a, R: ?Sized, N> {
    reader: &'a mut R,
    /// The number's bytes, as they arrive.
    bytes: [u8; MAX_LEN],
    /// How many bytes the number has.
    len: usize,
    /// How many have arrived.
    filled: usize,
    /// `from_be_bytes` or `from_le_bytes`, given exactly `len` bytes.
    decode: fn(&[u8]) -> N,
}

impl<'a, R: ?Sized, N> ReadNum<'a, R, N> {
    pub(super) fn new(reader: &'a mut R, len: usize, decode: fn(&[u8]) -> N) -> Self {
        ReadNum {
            reader,
            bytes: [0; MAX_LEN],
            len,
            filled: 0,
            decode,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized, N> Future for ReadNum<'_, R, N> {
    type Output = io::Result<N>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.filled < this.len {
            let mut unfilled = ReadBuf::new(&mut this.bytes[this.filled..this.len]);
            ready_or_retry!(Pin::new(&mut *this.reader).poll_read(cx, &mut unfilled));
            let n = unfilled.filled().len();
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            this.filled += n;
        }
        Poll::Ready(Ok((this.decode)(&this.bytes[..this.len])))
    }
}

/// Writes, inside `AsyncReadExt`, one method per `name: type = from_xx_bytes`.
macro_rules! read_num_methods {
    ($($name:ident: $ty:ty = $decode:ident, $order:literal;)*) => {$(
        #[doc = concat!("Reads a `", stringify!($ty), "` in ", $order, " byte order.")]
        ///
        /// Fails with `UnexpectedEof` if the stream ends before all its bytes arrive.
        fn $name(&mut self) -> ReadNum<'_, Self, $ty>
        where
            Self: Unpin,
        {
            ReadNum::new(self, size_of::<$ty>(), |bytes| {
                <$ty>::$decode(bytes.try_into().expect("exactly the number's size"))
            })
        }
    )*};
}
pub(super) use read_num_methods;

#[cfg(test)]
mod tests {
    use crate::io::AsyncReadExt;
    use crate::io::test_support::{ChunkedReader, block_on_checked};

    #[test]
    fn numbers_are_read_across_chunks_in_both_orders() {
        let mut reader = ChunkedReader::new(*b"\x01\x02\x03\x04\x01\x02\xff", 1);
        assert_eq!(block_on_checked(reader.read_u32()).unwrap(), 0x0102_0304);
        assert_eq!(block_on_checked(reader.read_u16_le()).unwrap(), 0x0201);
        assert_eq!(block_on_checked(reader.read_i8()).unwrap(), -1);
        let error = block_on_checked(reader.read_u8()).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn floats_and_wide_integers() {
        let mut data = 1.5f64.to_le_bytes().to_vec();
        data.extend_from_slice(&u128::MAX.to_be_bytes());
        let mut reader = &data[..];
        assert_eq!(block_on_checked(reader.read_f64_le()).unwrap(), 1.5);
        assert_eq!(block_on_checked(reader.read_u128()).unwrap(), u128::MAX);
    }
}
