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
//! The queue never reads a clock: the driver hands it `now` (from the runtime's `Clock`,
//! which a test may have paused), as tokio's timer driver is handed the time by its caller.
//! So it works in `std::time::Instant`s and knows nothing of the thread-local context.

use crate::primitives::Mutex;
use crate::util::lock;
use std::collections::BTreeMap;
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
        }
    }

    // ANCHOR: register
    /// Arms (or re-arms, with a fresh waker) the timer `key` for `deadline`. Returns `true`
    /// when the driver is asleep past this deadline and must be woken to shorten its wait —
    /// otherwise a timer added from another thread would fire only when the old, later
    /// deadline passed.
    pub(crate) fn register(
        &self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
    ) -> Result<bool, TimersShutDown> {
        let mut inner = lock(&self.inner);
        if inner.shut_down {
            return Err(TimersShutDown);
        }
        if let Some(armed) = key.and_then(|key| inner.armed.get_mut(&key)) {
            if !armed.will_wake(waker) {
                *armed = waker.clone();
            }
            return Ok(false);
        }
        let new_key = TimerKey {
            deadline,
            sequence: inner.next_sequence,
        };
        inner.next_sequence += 1;
        inner.armed.insert(new_key, waker.clone());
        *key = Some(new_key);
        Ok(match inner.driver_asleep_until {
            Some(None) => true,
            Some(Some(wake_at)) => deadline < wake_at,
            None => false, // awake: it reads the earliest deadline before it next sleeps
        })
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
                queue.register(&mut key, far, Waker::noop()).unwrap();
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
            queue
                .register(&mut key, now - Duration::from_millis(offset), Waker::noop())
                .unwrap();
        }
        let mut later = None;
        queue
            .register(&mut later, now + Duration::from_secs(60), Waker::noop())
            .unwrap();
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
        queue
            .register(&mut first, now + Duration::from_secs(10), Waker::noop())
            .unwrap();
        let timeout = queue.prepare_to_park(now, None).expect("a timer is armed");
        assert!(timeout <= Duration::from_secs(10));
        let (mut later, mut earlier) = (None, None);
        assert!(
            !queue
                .register(&mut later, now + Duration::from_secs(20), Waker::noop())
                .unwrap()
        );
        assert!(
            queue
                .register(&mut earlier, now + Duration::from_secs(1), Waker::noop())
                .unwrap()
        );
        queue.woke_up();
        let mut awake = None;
        assert!(
            !queue.register(&mut awake, now, Waker::noop()).unwrap(),
            "an awake driver needs no wake"
        );
    }
}
