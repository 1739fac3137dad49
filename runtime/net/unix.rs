//! Unix-domain stream sockets: `UnixListener`, `UnixStream` and a stream's halves.
//!
//! The halves are public here (`asincrono::net::unix::ReadHalf`, `OwnedWriteHalf`, …), as in
//! tokio, and written once for TCP and Unix streams in `split.rs`. A path that starts with a
//! NUL byte (`"\0name"`) names a Linux abstract socket, as in tokio: no file is created.

use super::fd::fd_impls;
use super::readiness::readiness_methods;
use super::registered::Registered;
use super::split::{self, SplitStream, half_methods, stream_io_impls};
use crate::driver::Direction;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf, Ready};
use crate::util::with_context;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The address of a Unix-domain socket (a path, an abstract name, or unnamed).
pub use std::os::unix::net::SocketAddr;

/// The reading half of a [`UnixStream`], borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, UnixStream>;
/// The writing half of a [`UnixStream`], borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, UnixStream>;
/// The reading half of a [`UnixStream`], from [`UnixStream::into_split`].
pub type OwnedReadHalf = split::OwnedReadHalf<UnixStream>;
/// The writing half of a [`UnixStream`], from [`UnixStream::into_split`]. Dropping it shuts
/// down the writing direction.
pub type OwnedWriteHalf = split::OwnedWriteHalf<UnixStream>;
/// Two owned halves of different streams, handed back by a failed `reunite`.
pub type ReuniteError = split::ReuniteError<UnixStream>;

/// The socket address `path` names: a Linux abstract name if it starts with a NUL byte, a
/// file path otherwise.
pub(super) fn address_of(path: &Path) -> io::Result<SocketAddr> {
    match path.as_os_str().as_bytes() {
        [0, name @ ..] => abstract_address(name),
        _ => SocketAddr::from_pathname(path),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_address(name: &[u8]) -> io::Result<SocketAddr> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_address(_name: &[u8]) -> io::Result<SocketAddr> {
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "abstract Unix socket names (a path starting with NUL) exist on Linux only",
    ))
}

/// A Unix-domain socket listening for connections at a path.
pub struct UnixListener {
    io: Registered<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it (not `async`, as in tokio: binding
    /// a path never waits). Must be called inside a runtime. Fails with `AddrInUse` if the
    /// file exists, naming the path.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        address_of(path)
            .and_then(|addr| UnixListener::bind_addr(&addr))
            .map_err(|err| with_context(err, "bind", path.display()))
    }

    /// Listens at `addr` (from `SocketAddr::from_pathname`, say).
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::from_mio(mio::net::UnixListener::bind_addr(addr)?)
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Registered::new(listener, "UnixListener::bind")?,
        })
    }

    /// Wraps a `std` listener (it is switched to non-blocking mode).
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Deregisters the listener and returns it as a `std` one, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(OwnedFd::from(self.io.into_inner()?).into())
    }

    /// Waits for a connection. Cancel-safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll behind [`UnixListener::accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |listener| listener.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                let stream = UnixStream::from_mio(stream)?;
                // Data may be waiting already, and the send buffer is empty: try at once.
                stream.io.assume_ready(Ready::READABLE | Ready::WRITABLE);
                Ok((stream, peer))
            })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A Unix-domain stream connection.
pub struct UnixStream {
    io: Registered<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`. Fails with `NotFound` or `ConnectionRefused`, naming
    /// the path.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let connected = async { UnixStream::connect_addr(&address_of(path)?).await };
        connected
            .await
            .map_err(|err| with_context(err, "connect to", path.display()))
    }

    /// Connects to the socket at `addr`.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect_addr(addr)?)?;
        // As for TCP: completion shows as "writable"; `take_error` tells success from failure.
        stream
            .io
            .io(Direction::Write, |socket| match socket.take_error()? {
                Some(err) => Err(err),
                None => Ok(()),
            })
            .await?;
        Ok(stream)
    }

    /// A pair of connected sockets (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        let (a, b) = (UnixStream::from_mio(a)?, UnixStream::from_mio(b)?);
        // A new pair has empty buffers: writable now, readable once the other end writes.
        a.io.assume_ready(Ready::WRITABLE);
        b.io.assume_ready(Ready::WRITABLE);
        Ok((a, b))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Registered::new(stream, "UnixStream")?,
        })
    }

    /// Wraps a connected `std` stream (it is switched to non-blocking mode).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Deregisters the stream and returns it as a `std` one, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(OwnedFd::from(self.io.into_inner()?).into())
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Two halves borrowing the stream, one reading and one writing, usable at the same
    /// time. Shutting the write half down shuts the stream's writing down.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into halves that can be moved to different tasks. Dropping the
    /// write half shuts down the writing direction; `reunite` puts the halves back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            OwnedReadHalf::new(stream.clone()),
            OwnedWriteHalf::new(stream),
        )
    }

    readiness_methods!(ready, readable, writable, stream_read, stream_write);

    fn registered(&self) -> &Registered<mio::net::UnixStream> {
        &self.io
    }
}

/// Reading, writing and shutting down, shared by the stream and its halves.
impl SplitStream for UnixStream {
    fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.poll_read(cx, buf)
    }

    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    fn poll_write_vectored_shared(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        super::write_shutdown_outcome(self.io.get_ref().shutdown(Shutdown::Write))
    }
}

half_methods!(UnixStream, mio::net::UnixStream, SocketAddr);

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

fd_impls!(UnixListener, UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

stream_io_impls!(UnixStream);
