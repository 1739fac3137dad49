//! `timeout`: give up on a future after a while.

use super::{Instant, Sleep, sleep_until};
use crate::task;
use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(elapsed: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed)
    }
}

/// Runs `future`, but for at most `duration` (counted from this call, not from the first
/// poll). `Err(Elapsed)` means the future was dropped unfinished.
///
/// Cancel-safety: that of `future`, which is dropped where it stands when time runs out.
///
/// ```
/// use std::time::Duration;
/// use asincrono::time::{sleep, timeout};
/// asincrono::block_on(async {
///     assert!(timeout(Duration::from_millis(10), sleep(Duration::from_secs(60))).await.is_err());
///     assert_eq!(timeout(Duration::from_secs(60), async { 7 }).await, Ok(7));
/// });
/// ```
///
/// # Panics
/// When polled outside a runtime.
pub fn timeout<F: IntoFuture>(
    duration: Duration,
    future: F,
) -> impl Future<Output = Result<F::Output, Elapsed>> {
    race_deadline(super::sleep(duration), future.into_future())
}

/// Like [`timeout`], with a deadline instead of a duration.
///
/// # Panics
/// When polled outside a runtime.
pub fn timeout_at<F: IntoFuture>(
    deadline: Instant,
    future: F,
) -> impl Future<Output = Result<F::Output, Elapsed>> {
    race_deadline(sleep_until(deadline), future.into_future())
}

// ANCHOR: race_deadline
/// Polls `future` first (so a result that is ready at the deadline still counts), then the
/// timer. Written as an `async` block with `pin!`, so no unsafe pin projection is needed.
///
/// The timer is a timer operation like any other and spends cooperative budget. If the
/// future spent the last of it, the deadline check runs unconstrained: otherwise a future
/// that is busy on every poll would stop its own timeout from ever firing.
async fn race_deadline<F: Future>(mut timer: Sleep, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    poll_fn(|cx| {
        let had_budget = task::has_budget_left();
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let mut poll_timer = || Pin::new(&mut timer).poll(cx).map(|()| Err(Elapsed(())));
        if had_budget && !task::has_budget_left() {
            task::with_unlimited_budget(poll_timer)
        } else {
            poll_timer()
        }
    })
    .await
}
// ANCHOR_END: race_deadline
