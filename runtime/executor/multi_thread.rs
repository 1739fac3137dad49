//! The multi-thread scheduler: tasks run in parallel on a pool of worker threads.
//!
//! ```text
//!   spawn / wake on worker i ──▶ worker i's local queue ──┐        ┌─ worker 0 ─┐
//!   spawn / wake elsewhere ──▶ injector (crossbeam channel) ├─ pop ─▶│ run task   │
//!                                                         │        └────────────┘
//!   an idle worker steals half of another's local queue ◀─┘   nothing anywhere? park:
//!                                                      the first to park sleeps in the driver
//!                                                      (epoll_wait), the others on a condvar
//! ```
//!
//! **Queues.** Each worker has a local queue, a `VecDeque` behind a mutex that only its owner
//! touches in the common case (so the lock is uncontended and cheap), and that other workers
//! may lock to steal half of it when they run dry. Wakes and spawns from threads that are not
//! workers (the `block_on` thread, the blocking pool, a foreign `std::thread`) go to a shared
//! *injector*, a crossbeam channel. A worker looks at the injector first every
//! `EVENT_INTERVAL` (61) tasks, so that work injected from outside cannot starve behind a busy
//! local queue. Why local queues at all, when one shared channel would be simpler: measured
//! with two workers (`--quick`, ratio to tokio), sending every task through the injector gave
//! spawn_inside 1.13, mpsc_bounded 1.71 and timers 1.04; the local queues give 0.71, 1.37
//! and 0.94 (both workers pulling from one channel contend on it for every task).
//!
//! **Who drives the reactor.** No dedicated thread: the first worker to run out of work
//! parks *in the driver* (`epoll_wait`, with the next timer's deadline as timeout); the
//! others park on their condvar. A worker that keeps busy still looks at the driver every
//! `EVENT_INTERVAL` (61) tasks without blocking (if no one else holds it), so I/O and timers are
//! served while every worker is busy. A dedicated reactor thread would add a thread switch to
//! every I/O wake-up; tokio chose the same shape for the same reason.
//!
//! **Waking a worker without waking them all.** When work is pushed and some worker sleeps,
//! one sleeper is woken, unless another woken worker is already *searching* (on its way to
//! look at the queues): that one will find the work, and a second wake would only cost a
//! futex call. A searcher that finds work passes the baton on (wakes one more) if work is
//! left over. And a worker dispatching I/O events wakes no one for the first task it
//! queues for itself (it runs that one as soon as it leaves the driver), only for a second.
//! On a busy runtime this keeps wake-ups, which are system calls, rare. (Measured with two
//! workers, `--quick`: waking a sleeper for every task the driver woke gave tcp_echo 0.95
//! and udp_ping_pong 0.96 of tokio's time; waking only for the second, 0.89 and 0.88.)
//!
//! **Parking without losing a wake-up.** The race: a worker looks at every queue, finds
//! nothing, and is about to sleep; at that moment another thread pushes a task, sees no one
//! asleep yet, wakes no one, and the task waits until something else wakes a worker (tokio
//! #525 and #6999 were this bug). The window is closed the same way as in the current-thread
//! scheduler: the worker first *announces* that it sleeps (in the idle list), then takes its
//! last look at the queues; a pusher first pushes, then looks at the idle list. With a
//! sequentially consistent fence between each pair of steps, at least one of the two sees
//! the other: either the worker finds the task, or the pusher finds the worker and wakes it.
//! And a wake that arrives before the worker has actually gone to sleep is not lost either:
//! each worker's [`Parker`] remembers it, so the next `park` returns at once.
//!
//! **Shutdown.** Dropping the runtime closes the owner list and cancels every task. A task
//! that is being polled at that moment finishes its poll on its worker, sees the
//! cancellation and drops its future there. Then every worker is woken, exits its loop and
//! is joined (a task stuck in an endless loop without `.await` would make this join wait,
//! as it does in tokio: a thread cannot be stopped from outside).
//!
//! **The LIFO slot.** A task woken or spawned by the task being polled goes into its worker's
//! one-task LIFO slot and runs next, without waking anyone (see [`LifoSlot`]). Measured on
//! the `chained_spawn` workload (each task spawns the next) with two workers, as a ratio to
//! tokio: 1.46 without the slot (`--quick`; every spawn woke the other worker, which stole
//! the task), 0.39 and 0.45 with it (two full runs).
//!
//! What tokio does beyond this: a lock-free ring buffer per worker instead of a mutex around
//! a `VecDeque`, and a per-worker count of how often it polls the injector. The benchmark
//! (`benches/`) compares both on the same workloads.

use super::block_on::{allow_block_on, enter_block_on, park_until_ready_sparing};
use super::owned::OwnedTasks;
use super::tuning::InjectorInterval;
use super::{EVENT_INTERVAL, SchedulerConfig};
use crate::blocking::{Adopted, RuntimeContext};
use crate::driver::{Driver, DriverHandle};
use crate::primitives::atomic::{AtomicBool, AtomicUsize, fence};
use crate::primitives::channel::{self, Receiver, Sender};
use crate::primitives::thread::{self, JoinHandle as ThreadHandle};
use crate::primitives::{Condvar, Mutex};
use crate::task::defer;
use crate::task::{Schedule, TaskRef};
use crate::util::lock;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// What the `Runtime` owns.
pub(crate) struct MultiThread {
    /// The half shared with workers, tasks and handles.
    shared: Arc<Shared>,
}

// ANCHOR: shared
/// What workers, wakers and handles share.
pub(crate) struct Shared {
    /// The intervals and the user's thread callbacks, from the `Builder`.
    config: SchedulerConfig,
    /// One entry per worker: its local queue and its parker.
    workers: Box<[WorkerSlot]>,
    /// Tasks scheduled from threads that are not workers of this runtime.
    injector_tx: Sender<TaskRef>,
    injector_rx: Receiver<TaskRef>,
    /// Which workers sleep, and how many are searching.
    idle: Idle,
    /// The cores this process may run on, read once at build time.
    cores: usize,
    /// The epoll instance and timer expiry: whoever parks first holds it while parked.
    /// `None` after shutdown.
    driver: Mutex<Option<Driver>>,
    /// The driver's shared half (reactor, timers, unpark).
    driver_handle: Arc<DriverHandle>,
    /// Every live task, for shutdown.
    owned: OwnedTasks,
    /// The runtime is shutting down: wakes drop their task, workers leave their loop.
    shutting_down: AtomicBool,
    /// The worker threads, joined at shutdown (a worker that gave its place away in
    /// `block_in_place` takes itself off; its successor is added).
    threads: Mutex<Vec<ThreadHandle<()>>>,
    /// What worker threads are called (`-N` added).
    thread_name: String,
}

/// A worker as the others see it.
struct WorkerSlot {
    /// Tasks ready to run on this worker; others steal from the front.
    queue: Mutex<VecDeque<TaskRef>>,
    /// How this worker sleeps and is woken.
    parker: Parker,
}
// ANCHOR_END: shared

// ANCHOR: idle_state
/// The sleepers' list.
pub(crate) struct Idle {
    /// The list itself and the number of searching workers, under one lock.
    state: Mutex<IdleState>,
    /// `state.sleeping.len()`, readable without the lock: the fast "does anyone sleep?" test
    /// a pusher makes after every push.
    sleeping_count: AtomicUsize,
    /// `state.searching`, readable without the lock (for `Shared::core_to_spare`).
    searching_count: AtomicUsize,
}

struct IdleState {
    /// Indexes of the workers that announced they sleep (or are about to).
    sleeping: Vec<usize>,
    /// Workers woken to look for work that have not found any yet (or gone back to sleep).
    searching: usize,
}
// ANCHOR_END: idle_state

/// How many tasks in a row a worker may take from its LIFO slot before it goes back to its
/// queue: two tasks waking each other could otherwise keep the queue waiting for ever.
const MAX_LIFO_POLLS_IN_A_ROW: u32 = 3;

/// The most tasks a worker takes from its own queue beyond the one it runs (see
/// `Worker::take_from_own_queue`): one lock for up to this many polls instead of one each.
const GRAB_AT_ONCE: usize = 16;

// ANCHOR: worker_thread
/// Everything a worker keeps on its own thread, in one place, and for one runtime only: a
/// thread that runs no worker has none, and a wake on a worker of *another* runtime finds
/// `runtime` different and leaves it alone.
///
/// Who sets and clears each field:
/// - the whole struct: put in place by `Worker::run` as the worker starts, taken out (and its
///   contents dropped outside the borrow) as it leaves;
/// - `dispatching`: set and cleared by [`dispatching`] around a visit to the driver;
/// - `lifo.open`: set and cleared by `Worker::run` around each task poll; `lifo.task`: filled
///   by `schedule` (through [`place_on_this_thread`]), emptied by `Worker::next_task`;
/// - `batch.open`: set and cleared by `Worker::wake_deferred_in_one_batch`, which also
///   empties `batch.tasks`; filled by `schedule` (through [`place_on_this_thread`]);
/// - `grabbed`: filled and emptied by `Worker::take_from_own_queue`, handed back to the
///   queue by `block_in_place`.
struct WorkerThread {
    /// Which runtime this thread works for (`Shared::id`).
    runtime: usize,
    /// The worker's index in `shared.workers`.
    index: usize,
    /// Whether the worker is inside the driver, dispatching events. The tasks it wakes
    /// meanwhile land in its own queue, and it runs them as soon as it is out; so only a
    /// second task in the queue is worth waking another worker for.
    dispatching: bool,
    /// The LIFO slot (see [`LifoSlot`]).
    lifo: LifoSlot,
    /// The yielded tasks being woken, gathered to be queued at once.
    batch: YieldBatch,
    /// Tasks taken from the front of this worker's queue a few at a time, to run next (see
    /// `Worker::take_from_own_queue`).
    grabbed: VecDeque<TaskRef>,
}

thread_local! {
    /// This thread's worker state, if it is a worker.
    static WORKER_THREAD: RefCell<Option<WorkerThread>> = const { RefCell::new(None) };
}
// ANCHOR_END: worker_thread

/// After a poll: closes the LIFO slot, and says whether this thread is still a worker (it is
/// not once the task it polled called `block_in_place`).
fn close_lifo_slot() -> bool {
    WORKER_THREAD.with(|slot| {
        slot.borrow_mut()
            .as_mut()
            .map(|worker| worker.lifo.open = false)
            .is_some()
    })
}

thread_local! {
    /// On a thread that was a worker until it called `block_in_place`: its place among the
    /// threads a dropped runtime waits for. Set by `Shared::block_in_place`, taken by
    /// `Worker::run` as the thread ends.
    static RETIRED: RefCell<Option<Adopted>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's worker state; for the worker's own code, which knows it is one.
fn on_this_worker<R>(f: impl FnOnce(&mut WorkerThread) -> R) -> R {
    WORKER_THREAD.with(|slot| f(slot.borrow_mut().as_mut().expect("on a worker thread")))
}

/// The yielded tasks a worker is waking, before they go on its queue together.
struct YieldBatch {
    /// Whether the worker is waking its deferred tasks right now.
    open: bool,
    /// The tasks woken so far; emptied, not dropped, so its capacity is reused.
    tasks: Vec<TaskRef>,
}

// ANCHOR: lifo_slot
/// The task woken (or spawned) by the task a worker is polling: it runs next, on the same
/// worker, ahead of the queue.
///
/// Why: in a ping-pong (a sends to b, b answers a) or a chain of spawns, the task just woken
/// is the one whose data is hot in this core's cache, and the one the program is waiting
/// for. Pushing it to the back of the queue would also wake another worker to steal it,
/// which costs a futex call and moves the data to another core. The slot is private to its
/// worker (not stealable), so a task sitting in it while the current one runs for a long
/// time waits; tokio accepts the same trade-off.
struct LifoSlot {
    /// The task that runs next.
    task: Option<TaskRef>,
    /// Whether a task is being polled on this worker right now: only what *it* wakes goes
    /// into the slot (wakes from the driver or from deferred yields go to the queue).
    open: bool,
}
// ANCHOR_END: lifo_slot

impl MultiThread {
    /// Starts `worker_threads` workers.
    /// `make_runtime` turns the scheduler's shared half into the runtime (the executor's
    /// `Handle`) that each worker enters on its thread.
    pub(crate) fn new<C: RuntimeContext>(
        driver: Driver,
        worker_threads: usize,
        thread_name: &str,
        config: SchedulerConfig,
        make_runtime: impl FnOnce(Arc<Shared>) -> C,
    ) -> io::Result<(MultiThread, C)> {
        let (injector_tx, injector_rx) = channel::unbounded();
        let shared = Arc::new(Shared {
            config,
            workers: (0..worker_threads)
                .map(|_| WorkerSlot {
                    queue: Mutex::new(VecDeque::new()),
                    parker: Parker::new(),
                })
                .collect(),
            injector_tx,
            injector_rx,
            idle: Idle::new(worker_threads),
            cores: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            driver_handle: driver.handle().clone(),
            driver: Mutex::new(Some(driver)),
            owned: OwnedTasks::new(),
            shutting_down: AtomicBool::new(false),
            threads: Mutex::new(Vec::with_capacity(worker_threads)),
            thread_name: thread_name.to_string(),
        });
        let runtime = make_runtime(shared.clone());
        let scheduler = MultiThread {
            shared: shared.clone(),
        };
        for index in 0..worker_threads {
            if let Err(err) = shared.start_worker(index, &runtime) {
                scheduler.shutdown(&runtime);
                return Err(io::Error::new(
                    err.kind(),
                    format!("asincrono: could not start worker thread {index}: {err}"),
                ));
            }
        }
        Ok((scheduler, runtime))
    }

    // ANCHOR: block_on
    /// Runs `future` on the calling thread, which is not a worker: it polls the future when
    /// woken and otherwise sleeps, while the workers run the tasks.
    pub(crate) fn block_on<F: Future>(
        &self,
        runtime: &impl RuntimeContext,
        future: F,
    ) -> F::Output {
        let _context = runtime.enter();
        let _not_nested = enter_block_on();
        park_until_ready_sparing(future, || self.shared.core_to_spare())
    }
    // ANCHOR_END: block_on

    // ANCHOR: shutdown
    /// Cancels every task, stops and joins the workers, and shuts the driver down.
    pub(crate) fn shutdown(&self, runtime: &impl RuntimeContext) {
        let _context = runtime.enter();
        let shared = &self.shared;
        shared.shutting_down.store(true, SeqCst);
        fence(SeqCst);
        // 1. Cancel every task, with no runtime lock held (destructors may wake or spawn).
        //    A task being polled right now is only marked: its worker drops it after the poll.
        for task in shared.owned.close_and_take() {
            task.shutdown();
        }
        // 2. Wake every worker; each sees `shutting_down` and leaves its loop.
        for index in 0..shared.workers.len() {
            shared.unpark_worker(index);
        }
        let me = thread::current().id();
        // Taken out of the lock before joining: a worker handing its place over in
        // `block_in_place` takes that lock too.
        let threads = std::mem::take(&mut *lock(&shared.threads));
        for thread in threads {
            if thread.thread().id() != me {
                // A panic cannot escape a worker (tasks catch theirs), so `Err` is impossible.
                let _ = thread.join();
            }
        }
        // 3. Drop the queue entries (shells now), the epoll instance, and fail the I/O
        //    waiters and wake the sleepers that outlive the runtime.
        shared.drain_queues();
        drop(lock(&shared.driver).take());
        shared.driver_handle.shutdown();
    }
    // ANCHOR_END: shutdown
}

/// A worker's own state, living on its thread.
struct Worker {
    shared: Arc<Shared>,
    /// Its index in `shared.workers`.
    index: usize,
    /// Tasks run so far; every `event_interval` the worker visits the driver, every
    /// `global_queue_interval` it looks at the injector first.
    tick: u32,
    /// Whether this worker counts in `IdleState::searching`.
    searching: bool,
    /// Tasks taken from the LIFO slot in a row (capped by `MAX_LIFO_POLLS_IN_A_ROW`).
    lifo_polls: u32,
    /// Tasks polled since the last scheduled look at the injector.
    polled_since_injector: u32,
    /// How many that may be: fixed by the user, or tuned to the tasks' length.
    injector_interval: InjectorInterval,
}

impl Worker {
    /// A worker thread's life: enter the runtime, run the user's start callback, work, run
    /// the stop callback.
    fn run(self, runtime: impl RuntimeContext) {
        let _context = runtime.enter();
        let hooks = self.shared.config.hooks.clone();
        let on_stop = hooks.run_thread();
        self.work();
        drop(on_stop);
        // A worker that gave its place away in `block_in_place` counts among the blocking
        // pool's threads, which a dropped runtime waits for: it leaves that count only now,
        // after `on_thread_stop`.
        drop(RETIRED.with(|retired| retired.borrow_mut().take()));
    }

    // ANCHOR: worker_loop
    /// The worker's loop: run tasks while there are any, park when there are none.
    fn work(mut self) {
        // A task that calls `block_on` would block this worker and the tasks queued on it.
        let _no_block_on = enter_block_on();
        let _deferred = defer::enter();
        WORKER_THREAD.with(|slot| {
            *slot.borrow_mut() = Some(WorkerThread {
                runtime: self.shared.id(),
                index: self.index,
                dispatching: false,
                lifo: LifoSlot {
                    task: None,
                    open: false,
                },
                batch: YieldBatch {
                    open: false,
                    tasks: Vec::new(),
                },
                grabbed: VecDeque::with_capacity(GRAB_AT_ONCE),
            })
        });
        while !self.shared.shutting_down.load(SeqCst) {
            if let Some(task) = self.next_task() {
                self.stop_searching();
                on_this_worker(|worker| worker.lifo.open = true);
                task.run();
                if !close_lifo_slot() {
                    return; // the task called `block_in_place`: a new thread has our place
                }
                self.tick = self.tick.wrapping_add(1);
                self.polled_since_injector += 1;
                if self.tick % self.shared.config.event_interval == 0 {
                    self.look_at_driver();
                }
            } else if defer::any() {
                // Only yielded tasks are left: the driver gets its turn first, then they run.
                self.look_at_driver();
            } else {
                self.park(); // nothing anywhere: sleep
            }
        }
        // Taken out first, dropped after: the task left in the LIFO slot may run destructors
        // that wake tasks, and those wakes must find the thread-local free.
        let left = WORKER_THREAD.with(|slot| slot.borrow_mut().take());
        drop(left);
    }
    // ANCHOR_END: worker_loop

    // ANCHOR: next_task
    /// The next task: the local queue first, then the injector, then another worker's queue.
    /// Every so many tasks (`injector_interval`, tuned to the tasks' length unless the
    /// `Builder` fixed it) the injector goes first, so outside work is not starved.
    fn next_task(&mut self) -> Option<TaskRef> {
        let shared = &self.shared;
        if let Some(task) = on_this_worker(|worker| worker.lifo.task.take()) {
            if self.lifo_polls < MAX_LIFO_POLLS_IN_A_ROW {
                self.lifo_polls += 1;
                return Some(task);
            }
            lock(&shared.workers[self.index].queue).push_back(task); // its turn is over
        }
        self.lifo_polls = 0;
        if self.polled_since_injector >= self.injector_interval.get() {
            self.injector_interval.looked(self.polled_since_injector);
            self.polled_since_injector = 0;
            if let Ok(task) = shared.injector_rx.try_recv() {
                return Some(task);
            }
        }
        self.take_from_own_queue()
            .or_else(|| shared.injector_rx.try_recv().ok())
            .or_else(|| self.steal())
    }
    // ANCHOR_END: next_task

    // ANCHOR: take_from_own_queue
    /// The task at the front of our own queue. With the lock taken anyway, a few more come
    /// along into `grabbed`, to run next without locking again: up to [`GRAB_AT_ONCE`], and
    /// never more than a quarter of the queue, so that a thief still finds three quarters of
    /// it (tasks in `grabbed` cannot be stolen, like the one in the LIFO slot).
    fn take_from_own_queue(&self) -> Option<TaskRef> {
        on_this_worker(|worker| {
            if let Some(task) = worker.grabbed.pop_front() {
                return Some(task);
            }
            let mut queue = lock(&self.shared.workers[self.index].queue);
            let first = queue.pop_front()?;
            let more = (queue.len() / 4).min(GRAB_AT_ONCE);
            worker.grabbed.extend(queue.drain(..more));
            Some(first)
        })
    }
    // ANCHOR_END: take_from_own_queue

    // ANCHOR: steal
    /// Takes the older half of the first non-empty queue of another worker; returns one of
    /// those tasks to run and keeps the rest in our own queue.
    fn steal(&self) -> Option<TaskRef> {
        let workers = &self.shared.workers;
        let count = workers.len();
        // Start after ourselves, so that the workers do not all rob the same victim.
        for offset in 1..count {
            let victim = &workers[(self.index + offset) % count];
            let mut stolen = {
                let mut queue = lock(&victim.queue);
                let half = queue.len().div_ceil(2);
                queue.drain(..half).collect::<VecDeque<_>>()
            };
            if let Some(first) = stolen.pop_front() {
                lock(&workers[self.index].queue).extend(stolen);
                return Some(first);
            }
        }
        None
    }
    // ANCHOR_END: steal

    // ANCHOR: look_at_driver
    /// A non-blocking visit to the driver, if no other worker holds it, then the yielded
    /// tasks get their turn.
    fn look_at_driver(&self) {
        if let Ok(mut driver) = self.shared.driver.try_lock() {
            if let Some(driver) = driver.as_mut() {
                dispatching(|| driver.park(Some(Duration::ZERO)));
            }
        }
        self.wake_deferred_in_one_batch();
    }
    // ANCHOR_END: look_at_driver

    // ANCHOR: deferred_batch
    /// Wakes the tasks that yielded, and puts them on this worker's queue together: one
    /// lock, one fence and one look for sleepers for the whole batch, instead of one each.
    /// (On the multi-thread `yield_many`, where every poll is a yield, the push had been
    /// the most expensive step of the loop: a fifth of the profile.)
    fn wake_deferred_in_one_batch(&self) {
        on_this_worker(|worker| worker.batch.open = true);
        defer::wake_all();
        let queued_any = on_this_worker(|worker| {
            let batch = &mut worker.batch;
            batch.open = false;
            let queued_any = !batch.tasks.is_empty();
            lock(&self.shared.workers[self.index].queue).extend(batch.tasks.drain(..));
            queued_any
        });
        if queued_any {
            self.shared.after_push(Some(self.index), true);
        }
    }
    // ANCHOR_END: deferred_batch

    // ANCHOR: park
    /// Goes to sleep until woken: in the driver if no other worker is in it, otherwise on
    /// our own condvar.
    fn park(&mut self) {
        let shared = &self.shared;
        let parker = &shared.workers[self.index].parker;
        let mut held_the_driver = false;
        shared.config.hooks.before_park();
        shared.idle.sleep(
            self.index,
            &mut self.searching,
            || shared.has_work() || shared.shutting_down.load(SeqCst),
            || match shared.driver.try_lock() {
                Ok(mut driver) => {
                    held_the_driver = true;
                    dispatching(|| parker.park(driver.as_mut()));
                }
                Err(_) => parker.park(None),
            },
        );
        shared.config.hooks.after_unpark();
        self.injector_interval.woke_up();
        if held_the_driver && shared.has_work() && shared.driver_handle.watches_anything() {
            // We leave the driver to run tasks, and one of them may run for a long time
            // without yielding: no one would then be in `epoll_wait` for the others' timers
            // and sockets. A worker asleep on its condvar is woken to take the driver over
            // (it finds it free when it parks again). With no timer armed and no socket
            // registered, there is nothing to watch, and the wake would be a futex call and
            // a thread switch for nothing (the idle runtime's last timer firing, say).
            shared.wake_a_sleeper(Some(self.index));
        }
    }
    // ANCHOR_END: park

    // ANCHOR: stop_searching
    /// This worker found work: it stops counting as searching, and if it was the last
    /// searcher and work is left over, it wakes another sleeper to help.
    fn stop_searching(&mut self) {
        if !self.searching {
            return;
        }
        self.searching = false;
        let last = self.shared.idle.stop_searching();
        if last && self.shared.has_work() {
            self.shared.wake_a_sleeper(Some(self.index));
        }
    }
    // ANCHOR_END: stop_searching
}

impl Idle {
    /// A sleepers' list for `workers` workers, none asleep.
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            state: Mutex::new(IdleState {
                sleeping: Vec::with_capacity(workers),
                searching: 0,
            }),
            sleeping_count: AtomicUsize::new(0),
            searching_count: AtomicUsize::new(0),
        }
    }

    // ANCHOR: sleep_protocol
    /// The only way a worker goes to sleep: announce it, look for work one last time, then
    /// `park`. On return, `searching` says whether a pusher woke us (and counted us as a
    /// searcher). The loom model `a_worker_going_to_sleep_never_misses_a_push` runs this
    /// against [`Idle::notify_one`] in every interleaving.
    pub(crate) fn sleep(
        &self,
        index: usize,
        searching: &mut bool,
        work_waiting: impl FnOnce() -> bool,
        park: impl FnOnce(),
    ) {
        self.announce_sleeping(index, searching);
        // The window: a task pushed from here on was pushed after our announcement, so its
        // pusher will see us in the list. One pushed before it, we see now.
        fence(SeqCst);
        if !work_waiting() {
            park();
        }
        // Woken by a pusher (which took us off the list and counted us as searching), or by
        // our own I/O event or timer, or we never slept (still on the list).
        *searching = self.stop_sleeping(index);
    }
    // ANCHOR_END: sleep_protocol

    // ANCHOR: notify
    /// Called after every push: wakes a sleeping worker other than `me` with `unpark`, if
    /// there is one and no worker is already on its way to look. It always starts with a
    /// `SeqCst` fence, which `Shared::after_push` also counts on for its shutdown check.
    pub(crate) fn notify_one(&self, me: Option<usize>, unpark: impl FnOnce(usize)) {
        // Pairs with the fence in `sleep`: our push is visible to its last look, or its
        // announcement is visible to this load.
        fence(SeqCst);
        if self.sleeping_count.load(SeqCst) > 0 {
            if let Some(sleeper) = self.pick_sleeper(me) {
                unpark(sleeper);
            }
        }
    }
    // ANCHOR_END: notify

    /// Puts `index` on the sleepers' list (and off the searchers' count).
    fn announce_sleeping(&self, index: usize, searching: &mut bool) {
        let mut state = lock(&self.state);
        if std::mem::take(searching) {
            state.searching -= 1;
            self.searching_count.store(state.searching, SeqCst);
        }
        state.sleeping.push(index);
        self.sleeping_count.store(state.sleeping.len(), SeqCst);
    }

    /// Takes `index` off the list if it is still there. Returns `true` if a waker had
    /// already taken it off, which means the waker counted it as searching.
    fn stop_sleeping(&self, index: usize) -> bool {
        let mut state = lock(&self.state);
        match state.sleeping.iter().position(|&sleeper| sleeper == index) {
            Some(position) => {
                state.sleeping.swap_remove(position);
                self.sleeping_count.store(state.sleeping.len(), SeqCst);
                false
            }
            None => true,
        }
    }

    /// One searcher fewer; returns whether it was the last.
    pub(crate) fn stop_searching(&self) -> bool {
        let mut state = lock(&self.state);
        state.searching -= 1;
        self.searching_count.store(state.searching, SeqCst);
        state.searching == 0
    }

    /// How many of `workers` workers are running tasks: neither asleep nor searching (a
    /// searcher finds its task or goes back to sleep within microseconds). Read without
    /// the lock, so it may be a moment out of date.
    fn running(&self, workers: usize) -> usize {
        let not_running = self.sleeping_count.load(SeqCst) + self.searching_count.load(SeqCst);
        workers.saturating_sub(not_running)
    }

    // ANCHOR: pick_sleeper
    /// Picks a sleeper other than `me` to wake, unless one is already searching; counts it
    /// as searching. (`me` is on the list while it dispatches I/O events from inside the
    /// driver; it will run what it wakes itself, so waking it would be wasted.)
    fn pick_sleeper(&self, me: Option<usize>) -> Option<usize> {
        let mut state = lock(&self.state);
        if state.searching > 0 {
            return None; // it will find the work, or see it before it sleeps again
        }
        // The most recent sleeper (the end of the list): it went to sleep last, so its cache
        // is the warmest. With a handful of workers the choice matters little.
        let position = state
            .sleeping
            .iter()
            .rposition(|&sleeper| Some(sleeper) != me)?;
        let sleeper = state.sleeping.swap_remove(position);
        self.sleeping_count.store(state.sleeping.len(), SeqCst);
        state.searching += 1;
        self.searching_count.store(state.searching, SeqCst);
        Some(sleeper)
    }
    // ANCHOR_END: pick_sleeper
}

impl Shared {
    /// Starts a thread to be worker `index`, and records it to be joined at shutdown.
    fn start_worker<C: RuntimeContext>(
        self: &Arc<Self>,
        index: usize,
        runtime: &C,
    ) -> io::Result<()> {
        let worker = Worker {
            shared: self.clone(),
            index,
            tick: 0,
            searching: false,
            lifo_polls: 0,
            polled_since_injector: 0,
            injector_interval: InjectorInterval::new(
                self.config.global_queue_interval,
                EVENT_INTERVAL,
            ),
        };
        let runtime = runtime.clone();
        let thread = thread::Builder::new()
            .name(format!("{}-{index}", self.thread_name))
            .spawn(move || worker.run(runtime))?;
        lock(&self.threads).push(thread);
        Ok(())
    }

    // ANCHOR: block_in_place
    /// `task::block_in_place(f)` on this runtime: if this thread is one of its workers, it
    /// gives its place (its index, queue and parker) to a new thread, which goes on running
    /// the other tasks, and then runs `f` here, however long it blocks. The task that called
    /// it goes on after `f` on this thread, which is no worker any more: when that poll
    /// returns, the thread ends. Anywhere else (not a worker, or shutting down), `f` just
    /// runs. tokio hands the worker's core to a blocking-pool thread instead, and takes it
    /// back after `f` if it is still free; asincrono starts a fresh thread and lets this
    /// one go, which is simpler and costs a thread start per call.
    pub(crate) fn block_in_place<C, F, R>(self: &Arc<Self>, runtime: &C, f: F) -> R
    where
        C: RuntimeContext,
        F: FnOnce() -> R,
    {
        if !self.give_up_worker_place(runtime) {
            return f();
        }
        let me = thread::current().id();
        lock(&self.threads).retain(|thread| thread.thread().id() != me);
        let adopted = runtime.blocking_pool().adopt();
        RETIRED.with(|retired| *retired.borrow_mut() = Some(adopted));
        let _yielded_woken = defer::suspend(); // they run on the other workers meanwhile
        let _may_block_on = allow_block_on();
        f()
    }
    // ANCHOR_END: block_in_place

    /// Takes this thread's worker state, if it is a worker of this runtime, and starts a new
    /// thread in its place. `false` (and nothing changed) if this is no worker of ours, the
    /// runtime is shutting down, or no thread can start.
    fn give_up_worker_place<C: RuntimeContext>(self: &Arc<Self>, runtime: &C) -> bool {
        if self.shutting_down.load(SeqCst) {
            return false;
        }
        let owner = self.id();
        let taken = WORKER_THREAD
            .try_with(|slot| slot.borrow_mut().take_if(|worker| worker.runtime == owner));
        let Some(mut worker) = taken.ok().flatten() else {
            return false;
        };
        // The tasks this thread would have run next go where its successor will find them.
        {
            let mut queue = lock(&self.workers[worker.index].queue);
            for task in worker.grabbed.drain(..).rev() {
                queue.push_front(task);
            }
            if let Some(task) = worker.lifo.task.take() {
                queue.push_back(task);
            }
        }
        if self.start_worker(worker.index, runtime).is_err() {
            // No thread to hand over to: stay the worker, and block it (the only option).
            WORKER_THREAD.with(|slot| *slot.borrow_mut() = Some(worker));
            return false;
        }
        true
    }

    /// Whether a thread outside the workers may spin without taking a core from one: true
    /// while the workers running tasks leave a core free. (Blocking-pool threads are not
    /// counted.)
    fn core_to_spare(&self) -> bool {
        self.idle.running(self.workers.len()) < self.cores
    }

    pub(crate) fn owned(&self) -> &OwnedTasks {
        &self.owned
    }

    pub(crate) fn driver(&self) -> &Arc<DriverHandle> {
        &self.driver_handle
    }

    /// Identifies this runtime in a worker's thread-local (compared, never dereferenced).
    fn id(&self) -> usize {
        self as *const Shared as usize
    }

    /// Whether any queue holds a task.
    fn has_work(&self) -> bool {
        !self.injector_rx.is_empty()
            || self
                .workers
                .iter()
                .any(|worker| !lock(&worker.queue).is_empty())
    }

    /// The one way a sleeping worker is woken for work: a sleeper other than worker `me`,
    /// unless a worker is already searching (see [`Idle::notify_one`], whose `SeqCst` fence
    /// `after_push` relies on).
    fn wake_a_sleeper(&self, me: Option<usize>) {
        self.idle
            .notify_one(me, |sleeper| self.unpark_worker(sleeper));
    }

    /// Wakes worker `index` wherever it sleeps.
    fn unpark_worker(&self, index: usize) {
        self.workers[index]
            .parker
            .unpark(|| self.driver_handle.unpark());
    }

    /// Drops every queued task reference (at shutdown; the tasks are shells by then).
    fn drain_queues(&self) {
        for worker in self.workers.iter() {
            let tasks = std::mem::take(&mut *lock(&worker.queue));
            drop(tasks); // outside the lock
        }
        while let Ok(task) = self.injector_rx.try_recv() {
            drop(task);
        }
    }
}

// ANCHOR: schedule_impl
impl Schedule for Shared {
    fn schedule(&self, task: TaskRef) {
        if self.shutting_down.load(SeqCst) {
            return; // dropped: shutdown drops every future through the owner list
        }
        // ANCHOR: push_and_decide
        let (me, pushed) = match place_on_this_thread(self.id(), task) {
            Placed::Kept => return, // it runs here, soon: no one else needs to wake up
            Placed::OwnQueue {
                index,
                task,
                dispatching,
            } => {
                let mut queue = lock(&self.workers[index].queue);
                queue.push_back(task);
                (Some(index), !dispatching || queue.len() > 1)
            }
            Placed::Elsewhere(task) => {
                // Cannot fail: `self` holds the receiver.
                drop(self.injector_tx.send(task));
                (None, true)
            }
        };
        // ANCHOR_END: push_and_decide
        self.after_push(me, pushed);
    }

    fn release(&self, owner_key: usize) {
        self.owned.remove(owner_key);
    }
}
// ANCHOR_END: schedule_impl

impl Shared {
    /// What follows a push onto a queue: if it is `worth_a_wake`, wake a sleeper (unless
    /// someone is already searching); and if shutdown began meanwhile, drain the queues.
    fn after_push(&self, me: Option<usize>, worth_a_wake: bool) {
        // One `SeqCst` fence after the push serves two readers: `notify_one` makes it before
        // it looks for sleepers, and the shutdown check below comes after it too. (With a
        // fence for each, `schedule` took 20% of the multi-thread `yield_many` profile;
        // with one, 16%. The stopwatch cannot tell the difference through the noise.)
        if worth_a_wake {
            self.wake_a_sleeper(me);
        } else {
            fence(SeqCst);
        }
        if self.shutting_down.load(SeqCst) {
            // Shutdown began after our first check and may have drained the queues already:
            // drain them ourselves, so the task is not left behind (tokio #2535).
            self.drain_queues();
        }
    }
}

/// Runs `visit` (a visit to the driver) with the worker's `dispatching` flag set.
fn dispatching<R>(visit: impl FnOnce() -> R) -> R {
    on_this_worker(|worker| worker.dispatching = true);
    let result = visit();
    on_this_worker(|worker| worker.dispatching = false);
    result
}

// ANCHOR: place_on_this_thread
/// Where a woken task goes, as far as the waking thread can decide it.
enum Placed {
    /// Kept by this worker: in its LIFO slot, or in the batch of yielded tasks it is waking.
    Kept,
    /// This thread is worker `index` of the task's runtime: the task goes on its queue.
    /// `dispatching`: the worker is inside the driver and runs its queue right after.
    OwnQueue {
        index: usize,
        task: TaskRef,
        dispatching: bool,
    },
    /// Not a worker of this runtime (another runtime's, or no worker at all): the injector.
    Elsewhere(TaskRef),
}

/// Offers `task` to this thread's worker state, if it is a worker of runtime `owner`: the
/// LIFO slot takes it while a task is being polled here (the task it displaces goes on the
/// queue instead), the yield batch while one is being gathered.
fn place_on_this_thread(owner: usize, task: TaskRef) -> Placed {
    let mut task = Some(task);
    let placed = WORKER_THREAD.try_with(|slot| {
        let mut slot = slot.borrow_mut();
        let worker = slot.as_mut().filter(|worker| worker.runtime == owner)?;
        let mut task = task.take().expect("offered once");
        if worker.lifo.open {
            match worker.lifo.task.replace(task) {
                None => return Some(Placed::Kept),
                Some(displaced) => task = displaced,
            }
        }
        if worker.batch.open {
            worker.batch.tasks.push(task);
            return Some(Placed::Kept);
        }
        Some(Placed::OwnQueue {
            index: worker.index,
            task,
            dispatching: worker.dispatching,
        })
    });
    match placed {
        Ok(Some(placed)) => placed,
        // Not a worker, or a thread whose locals are already gone (it is exiting).
        Ok(None) | Err(_) => Placed::Elsewhere(task.take().expect("not yet offered")),
    }
}
// ANCHOR_END: place_on_this_thread

/// How one thread sleeps and is woken, remembering a wake that comes before the sleep.
///
/// A worker sleeps either in the driver (`epoll_wait`, woken by the driver's `mio::Waker`)
/// or on a condvar; the state says which, so that `unpark` knows how to reach it.
pub(crate) struct Parker {
    /// `EMPTY`, `PARKED_CONDVAR`, `PARKED_DRIVER` or `NOTIFIED`.
    state: AtomicUsize,
    /// Held around the condvar wait, so a notification cannot slip between the state check
    /// and the wait.
    lock: Mutex<()>,
    /// Where a thread parked without the driver waits.
    condvar: Condvar,
}

// ANCHOR: parker_states
/// Awake, and no wake-up pending.
const EMPTY: usize = 0;
/// Asleep on the condvar.
const PARKED_CONDVAR: usize = 1;
/// Asleep in `epoll_wait`.
const PARKED_DRIVER: usize = 2;
/// A wake-up is pending: the next `park` returns at once.
const NOTIFIED: usize = 3;
// ANCHOR_END: parker_states

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    // ANCHOR: parker_park
    /// Sleeps until `unpark` (or, with the driver, until I/O or a timer is due).
    pub(crate) fn park(&self, driver: Option<&mut Driver>) {
        // A wake-up that came early is consumed here, and we do not sleep at all.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        match driver {
            Some(driver) => self.park_in_driver(driver),
            None => self.park_on_condvar(),
        }
    }

    fn park_in_driver(&self, driver: &mut Driver) {
        if self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
            .is_err()
        {
            // NOTIFIED arrived just now: consume it. A plain store is enough: should a second
            // `unpark` slip in before it, we lose that one, but we are returning awake anyway
            // and the caller looks at every queue before it parks again.
            self.state.store(EMPTY, SeqCst);
            return;
        }
        driver.park(None);
        // Whether `unpark` (NOTIFIED) or an event (still PARKED_DRIVER) woke us, we are awake.
        self.state.store(EMPTY, SeqCst);
    }

    fn park_on_condvar(&self) {
        let _traced = crate::trace::park(crate::trace::Park::Condvar);
        let mut guard = lock(&self.lock);
        if self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
            .is_err()
        {
            // NOTIFIED arrived just now: consume it. A plain store is enough: should a second
            // `unpark` slip in before it, we lose that one, but we are returning awake anyway
            // and the caller looks at every queue before it parks again.
            self.state.store(EMPTY, SeqCst);
            return;
        }
        loop {
            guard = self
                .condvar
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // A spurious wake-up: still PARKED_CONDVAR, wait again.
        }
    }
    // ANCHOR_END: parker_park

    // ANCHOR: parker_unpark
    /// Wakes the thread if it sleeps, or makes its next `park` return at once.
    /// `wake_driver` interrupts `epoll_wait`, for a thread parked in the driver.
    pub(crate) fn unpark(&self, wake_driver: impl FnOnce()) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock waits until the parker is inside `wait` (it holds the lock
                // from its state change until then), so the notification cannot be missed.
                drop(lock(&self.lock));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => wake_driver(),
            _ => unreachable!("the parker state is one of four values"),
        }
    }
    // ANCHOR_END: parker_unpark
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_workers_neither_asleep_nor_searching_count_as_running() {
        let idle = Idle::new(2);
        assert_eq!(idle.running(2), 2, "both start awake");
        let mut searching = false;
        idle.announce_sleeping(0, &mut searching);
        assert_eq!(idle.running(2), 1, "one asleep");
        assert_eq!(idle.pick_sleeper(None), Some(0), "woken to search");
        assert_eq!(idle.running(2), 1, "a searcher is not running a task yet");
        idle.stop_searching();
        assert_eq!(idle.running(2), 2, "it found one");
        idle.announce_sleeping(1, &mut searching);
        assert_eq!(idle.pick_sleeper(None), Some(1));
        let mut searching = true; // worker 1 finds nothing and goes back to sleep
        idle.announce_sleeping(1, &mut searching);
        assert_eq!(idle.running(2), 1, "asleep again: counted once, not twice");
    }
}
