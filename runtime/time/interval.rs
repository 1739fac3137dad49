//! `interval`: a tick every period, scheduled from the previous deadline.

use super::{Instant, Sleep, sleep_until};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// A stream of ticks `period` apart; the first tick completes at once.
///
/// Each deadline is the previous *deadline* plus `period`, not "now" plus `period`, so the
/// ticks do not drift however long the work between them takes. When the work takes longer
/// than a period, the missed ticks complete immediately one after another until the interval
/// has caught up (tokio's default, "burst").
///
/// ```
/// use std::time::Duration;
/// asincrono::block_on(async {
///     let mut every_10ms = asincrono::time::interval(Duration::from_millis(10));
///     let first = every_10ms.tick().await;
///     let second = every_10ms.tick().await;
///     assert_eq!(second - first, Duration::from_millis(10));
/// });
/// ```
///
/// # Panics
/// If `period` is zero (it would tick for ever without yielding). Ticking outside a runtime
/// panics too.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "interval period must be greater than zero"
    );
    Interval {
        timer: sleep_until(start),
        period,
    }
}

/// Ticks at a fixed period; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next tick's deadline.
    timer: Sleep,
    /// Time between two deadlines.
    period: Duration,
}

impl Interval {
    /// Waits for the next tick and returns its deadline.
    ///
    /// Cancel-safe: if the returned future is dropped before it completes, no tick is lost.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    // ANCHOR: poll_tick
    /// The poll behind [`Interval::tick`].
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.timer).poll(cx));
        let deadline = self.timer.deadline();
        Pin::new(&mut self.timer).reset(deadline + self.period);
        Poll::Ready(deadline)
    }
    // ANCHOR_END: poll_tick

    /// Starts over: the next tick is one period from now.
    pub fn reset(&mut self) {
        Pin::new(&mut self.timer).reset(Instant::now() + self.period);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
