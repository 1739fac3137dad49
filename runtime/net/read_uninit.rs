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
//! The kernel's `recv` and `read` take a raw pointer and only ever write through it. So this
//! file calls them directly, on the descriptor, and the caller marks as initialised exactly
//! the bytes they report. That is what std's `Read::read_buf` will do once its
//! `BorrowedCursor` is stable; until then, `libc`. tokio instead turns the
//! `&mut [MaybeUninit<u8>]` into a `&mut [u8]` and passes it to mio's `read`, trusting the
//! read not to look at the bytes.
//!
//! A socket is read with `recv`, as std reads its sockets: `read(2)` on a socket takes a
//! longer way through the kernel's file layer (`vfs_read`, `sock_read_iter`), which a
//! `perf` profile of `tcp_echo` showed as soon as the first version of this file used it.
//! A pipe is not a socket (`recv` would fail with `ENOTSOCK`), so it gets `read(2)`.
//!
//! The corner cut: Unix only, like the rest of asincrono.

use crate::io::ReadBuf;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::task::{Poll, ready};

// ANCHOR: read_uninit
/// A stream the kernel can read into memory that is not initialised.
pub(crate) trait ReadUninit {
    /// Whether this kind of stream reads ahead of its caller (`read_ahead.rs`).
    const READS_AHEAD: bool;

    /// One read into `into`. `Ok(n)`: the kernel has written the first `n` bytes of `into`
    /// (`n` is at most its length), and nothing else of it.
    fn read_uninit(&self, into: &mut [MaybeUninit<u8>]) -> io::Result<usize>;
}

impl ReadUninit for mio::net::TcpStream {
    const READS_AHEAD: bool = true;

    fn read_uninit(&self, into: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        // SAFETY: the pointer and length describe `into`, memory we borrow mutably for the
        // whole call; `recv` writes at most `len` bytes there, reads none of them, and
        // touches nothing else of ours. A bad descriptor is an error, not undefined behaviour.
        let read = unsafe { libc::recv(self.as_raw_fd(), into.as_mut_ptr().cast(), into.len(), 0) };
        count_or_error(read)
    }
}

impl ReadUninit for mio::net::UnixStream {
    const READS_AHEAD: bool = true;

    fn read_uninit(&self, into: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        // SAFETY: as for `TcpStream` just above: a `recv` into memory we borrow mutably.
        let read = unsafe { libc::recv(self.as_raw_fd(), into.as_mut_ptr().cast(), into.len(), 0) };
        count_or_error(read)
    }
}

impl ReadUninit for mio::unix::pipe::Receiver {
    /// A pipe end is often handed on whole (a child's output becomes another's input, or
    /// the caller takes the descriptor back): the next reader must find every byte in the
    /// kernel, so a pipe holds none.
    const READS_AHEAD: bool = false;

    fn read_uninit(&self, into: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        // SAFETY: as for `recv` above: `read` writes at most `len` bytes into memory we
        // borrow mutably for the call, and reads none of them.
        let read = unsafe { libc::read(self.as_raw_fd(), into.as_mut_ptr().cast(), into.len()) };
        count_or_error(read)
    }
}
// ANCHOR_END: read_uninit

/// A system call's result: the count, or (for -1) the error it left in `errno`.
fn count_or_error(result: isize) -> io::Result<usize> {
    usize::try_from(result).map_err(|_| io::Error::last_os_error())
}

/// Runs `read`, which reads with [`ReadUninit::read_uninit`] and returns its count, on the
/// unfilled part of `buf`, without zeroing it first, and counts the bytes read as filled.
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

    /// One read of `from` into `buf` through `read_into_uninit`, as `Registered` does it.
    fn read_once(from: &impl ReadUninit, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        match read_into_uninit(buf, |into| Poll::Ready(from.read_uninit(into))) {
            Poll::Ready(result) => result,
            Poll::Pending => unreachable!("the closure never returns Pending"),
        }
    }

    /// Writes `bytes` into `writer`, then reads `reader` once into 64 bytes of fresh memory:
    /// what the read filled, and how many bytes the buffer counts as initialised afterwards.
    fn written_then_read(
        mut writer: impl Write,
        reader: &impl ReadUninit,
        bytes: &[u8],
    ) -> (Vec<u8>, usize) {
        writer.write_all(bytes).unwrap();
        let mut memory = [MaybeUninit::<u8>::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut memory);
        read_once(reader, &mut buf).unwrap();
        (buf.filled().to_vec(), buf.initialized().len())
    }

    #[test]
    fn bytes_land_in_uninitialised_memory_and_only_they_count() {
        let (writer, reader) = mio::net::UnixStream::pair().unwrap();
        // Nothing past what the kernel wrote is marked initialised.
        assert_eq!(
            written_then_read(writer, &reader, b"hello"),
            (b"hello".to_vec(), 5)
        );
    }

    #[test]
    fn a_read_after_filled_bytes_appends_to_them() {
        let (mut writer, reader) = mio::net::UnixStream::pair().unwrap();
        writer.write_all(b" world").unwrap();
        let mut memory = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut memory);
        buf.put_slice(b"hello");
        read_once(&reader, &mut buf).unwrap();
        assert_eq!(buf.filled(), b"hello world");
    }

    #[test]
    fn a_pipe_is_read_too_though_it_is_no_socket() {
        let (writer, reader) = mio::unix::pipe::new().unwrap();
        let read = written_then_read(writer, &reader, b"through a pipe");
        assert_eq!(read, (b"through a pipe".to_vec(), 14));
    }

    #[test]
    fn an_error_fills_nothing() {
        let (_writer, reader) = mio::net::UnixStream::pair().unwrap(); // non-blocking, empty
        let mut memory = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut memory);
        let err = read_once(&reader, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(buf.filled().is_empty());
        assert!(buf.initialized().is_empty());
    }
}
