//! `MissedTickBehavior`: what an [`Interval`](super::Interval) does after it falls behind.
//!
//! An interval is late when the task that owns it was busy past one or more deadlines. This
//! enum is the rule for placing the next deadline then: keep the grid and catch up at once
//! (`Burst`), start a fresh grid from now (`Delay`), or keep the grid but drop the ticks
//! that were missed (`Skip`). The three rules, and the 5 ms of lateness below which a tick
//! is not counted as missed at all, are tokio's, so that code moved between the two runtimes
//! ticks at the same instants.
//!
//! The corner it cuts: none in behaviour. tokio computes the `Skip` remainder with a
//! checked conversion that can panic after 584 years of lateness; here the remainder is
//! rebuilt from its seconds and nanoseconds, so there is no panic path at all.

use super::Instant;
use std::time::Duration;

/// How late a tick may be observed and still count as on time.
///
/// Timers fire up to about a millisecond late (epoll counts in milliseconds, rounded up),
/// so a tick is almost never observed exactly at its deadline. Without this tolerance,
/// `Delay` and `Skip` would re-anchor the grid on nearly every tick. tokio uses the same
/// 5 ms.
pub(super) const LATE_TOLERANCE: Duration = Duration::from_millis(5);

/// What an [`Interval`](super::Interval) does when a tick was missed: when it is polled
/// more than a few milliseconds after a deadline, because the task was busy elsewhere.
///
/// Picture a 100 ms interval started at `0` whose task was stuck from 90 ms to 350 ms, so
/// that the tick due at 100 ms is seen at 350 ms. The ticks that follow complete at:
///
/// | behaviour | next ticks | the grid |
/// |---|---|---|
/// | `Burst` (default) | 350 (the 200 tick), 350 (300), 400, 500, … | kept; missed ticks all complete at once |
/// | `Delay` | 450, 550, 650, … | restarted one period after the late tick |
/// | `Skip` | 400, 500, 600, … | kept; missed ticks dropped |
///
/// The value a tick returns is always its *deadline*, not the time it was observed.
///
/// ```
/// use asincrono::time::{self, Duration, Instant, MissedTickBehavior};
///
/// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     let mut ticks = time::interval(Duration::from_millis(100));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     ticks.tick().await; // the first tick, at once
///
///     time::advance(Duration::from_millis(350)).await; // busy past three deadlines
///     assert_eq!(ticks.tick().await, start + Duration::from_millis(100)); // the late one
///     assert_eq!(ticks.tick().await, start + Duration::from_millis(400)); // 200, 300 skipped
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Keep the original grid: every missed tick completes at once, one per `tick()`, until
    /// the interval has caught up. Right when each tick stands for work that must be done
    /// as many times as the period says (a counter, a rate). tokio's default, and this one's.
    #[default]
    Burst,
    /// Start the grid over: the next tick is one period after the time the late tick was
    /// observed, so ticks are never closer together than `period`. Right when `period` is a
    /// minimum spacing (polling a server, retrying).
    Delay,
    /// Keep the original grid, but drop the ticks that were missed: the next tick is the
    /// next grid point after now. Right when the ticks must stay on a schedule but only the
    /// latest matters (redrawing, sampling).
    Skip,
}

// ANCHOR: next_deadline
impl MissedTickBehavior {
    /// The deadline after `missed`, a tick seen late at `now`.
    pub(super) fn next_deadline(self, missed: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => missed.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                // How far past the last grid point `now` lies; the next point is the rest
                // of the period away. `late % period` is below `period`, so it fits in a
                // `Duration` whatever the values.
                let late = (now - missed).as_nanos();
                let past_grid = late % period.as_nanos();
                let past_grid = Duration::new(
                    u64::try_from(past_grid / 1_000_000_000).unwrap_or(u64::MAX),
                    (past_grid % 1_000_000_000) as u32,
                );
                now.saturating_add(period - past_grid)
            }
        }
    }
}
// ANCHOR_END: next_deadline

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn each_behaviour_places_the_next_deadline_as_tokio_documents() {
        let start = Instant::from_std(std::time::Instant::now());
        let (missed, now, period) = (start + ms(100), start + ms(350), ms(100));
        let next = |behaviour: MissedTickBehavior| behaviour.next_deadline(missed, now, period);
        assert_eq!(next(MissedTickBehavior::Burst), start + ms(200));
        assert_eq!(next(MissedTickBehavior::Delay), start + ms(450));
        assert_eq!(next(MissedTickBehavior::Skip), start + ms(400));
    }

    #[test]
    fn skip_lands_one_period_on_when_now_is_exactly_on_the_grid() {
        let start = Instant::from_std(std::time::Instant::now());
        let next = MissedTickBehavior::Skip.next_deadline(start, start + ms(300), ms(100));
        assert_eq!(next, start + ms(400));
    }

    #[test]
    fn huge_periods_saturate_instead_of_panicking() {
        let start = Instant::from_std(std::time::Instant::now());
        for behaviour in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let next = behaviour.next_deadline(start, start + ms(10), Duration::MAX);
            assert!(next > start + ms(10));
        }
    }
}
