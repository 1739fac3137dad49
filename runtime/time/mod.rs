//! Time: `sleep`, `timeout`, `interval`, and the timer queue behind them.
//!
//! A `Sleep` is a deadline plus, once polled, an entry in its runtime's timer queue holding
//! the waker of the task that awaits it. Before the driver blocks in `epoll_wait`, it asks
//! the queue for the earliest deadline and uses it as the timeout; when it wakes, it pops
//! every due entry and wakes those tasks, which poll their `Sleep` again and find the
//! deadline passed. So an idle runtime with one timer sleeps in the kernel until that timer.
//!
//! Timers fire at millisecond resolution (epoll's timeout unit, rounded up): never early,
//! up to about a millisecond late.

mod instant;
mod interval;
mod sleep;
mod timeout;
mod timer_queue;

pub use instant::Instant;
pub use interval::{Interval, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, timeout, timeout_at};
pub(crate) use timer_queue::{TimerKey, TimerQueue};

/// Errors of this module (tokio's path for [`Elapsed`]).
pub mod error {
    pub use super::timeout::Elapsed;
}
