//! [`AsyncReadExt`]: `.await`-able reading methods for every [`AsyncRead`].
//!
//! Each method only packs its arguments into a small struct; the work happens
//! when that struct, a future, is polled. Its `poll` calls `poll_read` as
//! often as it can make progress, and when the reader says `Pending` it says
//! `Pending` too, keeping its progress (how many bytes are filled so far) in
//! its own fields until the executor polls it again. That is all `.await`
//! does: poll, and wait for a wake-up between polls.
//!
//! Why named structs rather than `async fn` in the trait? The struct spells
//! out its state for readers of this code, and its auto traits are obvious:
//! it is `Send` exactly when the reader is, which generic callers that spawn
//! onto other threads need to know.
//!
//! The extension trait is implemented for every `AsyncRead` type (the blanket
//! impl at the bottom), so `use asincrono::io::AsyncReadExt` is all a caller
//! needs.

use std::future::Future;
use std::io;
use std::mem::{self, MaybeUninit};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::read_buf::read_into_spare_capacity;
use super::read_int::{ReadNum, read_num_methods};
use super::read_into_vec::ReadIntoVec;
use super::read_until::{OnReadError, finish_text_read};
use super::retry::ready_or_retry;
use super::{AsyncRead, Chain, ReadBuf, Take};

/// Reading methods for any [`AsyncRead`], each returning a future.
///
/// The methods borrow the reader mutably, so they require `Self: Unpin`; see
/// the module docs on `Pin`.
pub trait AsyncReadExt: AsyncRead {
    /// Reads *some* bytes into `buf`, returning how many (`0` at end of
    /// stream). Like a single `read` system call, it may return fewer bytes
    /// than `buf` could hold.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads *some* bytes into the spare capacity of `buf` and appends them, returning how
    /// many (`0` at end of stream). The spare capacity is read into uninitialised, so
    /// nothing is zeroed first; a full vector grows by 64 bytes before the read.
    ///
    /// tokio's takes any `bytes::BufMut`; this one a `Vec<u8>` (see `read_into_vec.rs`).
    fn read_buf<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadIntoVec<'a, Self>
    where
        Self: Unpin,
    {
        ReadIntoVec { reader: self, buf }
    }

    /// Reads until `buf` is completely full, returning `buf.len()`.
    ///
    /// Fails with [`ErrorKind::UnexpectedEof`](io::ErrorKind::UnexpectedEof)
    /// if the stream ends first.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
        }
    }

    /// Reads everything until end of stream and appends it to `buf`,
    /// returning the number of bytes appended.
    ///
    /// If reading fails, the bytes read before the error stay in `buf`.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        ReadToEnd {
            reader: self,
            start_len: buf.len(),
            growth: VecGrowth::new(buf),
            buf,
        }
    }

    /// Reads everything until end of stream and appends it to `buf` as text,
    /// returning the number of bytes appended.
    ///
    /// Fails with [`ErrorKind::InvalidData`](io::ErrorKind::InvalidData) if
    /// the bytes are not valid UTF-8. On any error `buf` is left unchanged.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            output: buf,
            bytes: Vec::new(),
            growth: VecGrowth::new(&Vec::new()),
        }
    }

    /// A reader that gives at most `limit` bytes of this one, then reports end of stream.
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }

    /// A reader that gives all of this one, then all of `next`.
    fn chain<R: AsyncRead>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
    {
        Chain::new(self, next)
    }

    read_num_methods! {
        read_u8: u8 = from_be_bytes, "big-endian";
        read_i8: i8 = from_be_bytes, "big-endian";
        read_u16: u16 = from_be_bytes, "big-endian";
        read_i16: i16 = from_be_bytes, "big-endian";
        read_u32: u32 = from_be_bytes, "big-endian";
        read_i32: i32 = from_be_bytes, "big-endian";
        read_u64: u64 = from_be_bytes, "big-endian";
        read_i64: i64 = from_be_bytes, "big-endian";
        read_u128: u128 = from_be_bytes, "big-endian";
        read_i128: i128 = from_be_bytes, "big-endian";
        read_f32: f32 = from_be_bytes, "big-endian";
        read_f64: f64 = from_be_bytes, "big-endian";
        read_u16_le: u16 = from_le_bytes, "little-endian";
        read_i16_le: i16 = from_le_bytes, "little-endian";
        read_u32_le: u32 = from_le_bytes, "little-endian";
        read_i32_le: i32 = from_le_bytes, "little-endian";
        read_u64_le: u64 = from_le_bytes, "little-endian";
        read_i64_le: i64 = from_le_bytes, "little-endian";
        read_u128_le: u128 = from_le_bytes, "little-endian";
        read_i128_le: i128 = from_le_bytes, "little-endian";
        read_f32_le: f32 = from_le_bytes, "little-endian";
        read_f64_le: f64 = from_le_bytes, "little-endian";
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Future returned by [`AsyncReadExt::read`].
///
/// **Cancel safety:** safe. A read either completes within one poll or
/// returns `Pending` having read nothing, so dropping this future never loses
/// data.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut buf = ReadBuf::new(this.buf);
        ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

/// Future returned by [`AsyncReadExt::read_exact`].
///
/// **Cancel safety:** not safe. If dropped part-way, the bytes read so far
/// have been taken from the reader and written to the front of `buf`, but the
/// caller cannot tell how many: the count lived in this future. Treat the
/// stream's position as unknown afterwards.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
// ANCHOR: read_exact_future
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    /// How many bytes at the front of `buf` are already filled.
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.filled < this.buf.len() {
            // A `ReadBuf` over the part still to fill: what the reader appends is new.
            let mut unfilled = ReadBuf::new(&mut this.buf[this.filled..]);
            // `ready!` returns `Pending` from this function if the reader is
            // not ready; `?` returns a read error.
            ready_or_retry!(Pin::new(&mut *this.reader).poll_read(cx, &mut unfilled));
            let n = unfilled.filled().len();
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "early eof",
                )));
            }
            this.filled += n;
        }
        Poll::Ready(Ok(this.filled))
    }
}
// ANCHOR_END: read_exact_future

/// Future returned by [`AsyncReadExt::read_to_end`].
///
/// **Cancel safety:** safe as long as you keep the vector. Every byte taken
/// from the reader is already appended to it when the future returns
/// `Pending` (it never holds zero filler between polls), so after a drop the
/// vector holds exactly what was read, and calling `read_to_end` again
/// continues where it stopped. Only the count is lost; compare lengths if you
/// need it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    /// The vector's length before we started, to compute the count.
    start_len: usize,
    /// How the vector grows, and what of its spare capacity is initialised.
    growth: VecGrowth,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(
            this.reader,
            cx,
            this.buf,
            &mut this.growth
        ))?;
        Poll::Ready(Ok(this.buf.len() - this.start_len))
    }
}

/// Future returned by [`AsyncReadExt::read_to_string`].
///
/// **Cancel safety:** not safe. The bytes are collected in this future and
/// only checked and appended to the `String` at end of stream (UTF-8 can only
/// be validated once a character is complete). If the future is dropped
/// part-way, the bytes it read are lost and the `String` is unchanged.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    output: &'a mut String,
    /// Bytes read so far, not yet checked for UTF-8.
    bytes: Vec<u8>,
    /// How `bytes` grows, and what of its spare capacity is initialised.
    growth: VecGrowth,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let read = ready!(poll_read_to_end(
            this.reader,
            cx,
            &mut this.bytes,
            &mut this.growth
        ));
        let bytes = mem::take(&mut this.bytes);
        Poll::Ready(finish_text_read(
            this.output,
            bytes,
            read,
            OnReadError::LeaveUnchanged,
        ))
    }
}

/// The least spare room offered to one `poll_read`, and the size of the probe: tiny
/// streams allocate tiny vectors.
const MIN_READ_ROOM: usize = 32;

/// What `read_to_end` remembers about its vector between reads.
#[derive(Debug)]
struct VecGrowth {
    /// The capacity the caller gave us. A vector filled up to exactly that may hold the
    /// whole stream already: probe before growing it.
    start_capacity: usize,
    /// The capacity at the last read; a change means the vector reallocated.
    capacity: usize,
    /// How many bytes of the spare capacity earlier reads initialised.
    spare_initialized: usize,
}

impl VecGrowth {
    fn new(buf: &Vec<u8>) -> Self {
        VecGrowth {
            start_capacity: buf.capacity(),
            capacity: buf.capacity(),
            spare_initialized: 0,
        }
    }

    /// Makes room for a read, as tokio does: at least `MIN_READ_ROOM` spare bytes (the
    /// vector doubles when it grows, so the copying stays proportional to the data).
    fn reserve(&mut self, buf: &mut Vec<u8>) {
        buf.reserve(MIN_READ_ROOM);
        if buf.capacity() != self.capacity {
            // A new allocation: its spare capacity is uninitialised.
            self.capacity = buf.capacity();
            self.spare_initialized = 0;
        }
    }
}

/// Appends to `buf` until the reader reports end of stream.
///
/// Shared by `read_to_end` and `read_to_string`. Between polls, `buf` holds
/// only real data, which is what makes `read_to_end` cancel-safe. Each read spends
/// one unit of the task's cooperative budget, so a reader that is always ready (in
/// memory, or a fast socket) still lets the other tasks run. `Interrupted` is retried.
fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    growth: &mut VecGrowth,
) -> Poll<io::Result<()>> {
    loop {
        ready!(crate::task::poll_proceed(cx));
        match ready!(read_into_spare_room(reader, cx, buf, growth)) {
            Ok(0) => return Poll::Ready(Ok(())),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Poll::Ready(Err(error)),
        }
    }
}

/// One `poll_read` appended to `buf`, into its spare capacity (never zeroed by us: the
/// `ReadBuf` starts uninitialised). Returns how many bytes were appended.
// ANCHOR: read_into_spare_room
fn read_into_spare_room<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    growth: &mut VecGrowth,
) -> Poll<io::Result<usize>> {
    let spare = buf.capacity() - buf.len();
    if spare < MIN_READ_ROOM
        && buf.capacity() == growth.start_capacity
        && buf.capacity() >= MIN_READ_ROOM
    {
        // Nearly full at exactly the capacity we were given: perhaps that was the stream's
        // size. A small probe on the stack finds out without growing the vector, which
        // grows only if the probe brought more than fits.
        // Uninitialised, as tokio's: a reader sees the same regions either way.
        let mut probe = [MaybeUninit::uninit(); MIN_READ_ROOM];
        let mut probe = ReadBuf::uninit(&mut probe);
        ready!(Pin::new(reader).poll_read(cx, &mut probe))?;
        if probe.filled().len() > spare {
            growth.reserve(buf);
        }
        buf.extend_from_slice(probe.filled());
        // What the probe wrote is data now; what lay beyond it is as it was.
        growth.spare_initialized = growth
            .spare_initialized
            .saturating_sub(probe.filled().len());
        return Poll::Ready(Ok(probe.filled().len()));
    }
    growth.reserve(buf);
    let room = buf.capacity() - buf.len();
    read_into_spare_capacity(buf, &mut growth.spare_initialized, room, |read_buf| {
        Pin::new(reader).poll_read(cx, read_buf)
    })
}
// ANCHOR_END: read_into_spare_room

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{ChunkedReader, block_on_checked, poll_once};

    #[test]
    fn read_returns_what_one_call_delivered() {
        let mut reader = ChunkedReader::new(*b"hello", 3);
        let mut buf = [0; 10];
        assert_eq!(block_on_checked(reader.read(&mut buf)).unwrap(), 3);
        assert_eq!(&buf[..3], b"hel");
    }

    #[test]
    fn read_exact_keeps_reading_across_chunks_and_pending() {
        let mut reader = ChunkedReader::new(*b"0123456789", 3);
        let mut buf = [0; 8];
        assert_eq!(block_on_checked(reader.read_exact(&mut buf)).unwrap(), 8);
        assert_eq!(&buf, b"01234567");
    }

    #[test]
    fn read_exact_fails_when_the_stream_ends_early() {
        let mut reader = ChunkedReader::new(*b"short", 2);
        let mut buf = [0; 8];
        let error = block_on_checked(reader.read_exact(&mut buf)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(&buf[..5], b"short");
    }

    #[test]
    fn read_exact_into_nothing_never_touches_the_reader() {
        let mut reader = ChunkedReader::new(*b"data", 2);
        assert_eq!(block_on_checked(reader.read_exact(&mut [])).unwrap(), 0);
        assert!(reader.read_sizes.is_empty());
    }

    #[test]
    fn read_to_end_appends_and_counts_only_new_bytes() {
        let data: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
        let mut reader = ChunkedReader::new(data.clone(), 700);
        let mut buf = b"prefix".to_vec();
        assert_eq!(
            block_on_checked(reader.read_to_end(&mut buf)).unwrap(),
            20_000
        );
        assert_eq!(&buf[..6], b"prefix");
        assert_eq!(&buf[6..], &data[..]);
    }

    #[test]
    fn read_to_end_dropped_half_way_leaves_exactly_the_bytes_read() {
        let mut reader = ChunkedReader::new(*b"abcdefgh", 3);
        let mut buf = Vec::new();
        let mut future = reader.read_to_end(&mut buf);
        assert!(poll_once(&mut future).is_pending()); // the reader was not ready
        assert!(poll_once(&mut future).is_pending()); // got "abc", then not ready
        drop(future);
        assert_eq!(buf, b"abc", "no zero filler may be left behind");

        assert_eq!(block_on_checked(reader.read_to_end(&mut buf)).unwrap(), 5);
        assert_eq!(buf, b"abcdefgh");
    }

    #[test]
    fn read_to_end_keeps_the_bytes_read_before_an_error() {
        let mut reader = ChunkedReader::new(*b"partial", 4).failing_at_end();
        let mut buf = Vec::new();
        let error = block_on_checked(reader.read_to_end(&mut buf)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(buf, b"partial");
    }

    #[test]
    fn read_to_string_reassembles_characters_split_across_reads() {
        let text = "héllo, wörld ✓";
        let mut reader = ChunkedReader::new(text, 1);
        let mut output = String::from("> ");
        let count = block_on_checked(reader.read_to_string(&mut output)).unwrap();
        assert_eq!(count, text.len());
        assert_eq!(output, format!("> {text}"));
    }

    #[test]
    fn read_to_string_rejects_invalid_utf8_and_leaves_the_string_alone() {
        let mut reader = ChunkedReader::new(*b"ok \xff!", 2);
        let mut output = String::from("keep");
        let error = block_on_checked(reader.read_to_string(&mut output)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(output, "keep");
    }

    #[test]
    fn read_to_string_leaves_the_string_alone_on_a_read_error() {
        let mut reader = ChunkedReader::new("fine text", 4).failing_at_end();
        let mut output = String::from("keep");
        assert!(block_on_checked(reader.read_to_string(&mut output)).is_err());
        assert_eq!(output, "keep");
    }

    /// Compiles only if the futures are `Send` whenever the reader is: the
    /// reason they are named structs.
    #[test]
    fn futures_are_send_for_send_readers() {
        fn assert_send<T: Send>(_: &T) {}
        fn check<R: AsyncRead + Unpin + Send>(reader: &mut R) {
            let mut bytes = Vec::new();
            assert_send(&reader.read_to_end(&mut bytes));
            let mut text = String::new();
            assert_send(&reader.read_to_string(&mut text));
        }
        check(&mut ChunkedReader::new(*b"", 1));
    }
}
