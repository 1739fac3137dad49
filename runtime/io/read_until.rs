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

/// What to do with the bytes read so far when the read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnReadError {
    /// Append them if they are UTF-8 (`read_line`, as tokio).
    KeepValidText,
    /// Leave the string as it was (`read_to_string`, as tokio).
    LeaveUnchanged,
}

/// Ends a read into a `String`: appends `bytes` if they are UTF-8 and returns their count,
/// or returns the read's error, or an `InvalidData` error that wraps the `Utf8Error` of
/// the whole string (so `valid_up_to` counts the text that was already there). On a UTF-8
/// error the string is unchanged.
pub(crate) fn finish_text_read(
    output: &mut String,
    bytes: Vec<u8>,
    read: io::Result<()>,
    on_error: OnReadError,
) -> io::Result<usize> {
    match (std::str::from_utf8(&bytes), read) {
        (Ok(text), Ok(())) => {
            output.push_str(text);
            Ok(text.len())
        }
        (Ok(text), Err(error)) => {
            if on_error == OnReadError::KeepValidText {
                output.push_str(text);
            }
            Err(error)
        }
        (Err(_), Err(error)) => Err(error),
        (Err(_), Ok(())) => {
            let mut whole = output.as_bytes().to_vec();
            whole.extend_from_slice(&bytes);
            let error = std::str::from_utf8(&whole).expect_err("the new bytes are not UTF-8");
            Err(io::Error::new(io::ErrorKind::InvalidData, error))
        }
    }
}

/// Checks that `bytes` are UTF-8, reporting failure as an I/O error.
pub(crate) fn bytes_to_string(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}
