//! `Runtime`, its `Builder` (`runtime/builder.rs`) and its `Handle` (`runtime/handle.rs`):
//! the entry points that turn a thread into an executor.

mod builder;
mod handle;

pub use crate::blocking::DEFAULT_SHUTDOWN_WAIT;
pub use builder::Builder;
pub use builder::block_on;
pub use handle::{EnterGuard, Handle, RuntimeFlavor, TryCurrentError};

use crate::blocking::Mandatory;
use crate::executor::current_thread::CurrentThread;
use crate::executor::multi_thread::MultiThread;
use crate::task::JoinHandle;
use crate::trace::Recorder;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// An asincrono runtime: a scheduler, an I/O reactor and a timer queue.
///
/// Dropping a `Runtime` drops every task still pending (their destructors run, their sockets
/// close) and fails the I/O of anything that outlives it. A task being polled on a worker
/// at that moment finishes its poll first; the workers are joined. Blocking jobs that have
/// not started are cancelled; running ones are waited for, up to [`DEFAULT_SHUTDOWN_WAIT`]
/// (see [`Runtime::shutdown_timeout`] to choose another limit).
///
/// ```
/// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
/// let task = runtime.spawn(async { "spawned" });
/// assert_eq!(runtime.block_on(task).unwrap(), "spawned");
/// ```
pub struct Runtime {
    /// What `spawn` and the context use.
    handle: Handle,
    /// What runs the tasks.
    scheduler: Scheduler,
    /// How long dropping waits for running blocking jobs.
    blocking_shutdown_wait: Duration,
    /// Writes the trace file once everything has stopped, if the runtime is traced.
    recorder: Option<Arc<Recorder>>,
}

/// The scheduler a runtime owns.
enum Scheduler {
    CurrentThread(CurrentThread),
    MultiThread(MultiThread),
}

impl Runtime {
    /// Runs `future` to completion on the current thread, running the runtime's tasks while
    /// it waits, and returns its output.
    ///
    /// On a multi-thread runtime the calling thread only polls `future`; the spawned tasks
    /// run on the workers. On a current-thread runtime the calling thread runs them too, and
    /// only one thread at a time can do so: if another thread is inside `block_on` on the
    /// same runtime, this call waits for it to return first.
    ///
    /// # Panics
    /// If called from inside a runtime (a task, or another `block_on`): the thread it would
    /// block is the one that must run the tasks. If `future` panics, the panic propagates.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.scheduler {
            Scheduler::CurrentThread(scheduler) => scheduler.block_on(self.handle.inner(), future),
            Scheduler::MultiThread(scheduler) => scheduler.block_on(self.handle.inner(), future),
        }
    }

    /// Spawns a task on this runtime (on a current-thread runtime it runs whenever a thread
    /// is inside `block_on`; on a multi-thread runtime at once, on a worker).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs the blocking closure `f` on this runtime's blocking pool; see
    /// [`task::spawn_blocking`](crate::task::spawn_blocking).
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.inner().spawn_blocking(Mandatory::No, f)
    }

    // ANCHOR: shutdown_timeout
    /// Drops the runtime like `drop` does, but waits at most `wait` for blocking jobs that
    /// are still running (they are left to finish on their own after that).
    pub fn shutdown_timeout(mut self, wait: Duration) {
        self.blocking_shutdown_wait = wait;
    }

    /// Drops the runtime without waiting for running blocking jobs at all.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
    // ANCHOR_END: shutdown_timeout

    /// Makes this runtime the current one for the calling thread until the guard drops, so
    /// that `spawn`, `sleep` and the I/O constructors work outside `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's [`Handle`]: clone it to spawn onto this runtime, or block on it, from
    /// threads that do not own the `Runtime`.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

// ANCHOR: runtime_drop
impl Drop for Runtime {
    fn drop(&mut self) {
        match &self.scheduler {
            Scheduler::CurrentThread(scheduler) => scheduler.shutdown(self.handle.inner()),
            Scheduler::MultiThread(scheduler) => scheduler.shutdown(self.handle.inner()),
        }
        self.handle
            .inner()
            .blocking_pool()
            .shutdown(self.blocking_shutdown_wait);
        if let Some(recorder) = &self.recorder {
            recorder.finish(); // every thread has stopped (or been given up on): write the file
        }
    }
}
// ANCHOR_END: runtime_drop

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field(
                "flavor",
                &match self.scheduler {
                    Scheduler::CurrentThread(_) => "current_thread",
                    Scheduler::MultiThread(_) => "multi_thread",
                },
            )
            .finish_non_exhaustive()
    }
}
