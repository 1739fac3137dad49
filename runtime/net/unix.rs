//! Unix-domain stream sockets: `UnixListener` and `UnixStream`.

use super::registered::Registered;
use crate::driver::Direction;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use crate::util::with_context;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The address of a Unix-domain socket (a path, or unnamed).
pub use std::os::unix::net::SocketAddr;

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
        let listener = mio::net::UnixListener::bind(path)
            .map_err(|err| with_context(err, "bind", path.display()))?;
        Ok(UnixListener {
            io: Registered::new(listener, "UnixListener::bind")?,
        })
    }

    /// Waits for a connection. Cancel-safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self
            .io
            .io(Direction::Read, |listener| listener.accept())
            .await?;
        Ok((UnixStream::from_mio(stream)?, peer))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
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
        let connected = async {
            let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
            // As for TCP: completion shows as "writable"; `take_error` tells success from failure.
            stream
                .io
                .io(Direction::Write, |socket| match socket.take_error()? {
                    Some(err) => Err(err),
                    None => Ok(()),
                })
                .await?;
            Ok(stream)
        };
        connected
            .await
            .map_err(|err| with_context(err, "connect to", path.display()))
    }

    /// A pair of connected sockets (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Registered::new(stream, "UnixStream")?,
        })
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.poll_read(cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(super::write_shutdown_outcome(
            self.io.get_ref().shutdown(Shutdown::Write),
        ))
    }
}
