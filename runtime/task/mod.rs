//! Tasks: a spawned future, the handle to its result, and the interface to the scheduler.
//!
//! A *task* is a future the runtime owns and polls on your behalf. [`spawn`] wraps the future
//! in one heap allocation (`raw.rs`) together with an atomic state word (`state.rs`), a slot
//! for its output, and a pointer to its scheduler. That same allocation serves as the task's
//! [`Waker`](std::task::Waker): waking it means "put me back on a run queue", which the task
//! asks of its scheduler through the one-method `Schedule` trait. The scheduler decides
//! *where* (the local queue, a channel for other threads, …); the task code never knows which
//! scheduler it runs on.
//!
//! What a production runtime does instead: tokio hand-writes the waker's vtable. asincrono
//! builds its wakers with the safe `std::task::Wake`, and steps beyond the safe version only
//! where the benchmark showed it pays, each step checked by the loom models (chapter 13):
//! each poll borrows the task's waker instead of cloning it (`raw.rs`, `borrowed_waker`),
//! and the future sits in an `UnsafeCell` guarded by the state word alone, as in tokio,
//! instead of behind a mutex (`raw.rs`, `with_stage`).

// The task core (layer 1 of the runtime, see `lib.rs`): what a task is, knowing nothing of
// executors, the driver or the thread-local context.
mod block_in_place;
// The budget's machinery, and (`coop_api.rs`) the part of it users see, as `task::coop`.
#[path = "coop.rs"]
mod budget;
#[path = "coop_api.rs"]
pub mod coop;
pub(crate) mod defer;
mod id;
mod join;
mod join_set;
mod local_future;
mod local_set;
mod raw;
mod schedule;
mod state;
mod yield_now;

pub use block_in_place::block_in_place;
pub(crate) use budget::{has_budget_left, poll_proceed, with_budget, with_unlimited_budget};
pub use coop::{Unconstrained, consume_budget, unconstrained};
pub use id::Id;
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local_set::{LocalEnterGuard, LocalSet, spawn_local};
pub(crate) use raw::new_task;
pub(crate) use schedule::{Schedule, TaskRef};
pub use yield_now::yield_now;

use std::future::Future;

// What follows is public API (layer 5): it finds the current runtime through the context.

/// Spawns a future onto the current runtime and returns a handle to its output.
///
/// The task starts running at once, concurrently with the caller; it does not wait for the
/// handle to be awaited. Dropping the handle detaches the task.
///
/// # Panics
/// When called outside a runtime (not inside `block_on`, a task, `#[asincrono::main]` or
/// after `Runtime::enter`), with a message that says so.
///
/// ```
/// asincrono::block_on(async {
///     let a = asincrono::spawn(async { 1 });
///     let b = asincrono::spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
#[track_caller]
// ANCHOR: spawn_fn
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::executor::context::current("asincrono::spawn").spawn(future)
}
// ANCHOR_END: spawn_fn

// ANCHOR: spawn_blocking_fn
/// Runs the blocking closure `f` on the runtime's blocking pool and returns a handle to its
/// result.
///
/// Use it for work that would stop a scheduler thread: reading a regular file, a long
/// computation, a C library call that blocks. The closure runs on a pool thread, started on
/// demand up to `Builder::max_blocking_threads`; a panic in it becomes a `JoinError`.
/// `abort` only cancels a job that has not started yet: a running closure cannot be stopped.
///
/// # Panics
/// When called outside a runtime, with a message that says so.
///
/// ```
/// asincrono::block_on(async {
///     let sum = asincrono::task::spawn_blocking(|| (1..=100u32).sum::<u32>());
///     assert_eq!(sum.await.unwrap(), 5050);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    crate::executor::context::current("asincrono::task::spawn_blocking")
        .spawn_blocking(crate::blocking::Mandatory::No, f)
}
// ANCHOR_END: spawn_blocking_fn
