//! `yield_now`: give the other tasks a turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives the other tasks, and the driver (I/O and timers), a turn before this task goes on.
///
/// It returns `Pending` once. The scheduler wakes the task again only after its next visit
/// to the driver, so a task that yields in a loop cannot hold back I/O and timers.
///
/// ```
/// asincrono::block_on(async {
///     asincrono::task::yield_now().await;
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

// ANCHOR: yield_now
impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Waker contract: returning Pending obliges someone to wake us. We are ready at once,
        // but we ask the scheduler to hold our waker until it has looked at I/O and timers,
        // so that yielding really lets everything else in first. Outside asincrono's
        // scheduler, we wake ourselves right away.
        super::defer::wake_after_driver(cx.waker());
        Poll::Pending
    }
}
// ANCHOR_END: yield_now
