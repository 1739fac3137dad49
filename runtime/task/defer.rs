//! Deferred wakes: how a task that yields lets the driver go first.
//!
//! A task that calls `yield_now` (or runs out of cooperative budget) is saying "let the
//! others go first". If its wake put it straight back on the run queue, a task yielding in a
//! loop would be polled again and again before the driver ever looked at I/O and timers.
//! So while a scheduler runs on a thread, such wakes are parked in a per-thread list and only
//! delivered after the scheduler's next visit to the driver (or, on a multi-thread worker,
//! once its queues are otherwise empty). Tokio does the same.
//!
//! The list holds two kinds of entry. Usually the waker that yields is the one the runner
//! lent to the task it is polling, and then no waker is involved at all: the yield only
//! notes it ([`wake_after_driver`]), the runner ends the poll by marking the task scheduled
//! in the same atomic step that clears "running", and hands the task itself, with the
//! reference the run queue gave it, to the list ([`defer_task`]). Any other waker (one that
//! a `JoinSet` or a hand-written combinator made for a part of the task) is cloned into the
//! list and woken later, as every yield was before. The short way costs a yield four
//! atomic operations instead of six: `start_running` and `stop_running` as before, and
//! the reference queueing takes and the list's then dropped (`queue_again`), but no clone
//! of the waker and no wake changing the state. tokio always takes the long way (five).
//!
//! Both schedulers use this one list; a thread that runs no scheduler has none, and a
//! yield there wakes its task at once.

use super::schedule::TaskRef;
use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;
use std::task::Waker;

/// One entry of the list: what must happen once the driver has had its turn.
enum Deferred {
    /// Wake this waker.
    Wake(Waker),
    /// Queue this task again: it is marked scheduled already (see `Task::run`).
    Queue(TaskRef),
}

impl Deferred {
    fn deliver(self) {
        match self {
            Deferred::Wake(waker) => waker.wake(),
            Deferred::Queue(task) => task.queue_again(),
        }
    }
}

thread_local! {
    /// What waits on this thread for the driver's turn; `None` when no scheduler runs
    /// here. Put in place by [`enter`] and taken back by its guard; [`defer`] and
    /// [`defer_task`] push onto it, [`wake_all`] empties it.
    static DEFERRED: RefCell<Option<Vec<Deferred>>> = const { RefCell::new(None) };

    /// The task being polled on this thread: its address (which is also the data pointer
    /// of the waker it was lent), with [`YIELDED`] added once it has yielded in this poll.
    /// 0 between polls. Set by [`polling`]. One word rather than a pair: it is written
    /// twice per poll of every task.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Gives this thread a deferred list of its own until the guard drops. A list already there
/// (a scheduler entered inside another: not done today, since `block_on` does not nest) is
/// kept aside and given back by the guard, never dropped with its wakers in it.
pub(crate) fn enter() -> DeferGuard {
    let outer = DEFERRED
        .try_with(|deferred| deferred.borrow_mut().replace(Vec::new()))
        .ok()
        .flatten();
    DeferGuard { outer }
}

// ANCHOR: defer_guard
/// Removes the thread's list when dropped, waking what is still in it: a yielded task must
/// never be forgotten (its wake then reaches its scheduler like any other-thread wake).
pub(crate) struct DeferGuard {
    /// The list this guard's `enter` found, put back when it drops.
    outer: Option<Vec<Deferred>>,
}

impl Drop for DeferGuard {
    fn drop(&mut self) {
        let outer = self.outer.take();
        let left = DEFERRED
            .try_with(|deferred| std::mem::replace(&mut *deferred.borrow_mut(), outer))
            .ok()
            .flatten();
        left.into_iter().flatten().for_each(Deferred::deliver);
    }
}
// ANCHOR_END: defer_guard

/// Takes this thread's list away until the guard drops, waking what it holds: for a worker
/// that stops being one in `block_in_place`, whose closure may block on a future that
/// yields (a deferred wake there would wait for a driver visit that never comes).
pub(crate) fn suspend() -> DeferGuard {
    let outer = DEFERRED
        .try_with(|deferred| deferred.borrow_mut().take())
        .ok()
        .flatten();
    // Woken now, with the list out of the thread-local; the guard puts back the emptied
    // list, keeping its capacity.
    DeferGuard {
        outer: outer.map(|mut list| {
            list.drain(..).for_each(Deferred::deliver);
            list
        }),
    }
}

// ANCHOR: wake_after_driver
/// Makes `waker` wake after this thread's scheduler has visited the driver (or at once, on
/// a thread with no scheduler). What `yield_now` and a spent budget call before answering
/// `Pending`.
pub(crate) fn wake_after_driver(waker: &Waker) {
    if !note_yield_of_polled_task(waker) && !defer(waker) {
        waker.wake_by_ref();
    }
}

/// If `waker` is the one lent to the task being polled here, notes that the task yielded
/// and returns `true`: the runner then defers the task itself when the poll ends.
fn note_yield_of_polled_task(waker: &Waker) -> bool {
    POLLING
        .try_with(|polling| {
            // With no list on this thread, `Task::run` queues the task again at once when
            // the poll ends, as a plain wake would.
            let task = polling.get() & !YIELDED;
            let own = task != 0 && waker.data().addr() == task;
            if own {
                polling.set(task | YIELDED);
            }
            own
        })
        .unwrap_or(false)
}
// ANCHOR_END: wake_after_driver

// ANCHOR: defer
/// Holds a clone of `waker` until this thread's scheduler has visited the driver; returns
/// `false` (and does nothing) if no scheduler runs on this thread.
fn defer(waker: &Waker) -> bool {
    push(|| Deferred::Wake(waker.clone())).is_ok()
}

/// Holds `task`, which yielded and is marked scheduled, until this thread's scheduler has
/// visited the driver; hands it back if no scheduler runs on this thread.
pub(crate) fn defer_task(task: TaskRef) -> Result<(), TaskRef> {
    let mut task = Some(task);
    push(|| Deferred::Queue(task.take().expect("pushed once")))
        .map_err(|()| task.take().expect("not pushed"))
}

/// Pushes the entry `make` gives onto this thread's list, if there is one.
fn push(make: impl FnOnce() -> Deferred) -> Result<(), ()> {
    DEFERRED
        .try_with(|deferred| match deferred.borrow_mut().as_mut() {
            Some(list) => {
                // No search for a duplicate: a task defers at most once per poll, and a
                // second wake of a task that is already scheduled is a no-op anyway, whereas
                // a search would make every yield cost as much as the yields before it.
                list.push(make());
                Ok(())
            }
            None => Err(()),
        })
        .unwrap_or(Err(()))
}
// ANCHOR_END: defer

/// Added to [`POLLING`]'s address when the task yields. A task's address is a multiple of
/// its alignment (at least 8, for its atomics), so the lowest bit is free.
const YIELDED: usize = 1;

/// Records that this thread is polling the task at `task` (the address its lent waker
/// points to) until [`Polling::end`]; the task polled around this one, if any (a `LocalSet`
/// polls its tasks inside its own task's poll), is recorded again then.
#[inline]
pub(crate) fn polling(task: *const ()) -> Polling {
    debug_assert_eq!(task.addr() & YIELDED, 0, "a task is aligned");
    let outer = POLLING
        .try_with(|polling| polling.replace(task.addr()))
        .unwrap_or(0);
    Polling { outer }
}

/// The record [`polling`] made, until [`Polling::end`] (or a drop, if the poll unwinds).
pub(crate) struct Polling {
    outer: usize,
}

impl Polling {
    /// The poll is over: puts the outer record back, and says whether the task yielded.
    #[inline]
    pub(crate) fn end(self) -> bool {
        let outer = ManuallyDrop::new(self).outer; // restored here, not by `drop`
        POLLING
            .try_with(|polling| polling.replace(outer) & YIELDED != 0)
            .unwrap_or(false)
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        let _ = POLLING.try_with(|polling| polling.set(self.outer));
    }
}

/// Whether a wake is waiting here.
pub(crate) fn any() -> bool {
    DEFERRED
        .try_with(|deferred| {
            deferred
                .borrow()
                .as_ref()
                .is_some_and(|list| !list.is_empty())
        })
        .unwrap_or(false)
}

/// Delivers every deferred wake (their tasks go back on a run queue); returns whether there
/// was any.
pub(crate) fn wake_all() -> bool {
    let taken = DEFERRED
        .try_with(|deferred| deferred.borrow_mut().as_mut().map(std::mem::take))
        .ok()
        .flatten();
    let Some(mut list) = taken else { return false };
    let woke_any = !list.is_empty();
    // Woken with the thread-local released: a wake may defer again or push to a queue.
    list.drain(..).for_each(Deferred::deliver);
    // Hand the emptied list back, so its capacity is reused and deferring never allocates.
    let _ = DEFERRED.try_with(|deferred| {
        if let Some(slot) = deferred
            .borrow_mut()
            .as_mut()
            .filter(|slot| slot.is_empty())
        {
            *slot = list;
        }
    });
    woke_any
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountWakes>, Waker) {
        let count = Arc::new(CountWakes(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn an_inner_list_gives_the_outer_one_back_with_its_wakers_still_in_it() {
        let (outer_count, outer_waker) = counting_waker();
        let (inner_count, inner_waker) = counting_waker();
        let outer = enter();
        assert!(defer(&outer_waker));
        let inner = enter();
        assert!(defer(&inner_waker));
        drop(inner);
        assert_eq!(
            inner_count.0.load(Ordering::SeqCst),
            1,
            "the inner guard wakes its own"
        );
        assert_eq!(
            outer_count.0.load(Ordering::SeqCst),
            0,
            "the outer one is kept, not woken"
        );
        assert!(any(), "the outer list is back, holding its waker");
        assert!(wake_all());
        assert_eq!(outer_count.0.load(Ordering::SeqCst), 1);
        drop(outer);
        assert!(!defer(&outer_waker), "no list once the last guard is gone");
    }
}
