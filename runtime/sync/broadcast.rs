//! A multi-producer, multi-consumer channel where every receiver sees every message: a
//! bounded ring of recent messages, and a cursor per receiver.
//!
//! A send never waits. When the ring is full, the oldest message is dropped to make room,
//! even if some receiver has not read it yet: that receiver has **lagged**, and its next
//! receive reports `Lagged(n)` with how many messages it missed, then carries on from the
//! oldest message still kept. So a slow receiver costs itself messages, never the
//! senders or the other receivers their progress.
//!
//! ```
//! use asincrono::sync::broadcast;
//!
//! asincrono::block_on(async {
//!     let (tx, mut first) = broadcast::channel(16);
//!     let mut second = tx.subscribe();
//!     tx.send("to everyone").unwrap();
//!     assert_eq!(first.recv().await.unwrap(), "to everyone");
//!     assert_eq!(second.recv().await.unwrap(), "to everyone");
//! });
//! ```
//!
//! # How it is built
//!
//! One state behind one short lock: a `VecDeque` of the messages kept, each with the
//! number of receivers that have yet to read it, and the **position** (a `u64` that only
//! grows) that the next message will get. A receiver is a position too: the next one it
//! will read. The messages kept are the positions `tail - len .. tail`, so a receiver
//! whose position is below that range lagged by the difference. A message that every
//! receiver has read is dropped at once (its count is zero), so the queue holds exactly
//! the messages someone still wants, at most `capacity` of them.
//!
//! The capacity is rounded up to a power of two, as tokio does, so that the lag counts
//! match tokio's to the message. tokio keeps a fixed ring of slots, each behind its own
//! read-write lock, and a receiver reads its slot without the channel's lock.
//!
//! Corner cut, where this module breaks its own rule: `recv` clones the message (`T:
//! Clone`) under the channel's lock, so a `Clone` impl must not use the same channel. tokio
//! also clones under a lock (the slot's). Everything else, including dropping messages and
//! waking tasks, happens after the lock is let go.

use super::wait_queue::{Ticket, WaitQueue, WakeList};
use crate::primitives::Mutex;
use crate::util::lock;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

/// The errors of the broadcast channel.
pub mod error {
    use std::fmt;

    /// The error of a send with no receiver left; the value is inside.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// Why [`recv`](super::Receiver::recv) returned no message.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum RecvError {
        /// Every sender is gone and every message was read.
        Closed,
        /// This receiver fell behind and missed this many messages; the next receive
        /// returns the oldest message still kept.
        Lagged(u64),
    }

    /// Why [`try_recv`](super::Receiver::try_recv) returned no message.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        /// Nothing new now; senders remain.
        Empty,
        /// Every sender is gone and every message was read.
        Closed,
        /// This receiver fell behind and missed this many messages.
        Lagged(u64),
    }

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("no receiver of the broadcast channel is left")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("the broadcast channel is closed"),
                RecvError::Lagged(n) => write!(f, "the receiver lagged by {n} messages"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("no new message in the broadcast channel"),
                TryRecvError::Closed => f.write_str("the broadcast channel is closed"),
                TryRecvError::Lagged(n) => write!(f, "the receiver lagged by {n} messages"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

/// Creates a broadcast channel keeping up to `capacity` messages (rounded up to a power of
/// two), with one sender and one receiver.
///
/// # Panics
/// If `capacity` is 0 or more than `usize::MAX >> 1`.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let sender = Sender::new(capacity);
    let receiver = sender.subscribe();
    (sender, receiver)
}

/// What every end of one channel shares.
struct Shared<T> {
    /// Everything, behind one short lock.
    state: Mutex<State<T>>,
}

/// A broadcast channel's state.
struct State<T> {
    /// The messages kept, oldest first: those some receiver has yet to read, at most
    /// `capacity`.
    kept: VecDeque<Kept<T>>,
    /// The position the next message gets; the kept ones are `tail - kept.len() .. tail`.
    tail: u64,
    /// How many messages are kept at most: a power of two.
    capacity: usize,
    /// Live receivers; at zero, sends fail.
    receivers: usize,
    /// Live senders; at zero, receivers that have read everything get `Closed`.
    senders: usize,
    /// Live weak senders (only counted).
    weak_senders: usize,
    /// Receivers waiting for a message.
    recv_waiters: WaitQueue<Waker>,
    /// Senders waiting in `closed` for the last receiver to go.
    closed_waiters: WaitQueue<Waker>,
}

/// One kept message.
struct Kept<T> {
    /// The message.
    value: T,
    /// Receivers that have yet to read it; at zero it is dropped.
    unread: usize,
}

impl<T> State<T> {
    /// The position of the oldest message kept.
    fn head(&self) -> u64 {
        self.tail - self.kept.len() as u64
    }

    /// Drops (into `out`, for after the lock) the oldest messages that nobody needs.
    fn forget_read(&mut self, out: &mut Vec<T>) {
        while self.kept.front().is_some_and(|kept| kept.unread == 0) {
            out.extend(self.kept.pop_front().map(|kept| kept.value));
        }
    }

    /// A receiver at position `next` is leaving: the messages it had yet to read no
    /// longer wait for it.
    fn release_from(&mut self, next: u64, out: &mut Vec<T>) {
        let skip = next.saturating_sub(self.head()) as usize;
        for kept in self.kept.iter_mut().skip(skip) {
            kept.unread -= 1;
        }
        self.forget_read(out);
    }
}

// ANCHOR: broadcast_take
impl<T: Clone> State<T> {
    /// One receive for the receiver at `next`: the message there, or why there is none.
    /// A lagged receiver is moved to the oldest message kept. Messages that this read
    /// leaves unneeded go to `out`, to be dropped after the lock.
    fn take(&mut self, next: &mut u64, out: &mut Vec<T>) -> Result<T, TryRecvError> {
        let head = self.head();
        if *next < head {
            // Overwritten before we read them: report how many, and resume at the oldest.
            let missed = head - *next;
            *next = head;
            return Err(TryRecvError::Lagged(missed));
        }
        if *next == self.tail {
            return Err(if self.senders == 0 {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let kept = &mut self.kept[(*next - head) as usize];
        // Counted as read before the clone (user code) runs: a clone that panics loses
        // this receiver that one message, and leaves the state consistent.
        *next += 1;
        kept.unread -= 1;
        let value = kept.value.clone();
        self.forget_read(out);
        Ok(value)
    }
}
// ANCHOR_END: broadcast_take

/// The sending half. Clone it for more senders; `subscribe` makes receivers.
pub struct Sender<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open; [`upgrade`](WeakSender::upgrade) makes it
/// a sender again while one is alive.
pub struct WeakSender<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
}

/// A receiving half, with its own position: it sees every message sent after it was made
/// (unless it lags).
pub struct Receiver<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
    /// The position of the next message it will read.
    next: u64,
}

impl<T> Sender<T> {
    /// A sender with no receiver yet, keeping up to `capacity` messages (rounded up to a
    /// power of two).
    ///
    /// # Panics
    /// If `capacity` is 0 or more than `usize::MAX >> 1`.
    pub fn new(capacity: usize) -> Sender<T> {
        assert!(
            capacity > 0,
            "broadcast::channel: the capacity must be at least 1"
        );
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast::channel: the capacity must be at most usize::MAX >> 1"
        );
        Sender {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    kept: VecDeque::new(),
                    tail: 0,
                    capacity: capacity.next_power_of_two(),
                    receivers: 0,
                    senders: 1,
                    weak_senders: 0,
                    recv_waiters: WaitQueue::new(),
                    closed_waiters: WaitQueue::new(),
                }),
            }),
        }
    }

    // ANCHOR: broadcast_send
    /// Sends `value` to every receiver alive now and returns how many there are. Never
    /// waits: if the ring is full, the oldest message goes, and the receivers that had
    /// not read it will get `Lagged`. Fails, handing the value back, with no receiver.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (receivers, to_wake, overwritten) = {
            let mut state = lock(&self.shared.state);
            if state.receivers == 0 {
                return Err(SendError(value));
            }
            let overwritten = if state.kept.len() == state.capacity {
                state.kept.pop_front()
            } else {
                None
            };
            let unread = state.receivers;
            state.kept.push_back(Kept { value, unread });
            state.tail += 1;
            let mut to_wake = WakeList::new();
            to_wake.extend(state.recv_waiters.take_all());
            (unread, to_wake, overwritten)
        };
        to_wake.wake_all();
        drop(overwritten);
        Ok(receivers)
    }
    // ANCHOR_END: broadcast_send

    /// A new receiver, which will see the messages sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = lock(&self.shared.state);
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail,
        }
    }

    /// How many messages are kept for a receiver that has yet to read them.
    pub fn len(&self) -> usize {
        lock(&self.shared.state).kept.len()
    }

    /// Whether no receiver has a message left to read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }

    /// How many senders exist.
    pub fn strong_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// How many weak senders exist.
    pub fn weak_count(&self) -> usize {
        lock(&self.shared.state).weak_senders
    }

    /// A weak sender of this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        lock(&self.shared.state).weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// Whether `self` and `other` belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until there is no receiver (at once if there is none now).
    ///
    /// # Cancel safety
    /// Cancel-safe: it consumes nothing.
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            ticket: None,
        }
        .await
    }
}

impl<T> WeakSender<T> {
    /// A sender again, if at least one sender is alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut state = lock(&self.shared.state);
        if state.senders == 0 {
            return None;
        }
        state.senders += 1;
        Some(Sender {
            shared: self.shared.clone(),
        })
    }

    /// How many senders exist.
    pub fn strong_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// How many weak senders exist.
    pub fn weak_count(&self) -> usize {
        lock(&self.shared.state).weak_senders
    }
}

impl<T> Receiver<T> {
    /// How many messages this receiver has yet to read, counting those it lagged past.
    pub fn len(&self) -> usize {
        (lock(&self.shared.state).tail - self.next) as usize
    }

    /// Whether there is no message for this receiver to read now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone (messages may still be there to read).
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).senders == 0
    }

    /// A new receiver of the same channel that starts at the newest end: it sees the
    /// messages sent from now on.
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut state = lock(&self.shared.state);
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail,
        }
    }

    /// Whether `self` and `other` belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// How many senders exist.
    pub fn sender_strong_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// How many weak senders exist.
    pub fn sender_weak_count(&self) -> usize {
        lock(&self.shared.state).weak_senders
    }
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next message; `Lagged(n)` if this receiver fell behind and missed
    /// `n` of them (the receive after that returns the oldest kept), `Closed` once every
    /// sender is gone and everything was read.
    ///
    /// # Cancel safety
    /// Cancel-safe: a message is taken only in the poll that returns it.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            ticket: None,
        }
        .await
    }

    /// Takes the next message if there is one; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut unneeded = Vec::new();
        let result = lock(&self.shared.state).take(&mut self.next, &mut unneeded);
        drop(unneeded);
        result
    }

    /// [`recv`](Receiver::recv) for a plain thread: parks it until a message comes.
    ///
    /// # Panics
    /// Inside a runtime: parking a thread there would stall its tasks.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        super::blocking::block_on("broadcast::Receiver::blocking_recv", self.recv())
    }
}

/// The future behind `recv`.
struct Recv<'a, T> {
    /// The receiver, whose position moves when it completes.
    receiver: &'a mut Receiver<T>,
    /// Its entry among the waiters, once it has waited.
    ticket: Option<Ticket>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        let mut unneeded = Vec::new();
        let mut state = lock(&this.receiver.shared.state);
        let result = match state.take(&mut this.receiver.next, &mut unneeded) {
            Ok(value) => Ok(value),
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                let stale = state.recv_waiters.file(&mut this.ticket, cx.waker());
                drop(state);
                drop(stale);
                // Waker contract: our waker is among `recv_waiters`; every send, and the
                // last sender's drop, wakes them all after unlocking.
                return Poll::Pending;
            }
        };
        // Done: our entry, if any, was taken by the wake that brought us here, or is
        // taken now.
        if let Some(ticket) = this.ticket.take() {
            let removed = state.recv_waiters.remove(ticket);
            drop(state);
            drop(removed);
        } else {
            drop(state);
        }
        drop(unneeded);
        Poll::Ready(result)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let removed = lock(&self.receiver.shared.state)
                .recv_waiters
                .remove(ticket);
            drop(removed);
        }
    }
}

/// The future behind `Sender::closed`.
struct Closed<'a, T> {
    /// The channel.
    shared: &'a Shared<T>,
    /// Its entry among the waiters, once it has waited.
    ticket: Option<Ticket>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock(&this.shared.state);
        if state.receivers == 0 {
            if let Some(ticket) = this.ticket.take() {
                let removed = state.closed_waiters.remove(ticket);
                drop(state);
                drop(removed);
            }
            return Poll::Ready(());
        }
        let stale = state.closed_waiters.file(&mut this.ticket, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is among `closed_waiters`; the last receiver's drop
        // wakes them all after unlocking.
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let removed = lock(&self.shared.state).closed_waiters.remove(ticket);
            drop(removed);
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let to_wake = {
            let mut state = lock(&self.shared.state);
            state.senders -= 1;
            let mut to_wake = WakeList::new();
            if state.senders == 0 {
                to_wake.extend(state.recv_waiters.take_all());
            }
            to_wake
        };
        to_wake.wake_all();
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        lock(&self.shared.state).weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        lock(&self.shared.state).weak_senders -= 1;
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut unneeded = Vec::new();
        let to_wake = {
            let mut state = lock(&self.shared.state);
            state.receivers -= 1;
            state.release_from(self.next, &mut unneeded);
            let mut to_wake = WakeList::new();
            if state.receivers == 0 {
                to_wake.extend(state.closed_waiters.take_all());
            }
            to_wake
        };
        to_wake.wake_all();
        drop(unneeded);
    }
}

/// `Debug` for the ends, which print nothing of the messages (so that `T: Debug` is not
/// needed).
macro_rules! debug_ends {
    ($($end:ident),*) => {$(
        impl<T> fmt::Debug for $end<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($end)).finish_non_exhaustive()
            }
        }
    )*};
}

debug_ends!(Sender, WeakSender, Receiver);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn a_receiver_behind_a_full_ring_lags_by_exactly_the_messages_overwritten() {
        let (tx, mut slow) = channel(3); // rounded up to 4
        let mut fast = tx.subscribe();
        for i in 0..6 {
            tx.send(i).unwrap();
            assert_eq!(fast.try_recv(), Ok(i));
        }
        assert_eq!(tx.len(), 4, "kept for the slow receiver");
        assert_eq!(slow.len(), 6);
        assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(2)));
        assert_eq!(slow.try_recv(), Ok(2));
        assert_eq!(tx.len(), 3);
        drop(slow);
        assert!(tx.is_empty(), "nobody needs the rest: dropped");
    }

    #[test]
    fn a_send_wakes_every_waiting_receiver_and_the_last_sender_closes() {
        let (tx, mut first) = channel(2);
        let mut second = tx.subscribe();
        let counters = [CountingWaker::new(), CountingWaker::new()];
        {
            let mut a = Box::pin(first.recv());
            let mut b = Box::pin(second.recv());
            assert!(poll_once(a.as_mut(), &counters[0].1).is_pending());
            assert!(poll_once(b.as_mut(), &counters[1].1).is_pending());
            assert_eq!(tx.send('x'), Ok(2));
            assert_eq!((counters[0].0.wakes(), counters[1].0.wakes()), (1, 1));
            assert_eq!(poll_once(a.as_mut(), &counters[0].1), Poll::Ready(Ok('x')));
            assert_eq!(poll_once(b.as_mut(), &counters[1].1), Poll::Ready(Ok('x')));
        }
        let mut waiting = Box::pin(first.recv());
        assert!(poll_once(waiting.as_mut(), &counters[0].1).is_pending());
        drop(tx);
        assert_eq!(counters[0].0.wakes(), 2);
        assert_eq!(
            poll_once(waiting.as_mut(), &counters[0].1),
            Poll::Ready(Err(RecvError::Closed))
        );
    }

    #[test]
    fn messages_nobody_will_read_are_dropped_and_sends_without_receivers_fail() {
        let (tx, rx) = channel(4);
        let value = Arc::new(());
        tx.send(value.clone()).unwrap();
        drop(rx);
        assert_eq!(Arc::strong_count(&value), 1);
        assert!(tx.send(value).is_err());
    }
}
