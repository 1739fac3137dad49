//! Executors: what runs the tasks.
//!
//! A scheduler owns run queues and a [`Driver`](crate::driver::Driver); it pops tasks and
//! polls them, and when none is ready it parks in the driver. Tasks reach it only through
//! the [`Schedule`](crate::task::Schedule) trait ("schedule me"), so a new scheduler plugs in
//! without touching the task code.
//!
//! There are two:
//! - [`current_thread`] runs every task on the thread that calls `block_on`;
//! - [`multi_thread`] runs them on a pool of worker threads, one per core by default.
//!
//! Both share the owner list (`owned.rs`, how shutdown finds every task), the deferred-wake
//! list (`deferred.rs`, how `yield_now` lets the driver go first) and [`spawn_on`].

pub(crate) mod current_thread;
pub(crate) mod deferred;
pub(crate) mod multi_thread;
mod owned;

pub(crate) use deferred::defer;
pub(crate) use owned::OwnedTasks;

use crate::blocking::{BlockingPool, Mandatory};
use crate::driver::DriverHandle;
use crate::task::{JoinHandle, Schedule, TaskRef};
use crate::trace::Recorder;
use std::future::Future;
use std::sync::Arc;

/// A cheap, clonable reference to a running runtime: what the thread-local context holds,
/// and how `spawn`, `spawn_blocking`, timers and sockets find their runtime.
#[derive(Clone)]
pub(crate) struct Handle {
    /// Where spawned tasks go.
    scheduler: SchedulerHandle,
    /// Where blocking closures and file operations go.
    blocking: Arc<BlockingPool>,
    /// Where this runtime's trace events go, if it is traced (see `trace.rs`).
    recorder: Option<Arc<Recorder>>,
}

/// The shared half of one of the two schedulers.
#[derive(Clone)]
pub(crate) enum SchedulerHandle {
    /// A current-thread runtime.
    CurrentThread(Arc<current_thread::Shared>),
    /// A multi-thread runtime.
    MultiThread(Arc<multi_thread::Shared>),
}

impl Handle {
    pub(crate) fn new(
        scheduler: SchedulerHandle,
        blocking: Arc<BlockingPool>,
        recorder: Option<Arc<Recorder>>,
    ) -> Handle {
        Handle {
            scheduler,
            blocking,
            recorder,
        }
    }

    /// The runtime's trace recorder, if it is traced.
    pub(crate) fn recorder(&self) -> Option<&Arc<Recorder>> {
        self.recorder.as_ref()
    }

    /// Spawns `future` on this runtime.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.scheduler {
            SchedulerHandle::CurrentThread(shared) => spawn_on(shared, shared.owned(), future),
            SchedulerHandle::MultiThread(shared) => spawn_on(shared, shared.owned(), future),
        }
    }

    /// Runs `f` on the blocking pool.
    pub(crate) fn spawn_blocking<F, R>(&self, mandatory: Mandatory, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.blocking.spawn(self, mandatory, f)
    }

    /// The runtime's I/O and timer driver.
    pub(crate) fn driver(&self) -> &Arc<DriverHandle> {
        match &self.scheduler {
            SchedulerHandle::CurrentThread(shared) => shared.driver(),
            SchedulerHandle::MultiThread(shared) => shared.driver(),
        }
    }

    /// The blocking pool.
    pub(crate) fn blocking_pool(&self) -> &Arc<BlockingPool> {
        &self.blocking
    }

    /// Whether this is a current-thread runtime (the only kind whose clock can be paused).
    pub(crate) fn is_current_thread(&self) -> bool {
        matches!(self.scheduler, SchedulerHandle::CurrentThread(_))
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
    crate::trace::spawn(|| join.id(), false);
    if owned.bind(&task) {
        scheduler.schedule(task);
    } else {
        task.shutdown();
    }
    JoinHandle::new(join)
}
// ANCHOR_END: spawn_on
