//! Networking: TCP, UDP and Unix-domain sockets on the reactor.
//!
//! Each type wraps a non-blocking mio socket in a `Registered<S>` (`registered.rs`, over the reactor in `driver/reactor.rs`), and every
//! operation is the same three steps: try the syscall; on `WouldBlock`, clear the readiness
//! and wait for the reactor to wake the task; try again.
//!
//! Addresses are anything [`ToSocketAddrs`] accepts (`"127.0.0.1:0"`, a `SocketAddr`,
//! `("localhost", 80)`, …: the types `std::net::ToSocketAddrs` takes). Numeric addresses are
//! parsed at once; a host name is looked up on the blocking pool, so the system resolver
//! never blocks a scheduler thread (`addr.rs`).
//!
//! Besides waiting (`read`, `recv_from`, …), every socket answers tokio's readiness
//! questions: `ready(Interest)`, `readable()`, `writable()`, the `poll_*_ready` methods, and
//! the `try_*` methods that never wait (`readiness.rs`, over `registered.rs`). Stream halves
//! (`split`, `into_split`) are written once for TCP and Unix in `split.rs`; `TcpSocket`
//! (`tcp_socket.rs`) and the socket options std lacks (`sockopt.rs`) are the only users of
//! libc.
//!
//! Errors keep the operating system's [`ErrorKind`](std::io::ErrorKind) (`ConnectionRefused`,
//! `AddrInUse`, `ConnectionReset`, …) and add the address they concern to the message.

mod addr;
mod fd;
mod lookup_host;
mod read_ahead;
mod read_uninit;
mod readiness;
pub(crate) mod registered;
mod sockopt;
mod split;
pub mod tcp;
mod tcp_socket;
mod udp;
pub mod unix;
mod unix_datagram;
mod vec_buf;

pub use addr::ToSocketAddrs;
pub use lookup_host::lookup_host;
pub use tcp::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use tcp_socket::TcpSocket;
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};
pub use unix_datagram::UnixDatagram;

use crate::util::with_context;
use addr::resolve;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

/// Resolves `addr`, then tries `op` on each address in turn: the first success wins; if all
/// fail, the last error is returned with the address it concerned.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, what: &str, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(&addr, what).await? {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last_error = Some(with_context(err, what, addr)),
        }
    }
    Err(last_error.expect("`resolve` returns at least one address"))
}

/// The first address `addr` resolves to.
pub(crate) async fn first_addr<A: ToSocketAddrs>(addr: A, what: &str) -> io::Result<SocketAddr> {
    Ok(resolve(&addr, what).await?[0])
}

/// The outcome of shutting down the writing side of a stream socket. `NotConnected` means
/// the peer has already gone, so there is nothing left to shut down: that is success.
pub(crate) fn write_shutdown_outcome(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
        result => result,
    }
}
