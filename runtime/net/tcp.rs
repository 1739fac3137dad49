//! TCP: `TcpListener`, `TcpStream`, and a stream's owned halves.
//!
//! The halves are public here too (`asincrono::net::tcp::OwnedReadHalf`), the path tokio
//! code names them by.

use super::ToSocketAddrs;
use super::each_addr;
use super::registered::Registered;
use crate::driver::Direction;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use std::fmt;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A TCP socket listening for connections.
///
/// ```
/// use asincrono::io::{AsyncReadExt, AsyncWriteExt};
/// use asincrono::net::{TcpListener, TcpStream};
///
/// asincrono::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = asincrono::spawn(async move {
///         let mut stream = TcpStream::connect(addr).await?;
///         stream.write_all(b"hello").await?;
///         std::io::Result::Ok(())
///     });
///     let (mut stream, _peer) = listener.accept().await?;
///     let mut greeting = String::new();
///     stream.read_to_string(&mut greeting).await?;
///     assert_eq!(greeting, "hello");
///     client.await??;
///     std::io::Result::Ok(())
/// }).unwrap();
/// ```
pub struct TcpListener {
    io: Registered<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0: any free port; see [`TcpListener::local_addr`]). Fails with
    /// `AddrInUse` if the port is taken, naming the address.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, "bind", |addr| async move {
            let listener = mio::net::TcpListener::bind(addr)?;
            Ok(TcpListener {
                io: Registered::new(listener, "TcpListener::bind")?,
            })
        })
        .await
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// An error (for instance `EMFILE`, "too many open files", when the process is out of
    /// file descriptors) is returned to the caller, not retried: the listener stays usable,
    /// and a server should back off briefly before accepting again, or it would spin.
    ///
    /// Cancel-safe: if dropped before completing, no connection is lost.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll behind [`TcpListener::accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |listener| listener.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                Ok((TcpStream::from_mio(stream, Some(peer))?, peer))
            })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Wraps a bound `std` listener (it is switched to non-blocking mode).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        let listener = mio::net::TcpListener::from_std(listener);
        Ok(TcpListener {
            io: Registered::new(listener, "TcpListener::from_std")?,
        })
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection. Reads and writes through [`AsyncRead`] and [`AsyncWrite`] (use the
/// `AsyncReadExt`/`AsyncWriteExt` methods); [`TcpStream::into_split`] gives two halves that
/// can live in different tasks.
pub struct TcpStream {
    io: Registered<mio::net::TcpStream>,
    /// The peer's address, remembered from `connect` or `accept`: read and write errors
    /// name it, and after a reset the socket itself can no longer tell it.
    peer: Option<SocketAddr>,
}

impl TcpStream {
    /// Opens a connection to `addr` (each resolved address in turn). Fails with
    /// `ConnectionRefused` when nothing listens there, naming the address.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, "connect to", TcpStream::connect_addr).await
    }

    // ANCHOR: connect_addr
    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?, Some(addr))?;
        // A non-blocking connect reports completion as "writable". Then `take_error` says
        // whether it failed; `peer_addr` failing with `NotConnected` means the event was
        // spurious and we must wait again (treated as `WouldBlock` by the retry loop).
        stream
            .io
            .io(Direction::Write, |socket| match socket.take_error()? {
                Some(err) => Err(err),
                None => match socket.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(err) => Err(err),
                },
            })
            .await?;
        Ok(stream)
    }
    // ANCHOR_END: connect_addr

    fn from_mio(stream: mio::net::TcpStream, peer: Option<SocketAddr>) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Registered::new(stream, "TcpStream::connect")?,
            peer,
        })
    }

    /// Wraps a connected `std` stream (it is switched to non-blocking mode).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        let peer = stream.peer_addr().ok();
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream), peer)
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of batching them (Nagle).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Splits the stream into a read half and a write half that can be moved to different
    /// tasks. Dropping the write half shuts down the writing direction (the peer reads EOF).
    // ANCHOR: into_split
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            OwnedReadHalf {
                stream: stream.clone(),
            },
            OwnedWriteHalf { stream },
        )
    }
    // ANCHOR_END: into_split

    /// The reading behind `AsyncRead`, shared by the stream and its read half.
    fn read_some(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io
            .poll_read(cx, buf)
            .map_err(|err| self.name_peer(err, "read from"))
    }

    /// The writing behind `AsyncWrite`, shared by the stream and its write half.
    fn write_some(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_write(cx, buf)
            .map_err(|err| self.name_peer(err, "write to"))
    }

    /// `write_some` from several buffers, in one `writev`.
    fn write_some_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_vectored(cx, bufs)
            .map_err(|err| self.name_peer(err, "write to"))
    }

    fn shutdown_write(&self) -> io::Result<()> {
        super::write_shutdown_outcome(self.io.get_ref().shutdown(Shutdown::Write))
            .map_err(|err| self.name_peer(err, "shut down the connection to"))
    }

    /// Adds the peer's address to an error (on the error path only: nothing is formatted
    /// while all goes well). The error kind is kept.
    fn name_peer(&self, err: io::Error, what: &str) -> io::Error {
        match self.peer {
            Some(peer) => crate::util::with_context(err, what, peer),
            None => err,
        }
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.read_some(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_some(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.write_some_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Arc<TcpStream>,
}

/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it shuts
/// down the writing direction.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<TcpStream>,
}

impl OwnedReadHalf {
    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl OwnedWriteHalf {
    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream.read_some(cx, buf)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.write_some(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.write_some_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown_write())
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        let _ = self.stream.shutdown_write();
    }
}
