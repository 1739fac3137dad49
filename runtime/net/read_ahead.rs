//! Reading a little ahead, so that a read which fills its buffer exactly can still tell
//! whether it emptied the socket.
//!
//! A stream read that gets fewer bytes than it asked for has emptied the kernel's buffer,
//! and `short_of` (`registered.rs`) clears the readiness at once. A read that fills its
//! buffer exactly cannot tell. More bytes may be waiting, and edge-triggered epoll will not
//! report them again, so the readiness has to stay, and the next read makes a system call
//! only to hear `WouldBlock`. A protocol read in small exact pieces (`read_exact` of a
//! 64-byte message, a length prefix) pays that call once per piece: in the benchmark's
//! `tcp_echo`, 40,000 of its 120,000 system calls.
//!
//! So a small read offers the kernel a second buffer in the same `readv`: this stream's
//! [`SPARE`] bytes. If the kernel fills less than both, the socket is empty, and the
//! readiness is cleared as after a short read. Bytes that landed in the spare buffer are
//! held here, and the stream's next read takes them without a system call.
//!
//! When. Only sockets read ahead: a pipe may be handed to another process, which must find
//! every byte in the kernel (`ReadUninit::READS_AHEAD`). And a socket only starts once a
//! read has filled a buffer smaller than [`SPARE`] exactly; from then on, each of its
//! reads of fewer than [`SPARE`] bytes goes through the spare buffer. A stream read with
//! large buffers (hyper's, `BufReader`'s 8 KiB) never allocates one.
//!
//! The price: held bytes are no longer in the kernel, so whoever reads the descriptor
//! directly would miss them. Every read of the stream (`read`, `try_read`, `peek`) takes
//! its bytes under one lock, held bytes first, and its readiness counts them. What asincrono
//! cannot see is refused rather than left to lose bytes:
//! - `try_io`/`async_io` for reading stop the reading ahead for good, and fail while bytes
//!   are held (take them with `try_read` first);
//! - `into_std` fails while bytes are held.
//!
//! tokio reads nothing ahead. Its sockets never hold bytes, and a caller who wants fewer
//! system calls wraps the stream in a `BufReader`. Chapter 6 has the figures, chapter 12
//! the difference.

use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many bytes a stream may read ahead of its caller, and the size below which a read
/// counts as small.
pub(crate) const SPARE: usize = 512;

// ANCHOR: read_ahead
/// The bytes a stream has read ahead of its caller, and whether it reads ahead at all.
pub(crate) struct ReadAhead(Mutex<Held>);

/// What the lock guards. Holding the lock is the right to read the stream next: a read
/// takes the held bytes, or makes its system call, while no other read can.
pub(crate) struct Held {
    mode: Mode,
    /// Allocated when the stream starts reading ahead.
    spare: Option<Box<[u8; SPARE]>>,
    /// The bytes held are `spare[start..end]`.
    start: usize,
    end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// No small read has filled its buffer exactly yet.
    NotYet,
    /// Small reads go through the spare buffer.
    On,
    /// The caller reads the descriptor itself (`try_io`): never again.
    Stopped,
}
// ANCHOR_END: read_ahead

impl ReadAhead {
    /// A stream that holds nothing and does not read ahead yet.
    pub(crate) const fn new() -> ReadAhead {
        ReadAhead(Mutex::new(Held {
            mode: Mode::NotYet,
            spare: None,
            start: 0,
            end: 0,
        }))
    }

    /// The right to read next. Nothing panics while holding the lock, but if something
    /// did, the counts would still describe the buffer, so a poisoned lock is used as is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many bytes are held.
    pub(crate) fn held(&self) -> usize {
        self.lock().len()
    }

    /// Stops reading ahead for good, because the caller is about to read the descriptor
    /// itself; fails, holding on to the bytes, if some are held.
    pub(crate) fn stop(&self) -> io::Result<()> {
        let mut held = self.lock();
        held.mode = Mode::Stopped;
        match held.len() {
            0 => Ok(()),
            count => Err(io::Error::other(format!(
                "this stream has read {count} bytes ahead, which reading its descriptor \
                 directly would skip: take them with `try_read` first"
            ))),
        }
    }

    /// Fails if bytes are held, which a `std` stream made of the descriptor would not have.
    pub(crate) fn check_nothing_held(&self) -> io::Result<()> {
        match self.held() {
            0 => Ok(()),
            count => Err(io::Error::other(format!(
                "this stream has read {count} bytes ahead, which the std stream would not \
                 have: read them before `into_std`"
            ))),
        }
    }
}

impl Held {
    /// How many bytes are held.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Up to `max` of the held bytes, taken: the next call starts after them.
    pub(crate) fn take(&mut self, max: usize) -> &[u8] {
        let count = self.len().min(max);
        let start = self.start;
        self.start += count;
        self.bytes(start, count)
    }

    /// Up to `max` of the held bytes, left held (`peek`).
    pub(crate) fn peek(&self, max: usize) -> &[u8] {
        self.bytes(self.start, self.len().min(max))
    }

    fn bytes(&self, start: usize, count: usize) -> &[u8] {
        match &self.spare {
            Some(spare) => &spare[start..start + count],
            None => &[],
        }
    }

    /// The spare buffer, if a read of `wanted` bytes should offer it to the kernel: the
    /// stream reads ahead and the read is small. Only called with nothing held.
    pub(crate) fn spare_for(&mut self, wanted: usize) -> Option<&mut [u8; SPARE]> {
        debug_assert_eq!(self.len(), 0, "held bytes go to the caller before any read");
        if self.mode == Mode::On && wanted < SPARE {
            self.spare.as_deref_mut()
        } else {
            None
        }
    }

    /// After a read through the spare buffer: its first `count` bytes are held.
    pub(crate) fn hold(&mut self, count: usize) {
        (self.start, self.end) = (0, count);
    }

    /// After a read that did not offer the spare buffer, of `read` bytes into a buffer of
    /// `wanted`: a small buffer filled exactly is what makes a stream start reading ahead.
    pub(crate) fn after_plain_read(&mut self, wanted: usize, read: usize) {
        if self.mode == Mode::NotYet && read == wanted && (1..SPARE).contains(&wanted) {
            self.mode = Mode::On;
            self.spare = Some(Box::new([0; SPARE]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that has started reading ahead and holds `bytes`.
    fn holding(bytes: &[u8]) -> ReadAhead {
        let ahead = ReadAhead::new();
        let mut held = ahead.lock();
        held.after_plain_read(8, 8);
        let spare = held.spare_for(8).expect("on after an exact small read");
        spare[..bytes.len()].copy_from_slice(bytes);
        held.hold(bytes.len());
        drop(held);
        ahead
    }

    #[test]
    fn only_a_small_buffer_filled_exactly_starts_reading_ahead() {
        for (wanted, read) in [(8, 7), (0, 0), (SPARE, SPARE), (8192, 8192)] {
            let ahead = ReadAhead::new();
            let mut held = ahead.lock();
            held.after_plain_read(wanted, read);
            assert!(held.spare_for(8).is_none(), "{read} of {wanted}");
        }
        let ahead = ReadAhead::new();
        let mut held = ahead.lock();
        held.after_plain_read(64, 64);
        assert!(held.spare_for(64).is_some());
        assert!(
            held.spare_for(SPARE).is_none(),
            "a large read goes straight in"
        );
    }

    #[test]
    fn held_bytes_are_taken_in_order_and_peeking_leaves_them() {
        let ahead = holding(b"abcdef");
        let mut held = ahead.lock();
        assert_eq!(held.peek(4), b"abcd");
        assert_eq!(held.take(4), b"abcd");
        assert_eq!(held.peek(100), b"ef");
        assert_eq!(held.take(100), b"ef");
        assert_eq!((held.len(), held.take(100)), (0, &[][..]));
    }

    #[test]
    fn stopping_fails_while_bytes_are_held_and_reading_ahead_never_resumes() {
        let ahead = holding(b"xyz");
        let err = ahead.stop().expect_err("three bytes held");
        assert!(err.to_string().contains("3 bytes ahead"), "{err}");
        assert_eq!(ahead.held(), 3, "the bytes stay for the next read");
        assert!(ahead.check_nothing_held().is_err());
        assert_eq!(ahead.lock().take(3), b"xyz");
        ahead.stop().expect("nothing held any more");
        ahead.check_nothing_held().expect("nothing held");
        let mut held = ahead.lock();
        held.after_plain_read(8, 8);
        assert!(held.spare_for(8).is_none(), "stopped for good");
    }
}
