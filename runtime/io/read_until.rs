//! The loop under every delimiter-oriented read: `read_until`, `read_line` and `Lines` all
//! move bytes out of an [`AsyncBufRead`]'s buffer up to a delimiter with [`poll_read_until`].
//!
//! It has a file of its own so that `buf_read_ext.rs` (which returns a `Lines`) and
//! `lines.rs` (which reads with this loop) need not import each other. tokio shares the same
//! kind of helper between its `read_until`, `read_line` and `Lines`.

use super::AsyncBufRead;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Moves bytes from `reader` to the end of `out`, up to and including
/// `delimiter`, or up to end of stream. Shared by `read_until`, `read_line`
/// and `Lines`.
pub(crate) fn poll_read_until<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    delimiter: u8,
    out: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        // The buffer borrows `reader`, so finish with it in this block
        // before calling `consume`.
        let (used, finished) = {
            let available = ready!(Pin::new(&mut *reader).poll_fill_buf(cx))?;
            match available.iter().position(|&byte| byte == delimiter) {
                Some(index) => {
                    out.extend_from_slice(&available[..=index]);
                    (index + 1, true)
                }
                None => {
                    out.extend_from_slice(available);
                    // An empty buffer means end of stream.
                    (available.len(), available.is_empty())
                }
            }
        };
        Pin::new(&mut *reader).consume(used);
        if finished {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Checks that `bytes` are UTF-8, reporting failure as an I/O error.
pub(crate) fn bytes_to_string(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}
