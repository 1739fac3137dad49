//! UDP: `UdpSocket`.
//!
//! Every operation comes in tokio's three shapes: `async` (`send_to`), poll (`poll_send_to`)
//! and non-waiting (`try_send_to`), each a one-line call into `registered.rs`. The socket
//! options std and mio lack (`IP_TOS`, `IPV6_TCLASS`) go through `sockopt.rs`.

use super::ToSocketAddrs;
use super::fd::fd_impls;
use super::readiness::readiness_methods;
use super::registered::Registered;
use super::sockopt;
use super::vec_buf::{receive_into_read_buf, receive_into_spare};
use super::{each_addr, first_addr};
use crate::driver::Direction;
use crate::io::{Interest, ReadBuf};
use crate::util::with_context;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::task::{Context, Poll};

/// A UDP socket: datagrams to and from any address, or, once [`UdpSocket::connect`]ed, to
/// and from one peer.
///
/// ```
/// use asincrono::net::UdpSocket;
/// asincrono::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (len, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..len], from), (&b"ping"[..], a.local_addr()?));
///     std::io::Result::Ok(())
/// }).unwrap();
/// ```
pub struct UdpSocket {
    io: Registered<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (port 0: any free port).
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, "bind", |addr| async move {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Registered::new(socket, "UdpSocket::bind")?,
        })
    }

    /// Wraps a bound `std` socket (it is switched to non-blocking mode).
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Deregisters the socket and returns it as a `std` one, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(OwnedFd::from(self.io.into_inner()?).into())
    }

    /// Sets the only peer `send` and `recv` talk to (datagrams from others are dropped).
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(addr, "connect to", |addr| async move {
            self.io.get_ref().connect(addr)
        })
        .await
    }

    /// Sends one datagram to `target` (the first address it resolves to); returns the bytes
    /// sent. Cancel-safe: a datagram is sent whole or not at all.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = first_addr(target, "send to").await?;
        self.io
            .io(Direction::Write, |socket| socket.send_to(buf, target))
            .await
            .map_err(|err| with_context(err, "send to", target))
    }

    /// Receives one datagram; returns its length and sender. Bytes beyond `buf.len()` are
    /// discarded. Cancel-safe: no datagram is lost if the future is dropped.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .io(Direction::Write, |socket| socket.send(buf))
            .await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
    }

    /// Receives one datagram into the spare capacity of `buf` (appended; a full vector
    /// grows a little first). tokio takes any `bytes::BufMut`; asincrono a `Vec<u8>`.
    pub async fn recv_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let (n, _) = self.recv_buf_from(buf).await?;
        Ok(n)
    }

    /// [`recv_from`](UdpSocket::recv_from) into the spare capacity of `buf`, as
    /// [`recv_buf`](UdpSocket::recv_buf).
    pub async fn recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| {
                receive_into_spare(buf, |spare| socket.recv_from(spare))
            })
            .await
    }

    /// Reads the next datagram without taking it; returns its length (up to `buf.len()`)
    /// and sender. The next receive gets it again.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.peek_from(buf))
            .await
    }

    /// The sender of the next datagram, which stays queued.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        std::future::poll_fn(|cx| self.poll_peek_sender(cx)).await
    }

    /// The poll behind [`peek_sender`](UdpSocket::peek_sender).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, peek_sender_of)
    }

    /// [`peek_sender`](UdpSocket::peek_sender) without waiting: `WouldBlock` if no datagram
    /// is queued.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, peek_sender_of)
    }

    /// The poll behind [`recv`](UdpSocket::recv): one datagram from the connected peer into
    /// the unfilled part of `buf` (what does not fit is discarded, as with `recv`).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        receive_into_read_buf(buf, |unfilled| {
            self.io
                .poll_io(cx, Direction::Read, |socket| socket.recv(unfilled))
                .map_ok(|n| (n, ()))
        })
    }

    /// The poll behind [`recv_from`](UdpSocket::recv_from): one datagram into `buf`, and its
    /// sender.
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

    /// The poll behind [`peek_from`](UdpSocket::peek_from): the next datagram into `buf`,
    /// and its sender, leaving it queued.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        receive_into_read_buf(buf, |unfilled| {
            self.io
                .poll_io(cx, Direction::Read, |socket| socket.peek_from(unfilled))
        })
    }

    /// The poll behind [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |socket| socket.send(buf))
    }

    /// The poll behind [`send_to`](UdpSocket::send_to), to an address already resolved.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |socket| socket.send_to(buf, target))
    }

    /// Sends to the connected peer without waiting: `WouldBlock` if the socket is not
    /// writable now (await [`writable`](UdpSocket::writable)).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |socket| socket.send(buf))
    }

    /// Sends to `target` without waiting.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |socket| socket.send_to(buf, target))
    }

    /// Receives from the connected peer without waiting: `WouldBlock` if nothing is queued
    /// (await [`readable`](UdpSocket::readable)).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |socket| socket.recv(buf))
    }

    /// Receives one datagram and its sender without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Interest::READABLE, |socket| socket.recv_from(buf))
    }

    /// Reads the next datagram without taking it and without waiting.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Interest::READABLE, |socket| socket.peek_from(buf))
    }

    /// [`try_recv`](UdpSocket::try_recv) into the spare capacity of `buf`.
    pub fn try_recv_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let (n, _) = self.try_recv_buf_from(buf)?;
        Ok(n)
    }

    /// [`try_recv_from`](UdpSocket::try_recv_from) into the spare capacity of `buf`.
    pub fn try_recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |socket| {
            receive_into_spare(buf, |spare| socket.recv_from(spare))
        })
    }

    readiness_methods!(ready, readable, writable, datagram);

    fn registered(&self) -> &Registered<mio::net::UdpSocket> {
        &self.io
    }

    /// The address this socket is bound to.
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

    /// Allows sending to a broadcast address (`SO_BROADCAST`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the time-to-live of the packets sent (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The time-to-live of the packets sent (`IP_TTL`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Whether IPv4 multicast sent from here loops back to this host (`IP_MULTICAST_LOOP`).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The `IP_MULTICAST_LOOP` setting.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// The time-to-live of IPv4 multicast packets (`IP_MULTICAST_TTL`).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` setting.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Whether IPv6 multicast sent from here loops back to this host (`IPV6_MULTICAST_LOOP`).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// The `IPV6_MULTICAST_LOOP` setting.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface number `interface`.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Sets the type-of-service byte of IPv4 packets sent (`IP_TOS`).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        sockopt::set_u32(self.io.get_ref(), sockopt::IPPROTO_IP, sockopt::IP_TOS, tos)
    }

    /// The `IP_TOS` setting.
    pub fn tos_v4(&self) -> io::Result<u32> {
        sockopt::get_u32(self.io.get_ref(), sockopt::IPPROTO_IP, sockopt::IP_TOS)
    }

    /// Sets the traffic class of IPv6 packets sent (`IPV6_TCLASS`).
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        sockopt::set_u32(
            self.io.get_ref(),
            sockopt::IPPROTO_IPV6,
            sockopt::IPV6_TCLASS,
            tclass,
        )
    }

    /// The `IPV6_TCLASS` setting.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        sockopt::get_u32(
            self.io.get_ref(),
            sockopt::IPPROTO_IPV6,
            sockopt::IPV6_TCLASS,
        )
    }
}

/// The sender of the queued datagram: a peek into an empty buffer reads only the address.
fn peek_sender_of(socket: &mio::net::UdpSocket) -> io::Result<SocketAddr> {
    socket.peek_from(&mut []).map(|(_, from)| from)
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

fd_impls!(UdpSocket);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
