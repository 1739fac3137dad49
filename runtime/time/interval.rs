//! `interval`: a tick every period, scheduled from the previous deadline.
//!
//! An `Interval` is a [`Sleep`] that is moved on by one period each time it completes, plus
//! the rule for a tick seen late ([`MissedTickBehavior`]). The deadlines, the resets and the
//! 5 ms tolerance behave as tokio's do, so the same program ticks at the same instants on
//! either runtime.
//!
//! The corner it cuts: tokio boxes its `Sleep` (which is `!Unpin`, its timer entry lives
//! inside it); asincrono's `Sleep` is `Unpin` and is held inline, so an `Interval` costs no
//! allocation of its own. A period too long to add to an instant (`Duration::MAX`) saturates
//! at about thirty years from the deadline, like `sleep`, instead of panicking; tokio caps
//! the period at thirty years when the interval is made, to the same effect.

use super::missed_tick::LATE_TOLERANCE;
use super::{Instant, MissedTickBehavior, Sleep, sleep_until};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// A stream of ticks `period` apart; the first tick completes at once.
///
/// Each deadline is the previous *deadline* plus `period`, not "now" plus `period`, so the
/// ticks do not drift however long the work between them takes. When the work takes longer
/// than a period, what happens is the interval's [`MissedTickBehavior`]; by default
/// (`Burst`) the missed ticks complete immediately one after another until the interval has
/// caught up.
///
/// ```
/// use asincrono::time::Duration;
/// asincrono::block_on(async {
///     let mut every_10ms = asincrono::time::interval(Duration::from_millis(10));
///     let first = every_10ms.tick().await;
///     let second = every_10ms.tick().await;
///     assert_eq!(second - first, Duration::from_millis(10));
/// });
/// ```
///
/// # Panics
/// If `period` is zero (it would tick for ever without yielding), as tokio does. Ticking
/// outside a runtime panics too.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// ```
/// use asincrono::time::{self, Duration, Instant};
///
/// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     time::pause();
///     let start = Instant::now() + Duration::from_millis(50);
///     let mut ticks = time::interval_at(start, Duration::from_millis(10));
///     assert_eq!(ticks.tick().await, start); // 50 ms from now, not at once
///     assert_eq!(ticks.tick().await, start + Duration::from_millis(10));
/// });
/// ```
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval {
        timer: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// Ticks at a fixed period; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next tick's deadline. Armed only while a poll is waiting on it: a
    /// tick that completes leaves it disarmed, so an `Interval` wakes nobody unless asked.
    timer: Sleep,
    /// Time between two deadlines.
    period: Duration,
    /// Where the next deadline goes when a tick is seen late.
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its deadline (not the time it was observed).
    ///
    /// Cancel-safe: the next deadline lives in the `Interval`, not in the returned future,
    /// so dropping that future before it completes (in a `select!`, say) loses no tick; the
    /// next `tick()` completes at the same deadline.
    ///
    /// ```
    /// use asincrono::time::{self, Duration};
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let mut ticks = time::interval(Duration::from_millis(100));
    ///     let first = ticks.tick().await;
    ///     asincrono::select! {
    ///         _ = ticks.tick() => unreachable!("the sleep is shorter"),
    ///         _ = time::sleep(Duration::from_millis(30)) => {} // the tick is dropped here
    ///     }
    ///     assert_eq!(ticks.tick().await, first + Duration::from_millis(100)); // not lost
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    // ANCHOR: poll_tick
    /// The poll behind [`Interval::tick`]: `Ready(deadline)` once the next tick is due.
    ///
    /// On `Pending`, the waker of `cx` (the latest one passed, if polled from several
    /// places) is woken when the tick is due. On `Ready`, no wake is arranged for the tick
    /// after it: poll again to wait for that one.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.timer).poll(cx));
        let deadline = self.timer.deadline();
        let now = Instant::now();
        let next = if now > deadline.saturating_add(LATE_TOLERANCE) {
            // Seen late: the task was busy past the deadline. Its behaviour decides.
            self.missed_tick_behavior
                .next_deadline(deadline, now, self.period)
        } else {
            // On time: the next tick is one period after this one's deadline, not after
            // now, so the small lateness of each tick does not add up into drift.
            deadline.saturating_add(self.period)
        };
        // The timer just completed and is disarmed; moving it leaves it so. Waker contract:
        // we return `Ready`, so we owe no wake; the next poll arms the timer again.
        Pin::new(&mut self.timer).reset(next);
        Poll::Ready(deadline)
    }
    // ANCHOR_END: poll_tick

    /// Starts over: the next tick is one period from now.
    ///
    /// ```
    /// use asincrono::time::{self, Duration, Instant};
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let mut ticks = time::interval(Duration::from_millis(100));
    ///     ticks.tick().await;
    ///     time::advance(Duration::from_millis(60)).await;
    ///     ticks.reset();
    ///     let reset_at = Instant::now();
    ///     assert_eq!(ticks.tick().await, reset_at + Duration::from_millis(100));
    /// });
    /// ```
    pub fn reset(&mut self) {
        self.reset_at(Instant::now().saturating_add(self.period));
    }

    /// Makes the next tick due now, whatever the [`MissedTickBehavior`]; the ticks after it
    /// follow one period apart from now.
    ///
    /// ```
    /// use asincrono::time::{self, Duration, Instant};
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let mut ticks = time::interval(Duration::from_secs(3600));
    ///     ticks.tick().await;
    ///     ticks.reset_immediately();
    ///     let now = Instant::now();
    ///     assert_eq!(ticks.tick().await, now); // no hour to wait
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Makes the next tick due `after` from now; the ticks after it follow one period apart.
    ///
    /// ```
    /// use asincrono::time::{self, Duration, Instant};
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let mut ticks = time::interval(Duration::from_millis(100));
    ///     ticks.tick().await;
    ///     ticks.reset_after(Duration::from_millis(20));
    ///     let now = Instant::now();
    ///     assert_eq!(ticks.tick().await, now + Duration::from_millis(20));
    ///     assert_eq!(ticks.tick().await, now + Duration::from_millis(120));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().saturating_add(after));
    }

    /// Makes the next tick due at `deadline`, even if that is more than a period away; the
    /// ticks after it follow one period apart. A `deadline` in the past is a tick seen late,
    /// handled by the [`MissedTickBehavior`]. Ticks missed before the call are forgotten.
    ///
    /// ```
    /// use asincrono::time::{self, Duration, Instant};
    ///
    /// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     time::pause();
    ///     let mut ticks = time::interval(Duration::from_millis(100));
    ///     ticks.tick().await;
    ///     let later = Instant::now() + Duration::from_secs(1);
    ///     ticks.reset_at(later);
    ///     assert_eq!(ticks.tick().await, later);
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        // If a poll is waiting, `Sleep::reset` keeps its waker armed for the new deadline.
        Pin::new(&mut self.timer).reset(deadline);
    }

    /// What the interval does when a tick is seen late; `Burst` unless changed.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Changes what the interval does when a tick is seen late, from the next tick on.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
