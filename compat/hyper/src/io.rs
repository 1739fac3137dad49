//! [`AsincronoIo`]: one wrapper that lets hyper read and write an asincrono stream, and
//! asincrono code read and write a hyper stream.
//!
//! hyper 1.x does not use any runtime's I/O traits. It defines its own,
//! `hyper::rt::{Read, Write}`, so that it can sit on tokio, asincrono, or a completion-based
//! runtime one day. The write sides of the two models are the same shape (`poll_write`,
//! `poll_flush`, `poll_shutdown`, vectored writes), so they forward one to one. The read
//! sides differ in the buffer they hand the reader:
//!
//! * asincrono's [`ReadBuf`] (tokio's shape) is a borrowed slice with three regions, filled,
//!   initialised and uninitialised, and a reader may look at and rewrite the filled part;
//! * hyper's `ReadBufCursor` is narrower: it shows the reader only the unfilled end of
//!   hyper's own buffer, and the reader can only append to it.
//!
//! So a hyper read becomes an asincrono read by wrapping the cursor's unfilled memory in a
//! fresh, empty `ReadBuf::uninit`, letting the asincrono reader fill it, and then moving the
//! cursor on by what was filled. Two steps need `unsafe` (getting at the cursor's memory,
//! and telling the cursor how much of it now holds bytes); the `// SAFETY:` comments below
//! say why each is sound. The same trick, mirrored, runs a hyper reader into an asincrono
//! `ReadBuf` (used for a connection hyper hands back, like an upgraded one).
//!
//! What a wake crosses: nothing is translated. hyper's `Context` is the one the asincrono
//! task was polled with, so when the asincrono reactor sees the socket readable it wakes
//! that task's waker, the task polls hyper's connection future again, and hyper calls
//! `poll_read` once more. The wrapper holds no waker and no state of its own.
//!
//! What hyper-util does instead: its `TokioIo` is the same idea for tokio, one wrapper in
//! both directions. It trusts the inner reader to fill the `ReadBuf` it was given; this one
//! also checks that the reader did not swap that `ReadBuf` for another (which safe code can
//! do, with a `'static` buffer), because the count of bytes it then reports would describe
//! other memory. The corner cut: no `poll_read` fast path for a reader that could write
//! straight into hyper's buffer without the intermediate `ReadBuf`; there is nothing to
//! gain, the `ReadBuf` is a few words on the stack.

use asincrono::io::{AsyncRead, AsyncWrite, ReadBuf};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// An I/O object seen through the other runtime's traits: hyper's
    /// [`Read`](hyper::rt::Read)/[`Write`](hyper::rt::Write) when `T` is an asincrono
    /// [`AsyncRead`]/[`AsyncWrite`] (a `TcpStream`, a `DuplexStream`), and asincrono's traits
    /// when `T` is a hyper one.
    ///
    /// ```
    /// use asincrono_hyper::AsincronoIo;
    ///
    /// let (ours, _theirs) = asincrono::io::duplex(64);
    /// let for_hyper = AsincronoIo::new(ours); // hyper::rt::Read + hyper::rt::Write
    /// let _ours_again = for_hyper.into_inner();
    /// ```
    #[derive(Debug)]
    pub struct AsincronoIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> AsincronoIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> AsincronoIo<T> {
        AsincronoIo { inner }
    }

    /// The wrapped object.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps it.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

// ANCHOR: hyper_read
impl<T: AsyncRead> hyper::rt::Read for AsincronoIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `as_mut` asks us never to de-initialise a byte of the memory it lends.
        // We only wrap it in an asincrono `ReadBuf`, whose safe methods store initialised
        // bytes only, and whose two `unsafe` methods that expose the memory forbid
        // de-initialising in their own contracts, which the inner reader must keep.
        let unfilled = unsafe { cursor.as_mut() };
        let start = unfilled.as_ptr().cast::<u8>();
        let mut buf = ReadBuf::uninit(unfilled);
        // A `Pending` or an error passes straight up: nothing was filled, the cursor stays.
        // On `Pending` the reader has filed `cx`'s waker with the reactor.
        std::task::ready!(self.project().inner.poll_read(cx, &mut buf))?;
        let filled = buf.filled();
        // Safe code may replace `*buf` with a `ReadBuf` over other (leaked) memory; then
        // `filled` would count bytes that are not in hyper's buffer. Refuse, loudly.
        if filled.as_ptr() != start {
            return Poll::Ready(Err(io::Error::other(
                "AsyncRead::poll_read replaced the ReadBuf it was given",
            )));
        }
        let n = filled.len();
        // SAFETY: `advance(n)` asks that the next `n` bytes of the cursor be initialised.
        // They are the `filled` region of `buf`, which starts at the cursor's unfilled
        // memory (checked just above) and which `ReadBuf` keeps initialised by its own
        // invariant (`filled <= initialized`); `n` is at most that memory's length.
        unsafe { cursor.advance(n) };
        Poll::Ready(Ok(()))
    }
}
// ANCHOR_END: hyper_read

/// The write side is the same five forwarding methods in either direction, because
/// `hyper::rt::Write` and asincrono's `AsyncWrite` have the same shape: written once, used
/// twice (hyper writing to an asincrono stream, and asincrono writing to a hyper one).
macro_rules! forward_writes {
    ($write:path, $inner:path) => {
        impl<T: $inner> $write for AsincronoIo<T> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.project().inner.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().inner.poll_flush(cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().inner.poll_shutdown(cx)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.project().inner.poll_write_vectored(cx, bufs)
            }
        }
    };
}

forward_writes!(hyper::rt::Write, AsyncWrite);
forward_writes!(AsyncWrite, hyper::rt::Write);

// ANCHOR: asincrono_read
impl<T: hyper::rt::Read> AsyncRead for AsincronoIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `unfilled_mut` asks us never to de-initialise a byte. hyper's `ReadBuf`
        // over this memory only lets the reader append initialised bytes (`put_slice`, or
        // `as_mut`, whose contract forbids de-initialising).
        let unfilled = unsafe { buf.unfilled_mut() };
        let mut theirs = hyper::rt::ReadBuf::uninit(unfilled);
        // hyper's cursor cannot be swapped for another: its buffer is a private field.
        std::task::ready!(self.project().inner.poll_read(cx, theirs.unfilled()))?;
        let n = theirs.filled().len();
        // SAFETY: hyper's `ReadBuf` counts as filled only bytes that were written, and its
        // filled region starts at our unfilled memory, so our next `n` bytes are written.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}
// ANCHOR_END: asincrono_read

#[cfg(test)]
mod tests {
    use super::*;
    use asincrono::io::{AsyncReadExt, AsyncWriteExt};
    use std::future::poll_fn;
    use std::mem::MaybeUninit;

    /// One hyper-side read of at most `capacity` bytes from `io`.
    async fn hyper_read<T: AsyncRead + Unpin>(
        io: &mut AsincronoIo<T>,
        capacity: usize,
    ) -> io::Result<Vec<u8>> {
        let mut storage = vec![MaybeUninit::<u8>::uninit(); capacity];
        let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
        poll_fn(|cx| hyper::rt::Read::poll_read(Pin::new(&mut *io), cx, buf.unfilled())).await?;
        Ok(buf.filled().to_vec())
    }

    /// One hyper-side write.
    async fn hyper_write<T: AsyncWrite + Unpin>(
        io: &mut AsincronoIo<T>,
        data: &[u8],
    ) -> io::Result<usize> {
        poll_fn(|cx| hyper::rt::Write::poll_write(Pin::new(&mut *io), cx, data)).await
    }

    #[test]
    fn hyper_reads_what_was_written_to_an_asincrono_stream_then_the_end() {
        asincrono::block_on(async {
            let (ours, mut theirs) = asincrono::io::duplex(64);
            let mut io = AsincronoIo::new(ours);
            theirs.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
            assert_eq!(
                hyper_read(&mut io, 64).await.unwrap(),
                b"GET / HTTP/1.1\r\n"
            );
            // A smaller buffer than the data: the rest stays for the next read.
            theirs.write_all(b"abcdef").await.unwrap();
            assert_eq!(hyper_read(&mut io, 4).await.unwrap(), b"abcd");
            assert_eq!(hyper_read(&mut io, 4).await.unwrap(), b"ef");
            drop(theirs);
            assert_eq!(hyper_read(&mut io, 4).await.unwrap(), b"", "end of stream");
        });
    }

    #[test]
    fn a_read_that_must_wait_is_woken_by_the_write() {
        asincrono::block_on(async {
            let (ours, mut theirs) = asincrono::io::duplex(64);
            let mut io = AsincronoIo::new(ours);
            // The read starts first and parks; the spawned write wakes it.
            let writer = asincrono::spawn(async move {
                asincrono::task::yield_now().await;
                theirs.write_all(b"late").await.unwrap();
                theirs
            });
            assert_eq!(hyper_read(&mut io, 16).await.unwrap(), b"late");
            drop(writer.await.unwrap());
        });
    }

    #[test]
    fn hyper_writes_reach_the_asincrono_stream() {
        asincrono::block_on(async {
            let (ours, mut theirs) = asincrono::io::duplex(64);
            let mut io = AsincronoIo::new(ours);
            assert_eq!(
                hyper_write(&mut io, b"HTTP/1.1 200 OK\r\n").await.unwrap(),
                17
            );
            poll_fn(|cx| hyper::rt::Write::poll_shutdown(Pin::new(&mut io), cx))
                .await
                .unwrap();
            let mut got = String::new();
            theirs.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "HTTP/1.1 200 OK\r\n");
        });
    }

    /// A reader that swaps the `ReadBuf` it is given for one over memory of its own.
    struct Swapper;

    impl AsyncRead for Swapper {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            // Leaked on purpose: only a `'static` buffer outlives any `ReadBuf<'_>`. Eight
            // bytes, once, in a test.
            let elsewhere: &'static mut [u8] = Box::leak(vec![7u8; 8].into_boxed_slice());
            *buf = ReadBuf::new(elsewhere);
            buf.advance(8);
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn a_reader_that_swaps_the_buffer_gets_an_error_not_a_bogus_count() {
        asincrono::block_on(async {
            let err = hyper_read(&mut AsincronoIo::new(Swapper), 8)
                .await
                .expect_err("the swap is refused");
            assert!(err.to_string().contains("replaced the ReadBuf"), "{err}");
        });
    }

    #[test]
    fn wrapped_twice_it_is_an_asincrono_stream_again() {
        // The inner wrapper is hyper's view of a duplex; the outer one turns that back into
        // asincrono's traits: the path of a connection hyper hands back (an upgrade).
        asincrono::block_on(async {
            let (ours, mut theirs) = asincrono::io::duplex(64);
            let mut io = AsincronoIo::new(AsincronoIo::new(ours));
            theirs.write_all(b"ping").await.unwrap();
            let mut got = [0u8; 4];
            io.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"ping");
            io.write_all(b"pong").await.unwrap();
            io.shutdown().await.unwrap();
            let mut back = Vec::new();
            theirs.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"pong");
            drop(theirs);
            let mut rest = Vec::new();
            io.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "the end of stream crosses both wrappers");
        });
    }
}
