//! `runtime::Handle`: a cheap, clonable reference to a running runtime, for code that has
//! no `&Runtime` at hand: `Handle::current()` inside a task, a handle passed to a plain
//! thread that spawns onto the runtime, `Handle::block_on` from such a thread.
//!
//! It wraps the executor's own `Handle` (`executor/context.rs`), the value the thread-local
//! context holds; this file only gives it tokio's public face. tokio's `Handle` is the same
//! idea, with more on it (metrics, the runtime id, task dumps).

use crate::blocking::Mandatory;
use crate::executor::context::{self, NoRuntime};
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

/// A handle to a runtime: spawn onto it, block on a future inside it, or make it current.
///
/// ```
/// let runtime = asincrono::runtime::Builder::new_multi_thread()
///     .worker_threads(1)
///     .build()
///     .unwrap();
/// let handle = runtime.handle().clone();
/// let answer = std::thread::spawn(move || {
///     // A thread outside the runtime spawns onto it and waits for the result.
///     handle.block_on(handle.spawn(async { 6 * 7 })).unwrap()
/// });
/// assert_eq!(answer.join().unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: context::Handle,
}

/// Which scheduler a runtime runs (see [`Handle::runtime_flavor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task on the thread inside `block_on`.
    CurrentThread,
    /// Tasks on a pool of worker threads.
    MultiThread,
}

/// Why [`Handle::try_current`] found no runtime.
#[derive(Debug)]
pub struct TryCurrentError(NoRuntime);

impl Handle {
    pub(crate) fn from_inner(inner: context::Handle) -> Handle {
        Handle { inner }
    }

    pub(crate) fn inner(&self) -> &context::Handle {
        &self.inner
    }

    /// The handle of the runtime this thread is in (inside `block_on`, a task, or after
    /// [`Handle::enter`]).
    ///
    /// # Panics
    /// Outside a runtime, with a message that says so. [`Handle::try_current`] does not panic.
    #[track_caller]
    pub fn current() -> Handle {
        Handle::from_inner(context::current("asincrono::runtime::Handle::current"))
    }

    /// The handle of the runtime this thread is in, or why there is none.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|inner| Handle::from_inner(inner.clone())).map_err(TryCurrentError)
    }

    /// Spawns `future` onto this runtime, from any thread; see [`crate::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool; see [`crate::task::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(Mandatory::No, f)
    }

    /// Runs `future` to completion on this thread, with this runtime current, and returns
    /// its output.
    ///
    /// The thread only polls `future`, when it is woken; it runs none of the runtime's tasks.
    /// On a multi-thread runtime the workers run those. On a current-thread runtime only the
    /// thread inside [`Runtime::block_on`](super::Runtime::block_on) runs tasks, timers and
    /// I/O: without one, a `future` that waits for them waits for ever (as in tokio).
    ///
    /// # Panics
    /// Inside a runtime's `block_on` or on one of its workers, as [`super::Runtime::block_on`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(future)
    }

    /// Makes this runtime the current one on this thread until the guard drops, so that
    /// [`crate::spawn`], timers and sockets find it.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _inner: context::enter(self.inner.clone()),
            _handle: PhantomData,
        }
    }

    /// Which scheduler the runtime runs.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        if self.inner.is_current_thread() {
            RuntimeFlavor::CurrentThread
        } else {
            RuntimeFlavor::MultiThread
        }
    }

    /// The name the runtime was given with [`Builder::name`](super::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.runtime_flavor())
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl TryCurrentError {
    /// The thread is in no runtime's context.
    pub fn is_missing_context(&self) -> bool {
        self.0 == NoRuntime::Outside
    }

    /// The thread is exiting and its thread-locals, the context among them, are gone.
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.0 == NoRuntime::ThreadLocalDestroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message("asincrono::runtime::Handle::try_current"))
    }
}

impl std::error::Error for TryCurrentError {}

/// Keeps a runtime current on this thread; see [`Runtime::enter`](super::Runtime::enter) and
/// [`Handle::enter`].
#[must_use = "the runtime stops being current when the guard drops"]
#[derive(Debug)]
pub struct EnterGuard<'a> {
    _inner: crate::executor::context::EnterGuard,
    _handle: PhantomData<&'a Handle>,
}
