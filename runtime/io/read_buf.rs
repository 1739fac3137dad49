//! [`ReadBuf`]: a buffer that a reader fills, and that knows how much of it holds data.
//!
//! `poll_read` hands the reader a `ReadBuf` instead of a `&mut [u8]`. The wrapper splits
//! the memory it borrows into three regions, always in this order:
//!
//! ```text
//! [ filled            | initialised, unfilled | uninitialised         ]
//! 0 ............ filled ............. initialized ............. capacity
//! ```
//!
//! * **filled**: bytes the reader delivered. [`filled`](ReadBuf::filled) shows them.
//! * **initialised but unfilled**: memory that holds *some* bytes (zeros, or old data), so
//!   it may be handed out as a `&mut [u8]`, but that are not part of the result.
//! * **uninitialised**: memory never written. Reading it is undefined behaviour, so it is
//!   only ever handed out as `&mut [MaybeUninit<u8>]`, through `unsafe` methods.
//!
//! What that buys: a caller can offer spare `Vec` capacity without zeroing it first (a
//! reader that copies, like [`put_slice`](ReadBuf::put_slice), writes straight into it),
//! and it can keep one buffer across several reads, each appending after the last, because
//! the count of filled bytes lives in the buffer rather than in each call's return value.
//! A reader written over a plain `&mut [u8]` still works: it calls
//! [`initialize_unfilled`](ReadBuf::initialize_unfilled), which zeroes only the part never
//! initialised before (once per buffer, not once per read), and then
//! [`advance`](ReadBuf::advance)s by what it wrote.
//!
//! Two invariants hold at every moment, and every method keeps them:
//! `filled <= initialized <= buf.len()`, and every byte of `buf[..initialized]` has been
//! written. The `unsafe` blocks below rely on nothing else. This file is the only place in
//! the I/O module that contains `unsafe`.
//!
//! The corner cut: tokio's `ReadBuf::take` returns a buffer with nothing marked initialised;
//! this one passes on what it knows is initialised, so a `&mut [u8]` reader under a `take`
//! does not zero the memory again. Otherwise the methods, their names and their panics are
//! tokio's.

#![allow(unsafe_code)]

use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::ptr;
use std::task::Poll;

/// A borrowed byte buffer that is filled step by step, and that may start uninitialised.
///
/// See the module documentation (in the book, chapter 6) for the three regions.
///
/// # Examples
///
/// ```
/// use asincrono::io::ReadBuf;
///
/// let mut storage = [0u8; 8];
/// let mut buf = ReadBuf::new(&mut storage);
/// buf.put_slice(b"abc");
/// buf.put_slice(b"de");
/// assert_eq!(buf.filled(), b"abcde");
/// assert_eq!(buf.remaining(), 3);
/// ```
// ANCHOR: read_buf_struct
pub struct ReadBuf<'a> {
    /// The borrowed memory; only `buf[..initialized]` may be read.
    buf: &'a mut [MaybeUninit<u8>],
    /// Length of the filled region, from the start.
    filled: usize,
    /// Length of the initialised region, from the start (`filled <= initialized`).
    initialized: usize,
}
// ANCHOR_END: read_buf_struct

impl<'a> ReadBuf<'a> {
    /// Wraps fully initialised memory: everything is initialised, nothing is filled yet.
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `MaybeUninit<u8>` has the same size and alignment as `u8`, so the cast
        // keeps the pointer and length valid for the same borrow. Viewing initialised bytes
        // as "maybe uninitialised" is always allowed; the danger is the other direction,
        // writing `MaybeUninit::uninit()` into memory the caller will later read as `u8`.
        // No safe method of `ReadBuf` does that, and the two methods that could
        // (`unfilled_mut`, `inner_mut`) are `unsafe` and forbid it in their contracts.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// Wraps memory that may be uninitialised: nothing is initialised or filled yet.
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// The total size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The filled region: the bytes read so far.
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `filled <= initialized`, and `buf[..initialized]` is written (invariant).
        unsafe { assume_init(&self.buf[..self.filled]) }
    }

    /// The filled region, mutably.
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `filled`. Through a `&mut [u8]` the caller can only store bytes,
        // so the region stays initialised.
        unsafe { assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// The initialised region (the filled bytes, then the initialised unfilled ones).
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: `buf[..initialized]` is written (invariant).
        unsafe { assume_init(&self.buf[..self.initialized]) }
    }

    /// The initialised region, mutably.
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `initialized`; a `&mut [u8]` can only store bytes.
        unsafe { assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// A new `ReadBuf` over at most `n` bytes of this one's unfilled region.
    ///
    /// What the new buffer fills is *not* counted as filled here: the caller reads
    /// `filled().len()` of the new buffer and [`advance`](ReadBuf::advance)s this one
    /// (after [`assume_init`](ReadBuf::assume_init) if the bytes went into memory that was
    /// uninitialised here).
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let len = n.min(self.remaining());
        let initialized = (self.initialized - self.filled).min(len);
        ReadBuf {
            buf: &mut self.buf[self.filled..self.filled + len],
            filled: 0,
            // The first `initialized` bytes of that window are within `..self.initialized`.
            initialized,
        }
    }

    /// The whole buffer as possibly uninitialised memory.
    ///
    /// # Safety
    ///
    /// The caller must not write `MaybeUninit::uninit()` (or any uninitialised byte) into
    /// the initialised region: the `ReadBuf` would then hand out uninitialised memory as
    /// `&[u8]`, and if it was made by [`new`](ReadBuf::new), so would the caller's own slice.
    pub unsafe fn inner_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.buf
    }

    /// The unfilled region as possibly uninitialised memory, for a reader that writes into
    /// it directly; follow with [`assume_init`](ReadBuf::assume_init) and
    /// [`advance`](ReadBuf::advance).
    ///
    /// # Safety
    ///
    /// As for [`inner_mut`](ReadBuf::inner_mut): never de-initialise a byte.
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// The whole unfilled region as `&mut [u8]`, zeroing whatever part of it was never
    /// initialised. This is how a reader written over a plain slice reads into a `ReadBuf`.
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// The first `n` bytes of the unfilled region as `&mut [u8]`, zeroing whatever part of
    /// them was never initialised.
    ///
    /// # Panics
    ///
    /// If `n` is larger than [`remaining`](ReadBuf::remaining).
    // ANCHOR: initialize_unfilled_to
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(self.remaining() >= n, "n overflows remaining");
        let end = self.filled + n;
        if self.initialized < end {
            // Safe code: writing a value into `MaybeUninit` needs no `unsafe`.
            self.buf[self.initialized..end].fill(MaybeUninit::new(0));
            self.initialized = end;
        }
        // SAFETY: `end <= initialized` now (either it was, or we just zeroed up to it), so
        // `buf[filled..end]` is written; a `&mut [u8]` can only store bytes into it.
        unsafe { assume_init_mut(&mut self.buf[self.filled..end]) }
    }
    // ANCHOR_END: initialize_unfilled_to

    /// How many bytes can still be filled: `capacity() - filled().len()`.
    pub fn remaining(&self) -> usize {
        self.capacity() - self.filled
    }

    /// Forgets the filled bytes (they stay initialised), so the buffer can be filled again.
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Counts `n` more bytes, right after the filled ones, as filled.
    ///
    /// # Panics
    ///
    /// If those bytes are not initialised (call [`assume_init`](ReadBuf::assume_init)
    /// first after writing into [`unfilled_mut`](ReadBuf::unfilled_mut)).
    pub fn advance(&mut self, n: usize) {
        let new = self.filled.checked_add(n).expect("filled overflow");
        self.set_filled(new);
    }

    /// Sets the length of the filled region; shrinking it keeps the bytes initialised.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the initialised region.
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "filled must not become larger than initialized"
        );
        self.filled = n;
    }

    /// Records that the first `n` bytes of the unfilled region are initialised. Never
    /// shrinks the initialised region.
    ///
    /// # Safety
    ///
    /// The caller must have written those `n` bytes (through
    /// [`unfilled_mut`](ReadBuf::unfilled_mut)).
    pub unsafe fn assume_init(&mut self, n: usize) {
        let new = self.filled + n;
        if new > self.initialized {
            self.initialized = new;
        }
    }

    /// Appends `data` to the filled region.
    ///
    /// # Panics
    ///
    /// If `data` is longer than [`remaining`](ReadBuf::remaining).
    pub fn put_slice(&mut self, data: &[u8]) {
        assert!(
            self.remaining() >= data.len(),
            "buf.len() must fit in remaining(); buf.len() = {}, remaining() = {}",
            data.len(),
            self.remaining()
        );
        let end = self.filled + data.len();
        // Safe code: each `MaybeUninit::write` stores a byte (the optimiser makes the loop
        // a `memcpy`).
        for (slot, &byte) in self.buf[self.filled..end].iter_mut().zip(data) {
            slot.write(byte);
        }
        self.initialized = self.initialized.max(end);
        self.filled = end;
    }
}

impl ReadBuf<'_> {
    /// Runs `read` on a window of at most `limit` bytes of the unfilled region (a
    /// [`take`](ReadBuf::take)), then counts what it filled there as filled here. This is
    /// how [`Take`](super::Take) limits a read without copying.
    ///
    /// # Panics
    ///
    /// If `read` replaced the window with a `ReadBuf` over other memory.
    pub(crate) fn fill_through_window<T>(
        &mut self,
        limit: usize,
        read: impl FnOnce(&mut ReadBuf<'_>) -> T,
    ) -> T {
        let mut window = self.take(limit);
        let start = window.buf.as_ptr();
        let capacity = window.capacity();
        let result = read(&mut window);
        assert!(
            ptr::eq(window.buf.as_ptr(), start) && window.capacity() == capacity,
            "the reader replaced the ReadBuf it was given"
        );
        let n = window.filled().len();
        // SAFETY: the window still covers `self.buf[self.filled..]` from its start (checked
        // just above), and its filled region is written (its invariant), so the `n` bytes
        // after our filled ones are written.
        unsafe { self.assume_init(n) };
        self.advance(n);
        result
    }
}

/// Views written `MaybeUninit` bytes as bytes.
///
/// # Safety
///
/// Every byte of `slice` must have been written.
unsafe fn assume_init(slice: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout (see `ReadBuf::new`); the caller promises every byte is written,
    // which is what makes reading them as `u8` defined.
    unsafe { &*(slice as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// Views written `MaybeUninit` bytes as mutable bytes.
///
/// # Safety
///
/// Every byte of `slice` must have been written. Through the result only bytes can be
/// stored, so the slice stays written.
unsafe fn assume_init_mut(slice: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: as in `assume_init`; the `&mut` is the same unique borrow, re-typed.
    unsafe { &mut *(slice as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

/// Runs `read` on a `ReadBuf` over the first `room` bytes of `vec`'s spare capacity, then
/// appends to `vec` what it filled, and returns how many bytes that was.
///
/// This is how `read_to_end` reads without zeroing: the spare capacity goes in
/// uninitialised. `*initialized` carries from one call to the next how many bytes at the
/// start of the spare capacity are known to be initialised (a reader over `&mut [u8]`
/// zeroed them, or a read wrote them past what it filled), so that no byte of capacity is
/// zeroed twice. The caller resets it to 0 whenever `vec` may have reallocated.
///
/// # Panics
///
/// If `room` is more than the spare capacity, or if `read` replaced the `ReadBuf` with one
/// over other memory (its bytes would not be the vector's).
pub(crate) fn read_into_spare_capacity(
    vec: &mut Vec<u8>,
    initialized: &mut usize,
    room: usize,
    read: impl FnOnce(&mut ReadBuf<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<usize>> {
    let spare = &mut vec.spare_capacity_mut()[..room];
    let start = spare.as_ptr().cast::<u8>();
    let mut buf = ReadBuf::uninit(spare);
    let known = (*initialized).min(room);
    // SAFETY: the caller's `*initialized` counts spare bytes written by an earlier call
    // (through a `ReadBuf`, whose `initialized` region is written by its invariant), into
    // this same allocation: the caller resets the count whenever the vector may have
    // reallocated, and between calls nothing else can write to the vector's spare capacity
    // (a `Vec` never de-initialises it). So the first `known` bytes are written.
    unsafe { buf.assume_init(known) };
    let poll = read(&mut buf);
    // A reader may legally swap in another `ReadBuf`; its bytes would not be in `vec`.
    assert!(
        ptr::eq(buf.filled().as_ptr(), start) && buf.capacity() == room,
        "the reader replaced the ReadBuf it was given"
    );
    let filled = buf.filled().len();
    *initialized = buf.initialized().len() - filled;
    // SAFETY: `buf` covers `vec`'s spare capacity from its start (checked just above), so
    // its filled region is the `filled` bytes right after `vec.len()`, and they are written
    // (`filled <= initialized`, invariant). `filled <= room <= capacity - len`, so the new
    // length is within the capacity.
    unsafe { vec.set_len(vec.len() + filled) };
    poll.map_ok(|()| filled)
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

// These tests go through every `unsafe` block above; `scripts/miri.sh` runs them by default
// and `scripts/asan.sh --lib` runs them under AddressSanitizer.
#[cfg(test)]
mod tests {
    use super::*;

    fn uninit_storage<const N: usize>() -> [MaybeUninit<u8>; N] {
        [MaybeUninit::uninit(); N]
    }

    #[test]
    fn new_starts_empty_and_fully_initialised() {
        let mut storage = *b"old data";
        let mut buf = ReadBuf::new(&mut storage);
        assert_eq!(buf.capacity(), 8);
        assert_eq!(buf.filled(), b"");
        assert_eq!(buf.initialized(), b"old data");
        assert_eq!(buf.remaining(), 8);
        // No zeroing: the old bytes are what the unfilled region shows.
        assert_eq!(buf.initialize_unfilled(), b"old data");
    }

    #[test]
    fn put_slice_fills_uninitialised_memory_in_several_steps() {
        let mut storage = uninit_storage::<6>();
        let mut buf = ReadBuf::uninit(&mut storage);
        assert_eq!(buf.initialized(), b"");
        buf.put_slice(b"ab");
        buf.put_slice(b"cd");
        assert_eq!(buf.filled(), b"abcd");
        assert_eq!(buf.initialized(), b"abcd");
        buf.filled_mut()[0] = b'A';
        assert_eq!(buf.filled(), b"Abcd");
        assert_eq!(buf.remaining(), 2);
    }

    #[test]
    #[should_panic(expected = "must fit in remaining")]
    fn put_slice_past_the_end_panics() {
        let mut storage = [0u8; 2];
        ReadBuf::new(&mut storage).put_slice(b"abc");
    }

    #[test]
    fn initialize_unfilled_zeroes_only_what_was_never_initialised() {
        let mut storage = uninit_storage::<8>();
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"xy");
        let unfilled = buf.initialize_unfilled_to(3);
        assert_eq!(unfilled, [0, 0, 0]);
        unfilled.copy_from_slice(b"123");
        assert_eq!(buf.initialized(), b"xy123");
        // Asking again does not zero the bytes already initialised.
        assert_eq!(&buf.initialize_unfilled()[..3], b"123");
        assert_eq!(buf.initialized().len(), 8);
        buf.advance(3);
        assert_eq!(buf.filled(), b"xy123");
        buf.initialized_mut()[7] = 9;
        assert_eq!(buf.initialized()[7], 9);
    }

    #[test]
    #[should_panic(expected = "n overflows remaining")]
    fn initialize_unfilled_to_past_the_end_panics() {
        let mut storage = [0u8; 2];
        ReadBuf::new(&mut storage).initialize_unfilled_to(3);
    }

    #[test]
    #[should_panic(expected = "filled must not become larger than initialized")]
    fn advancing_over_uninitialised_memory_panics() {
        let mut storage = uninit_storage::<4>();
        ReadBuf::uninit(&mut storage).advance(1);
    }

    #[test]
    fn writing_through_unfilled_mut_then_assume_init_and_advance() {
        let mut storage = uninit_storage::<4>();
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"a");
        // SAFETY: (test) we only write initialised bytes into the unfilled region.
        let unfilled = unsafe { buf.unfilled_mut() };
        unfilled[0].write(b'b');
        unfilled[1].write(b'c');
        // SAFETY: (test) the two bytes after the filled one were just written.
        unsafe { buf.assume_init(2) };
        // A smaller `assume_init` never shrinks the initialised region.
        // SAFETY: (test) claims nothing that is not already known.
        unsafe { buf.assume_init(1) };
        assert_eq!(buf.initialized(), b"abc");
        buf.advance(2);
        assert_eq!(buf.filled(), b"abc");
        // SAFETY: (test) reading the whole buffer as `MaybeUninit` writes nothing.
        assert_eq!(unsafe { buf.inner_mut() }.len(), 4);
    }

    #[test]
    fn set_filled_and_clear_keep_the_bytes_initialised() {
        let mut storage = uninit_storage::<4>();
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"wxyz");
        buf.set_filled(1);
        assert_eq!(buf.filled(), b"w");
        assert_eq!(buf.initialized(), b"wxyz");
        buf.clear();
        assert_eq!(buf.filled(), b"");
        buf.set_filled(4);
        assert_eq!(buf.filled(), b"wxyz");
    }

    #[test]
    fn take_limits_the_window_and_passes_on_what_is_initialised() {
        let mut storage = uninit_storage::<8>();
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"ab");
        buf.initialize_unfilled_to(2).copy_from_slice(b"cd");
        {
            let mut window = buf.take(3);
            assert_eq!(window.capacity(), 3);
            assert_eq!(window.initialized(), b"cd");
            window.put_slice(b"CDE");
        }
        assert_eq!(buf.take(100).capacity(), 6);
        // SAFETY: (test) the window just wrote three bytes after the filled ones.
        unsafe { buf.assume_init(3) };
        buf.advance(3);
        assert_eq!(buf.filled(), b"abCDE");
        assert_eq!(
            format!("{buf:?}"),
            "ReadBuf { filled: 5, initialized: 5, capacity: 8 }"
        );
    }

    #[test]
    fn a_window_fills_the_buffer_it_was_taken_from() {
        let mut storage = uninit_storage::<8>();
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"a");
        let seen = buf.fill_through_window(3, |window| {
            assert_eq!(window.capacity(), 3);
            window.put_slice(b"bc");
            window.remaining()
        });
        assert_eq!(seen, 1);
        assert_eq!(buf.filled(), b"abc");
        assert_eq!(buf.initialized(), b"abc");
    }

    #[test]
    fn spare_capacity_reads_append_and_remember_what_is_initialised() {
        let mut vec = Vec::with_capacity(16);
        vec.extend_from_slice(b"ab");
        let mut initialized = 0;
        // A reader over `&mut [u8]`: it zeroes the whole room, and fills three bytes.
        let poll = read_into_spare_capacity(&mut vec, &mut initialized, 8, |buf| {
            buf.initialize_unfilled()[..3].copy_from_slice(b"cde");
            buf.advance(3);
            Poll::Ready(Ok(()))
        });
        assert!(matches!(poll, Poll::Ready(Ok(3))));
        assert_eq!(vec, b"abcde");
        assert_eq!(
            initialized, 5,
            "the zeroed bytes past the data are remembered"
        );
        // The next read finds them initialised: no zeroing needed to hand them out.
        let poll = read_into_spare_capacity(&mut vec, &mut initialized, 8, |buf| {
            assert_eq!(buf.initialized(), [0; 5]);
            buf.put_slice(b"f");
            Poll::Ready(Ok(()))
        });
        assert!(matches!(poll, Poll::Ready(Ok(1))));
        assert_eq!(vec, b"abcdef");
        assert_eq!(initialized, 4);
        // An error still keeps what was filled before it.
        let poll = read_into_spare_capacity(&mut vec, &mut initialized, 2, |buf| {
            buf.put_slice(b"g");
            Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
        });
        assert!(matches!(poll, Poll::Ready(Err(_))));
        assert_eq!(vec, b"abcdefg");
    }

    #[test]
    #[should_panic(expected = "replaced the ReadBuf")]
    fn a_reader_that_swaps_the_read_buf_is_caught() {
        // Only a `'static` buffer can stand in for the one lent to the closure. Its address
        // is kept in a static, so that LeakSanitizer (`scripts/asan.sh`) sees it reachable.
        static LEAKED: std::sync::atomic::AtomicPtr<u8> =
            std::sync::atomic::AtomicPtr::new(ptr::null_mut());
        let mut vec = Vec::with_capacity(4);
        let other: &'static mut [u8] = Box::leak(Box::new([1u8; 4]));
        LEAKED.store(other.as_mut_ptr(), std::sync::atomic::Ordering::Relaxed);
        let _ = read_into_spare_capacity(&mut vec, &mut 0, 4, |buf| {
            *buf = ReadBuf::new(other);
            buf.advance(4);
            Poll::Ready(Ok(()))
        });
    }
}
