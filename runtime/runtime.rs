//! `Runtime` and its `Builder`: the entry points that turn a thread into an executor.

pub use crate::blocking::DEFAULT_SHUTDOWN_WAIT;
use crate::blocking::{BlockingPool, Mandatory};
use crate::driver::Driver;
use crate::executor::context;
use crate::executor::context::{Handle, SchedulerHandle};
use crate::executor::current_thread::CurrentThread;
use crate::executor::multi_thread::MultiThread;
use crate::task::JoinHandle;
use crate::trace::Recorder;
use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::path::PathBuf;
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
    /// Builds a runtime with the default settings: `Builder::new_multi_thread()`, one worker
    /// thread per core.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

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
            Scheduler::CurrentThread(scheduler) => scheduler.block_on(&self.handle, future),
            Scheduler::MultiThread(scheduler) => scheduler.block_on(&self.handle, future),
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
        self.handle.spawn_blocking(Mandatory::No, f)
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
        EnterGuard {
            _inner: context::enter(self.handle.clone()),
            _runtime: PhantomData,
        }
    }
}

// ANCHOR: runtime_drop
impl Drop for Runtime {
    fn drop(&mut self) {
        match &self.scheduler {
            Scheduler::CurrentThread(scheduler) => scheduler.shutdown(&self.handle),
            Scheduler::MultiThread(scheduler) => scheduler.shutdown(&self.handle),
        }
        self.handle
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

/// Keeps a runtime current on this thread; see [`Runtime::enter`].
#[must_use = "the runtime stops being current when the guard drops"]
#[derive(Debug)]
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
    start_paused: bool,
    trace_to: Option<PathBuf>,
}

impl Builder {
    /// A runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::with_flavor(Flavor::CurrentThread)
    }

    /// A runtime whose tasks run on a pool of worker threads (one per core unless
    /// [`Builder::worker_threads`] says otherwise).
    pub fn new_multi_thread() -> Builder {
        Builder::with_flavor(Flavor::MultiThread)
    }

    fn with_flavor(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "asincrono-worker".into(),
            max_blocking_threads: 512,
            start_paused: false,
            trace_to: None,
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

    /// The most threads the blocking pool may run at once (default 512); more jobs wait in
    /// its queue. `build` reports an error for zero.
    pub fn max_blocking_threads(&mut self, count: usize) -> &mut Builder {
        self.max_blocking_threads = count;
        self
    }

    /// Starts the runtime with its clock paused (see [`time::pause`](crate::time::pause));
    /// current-thread runtimes only: `build` reports an error otherwise.
    pub fn start_paused(&mut self, paused: bool) -> &mut Builder {
        self.start_paused = paused;
        self
    }

    /// Records what the runtime does (spawns, polls, wakes, parks, reactor events,
    /// blocking jobs) and writes it to `path` when the runtime is dropped, as a Chrome
    /// trace-event JSON file to open in <https://ui.perfetto.dev> or `chrome://tracing`.
    /// See [`trace`](crate::trace) for what is in it and what it costs.
    ///
    /// Without this option, a runtime is traced if the environment variable
    /// `ASINCRONO_TRACE` holds a path when it is built (every runtime built meanwhile writes
    /// to that path, the last one dropped wins).
    ///
    /// ```
    /// let path = std::env::temp_dir().join("asincrono-doc-trace.json");
    /// let runtime = asincrono::runtime::Builder::new_current_thread()
    ///     .trace_to(&path)
    ///     .build()
    ///     .unwrap();
    /// runtime.block_on(async { asincrono::spawn(async {}).await.unwrap() });
    /// drop(runtime); // writes the file
    /// assert!(std::fs::read_to_string(&path).unwrap().starts_with("{\"traceEvents\":["));
    /// # let _ = std::fs::remove_file(&path);
    /// ```
    pub fn trace_to(&mut self, path: impl Into<PathBuf>) -> &mut Builder {
        self.trace_to = Some(path.into());
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
        if self.start_paused && self.flavor == Flavor::MultiThread {
            return Err(invalid(
                "start_paused needs a current-thread runtime (a paused clock only \
                 auto-advances when the one scheduler thread has nothing to do)",
            ));
        }
        let driver = Driver::new()?;
        if self.start_paused {
            driver.handle().clock.pause();
        }
        let recorder = Recorder::for_new_runtime(self.trace_to.as_deref());
        let blocking = BlockingPool::new(
            self.max_blocking_threads,
            format!("{}-blocking", self.thread_name),
        );
        let (scheduler, handle) = match self.flavor {
            Flavor::CurrentThread => {
                let (scheduler, shared) = CurrentThread::new(driver);
                let handle = Handle::new(
                    SchedulerHandle::CurrentThread(shared),
                    blocking,
                    recorder.clone(),
                );
                (Scheduler::CurrentThread(scheduler), handle)
            }
            Flavor::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(default_worker_threads);
                let (scheduler, handle) =
                    MultiThread::new(driver, workers, &self.thread_name, |shared| {
                        Handle::new(
                            SchedulerHandle::MultiThread(shared),
                            blocking,
                            recorder.clone(),
                        )
                    })?;
                (Scheduler::MultiThread(scheduler), handle)
            }
        };
        Ok(Runtime {
            handle,
            scheduler,
            blocking_shutdown_wait: DEFAULT_SHUTDOWN_WAIT,
            recorder,
        })
    }
}

/// One worker per core the process may use.
fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get())
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
