//! Test-only tools: a minimal executor and some awkward I/O doubles.
//!
//! The `io` module must work with any executor, so its tests bring their own,
//! the smallest one that can be correct: poll the future, and when it says
//! `Pending`, park the thread until its waker unparks it.
//!
//! Real sockets deliver data in odd-sized pieces and are often not ready. The
//! doubles below imitate that on purpose: [`ChunkedReader`] and
//! [`ChunkedWriter`] move at most a few bytes per call and answer `Pending`
//! on every other call (waking themselves first, as the contract demands).
//! Code that only works when everything arrives in one piece fails with them.
//!
//! None of this is compiled outside `cargo test`.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::thread;

use super::{AsyncRead, AsyncWrite, ReadBuf};
use crate::executor::block_on::FlagUnparker;

/// What the executor does when the future answers `Pending`.
#[derive(Clone, Copy)]
enum OnPending {
    /// Sleep until some thread wakes us (the normal executor behaviour).
    Park,
    /// Insist that the future already woke itself during that very poll.
    RequireSelfWake,
}

fn run<F: Future>(future: F, on_pending: OnPending) -> F::Output {
    let mut future = pin!(future);
    // The executor's own thread waker: it raises a flag, then unparks this thread.
    let waker_state = FlagUnparker::for_current_thread();
    let waker = Waker::from(Arc::clone(&waker_state));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        match on_pending {
            // `park` may return spuriously, so only re-poll once really woken.
            OnPending::Park => {
                while !waker_state.woken.swap(false, Ordering::Acquire) {
                    thread::park();
                }
            }
            OnPending::RequireSelfWake => assert!(
                waker_state.woken.swap(false, Ordering::Acquire),
                "future returned Pending without arranging a wake-up: it would hang forever"
            ),
        }
    }
}

/// Runs `future` to completion on this thread, parking while it is pending.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    run(future, OnPending::Park)
}

/// Like [`block_on`], but for single-threaded tests whose I/O doubles always
/// wake themselves before returning `Pending`: if a poll returns `Pending`
/// without a wake-up, the code under test lost one, and this panics instead
/// of hanging.
pub(crate) fn block_on_checked<F: Future>(future: F) -> F::Output {
    run(future, OnPending::RequireSelfWake)
}

/// Polls `future` exactly once with a waker that does nothing. Cancel-safety
/// tests use it to stop a future half-way and then drop it.
pub(crate) fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Alternates between "answer `Pending`" and "do the work", starting with
/// `Pending`. Before answering `Pending` it wakes the task, so the executor
/// polls again straight away.
#[derive(Default)]
struct EveryOtherCall {
    work_next: bool,
}

impl EveryOtherCall {
    /// Returns `true` if this call should answer `Pending`.
    fn pending(&mut self, cx: &mut Context<'_>) -> bool {
        let work_now = self.work_next;
        self.work_next = !work_now;
        if !work_now {
            cx.waker().wake_by_ref();
        }
        !work_now
    }
}

/// A reader that hands out at most `chunk` bytes per call, alternating with
/// `Pending` (it starts with `Pending`).
pub(crate) struct ChunkedReader {
    data: Vec<u8>,
    position: usize,
    chunk: usize,
    fail_at_end: bool,
    pacing: EveryOtherCall,
    /// The length of the buffer passed to every `poll_read` that did work.
    pub(crate) read_sizes: Vec<usize>,
}

impl ChunkedReader {
    pub(crate) fn new(data: impl Into<Vec<u8>>, chunk: usize) -> Self {
        ChunkedReader {
            data: data.into(),
            position: 0,
            chunk,
            fail_at_end: false,
            pacing: EveryOtherCall::default(),
            read_sizes: Vec::new(),
        }
    }

    /// Makes the reader fail with `ConnectionReset` instead of reporting EOF.
    pub(crate) fn failing_at_end(mut self) -> Self {
        self.fail_at_end = true;
        self
    }
}

impl AsyncRead for ChunkedReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pacing.pending(cx) {
            return Poll::Pending;
        }
        this.read_sizes.push(buf.remaining());
        let remaining = &this.data[this.position..];
        if remaining.is_empty() && this.fail_at_end && buf.remaining() > 0 {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        let n = remaining.len().min(buf.remaining()).min(this.chunk);
        buf.put_slice(&remaining[..n]);
        this.position += n;
        Poll::Ready(Ok(()))
    }
}

/// Everything a [`ChunkedWriter`] was asked to do, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Write(Vec<u8>),
    Flush,
    Shutdown,
}

/// A writer that accepts at most `chunk` bytes per call, alternating with
/// `Pending` on every operation (it starts with `Pending`).
pub(crate) struct ChunkedWriter {
    chunk: usize,
    capacity: usize,
    accepted: usize,
    pacing: EveryOtherCall,
    /// Every write, flush and shutdown that succeeded.
    pub(crate) events: Vec<Event>,
}

impl ChunkedWriter {
    pub(crate) fn new(chunk: usize) -> Self {
        ChunkedWriter {
            chunk,
            capacity: usize::MAX,
            accepted: 0,
            pacing: EveryOtherCall::default(),
            events: Vec::new(),
        }
    }

    /// After `capacity` bytes, every write returns `Ok(0)` ("disk full").
    pub(crate) fn accepting_at_most(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// All bytes written so far, glued together.
    pub(crate) fn written(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for event in &self.events {
            if let Event::Write(bytes) = event {
                all.extend_from_slice(bytes);
            }
        }
        all
    }
}

impl AsyncWrite for ChunkedWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pacing.pending(cx) {
            return Poll::Pending;
        }
        let room = this.capacity - this.accepted;
        let n = buf.len().min(this.chunk).min(room);
        if n > 0 {
            this.events.push(Event::Write(buf[..n].to_vec()));
        }
        this.accepted += n;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pacing.pending(cx) {
            return Poll::Pending;
        }
        this.events.push(Event::Flush);
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pacing.pending(cx) {
            return Poll::Pending;
        }
        this.events.push(Event::Shutdown);
        Poll::Ready(Ok(()))
    }
}

/// An in-memory duplex stream whose reads return what was written to it,
/// holding at most `capacity` bytes in flight. Readers wait for data, writers
/// wait for room, and each side keeps its *own* waker: this is what lets the
/// two halves of [`split`](super::split) wait at the same time.
pub(crate) struct Loopback {
    queue: VecDeque<u8>,
    capacity: usize,
    shut_down: bool,
    waiting_reader: Option<Waker>,
    waiting_writer: Option<Waker>,
}

impl Loopback {
    pub(crate) fn new(capacity: usize) -> Self {
        Loopback {
            queue: VecDeque::new(),
            capacity,
            shut_down: false,
            waiting_reader: None,
            waiting_writer: None,
        }
    }
}

impl Loopback {
    /// Nothing written is waiting to be read.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

fn wake(waiting: &mut Option<Waker>) {
    if let Some(waker) = waiting.take() {
        waker.wake();
    }
}

impl AsyncRead for Loopback {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.queue.is_empty() && !this.shut_down && buf.remaining() > 0 {
            this.waiting_reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.remaining().min(this.queue.len());
        let (front, back) = this.queue.as_slices();
        let from_front = n.min(front.len());
        buf.put_slice(&front[..from_front]);
        buf.put_slice(&back[..n - from_front]);
        this.queue.drain(..n);
        wake(&mut this.waiting_writer);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Loopback {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.shut_down {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = this.capacity - this.queue.len();
        if room == 0 && !buf.is_empty() {
            this.waiting_writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(room);
        this.queue.extend(&buf[..n]);
        wake(&mut this.waiting_reader);
        Poll::Ready(Ok(n))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.shut_down = true;
        wake(&mut this.waiting_reader);
        Poll::Ready(Ok(()))
    }
}

mod tests {
    use super::*;

    /// A future that says `Pending` once without ever waking anybody.
    struct ForgetsToWake {
        polled: bool,
    }

    impl Future for ForgetsToWake {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            if std::mem::replace(&mut self.polled, true) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    #[should_panic(expected = "without arranging a wake-up")]
    fn checked_executor_catches_a_lost_wake_up() {
        block_on_checked(ForgetsToWake { polled: false });
    }

    #[test]
    fn block_on_waits_for_a_wake_from_another_thread() {
        let (sender, receiver) = std::sync::mpsc::channel::<Waker>();
        let mut woken_once = false;
        let future = std::future::poll_fn(move |cx| {
            if woken_once {
                return Poll::Ready(42);
            }
            woken_once = true;
            sender.send(cx.waker().clone()).unwrap();
            Poll::Pending
        });
        let waker_thread = thread::spawn(move || receiver.recv().unwrap().wake());
        assert_eq!(block_on(future), 42);
        waker_thread.join().unwrap();
    }
}
