//! "Which runtime am I in?": the runtime's [`Handle`], and the thread-local that holds the
//! current one, so that `spawn`, `sleep` and `TcpStream::connect` find their runtime without
//! one being passed around.
//!
//! `Runtime::block_on` and `Runtime::enter` set it for the current thread, as do the threads
//! the runtime starts (workers, blocking-pool threads), and put back what was there before
//! when they end (guards, so a panic restores it too).
//!
//! This file sits at the top of the executor layer: it names both schedulers (a `Handle` is
//! one of them), and neither scheduler imports it. A scheduler that must enter the context
//! on a thread of its own is handed the `Handle` as a `RuntimeContext` (see
//! `blocking/pool.rs`), implemented at the bottom of this file. tokio's
//! `runtime::context` keeps more here (the coop budget, the current task id, the RNG).

use super::block_on::{enter_block_on, park_until_ready};
use super::spawn::spawn_on;
use super::{current_thread, multi_thread};
use crate::blocking::{BlockingPool, Mandatory, RuntimeContext};
use crate::driver::DriverHandle;
use crate::task::JoinHandle;
use crate::trace::{self, Recorder};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
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
    /// The name given with `Builder::name`, if any.
    name: Option<Arc<str>>,
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
        name: Option<Arc<str>>,
    ) -> Handle {
        Handle {
            scheduler,
            blocking,
            recorder,
            name,
        }
    }

    /// The runtime's name, if the `Builder` gave it one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Runs `future` to completion on this thread, inside this runtime's context, without
    /// running any task here (see `park_until_ready`).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _context = enter(self.clone());
        let _not_nested = enter_block_on();
        park_until_ready(future)
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

    /// `task::block_in_place(f)` inside this runtime (see `multi_thread.rs`).
    ///
    /// # Panics
    /// On a current-thread runtime, as tokio does: its one thread is the one that would block.
    #[track_caller]
    pub(crate) fn block_in_place<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.scheduler {
            SchedulerHandle::MultiThread(shared) => shared.block_in_place(self, f),
            SchedulerHandle::CurrentThread(_) => panic!(
                "asincrono::task::block_in_place needs a multi-thread runtime: on a \
                 current-thread runtime the thread it would block is the one that runs every \
                 task (use spawn_blocking instead)"
            ),
        }
    }

    /// Whether this is a current-thread runtime (the only kind whose clock can be paused).
    pub(crate) fn is_current_thread(&self) -> bool {
        matches!(self.scheduler, SchedulerHandle::CurrentThread(_))
    }
}

// ANCHOR: current_runtime
thread_local! {
    /// The runtime whose context this thread is in, if any. Set by [`enter`] and put back by
    /// the guard it returns; read by everything that needs "the current runtime".
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}
// ANCHOR_END: current_runtime

/// Why there is no current runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoRuntime {
    /// The thread is not inside any runtime's context.
    Outside,
    /// The thread is exiting and its thread-locals are already gone: this happens to code
    /// run by another thread-local's destructor.
    ThreadLocalDestroyed,
}

impl NoRuntime {
    /// What to tell someone who used `what` without a runtime.
    pub(crate) fn message(self, what: &str) -> String {
        match self {
            NoRuntime::Outside => format!(
                "{what} must be called from inside an asincrono runtime \
                 (inside Runtime::block_on, a spawned task, #[asincrono::main], or after \
                 Runtime::enter)"
            ),
            NoRuntime::ThreadLocalDestroyed => format!(
                "{what} was called while this thread was exiting (from a thread-local's \
                 destructor): the thread's runtime context is already destroyed"
            ),
        }
    }
}

/// Runs `f` on the current runtime's handle without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Result<R, NoRuntime> {
    CURRENT
        .try_with(|current| current.borrow().as_ref().map(f))
        .map_err(|_| NoRuntime::ThreadLocalDestroyed)?
        .ok_or(NoRuntime::Outside)
}

// ANCHOR: current_handle
/// The current runtime's handle.
///
/// # Panics
/// Without a current runtime, naming `what` was called and how to fix it.
#[track_caller]
pub(crate) fn current(what: &str) -> Handle {
    with_current(Handle::clone).unwrap_or_else(|why| panic!("{}", why.message(what)))
}
// ANCHOR_END: current_handle

/// The current runtime's handle, or an error saying that `what` needs one. I/O operations
/// use this and report the mistake as an `io::Error` (they already return `io::Result`),
/// where `spawn`, which has no error to return, panics.
pub(crate) fn current_or_error(what: &str) -> io::Result<Handle> {
    with_current(Handle::clone).map_err(|why| io::Error::other(why.message(what)))
}

/// Restores the previous context when dropped.
pub(crate) struct EnterGuard {
    previous: Option<Handle>,
    /// The trace recorder this thread used before (see `trace::enter`).
    trace: trace::Entered,
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let trace = trace::enter(handle.recorder.as_ref());
    // `try_with`: a runtime may be dropped by another thread-local's destructor, after
    // this one is gone. Then nothing is entered, and the code that runs finds no runtime
    // (`NoRuntime::ThreadLocalDestroyed`) instead of aborting the process.
    let previous = CURRENT
        .try_with(|current| current.replace(Some(handle)))
        .ok()
        .flatten();
    EnterGuard { previous, trace }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        trace::leave(&mut self.trace);
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// How the layers below reach the runtime (see `blocking/pool.rs`).
impl RuntimeContext for Handle {
    type Entered = EnterGuard;

    fn enter(&self) -> EnterGuard {
        enter(self.clone())
    }

    fn blocking_pool(&self) -> &Arc<BlockingPool> {
        &self.blocking
    }

    fn driver(&self) -> &Arc<DriverHandle> {
        Handle::driver(self)
    }
}
