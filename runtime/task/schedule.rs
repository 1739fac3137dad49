//! The one interface between a task and whatever runs it, both ways: [`Schedule`] is what
//! a task asks of its scheduler, [`Runnable`] what a scheduler can do with a task.
//!
//! A task knows nothing of executors: when it is woken it calls [`Schedule::schedule`] on
//! the value it was given at spawn, and that value (a scheduler's shared state, or a
//! blocking job's pool) decides which queue it goes on. This trait is what lets the task
//! core sit below the executors in the layers: only an `Arc<dyn Schedule>` travels up.
//! tokio's `runtime::task::Schedule` has the same shape, plus hooks asincrono does without.

use std::sync::Arc;

/// What a run queue holds: a task seen only as "something that can be run".
pub(crate) trait Runnable: Send + Sync {
    /// Poll the future once (or drop it, if the task was cancelled).
    fn run(self: Arc<Self>);
    /// Put the task back on its scheduler's run queue: it yielded, and its deferred turn
    /// has come (see `defer.rs`). Its state says scheduled already.
    fn queue_again(self: Arc<Self>);
    /// The runtime is shutting down: drop the future without polling it.
    fn shutdown(self: Arc<Self>);
    /// Remember where the owner list keeps this task, so completion can remove it.
    fn set_owner_key(&self, key: usize);
}

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
