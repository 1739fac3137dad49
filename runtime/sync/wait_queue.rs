//! What every primitive in this module waits in: a first-come, first-served queue of parked
//! tasks, and a list of wakers to wake once the lock is let go.

use std::collections::BTreeMap;
use std::task::Waker;

/// A waiter's place in a [`WaitQueue`]. Tickets are handed out in increasing order, so
/// ordering by ticket is ordering by arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ticket(u64);

// ANCHOR: wait_queue
/// A FIFO of waiters, each filed under the [`Ticket`] its future keeps.
///
/// Why a map and not a `VecDeque`: a future dropped while it waits must take its own entry
/// out, wherever it stands in the queue. A `BTreeMap` keyed by ticket does that in
/// O(log n) and still walks the entries oldest first. tokio threads an intrusive linked list
/// through the waiting futures themselves instead: O(1) removal and no allocation per
/// waiter, at the price of `unsafe` code and futures that must stay pinned while linked.
pub(super) struct WaitQueue<W> {
    /// The ticket the next waiter gets. A `u64` does not wrap in the life of a program.
    next_ticket: u64,
    /// The waiters, oldest first.
    waiters: BTreeMap<Ticket, W>,
}
// ANCHOR_END: wait_queue

impl<W> WaitQueue<W> {
    /// An empty queue; `const` so that the primitives can be built in a `static`.
    pub(super) const fn new() -> WaitQueue<W> {
        WaitQueue {
            next_ticket: 0,
            waiters: BTreeMap::new(),
        }
    }

    /// Puts `waiter` at the back of the queue.
    pub(super) fn push_back(&mut self, waiter: W) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        self.waiters.insert(ticket, waiter);
        ticket
    }

    /// Whether nobody is queued.
    pub(super) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// The oldest waiter.
    pub(super) fn front_mut(&mut self) -> Option<&mut W> {
        self.waiters.values_mut().next()
    }

    /// Takes the oldest waiter out.
    pub(super) fn pop_front(&mut self) -> Option<(Ticket, W)> {
        self.waiters.pop_first()
    }

    /// Takes the newest waiter out.
    pub(super) fn pop_back(&mut self) -> Option<(Ticket, W)> {
        self.waiters.pop_last()
    }

    /// The waiter filed under `ticket`, if it is still queued.
    pub(super) fn get_mut(&mut self, ticket: Ticket) -> Option<&mut W> {
        self.waiters.get_mut(&ticket)
    }

    /// Takes the waiter filed under `ticket` out, if it is still queued.
    pub(super) fn remove(&mut self, ticket: Ticket) -> Option<W> {
        self.waiters.remove(&ticket)
    }

    /// Empties the queue, handing back every waiter oldest first.
    pub(super) fn take_all(&mut self) -> impl Iterator<Item = W> + use<W> {
        std::mem::take(&mut self.waiters).into_values()
    }
}

impl WaitQueue<Waker> {
    /// Files `waker` under `*ticket`: in place if that entry is still queued, otherwise at
    /// the back under a new ticket written to `*ticket`. What every "wake me when it
    /// changes" future does on each `Pending` poll. Returns the waker it replaced, which the
    /// caller drops after unlocking (see [`replace_waker`]).
    pub(super) fn file(&mut self, ticket: &mut Option<Ticket>, waker: &Waker) -> Option<Waker> {
        match ticket.and_then(|queued| self.get_mut(queued)) {
            Some(queued) => replace_waker(queued, waker),
            None => {
                *ticket = Some(self.push_back(waker.clone()));
                None
            }
        }
    }
}

/// Wakers gathered while a lock is held, to be woken after it is released.
///
/// Waking a task may run code we know nothing about (another executor may poll the task
/// right there, inside `wake`), and that code may well call back into the primitive whose
/// lock we hold: a deadlock. So state changes happen under the lock, which fills a
/// `WakeList`; the lock is dropped; then [`wake_all`](WakeList::wake_all) runs. The first
/// waker is kept inline because most releases wake exactly one task, and then the list
/// never allocates.
#[derive(Default)]
pub(super) struct WakeList {
    /// The first waker pushed: the common case, kept out of the vector.
    first: Option<Waker>,
    /// Any further wakers, in the order pushed.
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list.
    pub(super) fn new() -> WakeList {
        WakeList::default()
    }

    /// Adds a waker to wake later.
    pub(super) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Moves every waker of `other` to the end of this list.
    pub(super) fn append(&mut self, other: WakeList) {
        self.extend(other.first.into_iter().chain(other.rest));
    }

    // ANCHOR: wake_all
    /// Wakes every waker, in the order pushed. Call it with no lock held.
    pub(super) fn wake_all(self) {
        // `rest` is empty whenever `first` is, so an empty list (a release that completes
        // no waiter, the common case) costs one test.
        let Some(first) = self.first else {
            return;
        };
        first.wake();
        self.rest.into_iter().for_each(Waker::wake);
    }
    // ANCHOR_END: wake_all
}

impl Extend<Waker> for WakeList {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, wakers: I) {
        wakers.into_iter().for_each(|waker| self.push(waker));
    }
}

/// Makes `slot` wake the task behind `waker`, cloning it only if `slot` holds nothing or
/// another task's waker. Returns the waker it replaced, which the caller drops after
/// unlocking: a waker may hold the last reference to a task, and dropping that task runs
/// its destructors.
pub(super) fn store_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(current) if current.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// [`store_waker`] for a queue entry, which always holds a waker.
pub(super) fn replace_waker(current: &mut Waker, waker: &Waker) -> Option<Waker> {
    if current.will_wake(waker) {
        None
    } else {
        Some(std::mem::replace(current, waker.clone()))
    }
}
