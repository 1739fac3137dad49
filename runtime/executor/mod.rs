//! Executors: what runs the tasks.
//!
//! A scheduler owns run queues and a [`Driver`](crate::driver::Driver); it pops tasks and
//! polls them, and when none is ready it parks in the driver. Tasks reach it only through
//! the [`Schedule`](crate::task::Schedule) trait ("schedule me"), so a new scheduler plugs in
//! without touching the task code.
//!
//! Today there is one: [`current_thread`], which runs every task on the thread that calls
//! `block_on`. The multi-thread scheduler is planned work; until it lands,
//! `Builder::new_multi_thread()` builds a current-thread runtime (its doc says so).

pub(crate) mod current_thread;
mod owned;

pub(crate) use owned::OwnedTasks;

/// Holds a yielding task's waker until the scheduler running on this thread has visited the
/// driver; `false` if no asincrono scheduler runs on this thread (the caller then wakes at
/// once). See `current_thread::defer` for why.
pub(crate) fn defer(waker: &std::task::Waker) -> bool {
    current_thread::defer(waker)
}

use crate::driver::DriverHandle;
use crate::task::{JoinHandle, Schedule, TaskRef};
use std::future::Future;
use std::sync::Arc;

/// A cheap, clonable reference to a running runtime: what the thread-local context holds.
#[derive(Clone)]
pub(crate) enum Handle {
    /// A current-thread runtime.
    CurrentThread(Arc<current_thread::Shared>),
}

impl Handle {
    /// Spawns `future` on this runtime.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => spawn_on(shared, shared.owned(), future),
        }
    }

    /// The runtime's I/O and timer driver.
    pub(crate) fn driver(&self) -> &Arc<DriverHandle> {
        match self {
            Handle::CurrentThread(shared) => shared.driver(),
        }
    }
}

// ANCHOR: spawn_on
/// What every scheduler does to spawn: make the task, record it in the owner list (so that
/// shutdown can find it), and queue it — or, if the runtime is shutting down, cancel it.
fn spawn_on<S, F>(scheduler: &Arc<S>, owned: &OwnedTasks, future: F) -> JoinHandle<F::Output>
where
    S: Schedule,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, join): (TaskRef, _) = crate::task::new_task(future, scheduler.clone());
    if owned.bind(&task) {
        scheduler.schedule(task);
    } else {
        task.shutdown();
    }
    JoinHandle::new(join)
}
// ANCHOR_END: spawn_on
