//! UDP: `UdpSocket`.

use super::ToSocketAddrs;
use super::registered::Registered;
use super::{each_addr, first_addr};
use crate::driver::Direction;
use crate::util::with_context;
use std::fmt;
use std::io;
use std::net::SocketAddr;

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
            let socket = mio::net::UdpSocket::bind(addr)?;
            Ok(UdpSocket {
                io: Registered::new(socket, "UdpSocket::bind")?,
            })
        })
        .await
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

    /// The address this socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
