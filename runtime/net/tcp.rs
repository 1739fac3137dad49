//! TCP: `TcpListener`, `TcpStream`, and a stream's halves.
//!
//! The halves are public here (`asincrono::net::tcp::ReadHalf`, `OwnedReadHalf`, …), the
//! path tokio code names them by; they are written once, for TCP and Unix streams alike, in
//! `split.rs`. The readiness methods (`readable`, `try_read`, …) come from `readiness.rs`.

use super::ToSocketAddrs;
use super::each_addr;
use super::fd::fd_impls;
use super::readiness::readiness_methods;
use super::registered::Registered;
use super::sockopt;
use super::split::{self, SplitStream, half_methods, stream_io_impls};
use super::vec_buf::receive_into_read_buf;
use crate::driver::Direction;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf, Ready};
use std::fmt;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The reading half of a [`TcpStream`], borrowed by [`TcpStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, TcpStream>;
/// The writing half of a [`TcpStream`], borrowed by [`TcpStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, TcpStream>;
/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
pub type OwnedReadHalf = split::OwnedReadHalf<TcpStream>;
/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it shuts
/// down the writing direction.
pub type OwnedWriteHalf = split::OwnedWriteHalf<TcpStream>;
/// Two owned halves of different streams, handed back by a failed `reunite`.
pub type ReuniteError = split::ReuniteError<TcpStream>;

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
                let stream = TcpStream::from_mio(stream, Some(peer))?;
                // Data may be waiting already, and the send buffer is empty: try at once.
                stream.io.assume_ready(Ready::READABLE | Ready::WRITABLE);
                Ok((stream, peer))
            })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Wraps a bound `std` listener (it is switched to non-blocking mode).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    pub(super) fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Registered::new(listener, "TcpListener::from_std")?,
        })
    }

    /// Deregisters the listener and returns it as a `std` one, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(OwnedFd::from(self.io.into_inner()?).into())
    }

    /// Sets the time-to-live of the packets sent from accepted sockets (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The time-to-live of packets (`IP_TTL`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
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
/// `AsyncReadExt`/`AsyncWriteExt` methods), or without waiting through `try_read` and
/// `try_write` after `readable()`/`writable()`. [`TcpStream::split`] gives two borrowed
/// halves, [`TcpStream::into_split`] two owned ones that can live in different tasks.
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
        stream.connected().await?;
        Ok(stream)
    }

    /// Waits for a connect that is under way to finish (also for `TcpSocket::connect`).
    pub(super) async fn connected(&self) -> io::Result<()> {
        // A non-blocking connect reports completion as "writable". Then `take_error` says
        // whether it failed; `peer_addr` failing with `NotConnected` means the event was
        // spurious and we must wait again (treated as `WouldBlock` by the retry loop).
        self.io
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
            .await
    }
    // ANCHOR_END: connect_addr

    pub(super) fn from_mio(
        stream: mio::net::TcpStream,
        peer: Option<SocketAddr>,
    ) -> io::Result<TcpStream> {
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

    /// Deregisters the stream and returns it as a `std` one, still in non-blocking mode
    /// (call `set_nonblocking(false)` to use it with blocking reads).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(OwnedFd::from(self.io.into_inner()?).into())
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of batching them (Nagle).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the time-to-live of the packets sent (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The time-to-live of the packets sent (`IP_TTL`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `SO_LINGER`. Deprecated in tokio because `Some(_)` makes dropping the stream
    /// block the thread in `close` until the data is sent; use
    /// [`set_zero_linger`](TcpStream::set_zero_linger) to reset the connection on drop.
    #[deprecated = "`Some(_)` makes drop block the thread; use `set_zero_linger` instead"]
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        sockopt::set_linger(self.io.get_ref(), linger)
    }

    /// Makes dropping the stream reset the connection (`SO_LINGER` of zero): unsent data is
    /// thrown away and the peer sees `ConnectionReset`.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        sockopt::set_linger(self.io.get_ref(), Some(Duration::ZERO))
    }

    /// The `SO_LINGER` setting: `None` unless set.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        sockopt::linger(self.io.get_ref())
    }

    /// Reads the waiting bytes into `buf` without taking them: the next read gets them
    /// again. Waits if there are none; `Ok(0)` is end of file.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.io.poll_peek(cx, buf, mio::net::TcpStream::peek)).await
    }

    /// The poll behind [`peek`](TcpStream::peek): the waiting bytes into the unfilled part
    /// of `buf`, left queued; the count is also what was added to `buf`.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        receive_into_read_buf(buf, |unfilled| {
            self.io
                .poll_peek(cx, unfilled, mio::net::TcpStream::peek)
                .map_ok(|n| (n, n))
        })
    }

    /// Two halves borrowing the stream, one reading and one writing, usable at the same
    /// time (in `join!`, say). Shutting the write half down shuts the stream's writing down.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into a read half and a write half that can be moved to different
    /// tasks. Dropping the write half shuts down the writing direction (the peer reads EOF);
    /// `reunite` puts the halves back together.
    // ANCHOR: into_split
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            OwnedReadHalf::new(stream.clone()),
            OwnedWriteHalf::new(stream),
        )
    }
    // ANCHOR_END: into_split

    readiness_methods!(ready, readable, writable, stream_read, stream_write);

    fn registered(&self) -> &Registered<mio::net::TcpStream> {
        &self.io
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

/// Reading, writing and shutting down, shared by the stream and its halves.
impl SplitStream for TcpStream {
    fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io
            .poll_read(cx, buf)
            .map_err(|err| self.name_peer(err, "read from"))
    }

    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_write(cx, buf)
            .map_err(|err| self.name_peer(err, "write to"))
    }

    fn poll_write_vectored_shared(
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
}

half_methods!(TcpStream, mio::net::TcpStream, SocketAddr);

impl ReadHalf<'_> {
    /// [`TcpStream::peek`]: reads the waiting bytes without taking them.
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        AsRef::<TcpStream>::as_ref(self).peek(buf).await
    }
}

impl OwnedReadHalf {
    /// [`TcpStream::peek`]: reads the waiting bytes without taking them.
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        AsRef::<TcpStream>::as_ref(self).peek(buf).await
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

fd_impls!(TcpListener, TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

stream_io_impls!(TcpStream);
