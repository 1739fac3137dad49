//! The channel itself, shared by both flavours: a queue of messages, the receiver's waker,
//! who is still connected and, for the bounded flavour, the free slots and the senders
//! waiting for one. All of it sits behind one lock.

use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::semaphore::{Permits, Progress, TryAcquireError};
use crate::sync::wait_queue::{Ticket, WaitQueue, WakeList, replace_waker, store_waker};
use crate::util::lock;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker, ready};

/// The state every sender and the receiver of one channel share.
pub(super) struct Chan<T> {
    /// Everything that changes, behind one short lock.
    state: Mutex<State<T>>,
}

/// A channel's state.
struct State<T> {
    /// Messages sent and not yet received, oldest first. One queue for all senders, and
    /// each sender pushes in the order it sends: that is what keeps per-sender order.
    queue: VecDeque<T>,
    /// How many senders are alive; at zero the receiver knows nothing more can come.
    senders: usize,
    /// Set when the receiver closes or is dropped: sends fail from then on.
    closed: bool,
    /// The receiver's task, while it waits for a message.
    receiver_waker: Option<Waker>,
    /// Tasks waiting in `Sender::closed()`, any number of them.
    closed_waiters: WaitQueue<Waker>,
    /// A bounded channel's free slots, one permit each, and the senders waiting for one, in
    /// the order they came; `None` for an unbounded channel. A message holds its slot from
    /// the moment its sender takes the permit until the receiver takes the message out.
    ///
    /// Why here and not in a `Semaphore` next to the channel: a semaphore has its own lock,
    /// so a send took two (the slot, then the queue) and a receive two more (the queue,
    /// then the slot). Under the channel's lock, taking a slot and pushing is one critical
    /// section, and so is popping and freeing a slot. The rules (first come, first served;
    /// clean-up after a send that gives up) are still the semaphore's, shared through
    /// [`Permits`]. Measured with callgrind on the benchmark's current-thread runs: per
    /// message of `mpsc_bounded`, 4.3 atomic read-modify-writes instead of 8.3 (tokio: 8.5)
    /// and 431 instructions instead of 488 (tokio: 497); per `mpsc_ping_pong` round trip,
    /// 30 atomics instead of 38 (tokio: 30). By the stopwatch, `mpsc_bounded` went from
    /// about 0.94 of tokio's time to 0.56 on the current-thread runtime, and from about 1.4
    /// to about 1.0 on the multi-thread one.
    room: Option<Permits>,
}

/// Why a bounded operation finds a `room`.
const BOUNDED: &str = "only a bounded channel sends through a slot";

impl<T> State<T> {
    // ANCHOR: chan_enqueue
    /// Appends `value` (whose slot, in a bounded channel, is already taken). Returns the
    /// receiver's waker, to wake after unlocking. Taken, not cloned: the receiver is woken
    /// once, however many messages follow before it runs; it files its waker again only
    /// when it finds the queue empty.
    fn enqueue(&mut self, value: T) -> Option<Waker> {
        self.queue.push_back(value);
        self.receiver_waker.take()
    }
    // ANCHOR_END: chan_enqueue

    /// The receiver took a message out: in a bounded channel its slot is free again, and
    /// goes to the oldest waiting sender first. Returns the wakers to wake after unlocking.
    fn slot_freed(&mut self) -> WakeList {
        match &mut self.room {
            Some(room) => room.release(1),
            None => WakeList::new(),
        }
    }
}

impl<T> Chan<T> {
    /// An open, empty channel with one sender, holding at most `capacity` messages if a
    /// capacity is given.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                closed: false,
                receiver_waker: None,
                closed_waiters: WaitQueue::new(),
                room: capacity.map(Permits::new),
            }),
        }
    }

    // ANCHOR: chan_push
    /// Unbounded send: appends `value` and wakes the receiver if it waits; hands the value
    /// back if the receiver is gone.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let receiver = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(value);
            }
            state.enqueue(value)
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
        Ok(())
    }
    // ANCHOR_END: chan_push

    /// Bounded send that never waits: takes a free slot and pushes, both under one lock.
    /// Fails with `Full` if no slot is free (a waiting sender is owed every slot that frees
    /// up, so this cannot overtake one).
    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let receiver = {
            let mut state = lock(&self.state);
            match state.room.as_mut().expect(BOUNDED).try_take(1) {
                Ok(()) => state.enqueue(value),
                Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
                // The room closes with the channel, under the same lock.
                Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
            }
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
        Ok(())
    }

    /// Bounded send: the future that waits for a slot, then pushes `value`.
    pub(super) fn send(&self, value: T) -> Send<'_, T> {
        Send {
            chan: self,
            value: Some(value),
            ticket: None,
        }
    }

    /// How many messages a bounded channel could take right now without waiting.
    pub(super) fn free_slots(&self) -> usize {
        lock(&self.state).room.as_ref().expect(BOUNDED).available()
    }

    // ANCHOR: chan_poll_recv
    /// Takes the oldest message, freeing its slot in the same critical section;
    /// `Ready(None)` once the queue is empty and nothing more can arrive.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(crate::task::poll_proceed(cx));
        let mut state = lock(&self.state);
        if let Some(value) = state.queue.pop_front() {
            let senders = state.slot_freed();
            drop(state);
            senders.wake_all();
            return Poll::Ready(Some(value));
        }
        if state.closed || state.senders == 0 {
            return Poll::Ready(None);
        }
        let stale = store_waker(&mut state.receiver_waker, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `receiver_waker`. The next push takes and wakes
        // it, and so does the last sender's drop; both after unlocking.
        Poll::Pending
    }
    // ANCHOR_END: chan_poll_recv

    /// Takes the oldest message if there is one; never waits.
    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (value, senders) = {
            let mut state = lock(&self.state);
            match state.queue.pop_front() {
                Some(value) => (value, state.slot_freed()),
                None if state.closed || state.senders == 0 => {
                    return Err(TryRecvError::Disconnected);
                }
                None => return Err(TryRecvError::Empty),
            }
        };
        senders.wake_all();
        Ok(value)
    }

    /// The receiver closes: later sends fail, and tasks in `Sender::closed` wake up, and so
    /// do senders waiting for a slot (to fail). Messages already queued stay there to be
    /// received.
    pub(super) fn close(&self) {
        let to_wake = {
            let mut state = lock(&self.state);
            state.closed = true;
            let mut to_wake = WakeList::new();
            to_wake.extend(state.closed_waiters.take_all());
            if let Some(room) = &mut state.room {
                to_wake.append(room.close());
            }
            to_wake
        };
        to_wake.wake_all();
    }

    // ANCHOR: close_and_discard
    /// The receiver is dropped: close, and drop the messages nobody will read (after
    /// unlocking: their destructors are user code).
    pub(super) fn close_and_discard(&self) {
        self.close();
        let unread = std::mem::take(&mut lock(&self.state).queue);
        drop(unread);
    }
    // ANCHOR_END: close_and_discard

    /// Whether the receiver has closed or is gone.
    pub(super) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Another sender (a clone) joins.
    pub(super) fn add_sender(&self) {
        lock(&self.state).senders += 1;
    }

    /// A sender is dropped. The last one wakes the receiver, which will find the queue
    /// drained eventually and get `None`.
    pub(super) fn drop_sender(&self) {
        let receiver = {
            let mut state = lock(&self.state);
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.receiver_waker.take()
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
    }

    /// Waits until the receiver closes or is dropped.
    pub(super) async fn closed(&self) {
        Closed {
            chan: self,
            ticket: None,
        }
        .await
    }
}

/// The future behind `Sender::closed`. Cancel-safe: dropping it only takes its waker out.
struct Closed<'a, T> {
    /// The channel watched.
    chan: &'a Chan<T>,
    /// Its entry in `closed_waiters`, once it has polled.
    ticket: Option<Ticket>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock(&this.chan.state);
        if state.closed {
            // `close` emptied `closed_waiters`, our entry included.
            this.ticket = None;
            return Poll::Ready(());
        }
        let stale = match this
            .ticket
            .and_then(|ticket| state.closed_waiters.get_mut(ticket))
        {
            Some(queued) => replace_waker(queued, cx.waker()),
            None => {
                this.ticket = Some(state.closed_waiters.push_back(cx.waker().clone()));
                None
            }
        };
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `closed_waiters`; the receiver's `close` (also run
        // when it is dropped) wakes every entry after unlocking.
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let removed = lock(&self.chan.state).closed_waiters.remove(ticket);
            drop(removed);
        }
    }
}

/// The future behind a bounded `send`: waits for a free slot, then pushes the value, taking
/// the slot and pushing in the same critical section (so a send that finds room locks the
/// channel once). Waiting senders get their slots first come, first served, by the rules of
/// [`Permits`].
///
/// Dropping it before it completes drops the value unsent, and gives back whatever slot it
/// was granted (see `Drop`): nothing else is lost.
pub(super) struct Send<'a, T> {
    /// The channel.
    chan: &'a Chan<T>,
    /// The value, until it is pushed or handed back; `None` once the future completed.
    value: Option<T>,
    /// Its place in the room's queue, while it waits for a slot (or has been granted one
    /// and not polled since).
    ticket: Option<Ticket>,
}

// The value is only ever moved, never pinned: nothing here hands out a `Pin<&mut T>`, so the
// future may be `Unpin` whatever `T` is, and `poll` can use `get_mut` without `unsafe`.
impl<T> Unpin for Send<'_, T> {}

// ANCHOR: send_poll
impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        assert!(
            this.value.is_some(),
            "a send future was polled after completion"
        );
        let mut state = lock(&this.chan.state);
        let closed = state.closed;
        let room = state.room.as_mut().expect(BOUNDED);
        let (progress, stale) = match this.ticket {
            None => (room.start(1, cx.waker()), None),
            Some(ticket) => room.check(ticket, cx.waker()),
        };
        let mut senders = WakeList::new();
        let mut receiver = None;
        match progress {
            Progress::Queued(ticket) => {
                this.ticket = Some(ticket);
                drop(state);
                drop(stale);
                // Waker contract: our waker is in the room's queue under `ticket`. Whoever
                // hands us a slot (the receive that frees one, or a sender granted one
                // before us that gives it up) or closes the channel takes it out and wakes
                // it, after unlocking.
                return Poll::Pending;
            }
            // The room closes with the channel: the receiver is gone or closed.
            Progress::Closed => {}
            // Granted a slot while waiting, and the receiver closed since: give it back.
            Progress::Acquired if closed => senders = room.release(1),
            Progress::Acquired => receiver = state.enqueue(this.value.take().expect("checked")),
        }
        this.ticket = None;
        drop(state);
        senders.wake_all();
        if let Some(waker) = receiver {
            waker.wake();
        }
        // Still ours if it was not sent: hand it back.
        match this.value.take() {
            None => Poll::Ready(Ok(())),
            Some(value) => Poll::Ready(Err(SendError(value))),
        }
    }
}
// ANCHOR_END: send_poll

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            // Still queued, or granted a slot it never used: out of the queue, and the slot
            // (if any) to the next sender in line.
            let (senders, _own_waker) = lock(&self.chan.state)
                .room
                .as_mut()
                .expect(BOUNDED)
                .cancel(ticket, 1);
            senders.wake_all();
        }
        // The unsent value, if any, is dropped after this, with the future's fields: after
        // the lock, since its destructor is user code.
    }
}
