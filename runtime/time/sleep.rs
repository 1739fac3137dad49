//! `sleep`: a future that completes at a deadline.

use super::Instant;
use crate::driver::{DriverHandle, Registered, TimerKey};
use crate::executor::context;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// Waits until `duration` has elapsed.
///
/// ```
/// use std::time::Duration;
/// asincrono::block_on(async {
///     let start = asincrono::time::Instant::now();
///     asincrono::time::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
///
/// The deadline is fixed by this call; the runtime whose driver fires the timer is the one
/// the `Sleep` is first polled in, so `runtime.block_on(sleep(d))` works from outside.
///
/// # Panics
/// When polled outside a runtime (the timer needs one to fire it), or polled again after
/// the runtime it is bound to has shut down (it could never fire).
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().saturating_add(duration))
}

/// Waits until `deadline`.
///
/// # Panics
/// As for [`sleep`].
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: Timer::Unarmed,
        driver: None,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Nothing is registered until it is first polled. Dropping it removes its timer from the
/// queue at once. Cancel-safe: dropping it loses nothing.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    /// When it completes.
    deadline: Instant,
    /// Where its timer stands.
    timer: Timer,
    /// The runtime whose driver fires it: the one it is first polled in.
    driver: Option<Arc<DriverHandle>>,
}

/// A sleep's timer: not in the queue, in it, or fired. One enum rather than an
/// `Option<TimerKey>` and a flag: the key is a 32-bit index, and the enum's tag fits beside
/// it in one word, so a `Sleep` is 32 bytes, which every task parked on one pays.
#[derive(Clone, Copy)]
enum Timer {
    /// Not in the queue: never polled, or reset since.
    Unarmed,
    /// In the queue under this key.
    Armed(TimerKey),
    /// A poll has returned `Ready` since the deadline was last set. Kept apart from the
    /// clock so that a sleep made for "now" is not elapsed before anyone has polled it.
    Fired,
}

impl Sleep {
    /// The instant at which it completes.
    ///
    /// ```
    /// use asincrono::time::{self, Duration, Instant};
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let sleep = time::sleep(Duration::from_secs(5));
    ///     assert_eq!(sleep.deadline(), Instant::now() + Duration::from_secs(5));
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep is over: it has completed, or its timer is armed (it has been
    /// polled) and the clock has passed its deadline, so the driver fires it at its next
    /// visit. A sleep that was never polled is not elapsed, even with its deadline past, as
    /// in tokio, where the timer, not the clock, says so.
    ///
    /// ```
    /// use asincrono::time::{self, Duration};
    /// use std::pin::pin;
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let mut sleep = pin!(time::sleep(Duration::from_millis(10)));
    ///     assert!(!sleep.is_elapsed());
    ///     sleep.as_mut().await;
    ///     assert!(sleep.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        match self.timer {
            Timer::Fired => true,
            Timer::Armed(_) => Instant::now() >= self.deadline,
            Timer::Unarmed => false,
        }
    }

    /// Moves the deadline, whether or not the sleep has already completed: a completed
    /// sleep can so be used again. A task waiting on it is woken at the new deadline
    /// instead (at once, if it is in the past, on the driver's next visit).
    ///
    /// ```
    /// use asincrono::time::{self, Duration, Instant};
    /// use std::pin::pin;
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let start = Instant::now();
    ///     let mut sleep = pin!(time::sleep(Duration::from_millis(10)));
    ///     sleep.as_mut().await;
    ///     sleep.as_mut().reset(start + Duration::from_millis(25));
    ///     assert!(!sleep.is_elapsed());
    ///     sleep.as_mut().await;
    ///     assert_eq!(start.elapsed(), Duration::from_millis(25));
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        let waiter = this.disarm(); // also forgets that it fired
        if let Some(waker) = waiter {
            // Re-arm with the waiter we already had, so it needn't poll to be woken; if the
            // new deadline has already been fired past, it polls at once and finds that.
            if this.arm(&waker) == Armed::AlreadyDue {
                waker.wake();
            }
        }
    }

    /// Puts the timer in the queue (or refreshes its waker), unless the driver has already
    /// fired past its deadline.
    #[track_caller]
    fn arm(&mut self, waker: &std::task::Waker) -> Armed {
        let driver = self.driver.get_or_insert_with(|| {
            context::current("polling an asincrono::time::Sleep")
                .driver()
                .clone()
        });
        let mut key = match self.timer {
            Timer::Armed(key) => Some(key),
            Timer::Unarmed | Timer::Fired => None,
        };
        let registered = driver
            .timers
            .register(&mut key, self.deadline.into_std(), waker);
        if let Some(key) = key {
            self.timer = Timer::Armed(key);
        }
        match registered {
            Ok(Registered::Armed { wake_driver }) => {
                if wake_driver {
                    driver.unpark();
                }
                Armed::Queued
            }
            Ok(Registered::AlreadyDue) => {
                self.timer = Timer::Fired;
                Armed::AlreadyDue
            }
            Err(_) => {
                panic!("a Sleep was polled after the asincrono runtime it belongs to shut down")
            }
        }
    }

    /// Whether the timer is armed and the driver has fired it: its entry is gone from the
    /// queue, which one atomic load tells (see `driver/timer_queue.rs`, `fired_through`).
    fn fired_by_the_driver(&self) -> bool {
        match (&self.timer, &self.driver) {
            (Timer::Armed(_), Some(driver)) => driver.timers.has_fired(self.deadline.into_std()),
            _ => false,
        }
    }
}

/// What [`Sleep::arm`] did.
#[derive(PartialEq, Eq)]
enum Armed {
    /// The timer is in the queue.
    Queued,
    /// The driver had already fired past the deadline: the sleep is over.
    AlreadyDue,
}

impl Sleep {
    /// Removes the timer from the queue, if armed; returns the waker it held.
    fn disarm(&mut self) -> Option<std::task::Waker> {
        let fired = self.fired_by_the_driver(); // then there is no entry to remove
        let Timer::Armed(key) = std::mem::replace(&mut self.timer, Timer::Unarmed) else {
            return None;
        };
        if fired {
            return None;
        }
        let deadline = self.deadline.into_std();
        self.driver.as_ref()?.timers.cancel(key, deadline)
    }
}

// ANCHOR: sleep_poll
impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        // Woken by the driver, the usual case: it has fired the timer, and one atomic load
        // says so, with no clock read and no entry to remove.
        if this.fired_by_the_driver() || Instant::now() >= this.deadline {
            this.disarm();
            this.timer = Timer::Fired;
            return Poll::Ready(());
        }
        // Waker contract: we return Pending, so the waker goes in the timer queue, which the
        // driver reads before it sleeps and expires after it wakes.
        match this.arm(cx.waker()) {
            Armed::Queued => Poll::Pending,
            Armed::AlreadyDue => Poll::Ready(()),
        }
    }
}
// ANCHOR_END: sleep_poll

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

// ANCHOR: sleep_drop
impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
// ANCHOR_END: sleep_drop

#[cfg(test)]
mod size_tests {
    /// Every task parked on a sleep carries one: the timer's key and the enum's tag must
    /// share one word (the benchmark's `memory_per_idle_task` row measures it).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_sleep_is_its_deadline_one_word_for_its_timer_and_one_pointer() {
        assert_eq!(
            std::mem::size_of::<super::Timer>(),
            std::mem::size_of::<u64>()
        );
        let parts = std::mem::size_of::<super::Instant>() + 2 * std::mem::size_of::<usize>();
        assert_eq!(std::mem::size_of::<super::Sleep>(), parts);
    }
}
