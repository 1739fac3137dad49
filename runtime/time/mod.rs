//! Time: `sleep`, `timeout`, `interval`, over the timer queue of the driver
//! (`driver/timer_queue.rs`).
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
mod missed_tick;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{Interval, interval, interval_at};
pub use missed_tick::MissedTickBehavior;
pub use sleep::{Sleep, sleep, sleep_until};
/// A span of time: `std::time::Duration`, re-exported where tokio has it, so that
/// `use asincrono::time::{Duration, Instant}` works as with tokio.
pub use std::time::Duration;
pub use timeout::{Elapsed, timeout, timeout_at};

// ANCHOR: pause
/// Stops the current runtime's clock (for tests).
///
/// From now on time moves only when [`advance`] is called, or when the runtime has nothing
/// to do but wait for a timer: it then jumps straight to that timer's deadline instead of
/// sleeping. `#[asincrono::test(start_paused = true)]` starts a test this way.
///
/// ```
/// use std::time::Duration;
/// use asincrono::time::{self, Instant};
///
/// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     time::pause();
///     let real = std::time::Instant::now();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(600)).await; // ten minutes, on the paused clock
///     assert!(start.elapsed() >= Duration::from_secs(600));
///     assert!(real.elapsed() < Duration::from_secs(60)); // but not in real time
/// });
/// ```
///
/// # Panics
/// Outside a runtime, on a multi-thread runtime (as in tokio: with several workers,
/// "nothing to do" would need them all to agree), or if the clock is already paused.
#[track_caller]
pub fn pause() {
    let handle = crate::executor::context::current("asincrono::time::pause");
    assert!(
        handle.is_current_thread(),
        "asincrono::time::pause needs a current-thread runtime \
         (Builder::new_current_thread, or #[asincrono::test], whose default it is)"
    );
    handle.driver().clock.pause();
}

/// Lets the current runtime's clock run again (see [`pause`]).
///
/// # Panics
/// Outside a runtime, or if the clock is not paused.
#[track_caller]
pub fn resume() {
    crate::executor::context::current("asincrono::time::resume")
        .driver()
        .clock
        .resume();
}

/// Moves the paused clock forward by `duration`, then yields, so that the timers now due
/// fire before this returns.
///
/// # Panics
/// Outside a runtime, or if the clock is not paused.
pub async fn advance(duration: std::time::Duration) {
    crate::executor::context::current("asincrono::time::advance")
        .driver()
        .clock
        .advance(duration);
    // The yield's wake-up is deferred until after the driver's next visit, which expires
    // the timers that the jump made due: their tasks are queued before we run again.
    crate::task::yield_now().await;
}
// ANCHOR_END: pause

/// Errors of this module (tokio's path for [`Elapsed`]).
pub mod error {
    pub use super::timeout::Elapsed;
}
