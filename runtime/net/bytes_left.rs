//! Asking TCP how many bytes a read left behind (`TCP_INQ`), so that a read which filled
//! its buffer exactly need not be followed by one that only says `WouldBlock`.
//!
//! With edge-triggered readiness, a read that returns less than asked for has emptied the
//! kernel's buffer (`short_of` in `registered.rs`). A read that fills the buffer exactly
//! says nothing: more may be waiting, and no new event will come for bytes that are already
//! there. So the next read must try, and when the peer is only waiting for an answer (a
//! request and its reply, a header and then its body), that try is a system call that
//! returns `WouldBlock`. `read_exact` of 64 bytes at a time makes one wasted `recv` for
//! every useful one: a third of `tcp_echo`'s system calls.
//!
//! Linux answers the question for TCP: with the socket option `TCP_INQ` on, each `recvmsg`
//! that brings a control buffer gets a `TCP_CM_INQ` message back, the count of bytes still
//! queued after the read. Zero means emptied, exactly as a short read does. After the peer's
//! FIN the kernel says 1, not 0, so that the end of the stream is still read as `Ok(0)`.
//!
//! The option is asked for lazily. `recvmsg` with a control buffer costs more than a plain
//! `recv` (the kernel copies the header in and the message out: about a fifth more per
//! read in a `perf` profile of `tcp_echo`), which a server whose reads come up short
//! would pay for nothing. So a stream starts with `recv`, and only its first exact fill
//! turns the option on, for the rest of its life (`Registered::poll_read`).
//!
//! The corner cut: Linux TCP only. Unix sockets and pipes have no such message (only the
//! `FIONREAD` ioctl, a system call of its own, no cheaper than the `WouldBlock`), and a
//! datagram socket has none either. tokio does not do this: it tries again and gets
//! `WouldBlock` (chapter 12).

use super::sockopt;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};

/// Turns on `TCP_INQ` for `socket`: from now on each [`recv_telling_left`] learns how many
/// bytes it left queued.
pub(crate) fn ask_for_bytes_left(socket: &impl AsFd) -> io::Result<()> {
    sockopt::set_flag(socket, libc::IPPROTO_TCP, libc::TCP_INQ, true)
}

/// Room for one control message carrying a `c_int`: `CMSG_SPACE(4)` is 24 bytes on 64-bit
/// Linux (a 16-byte header, the value, padding to 8). `u64`s, because the kernel lays the
/// header out aligned to 8.
type ControlBuffer = [u64; 4];

/// One `recvmsg` into `into`: the count of bytes written at its front, and the bytes the
/// kernel says it left queued, `None` if it said nothing (`TCP_INQ` off, or the message
/// did not fit beside another the caller asked for).
pub(crate) fn recv_telling_left(
    socket: &impl AsFd,
    into: &mut [MaybeUninit<u8>],
) -> io::Result<(usize, Option<usize>)> {
    let mut part = libc::iovec {
        iov_base: into.as_mut_ptr().cast(),
        iov_len: into.len(),
    };
    let mut control: ControlBuffer = [0; 4];
    // SAFETY: `msghdr` is a C struct of integers and pointers (and, on some libcs, private
    // padding), for which all zeroes is a valid value: no name, no parts, no control.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut part;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = size_of::<ControlBuffer>() as _;
    let fd = socket.as_fd().as_raw_fd();
    // SAFETY: `fd` is open for the call (borrowed from `socket`). `message` points at one
    // part, `into`, memory we borrow mutably, which the kernel writes at most `iov_len`
    // bytes of and does not read; and at `control`, whose length `msg_controllen` gives
    // and which the kernel only writes. All three outlive the call.
    let received = unsafe { libc::recvmsg(fd, &mut message, 0) };
    let count = usize::try_from(received).map_err(|_| io::Error::last_os_error())?;
    Ok((count, bytes_left_in(&message)))
}

/// The count in the `TCP_CM_INQ` message among `message`'s control messages, if there is
/// one.
fn bytes_left_in(message: &libc::msghdr) -> Option<usize> {
    // SAFETY: `message` is the header `recvmsg` just filled in: its control pointer and
    // length describe our live buffer, in which the kernel wrote whole messages, each with
    // a correct `cmsg_len`. `CMSG_FIRSTHDR` and `CMSG_NXTHDR` only do arithmetic on those
    // and stop (null) before the end of the buffer.
    let mut header = unsafe { libc::CMSG_FIRSTHDR(message) };
    while !header.is_null() {
        // SAFETY: a non-null header from the two macros lies wholly inside the buffer.
        let found = unsafe { &*header };
        let value_fits = found.cmsg_len as usize >= size_of::<libc::cmsghdr>() + 4;
        if found.cmsg_level == libc::SOL_TCP && found.cmsg_type == libc::TCP_CM_INQ && value_fits {
            // SAFETY: the message holds at least a `c_int` after its header (just checked),
            // at `CMSG_DATA`; it may be unaligned for `c_int`, hence `read_unaligned`.
            let left = unsafe {
                libc::CMSG_DATA(header)
                    .cast::<libc::c_int>()
                    .read_unaligned()
            };
            return usize::try_from(left).ok();
        }
        // SAFETY: as for `CMSG_FIRSTHDR` above; `header` is one of this buffer's messages.
        header = unsafe { libc::CMSG_NXTHDR(message, header) };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    /// A connected pair of blocking TCP streams on loopback, writer then reader; the reader
    /// has `TCP_INQ` on if `asking`.
    fn pair(asking: bool) -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (reader, _) = listener.accept().unwrap();
        if asking {
            ask_for_bytes_left(&reader).unwrap();
        }
        (writer, reader)
    }

    /// Reads up to `len` bytes once, waiting (blocking) until some are there.
    fn read(reader: &TcpStream, len: usize) -> (Vec<u8>, Option<usize>) {
        let mut memory = vec![MaybeUninit::<u8>::uninit(); len];
        let (count, left) = recv_telling_left(reader, &mut memory).unwrap();
        // SAFETY: `recv_telling_left` says the kernel wrote the first `count` bytes.
        let bytes = memory[..count]
            .iter()
            .map(|byte| unsafe { byte.assume_init() });
        (bytes.collect(), left)
    }

    #[test]
    fn an_exact_fill_learns_what_is_left() {
        let (mut writer, reader) = pair(true);
        writer.write_all(b"0123456789").unwrap();
        // Loopback has queued all ten bytes at the reader by the time `write_all` returns.
        let (first, left_after_first) = read(&reader, 4);
        assert_eq!(first, b"0123");
        let (rest, left_after_rest) = read(&reader, 6);
        assert_eq!(rest, b"456789");
        assert_eq!(left_after_first, Some(6));
        assert_eq!(left_after_rest, Some(0));
    }

    #[test]
    fn without_the_option_the_kernel_says_nothing() {
        let (mut writer, reader) = pair(false);
        writer.write_all(b"abc").unwrap();
        assert_eq!(read(&reader, 3), (b"abc".to_vec(), None));
    }

    #[test]
    fn after_the_peers_close_what_is_left_is_not_zero() {
        let (mut writer, reader) = pair(true);
        writer.write_all(b"last").unwrap();
        drop(writer);
        // Zero would mean "emptied, wait for the next event", and none would come: the
        // kernel says 1 so that the reader goes on to read the end of the stream.
        let (last, left) = read(&reader, 4);
        assert_eq!(last, b"last");
        assert_eq!(left, Some(1));
        assert_eq!(read(&reader, 4), (Vec::new(), Some(1)));
    }
}
