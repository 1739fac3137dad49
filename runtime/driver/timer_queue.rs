//! The timer queue: every armed `Sleep` of one runtime, behind one lock.
//!
//! The timers themselves are filed on a timing wheel (`timer_wheel.rs`): arming and
//! cancelling are O(1), and the driver finds what is due by moving a hand over slots a
//! millisecond wide, each entry keeping its exact deadline. A dropped `Sleep` (a `timeout`
//! whose future won) **removes its own entry**, so a million cancelled timeouts leave
//! nothing behind. This file adds what the wheel, as plain data, does not know: the lock,
//! whether the driver sleeps and until when, and how far it has fired.
//!
//! The queue remembers how far it has fired (`fired_through`), in an atomic that a `Sleep`
//! can read without the lock: once the driver has expired every timer due at some instant,
//! a sleep whose deadline is no later knows that its entry is gone, and completes without
//! reading the clock or taking the lock to remove an entry that is not there. The same rule
//! lets a wheel index serve as a key: a key whose deadline is past the mark is never used
//! again, so it cannot reach an entry that reused its index. tokio gets the same from the
//! state word inside each timer entry.
//!
//! What tokio does instead: tokio 1.54 also has one wheel behind one lock, but its entries
//! live inside the `Sleep` futures. An unstable alternative (`enable_alt_timer`) gives each
//! worker thread a wheel of its own, so that workers arming timers do not meet on one lock.
//!
//! The queue never reads a clock: the driver hands it `now` (from the runtime's `Clock`,
//! which a test may have paused), as tokio's timer driver is handed the time by its caller.
//! So it works in `std::time::Instant`s and knows nothing of the thread-local context.

use crate::primitives::Mutex;
use crate::primitives::atomic::AtomicU64;
use crate::util::lock;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::task::Waker;
use std::time::{Duration, Instant};

pub(crate) use super::timer_wheel::TimerKey;
use super::timer_wheel::TimerWheel;

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
    /// lock. So a deadline at or before it has no entry: its timer has fired, and its key
    /// names nothing (or, once the wheel reuses the index, another timer's entry).
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
    armed: TimerWheel,
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
        let epoch = Instant::now();
        TimerQueue {
            inner: Mutex::new(Inner {
                armed: TimerWheel::new(epoch),
                driver_asleep_until: None,
                shut_down: false,
            }),
            epoch,
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
        if self.has_fired(deadline) {
            // The driver fired past it: the clock passed it between the caller's look and
            // this lock. Queued now, it would break `fired_through`'s rule; and a key the
            // sleep still holds names nothing of its own any more.
            *key = None;
            return Ok(Registered::AlreadyDue);
        }
        // Not fired, so a key the sleep holds is still its own entry.
        if let Some(armed) = key.and_then(|key| inner.armed.waker_mut(key)) {
            if !armed.will_wake(waker) {
                *armed = waker.clone();
            }
            return Ok(Registered::Armed { wake_driver: false });
        }
        let new_key = inner.armed.insert(deadline, waker.clone());
        *key = Some(new_key);
        let wake_driver = match inner.driver_asleep_until {
            Some(None) => true,
            Some(Some(wake_at)) => deadline < wake_at,
            None => false, // awake: it reads the earliest deadline before it next sleeps
        };
        Ok(Registered::Armed { wake_driver })
    }
    // ANCHOR_END: register

    /// Disarms the timer `key`, armed for `deadline`; returns its waker if it was still
    /// armed (not fired).
    pub(crate) fn cancel(&self, key: TimerKey, deadline: Instant) -> Option<Waker> {
        let mut inner = lock(&self.inner);
        // Fired (perhaps since the caller looked): the entry is gone, the key names nothing.
        if self.has_fired(deadline) {
            return None;
        }
        inner.armed.remove(key)
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
        let next_deadline = inner.armed.next_deadline();
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

    /// The earliest deadline armed, if any, or an instant before it when that is not in
    /// the current millisecond (see `TimerWheel::next_deadline`): waking then is early,
    /// never late.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        lock(&self.inner).armed.next_deadline()
    }

    /// The driver returned from `epoll_wait`.
    pub(crate) fn woke_up(&self) {
        lock(&self.inner).driver_asleep_until = None;
    }

    // ANCHOR: expire
    /// Moves the wakers of every timer due at `now` into `expired`.
    pub(crate) fn expire(&self, now: Instant, expired: &mut Vec<Waker>) {
        let mut inner = lock(&self.inner);
        inner.armed.expire(now, expired);
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
        inner.armed.drain()
    }

    /// Whether no timer is armed.
    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.inner).armed.is_empty()
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
            .for_each(|key| assert!(queue.cancel(key, far).is_some()));
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
