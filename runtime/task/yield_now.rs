//! `yield_now`: give the other tasks a turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns `Pending` once, after waking its own task, so the scheduler puts the task at the
/// back of the run queue and runs the others first.
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

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Waker contract: returning Pending obliges someone to wake us; we do it ourselves.
        // The task is RUNNING, so this wake only marks it SCHEDULED and the runner requeues it.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
