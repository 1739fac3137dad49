//! `task::coop`: the cooperative budget (`coop.rs`, the machinery) as tokio shows it to users.
//!
//! Two tools, both in tokio's shape: [`consume_budget`] lets a loop that never waits on
//! anything the runtime knows (a computation, a walk over an in-memory structure) spend the
//! budget like an I/O operation would, so that it too steps aside when the budget is gone;
//! [`unconstrained`] runs a future with no budget at all, for the rare future that must not
//! be made to step aside. The corner cut: tokio also offers `has_budget_remaining` and a
//! `cooperative` wrapper; asincrono offers these two, which its tests need.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

// What the rest of the task core reaches through `coop::` (`raw.rs` sets a task's budget).
pub(crate) use super::budget::with_budget;

/// Spends one unit of the current task's cooperative budget, or, if none is left, yields
/// once (the task is woken again after the others, and the driver, have had their turn).
///
/// Outside a task (no budget set), it finishes at once.
///
/// # Examples
///
/// A long computation that still lets the other tasks on its thread run:
///
/// ```
/// asincrono::block_on(async {
///     let mut sum = 0u64;
///     for n in 0..10_000 {
///         sum += n;
///         asincrono::task::coop::consume_budget().await;
///     }
///     assert_eq!(sum, 49_995_000);
/// });
/// ```
///
/// # Cancel safety
///
/// Cancel-safe: a unit is spent only in the poll that finishes.
pub async fn consume_budget() {
    poll_fn(super::budget::poll_proceed).await
}

/// Runs `future` with no cooperative budget: the operations inside it never make it step
/// aside. Use it sparingly: a future that is always ready, run unconstrained, keeps its
/// thread from every other task.
///
/// # Examples
///
/// ```
/// use asincrono::task::coop::{consume_budget, unconstrained};
///
/// asincrono::block_on(async {
///     // Far more than one poll's budget, all in one poll: nothing asks it to step aside.
///     let spent = unconstrained(async {
///         for _ in 0..1_000 {
///             consume_budget().await;
///         }
///         1_000
///     });
///     assert_eq!(spent.await, 1_000);
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained {
        future: Box::pin(future),
    }
}

/// The future [`unconstrained`] returns: `future`, polled with no budget.
///
/// # Cancel safety
///
/// As the future inside: dropping it drops that future where it stands.
#[must_use = "futures do nothing unless polled"]
pub struct Unconstrained<F> {
    /// Boxed so that this wrapper can reach it through `Pin` without `unsafe` pin
    /// projection (tokio projects instead and saves the allocation).
    future: Pin<Box<F>>,
}

impl<F> std::fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Waker contract: the inner future's answer is passed on unchanged, so a `Pending`
        // from it has stored cx's waker.
        let future = self.future.as_mut();
        super::budget::with_unlimited_budget(|| future.poll(cx))
    }
}
