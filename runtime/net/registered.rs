//! `Registered<S>`: a mio source registered with the reactor, and the retry loop every I/O
//! type uses.
//!
//! It is the public layer's side of the reactor (`driver/reactor.rs`): it finds the current
//! runtime through the context, registers there, and turns readiness into finished
//! syscalls. tokio's counterpart is `PollEvented` over a `Registration`.

use crate::driver::{Direction, DriverHandle, ScheduledIo};
use crate::executor::context;
use crate::io::{ReadBuf, read_into_unfilled};
use mio::event::Source;
use std::io::{self, IoSlice, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// A mio source (a socket) registered with the current runtime's reactor; deregistered when
/// dropped.
pub(crate) struct Registered<S: Source> {
    /// The non-blocking socket.
    source: S,
    /// Its readiness and waiters.
    io: Arc<ScheduledIo>,
    /// The runtime's driver, to deregister on drop.
    driver: Arc<DriverHandle>,
}

impl<S: Source> Registered<S> {
    /// Registers `source` with the current runtime. `what` names the operation in the error
    /// returned outside a runtime.
    pub(crate) fn new(mut source: S, what: &str) -> io::Result<Registered<S>> {
        let handle = context::current_or_error(what)?;
        let driver = handle.driver().clone();
        let io = driver.reactor.register(&mut source)?;
        Ok(Registered { source, io, driver })
    }

    /// The socket itself.
    pub(crate) fn get_ref(&self) -> &S {
        &self.source
    }

    // ANCHOR: poll_io
    /// Runs the non-blocking syscall `op` until it does not say `WouldBlock`; on `WouldBlock`
    /// clears the readiness it was tried with and waits for the next event.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(crate::task::poll_proceed(cx));
        loop {
            let event = ready!(self.io.poll_ready(cx, direction))?;
            match op(&self.source) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    // Only now is the socket known to be drained: forget the readiness and
                    // go round again, which stores our waker (or finds a newer event).
                    self.io.clear_readiness(event);
                }
                result => return Poll::Ready(result),
            }
        }
    }
    // ANCHOR_END: poll_io

    /// `poll_io` as an `async fn`.
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(cx, direction, &mut op)).await
    }
}

/// Reading and writing for stream sockets (TCP, Unix), whose mio types implement `Read` and
/// `Write` on a shared reference.
impl<S: Source> Registered<S>
where
    for<'a> &'a S: Read + Write,
{
    /// Reads into the unfilled part of `buf` (zeroing it first if it was never
    /// initialised: mio reads into a `&mut [u8]`).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read_into_unfilled(buf, |unfilled| {
            self.poll_io(cx, Direction::Read, |mut source| source.read(unfilled))
        })
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |mut source| source.write(buf))
    }

    /// One `writev`: the count is of bytes taken from the front of `bufs`.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |mut source| {
            source.write_vectored(bufs)
        })
    }
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        self.driver.reactor.deregister(&mut self.source, &self.io);
    }
}
