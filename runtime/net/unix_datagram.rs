//! `UnixDatagram`: Unix-domain datagram sockets, the Unix sibling of `UdpSocket`.
//!
//! Same three shapes per operation as `udp.rs` (`async`, `poll_*`, `try_*`), each a line
//! over `registered.rs`; the readiness methods come from `readiness.rs`. Paths starting
//! with a NUL byte name Linux abstract sockets, as for `UnixListener`.

use super::fd::fd_impls;
use super::readiness::readiness_methods;
use super::registered::Registered;
use super::unix::{SocketAddr, address_of};
use super::vec_buf::{receive_into_read_buf, receive_into_spare};
use crate::driver::Direction;
use crate::io::{Interest, ReadBuf, Ready};
use crate::util::with_context;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix-domain datagram socket.
///
/// ```
/// use asincrono::net::UnixDatagram;
/// asincrono::block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let mut buf = [0; 16];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     std::io::Result::Ok(())
/// }).unwrap();
/// ```
pub struct UnixDatagram {
    io: Registered<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to `path` (the file must not exist).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        address_of(path)
            .and_then(|addr| mio::net::UnixDatagram::bind_addr(&addr))
            .and_then(UnixDatagram::from_mio)
            .map_err(|err| with_context(err, "bind", path.display()))
    }

    /// A socket bound to no address: it can send, and receive replies once connected.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        let (a, b) = (UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?);
        // A new pair has empty buffers: writable now (as `UnixStream::pair`).
        a.io.assume_ready(Ready::WRITABLE);
        b.io.assume_ready(Ready::WRITABLE);
        Ok((a, b))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Registered::new(socket, "UnixDatagram")?,
        })
    }

    /// Wraps a `std` socket (it is switched to non-blocking mode).
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Deregisters the socket and returns it as a `std` one, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(OwnedFd::from(self.io.into_inner()?).into())
    }

    /// Sets the only peer `send` and `recv` talk to.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .get_ref()
            .connect(path)
            .map_err(|err| with_context(err, "connect to", path.display()))
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Sends one datagram to the socket at `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        std::future::poll_fn(|cx| self.poll_send_to(cx, buf, path))
            .await
            .map_err(|err| with_context(err, "send to", path.display()))
    }

    /// Receives one datagram from the connected peer. Bytes beyond `buf.len()` are lost.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
    }

    /// The poll behind [`recv`](UnixDatagram::recv), into the unfilled part of `buf`.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        receive_into_read_buf(buf, |unfilled| {
            self.io
                .poll_io(cx, Direction::Read, |socket| socket.recv(unfilled))
                .map_ok(|n| (n, ()))
        })
    }

    /// The poll behind [`recv_from`](UnixDatagram::recv_from): one datagram into `buf`, and
    /// its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        receive_into_read_buf(buf, |unfilled| {
            self.io
                .poll_io(cx, Direction::Read, |socket| socket.recv_from(unfilled))
        })
    }

    /// Receives one datagram and its sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Receives one datagram into the spare capacity of `buf` (tokio: any `BufMut`).
    pub async fn recv_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        Ok(self.recv_buf_from(buf).await?.0)
    }

    /// [`recv_from`](UnixDatagram::recv_from) into the spare capacity of `buf`.
    pub async fn recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| {
                receive_into_spare(buf, |spare| socket.recv_from(spare))
            })
            .await
    }

    /// The poll behind [`send`](UnixDatagram::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |socket| socket.send(buf))
    }

    /// The poll behind [`send_to`](UnixDatagram::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let path = path.as_ref();
        self.io
            .poll_io(cx, Direction::Write, |socket| socket.send_to(buf, path))
    }

    /// Sends to the connected peer without waiting.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |socket| socket.send(buf))
    }

    /// Sends to the socket at `path` without waiting.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .try_io(Interest::WRITABLE, |socket| socket.send_to(buf, path))
    }

    /// Receives from the connected peer without waiting.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |socket| socket.recv(buf))
    }

    /// Receives one datagram and its sender without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Interest::READABLE, |socket| socket.recv_from(buf))
    }

    /// [`try_recv`](UnixDatagram::try_recv) into the spare capacity of `buf`.
    pub fn try_recv_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        Ok(self.try_recv_buf_from(buf)?.0)
    }

    /// [`try_recv_from`](UnixDatagram::try_recv_from) into the spare capacity of `buf`.
    pub fn try_recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |socket| {
            receive_into_spare(buf, |spare| socket.recv_from(spare))
        })
    }

    readiness_methods!(ready, readable, writable, datagram);

    fn registered(&self) -> &Registered<mio::net::UnixDatagram> {
        &self.io
    }

    /// This socket's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down reading, writing or both (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

fd_impls!(UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
