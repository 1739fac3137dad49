//! Deferred wakes: how a task that yields lets the driver go first.
//!
//! A task that calls `yield_now` (or runs out of cooperative budget) is saying "let the
//! others go first". If its wake put it straight back on the run queue, a task yielding in a
//! loop would be polled again and again before the driver ever looked at I/O and timers.
//! So while a scheduler runs on a thread, such wakes are parked in a per-thread list and only
//! delivered after the scheduler's next visit to the driver (or, on a multi-thread worker,
//! once its queues are otherwise empty). Tokio does the same.
//!
//! Both schedulers use this one list; a thread that runs no scheduler has none, and
//! [`defer`] then returns `false` so that the caller wakes at once.

use std::cell::RefCell;
use std::task::Waker;

thread_local! {
    /// The wakers deferred on this thread; `None` when no scheduler runs here. Put in place
    /// by [`enter`] and taken back by its guard; [`defer`] pushes onto it, [`wake_all`]
    /// empties it.
    static DEFERRED: RefCell<Option<Vec<Waker>>> = const { RefCell::new(None) };
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
    outer: Option<Vec<Waker>>,
}

impl Drop for DeferGuard {
    fn drop(&mut self) {
        let outer = self.outer.take();
        let left = DEFERRED
            .try_with(|deferred| std::mem::replace(&mut *deferred.borrow_mut(), outer))
            .ok()
            .flatten();
        left.into_iter().flatten().for_each(Waker::wake);
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
            list.drain(..).for_each(Waker::wake);
            list
        }),
    }
}

// ANCHOR: defer
/// Holds `waker` until this thread's scheduler has visited the driver; returns `false` (and
/// does nothing) if no scheduler runs on this thread.
pub(crate) fn defer(waker: &Waker) -> bool {
    DEFERRED
        .try_with(|deferred| match deferred.borrow_mut().as_mut() {
            Some(list) => {
                // No search for a duplicate: a task defers at most once per poll, and a
                // second wake of a task that is already scheduled is a no-op anyway, whereas
                // a search would make every yield cost as much as the yields before it.
                list.push(waker.clone());
                true
            }
            None => false,
        })
        .unwrap_or(false)
}
// ANCHOR_END: defer

/// Whether a waker is waiting here.
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

/// Wakes every deferred waker (their tasks go back on a run queue); returns whether there
/// was any.
pub(crate) fn wake_all() -> bool {
    let taken = DEFERRED
        .try_with(|deferred| deferred.borrow_mut().as_mut().map(std::mem::take))
        .ok()
        .flatten();
    let Some(mut list) = taken else { return false };
    let woke_any = !list.is_empty();
    // Woken with the thread-local released: a wake may defer again or push to a queue.
    list.drain(..).for_each(Waker::wake);
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
