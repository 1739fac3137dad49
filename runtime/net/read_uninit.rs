//! Reading from a socket or pipe straight into memory that nobody has initialised.
//!
//! `std::io::Read::read` takes a `&mut [u8]`, and a `&mut [u8]` may only point at
//! initialised bytes. So a reader handed a [`ReadBuf`] over fresh memory (hyper's read
//! buffer, or the spare room of a `Vec` or `BytesMut` given to `read_buf`) would have to
//! zero all of that room first, with `initialize_unfilled`, only for the kernel to write
//! over the front of it. hyper hands over fresh memory at every read: serving `GET /`
//! through hyper on two workers, that zeroing was 3 to 5% of the server's CPU (a `perf`
//! profile, `memset` under `read_into_unfilled`).
//!
//! The kernel's `read` takes a raw pointer and only ever writes through it. So this file
//! calls it directly, on the descriptor, and the caller marks as initialised exactly the
//! bytes it reports. That is what std's `Read::read_buf` will do once its `BorrowedCursor`
//! is stable; until then, `libc`. tokio instead turns the `&mut [MaybeUninit<u8>]` into a
//! `&mut [u8]` and passes it to mio's `read`, trusting the read not to look at the bytes.
//!
//! The corner cut: Unix only, like the rest of asincrono.

use crate::io::ReadBuf;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::task::{Poll, ready};

// ANCHOR: read_uninit
/// One `read(2)` of `source` into `into`, which need not be initialised. `Ok(n)`: the
/// kernel has written the first `n` bytes of `into` (`n` is at most its length).
pub(crate) fn read_uninit(
    source: &impl AsRawFd,
    into: &mut [MaybeUninit<u8>],
) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `into`, memory we borrow mutably for the whole
    // call; `read` writes at most `len` bytes there, reads none of them, and touches nothing
    // else of ours. A bad descriptor is an error (`EBADF`), not undefined behaviour.
    let read = unsafe { libc::read(source.as_raw_fd(), into.as_mut_ptr().cast(), into.len()) };
    usize::try_from(read).map_err(|_| io::Error::last_os_error())
}
// ANCHOR_END: read_uninit

/// Runs `read`, which reads with [`read_uninit`] and returns its count, on the unfilled part
/// of `buf`, without zeroing it first, and counts the bytes read as filled.
///
/// `read` must return only what `read_uninit` returned for the slice it was given: the
/// count of bytes written at its front. The callers in this crate pass a closure that does
/// exactly that (through the readiness loop, which only forwards the result).
pub(crate) fn read_into_uninit(
    buf: &mut ReadBuf<'_>,
    read: impl FnOnce(&mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    // SAFETY: `unfilled_mut` asks that no byte be de-initialised. The slice goes only to
    // `read_uninit`, which lets the kernel write into it, and writing never de-initialises.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = ready!(read(unfilled))?;
    // SAFETY: `n` is `read_uninit`'s count (the contract above): the kernel has written the
    // first `n` bytes of the unfilled region, which is what `assume_init` asks.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn bytes_land_in_uninitialised_memory_and_only_they_count() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        writer.write_all(b"hello").unwrap();
        let mut memory = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut memory);
        let done = read_into_uninit(&mut buf, |into| Poll::Ready(read_uninit(&reader, into)));
        assert!(matches!(done, Poll::Ready(Ok(()))));
        assert_eq!(buf.filled(), b"hello");
        // Nothing past what the kernel wrote was marked initialised.
        assert_eq!(buf.initialized().len(), 5);
    }

    #[test]
    fn a_read_after_filled_bytes_appends_to_them() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        writer.write_all(b" world").unwrap();
        let mut memory = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut memory);
        buf.put_slice(b"hello");
        let done = read_into_uninit(&mut buf, |into| Poll::Ready(read_uninit(&reader, into)));
        assert!(matches!(done, Poll::Ready(Ok(()))));
        assert_eq!(buf.filled(), b"hello world");
    }

    #[test]
    fn an_error_fills_nothing() {
        let (writer, reader) = UnixStream::pair().unwrap();
        reader.set_nonblocking(true).unwrap();
        let mut memory = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut memory);
        let done = read_into_uninit(&mut buf, |into| Poll::Ready(read_uninit(&reader, into)));
        match done {
            Poll::Ready(Err(err)) => assert_eq!(err.kind(), io::ErrorKind::WouldBlock),
            other => panic!("expected WouldBlock, got {other:?}"),
        }
        assert!(buf.filled().is_empty());
        assert!(buf.initialized().is_empty());
        drop(writer);
    }
}
