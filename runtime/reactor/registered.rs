//! `Registered<S>`: a mio source registered with the reactor, and the retry loop every I/O
//! type uses.

use super::ScheduledIo;
use crate::context;
use crate::driver::DriverHandle;
use mio::event::Source;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// Which half of a socket an operation waits on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction proceed: a closed or
    /// failed socket counts as ready, so the syscall runs and reports EOF or the error.
    pub(crate) fn mask(self) -> u8 {
        match self {
            Direction::Read => super::READABLE | super::READ_CLOSED | super::ERROR,
            Direction::Write => super::WRITABLE | super::WRITE_CLOSED | super::ERROR,
        }
    }
}

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
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Read, |mut source| source.read(buf))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |mut source| source.write(buf))
    }
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        self.driver.reactor.deregister(&mut self.source, &self.io);
    }
}
