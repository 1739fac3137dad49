//! The timer queue: every armed `Sleep` of one runtime, ordered by deadline.
//!
//! The structure is a `BTreeMap` keyed by `(deadline, sequence number)`:
//! - the driver needs the **earliest** deadline before each `epoll_wait`: the first key, O(log n);
//! - expiring means popping keys from the front while they are due;
//! - a dropped `Sleep` (a `timeout` whose future won) **removes its own entry**, O(log n), so a
//!   million cancelled timeouts leave nothing behind — a binary heap cannot remove from the
//!   middle and would have to keep them as tombstones until their deadline;
//! - the sequence number makes two timers with the same deadline distinct keys.
//!
//! What a production runtime does instead: tokio uses a hierarchical timing wheel (O(1) insert
//! and cancel, millisecond resolution) with the entries stored inside the `Sleep` futures
//! themselves. A B-tree is simpler to read and fast enough to measure against it.
//!
//! The queue also remembers how far it has fired (`fired_through`), in an atomic that a
//! `Sleep` can read without the lock: once the driver has expired every timer due at some
//! instant, a sleep whose deadline is no later knows that its entry is gone, and completes
//! without reading the clock or taking the lock to remove an entry that is not there. tokio
//! gets the same from the state word inside each timer entry.
//!
//! The queue never reads a clock: the driver hands it `now` (from the runtime's `Clock`,
//! which a test may have paused), as tokio's timer driver is handed the time by its caller.
//! So it works in `std::time::Instant`s and knows nothing of the thread-local context.

use crate::primitives::Mutex;
use crate::primitives::atomic::AtomicU64;
use crate::util::lock;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::task::Waker;
use std::time::{Duration, Instant};

/// Names one armed timer in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Instant,
    sequence: u64,
}

/// Every armed timer of one runtime.
pub(crate) struct TimerQueue {
    inner: Mutex<Inner>,
    /// The instant `fired_through` counts from.
    epoch: Instant,
    /// 0 before the first `expire`; then 1 + the nanoseconds from `epoch` to the latest
    /// `now` that `expire` was given. Written under the lock, read without it.
    ///
    /// The rule that makes it useful: **every entry in `armed` has a deadline later than
    /// it.** `expire` removes every entry due at `now` before it raises this to `now`, and
    /// `register` refuses (as already due) a new deadline at or before it, both under the
    /// lock. So a deadline at or before it has no entry: its timer has fired.
    fired_through: AtomicU64,
}

/// What [`TimerQueue::register`] did.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Registered {
    /// The timer is in the queue; `wake_driver`: the driver is asleep past its deadline and
    /// must be woken to shorten its wait (otherwise a timer added from another thread would
    /// fire only when the old, later deadline passed).
    Armed { wake_driver: bool },
    /// Not queued: the driver has already fired every timer due by this deadline.
    AlreadyDue,
}

struct Inner {
    /// Armed timers and the waker of the task waiting on each.
    armed: BTreeMap<TimerKey, Waker>,
    /// Source of `TimerKey::sequence`.
    next_sequence: u64,
    /// Whether the driver is blocked in `epoll_wait`, and until when (`Some(None)`: no
    /// deadline). Lets a new, earlier timer know it must interrupt that wait.
    driver_asleep_until: Option<Option<Instant>>,
    /// The runtime is gone: nothing will ever fire again.
    shut_down: bool,
}

/// Why a timer could not be armed.
#[derive(Debug)]
pub(crate) struct TimersShutDown;

impl TimerQueue {
    pub(crate) fn new() -> TimerQueue {
        TimerQueue {
            inner: Mutex::new(Inner {
                armed: BTreeMap::new(),
                next_sequence: 0,
                driver_asleep_until: None,
                shut_down: false,
            }),
            epoch: Instant::now(),
            fired_through: AtomicU64::new(0),
        }
    }

    /// `deadline` in `fired_through`'s units: 1 + nanoseconds since `epoch` (1 for any
    /// deadline before it).
    fn mark(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX - 1) + 1
    }

    /// Whether the driver has fired every timer due by `deadline`: then a timer armed for
    /// it is no longer in the queue. One atomic load, no lock.
    pub(crate) fn has_fired(&self, deadline: Instant) -> bool {
        self.mark(deadline) <= self.fired_through.load(Acquire)
    }

    // ANCHOR: register
    /// Arms (or re-arms, with a fresh waker) the timer `key` for `deadline`, unless the
    /// driver has already fired every timer due by then (see [`Registered`]).
    pub(crate) fn register(
        &self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
    ) -> Result<Registered, TimersShutDown> {
        let mut inner = lock(&self.inner);
        if inner.shut_down {
            return Err(TimersShutDown);
        }
        if let Some(armed) = key.and_then(|key| inner.armed.get_mut(&key)) {
            if !armed.will_wake(waker) {
                *armed = waker.clone();
            }
            return Ok(Registered::Armed { wake_driver: false });
        }
        if self.has_fired(deadline) {
            // The clock passed it between the caller's look and this lock, and the driver
            // has already been by: queued now, it would break `fired_through`'s rule.
            *key = None;
            return Ok(Registered::AlreadyDue);
        }
        let new_key = TimerKey {
            deadline,
            sequence: inner.next_sequence,
        };
        inner.next_sequence += 1;
        inner.armed.insert(new_key, waker.clone());
        *key = Some(new_key);
        let wake_driver = match inner.driver_asleep_until {
            Some(None) => true,
            Some(Some(wake_at)) => deadline < wake_at,
            None => false, // awake: it reads the earliest deadline before it next sleeps
        };
        Ok(Registered::Armed { wake_driver })
    }
    // ANCHOR_END: register

    /// Disarms a timer; returns its waker if it was still armed.
    pub(crate) fn cancel(&self, key: TimerKey) -> Option<Waker> {
        lock(&self.inner).armed.remove(&key)
    }

    // ANCHOR: prepare_to_park
    /// The driver is about to block at `now`: records until when, and returns the
    /// `epoll_wait` timeout (the time to the earliest deadline, capped by `max_wait`).
    pub(crate) fn prepare_to_park(
        &self,
        now: Instant,
        max_wait: Option<Duration>,
    ) -> Option<Duration> {
        let mut inner = lock(&self.inner);
        let next_deadline = inner.armed.keys().next().map(|key| key.deadline);
        let until_timer = next_deadline.map(|deadline| deadline.saturating_duration_since(now));
        let timeout = match (until_timer, max_wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if timeout != Some(Duration::ZERO) {
            inner.driver_asleep_until = Some(timeout.map(|timeout| now + timeout));
        }
        timeout
    }
    // ANCHOR_END: prepare_to_park

    /// The earliest deadline armed, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        lock(&self.inner)
            .armed
            .keys()
            .next()
            .map(|key| key.deadline)
    }

    /// The driver returned from `epoll_wait`.
    pub(crate) fn woke_up(&self) {
        lock(&self.inner).driver_asleep_until = None;
    }

    // ANCHOR: expire
    /// Moves the wakers of every timer due at `now` into `expired`.
    pub(crate) fn expire(&self, now: Instant, expired: &mut Vec<Waker>) {
        let mut inner = lock(&self.inner);
        while let Some(entry) = inner.armed.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            expired.push(entry.remove());
        }
        // Still under the lock, so no `register` sees the new mark before the entries it
        // covers are gone. `fetch_max`: a paused clock's `now` never goes back, but a
        // caller's might.
        self.fired_through.fetch_max(self.mark(now), Release);
        drop(inner);
    }
    // ANCHOR_END: expire

    /// The runtime is going away: returns every waker so each sleeper can learn it.
    pub(crate) fn shutdown(&self) -> Vec<Waker> {
        let mut inner = lock(&self.inner);
        inner.shut_down = true;
        std::mem::take(&mut inner.armed).into_values().collect()
    }

    /// How many timers are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).armed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn cancelled_timers_leave_nothing_behind() {
        let queue = TimerQueue::new();
        let far = Instant::now() + Duration::from_secs(3600);
        let keys: Vec<_> = (0..10_000)
            .map(|_| {
                let mut key = None;
                let _ = queue.register(&mut key, far, Waker::noop()).unwrap();
                key.unwrap()
            })
            .collect();
        assert_eq!(queue.len(), 10_000);
        keys.into_iter()
            .for_each(|key| assert!(queue.cancel(key).is_some()));
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn expire_takes_due_timers_in_deadline_order_and_leaves_the_rest() {
        let queue = TimerQueue::new();
        let now = Instant::now();
        for offset in [30, 10, 20] {
            let mut key = None;
            let due = now - Duration::from_millis(offset);
            let _ = queue.register(&mut key, due, Waker::noop()).unwrap();
        }
        let mut later = None;
        let _ = queue.register(&mut later, now + Duration::from_secs(60), Waker::noop());
        let mut expired = Vec::new();
        queue.expire(now, &mut expired);
        assert_eq!(expired.len(), 3);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn an_earlier_timer_wakes_a_sleeping_driver_but_a_later_one_does_not() {
        let queue = TimerQueue::new();
        let now = Instant::now();
        let mut first = None;
        let _ = queue.register(&mut first, now + Duration::from_secs(10), Waker::noop());
        let timeout = queue.prepare_to_park(now, None).expect("a timer is armed");
        assert!(timeout <= Duration::from_secs(10));
        let (mut later, mut earlier) = (None, None);
        let armed = |wake_driver| Registered::Armed { wake_driver };
        let later_deadline = now + Duration::from_secs(20);
        let registered = queue.register(&mut later, later_deadline, Waker::noop());
        assert_eq!(registered.unwrap(), armed(false));
        let earlier_deadline = now + Duration::from_secs(1);
        let registered = queue.register(&mut earlier, earlier_deadline, Waker::noop());
        assert_eq!(registered.unwrap(), armed(true));
        queue.woke_up();
        let mut awake = None;
        let registered = queue.register(&mut awake, now, Waker::noop());
        assert_eq!(
            registered.unwrap(),
            armed(false),
            "an awake driver needs no wake"
        );
    }

    #[test]
    fn what_the_driver_has_fired_is_known_without_the_lock_and_never_queued_again() {
        let queue = TimerQueue::new();
        let now = Instant::now();
        let (soon, later) = (
            now + Duration::from_millis(5),
            now + Duration::from_secs(60),
        );
        assert!(
            !queue.has_fired(now),
            "nothing is fired before the first expire"
        );
        let (mut soon_key, mut later_key) = (None, None);
        let _ = queue.register(&mut soon_key, soon, Waker::noop()).unwrap();
        let _ = queue
            .register(&mut later_key, later, Waker::noop())
            .unwrap();
        let mut expired = Vec::new();
        queue.expire(soon, &mut expired);
        assert_eq!(expired.len(), 1);
        assert!(queue.has_fired(soon) && queue.has_fired(now));
        assert!(!queue.has_fired(later));
        // A deadline the driver has already passed is refused rather than queued behind
        // the mark, where `has_fired` would wrongly call it gone.
        let mut late_key = None;
        let registered = queue.register(&mut late_key, now, Waker::noop()).unwrap();
        assert_eq!(registered, Registered::AlreadyDue);
        assert!(late_key.is_none());
        assert_eq!(queue.len(), 1, "only the 60 s timer is left");
    }
}
