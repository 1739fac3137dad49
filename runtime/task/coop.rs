//! Cooperative budget: how a task that is always ready is made to step aside.
//!
//! A future that loops over a socket with data always available never returns `Pending`, so
//! the scheduler never gets its thread back: other tasks, timers and the reactor starve. Each
//! poll of a task therefore gets a budget of operations; every I/O or timer operation spends
//! one, and once the budget is gone the operation returns `Pending` (after waking its task, so
//! it runs again right after the others). Outside a task (no budget set) nothing is limited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete in one poll before it is asked to yield. Tokio uses 128
/// too: large enough that the check is rare, small enough that a busy task yields quickly.
const BUDGET_PER_POLL: u32 = 128;

thread_local! {
    /// The budget left for the task being polled on this thread; `None` outside a task poll.
    static BUDGET: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Runs `poll` (one poll of a task) with a fresh budget, restoring the outer one afterwards.
pub(crate) fn with_budget<R>(poll: impl FnOnce() -> R) -> R {
    with_budget_set_to(Some(BUDGET_PER_POLL), poll)
}

/// Runs `poll` with no budget limit, restoring the outer budget afterwards. For a deadline
/// check that must run even when the future beside it spent the whole budget (`timeout`).
pub(crate) fn with_unlimited_budget<R>(poll: impl FnOnce() -> R) -> R {
    with_budget_set_to(None, poll)
}

/// Whether the current task poll may still complete an operation.
pub(crate) fn has_budget_left() -> bool {
    BUDGET
        .try_with(|budget| budget.get() != Some(0))
        .unwrap_or(true)
}

fn with_budget_set_to<R>(budget: Option<u32>, poll: impl FnOnce() -> R) -> R {
    struct Restore(Option<u32>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|budget| budget.set(self.0));
        }
    }
    // `try_with` here and below: a task may be dropped (and its destructors poll) while
    // this thread's locals are being destroyed; there is then no budget to keep.
    let _restore = Restore(
        BUDGET
            .try_with(|current| current.replace(budget))
            .unwrap_or(None),
    );
    poll()
}

// ANCHOR: poll_proceed
/// Spends one unit of budget, or returns `Pending` (having woken the task) if none is left.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let exhausted = BUDGET
        .try_with(|budget| match budget.get() {
            Some(0) => true,
            Some(left) => {
                budget.set(Some(left - 1));
                false
            }
            None => false,
        })
        .unwrap_or(false);
    if exhausted {
        // Waker contract: we return Pending, so we must arrange a wake. We are ready now, but
        // like `yield_now` we let the driver run first (or wake at once outside a scheduler).
        super::defer::wake_after_driver(cx.waker());
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}
// ANCHOR_END: poll_proceed

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_task_poll_is_cut_off_after_its_budget_and_woken() {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let granted = with_budget(|| {
            (0..1000)
                .take_while(|_| poll_proceed(&mut cx).is_ready())
                .count()
        });
        assert_eq!(granted, BUDGET_PER_POLL as usize);
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "the cut-off must wake the task"
        );
        assert!(
            poll_proceed(&mut cx).is_ready(),
            "outside a task poll nothing is limited"
        );
    }
}
