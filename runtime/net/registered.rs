//! `Registered<S>`: a mio source registered with the reactor, and the retry loop every I/O
//! type uses.
//!
//! It is the public layer's side of the reactor (`driver/reactor.rs`): it finds the current
//! runtime through the context, registers there, and turns readiness into finished
//! syscalls. tokio's counterpart is `PollEvented` over a `Registration`.
//!
//! Three ways to run a syscall, written once here for every socket type:
//! - `poll_io`/`io`: wait for readiness, try, and on `WouldBlock` clear and wait again
//!   (what `read`, `accept`, `send_to`… use);
//! - `poll_ready`/`ready`: only wait, and say which readiness was found, clearing nothing
//!   (`readable()`, `poll_read_ready`);
//! - `try_io`: never wait: try once if the reactor has seen readiness, and on `WouldBlock`
//!   clear it, so that the next `ready` really waits (`try_read`, `try_send_to`…).
//!
//! A stream socket may also hold bytes it has read ahead of its caller (`read_ahead.rs`):
//! its reads take those first, and its readiness counts them.

use super::read_ahead::{Held, ReadAhead, SPARE};
use super::read_uninit::{ReadUninit, read_into_uninit};
use crate::driver::{Direction, DriverHandle, ReadyEvent, ScheduledIo};
use crate::executor::context;
use crate::io::{Interest, ReadBuf, Ready};
use mio::event::Source;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// A mio source (a socket) registered with the current runtime's reactor; deregistered when
/// dropped.
pub(crate) struct Registered<S: Source> {
    /// The non-blocking socket; `None` only once `into_inner` has taken it out.
    source: Option<S>,
    /// Its readiness and waiters.
    io: Arc<ScheduledIo>,
    /// The runtime's driver, to deregister on drop.
    driver: Arc<DriverHandle>,
    /// Bytes read ahead of the caller; only stream sockets ever hold any.
    ahead: ReadAhead,
}

impl<S: Source> Registered<S> {
    /// Registers `source` with the current runtime. `what` names the operation in the error
    /// returned outside a runtime.
    pub(crate) fn new(mut source: S, what: &str) -> io::Result<Registered<S>> {
        let handle = context::current_or_error(what)?;
        let driver = handle.driver().clone();
        let io = driver.reactor.register(&mut source)?;
        Ok(Registered {
            source: Some(source),
            io,
            driver,
            ahead: ReadAhead::new(),
        })
    }

    /// The socket itself.
    pub(crate) fn get_ref(&self) -> &S {
        self.source
            .as_ref()
            .expect("the source is only taken out by `into_inner`, which consumes `self`")
    }

    /// Deregisters the socket and hands it back (`into_std`). Fails if it holds bytes read
    /// ahead, which the socket handed back would not have.
    pub(crate) fn into_inner(mut self) -> io::Result<S> {
        self.ahead.check_nothing_held()?;
        let mut source = self.source.take().expect("`into_inner` runs once");
        self.driver.reactor.deregister(&mut source, &self.io);
        Ok(source)
    }

    // ANCHOR: poll_io
    /// Runs the non-blocking syscall `op` until it does not say `WouldBlock`; on `WouldBlock`
    /// clears the readiness it was tried with and waits for the next event.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_or_drained(cx, direction, op, |_| false)
    }

    /// `poll_io`, and a success that `drained` recognises as the end of the kernel's buffer
    /// clears the readiness as a `WouldBlock` would, one system call sooner.
    fn poll_io_or_drained<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        ready!(crate::task::poll_proceed(cx));
        loop {
            let event = ready!(self.io.poll_ready(cx, direction))?;
            match op(self.get_ref()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    // Only now is the socket known to be drained: forget the readiness and
                    // go round again, which stores our waker (or finds a newer event).
                    self.io.clear_readiness(event);
                }
                Ok(done) if drained(&done) => {
                    self.io.clear_readiness(event);
                    return Poll::Ready(Ok(done));
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

    /// Treats the socket as already `ready` (see `ScheduledIo::assume_ready`).
    pub(crate) fn assume_ready(&self, ready: Ready) {
        self.io.assume_ready(ready.bits());
    }

    /// Ready with the readiness found for any direction of `interest`, or `Pending` with the
    /// task's waker stored for each. Clears nothing: the readiness is a hint for `try_io`.
    /// Spends a unit of the task's budget, as every `poll_*` I/O method does.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
        ready!(crate::task::poll_proceed(cx));
        self.poll_ready_unbudgeted(cx, interest)
    }

    /// `poll_ready` without the budget: what `ready().await` uses. As in tokio, the
    /// `readable()`/`writable()` futures do not count as operations; the `try_*` call
    /// that follows them is the work, and a loop of both is the caller's to bound.
    fn poll_ready_unbudgeted(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
        let mut found = Ready::EMPTY;
        if interest.is_readable() && self.ahead.held() > 0 {
            found = Ready::READABLE;
        }
        for direction in directions(interest) {
            if matches!(direction, Direction::Read) && !found.is_empty() {
                continue; // readable already, through the held bytes
            }
            if let Poll::Ready(event) = self.io.poll_ready(cx, direction) {
                found |= Ready::from_reactor(event?.bits());
            }
        }
        if found.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(found))
        }
    }

    /// `poll_ready` as an `async fn`.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        std::future::poll_fn(|cx| self.poll_ready_unbudgeted(cx, interest)).await
    }

    // ANCHOR: try_io
    /// Tries `op` once, without waiting. If the reactor has seen no readiness for `interest`,
    /// fails with `WouldBlock` without making the syscall; if `op` says `WouldBlock`, the
    /// readiness it was tried with is cleared, so that the next wait really waits.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut seen: [Option<ReadyEvent>; 2] = [None, None];
        for (slot, direction) in seen.iter_mut().zip(directions(interest)) {
            *slot = self.io.ready_now(direction)?;
        }
        if seen.iter().all(Option::is_none) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let result = op(self.get_ref());
        if matches!(&result, Err(err) if err.kind() == io::ErrorKind::WouldBlock) {
            seen.into_iter()
                .flatten()
                .for_each(|event| self.io.clear_readiness(event));
        }
        result
    }
    // ANCHOR_END: try_io

    /// `try_io` for an operation of the caller's own on the descriptor (the public
    /// `try_io`). Reading the descriptor directly would skip any bytes read ahead, so for
    /// reading, the stream stops reading ahead for good, and this fails while bytes are held.
    pub(crate) fn try_own_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        if interest.is_readable() {
            self.ahead.stop()?;
        }
        self.try_io(interest, |_| op())
    }

    /// `async_io` for an operation of the caller's own, as [`try_own_io`](Self::try_own_io).
    pub(crate) async fn own_async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        if interest.is_readable() {
            self.ahead.stop()?;
        }
        self.async_io(interest, |_| op()).await
    }

    /// Waits for `interest`, then `try_io`, until `op` does not say `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            self.ready(interest).await?;
            match self.try_io(interest, &mut op) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                result => return result,
            }
        }
    }
}

/// The reactor directions `interest` covers, reading first.
fn directions(interest: Interest) -> impl Iterator<Item = Direction> {
    [
        (interest.is_readable(), Direction::Read),
        (interest.is_writable(), Direction::Write),
    ]
    .into_iter()
    .filter_map(|(wanted, direction)| wanted.then_some(direction))
}

// ANCHOR: stream_read
/// Reading for streams: TCP and Unix sockets, pipes.
impl<S: Source + ReadUninit> Registered<S>
where
    for<'a> &'a S: Read,
{
    /// Reads into the unfilled part of `buf`: bytes held from reading ahead if there are
    /// some, else from the kernel, through the spare buffer if the read is small and the
    /// stream reads ahead (`read_ahead.rs`).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !S::READS_AHEAD {
            return self.poll_read_straight(cx, buf);
        }
        let mut held = self.ahead.lock();
        if held.len() > 0 {
            ready!(crate::task::poll_proceed(cx));
            buf.put_slice(held.take(buf.remaining()));
            return Poll::Ready(Ok(()));
        }
        let wanted = buf.remaining();
        if held.spare_for(wanted).is_some() {
            return self.poll_read_ahead(cx, buf, &mut held);
        }
        let result = self.poll_read_straight(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            held.after_plain_read(wanted, wanted - buf.remaining());
        }
        result
    }

    /// One `readv` into the unfilled part of `buf` and the spare buffer. Fewer bytes than
    /// both hold means the socket is empty, and the readiness goes, as after a short read.
    fn poll_read_ahead(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        held: &mut Held,
    ) -> Poll<io::Result<()>> {
        let wanted = buf.remaining();
        let spare = held.spare_for(wanted).expect("checked by the caller");
        // A `readv` takes initialised memory: at most `SPARE` bytes to zero, once per buffer.
        let into = buf.initialize_unfilled();
        let read = ready!(self.poll_io_or_drained(
            cx,
            Direction::Read,
            |mut source| {
                let mut both = [IoSliceMut::new(&mut *into), IoSliceMut::new(&mut spare[..])];
                source.read_vectored(&mut both)
            },
            |&read| short_of(read, wanted + SPARE),
        ))?;
        buf.advance(read.min(wanted));
        held.hold(read.saturating_sub(wanted));
        Poll::Ready(Ok(()))
    }
    // ANCHOR_END: stream_read

    /// Reads straight into the unfilled part of `buf`, memory that may never have been
    /// initialised (`read_uninit.rs`): the kernel writes it, nobody zeroes it first.
    fn poll_read_straight(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read_into_uninit(buf, |unfilled| {
            let wanted = unfilled.len();
            self.poll_io_or_drained(
                cx,
                Direction::Read,
                |source| source.read_uninit(unfilled),
                |&read| short_of(read, wanted),
            )
        })
    }

    /// `try_read`: the held bytes if there are some, else one read without waiting.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut held = self.ahead.lock();
        if held.len() > 0 {
            let taken = held.take(buf.len());
            buf[..taken.len()].copy_from_slice(taken);
            return Ok(taken.len());
        }
        self.try_io(Interest::READABLE, |mut source| source.read(buf))
    }

    /// `try_read_vectored`: the held bytes into `bufs` in order if there are some, else
    /// one read without waiting.
    pub(crate) fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let mut held = self.ahead.lock();
        if held.len() > 0 {
            let mut count = 0;
            for buf in bufs.iter_mut() {
                let taken = held.take(buf.len());
                buf[..taken.len()].copy_from_slice(taken);
                count += taken.len();
            }
            return Ok(count);
        }
        self.try_io(Interest::READABLE, |mut source| source.read_vectored(bufs))
    }

    /// Copies bytes into `buf` without taking them (`peek`): held ones if there are some,
    /// else what `peek` (the syscall, on the socket) finds, waiting for some if need be.
    pub(crate) fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        peek: impl FnMut(&S, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let held = self.ahead.lock();
        if held.len() > 0 {
            ready!(crate::task::poll_proceed(cx));
            let peeked = held.peek(buf.len());
            buf[..peeked.len()].copy_from_slice(peeked);
            return Poll::Ready(Ok(peeked.len()));
        }
        let mut peek = peek;
        self.poll_io(cx, Direction::Read, |source| peek(source, &mut *buf))
    }
}

/// Reading and writing for stream sockets (TCP, Unix), whose mio types implement `Read` and
/// `Write` on a shared reference.
impl<S: Source> Registered<S>
where
    for<'a> &'a S: Read + Write,
{
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io_or_drained(
            cx,
            Direction::Write,
            |mut source| source.write(buf),
            |&written| short_of(written, buf.len()),
        )
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Interest::WRITABLE, |mut source| source.write(buf))
    }

    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.try_io(Interest::WRITABLE, |mut source| source.write_vectored(bufs))
    }

    /// One `writev`: the count is of bytes taken from the front of `bufs`.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // No `short_of` here: `writev` takes at most `IOV_MAX` (1,024) slices, so a short
        // count may only mean more slices than that, with room to spare in the buffer.
        // Forgetting the readiness then would leave the next write waiting for an edge that
        // never comes (tokio keeps the readiness here too).
        self.poll_io(cx, Direction::Write, |mut source| {
            source.write_vectored(bufs)
        })
    }
}

// ANCHOR: short_of
/// Whether a stream read or write that moved `done` of `wanted` bytes shows the kernel's
/// buffer at its end: emptied by a read, filled by a write.
///
/// With epoll in edge-triggered mode (mio's), a read that returns less than asked for has
/// taken everything there was, and a write that takes less than offered has filled the send
/// buffer: the next try would only say `WouldBlock`. Clearing the readiness now saves that
/// system call; data that arrived in between brings an event, which moves the tick, and
/// then `clear_readiness` leaves the readiness alone. Zero is not short: it is the end of
/// the stream (reading), or nothing offered. Only streams: a datagram shorter than the
/// buffer says nothing about the next one. And only one buffer: a vectored write is cut
/// short by the slice limit too (see `poll_write_vectored`). tokio does the same on epoll
/// and kqueue.
fn short_of(done: usize, wanted: usize) -> bool {
    done > 0 && done < wanted
}
// ANCHOR_END: short_of

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        if let Some(source) = self.source.as_mut() {
            self.driver.reactor.deregister(source, &self.io);
        }
    }
}
