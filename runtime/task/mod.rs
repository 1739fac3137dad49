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

mod coop;
mod join;
mod raw;
mod state;
mod yield_now;

pub(crate) use coop::{has_budget_left, poll_proceed, unconstrained, with_budget};
pub use join::{JoinError, JoinHandle};
pub(crate) use raw::{Runnable, new_task};
pub use yield_now::yield_now;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task as a run queue sees it.
pub(crate) type TaskRef = Arc<dyn Runnable>;

// ANCHOR: schedule
/// The whole interface between a task and a scheduler.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// A task was woken (or spawned): put it on a run queue. Called from any thread.
    fn schedule(&self, task: TaskRef);
    /// A task completed: forget it (it was kept so that shutdown could drop it).
    fn release(&self, owner_key: usize);
}
// ANCHOR_END: schedule

/// A task's identity, unique for the life of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl Id {
    fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Id(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number inside, for trace files.
    pub(crate) fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

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
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::context::current("asincrono::spawn").spawn(future)
}

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
    crate::context::current("asincrono::task::spawn_blocking")
        .spawn_blocking(crate::blocking::Mandatory::No, f)
}
// ANCHOR_END: spawn_blocking_fn
