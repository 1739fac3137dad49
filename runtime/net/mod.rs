//! Networking: TCP, UDP and Unix-domain sockets on the reactor.
//!
//! Each type wraps a non-blocking mio socket in a `Registered<S>` (see `reactor/`), and every
//! operation is the same three steps: try the syscall; on `WouldBlock`, clear the readiness
//! and wait for the reactor to wake the task; try again.
//!
//! Addresses are anything `std::net::ToSocketAddrs` accepts (`"127.0.0.1:0"`, a
//! `SocketAddr`, `("localhost", 80)`, …). Resolving a host name calls the system resolver,
//! which blocks the thread for the lookup; numeric addresses never block. (tokio moves the
//! lookup to its blocking pool; asincrono will once it has one.)
//!
//! Errors keep the operating system's [`ErrorKind`](std::io::ErrorKind) (`ConnectionRefused`,
//! `AddrInUse`, `ConnectionReset`, …) and add the address they concern to the message.

pub mod tcp;
mod udp;
pub mod unix;

pub use tcp::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

use crate::util::with_context;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr`, then tries `op` on each address in turn: the first success wins; if all
/// fail, the last error is returned with the address it concerned.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, what: &str, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let addrs = addr
        .to_socket_addrs()
        .map_err(|err| with_context(err, what, "an address that did not resolve"))?;
    let mut last_error = None;
    for addr in addrs {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last_error = Some(with_context(err, what, addr)),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}: the address resolved to no address"),
        )
    }))
}

/// The first address `addr` resolves to.
pub(crate) fn first_addr<A: ToSocketAddrs>(addr: A, what: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()
        .map_err(|err| with_context(err, what, "an address that did not resolve"))?
        .next()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{what}: the address resolved to no address"),
            )
        })
}

/// The outcome of shutting down the writing side of a stream socket. `NotConnected` means
/// the peer has already gone, so there is nothing left to shut down: that is success.
pub(crate) fn write_shutdown_outcome(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
        result => result,
    }
}
