//! `Builder`: how a [`Runtime`] is configured and built, with tokio's method names; and the
//! two shortcuts that build a default one, `Runtime::new` and `asincrono::block_on`.
//!
//! `Runtime::new` is written here, beside the `Builder` it calls, rather than in
//! `runtime.rs`: this file names the `Runtime` it builds, so `runtime.rs` naming the
//! `Builder` back would make the two files import each other.

use super::{Runtime, Scheduler};
use crate::blocking::{BlockingPool, DEFAULT_SHUTDOWN_WAIT, Hook, KEEP_ALIVE, ThreadHooks};
use crate::driver::Driver;
use crate::executor::context::{Handle, SchedulerHandle};
use crate::executor::current_thread::CurrentThread;
use crate::executor::multi_thread::MultiThread;
use crate::executor::{EVENT_INTERVAL, SchedulerConfig};
use crate::trace::Recorder;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
#[derive(Clone)]
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    max_blocking_threads: usize,
    start_paused: bool,
    trace_to: Option<PathBuf>,
    /// `Builder::name`: what `Handle::name` returns.
    name: Option<Arc<str>>,
    /// How long an idle blocking-pool thread waits before it exits.
    thread_keep_alive: Duration,
    event_interval: u32,
    /// `None`: the workers tune it (see `executor/tuning.rs`).
    global_queue_interval: Option<u32>,
    /// The `on_thread_*` callbacks.
    hooks: ThreadHooks,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("name", &self.name)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
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
            name: None,
            thread_keep_alive: KEEP_ALIVE,
            event_interval: EVENT_INTERVAL,
            global_queue_interval: None,
            hooks: ThreadHooks::default(),
        }
    }

    /// Names the runtime; [`Handle::name`](super::Handle::name) returns it. (Thread names are
    /// [`Builder::thread_name`].)
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.name = Some(name.into().into());
        self
    }

    /// Calls `f` first thing on every thread the runtime starts: each worker and each
    /// blocking-pool thread.
    pub fn on_thread_start<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Builder {
        self.hooks.on_start = Some(hook(f));
        self
    }

    /// Calls `f` last on every thread the runtime starts, also when the runtime is dropped:
    /// `drop` returns after every thread it waited for has run it.
    pub fn on_thread_stop<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Builder {
        self.hooks.on_stop = Some(hook(f));
        self
    }

    /// Calls `f` each time a scheduler thread (a worker, or the thread inside a
    /// current-thread `block_on`) is about to sleep for want of work. What it wakes or
    /// defers is seen before the thread sleeps.
    pub fn on_thread_park<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Builder {
        self.hooks.before_park = Some(hook(f));
        self
    }

    /// Calls `f` each time a scheduler thread that slept for want of work wakes up.
    pub fn on_thread_unpark<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Builder {
        self.hooks.after_unpark = Some(hook(f));
        self
    }

    /// How long an idle blocking-pool thread waits for a job before it exits (default 10 s).
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Builder {
        self.thread_keep_alive = duration;
        self
    }

    /// How many tasks a scheduler thread polls between two visits to the driver, where I/O
    /// and timers are served (default 61). `build` reports an error for zero.
    pub fn event_interval(&mut self, tasks: u32) -> &mut Builder {
        self.event_interval = tasks;
        self
    }

    /// How many tasks a multi-thread worker polls between two looks at the queue of tasks
    /// woken from outside the workers. Without this option, each worker tunes the count to
    /// how long its tasks take (aiming at a look every 200 µs, as tokio does); with it, the
    /// count is fixed. A current-thread runtime takes those tasks at each driver visit, so
    /// there it has no effect. `build` reports an error for zero.
    pub fn global_queue_interval(&mut self, tasks: u32) -> &mut Builder {
        self.global_queue_interval = Some(tasks);
        self
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
        if self.event_interval == 0 || self.global_queue_interval == Some(0) {
            return Err(invalid(
                "event_interval and global_queue_interval must be at least 1",
            ));
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
        let hooks = Arc::new(self.hooks.clone());
        let blocking = BlockingPool::new(
            self.max_blocking_threads,
            format!("{}-blocking", self.thread_name),
            self.thread_keep_alive,
            hooks.clone(),
        );
        let config = SchedulerConfig {
            event_interval: self.event_interval,
            global_queue_interval: self.global_queue_interval,
            hooks,
        };
        let name = self.name.clone();
        let (scheduler, handle) = match self.flavor {
            Flavor::CurrentThread => {
                let (scheduler, shared) = CurrentThread::new(driver, config);
                let handle = Handle::new(
                    SchedulerHandle::CurrentThread(shared),
                    blocking,
                    recorder.clone(),
                    name,
                );
                (Scheduler::CurrentThread(scheduler), handle)
            }
            Flavor::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(default_worker_threads);
                let (scheduler, handle) =
                    MultiThread::new(driver, workers, &self.thread_name, config, |shared| {
                        Handle::new(
                            SchedulerHandle::MultiThread(shared),
                            blocking,
                            recorder.clone(),
                            name,
                        )
                    })?;
                (Scheduler::MultiThread(scheduler), handle)
            }
        };
        Ok(Runtime {
            handle: super::Handle::from_inner(handle),
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

/// A user callback, shared by every thread that calls it.
fn hook<F: Fn() + Send + Sync + 'static>(f: F) -> Hook {
    Arc::new(f)
}

impl Runtime {
    /// Builds a runtime with the default settings: `Builder::new_multi_thread()`, one worker
    /// thread per core.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }
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
