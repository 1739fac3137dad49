//! `Runtime` and its `Builder`: the entry points that turn a thread into an executor.

use crate::context;
use crate::driver::Driver;
use crate::executor::{Handle, current_thread::CurrentThread};
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;

/// An asincrono runtime: a scheduler, an I/O reactor and a timer queue.
///
/// Dropping a `Runtime` drops every task still pending (their destructors run, their sockets
/// close), fails the I/O of anything that outlives it, and returns without waiting for tasks.
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
    scheduler: CurrentThread,
}

impl Runtime {
    /// Builds a runtime with the default settings: `Builder::new_multi_thread()` (which,
    /// until the multi-thread scheduler lands, runs on the current-thread one).
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion on the current thread, running the runtime's tasks while
    /// it waits, and returns its output.
    ///
    /// Only one thread at a time can drive a current-thread runtime: if another thread is
    /// inside `block_on` on the same runtime, this call waits for it to return first.
    ///
    /// # Panics
    /// If called from inside a runtime (a task, or another `block_on`): the thread it would
    /// block is the one that must run the tasks. If `future` panics, the panic propagates.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.scheduler.block_on(&self.handle, future)
    }

    /// Spawns a task on this runtime (it runs whenever a thread is inside `block_on`).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Makes this runtime the current one for the calling thread until the guard drops, so
    /// that `spawn`, `sleep` and the I/O constructors work outside `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _inner: context::enter(self.handle.clone()),
            _runtime: PhantomData,
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.scheduler.shutdown(&self.handle);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &"current_thread")
            .finish_non_exhaustive()
    }
}

/// Keeps a runtime current on this thread; see [`Runtime::enter`].
#[must_use = "the runtime stops being current when the guard drops"]
pub struct EnterGuard<'a> {
    _inner: context::EnterGuard,
    _runtime: PhantomData<&'a Runtime>,
}

/// Which scheduler a [`Builder`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

/// Configures and builds a [`Runtime`], with tokio's method names.
///
/// The reactor and the timers are always on in asincrono; [`Builder::enable_all`],
/// [`Builder::enable_io`] and [`Builder::enable_time`] exist so that tokio code compiles
/// unchanged, and do nothing.
#[derive(Debug, Clone)]
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    max_blocking_threads: usize,
}

impl Builder {
    /// A runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::with_flavor(Flavor::CurrentThread)
    }

    /// A runtime with a pool of worker threads.
    ///
    /// **Not built yet:** the multi-thread scheduler is planned work. Until it lands, this
    /// builds a current-thread runtime, so programs and tests written for it run unchanged —
    /// on one thread. `worker_threads` is checked and recorded, not yet used.
    pub fn new_multi_thread() -> Builder {
        Builder::with_flavor(Flavor::MultiThread)
    }

    fn with_flavor(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "asincrono-worker".into(),
            max_blocking_threads: 512,
        }
    }

    /// The number of worker threads (multi-thread flavour; default: one per core).
    /// `build` reports an error for zero.
    pub fn worker_threads(&mut self, count: usize) -> &mut Builder {
        self.worker_threads = Some(count);
        self
    }

    /// The name of the threads the runtime starts.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// The most threads the blocking pool may start (recorded for the blocking pool, which
    /// is planned work). `build` reports an error for zero.
    pub fn max_blocking_threads(&mut self, count: usize) -> &mut Builder {
        self.max_blocking_threads = count;
        self
    }

    /// Accepted for tokio compatibility; asincrono's I/O and timers are always enabled.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility; asincrono's I/O driver is always enabled.
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility; asincrono's timers are always enabled.
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// Builds the runtime. Fails with `InvalidInput` for a zero thread count, and with the
    /// OS error if the epoll instance or its eventfd cannot be created (say, no fds left).
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.worker_threads == Some(0) {
            return Err(invalid("worker_threads must be at least 1"));
        }
        if self.max_blocking_threads == 0 {
            return Err(invalid("max_blocking_threads must be at least 1"));
        }
        if self.flavor == Flavor::CurrentThread && self.worker_threads.is_some() {
            return Err(invalid(
                "worker_threads only applies to a multi-thread runtime",
            ));
        }
        let driver = Driver::new()?;
        let (scheduler, handle) = CurrentThread::new(driver);
        Ok(Runtime { handle, scheduler })
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("asincrono::runtime::Builder: {message}"),
    )
}

/// Builds a default runtime, runs `future` to completion on it, and drops the runtime.
///
/// ```
/// let sum = asincrono::block_on(async { 1 + 1 });
/// assert_eq!(sum, 2);
/// ```
///
/// # Panics
/// If the runtime cannot be built (the process is out of file descriptors), if called from
/// inside a runtime, or if `future` panics.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = Runtime::new()
        .unwrap_or_else(|err| panic!("asincrono::block_on could not build a runtime: {err}"));
    runtime.block_on(future)
}
