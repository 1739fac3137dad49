//! What every scheduler does to spawn a task.
//!
//! Both schedulers spawn alike: make the task, record it in the owner list so that shutdown
//! can find it, and queue it. Written once here, generic over the scheduler, so that the
//! call to `schedule` is a direct one. tokio's `OwnedTasks::bind` plays the same part.

use super::owned::OwnedTasks;
use crate::task::{JoinHandle, Schedule, TaskRef, new_task};
use crate::trace;
use std::future::Future;
use std::sync::Arc;

// ANCHOR: spawn_on
/// What every scheduler does to spawn: make the task, record it in the owner list (so that
/// shutdown can find it), and queue it — or, if the runtime is shutting down, cancel it.
pub(crate) fn spawn_on<S, F>(
    scheduler: &Arc<S>,
    owned: &OwnedTasks,
    future: F,
) -> JoinHandle<F::Output>
where
    S: Schedule,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, join): (TaskRef, _) = new_task(future, scheduler.clone());
    trace::spawn(|| join.id(), false);
    if owned.bind(&task) {
        scheduler.schedule(task);
    } else {
        task.shutdown();
    }
    JoinHandle::new(join)
}
// ANCHOR_END: spawn_on
