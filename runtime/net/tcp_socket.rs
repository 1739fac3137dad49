//! `TcpSocket`: a TCP socket not yet connected or listening, to set options on first
//! (`SO_REUSEADDR`, buffer sizes, …) and then `connect` or `listen`.
//!
//! Neither std nor mio (since 0.8) has such a type, and tokio's is built on `socket2`.
//! asincrono makes the socket with libc (`socket(2)`, then `bind`, `listen`, `connect`), and
//! holds the descriptor in a `std::net::TcpStream` in the meantime: std calls any socket a
//! stream once it has the descriptor, and that lends us its safe `local_addr`,
//! `set_nodelay` and `take_error` for free. The options std lacks go through `sockopt.rs`.
//! The `unsafe` in this file is the four libc calls and the one adoption of a new
//! descriptor, each with its argument.

use super::sockopt::{self, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, SOL_SOCKET};
use super::tcp::{TcpListener, TcpStream};
use crate::util::with_context;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A TCP socket before it connects or listens.
///
/// ```
/// use asincrono::net::TcpSocket;
///
/// asincrono::block_on(async {
///     let server = TcpSocket::new_v4()?;
///     server.set_reuseaddr(true)?;
///     server.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = server.listen(128)?;
///
///     let client = TcpSocket::new_v4()?;
///     let stream = client.connect(listener.local_addr()?).await?;
///     let (_accepted, peer) = listener.accept().await?;
///     assert_eq!(peer, stream.local_addr()?);
///     std::io::Result::Ok(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    /// The descriptor, owned; a `TcpStream` only in std's eyes (see the module doc).
    inner: std::net::TcpStream,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, closed on `exec`).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(libc::AF_INET)
    }

    /// A new IPv6 TCP socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(libc::AF_INET6)
    }

    fn new(domain: libc::c_int) -> io::Result<TcpSocket> {
        let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: `socket(2)` takes plain integers and touches no memory of ours.
        let fd = check(unsafe { libc::socket(domain, kind, 0) })?;
        // SAFETY: `fd` was just returned by `socket(2)`, is open, and nothing else owns it:
        // the `OwnedFd` becomes its only owner and will close it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(TcpSocket { inner: fd.into() })
    }

    /// Takes over a `std` stream's socket (switched to non-blocking mode), to set options on
    /// it and connect or listen.
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        // Failing to switch modes would only make `connect` block; report nothing, as tokio.
        let _ = stream.set_nonblocking(true);
        TcpSocket { inner: stream }
    }

    /// Binds the socket to `addr` (port 0: any free port).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        with_raw_address(addr, |raw, len| {
            // SAFETY: the descriptor is open (owned by `self`); `raw` and `len` describe a
            // live `sockaddr_in`/`sockaddr_in6` that the kernel only reads.
            check(unsafe { libc::bind(self.inner.as_raw_fd(), raw, len) })
        })
        .map(drop)
        .map_err(|err| with_context(err, "bind", addr))
    }

    /// Connects to `addr` and waits for the handshake; the socket becomes a [`TcpStream`].
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let started = with_raw_address(addr, |raw, len| {
            // SAFETY: as in `bind`: an open descriptor and a live address the kernel reads.
            check(unsafe { libc::connect(self.inner.as_raw_fd(), raw, len) })
        });
        match started {
            Ok(_) => {}
            // Non-blocking: the handshake goes on, and "writable" will say it ended.
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(with_context(err, "connect to", addr)),
        }
        let socket = mio::net::TcpStream::from(OwnedFd::from(self.inner));
        let stream = TcpStream::from_mio(socket, Some(addr))?;
        stream
            .connected()
            .await
            .map_err(|err| with_context(err, "connect to", addr))?;
        Ok(stream)
    }

    /// Listens for connections, with room for `backlog` not yet accepted; the socket becomes
    /// a [`TcpListener`].
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
        // SAFETY: plain integers; the descriptor is open (owned by `self`).
        check(unsafe { libc::listen(self.inner.as_raw_fd(), backlog) })?;
        TcpListener::from_mio(mio::net::TcpListener::from(OwnedFd::from(self.inner)))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Sets `SO_REUSEADDR`: bind even while old connections on the port linger in
    /// `TIME_WAIT`.
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        sockopt::set_flag(self, SOL_SOCKET, sockopt::SO_REUSEADDR, on)
    }

    /// The `SO_REUSEADDR` setting.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        sockopt::flag(self, SOL_SOCKET, sockopt::SO_REUSEADDR)
    }

    /// Sets `SO_REUSEPORT`: several sockets may bind the same port and share its
    /// connections.
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        sockopt::set_flag(self, SOL_SOCKET, sockopt::SO_REUSEPORT, on)
    }

    /// The `SO_REUSEPORT` setting.
    pub fn reuseport(&self) -> io::Result<bool> {
        sockopt::flag(self, SOL_SOCKET, sockopt::SO_REUSEPORT)
    }

    /// Sets `SO_KEEPALIVE`: probe an idle connection to find a dead peer.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        sockopt::set_flag(self, SOL_SOCKET, sockopt::SO_KEEPALIVE, on)
    }

    /// The `SO_KEEPALIVE` setting.
    pub fn keepalive(&self) -> io::Result<bool> {
        sockopt::flag(self, SOL_SOCKET, sockopt::SO_KEEPALIVE)
    }

    /// Sets the send buffer size (`SO_SNDBUF`; Linux doubles the value for its bookkeeping).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        sockopt::set_u32(self, SOL_SOCKET, sockopt::SO_SNDBUF, size)
    }

    /// The send buffer size (`SO_SNDBUF`).
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        sockopt::get_u32(self, SOL_SOCKET, sockopt::SO_SNDBUF)
    }

    /// Sets the receive buffer size (`SO_RCVBUF`; Linux doubles the value).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        sockopt::set_u32(self, SOL_SOCKET, sockopt::SO_RCVBUF, size)
    }

    /// The receive buffer size (`SO_RCVBUF`).
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        sockopt::get_u32(self, SOL_SOCKET, sockopt::SO_RCVBUF)
    }

    /// Sets `SO_LINGER` (see [`TcpStream::set_linger`]).
    #[deprecated = "`Some(_)` makes drop block the thread; use `set_zero_linger` instead"]
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        sockopt::set_linger(self, linger)
    }

    /// Makes closing the socket reset the connection (`SO_LINGER` of zero).
    pub fn set_zero_linger(&self) -> io::Result<()> {
        sockopt::set_linger(self, Some(Duration::ZERO))
    }

    /// The `SO_LINGER` setting: `None` unless set.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        sockopt::linger(self)
    }

    /// Sets `TCP_NODELAY` (see [`TcpStream::set_nodelay`]).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        sockopt::set_flag(self, IPPROTO_TCP, sockopt::TCP_NODELAY, on)
    }

    /// The `TCP_NODELAY` setting.
    pub fn nodelay(&self) -> io::Result<bool> {
        sockopt::flag(self, IPPROTO_TCP, sockopt::TCP_NODELAY)
    }

    /// Sets the type-of-service byte of IPv4 packets sent (`IP_TOS`).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        sockopt::set_u32(self, IPPROTO_IP, sockopt::IP_TOS, tos)
    }

    /// The `IP_TOS` setting.
    pub fn tos_v4(&self) -> io::Result<u32> {
        sockopt::get_u32(self, IPPROTO_IP, sockopt::IP_TOS)
    }

    /// Sets the traffic class of IPv6 packets sent (`IPV6_TCLASS`).
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        sockopt::set_u32(self, IPPROTO_IPV6, sockopt::IPV6_TCLASS, tclass)
    }

    /// The `IPV6_TCLASS` setting.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        sockopt::get_u32(self, IPPROTO_IPV6, sockopt::IPV6_TCLASS)
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// A libc return value: `-1` means the error is in `errno`.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// Calls `f` with `addr` in the kernel's layout (`sockaddr_in` or `sockaddr_in6`, on the
/// stack for the duration of the call) and its length.
fn with_raw_address<R>(
    addr: SocketAddr,
    f: impl FnOnce(*const libc::sockaddr, libc::socklen_t) -> R,
) -> R {
    match addr {
        SocketAddr::V4(addr) => {
            let raw = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: addr.port().to_be(),
                // The octets in memory order are already network byte order.
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(addr.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            f(
                (&raw const raw).cast(),
                size_of_val(&raw) as libc::socklen_t,
            )
        }
        SocketAddr::V6(addr) => {
            let raw = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: addr.port().to_be(),
                sin6_flowinfo: addr.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: addr.ip().octets(),
                },
                sin6_scope_id: addr.scope_id(),
            };
            f(
                (&raw const raw).cast(),
                size_of_val(&raw) as libc::socklen_t,
            )
        }
    }
}
