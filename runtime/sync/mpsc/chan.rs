//! The channel itself, shared by both flavours: a queue of messages, the receiver's waker,
//! who is still connected and, for the bounded flavour, the free slots and the senders
//! waiting for one. All of it sits behind one lock.
//!
//! A bounded channel's slot is taken either by a `send` (which pushes in the same critical
//! section) or by a `reserve` (which hands the slot to a permit that pushes later). Both
//! wait for slots through the one [`SlotRequest`], so they queue together, in one order.
//! A closed receiver still receives what the permits taken before the close send; it sees
//! the end of the channel only once the queue is empty and every slot is back (tokio's
//! "idle" rule), and whoever returns the last slot wakes it.

use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::semaphore::{Permits, Progress, TryAcquireError};
use crate::sync::wait_queue::{Ticket, WaitQueue, WakeList, store_waker};
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
    /// Set when the receiver is dropped: a permit's send then drops its value, since
    /// nobody will ever read it.
    receiver_gone: bool,
    /// How many `WeakSender`s (or `WeakUnboundedSender`s) exist. They keep nothing open;
    /// the count is only reported.
    weak_senders: usize,
    /// A bounded channel's number of slots; unused (zero) for an unbounded one.
    capacity: usize,
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

    /// `n` slots are free again (the receiver took messages out, or a permit went unused):
    /// they go to the oldest waiting senders first. Returns the wakers to wake after
    /// unlocking, the receiver's among them if that made a closed channel idle.
    #[inline]
    fn slots_freed(&mut self, n: usize) -> WakeList {
        let mut to_wake = match &mut self.room {
            Some(room) => room.release(n),
            None => WakeList::new(),
        };
        // Only a closed receiver waits for slots to come back; an open channel (every
        // receive on the hot path) pays one test.
        if self.closed {
            to_wake.extend(self.receiver_if_done());
        }
        to_wake
    }

    /// Whether every slot is back: no message queued, no permit out, no slot granted to a
    /// sender that has yet to collect it. Always true of an unbounded channel.
    fn idle(&self) -> bool {
        self.room
            .as_ref()
            .is_none_or(|room| room.available() == self.capacity)
    }

    /// Whether the receiver has seen everything it ever will: the queue is empty and either
    /// every sender is gone or the channel is closed and idle.
    fn done(&self) -> bool {
        self.queue.is_empty() && (self.senders == 0 || (self.closed && self.idle()))
    }

    /// The receiver's waker, if it waits and a slot coming back just made it done: a
    /// closed receiver waits for the permits still out, and the last one back wakes it.
    fn receiver_if_done(&mut self) -> Option<Waker> {
        if self.closed && self.receiver_waker.is_some() && self.done() {
            self.receiver_waker.take()
        } else {
            None
        }
    }

    // ANCHOR: poll_slots
    /// One poll of a wait for `wanted` slots, under the lock. The slots are taken when it
    /// returns `Taken`; on `Refused` the channel is closed, whatever the request held went
    /// back, and `to_wake` has the wakers to wake after the lock.
    #[inline]
    fn poll_slots(
        &mut self,
        request: &mut SlotRequest,
        wanted: usize,
        waker: &Waker,
        to_wake: &mut WakeList,
    ) -> SlotPoll {
        let closed = self.closed;
        let room = self.room.as_mut().expect(BOUNDED);
        let (progress, stale) = if request.held {
            // Taken in an earlier poll that then ran out of budget: still ours.
            request.held = false;
            (Progress::Acquired, None)
        } else {
            match request.ticket {
                None => (room.start(wanted, waker), None),
                Some(ticket) => room.check(ticket, waker),
            }
        };
        let given_back = match progress {
            Progress::Queued(ticket) => {
                request.ticket = Some(ticket);
                return SlotPoll::Waiting(stale);
            }
            Progress::Acquired if !closed => {
                request.ticket = None;
                return SlotPoll::Taken;
            }
            // Granted while waiting, and the receiver closed since: give the slots back.
            Progress::Acquired => wanted,
            // The room closes with the channel (what a refused request held came back).
            Progress::Closed => 0,
        };
        request.ticket = None;
        *to_wake = self.slots_freed(given_back);
        SlotPoll::Refused
    }
    // ANCHOR_END: poll_slots

    /// A wait for `wanted` slots dropped before it completed: out of the queue, and any
    /// slot it was granted goes on to the next sender. Returns the wakers, and the
    /// request's own waker (dropped by the caller), both for after the lock.
    fn cancel_slots(&mut self, request: &SlotRequest, wanted: usize) -> (WakeList, Option<Waker>) {
        let Some(ticket) = request.ticket else {
            return (WakeList::new(), None);
        };
        let room = self.room.as_mut().expect(BOUNDED);
        let (mut to_wake, own) = room.cancel(ticket, wanted);
        to_wake.extend(self.receiver_if_done());
        (to_wake, own)
    }
}

/// Where a wait for slots stands in the room's queue. How many slots it wants is passed
/// to each call instead of stored: for a `send` it is always one.
#[derive(Default)]
pub(super) struct SlotRequest {
    /// Its place in the room's queue, while it waits (or has been granted its slots and
    /// not polled since).
    ticket: Option<Ticket>,
    /// Set when it took its slots in a poll that could not complete for lack of budget:
    /// the slots are its own, to collect at the next poll or give back if dropped.
    held: bool,
}

/// What one poll of a [`SlotRequest`] found.
enum SlotPoll {
    /// Still waiting; the waker it replaced, to drop after the lock.
    Waiting(Option<Waker>),
    /// The slots are the caller's.
    Taken,
    /// The channel is closed (the wakers to wake are in the caller's list).
    Refused,
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
                receiver_gone: false,
                weak_senders: 0,
                capacity: capacity.unwrap_or(0),
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
            request: SlotRequest::default(),
        }
    }

    /// The future that waits for `n` slots and takes them, for permits to fill later.
    pub(super) fn reserve(&self, n: usize) -> Reserve<'_, T> {
        Reserve {
            chan: self,
            wanted: n,
            request: SlotRequest::default(),
            done: false,
        }
    }

    /// Takes `n` slots if they are free now (and nobody waits for room before us).
    pub(super) fn try_reserve(&self, n: usize) -> Result<(), TrySendError<()>> {
        let mut state = lock(&self.state);
        if n > state.capacity {
            return Err(TrySendError::Full(()));
        }
        match state.room.as_mut().expect(BOUNDED).try_take(n) {
            Ok(()) => Ok(()),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// A permit's send: pushes `value` into the slot the permit holds. If the receiver is
    /// gone the value is dropped instead (after unlocking) and its slot freed.
    pub(super) fn send_reserved(&self, value: T) {
        let mut state = lock(&self.state);
        if state.receiver_gone {
            let to_wake = state.slots_freed(1);
            drop(state);
            to_wake.wake_all();
            drop(value);
            return;
        }
        let receiver = state.enqueue(value);
        drop(state);
        if let Some(waker) = receiver {
            waker.wake();
        }
    }

    /// Gives back `n` reserved slots that were never used.
    pub(super) fn unreserve(&self, n: usize) {
        let to_wake = lock(&self.state).slots_freed(n);
        to_wake.wake_all();
    }

    /// How many messages a bounded channel could take right now without waiting.
    pub(super) fn free_slots(&self) -> usize {
        lock(&self.state).room.as_ref().expect(BOUNDED).available()
    }

    /// A bounded channel's number of slots.
    pub(super) fn capacity(&self) -> usize {
        lock(&self.state).capacity
    }

    /// How many messages are queued.
    pub(super) fn len(&self) -> usize {
        lock(&self.state).queue.len()
    }

    /// Whether every sender is gone or the receiver closed (messages may still be queued).
    pub(super) fn is_closed_for_receiver(&self) -> bool {
        let state = lock(&self.state);
        state.closed || state.senders == 0
    }

    /// How many senders, and how many weak senders, exist.
    pub(super) fn sender_counts(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.senders, state.weak_senders)
    }

    /// A weak sender is made (or cloned).
    pub(super) fn add_weak_sender(&self) {
        lock(&self.state).weak_senders += 1;
    }

    /// A weak sender is dropped.
    pub(super) fn drop_weak_sender(&self) {
        lock(&self.state).weak_senders -= 1;
    }

    /// A weak sender asks to become a sender: it may while at least one sender exists.
    pub(super) fn upgrade(&self) -> bool {
        let mut state = lock(&self.state);
        if state.senders == 0 {
            return false;
        }
        state.senders += 1;
        true
    }

    // ANCHOR: chan_poll_recv
    /// Takes the oldest message, freeing its slot in the same critical section;
    /// `Ready(None)` once the queue is empty and nothing more can arrive.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(crate::task::poll_proceed(cx));
        let mut state = lock(&self.state);
        if let Some(value) = state.queue.pop_front() {
            let senders = state.slots_freed(1);
            drop(state);
            senders.wake_all();
            return Poll::Ready(Some(value));
        }
        if state.done() {
            return Poll::Ready(None);
        }
        let stale = store_waker(&mut state.receiver_waker, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `receiver_waker`. The next push takes and wakes
        // it, and so does the last sender's drop, and (once closed) the return of the last
        // slot; all after unlocking.
        Poll::Pending
    }
    // ANCHOR_END: chan_poll_recv

    /// Moves up to `limit` queued messages to the end of `buffer`, waiting for the first
    /// one; `Ready(0)` at once when `limit` is zero, and once nothing more can arrive.
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        ready!(crate::task::poll_proceed(cx));
        let mut state = lock(&self.state);
        let taken = limit.min(state.queue.len());
        if taken > 0 {
            // `extend` from a `Drain` reserves only what it adds: a buffer with room for
            // `taken` more keeps its capacity.
            buffer.extend(state.queue.drain(..taken));
            let senders = state.slots_freed(taken);
            drop(state);
            senders.wake_all();
            return Poll::Ready(taken);
        }
        if state.done() {
            return Poll::Ready(0);
        }
        let stale = store_waker(&mut state.receiver_waker, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: as for `poll_recv`.
        Poll::Pending
    }

    /// Takes the oldest message if there is one; never waits.
    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (value, senders) = {
            let mut state = lock(&self.state);
            match state.queue.pop_front() {
                Some(value) => (value, state.slots_freed(1)),
                None if state.done() => return Err(TryRecvError::Disconnected),
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
    /// The receiver is dropped: close, and drop the messages nobody will read and the
    /// receiver's waker (after unlocking: destructors are user code, and a waker may hold
    /// the last reference to a task).
    pub(super) fn close_and_discard(&self) {
        self.close();
        let (unread, waker) = {
            let mut state = lock(&self.state);
            state.receiver_gone = true;
            let unread = std::mem::take(&mut state.queue);
            let freed = state.slots_freed(unread.len());
            (unread, (freed, state.receiver_waker.take()))
        };
        drop(waker);
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
        let stale = state.closed_waiters.file(&mut this.ticket, cx.waker());
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
    /// Its wait for one slot.
    request: SlotRequest,
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
        let mut to_wake = WakeList::new();
        let receiver = match state.poll_slots(&mut this.request, 1, cx.waker(), &mut to_wake) {
            SlotPoll::Waiting(stale) => {
                drop(state);
                drop(stale);
                // Waker contract: our waker is in the room's queue. Whoever hands us a slot
                // (the receive that frees one, or a sender granted one before us that gives
                // it up) or closes the channel takes it out and wakes it, after unlocking.
                return Poll::Pending;
            }
            // The slot is ours: push in the same critical section.
            SlotPoll::Taken => state.enqueue(this.value.take().expect("checked")),
            SlotPoll::Refused => None,
        };
        drop(state);
        to_wake.wake_all();
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
        // Still queued, or granted a slot it never used: out of the queue, and the slot (if
        // any) to the next sender in line. (A send that completed holds no ticket and
        // does not lock again.)
        if self.request.ticket.is_some() {
            let (to_wake, _own_waker) = lock(&self.chan.state).cancel_slots(&self.request, 1);
            to_wake.wake_all();
        }
        // The unsent value, if any, is dropped after this, with the future's fields: after
        // the lock, since its destructor is user code.
    }
}

/// The future behind the `reserve` family: waits for `n` slots and takes them, for a
/// permit to fill. Queued with the sends, in one first-come order.
///
/// Unlike `Send`, it spends cooperative budget only in the poll that completes, as tokio's
/// operations do (tokio hands the unit back when an operation returns `Pending`): a task
/// that polls a waiting reservation by hand, again and again, is not cut off for it. When
/// the budget is gone just as the slots are taken, it keeps them (`held`) for the next
/// poll. `Send` checks the budget first instead, because it pushes under the same lock
/// that takes the slot, and a budget check there could wake a task with the lock held.
///
/// Dropping it before it completes gives back whatever slots it was granted.
pub(super) struct Reserve<'a, T> {
    /// The channel.
    chan: &'a Chan<T>,
    /// How many slots it asks for.
    wanted: usize,
    /// Its wait for the slots.
    request: SlotRequest,
    /// Set once it returned its result.
    done: bool,
}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "a reserve future was polled after completion");
        let mut state = lock(&this.chan.state);
        let mut to_wake = WakeList::new();
        let result =
            match state.poll_slots(&mut this.request, this.wanted, cx.waker(), &mut to_wake) {
                SlotPoll::Waiting(stale) => {
                    drop(state);
                    drop(stale);
                    // Waker contract: as for `Send`, our waker is in the room's queue.
                    return Poll::Pending;
                }
                SlotPoll::Taken => {
                    drop(state);
                    if crate::task::poll_proceed(cx).is_pending() {
                        this.request.held = true;
                        // Waker contract: `poll_proceed` has arranged our task's wake.
                        return Poll::Pending;
                    }
                    Ok(())
                }
                SlotPoll::Refused => {
                    drop(state);
                    to_wake.wake_all();
                    Err(SendError(()))
                }
            };
        this.done = true;
        Poll::Ready(result)
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if self.request.held {
            self.chan.unreserve(self.wanted);
        } else if self.request.ticket.is_some() {
            let (to_wake, _own_waker) =
                lock(&self.chan.state).cancel_slots(&self.request, self.wanted);
            to_wake.wake_all();
        }
    }
}
