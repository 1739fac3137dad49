//! The channel itself, shared by both flavours: the queue of messages with the receiver's
//! waker behind a lock of their own, and behind a second lock who is still connected and,
//! for the bounded flavour, the senders waiting for a slot. A bounded channel's free slots
//! sit in an atomic word (`free_slots.rs`) while nobody waits, so a send that finds room
//! takes only the queue's lock, for one `push_back`, and a receive that frees a slot takes
//! no lock for it.
//!
//! The receiver takes the whole queue at once: when its own batch (kept in the `Receiver`)
//! runs dry, it swaps its empty `VecDeque` for the shared one, under the queue's lock, and
//! then hands the messages out one by one without locking. A message keeps its slot until
//! it is handed out, so `capacity` counts exactly what it would without the batch.
//!
//! A bounded channel's slot is taken either by a `send` (which then pushes) or by a
//! `reserve` (which hands the slot to a permit that pushes later). Both wait for slots
//! through the one [`SlotRequest`], so they queue together, in one order. A closed receiver
//! still receives what the permits taken before the close send; it sees the end of the
//! channel only once the queue is empty and every slot is back (tokio's "idle" rule), and
//! whoever returns the last slot wakes it.
//!
//! Two locks, one rule: whoever needs both takes the state's first, then the queue's. The
//! hot paths (a send that finds room, a receive) take only the queue's.
//!
//! The corner cut: senders still meet on the queue's lock, for a few instructions each.
//! tokio's queue is a lock-free list of blocks of 32 slots, which needs `unsafe`.

use super::error::{SendError, TryRecvError, TrySendError};
use super::free_slots::FreeSlots;
use crate::sync::semaphore::{Permits, Progress, TryAcquireError};
use crate::sync::wait_queue::{Ticket, WaitQueue, WakeList, store_waker};
use crate::util::lock;
use std::collections::VecDeque;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
// The two locks come from `primitives.rs`, so that under `--cfg loom` the model checker
// chooses the order of every acquisition (`loom_models/sync.rs`).
use crate::primitives::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

/// The state every sender and the receiver of one channel share.
pub(super) struct Chan<T> {
    /// The messages and the receiver's waker: what every send and receive touches.
    queue: OwnLine<Mutex<Queue<T>>>,
    /// A bounded channel's free slots while nobody waits for one (see `free_slots.rs`);
    /// unused for an unbounded one.
    free: OwnLine<FreeSlots>,
    /// A bounded channel's number of slots; zero for an unbounded one.
    capacity: usize,
    /// Everything else that changes, behind a lock of its own.
    state: Mutex<State>,
}

/// A value alone on its cache line (128 bytes: two 64-byte lines, since x86 fetches them in
/// pairs). Every sender locks the queue and takes slots from `free`, and the receiver gives
/// slots back to `free`: on one line, each write to the one would evict the other from
/// every other core's cache. tokio pads its channel's parts the same way.
#[repr(align(128))]
struct OwnLine<T>(T);

impl<T> Deref for OwnLine<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// What a send and a receive touch, under the queue's lock.
struct Queue<T> {
    /// Messages sent and not yet taken by the receiver, oldest first. One queue for all
    /// senders, and each sender pushes in the order it sends: that keeps per-sender order.
    messages: VecDeque<T>,
    /// The receiver's task, while it waits for a message.
    receiver_waker: Option<Waker>,
    /// Set once the last sender is gone: nothing more can be pushed.
    no_senders: bool,
    /// Set when the receiver closes: an unbounded send fails from then on (a bounded one
    /// fails for want of a slot).
    closed: bool,
}

// ANCHOR: chan_enqueue
impl<T> Queue<T> {
    /// Appends `value` and returns the receiver's waker if it waits, to wake after
    /// unlocking. Taken, not cloned: the receiver is woken once, however many messages
    /// follow before it runs; it files its waker again only when it finds the queue empty.
    fn push(&mut self, value: T) -> Option<Waker> {
        self.messages.push_back(value);
        self.receiver_waker.take()
    }
}
// ANCHOR_END: chan_enqueue

/// The receiver's batch: messages taken out of the queue in one go and not handed out yet.
///
/// Only the receiver touches it, through `&mut self`, so `get_mut` reaches it without
/// locking. The `Mutex` is there for one reason: it makes a `Receiver<T>` `Sync` whenever
/// `T` is `Send`, as tokio's is; a bare `VecDeque<T>` would ask `T: Sync` too.
pub(super) struct Taken<T>(std::sync::Mutex<VecDeque<T>>);

// The messages are only ever moved, never pinned, so the batch is `Unpin` whatever `T` is
// (a `VecDeque<T>` alone is `Unpin` only if `T` is), and a `Receiver<T>` stays `Unpin`, as
// tokio's is.
impl<T> Unpin for Taken<T> {}

impl<T> Taken<T> {
    /// An empty batch.
    pub(super) fn new() -> Taken<T> {
        Taken(std::sync::Mutex::new(VecDeque::new()))
    }

    /// The batch, for its owner: no lock is taken.
    pub(super) fn get_mut(&mut self) -> &mut VecDeque<T> {
        self.0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many messages it holds, for `len(&self)`.
    fn len(&self) -> usize {
        lock(&self.0).len()
    }
}

/// The part of a channel's state that only waiting, closing and counting touch.
struct State {
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
    /// Tasks waiting in `Sender::closed()`, any number of them.
    closed_waiters: WaitQueue<Waker>,
    /// A bounded channel's senders waiting for a slot, in the order they came, with the
    /// free slots while anyone waits (or once the channel is closed); `None` for an
    /// unbounded channel. A message holds its slot from the moment its sender takes it
    /// until the receiver hands it out.
    ///
    /// Why here and not in a `Semaphore` next to the channel: a semaphore has its own lock,
    /// so a waiting send would take two (the slot, then the state). Here it is one critical
    /// section. The rules (first come, first served; clean-up after a send that gives up)
    /// are still the semaphore's, shared through [`Permits`].
    room: Option<Permits>,
}

/// Why a bounded operation finds a `room`.
const BOUNDED: &str = "only a bounded channel sends through a slot";

/// The state's lock, held. It knows its channel, so that the first use of the room moves
/// the free slots in from the atomic word (see [`Locked::room`]), and letting go moves them
/// out again when nobody waits for one.
struct Locked<'a, T> {
    /// The channel locked.
    chan: &'a Chan<T>,
    /// The state, locked.
    state: MutexGuard<'a, State>,
    /// Set once this critical section moved the free slots in under the lock.
    room_entered: bool,
}

impl<T> Deref for Locked<'_, T> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl<T> DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

// ANCHOR: locked_room
impl<T> Locked<'_, T> {
    /// The room, with every free slot in it: the first call moves the slots in from the
    /// atomic word, which then refuses every lock-free take and give until we let go.
    fn room(&mut self) -> &mut Permits {
        let room = self.state.room.as_mut().expect(BOUNDED);
        if !self.room_entered {
            self.room_entered = true;
            room.deposit(self.chan.free.move_under_lock());
        }
        room
    }
}

impl<T> Drop for Locked<'_, T> {
    /// Before the lock goes: if nobody waits for a slot and the channel is open, the free
    /// slots go back to the atomic word, where the next sends take them without the lock.
    fn drop(&mut self) {
        if !self.room_entered {
            return;
        }
        let room = self.state.room.as_mut().expect(BOUNDED);
        if let Some(free) = room.withdraw_if_nobody_waits() {
            self.chan.free.move_out_of_lock(free);
        }
    }
}
// ANCHOR_END: locked_room

impl<T> Locked<'_, T> {
    /// `n` slots are free again (the receiver handed messages out, or a permit went
    /// unused): they go to the oldest waiting senders first. Returns the wakers to wake
    /// after unlocking, the receiver's among them if that made a closed channel idle.
    fn slots_freed(&mut self, n: usize) -> WakeList {
        let mut to_wake = self.room().release(n);
        // Only a closed receiver waits for slots to come back.
        if self.closed {
            to_wake.extend(self.receiver_if_done());
        }
        to_wake
    }

    /// Whether every slot is back: no message queued or in the receiver's batch, no permit
    /// out, no slot granted to a sender that has yet to collect it. Always true of an
    /// unbounded channel. Asked only of a closed channel, whose slots stay under the lock
    /// for good.
    fn idle(&self) -> bool {
        self.room
            .as_ref()
            .is_none_or(|room| room.available() == self.chan.capacity)
    }

    /// The receiver's waker, if it waits and a slot coming back just made a closed
    /// channel idle: the last permit back wakes it. (A waiting receiver's batch is empty:
    /// it waits only when nothing is left.)
    fn receiver_if_done(&mut self) -> Option<Waker> {
        if !(self.closed && self.idle()) {
            return None;
        }
        let mut queue = lock(&*self.chan.queue);
        if queue.messages.is_empty() {
            queue.receiver_waker.take()
        } else {
            None
        }
    }

    /// Pushes `value` (whose slot, in a bounded channel, is already taken) while the
    /// state's lock is held; returns the receiver's waker if it waits.
    fn enqueue(&mut self, value: T) -> Option<Waker> {
        lock(&*self.chan.queue).push(value)
    }

    // ANCHOR: poll_slots
    /// One poll of a wait for `wanted` slots, under the lock. The slots are taken when it
    /// returns `Taken`; on `Refused` the channel is closed, whatever the request held went
    /// back, and `to_wake` has the wakers to wake after the lock.
    fn poll_slots(
        &mut self,
        request: &mut SlotRequest,
        wanted: usize,
        waker: &Waker,
        to_wake: &mut WakeList,
    ) -> SlotPoll {
        let closed = self.closed;
        let room = self.room();
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
        let (mut to_wake, own) = self.room().cancel(ticket, wanted);
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

impl SlotRequest {
    /// Whether it has not asked yet: only then may it try the lock-free way, since a
    /// queued request is owed its slot by the queue.
    fn is_fresh(&self) -> bool {
        self.ticket.is_none() && !self.held
    }
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

/// What the receiver found when it looked for messages.
enum Look {
    /// Messages: the receiver's batch holds at least one.
    Found,
    /// Nothing, and nothing more can come.
    Done,
    /// Nothing yet (and the receiver's waker is filed, if one was given).
    Empty,
}

impl<T> Chan<T> {
    /// An open, empty channel with one sender, holding at most `capacity` messages if a
    /// capacity is given.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            queue: OwnLine(Mutex::new(Queue {
                messages: VecDeque::new(),
                receiver_waker: None,
                no_senders: false,
                closed: false,
            })),
            // Every slot starts free, in the atomic word; the room starts empty.
            free: OwnLine(FreeSlots::new(capacity.unwrap_or(0))),
            capacity: capacity.unwrap_or(0),
            state: Mutex::new(State {
                senders: 1,
                closed: false,
                receiver_gone: false,
                weak_senders: 0,
                closed_waiters: WaitQueue::new(),
                room: capacity.map(|_| Permits::new(0)),
            }),
        }
    }

    /// Takes the state's lock.
    fn lock(&self) -> Locked<'_, T> {
        Locked {
            chan: self,
            state: lock(&self.state),
            room_entered: false,
        }
    }

    // ANCHOR: chan_push
    /// Pushes a message whose slot (in a bounded channel) is taken, and wakes the receiver
    /// if it waits: one lock, for a `push_back` and a look at the waker.
    fn push_and_wake(&self, value: T) {
        let receiver = lock(&*self.queue).push(value);
        if let Some(waker) = receiver {
            waker.wake();
        }
    }
    // ANCHOR_END: chan_push

    /// Gives `n` slots of a bounded channel back: lock-free while nobody waits for one,
    /// otherwise under the state's lock, where they go to the oldest waiting senders.
    fn give_back(&self, n: usize) {
        if self.capacity == 0 || self.free.try_give(n) {
            return;
        }
        let mut locked = self.lock();
        let to_wake = locked.slots_freed(n);
        drop(locked);
        to_wake.wake_all();
    }

    /// Unbounded send: appends `value` and wakes the receiver if it waits; hands the value
    /// back if the receiver closed. The check and the push are under the queue's lock, so
    /// that no message slips in after a closed receiver found the queue empty: an unbounded
    /// channel has no slot to count it by.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let receiver = {
            let mut queue = lock(&*self.queue);
            if queue.closed {
                return Err(value);
            }
            queue.push(value)
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
        Ok(())
    }

    /// Bounded send that never waits: takes a free slot and pushes. Fails with `Full` if no
    /// slot is free (a waiting sender is owed every slot that frees up, so this cannot
    /// overtake one).
    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        if !self.free.try_take(1) {
            match self.lock().room().try_take(1) {
                Ok(()) => {}
                Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
                // The room closes with the channel, under the same lock.
                Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
            }
        }
        self.push_and_wake(value);
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
        if n > self.capacity {
            return Err(TrySendError::Full(()));
        }
        if self.free.try_take(n) {
            return Ok(());
        }
        match self.lock().room().try_take(n) {
            Ok(()) => Ok(()),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// A permit's send: pushes `value` into the slot the permit holds. If the receiver is
    /// gone the value is dropped instead (after unlocking) and its slot freed. The push is
    /// made with the state's lock held too, so that it cannot land after the dropped
    /// receiver emptied the queue.
    pub(super) fn send_reserved(&self, value: T) {
        let mut locked = self.lock();
        if locked.receiver_gone {
            let to_wake = locked.slots_freed(1);
            drop(locked);
            to_wake.wake_all();
            drop(value);
            return;
        }
        let receiver = locked.enqueue(value);
        drop(locked);
        if let Some(waker) = receiver {
            waker.wake();
        }
    }

    /// Gives back `n` reserved slots that were never used.
    pub(super) fn unreserve(&self, n: usize) {
        self.give_back(n);
    }

    /// How many messages a bounded channel could take right now without waiting.
    pub(super) fn free_slots(&self) -> usize {
        // Through the room, which gathers the slots wherever they are.
        self.lock().room().available()
    }

    /// A bounded channel's number of slots.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many messages are queued, counting the receiver's batch `taken`.
    pub(super) fn len(&self, taken: &Taken<T>) -> usize {
        taken.len() + lock(&*self.queue).messages.len()
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

    // ANCHOR: chan_take_batch
    /// The receiver looks for messages: in `taken`, its own batch, and if that is empty in
    /// the shared queue, which it takes whole, swapping two `VecDeque`s under the queue's
    /// lock. `Found` means `taken` holds at least one. When there is nothing and `waker` is
    /// given, it is filed under the same lock, so no push can slip in between.
    fn look(&self, taken: &mut VecDeque<T>, waker: Option<&Waker>) -> Look {
        if !taken.is_empty() {
            return Look::Found;
        }
        let mut queue = lock(&*self.queue);
        if !queue.messages.is_empty() {
            // `taken` is empty: the queue gets it back, with the capacity it had, so
            // neither side allocates once both have grown.
            std::mem::swap(&mut queue.messages, taken);
            return Look::Found;
        }
        if queue.no_senders {
            return Look::Done;
        }
        if queue.closed {
            drop(queue);
            return self.look_when_closed(taken, waker);
        }
        let stale = waker.and_then(|waker| store_waker(&mut queue.receiver_waker, waker));
        drop(queue);
        drop(stale);
        Look::Empty
    }
    // ANCHOR_END: chan_take_batch

    /// [`look`](Self::look) on a closed channel with nothing queued: it is done once every
    /// slot is back, which the state knows. Takes both locks, the state's first.
    fn look_when_closed(&self, taken: &mut VecDeque<T>, waker: Option<&Waker>) -> Look {
        let locked = self.lock();
        let mut queue = lock(&*self.queue);
        if !queue.messages.is_empty() {
            // A permit taken before the close has sent meanwhile.
            std::mem::swap(&mut queue.messages, taken);
            return Look::Found;
        }
        if queue.no_senders || locked.idle() {
            return Look::Done;
        }
        let stale = waker.and_then(|waker| store_waker(&mut queue.receiver_waker, waker));
        drop(queue);
        drop(locked);
        drop(stale);
        Look::Empty
    }

    /// Takes the oldest message out of `taken` (which [`look`](Self::look) found full) and
    /// frees its slot: the message has left the channel.
    fn hand_out(&self, taken: &mut VecDeque<T>) -> T {
        let value = taken.pop_front().expect("`look` found a message");
        self.give_back(1);
        value
    }

    // ANCHOR: chan_poll_recv
    /// Takes the oldest message; `Ready(None)` once the queue is empty and nothing more
    /// can arrive. `taken` is the receiver's batch.
    pub(super) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        taken: &mut VecDeque<T>,
    ) -> Poll<Option<T>> {
        ready!(crate::task::poll_proceed(cx));
        match self.look(taken, Some(cx.waker())) {
            Look::Found => Poll::Ready(Some(self.hand_out(taken))),
            Look::Done => Poll::Ready(None),
            // Waker contract: our waker is filed in the queue. The next push takes and wakes
            // it, and so does the last sender's drop, and (once closed) the return of the
            // last slot; all after unlocking.
            Look::Empty => Poll::Pending,
        }
    }
    // ANCHOR_END: chan_poll_recv

    /// Moves up to `limit` messages to the end of `buffer`, waiting for the first one;
    /// `Ready(0)` at once when `limit` is zero, and once nothing more can arrive.
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        taken: &mut VecDeque<T>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        ready!(crate::task::poll_proceed(cx));
        match self.look(taken, Some(cx.waker())) {
            Look::Found => {
                let count = limit.min(taken.len());
                // `extend` from a `Drain` reserves only what it adds: a buffer with room
                // for `count` more keeps its capacity.
                buffer.extend(taken.drain(..count));
                self.give_back(count);
                Poll::Ready(count)
            }
            Look::Done => Poll::Ready(0),
            // Waker contract: as for `poll_recv`.
            Look::Empty => Poll::Pending,
        }
    }

    /// Takes the oldest message if there is one; never waits.
    pub(super) fn try_recv(&self, taken: &mut VecDeque<T>) -> Result<T, TryRecvError> {
        match self.look(taken, None) {
            Look::Found => Ok(self.hand_out(taken)),
            Look::Done => Err(TryRecvError::Disconnected),
            Look::Empty => Err(TryRecvError::Empty),
        }
    }

    /// The receiver closes: later sends fail, and tasks in `Sender::closed` wake up, and so
    /// do senders waiting for a slot (to fail). Messages already queued stay there to be
    /// received. The slots stay under the lock from now on (see `Locked`'s `Drop`).
    pub(super) fn close(&self) {
        let to_wake = {
            let mut locked = self.lock();
            locked.closed = true;
            lock(&*self.queue).closed = true;
            let mut to_wake = WakeList::new();
            to_wake.extend(locked.closed_waiters.take_all());
            if locked.room.is_some() {
                to_wake.append(locked.room().close());
            }
            to_wake
        };
        to_wake.wake_all();
    }

    // ANCHOR: close_and_discard
    /// The receiver is dropped: close, and drop the messages nobody will read (the queued
    /// ones and the receiver's batch `taken`) and the receiver's waker, after unlocking:
    /// destructors are user code, and a waker may hold the last reference to a task.
    pub(super) fn close_and_discard(&self, taken: &mut Taken<T>) {
        let taken = std::mem::take(taken.get_mut());
        self.close();
        let (unread, waker) = {
            let mut locked = self.lock();
            locked.receiver_gone = true;
            let (queued, waker) = {
                let mut queue = lock(&*self.queue);
                (
                    std::mem::take(&mut queue.messages),
                    queue.receiver_waker.take(),
                )
            };
            let freed = if locked.room.is_some() {
                locked.slots_freed(queued.len() + taken.len())
            } else {
                WakeList::new()
            };
            ((queued, taken), (freed, waker))
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

    /// A sender is dropped. The last one tells the queue and wakes the receiver, which will
    /// find the queue drained eventually and get `None`.
    pub(super) fn drop_sender(&self) {
        let receiver = {
            let mut state = lock(&self.state);
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            // Under both locks, in order: `upgrade` sees zero senders from now on.
            let mut queue = lock(&*self.queue);
            queue.no_senders = true;
            queue.receiver_waker.take()
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

/// The future behind a bounded `send`: waits for a free slot, then pushes the value in the
/// same poll (so a send that finds room takes one compare-and-swap and one short lock).
/// Waiting senders get their slots first come, first served, by the rules of [`Permits`].
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
        // A first poll that finds a free slot in the atomic word takes it and pushes, all
        // without the lock: the common case.
        if this.request.is_fresh() && this.chan.free.try_take(1) {
            this.chan.push_and_wake(this.value.take().expect("checked"));
            return Poll::Ready(Ok(()));
        }
        let mut locked = this.chan.lock();
        let mut to_wake = WakeList::new();
        let receiver = match locked.poll_slots(&mut this.request, 1, cx.waker(), &mut to_wake) {
            SlotPoll::Waiting(stale) => {
                drop(locked);
                drop(stale);
                // Waker contract: our waker is in the room's queue. Whoever hands us a slot
                // (the receive that frees one, or a sender granted one before us that gives
                // it up) or closes the channel takes it out and wakes it, after unlocking.
                return Poll::Pending;
            }
            // The slot is ours: push while we hold the lock anyway.
            SlotPoll::Taken => locked.enqueue(this.value.take().expect("checked")),
            SlotPoll::Refused => None,
        };
        drop(locked);
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
            let (to_wake, _own_waker) = self.chan.lock().cancel_slots(&self.request, 1);
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
/// poll. `Send` checks the budget first instead, because it pushes as soon as it has its
/// slot, sometimes with the state's lock still held, and a budget check there could wake a
/// task with the lock held.
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
        // A first poll may find the slots free in the atomic word, without the lock.
        let taken_lock_free = this.request.is_fresh() && this.chan.free.try_take(this.wanted);
        if !taken_lock_free {
            let mut locked = this.chan.lock();
            let mut to_wake = WakeList::new();
            match locked.poll_slots(&mut this.request, this.wanted, cx.waker(), &mut to_wake) {
                SlotPoll::Waiting(stale) => {
                    drop(locked);
                    drop(stale);
                    // Waker contract: as for `Send`, our waker is in the room's queue.
                    return Poll::Pending;
                }
                SlotPoll::Refused => {
                    drop(locked);
                    to_wake.wake_all();
                    this.done = true;
                    return Poll::Ready(Err(SendError(())));
                }
                SlotPoll::Taken => {}
            }
        }
        // The slots are ours.
        if crate::task::poll_proceed(cx).is_pending() {
            this.request.held = true;
            // Waker contract: `poll_proceed` has arranged our task's wake.
            return Poll::Pending;
        }
        this.done = true;
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if self.request.held {
            self.chan.unreserve(self.wanted);
        } else if self.request.ticket.is_some() {
            let (to_wake, _own_waker) = self.chan.lock().cancel_slots(&self.request, self.wanted);
            to_wake.wake_all();
        }
    }
}
