//! The blocking pool: threads for work that would stop a scheduler thread.
//!
//! A scheduler thread must never block: while it sits in a `read(2)` of a regular file or in a
//! long computation, none of its other tasks run and no one looks at the reactor. Regular
//! files cannot even be watched by epoll (`epoll_ctl` refuses them with `EPERM`: a file is
//! always "ready", a read may still wait for the disk). So such work goes to this pool, a set
//! of ordinary threads that run closures one at a time and then wake the task waiting for the
//! result.
//!
//! ```text
//!  task ──spawn_blocking(f)──▶ queue ──▶ idle pool thread (or a new one, up to the cap)
//!    ▲                                        │ runs f()
//!    └──────── JoinHandle wakes ◀─────────────┘ stores the output like any task
//! ```
//!
//! A job is an ordinary task whose future runs the closure in its one and only poll, so
//! `JoinHandle`, `abort` (before it starts), panics turned into `JoinError` and output
//! delivery are the task code's, not a second copy here. This pool is that task's scheduler:
//! "schedule me" means "put me on the pool's queue".
//!
//! - **Threads on demand, one at a time.** A job goes to an idle thread if there is one;
//!   otherwise a new thread starts, up to `Builder::max_blocking_threads` (default 512, as
//!   tokio), unless one is already on its way: that one, when it arrives, starts the next if
//!   jobs are still waiting. Past the cap, jobs wait in the queue for a thread to free up.
//!   tokio starts a thread for every job that finds no idle one, which in a burst of tiny
//!   jobs means hundreds of threads fighting over the queue's lock (chapter 7 measures it).
//! - **Retirement.** A thread idle for [`KEEP_ALIVE`] exits, so a burst leaves nothing behind.
//! - **Shutdown.** Jobs not yet started are cancelled (their `JoinHandle` reports
//!   `is_cancelled`), except *mandatory* ones, file writes among them, which run so that no
//!   data is lost (they run on the thread that drops the runtime, however long they take:
//!   the wait limit below does not cut them short). Jobs already running cannot be
//!   interrupted (a thread cannot be stopped safely): shutdown waits for them, for at most
//!   the timeout it is given ([`DEFAULT_SHUTDOWN_WAIT`] when a `Runtime` simply drops), then
//!   leaves them to finish on their own.
//! - **No thread at all.** If the OS refuses to start a thread and the pool has none, the
//!   queued jobs get the shutdown treatment at once: mandatory ones run on the caller's
//!   thread (blocking it, a last resort that loses nothing), the others are cancelled.
//!
//! What io_uring would change: the kernel would do the file work itself and post a
//! completion, which the reactor could wait for next to socket readiness, with no thread
//! per job. Tokio, like asincrono, still uses a blocking pool for files.

use super::ThreadHooks;
use crate::driver::DriverHandle;
use crate::primitives::{Condvar, Mutex, thread};
use crate::task::{JoinHandle, Schedule, TaskRef, new_task};
use crate::trace;
use crate::util::lock;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

// ANCHOR: runtime_context
/// A runtime, as the layers below the executor see it: what a blocking-pool thread (and a
/// multi-thread worker) needs of the runtime it works for.
///
/// Such a thread must *enter* its runtime's context, so that `spawn`, `sleep` and the socket
/// constructors called from it find their runtime. The context lives in the executor layer,
/// above this one. Rather than import it, the pool takes this trait, and the executor's
/// `Handle` implements it (`executor/context.rs`): only that value travels up. tokio does not
/// make this split: its blocking pool holds the runtime's handle directly.
pub(crate) trait RuntimeContext: Clone + Send + Sync + 'static {
    /// What `enter` returns: while it lives, this runtime is the thread's current one.
    type Entered;

    /// Makes this runtime the calling thread's current one until the result drops.
    fn enter(&self) -> Self::Entered;

    /// The runtime's blocking pool.
    fn blocking_pool(&self) -> &Arc<BlockingPool>;

    /// The runtime's I/O and timer driver (a blocking job holds its clock: see `ClockHold`).
    fn driver(&self) -> &Arc<DriverHandle>;
}
// ANCHOR_END: runtime_context

/// How long a pool thread waits for a job before it exits, unless `Builder::thread_keep_alive`
/// says otherwise (tokio's default is 10 s too).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How long dropping a `Runtime` waits for blocking jobs that are still running.
pub const DEFAULT_SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// The pool. The runtime holds one; every `Handle` reaches it.
pub(crate) struct BlockingPool {
    /// Jobs, thread counts and the shutdown flag, under one lock.
    state: Mutex<PoolState>,
    /// Idle threads wait here for a job.
    job_ready: Condvar,
    /// Shutdown waits here for the last thread to exit.
    all_exited: Condvar,
    /// The most threads that may run at once.
    max_threads: usize,
    /// The name each pool thread gets.
    thread_name: String,
    /// How long an idle thread waits for a job before it exits.
    keep_alive: Duration,
    /// The user's thread callbacks (`on_thread_start`, `on_thread_stop`).
    hooks: Arc<ThreadHooks>,
}

// ANCHOR: pool_state
/// The part of the pool behind its lock.
struct PoolState {
    /// Jobs waiting for a thread, oldest first.
    queue: VecDeque<Job>,
    /// Threads alive (running a job or idle).
    threads: usize,
    /// Threads that have left the pool and are running the user's `on_thread_stop`.
    stopping: usize,
    /// Threads that are not the pool's but that shutdown waits for as if they were: workers
    /// that handed their place over in `block_in_place` (see [`BlockingPool::adopt`]).
    adopted: usize,
    /// Threads waiting on `job_ready`.
    idle: usize,
    /// Wake-ups sent to idle threads and not yet taken, so two jobs do not both count on
    /// the same idle thread.
    wakeups_owed: usize,
    /// A thread has been started (and counted in `threads`) but has not yet looked at the
    /// queue. While one is on its way no other starts: when it arrives, it starts the next
    /// one itself if jobs are still waiting (see [`BlockingPool::claim_thread_start`]).
    thread_on_its_way: bool,
    /// Set once: no new thread starts, queued jobs are cancelled (or run if mandatory).
    shutting_down: bool,
}
// ANCHOR_END: pool_state

impl PoolState {
    /// No thread left that shutdown must wait for.
    fn all_exited(&self) -> bool {
        self.threads == 0 && self.stopping == 0 && self.adopted == 0
    }
}

/// A thread [`BlockingPool::adopt`] counts; the count goes down when it drops.
pub(crate) struct Adopted(Arc<BlockingPool>);

impl Drop for Adopted {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        state.adopted -= 1;
        self.0.notify_if_all_exited(&state);
    }
}

/// A queued job: the task that runs it, and whether shutdown must still run it.
struct Job {
    task: TaskRef,
    mandatory: Mandatory,
}

/// Whether a queued job still runs when the runtime shuts down before it starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mandatory {
    /// Cancel it: no one needs it any more (`spawn_blocking`).
    No,
    /// Run it anyway: skipping it would lose data (a file write).
    Yes,
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        thread_name: String,
        keep_alive: Duration,
        hooks: Arc<ThreadHooks>,
    ) -> Arc<BlockingPool> {
        Arc::new(BlockingPool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                stopping: 0,
                adopted: 0,
                idle: 0,
                wakeups_owed: 0,
                thread_on_its_way: false,
                shutting_down: false,
            }),
            job_ready: Condvar::new(),
            all_exited: Condvar::new(),
            max_threads,
            thread_name,
            keep_alive,
            hooks,
        })
    }

    // ANCHOR: spawn_blocking
    /// Runs `f` on a pool thread; the handle resolves to its return value (or to a
    /// `JoinError` if it panicked or was cancelled before it started).
    pub(crate) fn spawn<C, F, R>(
        self: &Arc<Self>,
        runtime: &C,
        mandatory: Mandatory,
        f: F,
    ) -> JoinHandle<R>
    where
        C: RuntimeContext,
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let job = RunOnce {
            job: Some(f),
            _holds_the_clock: ClockHold::new(runtime.driver()),
        };
        let scheduler = Arc::new(JobScheduler {
            pool: self.clone(),
            runtime: runtime.clone(),
            mandatory,
        });
        let (task, join) = new_task(job, scheduler.clone());
        trace::spawn(|| join.id(), true);
        scheduler.schedule(task);
        JoinHandle::new(join)
    }
    // ANCHOR_END: spawn_blocking

    // ANCHOR: push
    /// Queues a job and makes sure a thread will take it.
    fn push(self: &Arc<Self>, runtime: &impl RuntimeContext, job: Job) {
        let mut state = lock(&self.state);
        if state.shutting_down {
            drop(state);
            return finish_without_a_thread(job);
        }
        state.queue.push_back(job);
        if state.idle > state.wakeups_owed {
            state.wakeups_owed += 1;
            self.job_ready.notify_one();
            return;
        }
        let start = self.claim_thread_start(&mut state);
        drop(state);
        if start {
            self.start_thread(runtime);
        }
        // Otherwise a thread is on its way, or every thread is busy and the cap is reached:
        // either way someone will take the job from the queue.
    }

    /// Whether the caller should start one more thread, counted from now on: some queued
    /// job has no thread coming for it, no other thread is already on its way, and the cap
    /// allows one.
    ///
    /// One thread on its way at a time, rather than one per job that finds no idle thread,
    /// is what keeps a burst of tiny jobs from starting hundreds of threads: each newcomer
    /// starts the next only if it finds the queue still waiting, so threads are added at
    /// the pace at which one can start, and only for as long as the ones there do not keep
    /// up.
    fn claim_thread_start(&self, state: &mut PoolState) -> bool {
        let uncovered = state.queue.len() > state.wakeups_owed;
        if !uncovered || state.thread_on_its_way || state.threads == self.max_threads {
            return false;
        }
        state.threads += 1;
        state.thread_on_its_way = true;
        true
    }
    // ANCHOR_END: push

    /// Starts the pool thread that [`claim_thread_start`](Self::claim_thread_start) counted,
    /// outside the lock: a thread takes tens of microseconds to create, and jobs should not
    /// wait for the lock meanwhile.
    fn start_thread(self: &Arc<Self>, runtime: &impl RuntimeContext) {
        let pool = self.clone();
        let runtime = runtime.clone();
        let started = thread::Builder::new()
            .name(self.thread_name.clone())
            .spawn(move || pool.thread_main(runtime))
            .is_ok();
        if !started {
            self.thread_refused();
        }
    }

    /// The OS refused to start a thread (out of threads or memory): uncount it. If no thread
    /// exists at all, no one would ever take the queue: its jobs are finished here instead.
    /// Otherwise the threads that exist get to the jobs as they finish their own.
    fn thread_refused(&self) {
        let mut state = lock(&self.state);
        state.threads -= 1;
        state.thread_on_its_way = false;
        if state.threads > 0 {
            return;
        }
        let stranded: Vec<Job> = state.queue.drain(..).collect();
        self.notify_if_all_exited(&state);
        drop(state);
        stranded.into_iter().for_each(finish_without_a_thread);
    }

    // ANCHOR: thread_main
    /// A pool thread: take jobs until none comes for `KEEP_ALIVE`, or shutdown.
    fn thread_main(self: Arc<Self>, runtime: impl RuntimeContext) {
        // Inside a job, `spawn`, `sleep` and the I/O constructors find this runtime.
        let _context = runtime.enter();
        let hooks = self.hooks.clone();
        let stop_hook = hooks.run_thread();
        let mut state = lock(&self.state);
        state.thread_on_its_way = false; // arrived: a thread may be started after us
        loop {
            if let Some(job) = state.queue.pop_front() {
                // If jobs are still waiting, the next thread starts now, before this job runs:
                // it may block for as long as it likes.
                let start_next = self.claim_thread_start(&mut state);
                drop(state);
                if start_next {
                    self.start_thread(&runtime);
                }
                let traced = trace::job();
                job.task.run();
                drop(traced);
                state = lock(&self.state);
                continue;
            }
            if state.shutting_down {
                break;
            }
            state.idle += 1;
            let (relocked, waited) = self
                .job_ready
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(PoisonError::into_inner);
            state = relocked;
            state.idle -= 1;
            if state.wakeups_owed > 0 {
                state.wakeups_owed -= 1; // a job was pushed for us (or for a twin: same thing)
            } else if waited.timed_out() && state.queue.is_empty() {
                break; // idle for KEEP_ALIVE: retire
            }
            // Otherwise a spurious wake-up: look at the queue again.
        }
        // Before we count ourselves out: shutdown may write the trace file right after, and
        // a runtime dropped must have seen `on_thread_stop` run on every thread it started.
        // We count ourselves out under the lock, as we decided to go (a job pushed from now
        // on will not count on us), but as `stopping` until `on_thread_stop` has run.
        trace::flush();
        state.threads -= 1;
        state.stopping += 1;
        drop(state);
        drop(stop_hook);
        // Our handle to the runtime goes before we count ourselves out: it may be the last
        // one, whose drop closes the driver's descriptors, and a dropped runtime must have
        // closed them all by the time its drop returns.
        drop(_context);
        drop(runtime);
        let mut state = lock(&self.state);
        state.stopping -= 1;
        self.notify_if_all_exited(&state);
    }
    // ANCHOR_END: thread_main

    /// Counts the calling thread among those shutdown waits for (with the same time limit
    /// as for the pool's own), until the returned guard drops. It takes no jobs: it is a
    /// worker that gave its place to a new thread to run a blocking closure in place.
    pub(crate) fn adopt(self: &Arc<Self>) -> Adopted {
        lock(&self.state).adopted += 1;
        Adopted(self.clone())
    }

    /// Wakes a waiting shutdown if no thread is left to wait for.
    fn notify_if_all_exited(&self, state: &PoolState) {
        if state.all_exited() {
            self.all_exited.notify_all();
        }
    }

    // ANCHOR: pool_shutdown
    /// Cancels the jobs that have not started (running the mandatory ones), then waits up to
    /// `wait` for the running ones to finish. Returns whether every thread exited in time.
    pub(crate) fn shutdown(&self, wait: Duration) -> bool {
        let mut state = lock(&self.state);
        state.shutting_down = true;
        let queued: Vec<Job> = state.queue.drain(..).collect();
        self.job_ready.notify_all();
        drop(state);
        // Outside the lock: a job's destructor or run may spawn more blocking work.
        for job in queued {
            finish_without_a_thread(job);
        }
        // `None`: a wait too long to have an end (`Duration::MAX`), so no deadline at all.
        let deadline = Instant::now().checked_add(wait);
        let mut state = lock(&self.state);
        while !state.all_exited() {
            state = match deadline {
                None => self
                    .all_exited
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.all_exited
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }
    // ANCHOR_END: pool_shutdown
}

// ANCHOR: finish_without_a_thread
/// What happens to a job no pool thread will run (shutdown came first, or no thread can
/// start): a mandatory one runs here, on the caller's thread; any other is cancelled.
fn finish_without_a_thread(job: Job) {
    match job.mandatory {
        Mandatory::Yes => job.task.run(),
        Mandatory::No => job.task.shutdown(),
    }
}
// ANCHOR_END: finish_without_a_thread

// ANCHOR: job_scheduler
/// The scheduler of one blocking job: its only "schedule" is the push onto the pool's queue.
/// It carries the runtime so that the pool thread it may start can enter the runtime's
/// context.
struct JobScheduler<C> {
    pool: Arc<BlockingPool>,
    runtime: C,
    mandatory: Mandatory,
}

impl<C: RuntimeContext> Schedule for JobScheduler<C> {
    fn schedule(&self, task: TaskRef) {
        self.pool.push(
            &self.runtime,
            Job {
                task,
                mandatory: self.mandatory,
            },
        );
    }

    fn release(&self, _owner_key: usize) {
        // Jobs are not in a scheduler's owner list: the pool's queue is how shutdown finds
        // the ones that have not started.
    }
}
// ANCHOR_END: job_scheduler

// ANCHOR: run_once
/// A future that calls its closure on the first poll and is then ready: how a blocking job
/// becomes a task.
struct RunOnce<F> {
    /// The closure, until it runs.
    job: Option<F>,
    /// Holds a paused test clock still until the job is done (see [`ClockHold`]).
    _holds_the_clock: ClockHold,
}

/// While it exists, a paused clock does not auto-advance: the job's result may be what
/// every task waits for, and jumping to a timer meanwhile would fire it too early.
///
/// It lives in the job's future, so it goes away when the task drops that future: after
/// the closure returns (or at cancellation), and *before* the task wakes whoever awaits the
/// result. Released any later, the woken task could arm a timer and the runtime block on it
/// in real time, the clock still held.
struct ClockHold(Arc<DriverHandle>);

impl ClockHold {
    fn new(driver: &Arc<DriverHandle>) -> ClockHold {
        driver.clock.inhibit();
        ClockHold(driver.clone())
    }
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        self.0.clock.allow();
    }
}

// The closure is moved out, never pinned in place, so `RunOnce` can be `Unpin` whatever `F` is.
impl<F> Unpin for RunOnce<F> {}

impl<F: FnOnce() -> R, R> Future for RunOnce<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .job
            .take()
            .expect("a blocking job is polled once: it is ready on its first poll");
        // The cooperative budget is for tasks sharing a scheduler thread. A pool thread runs
        // this one job and nothing else, so nothing the closure calls is made to yield.
        Poll::Ready(crate::task::with_unlimited_budget(f))
    }
}
// ANCHOR_END: run_once
