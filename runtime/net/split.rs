//! The halves of a stream socket: borrowed (`split`) and owned (`into_split`), for
//! `TcpStream` and `UnixStream` alike.
//!
//! A socket reads and writes through `&self` (the reactor's readiness record has its own
//! lock, and the kernel lets one thread read a socket while another writes it), so a half
//! needs no `Mutex`, unlike `io::split`: the borrowed halves share a `&S`, the owned ones an
//! `Arc<S>`. The halves are written once here, generic over the stream; `tcp.rs` and
//! `unix.rs` name them by tokio's paths (`net::tcp::ReadHalf<'a>` is `ReadHalf<'a,
//! TcpStream>`) and add the methods that depend on the stream type through
//! `half_methods!`. tokio writes each half out per stream type instead.
//!
//! Dropping an owned write half shuts down the writing direction, so the peer reads end of
//! file, as in tokio; `reunite` puts the two owned halves back together without that.

use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What a stream offers its halves. Reachable only inside the crate (a public trait in a
/// private module), so only asincrono's streams implement it.
pub trait SplitStream {
    /// One read, as the stream's own `poll_read`.
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>)
    -> Poll<io::Result<()>>;
    /// One write, as the stream's own `poll_write`.
    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// One `writev`, as the stream's own `poll_write_vectored`.
    fn poll_write_vectored_shared(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    /// Shuts down the writing direction; `Ok` if already shut down or the peer is gone.
    fn shutdown_write(&self) -> io::Result<()>;
}

/// The reading half of a stream, borrowed by `split`.
#[derive(Debug)]
pub struct ReadHalf<'a, S>(&'a S);

/// The writing half of a stream, borrowed by `split`. Shutting it down (`shutdown()`) shuts
/// down the stream's writing direction; dropping it does not.
#[derive(Debug)]
pub struct WriteHalf<'a, S>(&'a S);

/// The two borrowed halves of `stream`.
pub(super) fn split<S>(stream: &S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf(stream), WriteHalf(stream))
}

/// The reading half of a stream, from `into_split`: it can move to another task.
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    stream: Arc<S>,
}

/// The writing half of a stream, from `into_split`. Dropping it shuts down the writing
/// direction (the peer reads end of file), unless it was `forget`-ten or reunited.
#[derive(Debug)]
pub struct OwnedWriteHalf<S: SplitStream> {
    stream: Arc<S>,
    shutdown_on_drop: bool,
}

impl<S> OwnedReadHalf<S> {
    pub(super) fn new(stream: Arc<S>) -> OwnedReadHalf<S> {
        OwnedReadHalf { stream }
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    pub(super) fn new(stream: Arc<S>) -> OwnedWriteHalf<S> {
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        }
    }

    /// Puts the stream back together with its read half; fails, handing both back, if
    /// `read` came from another stream.
    pub fn reunite(self, read: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(read, self)
    }

    /// Drops the half without shutting down the writing direction.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together with its write half; fails, handing both back, if
    /// `write` came from another stream.
    pub fn reunite(self, write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, write)
    }
}

fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    Ok(Arc::into_inner(read.stream).expect("the two halves held the only references"))
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.stream.shutdown_write();
        }
    }
}

/// The halves given to `reunite` came from different streams; here they are back.
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl<S: SplitStream> Error for ReuniteError<S> {}

macro_rules! as_ref_to_stream {
    ($($half:ty => $field:tt),*) => {$(
        impl<S> AsRef<S> for $half {
            fn as_ref(&self) -> &S {
                &self.$field
            }
        }
    )*};
}

as_ref_to_stream!(ReadHalf<'_, S> => 0, WriteHalf<'_, S> => 0, OwnedReadHalf<S> => stream);

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

// The I/O traits: each half forwards to the stream through `&S`.

impl<S: SplitStream> AsyncRead for ReadHalf<'_, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.0.poll_read_shared(cx, buf)
    }
}

impl<S: SplitStream> AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream.poll_read_shared(cx, buf)
    }
}

impl<S: SplitStream> AsyncWrite for WriteHalf<'_, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_shared(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored_shared(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.shutdown_write())
    }
}

impl<S: SplitStream> AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_shared(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_shared(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = self.stream.shutdown_write();
        // Shut down once is enough: dropping the half later need not do it again.
        self.shutdown_on_drop = false;
        Poll::Ready(result)
    }
}

/// The methods of a stream's four halves that depend on the stream type: its addresses
/// and readiness (`readiness.rs`). Invoked once in `tcp.rs` and once in `unix.rs`.
macro_rules! half_methods {
    ($stream:ty, $source:ty, $addr:ty) => {
        $crate::net::split::half_methods!(@ $stream, $source, $addr,
            $crate::net::split::ReadHalf<'_, $stream> => [ready, readable, stream_read],
            $crate::net::split::OwnedReadHalf<$stream> => [ready, readable, stream_read],
            $crate::net::split::WriteHalf<'_, $stream> => [ready, writable, stream_write],
            $crate::net::split::OwnedWriteHalf<$stream> => [ready, writable, stream_write]
        );
    };
    (@ $stream:ty, $source:ty, $addr:ty, $($half:ty => [$($group:ident),*]),*) => {$(
        impl $half {
            fn registered(&self) -> &$crate::net::registered::Registered<$source> {
                AsRef::<$stream>::as_ref(self).registered()
            }

            /// The address of the other end.
            pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
                AsRef::<$stream>::as_ref(self).peer_addr()
            }

            /// The address of this end.
            pub fn local_addr(&self) -> ::std::io::Result<$addr> {
                AsRef::<$stream>::as_ref(self).local_addr()
            }

            $crate::net::readiness::readiness_methods!($($group),*);
        }
    )*};
}

pub(crate) use half_methods;

/// `AsyncRead` and `AsyncWrite` for a stream itself, over the same [`SplitStream`] methods
/// its halves use: written once, invoked in `tcp.rs` and `unix.rs`.
macro_rules! stream_io_impls {
    ($stream:ty) => {
        impl AsyncRead for $stream {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                self.poll_read_shared(cx, buf)
            }
        }

        impl AsyncWrite for $stream {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_shared(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_shared(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown_write())
            }
        }
    };
}
pub(crate) use stream_io_impls;
